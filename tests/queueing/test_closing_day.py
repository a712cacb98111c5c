"""Closing a day: its appointments move to the first day with room AFTER it, never earlier; one message per
resident gives the reason and says it replaces the earlier appointment; with no room left they are
cancelled and told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cards.models import CardRequest
from messaging.models import Notification
from queueing import appointments, calendar, errors
from queueing.models import Booking, Closure, QuotaDefault
from tests.dates import THURSDAY, next_weekday
from tests.factories import CardRequestFactory, open_calendar

S = CardRequest.Status


@pytest.fixture
def office(clerk, frozen_now):
    open_calendar(clerk.office, print_capacity=10, whatsapp=2, walk_in=3)
    return clerk.office


def _booked(day, n: int) -> list[Booking]:
    return [
        appointments.booking_book(
            card_request_id=CardRequestFactory(ready=True).pk, channel="whatsapp", by=None, wish=day
        )
        for _ in range(n)
    ]


def test_closing_moves_appointments_only_to_later_days_and_says_why(supervisor, office, frozen_today):
    tuesday = frozen_today + timedelta(days=1)
    thursday = next_weekday(frozen_today, THURSDAY)
    moved = _booked(thursday, 2)
    # Tuesday and Wednesday still have room, but they are earlier: never used.
    assert calendar.next_free_day(office=office, channel="whatsapp", after=frozen_today) == tuesday
    counts = appointments.day_close(office=office, day=thursday, reason="Pemadaman listrik", by=supervisor)
    assert counts == {"moved": 2, "cancelled": 0}
    friday = thursday + timedelta(days=1)
    assert set(Booking.objects.filter(status="booked").values_list("date", flat=True)) == {friday}
    assert Booking.objects.filter(status="moved", date=thursday).count() == 2
    for booking in moved:
        card_request = CardRequest.objects.get(pk=booking.card_request_id)
        assert card_request.status == S.SCHEDULED
        message = Notification.objects.filter(card_request=card_request).latest("id")
        assert message.template == "booking_moved_closed"
        assert "Pemadaman listrik" in message.text and "MENGGANTIKAN" in message.text
        assert thursday.strftime("%d-%m-%Y") in message.text and friday.strftime("%d-%m-%Y") in message.text
        assert Notification.objects.filter(card_request=card_request).count() == 2  # booked, then moved
    assert not calendar.service_day_get(office=office, day=thursday).is_open
    assert Closure.objects.get(office=office, date=thursday).name == "Pemadaman listrik"


def test_closing_with_no_later_room_cancels_and_tells(supervisor, office, frozen_today):
    thursday = next_weekday(frozen_today, THURSDAY)
    (booking,) = _booked(thursday, 1)
    QuotaDefault.objects.filter(office=office).update(print_capacity=0)  # nothing after Thursday
    counts = appointments.day_close(office=office, day=thursday, reason="Banjir", by=supervisor)
    assert counts == {"moved": 0, "cancelled": 1}
    card_request = CardRequest.objects.get(pk=booking.card_request_id)
    assert card_request.status == S.READY_TO_PRINT
    message = Notification.objects.filter(card_request=card_request).latest("id")
    assert message.template == "booking_cancelled_closed" and "Banjir" in message.text
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"


def test_only_a_future_day_with_a_reason_is_closed(supervisor, office, frozen_today):
    with pytest.raises(errors.QueueingError, match="akan datang"):
        appointments.day_close(office=office, day=frozen_today, reason="Rapat", by=supervisor)
    with pytest.raises(errors.QueueingError, match="alasan"):
        appointments.day_close(office=office, day=frozen_today + timedelta(days=2), reason=" ", by=supervisor)
    assert not Closure.objects.exists()
