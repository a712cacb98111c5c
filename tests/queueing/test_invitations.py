"""Invitations (urgent first, then oldest, up to the quota), no-shows re-invited once, the A4 letter."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from cards import services as card_services
from cards.models import CardRequest
from messaging.models import Notification
from queueing import appointments, calendar, errors, invitations
from queueing.models import Booking, OpeningHours, QuotaDefault
from registry.models import AccessLog
from tests.factories import ResidentFactory

TODAY = date(2026, 11, 23)  # Monday
TUESDAY = TODAY + timedelta(days=1)


@pytest.fixture
def office(clerk):
    for weekday in range(5):
        OpeningHours.objects.create(office=clerk.office, weekday=weekday, opens_at=time(8), closes_at=time(15))
        QuotaDefault.objects.create(office=clerk.office, weekday=weekday, print_capacity=10, invitation=2)
    return clerk.office


def _ready(clerk, n, by=None, **fields):
    requests = []
    for _ in range(n):
        card_request = card_services.card_request_create(
            resident=ResidentFactory(whatsapp="6281234567890"), kind="rusak", by=by or clerk, channel="whatsapp"
        )
        CardRequest.objects.filter(pk=card_request.pk).update(status="ready_to_print", **fields)
        requests.append(card_request)
    return requests


def test_invitations_urgent_first_then_oldest_up_to_the_quota(clerk, office, uptd_a):
    oldest, newer, newest = _ready(clerk, 3)
    (urgent,) = _ready(clerk, 1, urgent_status="approved", is_urgent=True)
    _ready(clerk, 1, by=uptd_a)  # collected at the UPTD: its card travels, no invitation
    invited = invitations.invitations_send(office=office, day=TUESDAY, by=clerk, today=TODAY)
    assert [b.card_request_id for b in invited] == [urgent.pk, oldest.pk, newer.pk]
    assert CardRequest.objects.get(pk=newest.pk).status == "ready_to_print"
    message = Notification.objects.get(card_request=oldest, template="invitation")
    assert "UNDANGAN" in message.text and "24-11-2026" in message.text


def test_no_show_is_reinvited_once_then_returned(clerk, office, settings):
    settings.NO_SHOW_REINVITES = 1
    (card_request,) = _ready(clerk, 1)
    invitations.invitations_send(office=office, day=TUESDAY, by=clerk, today=TODAY)
    counts = appointments.bookings_close_day(office=office, day=TUESDAY, today=TUESDAY + timedelta(days=1))
    assert counts == {"no_show": 1, "reinvited": 1, "returned": 0}
    second = Booking.objects.get(card_request=card_request, status="booked")
    assert second.date > TUESDAY
    counts = appointments.bookings_close_day(office=office, day=second.date, today=second.date + timedelta(days=1))
    assert counts == {"no_show": 1, "reinvited": 0, "returned": 1}
    assert CardRequest.objects.get(pk=card_request.pk).status == "ready_to_print"
    assert Notification.objects.filter(card_request=card_request, template="no_show_returned").count() == 1


def test_checked_in_residents_are_not_no_shows(clerk, office):
    (card_request,) = _ready(clerk, 1)
    (booking,) = invitations.invitations_send(office=office, day=TUESDAY, by=clerk, today=TODAY)
    appointments.booking_check_in(office=office, by=clerk, token=appointments.booking_token(booking), today=TUESDAY)
    counts = appointments.bookings_close_day(office=office, day=TUESDAY, today=TUESDAY + timedelta(days=1))
    assert counts["no_show"] == 0
    assert Booking.objects.get(pk=booking.pk).status == "checked_in"


def test_the_letter_is_a_pdf_and_its_download_is_logged(client, clerk, office):
    (card_request,) = _ready(clerk, 1)
    invitations.invitations_send(office=office, day=TUESDAY, by=clerk, today=TODAY)
    client.force_login(clerk)
    response = client.get(f"/permohonan/{card_request.pk}/jadwal/surat.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    log = AccessLog.objects.get(action="export")
    assert log.resident_id == card_request.resident_id and card_request.number in log.detail


def test_closing_a_day_moves_its_bookings_and_tells_the_residents(clerk, supervisor, office, client):
    first, second = _ready(clerk, 2)
    invitations.invitations_send(office=office, day=TUESDAY, by=clerk, today=TODAY)
    counts = appointments.day_close(office=office, day=TUESDAY, reason="Pemadaman listrik", by=supervisor, today=TODAY)
    assert counts == {"moved": 2, "cancelled": 0}
    moved = Booking.objects.filter(status="booked")
    assert {b.date for b in moved} == {TUESDAY + timedelta(days=1)}
    assert Booking.objects.filter(status="moved", date=TUESDAY).count() == 2
    assert Notification.objects.filter(card_request=first, template="invitation").count() == 2  # old and new day
    # The closed day takes no booking any more; Wednesday's two invitation places went to the moved bookings.
    assert calendar.next_free_day(office=office, channel="invitation", after=TODAY) == TUESDAY + timedelta(days=2)
    with pytest.raises(errors.QueueingError, match="alasan"):
        appointments.day_close(office=office, day=TUESDAY + timedelta(days=2), reason=" ", by=supervisor, today=TODAY)


def test_a_closed_day_without_any_other_room_cancels_and_tells(clerk, supervisor, office):
    QuotaDefault.objects.filter(office=office).exclude(weekday=TUESDAY.weekday()).update(print_capacity=0)
    (card_request,) = _ready(clerk, 1)
    invitations.invitations_send(office=office, day=TUESDAY, by=clerk, today=TODAY)
    QuotaDefault.objects.filter(office=office).update(print_capacity=0)
    counts = appointments.day_close(office=office, day=TUESDAY, reason="Banjir", by=supervisor, today=TODAY)
    assert counts == {"moved": 0, "cancelled": 1}
    assert CardRequest.objects.get(pk=card_request.pk).status == "ready_to_print"
    assert "Banjir" in Notification.objects.get(template="booking_cancelled_closed").text
