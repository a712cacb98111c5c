"""The counter: walk-in numbers without gaps up to the cap, one call queue per office-day (checked-in
appointments and walk-in numbers by arrival, never the same entry to two counters), a walk-in tied to a
request and served the same day from its number's place, the wrong day, and the day's list."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from cards import workflow
from cards.models import CardRequest, CardRequestEvent
from queueing import appointments, counter, errors
from queueing.models import Booking, CallStatus, ServiceDay, WalkInTicket
from tests.dates import THURSDAY, at, next_weekday
from tests.factories import CardRequestFactory, open_calendar

S = CardRequest.Status


@pytest.fixture
def office(clerk, frozen_now):
    """Open Monday to Friday 08:00-15:00: 3 walk-in numbers and 2 places by message a day."""
    open_calendar(clerk.office, print_capacity=5, whatsapp=2, walk_in=3)
    return clerk.office


def _booked_for(day, *, time_machine, today) -> Booking:
    """A route-1 request booked yesterday for `day`; the clock then at 08:30 today."""
    card_request = CardRequestFactory(ready=True)
    time_machine.move_to(at(today - timedelta(days=1), 10), tick=False)
    booking = appointments.booking_book(card_request_id=card_request.pk, channel="whatsapp", by=None, wish=day)
    time_machine.move_to(at(today, 8, 30), tick=False)
    return booking


def _check_in(booking, clerk, office) -> Booking:
    return appointments.booking_check_in(office=office, by=clerk, token=appointments.booking_token(booking))


# --- walk-in numbers ------------------------------------------------------------------------------------


def test_numbers_up_to_the_cap_without_gaps_then_a_clear_refusal(clerk, office, frozen_today):
    assert [counter.ticket_issue(office=office, by=clerk).number for _ in range(3)] == [1, 2, 3]
    with pytest.raises(errors.QuotaExhausted, match="sudah habis \\(3\\)"):
        counter.ticket_issue(office=office, by=clerk)
    day = ServiceDay.objects.get(date=frozen_today)
    assert (day.last_ticket, day.booked_walk_in, day.booked_total) == (3, 3, 3)


def test_no_numbers_on_a_closed_day(clerk, office, frozen_today, time_machine):
    time_machine.move_to(at(frozen_today - timedelta(days=1), 9), tick=False)  # Sunday
    with pytest.raises(errors.QueueingError, match="tidak melayani"):
        counter.ticket_issue(office=office, by=clerk)


# --- one call queue -------------------------------------------------------------------------------------


def test_one_queue_by_arrival_serves_appointments_and_walk_ins(clerk, office, frozen_today, time_machine):
    booked = _booked_for(frozen_today, time_machine=time_machine, today=frozen_today)
    time_machine.move_to(at(frozen_today, 8, 40), tick=False)
    first_ticket = counter.ticket_issue(office=office, by=clerk)
    time_machine.move_to(at(frozen_today, 8, 45), tick=False)
    _check_in(booked, clerk, office)
    time_machine.move_to(at(frozen_today, 8, 50), tick=False)
    second_ticket = counter.ticket_issue(office=office, by=clerk)

    time_machine.move_to(at(frozen_today, 9), tick=False)
    called = [counter.call_next(office=office, counter=f"Loket {n}", by=clerk) for n in (1, 2, 3)]
    assert [(type(c).__name__, c.pk) for c in called] == [
        ("WalkInTicket", first_ticket.pk),
        ("Booking", booked.pk),
        ("WalkInTicket", second_ticket.pk),
    ]
    assert called[1].call_status == CallStatus.CALLED and called[1].counter == "Loket 2"
    assert counter.call_next(office=office, counter="Loket 1", by=clerk) is None


def test_a_called_entry_ends_served_or_absent_once(clerk, office, frozen_today, time_machine):
    booked = _booked_for(frozen_today, time_machine=time_machine, today=frozen_today)
    _check_in(booked, clerk, office)
    ticket = counter.ticket_issue(office=office, by=clerk)
    with pytest.raises(errors.QueueingError, match="belum dipanggil"):
        counter.entry_end(office=office, entry=f"t-{ticket.pk}", outcome="absent", by=clerk)
    counter.call_next(office=office, counter="L1", by=clerk)
    counter.call_next(office=office, counter="L1", by=clerk)
    counter.entry_end(office=office, entry=f"b-{booked.pk}", outcome="served", by=clerk)
    counter.entry_end(office=office, entry=f"t-{ticket.pk}", outcome="absent", by=clerk)
    booked.refresh_from_db()
    ticket.refresh_from_db()
    assert (booked.call_status, ticket.status) == (CallStatus.SERVED, CallStatus.ABSENT)
    assert ticket.ended_at is not None
    with pytest.raises(errors.QueueingError, match="sudah selesai"):
        counter.entry_end(office=office, entry=f"t-{ticket.pk}", outcome="served", by=clerk)
    with pytest.raises(errors.QueueingError):
        counter.entry_end(office=office, entry=f"t-{ticket.pk}", outcome="waiting", by=clerk)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_counters_number_without_gaps_and_never_call_the_same_entry(
    ponorogo, clerk, frozen_today, time_machine
):
    open_calendar(clerk.office, print_capacity=40, whatsapp=10, walk_in=20)
    office = clerk.office
    tomorrow = frozen_today + timedelta(days=1)
    bookings = [
        appointments.booking_book(
            card_request_id=CardRequestFactory(ready=True).pk, channel="whatsapp", by=None, wish=tomorrow
        )
        for _ in range(6)
    ]
    time_machine.move_to(at(tomorrow, 8), tick=False)  # the booked day: the six check in
    for booking in bookings:
        _check_in(booking, clerk, office)
    lock = threading.Lock()
    issued, refused, called = [], [], []
    barrier = threading.Barrier(8)

    def issue():
        barrier.wait()
        try:
            for _ in range(4):
                try:
                    ticket = counter.ticket_issue(office=office, by=clerk)
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

    def call(name):
        barrier.wait()
        try:
            while entry := counter.call_next(office=office, counter=name, by=clerk):
                with lock:
                    called.append((type(entry).__name__, entry.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(f"L{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(called) == len(set(called)) == 26
    assert not WalkInTicket.objects.filter(status=CallStatus.WAITING).exists()
    assert not Booking.objects.filter(call_status=CallStatus.WAITING).exists()


# --- a walk-in served the same day ----------------------------------------------------------------------


def test_a_walk_in_tied_to_a_ready_request_is_served_today_without_a_second_place(clerk, office, frozen_today):
    card_request = CardRequestFactory(ready=True)
    ticket = counter.ticket_issue(office=office, by=clerk)
    counter.call_next(office=office, counter="L1", by=clerk)
    booking = counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=card_request.pk, office=office, by=clerk)
    assert (booking.date, booking.channel, booking.status, booking.ticket_id) == (
        frozen_today, "walk_in", "checked_in", ticket.pk
    )  # fmt: skip
    day = ServiceDay.objects.get(date=frozen_today)
    assert (day.booked_walk_in, day.booked_total, day.last_number) == (1, 1, 1)
    card_request.refresh_from_db()
    assert card_request.status == S.SCHEDULED
    ticket.refresh_from_db()
    assert ticket.card_request_id == card_request.pk and ticket.status == CallStatus.CALLED
    actions = list(card_request.events.values_list("action", "to_status"))
    assert actions == [("walk_in", ""), ("status", S.SCHEDULED)]
    # Served again: the same appointment, nothing new.
    again = counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=card_request.pk, office=office, by=clerk)
    assert again.pk == booking.pk and Booking.objects.count() == 1


def test_a_request_not_ready_yet_is_tied_then_served_once_verified(clerk, office, frozen_today):
    card_request = CardRequestFactory(verifying=True)
    ticket = counter.ticket_issue(office=office, by=clerk)
    assert counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=card_request.pk, office=office, by=clerk) is None
    ticket.refresh_from_db()
    assert ticket.card_request_id == card_request.pk and not Booking.objects.exists()
    workflow.card_move_as(
        clerk, card_request_id=card_request.pk, to_status=S.READY_TO_PRINT, expected_status=S.VERIFYING
    )
    booking = counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=card_request.pk, office=office, by=clerk)
    assert booking.ticket_id == ticket.pk
    other = CardRequestFactory(ready=True)
    with pytest.raises(errors.QueueingError, match="permohonan lain"):
        counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=other.pk, office=office, by=clerk)


def test_a_walk_in_for_another_route_or_a_printed_card_is_refused(clerk, office):
    ticket = counter.ticket_issue(office=office, by=clerk)
    collect = CardRequestFactory(ready=True, route="collect")
    with pytest.raises(errors.QueueingError, match="Cetak di loket"):
        counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=collect.pk, office=office, by=clerk)
    printed = CardRequestFactory(printed=True)
    with pytest.raises(errors.QueueingError, match="tidak dilayani lagi"):
        counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=printed.pk, office=office, by=clerk)
    ticket.refresh_from_db()
    assert ticket.card_request_id is None


def test_an_appointment_today_is_checked_in_through_the_number(clerk, office, frozen_today, time_machine):
    booked = _booked_for(frozen_today, time_machine=time_machine, today=frozen_today)
    ticket = counter.ticket_issue(office=office, by=clerk)
    served = counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=booked.card_request_id, office=office, by=clerk)
    assert served.pk == booked.pk
    booked.refresh_from_db()
    assert (booked.status, booked.ticket_id, booked.channel) == ("checked_in", ticket.pk, "whatsapp")
    # The number is the entry in the queue, not the appointment as well.
    assert counter.call_next(office=office, counter="L1", by=clerk).pk == ticket.pk
    assert counter.call_next(office=office, counter="L1", by=clerk) is None


def test_the_wrong_day_is_served_today_from_the_walk_in_places(clerk, office, frozen_today, time_machine):
    thursday = next_weekday(frozen_today, THURSDAY)
    booked = _booked_for(thursday, time_machine=time_machine, today=frozen_today)
    with pytest.raises(errors.WrongDay) as wrong:
        _check_in(booked, clerk, office)
    assert thursday.strftime("%d-%m-%Y") in str(wrong.value) and "kuota datang langsung" not in str(wrong.value)
    ticket, served = counter.walk_in_for_booking(booking_id=booked.pk, office=office, by=clerk)
    booked.refresh_from_db()
    assert booked.status == "moved"
    thursday_row = ServiceDay.objects.get(date=thursday)
    assert (thursday_row.booked_total, thursday_row.booked_whatsapp) == (0, 0)
    today_row = ServiceDay.objects.get(date=frozen_today)
    assert (today_row.booked_walk_in, today_row.booked_total) == (1, 1)
    assert (served.date, served.ticket_id, served.channel) == (frozen_today, ticket.pk, "walk_in")
    card_request = CardRequest.objects.get(pk=booked.card_request_id)
    assert card_request.status == S.SCHEDULED
    moves = list(card_request.events.filter(action="status").values_list("from_status", "to_status"))
    assert moves[-2:] == [(S.SCHEDULED, S.READY_TO_PRINT), (S.READY_TO_PRINT, S.SCHEDULED)]


def test_the_wrong_day_without_walk_in_places_keeps_the_appointment(clerk, office, frozen_today, time_machine):
    thursday = next_weekday(frozen_today, THURSDAY)
    booked = _booked_for(thursday, time_machine=time_machine, today=frozen_today)
    for _ in range(3):
        counter.ticket_issue(office=office, by=clerk)
    with pytest.raises(errors.QuotaExhausted):
        counter.walk_in_for_booking(booking_id=booked.pk, office=office, by=clerk)
    booked.refresh_from_db()
    assert booked.status == "booked"
    assert ServiceDay.objects.get(date=thursday).booked_total == 1
    assert WalkInTicket.objects.count() == 3


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_counters_tying_numbers_to_one_request_make_one_appointment(ponorogo, clerk, frozen_now):
    open_calendar(clerk.office, print_capacity=5, whatsapp=2, walk_in=3)
    office = clerk.office
    card_request = CardRequestFactory(ready=True)
    tickets = [counter.ticket_issue(office=office, by=clerk) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def tie(ticket):
        barrier.wait()
        try:
            counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=card_request.pk, office=office, by=clerk)
            result = "served"
        except errors.QueueingError:
            result = "refused"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=tie, args=(t,)) for t in tickets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "served"]
    assert Booking.objects.filter(card_request=card_request).count() == 1
    assert WalkInTicket.objects.filter(card_request=card_request).count() == 1
    assert CardRequestEvent.objects.filter(card_request=card_request, to_status=S.SCHEDULED).count() == 1


# --- the end of a call ----------------------------------------------------------------------------------


def test_printing_ends_the_entry_served(clerk, office, frozen_today):
    card_request = CardRequestFactory(ready=True)
    ticket = counter.ticket_issue(office=office, by=clerk)
    counter.call_next(office=office, counter="L1", by=clerk)
    booking = counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=card_request.pk, office=office, by=clerk)
    assert counter.entry_served_for(card_request_id=card_request.pk) is True
    ticket.refresh_from_db()
    booking.refresh_from_db()
    assert ticket.status == CallStatus.SERVED and booking.ended_at is not None
    assert counter.entry_served_for(card_request_id=CardRequestFactory(ready=True).pk) is False


def test_a_closing_request_leaves_the_call_queue(clerk, office, frozen_today, time_machine):
    booked = _booked_for(frozen_today, time_machine=time_machine, today=frozen_today)
    _check_in(booked, clerk, office)
    workflow.card_move_as(
        clerk, card_request_id=booked.card_request_id, to_status=S.CANCELLED, expected_status=S.SCHEDULED,
        note="meninggal dunia",
    )  # fmt: skip
    booked.refresh_from_db()
    assert booked.call_status == CallStatus.ABSENT
    assert counter.call_next(office=office, counter="L1", by=clerk) is None


# --- the day's list -------------------------------------------------------------------------------------


def test_the_day_list_counts_expected_waiting_called_served_and_absent(clerk, office, frozen_today, time_machine):
    expected = _booked_for(frozen_today, time_machine=time_machine, today=frozen_today)
    arrived = _booked_for(frozen_today, time_machine=time_machine, today=frozen_today)
    _check_in(arrived, clerk, office)  # 08:30
    time_machine.move_to(at(frozen_today, 8, 35), tick=False)
    served_ticket = counter.ticket_issue(office=office, by=clerk)
    absent_ticket = counter.ticket_issue(office=office, by=clerk)
    counter.ticket_issue(office=office, by=clerk)  # waiting
    time_machine.move_to(at(frozen_today, 9), tick=False)
    # The queue by arrival: the check-in (08:30) before the numbers (08:35).
    assert counter.call_next(office=office, counter="L1", by=clerk).pk == arrived.pk  # called
    counter.call_next(office=office, counter="L2", by=clerk)
    counter.call_next(office=office, counter="L3", by=clerk)
    counter.entry_end(office=office, entry=f"t-{served_ticket.pk}", outcome="served", by=clerk)
    counter.entry_end(office=office, entry=f"t-{absent_ticket.pk}", outcome="absent", by=clerk)
    day_list = counter.counter_day(office=office)
    counts = {state: n for state, _label, n in day_list.count_rows}
    assert counts == {"expected": 1, "waiting": 1, "called": 1, "served": 1, "absent": 1, "no_show": 0}
    assert [e.key for e in day_list.entries if e.state == "expected"] == [f"b-{expected.pk}"]
    assert [e.state for e in day_list.queue] == ["waiting"]
