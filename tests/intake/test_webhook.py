"""The WhatsApp Cloud API webhook view: Meta's verification handshake, the signature checked on the raw body
before anything is stored, one INSERT per POST, 200 at once, and the processing task sent after the commit."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.db import connection
from django.db.models.fields import NOT_PROVIDED
from django.test.utils import CaptureQueriesContext

from intake import tasks, webhooks
from intake.models import WebhookPayload
from tests.intake.webhook_kit import (
    APP_SECRET,
    URL,
    VERIFY_TOKEN,
    body_of,
    payload,
    post_signed,
    signature,
    stored,
    webhook_settings_fixture,  # noqa: F401
    woken_fixture,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("webhook_settings")


@pytest.fixture
def sent(woken) -> list[int]:
    """The views' wake-ups of the processing (made after the commit; the processing is not run)."""
    return woken


# --- the GET handshake ----------------------------------------------------------------------------------------


def test_handshake_answers_the_challenge_as_plain_text(client, db):
    response = client.get(
        URL, {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ],
    ids=["wrong-token", "wrong-mode", "no-mode", "no-token", "nothing"],
)
def test_handshake_without_the_right_mode_and_token_is_403(client, db, params):
    response = client.get(URL, params)
    assert response.status_code == 403
    assert b"1" not in response.content


def test_handshake_is_refused_while_no_verify_token_is_configured(client, db, settings):
    settings.WHATSAPP_VERIFY_TOKEN = ""
    response = client.get(URL, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "5"})
    assert response.status_code == 403


# --- signatures ----------------------------------------------------------------------------------------------


def test_a_signed_post_is_stored_raw_and_answered_200_at_once(client, db, sent, django_capture_on_commit_callbacks):
    body = body_of(payload("text_bsuid_phone"))
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, body)
    assert response.status_code == 200
    [row] = stored()
    assert row.body.encode() == body
    assert row.status == WebhookPayload.Status.PENDING
    assert row.content_type == "application/json"
    assert sent == [1]


@pytest.mark.parametrize(
    "header",
    [
        "",  # missing
        "sha256=" + "0" * 64,  # wrong
        "sha1=" + "0" * 40,  # another scheme
        signature(body_of(payload("text_bsuid_phone")), secret="another-apps-secret"),  # wrong secret
        signature(body_of(payload("text_bsuid_phone")))[7:],  # the digest without "sha256="
        signature(body_of(payload("text_bsuid_phone"))).upper(),
        "sha256=ünïcode",
    ],
    ids=["missing", "wrong", "sha1", "wrong-secret", "no-prefix", "upper-case", "non-ascii"],
)
def test_a_bad_signature_is_403_and_stores_nothing(client, db, sent, header, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, payload("text_bsuid_phone"), header=header)
    assert response.status_code == 403
    assert not WebhookPayload.objects.exists()
    assert sent == []


def test_a_body_altered_after_signing_is_403(client, db, sent):
    body = body_of(payload("text_bsuid_phone"))
    header = signature(body)
    altered = body.replace(b"besok", b"lusa!")
    response = client.post(URL, data=altered, content_type="application/json", headers={"X-Hub-Signature-256": header})
    assert response.status_code == 403
    assert not WebhookPayload.objects.exists()


def test_the_signature_covers_the_exact_bytes_not_the_json(client, db, sent):
    """Re-serialising the JSON (spaces, key order) breaks the signature: the raw body is what is checked."""
    body = body_of(payload("text_bsuid_phone"))
    header = signature(body)
    reformatted = body.replace(b'": ', b'":')
    assert reformatted != body
    response = client.post(
        URL, data=reformatted, content_type="application/json", headers={"X-Hub-Signature-256": header}
    )
    assert response.status_code == 403


def test_posts_are_refused_while_no_app_secret_is_configured(client, db, settings, sent):
    body = body_of(payload("text_bsuid_phone"))
    settings.WHATSAPP_APP_SECRET = ""
    response = client.post(
        URL, data=body, content_type="application/json", headers={"X-Hub-Signature-256": signature(body, secret="")}
    )
    assert response.status_code == 403
    assert not WebhookPayload.objects.exists()


def test_a_refused_post_logs_no_part_of_the_body(client, db, caplog):
    document = payload("text_bsuid_phone")
    with caplog.at_level(logging.DEBUG):
        post_signed(client, document, header="sha256=" + "1" * 64)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "signature" in logged
    for secret in ("3502014107900001", "6281234567890", "Siti", APP_SECRET):
        assert secret not in logged


