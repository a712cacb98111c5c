"""Walk-in tickets and check-in: numbers without gaps up to the cap, call next once, check in once."""

from __future__ import annotations

import threading
from datetime import date, time, timedelta

import pytest
from django.core import signing
from django.db import connection

from cards import services as card_services
from cards.models import CardRequest
from queueing import appointments, counter, errors
from queueing.models import Booking, OpeningHours, QuotaDefault, ServiceDay, WalkInTicket
from tests.factories import ResidentFactory

TODAY = date(2026, 11, 23)  # a Monday


def _office(clerk, walk_in=3, whatsapp=2):
    office = clerk.office
    for weekday in range(5):
        OpeningHours.objects.create(office=office, weekday=weekday, opens_at=time(8), closes_at=time(15))
        QuotaDefault.objects.create(
            office=office, weekday=weekday, print_capacity=walk_in + whatsapp, whatsapp=whatsapp, walk_in=walk_in
        )
    return office


def _booked(clerk, day, n=1):
    bookings = []
    for _ in range(n):
        card_request = card_services.card_request_create(
            resident=ResidentFactory(), kind="rusak", by=clerk, channel="whatsapp"
        )
        CardRequest.objects.filter(pk=card_request.pk).update(status="ready_to_print")
        bookings.append(
            appointments.booking_book(
                card_request_id=card_request.pk, channel="whatsapp", by=clerk, wish=day, today=day - timedelta(days=1)
            )
        )
    return bookings


def test_tickets_up_to_the_cap_then_a_clear_refusal(clerk):
    office = _office(clerk, walk_in=3)
    numbers = [counter.ticket_issue(office=office, by=clerk, today=TODAY).number for _ in range(3)]
    assert numbers == [1, 2, 3]
    with pytest.raises(errors.QuotaExhausted, match="sudah habis \\(3\\)"):
        counter.ticket_issue(office=office, by=clerk, today=TODAY)
    assert ServiceDay.objects.get(date=TODAY).last_ticket == 3


def test_no_tickets_on_a_closed_day(clerk):
    office = _office(clerk)
    with pytest.raises(errors.QueueingError, match="tidak melayani"):
        counter.ticket_issue(office=office, by=clerk, today=TODAY - timedelta(days=1))  # Sunday


def test_call_next_takes_the_lowest_waiting_ticket_once(clerk):
    office = _office(clerk)
    for _ in range(2):
        counter.ticket_issue(office=office, by=clerk, today=TODAY)
    first = counter.ticket_call_next(office=office, counter="Loket 1", by=clerk, today=TODAY)
    second = counter.ticket_call_next(office=office, counter="Loket 2", by=clerk, today=TODAY)
    assert (first.number, first.counter, second.number) == (1, "Loket 1", 2)
    assert counter.ticket_call_next(office=office, counter="Loket 1", by=clerk, today=TODAY) is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_counters_number_without_gaps_and_never_share_a_ticket(ponorogo, clerk):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    office = _office(clerk, walk_in=20, whatsapp=0)
    barrier = threading.Barrier(8)
    issued, called, refused = [], [], []
    lock = threading.Lock()

    def issue():
        barrier.wait()
        try:
            for _ in range(4):
                try:
                    ticket = counter.ticket_issue(office=office, by=clerk, today=TODAY)
                    with lock:
                        issued.append(ticket.number)
                except errors.QuotaExhausted:
                    with lock:
                        refused.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(issued) == list(range(1, 21)) and len(refused) == 12

    barrier = threading.Barrier(4)

    def call():
        barrier.wait()
        try:
            while ticket := counter.ticket_call_next(office=office, counter="L", by=clerk, today=TODAY):
                with lock:
                    called.append(ticket.number)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(called) == list(range(1, 21))
    assert not WalkInTicket.objects.filter(status="waiting").exists()


def test_check_in_by_token_once(clerk):
    _office(clerk)
    (booking,) = _booked(clerk, TODAY)
    token = appointments.booking_token(booking)
    checked = appointments.booking_check_in(office=clerk.office, by=clerk, token=token, today=TODAY)
    assert checked.status == "checked_in" and checked.checked_in_by == clerk
    with pytest.raises(errors.AlreadyCheckedIn, match="Sudah tercatat hadir pada"):
        appointments.booking_check_in(office=clerk.office, by=clerk, token=token, today=TODAY)
    assert booking.card_request.events.filter(action="checked_in").count() == 1


def test_check_in_by_nik(clerk):
    _office(clerk)
    (booking,) = _booked(clerk, TODAY)
    nik = booking.card_request.resident.nik
    assert appointments.booking_check_in(office=clerk.office, by=clerk, nik=nik, today=TODAY).status == "checked_in"


def test_wrong_day_is_told_its_day(clerk):
    _office(clerk)
    tuesday = TODAY + timedelta(days=1)
    (booking,) = _booked(clerk, tuesday)
    with pytest.raises(errors.WrongDay, match="24-11-2026") as wrong:
        appointments.booking_check_in(
            office=clerk.office, by=clerk, token=appointments.booking_token(booking), today=TODAY
        )
    assert wrong.value.booking == booking
    assert Booking.objects.get(pk=booking.pk).status == "booked"


def test_token_cannot_be_forged_or_reused_for_another_resident(clerk):
    _office(clerk)
    mine, other = _booked(clerk, TODAY, n=2)
    token = appointments.booking_token(mine)
    with pytest.raises(errors.QueueingError, match="tidak sah"):
        appointments.booking_check_in(office=clerk.office, by=clerk, token=token[:-2] + "xx", today=TODAY)
    # A token re-signed elsewhere (another salt or key) for the other booking is refused too.
    forged = signing.dumps({"b": other.pk, "r": other.card_request_id}, salt="another", compress=True)
    with pytest.raises(errors.QueueingError, match="tidak sah"):
        appointments.booking_check_in(office=clerk.office, by=clerk, token=forged, today=TODAY)
    # Mine names my request: it cannot check in the other booking.
    appointments.booking_check_in(office=clerk.office, by=clerk, token=token, today=TODAY)
    assert Booking.objects.get(pk=other.pk).status == "booked"


@pytest.mark.django_db(transaction=True)
def test_two_counters_scanning_the_same_qr_check_in_once(ponorogo, clerk, supervisor):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    _office(clerk)
    (booking,) = _booked(clerk, TODAY)
    token = appointments.booking_token(booking)
    barrier = threading.Barrier(2)
    outcomes = []

    def scan(user):
        barrier.wait()
        try:
            appointments.booking_check_in(office=clerk.office, by=user, token=token, today=TODAY)
            outcomes.append("in")
        except errors.AlreadyCheckedIn:
            outcomes.append("already")
        finally:
            connection.close()

    threads = [threading.Thread(target=scan, args=(u,)) for u in (clerk, supervisor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already", "in"]
    assert booking.card_request.events.filter(action="checked_in").count() == 1
