"""The gateways (messaging/gateways.py): the Cloud API's request bodies and answers, how each error is classed,
the HTTP SMS gateway, and the embedded file and console gateways. respx stands in for the providers."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured

from messaging import gateways
from messaging.gateways import GatewayError, Outgoing, gateway_for

GRAPH = "https://graph.example.test"
MESSAGES_URL = f"{GRAPH}/v24.0/1099/messages"
SMS_URL = "https://sms.example.test/send"
PHONE = "6281234567890"


@pytest.fixture(autouse=True)
def gateway_settings(settings, tmp_path):
    settings.WHATSAPP_GRAPH_URL = GRAPH
    settings.WHATSAPP_GRAPH_VERSION = "v24.0"
    settings.WHATSAPP_ACCESS_TOKEN = "token-abc"
    settings.WHATSAPP_PHONE_NUMBER_ID = "1000"
    settings.SMS_GATEWAY_URL = SMS_URL
    settings.SMS_GATEWAY_TOKEN = "sms-token"
    settings.SMS_GATEWAY_SENDER = "DUKCAPIL"
    settings.MESSAGE_GATEWAY_FILE = str(tmp_path / "out" / "outbox.jsonl")
    return settings


def text_to(**address) -> Outgoing:
    return Outgoing(channel="whatsapp", sender_phone_number_id="1099", text="Halo", **address)


def sent_body(route) -> dict:
    return json.loads(route.calls.last.request.content)


def graph_error(status: int, code: int, headers: dict | None = None) -> httpx.Response:
    body = {"error": {"message": f"(#{code}) problem", "type": "OAuthException", "code": code, "fbtrace_id": "A"}}
    return httpx.Response(status, json=body, headers=headers)


# --- Cloud API: requests --------------------------------------------------------------------------------------------


def test_a_text_to_a_phone_number(respx_mock):
    route = respx_mock.post(MESSAGES_URL).respond(
        200, json={"messaging_product": "whatsapp", "contacts": [{"input": PHONE, "wa_id": PHONE, "user_id": "ID.42"}],
                   "messages": [{"id": "wamid.HBgL"}]},
    )  # fmt: skip
    result = gateways.CloudApiGateway().send(text_to(to_phone=PHONE))
    assert (result.provider_message_id, result.user_id) == ("wamid.HBgL", "ID.42")
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer token-abc"
    assert sent_body(route) == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": PHONE, "type": "text",
        "text": {"preview_url": False, "body": "Halo"},
    }  # fmt: skip


def test_a_username_only_user_is_sent_to_by_recipient_not_to(respx_mock):
    route = respx_mock.post(MESSAGES_URL).respond(200, json={"messages": [{"id": "wamid.2"}]})
    assert gateways.CloudApiGateway().send(text_to(to_user_id="ID.1502778899")).user_id == ""
    body = sent_body(route)
    assert body["recipient"] == "ID.1502778899" and "to" not in body


def test_a_template_with_its_body_parameters_from_the_default_number(respx_mock):
    route = respx_mock.post(f"{GRAPH}/v24.0/1000/messages").respond(200, json={"messages": [{"id": "wamid.3"}]})
    outgoing = Outgoing(
        channel="whatsapp", to_phone=PHONE, template_name="pemberitahuan_layanan", template_language="id",
        params=("Permohonan PKTP-000001 sudah lengkap.",),
    )  # fmt: skip
    gateways.CloudApiGateway().send(outgoing)
    body = sent_body(route)
    assert body["type"] == "template" and "text" not in body
    parameter = {"type": "text", "text": "Permohonan PKTP-000001 sudah lengkap."}
    assert body["template"] == {
        "name": "pemberitahuan_layanan", "language": {"code": "id"},
        "components": [{"type": "body", "parameters": [parameter]}],
    }  # fmt: skip


def test_no_address_is_refused_before_any_request(respx_mock):
    with pytest.raises(GatewayError) as caught:
        gateways.CloudApiGateway().send(text_to())
    assert caught.value.kind == "permanent" and not respx_mock.calls


# --- Cloud API: errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "kind", "code"),
    [
        (httpx.Response(500, text="<html>oops</html>"), "retry", None),
        (graph_error(503, 131016), "retry", 131016),
        (graph_error(400, 131053), "retry", 131053),
        (graph_error(429, 130429), "throttled", 130429),
        (graph_error(400, 131056), "throttled", 131056),
        (graph_error(400, 80007), "throttled", 80007),
        (graph_error(400, 131026), "not_whatsapp", 131026),
        (graph_error(400, 131047), "permanent", 131047),
        (graph_error(400, 132001), "permanent", 132001),
        (graph_error(401, 190), "permanent", 190),
    ],
)
def test_errors_are_classed_for_the_worker(respx_mock, response, kind, code):
    respx_mock.post(MESSAGES_URL).mock(return_value=response)
    with pytest.raises(GatewayError) as caught:
        gateways.CloudApiGateway().send(text_to(to_phone=PHONE))
    assert (caught.value.kind, caught.value.code) == (kind, code)
    assert PHONE not in str(caught.value) and "Halo" not in str(caught.value)


def test_a_429_tells_how_long_to_wait(respx_mock):
    respx_mock.post(MESSAGES_URL).mock(return_value=graph_error(429, 4, headers={"Retry-After": "7"}))
    with pytest.raises(GatewayError) as caught:
        gateways.CloudApiGateway().send(text_to(to_phone=PHONE))
    assert (caught.value.kind, caught.value.retry_after) == ("throttled", 7.0)


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.ConnectError("down")]
)
def test_timeouts_and_connection_failures_are_retried(respx_mock, failure):
    respx_mock.post(MESSAGES_URL).mock(side_effect=failure)
    with pytest.raises(GatewayError) as caught:
        gateways.CloudApiGateway().send(text_to(to_phone=PHONE))
    assert caught.value.kind == "retry"


def test_a_success_without_a_message_id_is_not_sent_again(respx_mock):
    respx_mock.post(MESSAGES_URL).respond(200, json={"messages": []})
    with pytest.raises(GatewayError) as caught:
        gateways.CloudApiGateway().send(text_to(to_phone=PHONE))
    assert caught.value.kind == "permanent"


def test_one_client_serves_every_send(respx_mock):
    respx_mock.post(MESSAGES_URL).respond(200, json={"messages": [{"id": "wamid.x"}]})
    first = gateways.http_client()
    gateways.CloudApiGateway().send(text_to(to_phone=PHONE))
    assert gateways.http_client() is first


# --- the HTTP SMS gateway -----------------------------------------------------------------------------------------


def test_an_sms_is_posted_with_the_token_and_the_sender(respx_mock, settings):
    route = respx_mock.post(SMS_URL).respond(200, json={"id": "sms-77"})
    result = gateway_named(settings, "sms", "http").send(Outgoing(channel="sms", to_phone=PHONE, text="Halo"))
    assert result.provider_message_id == "sms-77"
    assert route.calls.last.request.headers["authorization"] == "Bearer sms-token"
    assert sent_body(route) == {"to": PHONE, "text": "Halo", "sender": "DUKCAPIL"}


@pytest.mark.parametrize(
    ("response", "kind"),
    [(httpx.Response(503), "retry"), (httpx.Response(429, headers={"Retry-After": "3"}), "throttled"),
     (httpx.Response(400, json={"error": "invalid number"}), "permanent")],
)  # fmt: skip
def test_sms_errors_are_classed(respx_mock, response, kind):
    respx_mock.post(SMS_URL).mock(return_value=response)
    with pytest.raises(GatewayError) as caught:
        gateways.HttpSmsGateway().send(Outgoing(channel="sms", to_phone=PHONE, text="Halo"))
    assert caught.value.kind == kind


def test_an_sms_timeout_is_retried(respx_mock):
    respx_mock.post(SMS_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(GatewayError) as caught:
        gateways.HttpSmsGateway().send(Outgoing(channel="sms", to_phone=PHONE, text="Halo"))
    assert caught.value.kind == "retry"


# --- embedded gateways and the choice ------------------------------------------------------------------------------


def test_the_file_gateway_appends_one_line_per_message(settings):
    gateway = gateways.FileGateway()
    first = gateway.send(Outgoing(channel="whatsapp", to_phone=PHONE, text="Satu\nbaris", reference="5"))
    second = gateway.send(Outgoing(channel="sms", to_phone=PHONE, text="Dua"))
    with open(settings.MESSAGE_GATEWAY_FILE, encoding="utf-8") as outbox:
        lines = [json.loads(line) for line in outbox]
    assert first.provider_message_id != second.provider_message_id
    assert [(line["id"], line["channel"], line["to"], line["text"]) for line in lines] == [
        (first.provider_message_id, "whatsapp", PHONE, "Satu\nbaris"),
        (second.provider_message_id, "sms", PHONE, "Dua"),
    ]
    assert lines[0]["reference"] == "5"


def test_the_console_gateway_logs_no_number_or_text(caplog):
    with caplog.at_level(logging.INFO, logger="messaging.gateways"):
        result = gateways.ConsoleGateway().send(
            Outgoing(channel="whatsapp", to_phone=PHONE, text="SITI", reference="9")
        )
    assert result.provider_message_id in caplog.text and "row 9" in caplog.text
    assert PHONE not in caplog.text and "SITI" not in caplog.text


def gateway_named(settings, channel: str, name: str):
    setattr(settings, {"whatsapp": "MESSAGE_GATEWAY_WHATSAPP", "sms": "MESSAGE_GATEWAY_SMS"}[channel], name)
    return gateway_for(channel)


@pytest.mark.parametrize(
    ("channel", "name", "expected"),
    [("whatsapp", "cloud", gateways.CloudApiGateway), ("whatsapp", "file", gateways.FileGateway),
     ("sms", "http", gateways.HttpSmsGateway), ("sms", "console", gateways.ConsoleGateway),
     ("sms", "messaging.gateways.FileGateway", gateways.FileGateway)],
)  # fmt: skip
def test_the_gateway_of_each_channel_comes_from_the_settings(settings, channel, name, expected):
    assert isinstance(gateway_named(settings, channel, name), expected)


@pytest.mark.parametrize(("channel", "name"), [("whatsapp", "http"), ("sms", "cloud"), ("sms", "carrier-pigeon")])
def test_a_gateway_of_the_wrong_channel_or_unknown_is_refused(settings, channel, name):
    with pytest.raises(ImproperlyConfigured):
        gateway_named(settings, channel, name)
