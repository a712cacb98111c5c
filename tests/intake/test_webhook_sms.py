"""The SMS gateway's inbound endpoint: an Indonesian aggregator's form (DartMedia/Hub9 fields) and a JSON shape,
a token in a header or the form (never the URL) compared in constant time, the body stored without the token,
processed like a WhatsApp payload (one message per gateway id), and answered the way each gateway expects."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from intake import processing
from intake.models import InboundMessage, WebhookPayload
from tests.intake.webhook_kit import (
    SMS_CENTRE,
    SMS_TOKEN,
    SMS_URL,
    sms_centre_fixture,  # noqa: F401
    stored,
    webhook_settings_fixture,  # noqa: F401
    woken_fixture,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("webhook_settings", "frozen_now")
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def sent(woken) -> list[int]:
    return woken


@pytest.fixture
def acted(monkeypatch) -> list[str]:
    calls: list[str] = []

    def record(message):
        calls.append(message.text)
        message.outcome = InboundMessage.Outcome.INBOX
        message.save(update_fields=["outcome"])

    monkeypatch.setattr(processing, "message_act", record)
    return calls


def aggregator_form(**overrides) -> dict[str, str]:
    """What a DartMedia-style aggregator posts (courier's handler reads the same fields), plus fields we ignore."""
    return {
        "userid": "disdukcapil",
        "password": "rahasia-akun-gateway",
        "original": "+62 812-3456-7890",
        "sendto": SMS_CENTRE,
        "messagetype": "0",
        "messageid": "20270906090000123456",
        "message": "#STATUS#3502014107900001",
        "date": "20270906085500",
        "dcs": "0",
        "udhl": "0",
        "charset": "utf-8",
        **overrides,
    }


def post_form(client, fields: dict[str, str], **headers):
    return client.post(SMS_URL, data=urlencode(fields), content_type=FORM, headers=headers)


def post_json(client, document: dict, **headers):
    return client.post(SMS_URL, data=json.dumps(document), content_type="application/json", headers=headers)


def processed() -> WebhookPayload:
    [row] = stored("sms")
    processing.payload_process(row.pk)
    row.refresh_from_db()
    return row


# --- the aggregator's form ------------------------------------------------------------------------------------


def test_the_aggregator_form_is_answered_000_and_becomes_one_message(client, sms_centre, sent, acted, frozen_now):
    response = post_form(client, aggregator_form(), **{"X-Gateway-Token": SMS_TOKEN})
    assert response.status_code == 200
    assert response.content == b"000"
    row = processed()
    assert row.status == WebhookPayload.Status.PROCESSED, row.error
    assert row.office_number == sms_centre
    message = InboundMessage.objects.select_related("contact").get()
    assert (message.source, message.kind, message.text) == ("sms", "text", "#STATUS#3502014107900001")
    assert message.provider_message_id == "20270906090000123456"
    assert message.contact.phone == "6281234567890"
    assert message.contact.last_sms_at == message.sent_at
    assert message.sent_at == frozen_now - timedelta(minutes=5)  # 08:55 WIB, the gateway's local time
    assert message.office == sms_centre.office
    assert acted == ["#STATUS#3502014107900001"]


def test_the_token_may_come_as_a_form_field_and_is_not_stored(client, sms_centre, sent, acted):
    response = post_form(client, aggregator_form(token=SMS_TOKEN))
    assert response.status_code == 200
    [row] = stored("sms")
    assert SMS_TOKEN not in row.body
    assert "rahasia-akun-gateway" not in row.body  # the gateway account's password neither
    assert "original=" in row.body
    assert processed().status == WebhookPayload.Status.PROCESSED


def test_a_bearer_token_is_accepted(client, sms_centre, sent):
    response = post_form(client, aggregator_form(), Authorization=f"Bearer {SMS_TOKEN}")
    assert response.status_code == 200
    assert len(stored("sms")) == 1


def test_the_same_gateway_id_twice_is_one_message(client, sms_centre, sent, acted):
    for _ in range(3):
        post_form(client, aggregator_form(), **{"X-Gateway-Token": SMS_TOKEN})
    for row in stored("sms"):
        processing.payload_process(row.pk)
    assert InboundMessage.objects.count() == 1
    assert len(acted) == 1


def test_without_a_gateway_id_the_same_text_at_the_same_time_is_one_message(client, sms_centre, sent, acted):
    for _ in range(2):
        post_form(client, aggregator_form(messageid=""), **{"X-Gateway-Token": SMS_TOKEN})
    post_form(client, aggregator_form(messageid="", message="lain"), **{"X-Gateway-Token": SMS_TOKEN})
    for row in stored("sms"):
        processing.payload_process(row.pk)
    assert sorted(InboundMessage.objects.values_list("text", flat=True)) == ["#STATUS#3502014107900001", "lain"]


def test_a_message_to_a_number_of_no_office_fails_visibly(client, ponorogo, sent, acted):
    post_form(client, aggregator_form(sendto="93456"), **{"X-Gateway-Token": SMS_TOKEN})
    row = processed()
    assert row.status == WebhookPayload.Status.FAILED
    assert "93456" in row.error
    assert not InboundMessage.objects.exists()


def test_a_form_without_a_sender_fails_visibly(client, sms_centre, sent, acted):
    post_form(client, aggregator_form(original=""), **{"X-Gateway-Token": SMS_TOKEN})
    row = processed()
    assert row.status == WebhookPayload.Status.FAILED
    assert "SmsUnreadable" in row.error


# --- JSON ----------------------------------------------------------------------------------------------------


def test_the_json_shape_is_answered_ok_and_becomes_one_message(client, sms_centre, sent, acted, frozen_now):
    document = {
        "id": "sms-77120",
        "from": "081234567890",
        "to": "+" + SMS_CENTRE,
        "text": "ktp saya sudah jadi belum",
        "received_at": (frozen_now - timedelta(minutes=2)).isoformat(),
        "operator": "Telkomsel",  # unknown fields are ignored
    }
    response = post_json(client, document, Authorization=f"Bearer {SMS_TOKEN}")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert processed().status == WebhookPayload.Status.PROCESSED
    message = InboundMessage.objects.select_related("contact").get()
    assert (message.provider_message_id, message.text) == ("sms-77120", "ktp saya sudah jadi belum")
    assert message.contact.phone == "6281234567890"
    assert message.sent_at == frozen_now - timedelta(minutes=2)


def test_an_sms_and_a_whatsapp_message_from_one_number_share_the_contact(client, sms_centre, sent, acted):
    post_json(
        client,
        {"id": "1", "from": "6281234567890", "to": SMS_CENTRE, "text": "halo"},
        **{"X-Gateway-Token": SMS_TOKEN},
    )
    processed()
    message = InboundMessage.objects.get()
    assert message.contact.phone == "6281234567890"
    assert message.sent_at == message.received_at  # no time given: the arrival


# --- refusals ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "headers"),
    [
        ({}, {}),
        ({"token": "salah"}, {}),
        ({}, {"X-Gateway-Token": "salah"}),
        ({}, {"Authorization": "Bearer salah"}),
        ({}, {"Authorization": SMS_TOKEN}),  # not a Bearer
    ],
    ids=["missing", "wrong-field", "wrong-header", "wrong-bearer", "no-scheme"],
)
def test_a_missing_or_wrong_token_is_403_and_stores_nothing(client, sms_centre, sent, fields, headers):
    response = post_form(client, aggregator_form(**fields), **headers)
    assert response.status_code == 403
    assert not WebhookPayload.objects.exists()
    assert sent == []


def test_a_json_post_with_a_wrong_token_is_403(client, sms_centre, sent):
    response = post_json(client, {"id": "1", "from": "0812", "to": SMS_CENTRE, "text": "x", "token": SMS_TOKEN})
    assert response.status_code == 403  # a JSON body's "token" is not a form field
    assert not WebhookPayload.objects.exists()


def test_every_post_is_refused_while_no_token_is_configured(client, sms_centre, sent, settings):
    settings.SMS_INBOUND_TOKEN = ""
    response = post_form(client, aggregator_form(token=""), **{"X-Gateway-Token": ""})
    assert response.status_code == 403


def test_get_is_405_so_no_message_ever_travels_in_a_url(client, sms_centre):
    assert client.get(SMS_URL, aggregator_form(token=SMS_TOKEN)).status_code == 405
    assert not WebhookPayload.objects.exists()
