"""The end of an office's day (its local time): route-1 appointments nobody checked in become no-shows (back to
ready to print, to the back of the line, waiting after two); residents who came but were not printed return
to ready; nothing printed or closed is touched. The daily job fans out per office."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cards import workflow
from cards.models import Actor, CardRequest
from messaging.models import Notification
from queueing import appointments, counter, errors, invitations, tasks
from queueing.models import Booking, CallStatus, WalkInTicket
from tests.dates import WIT, at
from tests.factories import CardRequestFactory, open_calendar

S = CardRequest.Status


@pytest.fixture
def office(clerk, frozen_now):
    open_calendar(clerk.office, print_capacity=10, whatsapp=5, walk_in=3, invitation=2)
    return clerk.office


@pytest.fixture
def tuesday(frozen_today):
    return frozen_today + timedelta(days=1)


def _booked(day, **fields) -> Booking:
    card_request = CardRequestFactory(ready=True, **fields)
    return appointments.booking_book(card_request_id=card_request.pk, channel="whatsapp", by=None, wish=day)


def test_a_missed_appointment_returns_to_the_back_of_the_line_and_the_second_waits(office, tuesday, time_machine):
    booking = _booked(tuesday)
    card_request = booking.card_request
    time_machine.move_to(at(tuesday, 15, 30), tick=False)  # after Tuesday's 15:00 closing
    assert appointments.bookings_close_day(office=office, day=tuesday) == {"no_show": 1, "returned": 0, "unserved": 0}
    card_request.refresh_from_db()
    booking.refresh_from_db()
    assert booking.status == "no_show"
    assert (card_request.status, card_request.no_shows) == (S.READY_TO_PRINT, 1)
    assert card_request.queued_at == at(tuesday, 15, 30)
    event = card_request.events.filter(action="status").last()
    assert (event.from_status, event.to_status, event.by) == (S.SCHEDULED, S.READY_TO_PRINT, None)
    assert "Tidak hadir" in event.note
    message = Notification.objects.filter(card_request=card_request).latest("id")
    assert message.template == "no_show_requeued" and tuesday.strftime("%d-%m-%Y") in message.text
    # Invited again in its new place in line; missed again: it waits until the resident asks.
    thursday = tuesday + timedelta(days=2)
    second = appointments.booking_book(card_request_id=card_request.pk, channel="whatsapp", by=None, wish=thursday)
    time_machine.move_to(at(thursday, 16), tick=False)
    assert appointments.bookings_close_day(office=office, day=thursday)["returned"] == 1
    card_request.refresh_from_db()
    assert card_request.no_shows == 2 and Booking.objects.get(pk=second.pk).status == "no_show"
    assert Notification.objects.filter(card_request=card_request).latest("id").template == "no_show_returned"
    assert card_request.pk not in invitations.invitation_candidates(office=office).values_list("pk", flat=True)


def test_the_day_has_not_ended_before_the_offices_closing_hour(office, tuesday, time_machine):
    _booked(tuesday)
    time_machine.move_to(at(tuesday, 14, 59), tick=False)
    with pytest.raises(errors.QueueingError, match="belum selesai"):
        appointments.bookings_close_day(office=office, day=tuesday)
    assert appointments.days_to_close(office=office) == []
    time_machine.move_to(at(tuesday, 15), tick=False)
    assert appointments.days_to_close(office=office) == [tuesday]


def test_the_day_ends_on_the_offices_own_clock(office, tuesday, time_machine):
    """A WIT office closes at 15:00 WIT, which is 13:00 WIB."""
    office.time_zone = "Asia/Jayapura"
    office.save(update_fields=["time_zone"])
    _booked(tuesday)
    time_machine.move_to(at(tuesday, 15, 5, zone=WIT), tick=False)
    assert appointments.days_to_close(office=office) == [tuesday]
    assert tasks.close_past_days.delay().get() == 1  # fanned out to the one office; eager in tests
    assert Booking.objects.get().status == "no_show"


def test_a_resident_who_came_is_never_a_no_show_and_an_unprinted_card_returns_to_ready(
    clerk, office, tuesday, time_machine
):
    came = _booked(tuesday)
    printed = _booked(tuesday)
    time_machine.move_to(at(tuesday, 9), tick=False)
    for booking in (came, printed):
        appointments.booking_check_in(office=office, by=clerk, token=appointments.booking_token(booking))
    workflow.card_move(
        card_request_id=printed.card_request_id, to_status=S.PRINTED, actor=Actor.PRINTING, by=clerk,
        expected_status=S.SCHEDULED,
    )  # fmt: skip
    time_machine.move_to(at(tuesday, 17), tick=False)
    assert appointments.bookings_close_day(office=office, day=tuesday) == {"no_show": 0, "returned": 0, "unserved": 1}
    came_request = CardRequest.objects.get(pk=came.card_request_id)
    assert (came_request.status, came_request.no_shows) == (S.READY_TO_PRINT, 0)
    assert Notification.objects.filter(card_request=came_request).latest("id").template == "appointment_unserved"
    assert Booking.objects.get(pk=came.pk).call_status == CallStatus.ABSENT
    assert CardRequest.objects.get(pk=printed.card_request_id).status == S.PRINTED
    assert Booking.objects.get(pk=printed.pk).call_status == CallStatus.SERVED  # printed: served, not absent
    # A later day-end never returns the request again (its appointment is concluded).
    assert appointments.days_to_close(office=office) == []


def test_nothing_printed_or_closed_becomes_a_no_show(clerk, office, tuesday, time_machine):
    cancelled = _booked(tuesday)
    printed = _booked(tuesday)
    workflow.card_move_as(
        clerk, card_request_id=cancelled.card_request_id, to_status=S.CANCELLED, expected_status=S.SCHEDULED,
        note="permintaan penduduk",
    )  # fmt: skip
    # A booked appointment whose card was printed anyway (never left booked by the code; pinned here).
    workflow.card_move(
        card_request_id=printed.card_request_id, to_status=S.PRINTED, actor=Actor.PRINTING, by=clerk,
        expected_status=S.SCHEDULED,
    )  # fmt: skip
    time_machine.move_to(at(tuesday, 16), tick=False)
    assert appointments.bookings_close_day(office=office, day=tuesday)["no_show"] == 0
    assert CardRequest.objects.get(pk=cancelled.card_request_id).no_shows == 0
    assert CardRequest.objects.get(pk=printed.card_request_id).status == S.PRINTED
    assert not Notification.objects.filter(template__startswith="no_show").exists()


def test_open_queue_entries_end_absent_at_day_end(clerk, office, frozen_today, time_machine):
    waiting = counter.ticket_issue(office=office, by=clerk)
    time_machine.move_to(at(frozen_today, 15, 1), tick=False)
    appointments.bookings_close_day(office=office, day=frozen_today)
    waiting.refresh_from_db()
    assert waiting.status == CallStatus.ABSENT and waiting.ended_at is not None
    assert not WalkInTicket.objects.filter(status=CallStatus.WAITING).exists()


def test_the_daily_job_is_idempotent(office, tuesday, time_machine):
    _booked(tuesday)
    time_machine.move_to(at(tuesday + timedelta(days=1), 1), tick=False)
    tasks.close_office_days(office.pk)
    assert tasks.close_office_days(office.pk) == 0
    assert CardRequest.objects.get().no_shows == 1
