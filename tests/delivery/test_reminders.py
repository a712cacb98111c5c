"""Reminders by beat: the appointment the day before, a card not collected after 7 and 30 days, documents
still missing after 3 days without an answer. Each written once however often the job runs, on the office's
own calendar (WIB, WITA), and sent where messaging sends that request's messages."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cards.models import Attachment, CardRequest, DispatchBatch, DispatchItem
from delivery import reminder_tasks, reminders
from delivery.reminder_tasks import send_office_reminders, send_reminders
from intake.models import InboundMessage
from messaging.messages import notification_write
from messaging.models import Contact, Notification
from queueing import appointments
from queueing.models import Booking
from registry.models import Office
from tests.conftest import DESA_A
from tests.dates import FROZEN_TODAY, WIB, WITA, at
from tests.factories import CardRequestFactory, ResidentFactory, appointment_for, open_calendar
from tests.other_office import clerk_of_another_kabupaten

S = CardRequest.Status
_phones = iter(range(6281200000001, 6281299999999))


def _resident(**kwargs):
    return ResidentFactory(whatsapp=str(next(_phones)), **kwargs)


def _on(time_machine, office: Office, days: int, hour: int = 9, zone=WIB) -> None:
    """Move to `days` after FROZEN_TODAY at `hour` and run the office's reminders."""
    time_machine.move_to(at(FROZEN_TODAY + timedelta(days=days), hour, zone=zone), tick=False)
    send_office_reminders(office.pk)


def _templates(card_request: CardRequest) -> list[str]:
    return list(
        Notification.objects.filter(card_request=card_request, template__startswith="reminder_")
        .order_by("id")
        .values_list("template", flat=True)
    )


@pytest.fixture
def office(ponorogo, frozen_now):
    return ponorogo


# --- the appointment the day before ---------------------------------------------------------------------


def _booked_yesterday(day, **kwargs) -> Booking:
    booking = appointment_for(CardRequestFactory(ready=True, resident=_resident(), **kwargs), day=day)
    Booking.objects.filter(pk=booking.pk).update(created_at=booking.created_at - timedelta(days=1))
    return booking


def test_appointment_reminder_the_day_before_once_with_what_to_bring(office, frozen_today):
    open_calendar(office)
    tomorrow = frozen_today + timedelta(days=1)
    booking = _booked_yesterday(tomorrow, kind="rusak")
    later = _booked_yesterday(tomorrow + timedelta(days=1))
    cancelled = _booked_yesterday(tomorrow)
    appointments.booking_cancel(booking_id=cancelled.pk, by=None, reason="Diminta penduduk")
    booked_today = appointment_for(CardRequestFactory(ready=True, resident=_resident()), day=tomorrow)

    for _ in range(3):
        send_office_reminders(office.pk)

    (row,) = Notification.objects.filter(template=reminders.APPOINTMENT)
    assert row.card_request_id == booking.card_request_id
    assert row.dedupe_key == f"reminder_appointment:{row.resident_id}:{booking.pk}:{tomorrow.isoformat()}"
    assert not row.is_reply  # office-initiated: the outbox holds it through the quiet hours
    text = row.text
    assert tomorrow.strftime("%d-%m-%Y") in text and f"nomor antrean {booking.number:03d}" in text
    assert office.name in text and "pukul 08.00–15.00 WIB" in text
    assert "Kartu Keluarga (KK) asli" in text and "KTP-el lama" in text  # rusak: the old card is handed in
    assert "GRATIS" in text
    for other in (later, cancelled, booked_today):
        assert _templates(other.card_request) == []


def test_a_moved_appointment_is_reminded_on_its_new_day_only(office, frozen_today, time_machine, supervisor):
    """A closed day's message goes out at the change (queueing.appointments); the reminder follows the new
    appointment, the day before it."""
    open_calendar(office)
    tomorrow = frozen_today + timedelta(days=1)
    booking = _booked_yesterday(tomorrow + timedelta(days=1))
    appointments.day_close(office=office, day=tomorrow + timedelta(days=1), reason="Pemadaman listrik", by=supervisor)
    moved = Booking.objects.get(card_request_id=booking.card_request_id, status=Booking.Status.BOOKED)
    assert moved.date == tomorrow + timedelta(days=2)
    _on(time_machine, office, 1)  # the old day is tomorrow: nothing
    assert _templates(booking.card_request) == []
    _on(time_machine, office, 2)
    row = Notification.objects.get(template=reminders.APPOINTMENT)
    assert moved.date.strftime("%d-%m-%Y") in row.text and str(moved.pk) in row.dedupe_key


# --- the hour, per office ---------------------------------------------------------------------------------


