"""Providers retry for days: one WhatsApp message posted again and again gives one message, one action (one
booking), one reply, through the real webhook view, processing and intake.actions.message_act. On PostgreSQL,
two workers processing the same payload at once, and two creating the same sender, still make one row each."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import close_old_connections, connection

from cards.models import CardRequest
from intake import processing, tasks, webhooks
from intake.models import InboundMessage, WebhookPayload
from messaging.contacts import contact_for_whatsapp
from messaging.models import Contact, Notification
from queueing.models import Booking
from registry import clock
from registry.models import Resident
from tests.dates import working_day_after
from tests.factories import CardRequestFactory, open_calendar
from tests.intake.webhook_kit import (
    A_PHONE,
    A_USER_ID,
    payload,
    post_signed,
    value_of,
    webhook_settings_fixture,  # noqa: F401
    whatsapp_number_fixture,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("webhook_settings", "frozen_now", "whatsapp_number")


@pytest.fixture
def inline_tasks(monkeypatch):
    """The broker replaced by running the drain at once (what a worker does right after the wake)."""
    monkeypatch.setattr(webhooks, "payloads_wake", lambda: tasks.process_pending())


@pytest.fixture
def booking_message(ponorogo, resident_a, frozen_today) -> dict:
    """SITI AMINAH (her WhatsApp number registered), a request ready to print, and her booking message for the
    next working day, as Meta posts it."""
    open_calendar(ponorogo, print_capacity=10, whatsapp=4, walk_in=3, invitation=2)
    Resident.objects.filter(pk=resident_a.pk).update(whatsapp=A_PHONE)
    CardRequestFactory(resident=resident_a, ready=True, kind="rusak")
    day = working_day_after(frozen_today)
    document = payload("text_bsuid_phone")
    value_of(document)["messages"][0]["text"]["body"] = f"#Siti Aminah#{resident_a.nik}#{day:%d/%m/%Y}"
    return document


def test_one_message_id_posted_50_times_is_one_message_and_one_booking(
    client, booking_message, inline_tasks, django_capture_on_commit_callbacks, resident_a
):
    for _ in range(50):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_signed(client, booking_message).status_code == 200
    assert WebhookPayload.objects.count() == 50  # every POST kept as it arrived
    assert set(WebhookPayload.objects.values_list("status", flat=True)) == {WebhookPayload.Status.PROCESSED}
    message = InboundMessage.objects.get()
    assert message.outcome == InboundMessage.Outcome.BOOKED
    card_request = CardRequest.objects.get(resident=resident_a)
    assert message.card_request == card_request
    assert Booking.objects.filter(card_request=card_request).count() == 1
    assert Notification.objects.filter(is_reply=True).count() == 1


def test_a_booking_sent_twice_in_one_post_books_once(booking_message, inline_tasks, resident_a):
    value = value_of(booking_message)
    value["messages"].append(dict(value["messages"][0]))
    row = WebhookPayload.objects.create(source="whatsapp", body=json.dumps(booking_message))
    assert tasks.process_payload(row.pk) == WebhookPayload.Status.PROCESSED
    assert InboundMessage.objects.count() == 1
    assert Booking.objects.filter(card_request__resident=resident_a).count() == 1


# --- PostgreSQL: real concurrency ------------------------------------------------------------------------------


def _together(count: int, work) -> list:
    """Run `work()` in `count` threads that start at the same instant; their results (or exceptions)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except Exception as exc:  # kept for the assertion
            results[index] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_processing_one_payload_store_and_act_once(monkeypatch):
    acted: list[str] = []

    def record(message):
        acted.append(message.provider_message_id)
        message.outcome = InboundMessage.Outcome.INBOX
        message.save(update_fields=["outcome"])

    monkeypatch.setattr(processing, "message_act", record)
    row = WebhookPayload.objects.create(source="whatsapp", body=json.dumps(payload("several_messages")))
    results = _together(4, lambda: processing.payload_process(row.pk))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert InboundMessage.objects.count() == 3
    assert sorted(acted) == ["wamid.SEVERAL0000000000001", "wamid.SEVERAL0000000000002"]
    assert Contact.objects.count() == 2
    row.refresh_from_db()
    assert row.status == WebhookPayload.Status.PROCESSED


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_creating_one_sender_make_one_contact():
    now = clock.now()
    results = _together(
        6, lambda: contact_for_whatsapp(user_id=A_USER_ID, phone=A_PHONE, username="siti.aminah", at=now).pk
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    assert Contact.objects.count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_share_the_pending_payloads(monkeypatch):
    acted: list[str] = []
    monkeypatch.setattr(processing, "message_act", lambda message: acted.append(message.provider_message_id))
    document = payload("text_bsuid_phone")
    for serial in range(12):
        value_of(document)["messages"][0]["id"] = f"wamid.DRAIN{serial:02d}"
        WebhookPayload.objects.create(source="whatsapp", body=json.dumps(document))
    results = _together(3, tasks.process_pending)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 12  # each payload processed by one drain
    assert sorted(acted) == [f"wamid.DRAIN{serial:02d}" for serial in range(12)]
    assert set(WebhookPayload.objects.values_list("status", flat=True)) == {WebhookPayload.Status.PROCESSED}
