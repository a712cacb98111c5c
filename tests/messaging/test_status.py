"""Cloud API status callbacks applied to outbox rows (messaging/status.py): in any order, never backwards."""

from __future__ import annotations

from datetime import timedelta

import pytest

from messaging.models import Notification
from messaging.retention import notifications_purge
from messaging.status import notification_status_apply
from tests.dates import FROZEN_NOW

N = Notification.Status
SENT_AT = FROZEN_NOW
T1, T2, T3 = (FROZEN_NOW + timedelta(minutes=m) for m in (1, 2, 3))


@pytest.fixture
def sent(db) -> Notification:
    return Notification.objects.create(
        channel="whatsapp", recipient="6281234567890", template="request_received", text="t", status=N.SENT,
        provider_message_id="wamid.HBgL", sent_at=SENT_AT,
    )  # fmt: skip


def apply(status: str, at, error: str = "") -> bool:
    return notification_status_apply(provider_message_id="wamid.HBgL", status=status, at=at, error=error)


def state(row: Notification) -> tuple:
    row.refresh_from_db()
    return row.status, row.sent_at, row.delivered_at, row.read_at, row.last_error


def test_delivered_then_read(sent):
    assert apply("sent", T1) and apply("delivered", T2) and apply("read", T3)
    assert state(sent) == (N.READ, SENT_AT, T2, T3, "")


def test_a_read_without_a_delivered_marks_it_delivered_too(sent):
    assert apply("read", T2)
    assert state(sent) == (N.READ, SENT_AT, T2, T2, "")


def test_a_late_delivered_after_the_read_keeps_read_and_the_first_times(sent):
    apply("read", T2)
    assert apply("delivered", T3)
    assert apply("sent", T3)
    assert state(sent) == (N.READ, SENT_AT, T2, T2, "")


def test_a_played_voice_message_counts_as_read(sent):
    apply("played", T1)
    assert state(sent)[0] == N.READ


def test_a_failure_records_its_reason(sent):
    assert apply("failed", T1, error="131026: Message undeliverable")
    assert state(sent) == (N.FAILED, SENT_AT, None, None, "131026: Message undeliverable")


def test_a_failure_after_the_message_arrived_changes_nothing(sent):
    apply("delivered", T1)
    assert apply("failed", T2, error="131047: Re-engagement message")
    assert state(sent) == (N.DELIVERED, SENT_AT, T1, None, "")


def test_a_delivery_after_a_failure_is_believed(sent):
    apply("failed", T1, error="131000: Something went wrong")
    apply("delivered", T2)
    assert state(sent)[:3] == (N.DELIVERED, SENT_AT, T2)


def test_a_callback_before_the_worker_recorded_the_send_sets_the_send_time(db):
    row = Notification.objects.create(
        channel="whatsapp", template="t", text="t", status=N.PENDING, provider_message_id="wamid.HBgL"
    )
    apply("sent", T1)
    assert state(row)[:2] == (N.SENT, T1)


def test_an_unknown_message_id_matches_nothing(sent):
    assert not notification_status_apply(provider_message_id="wamid.other", status="read", at=T1)
    assert not notification_status_apply(provider_message_id="", status="read", at=T1)
    assert state(sent)[0] == N.SENT


def test_an_unknown_status_value_is_ignored(sent):
    assert apply("deleted", T1)
    assert state(sent) == (N.SENT, SENT_AT, None, None, "")


# --- retention of the new states --------------------------------------------------------------------------------


def test_delivered_read_and_dead_messages_lose_their_text_after_the_retention_period(db, settings):
    settings.MESSAGE_RETENTION_DAYS = 90
    old, recent = FROZEN_NOW - timedelta(days=91), FROZEN_NOW - timedelta(days=89)

    def row(status: str, when, **extra) -> Notification:
        return Notification.objects.create(
            channel="whatsapp", recipient="6281234567890", template="t", text="SITI", status=status, created_at=when,
            **extra,
        )  # fmt: skip

    expired = [
        row(N.DELIVERED, old, sent_at=old), row(N.READ, old, sent_at=old), row(N.DEAD, old, last_error="x"),
        row(N.READ, old),  # a callback gave it no send time: its creation counts
    ]  # fmt: skip
    kept = [row(N.READ, recent, sent_at=recent), row(N.DEAD, recent), row(N.PENDING, old)]
    assert notifications_purge(now=FROZEN_NOW) == len(expired)
    assert {r.pk for r in Notification.objects.filter(text="", recipient="", last_error="")} == {r.pk for r in expired}
    assert all(Notification.objects.get(pk=r.pk).text == "SITI" for r in kept)