def test_each_office_gets_its_reminders_from_its_own_morning(office, time_machine, monkeypatch):
    wib_office = clerk_of_another_kabupaten().office
    Office.objects.filter(pk=office.pk).update(time_zone="Asia/Makassar")
    fanned_out: list[int] = []
    monkeypatch.setattr(reminder_tasks, "send_office_reminders", SimpleNamespace(delay=fanned_out.append))

    time_machine.move_to(at(FROZEN_TODAY, 7, 59, zone=WITA), tick=False)  # 06:59 WIB
    assert send_reminders() == 0
    time_machine.move_to(at(FROZEN_TODAY, 8, 0, zone=WITA), tick=False)  # 07:00 WIB
    assert send_reminders() == 1 and fanned_out == [office.pk]
    time_machine.move_to(at(FROZEN_TODAY, 8, 0, zone=WIB), tick=False)
    fanned_out.clear()
    assert send_reminders() == 2 and set(fanned_out) == {office.pk, wib_office.pk}  # UPTDs are not fanned out


def test_beat_runs_the_reminders_hourly():
    entry = django_settings.CELERY_BEAT_SCHEDULE["send-reminders"]
    assert entry["task"] == send_reminders.name == "delivery.reminder_tasks.send_reminders"
    assert entry["schedule"].hour == set(range(24)) and len(entry["schedule"].minute) == 1


# --- cards not collected ----------------------------------------------------------------------------------


def test_uncollected_card_reminded_after_7_and_after_30_days_only(office, time_machine, uptd_a, clerk):
    stored = at(FROZEN_TODAY, 10)
    waiting = CardRequestFactory(ready_for_pickup=True, collect=True, resident=_resident(), status_changed_at=stored)
    handed_over = CardRequestFactory(handed_over=True, collect=True, resident=_resident(), status_changed_at=stored)
    cancelled = CardRequestFactory(status=S.CANCELLED, resident=_resident(), status_changed_at=stored)
    # At the UPTD: waiting since the UPTD confirmed it arrived, not since it was dispatched.
    batch = DispatchBatch.objects.create(office=office, uptd=uptd_a.office, created_by=clerk)
    dispatched = stored - timedelta(days=3)
    at_uptd, on_the_road = (
        CardRequestFactory(sent_to_uptd=True, resident=_resident(desa_id=DESA_A), status_changed_at=dispatched)
        for _ in range(2)
    )
    DispatchItem.objects.create(batch=batch, card_request=at_uptd, received_at=stored, received_by=uptd_a)
    DispatchItem.objects.create(batch=batch, card_request=on_the_road)

    _on(time_machine, office, 6)
    assert _templates(waiting) == [] and _templates(at_uptd) == []
    for _ in range(3):
        _on(time_machine, office, 7)
    assert _templates(waiting) == ["reminder_uncollected_7"] and _templates(at_uptd) == ["reminder_uncollected_7"]
    row = Notification.objects.get(card_request=at_uptd)
    assert uptd_a.office.name in row.text and "7 hari" in row.text and stored.strftime("%d-%m-%Y") in row.text
    for days in (8, 29):
        _on(time_machine, office, days)
    assert _templates(waiting) == ["reminder_uncollected_7"]
    _on(time_machine, office, 30)
    _on(time_machine, office, 31)
    assert _templates(waiting) == ["reminder_uncollected_7", "reminder_uncollected_30"]
    assert "30 hari" in Notification.objects.get(card_request=waiting, template="reminder_uncollected_30").text
    for other in (handed_over, cancelled, on_the_road):
        assert _templates(other) == []


def test_days_waiting_are_counted_on_the_office_calendar_in_wita(office, time_machine):
    Office.objects.filter(pk=office.pk).update(time_zone="Asia/Makassar")
    office.refresh_from_db()
    stored = at(FROZEN_TODAY + timedelta(days=1), 0, 30, zone=WITA)  # Tuesday in Makassar, Monday in Jakarta
    waiting = CardRequestFactory(ready_for_pickup=True, collect=True, resident=_resident(), status_changed_at=stored)
    _on(time_machine, office, 7, hour=8, zone=WITA)  # the 7th day by Jakarta's calendar, the 6th by the office's
    assert _templates(waiting) == []
    _on(time_machine, office, 8, hour=8, zone=WITA)
    row = Notification.objects.get(card_request=waiting)
    assert (FROZEN_TODAY + timedelta(days=1)).strftime("%d-%m-%Y") in row.text


# --- documents still missing --------------------------------------------------------------------------------


def test_missing_documents_reminded_every_3_days_at_most_twice(office, time_machine):
    incomplete = CardRequestFactory(incomplete=True, resident=_resident(), status_changed_at=at(FROZEN_TODAY, 10))
    _on(time_machine, office, 2)
    assert _templates(incomplete) == []
    for _ in range(3):
        _on(time_machine, office, 3)
    assert _templates(incomplete) == ["reminder_missing_documents"]
    text = Notification.objects.get(card_request=incomplete).text
    assert "BELUM LENGKAP" in text and "- Surat kehilangan dari kepolisian" in text
    _on(time_machine, office, 5)
    assert len(_templates(incomplete)) == 1
    _on(time_machine, office, 6)
    assert len(_templates(incomplete)) == 2
    for days in (9, 12, 30):
        _on(time_machine, office, days)
    assert len(_templates(incomplete)) == 2


