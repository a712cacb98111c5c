"""Retention (UU PDP 27/2022 art. 43-44): the nightly purge deletes what is past its period and keeps what is
inside it; an open request's attachments, the request timeline and the access log are never purged."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from cards import services
from cards.models import Attachment, CardRequest, CardRequestEvent
from config.celery import app as celery_app
from delivery.tasks import purge_personal_data
from intake.models import WebhookPayload
from messaging.models import Notification
from registry.models import AccessLog, ResidentChange
from tests.documents import JPEG, PDF
from tests.factories import NotificationFactory, ResidentChangeFactory, ResidentFactory
from tests.intake.inbox_rows import arrive, office_number, sender

DAY = timedelta(days=1)
NOTHING = {"attachments": 0, "messages": 0, "resident_changes": 0, "inbound": 0}


@pytest.fixture(autouse=True)
def periods(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.ATTACHMENT_RETENTION_DAYS = 365
    settings.MESSAGE_RETENTION_DAYS = 90
    settings.RESIDENT_CHANGE_RETENTION_DAYS = 5 * 365


def request_with_attachment(clerk, *, kind: str = "hilang") -> tuple[CardRequest, Attachment]:
    resident = ResidentFactory(desa_id="35.02.01.2001")
    card_request = services.card_request_create(resident=resident, kind=kind, by=clerk, channel="walk_in")
    upload = SimpleUploadedFile("surat-polisi.pdf", PDF)
    return card_request, services.attachment_add(card_request=card_request, upload=upload, by=clerk)


def set_status(card_request: CardRequest, status: str, *, changed_at) -> None:
    """Test set-up: the request reached `status` at `changed_at` (the workflow is tested elsewhere)."""
    CardRequest.objects.filter(pk=card_request.pk).update(status=status, status_changed_at=changed_at)


def test_attachments_of_requests_closed_past_the_period_are_purged(clerk, frozen_now):
    past, past_file = request_with_attachment(clerk)
    set_status(past, "handed_over", changed_at=frozen_now - 366 * DAY)
    cancelled, cancelled_file = request_with_attachment(clerk, kind="rusak")
    set_status(cancelled, "cancelled", changed_at=frozen_now - 400 * DAY)
    recent, recent_file = request_with_attachment(clerk, kind="ubah_data")
    set_status(recent, "rejected", changed_at=frozen_now - 364 * DAY)
    # Open for years (waiting for blanks, say): its documents still serve it.
    still_open, open_file = request_with_attachment(clerk, kind="pemula")
    set_status(still_open, "ready_to_print", changed_at=frozen_now - 3 * 365 * DAY)
    events_before = CardRequestEvent.objects.count()

    assert purge_personal_data() == {**NOTHING, "attachments": 2}

    assert set(Attachment.objects.values_list("pk", flat=True)) == {recent_file.pk, open_file.pk}
    for gone in (past_file, cancelled_file):
        assert not gone.file.storage.exists(gone.file.name)
    for kept in (recent_file, open_file):
        assert kept.file.storage.exists(kept.file.name)
    # The requests and their timelines are the office's record: they stay, with the upload still on it.
    assert CardRequest.objects.count() == 4 and CardRequestEvent.objects.count() == events_before
    assert past.events.filter(action=CardRequestEvent.Action.ATTACHMENT).exists()


def test_an_open_request_attachment_is_never_purged(clerk, frozen_now, time_machine):
    card_request, attachment = request_with_attachment(clerk)
    set_status(card_request, "incomplete", changed_at=frozen_now - 10 * 365 * DAY)
    time_machine.shift(20 * 365 * DAY)
    assert purge_personal_data()["attachments"] == 0
    assert Attachment.objects.get().file.storage.exists(attachment.file.name)


def test_messages_past_the_period_lose_their_text_and_number_but_keep_their_row(resident_a, frozen_now):
    sent_long_ago = NotificationFactory(resident=resident_a, sent_at=frozen_now - 91 * DAY)
    sent_recently = NotificationFactory(resident=resident_a, sent_at=frozen_now - 89 * DAY)
    no_number = NotificationFactory(
        resident=resident_a, status="no_contact", recipient="", created_at=frozen_now - 120 * DAY
    )
    failed = NotificationFactory(
        resident=resident_a, status="failed", last_error="nomor 6281234567890 ditolak", created_at=frozen_now - 95 * DAY
    )
    # Still waiting to be sent: its text is what will be sent.
    pending = NotificationFactory(resident=resident_a, status="pending", created_at=frozen_now - 200 * DAY)

    assert purge_personal_data() == {**NOTHING, "messages": 3}

    for blanked in (sent_long_ago, no_number, failed):
        blanked.refresh_from_db()
        assert (blanked.text, blanked.recipient, blanked.last_error) == ("", "", "")
    for kept in (sent_recently, pending):
        kept.refresh_from_db()
        assert "SITI AMINAH" in kept.text and kept.recipient == "6281234567890"
    # Counts per template and status stay true.
    assert Notification.objects.filter(template="request_received").count() == 5
    assert sent_long_ago.status == "sent" and sent_long_ago.sent_at == frozen_now - 91 * DAY


def test_resident_change_history_past_the_period_is_deleted(resident_a, frozen_now):
    old = ResidentChangeFactory(resident=resident_a, changed_at=frozen_now - (5 * 365 + 1) * DAY)
    young = ResidentChangeFactory(resident=resident_a, changed_at=frozen_now - (5 * 365 - 1) * DAY)

    assert purge_personal_data() == {**NOTHING, "resident_changes": 1}

    assert list(ResidentChange.objects.values_list("pk", flat=True)) == [young.pk]
    assert not ResidentChange.objects.filter(pk=old.pk).exists()
    resident_a.refresh_from_db()  # the resident itself is untouched


def test_the_access_log_is_not_purged(clerk, resident_a, frozen_now, time_machine):
    time_machine.shift(-20 * 365 * DAY)
    AccessLog.objects.append(user=clerk, action=AccessLog.Action.REVEAL_NIK, resident=resident_a, detail="uji")
    time_machine.move_to(frozen_now, tick=False)
    purge_personal_data()
    assert AccessLog.objects.count() == 1


def test_the_purge_is_idempotent(clerk, resident_a, frozen_now):
    card_request, _attachment = request_with_attachment(clerk)
    set_status(card_request, "handed_over", changed_at=frozen_now - 400 * DAY)
    NotificationFactory(resident=resident_a, sent_at=frozen_now - 100 * DAY)
    ResidentChangeFactory(resident=resident_a, changed_at=frozen_now - 6 * 365 * DAY)
    assert purge_personal_data() == {"attachments": 1, "messages": 1, "resident_changes": 1, "inbound": 0}
    assert purge_personal_data() == NOTHING


def test_what_residents_sent_past_the_period_loses_its_text_file_and_body(ponorogo, frozen_now, tmp_path):
    number = office_number(ponorogo)
    old_at, recent_at = frozen_now - 91 * DAY, frozen_now - 89 * DAY
    old = arrive(number, sender(at=old_at), at=old_at, text="#KTP#3502011205900086", kind="image", media=JPEG)
    recent = arrive(number, sender(at=recent_at), at=recent_at, text="#STATUS#3502011205900086")
    stored = old.media_file.path
    done = WebhookPayload.objects.create(source="whatsapp", body='{"nik": 1}', status="processed", received_at=old_at)
    waiting = WebhookPayload.objects.create(source="whatsapp", body='{"nik": 2}', received_at=old_at)

    assert purge_personal_data() == {**NOTHING, "inbound": 2}

    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.text, old.media_file.name) == ("", "") and old.thread_id is not None  # the row and its thread stay
    assert not os.path.exists(stored)
    assert recent.text == "#STATUS#3502011205900086"
    assert WebhookPayload.objects.get(pk=done.pk).body == ""
    assert WebhookPayload.objects.get(pk=waiting.pk).body == '{"nik": 2}'  # not processed yet: never touched
    assert purge_personal_data() == NOTHING


def test_the_purge_runs_nightly_from_beat():
    entry = django_settings.CELERY_BEAT_SCHEDULE["purge-personal-data"]
    assert entry["task"] == purge_personal_data.name and entry["task"] in celery_app.tasks