def test_the_signature_is_checked_before_anything_is_parsed(client, db, sent):
    """A body that is not JSON at all is stored when signed (processing will report it), refused when not."""
    assert post_signed(client, b"\x00\xffnot json", header="sha256=" + "2" * 64).status_code == 403
    assert post_signed(client, b"not json").status_code == 200
    assert [row.body for row in stored()] == ["not json"]


# --- cost and limits -----------------------------------------------------------------------------------------


def test_a_post_costs_one_insert_and_no_other_query(client, db, sent):
    body = body_of(payload("several_messages"))
    with CaptureQueriesContext(connection) as queries:
        response = post_signed(client, body)
    assert response.status_code == 200
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 1, statements
    assert statements[0].startswith('INSERT INTO "intake_webhookpayload"')


def test_the_stored_row_is_what_the_model_would_store(client, db, sent, frozen_now):
    post_signed(client, payload("text_bsuid_phone"))
    [row] = stored()
    expected = WebhookPayload(source="whatsapp", body=row.body, content_type="application/json")
    for field in WebhookPayload._meta.concrete_fields:
        if field.name not in ("id", "received_at"):
            assert getattr(row, field.attname) == getattr(expected, field.attname), field.name
    assert row.received_at == frozen_now


def test_the_insert_names_every_column_the_database_requires():
    """The hot path's plain INSERT leaves out only columns that may be NULL: a new required column fails
    here, not in production."""
    required = {
        field.name
        for field in WebhookPayload._meta.concrete_fields
        if not field.null and not field.primary_key and field.db_default is NOT_PROVIDED
    }
    assert "body" in required and "processed_at" not in required
    assert required <= set(webhooks._STORED)


def test_no_session_is_written_for_the_provider(client, db, sent):
    response = post_signed(client, payload("text_bsuid_phone"))
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies


def test_a_body_over_the_limit_is_413_and_not_stored(client, db, settings, sent):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    document = payload("text_bsuid_phone")
    document["padding"] = "x" * 2000
    response = post_signed(client, document)
    assert response.status_code == 413
    assert not WebhookPayload.objects.exists()


def test_other_methods_are_405(client, db):
    assert client.put(URL, data=b"{}", content_type="application/json").status_code == 405
    assert client.delete(URL).status_code == 405


# --- enqueueing ----------------------------------------------------------------------------------------------


def test_the_processing_is_woken_only_after_the_commit(client, db, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_signed(client, payload("text_bsuid_phone"))
    assert sent == []  # not before the row is committed
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [1]


def test_a_broker_outage_loses_nothing_the_sweep_sends_it_later(db, monkeypatch, caplog):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(tasks.process_pending, "apply_async", broker_down)
    with caplog.at_level(logging.WARNING):
        assert tasks.enqueue(tasks.process_pending) is False
    assert "sweep" in caplog.text


# --- the waker: one publish for a burst, never a wait for the broker ------------------------------------------


def test_a_burst_of_wakes_while_publishing_makes_one_more_publish():
    started, release = threading.Event(), threading.Event()
    published: list[int] = []

    def publish():
        published.append(1)
        started.set()
        release.wait(5)

    waker = tasks.Waker(publish, interval=0.01)
    waker.wake()
    assert started.wait(5)  # the first publish is under way (and held)
    for _ in range(50):
        waker.wake()  # returns at once: nobody waits for the broker
    started.clear()
    release.set()
    assert started.wait(5)  # the 50 wakes made exactly one more publish
    _idle(waker)
    assert len(published) == 2


def test_a_failing_publish_does_not_stop_the_waker(caplog):
    calls: list[int] = []

    def publish():
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionRefusedError(111, "Connection refused")

    waker = tasks.Waker(publish, interval=0.01)
    with caplog.at_level(logging.WARNING):
        waker.wake()
        _until(lambda: len(calls) == 1)
        _idle(waker)
        waker.wake()
        _until(lambda: len(calls) == 2)
    assert "publish failed" in caplog.text


def _until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the waker did not get there"
        time.sleep(0.005)


def _idle(waker: tasks.Waker) -> None:
    """Wait until the waker's thread waits for the next wake."""
    _until(lambda: not waker._event.is_set())
    time.sleep(0.05)