def test_missing_documents_reminder_suppressed_once_the_resident_answered(office, time_machine):
    asked = at(FROZEN_TODAY, 10)
    after, before = asked + timedelta(hours=5), asked - timedelta(hours=5)

    def request() -> CardRequest:
        return CardRequestFactory(incomplete=True, resident=_resident(), status_changed_at=asked)

    def inbound(contact: Contact, sent_at, card_request=None) -> None:
        InboundMessage.objects.create(
            source="whatsapp", provider_message_id=f"wamid.{contact.pk}.{sent_at:%H}", office=office,
            contact=contact, sent_at=sent_at, card_request=card_request, text="ini dokumennya",
        )  # fmt: skip

    with_attachment = request()
    Attachment.objects.create(
        card_request=with_attachment, file="lampiran/x.pdf", original_name="surat.pdf",
        content_type="application/pdf", size=10, sha256="0" * 64, uploaded_at=after,
    )  # fmt: skip
    about_the_request = request()
    inbound(Contact.objects.create(user_id="ID.1", whatsapp="yes"), after, card_request=about_the_request)
    from_linked_contact = request()
    inbound(Contact.objects.create(user_id="ID.2", resident=from_linked_contact.resident), after)
    from_registered_number = request()
    inbound(Contact.objects.create(phone=from_registered_number.resident.whatsapp), after)
    wrote_before_the_ask = request()
    inbound(Contact.objects.create(phone=wrote_before_the_ask.resident.whatsapp), before)
    silent = request()
    Contact.objects.create(phone="")  # a contact without a number answers for nobody

    _on(time_machine, office, 3)
    reminded = set(
        Notification.objects.filter(template=reminders.MISSING_DOCUMENTS).values_list("card_request", flat=True)
    )
    assert reminded == {wrote_before_the_ask.pk, silent.pk}


# --- cost -----------------------------------------------------------------------------------------------------


def test_a_repeated_run_costs_the_same_few_queries_whatever_the_number_due(office, time_machine):
    open_calendar(office)
    _on(time_machine, office, 7)  # a Monday: appointments tomorrow, cards stored a week ago, asked 7 days ago

    def one_of_each_kind() -> None:
        _booked_yesterday(FROZEN_TODAY + timedelta(days=8))
        asked = at(FROZEN_TODAY, 10)
        CardRequestFactory(ready_for_pickup=True, collect=True, resident=_resident(), status_changed_at=asked)
        CardRequestFactory(incomplete=True, resident=_resident(), status_changed_at=asked)

    one_of_each_kind()
    send_office_reminders(office.pk)
    with CaptureQueriesContext(connection) as one_each:
        send_office_reminders(office.pk)
    for _ in range(4):
        one_of_each_kind()
    assert sum(send_office_reminders(office.pk).values()) == 12
    with CaptureQueriesContext(connection) as five_each:
        assert sum(send_office_reminders(office.pk).values()) == 0
    assert len(five_each) == len(one_each) <= 8
    assert Notification.objects.filter(template__startswith="reminder_").count() == 15


# --- where they go --------------------------------------------------------------------------------------------


def test_uptd_submissions_reminders_go_where_messaging_sends_that_requests_messages(
    office, time_machine, uptd_a, clerk
):
    """Messaging decides who is told about a UPTD submission (the operator, not the elderly resident); the
    reminders go the same way as the message they follow up."""
    Office.objects.filter(pk=uptd_a.office_id).update(phone="0352 481234")
    asked = at(FROZEN_TODAY, 10)
    resident = _resident(desa_id=DESA_A)
    incomplete = CardRequestFactory(
        incomplete=True, uptd=True, resident=resident, submitted_by=uptd_a, status_changed_at=asked
    )
    arrived = CardRequestFactory(sent_to_uptd=True, resident=_resident(desa_id=DESA_A), submitted_by=uptd_a)
    batch = DispatchBatch.objects.create(office=office, uptd=uptd_a.office, created_by=clerk)
    DispatchItem.objects.create(batch=batch, card_request=arrived, received_at=asked, received_by=uptd_a)
    _on(time_machine, office, 7)

    def address(row: Notification) -> tuple:
        return row.channel, row.recipient, row.contact_id, row.status

    with transaction.atomic():
        told_missing = notification_write(
            resident=incomplete.resident, card_request=incomplete, template="request_incomplete",
            number=incomplete.number, missing="- x",
        )  # fmt: skip
        told_arrived = notification_write(
            resident=arrived.resident, card_request=arrived, template="request_at_uptd", number=arrived.number,
            place=uptd_a.office.name,
        )  # fmt: skip
    missing = Notification.objects.get(template=reminders.MISSING_DOCUMENTS)
    uncollected = Notification.objects.get(template=reminders.UNCOLLECTED_FIRST)
    assert address(missing) == address(told_missing) and address(uncollected) == address(told_arrived)
    assert missing.recipient == "62352481234" != resident.whatsapp  # the UPTD, not the elderly resident
    assert "diajukan lewat UPTD" in missing.text and "kabari yang bersangkutan" in uncollected.text
