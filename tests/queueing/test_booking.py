"""Route-1 appointments: never overbooked, a full or closed day answers with the next free one, the request's
move to scheduled asked of the workflow (one event, one message), only route 1, pemula not before wajib KTP,
and what a closing request or a route change gives back."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from cards import workflow
from cards.models import BiometricRecording, CardRequest, CardRequestEvent
from messaging.models import Notification
from queueing import appointments, calendar, counter, errors
from queueing.models import Booking, Closure, ServiceDay
from tests.dates import FRIDAY, MONDAY, TUESDAY, next_weekday
from tests.factories import CardRequestFactory, ResidentFactory, open_calendar

S = CardRequest.Status


@pytest.fixture
def office(clerk, frozen_now):
    """Ponorogo open Monday to Friday: 3 cards a day, 2 by message and 1 walk-in."""
    open_calendar(clerk.office, print_capacity=3, whatsapp=2, walk_in=1)
    return clerk.office


@pytest.fixture
def monday(frozen_today) -> date:
    """The next Monday (a week after the frozen Monday)."""
    return next_weekday(frozen_today, MONDAY, after=True)


def _ready(n: int, **fields) -> list[CardRequest]:
    return [CardRequestFactory(ready=True, **fields) for _ in range(n)]


def _book(card_request, day, channel="whatsapp", by=None) -> Booking:
    return appointments.booking_book(card_request_id=card_request.pk, channel=channel, by=by, wish=day)


def test_holidays_are_seeded_with_cuti_bersama(db):
    created = calendar.holidays_load(years=[2026])
    assert created == 17 + 8
    assert Closure.objects.get(date=date(2026, 12, 25)).kind == "national"
    assert Closure.objects.get(date=date(2026, 12, 24)).kind == "cuti_bersama"
    assert calendar.holidays_load(years=[2026]) == 0


def test_booking_asks_the_workflow_one_event_and_one_message(clerk, office, monday):
    first, second = _ready(2)
    a = _book(first, monday, by=clerk)
    b = _book(second, monday)
    assert (a.date, a.number, b.number) == (monday, 1, 2)
    first.refresh_from_db()
    assert first.status == S.SCHEDULED
    (event,) = first.events.filter(action=CardRequestEvent.Action.STATUS)
    assert (event.from_status, event.to_status, event.by) == (S.READY_TO_PRINT, S.SCHEDULED, clerk)
    assert monday.strftime("%d-%m-%Y") in event.note
    (message,) = Notification.objects.filter(card_request=first)
    assert message.template == "booking_confirmed"
    assert monday.strftime("%d-%m-%Y") in message.text and "nomor antrean 1" in message.text


def test_a_full_channel_answers_with_the_next_free_day_and_moves_nothing(office, monday):
    requests = _ready(3)
    for card_request in requests[:2]:
        _book(card_request, monday)
    with pytest.raises(errors.DayUnavailable) as refused:
        _book(requests[2], monday)
    assert refused.value.next_free == monday + timedelta(days=1)
    assert "penuh" in str(refused.value)
    requests[2].refresh_from_db()
    assert requests[2].status == S.READY_TO_PRINT and not requests[2].events.exists()
    assert not Notification.objects.filter(card_request=requests[2]).exists()
    assert ServiceDay.objects.get(date=monday).room("walk_in") == 1


def test_closed_days_and_holidays_are_skipped(office, monday):
    Closure.objects.create(office=None, date=monday, name="Libur", kind="national")
    (card_request,) = _ready(1)
    with pytest.raises(errors.DayUnavailable, match="tutup"):
        _book(card_request, monday)
    saturday = monday - timedelta(days=2)
    with pytest.raises(errors.DayUnavailable) as refused:
        _book(card_request, saturday)
    assert refused.value.next_free == monday + timedelta(days=1)  # Sunday closed, Monday a holiday


def test_without_a_wish_the_first_days_with_room_after_today(office, frozen_today):
    requests = _ready(3)
    days = [appointments.booking_book(card_request_id=r.pk, channel="whatsapp", by=None).date for r in requests]
    assert days == [frozen_today + timedelta(days=1)] * 2 + [frozen_today + timedelta(days=2)]


def test_today_and_the_past_are_refused(office, frozen_today):
    (card_request,) = _ready(1)
    with pytest.raises(errors.DayUnavailable, match="setelah hari ini"):
        _book(card_request, frozen_today)


def test_only_route_1_takes_appointments(office, monday):
    (collect,) = _ready(1, route="collect")
    (post,) = _ready(1, route="post")
    for card_request in (collect, post):
        with pytest.raises(errors.QueueingError, match="tanpa jadwal kedatangan"):
            _book(card_request, monday)
        card_request.refresh_from_db()
        assert card_request.status == S.READY_TO_PRINT
    assert not ServiceDay.objects.filter(date=monday, booked_total__gt=0).exists()


def test_walk_in_places_are_not_booked_ahead(office, monday):
    (card_request,) = _ready(1)
    with pytest.raises(errors.QueueingError, match="nomor antrean di loket"):
        _book(card_request, monday, channel="walk_in")


def test_only_ready_requests_are_booked_once(office, monday):
    (card_request,) = _ready(1)
    _book(card_request, monday)
    with pytest.raises(errors.QueueingError, match="belum siap cetak"):
        _book(card_request, monday)
    verifying = CardRequestFactory(verifying=True)
    with pytest.raises(errors.QueueingError, match="belum siap cetak"):
        _book(verifying, monday)


def test_a_place_whose_move_the_workflow_refuses_is_given_back(office, monday, monkeypatch):
    (card_request,) = _ready(1)

    def refuse(**kwargs):
        return None  # the workflow's compare-and-set matched nothing: the request moved meanwhile

    monkeypatch.setattr(appointments, "card_move_set_based", refuse)
    with pytest.raises(errors.QueueingError, match="baru saja diubah"):
        _book(card_request, monday)
    day = ServiceDay.objects.get(date=monday)
    assert (day.booked_total, day.booked_whatsapp, day.last_number) == (0, 0, 1)
    assert not Booking.objects.exists()


def _pemula_turning_17_on(birthday: date, *, recorded_by) -> CardRequest:
    """A ready pemula request of a resident recorded at 16 (the centre answered PRR), 17 on `birthday`."""
    resident = ResidentFactory(birth_date=birthday.replace(year=birthday.year - 17))
    card_request = CardRequestFactory(ready=True, kind="pemula", resident=resident)
    BiometricRecording.objects.create(
        resident=resident, office=card_request.office, recorded_by=recorded_by, central_status="prr"
    )
    return card_request


def test_a_pemula_appointment_is_never_before_the_wajib_ktp_day(clerk, office, frozen_today):
    birthday = next_weekday(frozen_today + timedelta(days=10), TUESDAY)
    card_request = _pemula_turning_17_on(birthday, recorded_by=clerk)
    with pytest.raises(errors.QueueingError, match="belum wajib KTP"):
        _book(card_request, birthday - timedelta(days=1))
    assert not ServiceDay.objects.filter(booked_total__gt=0).exists()
    booking = appointments.booking_book(card_request_id=card_request.pk, channel="whatsapp", by=None)
    assert booking.date == birthday


def test_cancelling_gives_the_place_back_numbers_are_not_reused_and_the_resident_is_told(clerk, office, monday):
    requests = _ready(3)
    first = _book(requests[0], monday)
    _book(requests[1], monday)
    appointments.booking_cancel(booking_id=first.pk, by=clerk, reason="berhalangan")
    requests[0].refresh_from_db()
    assert requests[0].status == S.READY_TO_PRINT
    event = requests[0].events.filter(action="status").last()
    assert (event.from_status, event.to_status, event.by) == (S.SCHEDULED, S.READY_TO_PRINT, clerk)
    message = Notification.objects.filter(card_request=requests[0]).latest("id")
    assert message.template == "booking_cancelled" and "berhalangan" in message.text
    assert _book(requests[2], monday).number == 3
    day = ServiceDay.objects.get(date=monday)
    assert (day.booked_total, day.booked_whatsapp) == (2, 2)
    with pytest.raises(errors.QueueingError, match="tidak aktif"):
        appointments.booking_cancel(booking_id=first.pk, by=clerk, reason="lagi")


def test_rescheduling_to_a_full_day_keeps_the_old_one_else_one_message_replaces_it(office, monday):
    requests = _ready(3)
    tuesday = monday + timedelta(days=1)
    for card_request in requests[:2]:
        _book(card_request, tuesday)
    mine = _book(requests[2], monday)
    with pytest.raises(errors.DayUnavailable):
        appointments.booking_reschedule(booking_id=mine.pk, by=None, wish=tuesday)
    mine.refresh_from_db()
    assert mine.status == "booked" and ServiceDay.objects.get(date=monday).booked_total == 1
    moved = appointments.booking_reschedule(booking_id=mine.pk, by=None, wish=monday + timedelta(days=2))
    assert moved.date == monday + timedelta(days=2)
    assert ServiceDay.objects.get(date=monday).booked_total == 0
    message = Notification.objects.filter(card_request=requests[2]).latest("id")
    assert message.template == "booking_moved" and "MENGGANTIKAN" in message.text
    assert monday.strftime("%d-%m-%Y") in message.text
    assert Notification.objects.filter(card_request=requests[2]).count() == 2  # booked, then moved


def test_urgent_skips_the_channel_quota_not_the_print_capacity(office, monday):
    requests = _ready(2)
    urgent = _ready(2, urgent=True)
    for card_request in requests:
        _book(card_request, monday)
    booking = _book(urgent[0], monday)
    assert booking.urgent and ServiceDay.objects.get(date=monday).booked_total == 3
    with pytest.raises(errors.DayUnavailable):
        _book(urgent[1], monday)


def test_print_places_used_by_a_batch_are_refused_cleanly(clerk, office, monday, frozen_today):
    """Batch printing (routes 2-4) takes print places of its day: appointments and walk-in numbers see it."""
    day = calendar.service_day_get(office=office, day=monday)
    ServiceDay.objects.filter(pk=day.pk).update(batch_printed=2)  # set-up: two cards printed in a batch
    first, second = _ready(2)
    _book(first, monday)
    with pytest.raises(errors.DayUnavailable, match="penuh"):
        _book(second, monday)
    today = calendar.service_day_get(office=office, day=frozen_today)
    ServiceDay.objects.filter(pk=today.pk).update(batch_printed=3)
    with pytest.raises(errors.QuotaExhausted):
        counter.ticket_issue(office=office, by=clerk)


def test_the_database_refuses_overbooking(office, monday):
    day = calendar.service_day_get(office=office, day=monday)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceDay.objects.filter(pk=day.pk).update(booked_total=4, booked_whatsapp=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceDay.objects.filter(pk=day.pk).update(booked_total=1)  # not the sum of the channels


def test_closing_a_request_gives_its_appointment_back_and_it_never_becomes_a_no_show(
    clerk, office, monday, time_machine
):
    (card_request,) = _ready(1)
    booking = _book(card_request, monday)
    workflow.card_move_as(
        clerk, card_request_id=card_request.pk, to_status=S.CANCELLED, expected_status=S.SCHEDULED, note="pindah"
    )
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert ServiceDay.objects.get(date=monday).booked_total == 0
    time_machine.move_to(monday + timedelta(days=1), tick=False)
    assert appointments.bookings_close_day(office=office, day=monday) == {"no_show": 0, "returned": 0, "unserved": 0}
    card_request.refresh_from_db()
    assert card_request.status == S.CANCELLED and card_request.no_shows == 0


def test_leaving_route_1_while_scheduled_returns_the_request_to_ready(clerk, office, monday):
    (card_request,) = _ready(1)
    booking = _book(card_request, monday)
    workflow.card_request_route_set(
        card_request_id=card_request.pk, route="collect", by=clerk, expected_route="counter"
    )
    card_request.refresh_from_db()
    booking.refresh_from_db()
    assert (card_request.status, card_request.route, booking.status) == (S.READY_TO_PRINT, "collect", "cancelled")
    assert ServiceDay.objects.get(date=monday).booked_total == 0
    last = card_request.events.filter(action="status").last()
    assert (last.from_status, last.to_status) == (S.SCHEDULED, S.READY_TO_PRINT)


def test_reconcile_counts_a_walk_in_appointment_once(clerk, office, frozen_today):
    (card_request,) = _ready(1)
    ticket = counter.ticket_issue(office=office, by=clerk)
    counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=card_request.pk, office=office, by=clerk)
    assert appointments.service_days_reconcile(since=frozen_today) == 0
    day = ServiceDay.objects.get(date=frozen_today)
    assert (day.booked_walk_in, day.booked_total) == (1, 1)


def test_supervisor_may_exceed_the_print_capacity_for_urgent_and_it_is_logged(
    clerk, supervisor, office, client, monday
):
    for card_request in _ready(2):
        _book(card_request, monday)
    first_urgent, second_urgent = _ready(2, urgent=True)
    _book(first_urgent, monday)  # the third and last print place (urgent skips the channel quota)
    with pytest.raises(errors.QueueingError, match="kepala bidang"):
        appointments.booking_book_over_capacity(card_request_id=second_urgent.pk, by=clerk, wish=monday)
    client.force_login(supervisor)
    client.post(f"/permohonan/{second_urgent.pk}/jadwal/", {"channel": "whatsapp", "wish": monday.isoformat()})
    assert not Booking.objects.filter(card_request=second_urgent).exists()  # full, and no override asked
    client.post(
        f"/permohonan/{second_urgent.pk}/jadwal/",
        {"channel": "whatsapp", "wish": monday.isoformat(), "over_capacity": "on"},
    )
    day = ServiceDay.objects.get(date=monday)
    assert (day.print_capacity, day.booked_total, day.capacity_overrides) == (4, 4, 1)
    assert second_urgent.events.filter(action="over_capacity", by=supervisor).exists()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_bookers_never_overbook_and_number_without_gaps(ponorogo, clerk, frozen_today):
    open_calendar(clerk.office, print_capacity=30, whatsapp=30, walk_in=0)
    friday = next_weekday(frozen_today, FRIDAY)
    requests = _ready(45)
    barrier = threading.Barrier(15)
    outcomes: list[str] = []
    lock = threading.Lock()

    def booker(chunk):
        barrier.wait()
        try:
            for card_request in chunk:
                try:
                    _book(card_request, friday)
                    result = "booked"
                except errors.DayUnavailable:
                    result = "full"
                with lock:
                    outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=booker, args=(requests[i::15],)) for i in range(15)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("booked") == 30 and outcomes.count("full") == 15
    day = ServiceDay.objects.get(date=friday)
    assert day.booked_total == 30 and day.last_number == 30
    numbers = sorted(Booking.objects.filter(day=day).values_list("number", flat=True))
    assert numbers == list(range(1, 31))
    assert CardRequest.objects.filter(status=S.SCHEDULED).count() == 30
    assert CardRequestEvent.objects.filter(to_status=S.SCHEDULED).count() == 30
    assert Notification.objects.filter(template="booking_confirmed").count() == 30
    assert not CardRequestEvent.objects.exclude(to_status=S.SCHEDULED).filter(action="status").exists()
