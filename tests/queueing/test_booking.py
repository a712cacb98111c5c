"""Calendar, quotas and bookings: never overbooked, a full or closed day answers with the next free one."""

from __future__ import annotations

import threading
from datetime import date, time, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from cards import services as card_services
from cards.models import CardRequest
from messaging.models import Notification
from queueing import appointments, calendar, errors
from queueing.models import Booking, Closure, OpeningHours, QuotaDefault, ServiceDay
from tests.factories import ResidentFactory

TODAY = date(2026, 11, 23)  # a Monday
MONDAY = TODAY + timedelta(days=7)


@pytest.fixture
def office(clerk):
    office = clerk.office
    for weekday in range(5):  # Monday to Friday, 08:00–15:00
        OpeningHours.objects.create(office=office, weekday=weekday, opens_at=time(8), closes_at=time(15))
        QuotaDefault.objects.create(office=office, weekday=weekday, print_capacity=3, whatsapp=2, walk_in=1)
    return office


def _ready(clerk, n: int, **resident) -> list[CardRequest]:
    requests = []
    for _ in range(n):
        card_request = card_services.card_request_create(
            resident=ResidentFactory(**resident), kind="rusak", by=clerk, channel="whatsapp"
        )
        CardRequest.objects.filter(pk=card_request.pk).update(status="ready_to_print")
        requests.append(card_request)
    return requests


def test_holidays_are_seeded_with_cuti_bersama(db):
    created = calendar.holidays_load(years=[2026])
    assert created == 17 + 8
    assert Closure.objects.get(date=date(2026, 12, 25)).kind == "national"
    assert Closure.objects.get(date=date(2026, 12, 24)).kind == "cuti_bersama"
    assert calendar.holidays_load(years=[2026]) == 0


def test_booking_takes_the_wished_day_with_numbers_and_a_message(clerk, office):
    first, second = _ready(clerk, 2)
    a = appointments.booking_book(card_request_id=first.pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY)
    b = appointments.booking_book(card_request_id=second.pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY)
    assert (a.date, a.number, b.number) == (MONDAY, 1, 2)
    assert CardRequest.objects.get(pk=first.pk).status == "scheduled"
    message = Notification.objects.get(card_request=first, template="booking_confirmed")
    assert "30-11-2026" in message.text and "nomor antrean 1" in message.text


def test_full_channel_answers_with_the_next_free_day(clerk, office):
    requests = _ready(clerk, 3)
    for card_request in requests[:2]:
        appointments.booking_book(
            card_request_id=card_request.pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY
        )
    with pytest.raises(errors.DayUnavailable) as refused:
        appointments.booking_book(
            card_request_id=requests[2].pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY
        )
    assert refused.value.next_free == MONDAY + timedelta(days=1)
    assert "penuh" in str(refused.value)
    assert CardRequest.objects.get(pk=requests[2].pk).status == "ready_to_print"
    # Walk-in still has its own place that Monday.
    assert ServiceDay.objects.get(date=MONDAY).room("walk_in") == 1


def test_closed_day_and_holiday_are_skipped(clerk, office):
    Closure.objects.create(office=None, date=MONDAY, name="Libur", kind="national")
    (card_request,) = _ready(clerk, 1)
    with pytest.raises(errors.DayUnavailable, match="tutup"):
        appointments.booking_book(
            card_request_id=card_request.pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY
        )
    saturday = MONDAY - timedelta(days=2)
    with pytest.raises(errors.DayUnavailable) as refused:
        appointments.booking_book(
            card_request_id=card_request.pk, channel="whatsapp", by=clerk, wish=saturday, today=TODAY
        )
    assert refused.value.next_free == MONDAY + timedelta(days=1)  # Sunday closed, Monday a holiday


def test_without_a_wish_the_first_day_with_room(clerk, office):
    requests = _ready(clerk, 3)
    days = [
        appointments.booking_book(card_request_id=r.pk, channel="whatsapp", by=clerk, today=TODAY).date
        for r in requests
    ]
    assert days == [TODAY + timedelta(days=1)] * 2 + [TODAY + timedelta(days=2)]


def test_cancel_frees_the_place_and_numbers_are_not_reused(clerk, office):
    requests = _ready(clerk, 3)
    first = appointments.booking_book(
        card_request_id=requests[0].pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY
    )
    appointments.booking_book(card_request_id=requests[1].pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY)
    appointments.booking_cancel(booking_id=first.pk, by=clerk, reason="berhalangan")
    assert CardRequest.objects.get(pk=requests[0].pk).status == "ready_to_print"
    third = appointments.booking_book(
        card_request_id=requests[2].pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY
    )
    assert third.number == 3
    day = ServiceDay.objects.get(date=MONDAY)
    assert (day.booked_total, day.booked_whatsapp) == (2, 2)


def test_reschedule_to_a_full_day_keeps_the_old_booking(clerk, office):
    requests = _ready(clerk, 3)
    tuesday = MONDAY + timedelta(days=1)
    for card_request in requests[:2]:
        appointments.booking_book(
            card_request_id=card_request.pk, channel="whatsapp", by=clerk, wish=tuesday, today=TODAY
        )
    mine = appointments.booking_book(
        card_request_id=requests[2].pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY
    )
    with pytest.raises(errors.DayUnavailable):
        appointments.booking_reschedule(booking_id=mine.pk, by=clerk, wish=tuesday, today=TODAY)
    mine.refresh_from_db()
    assert mine.status == "booked" and ServiceDay.objects.get(date=MONDAY).booked_total == 1
    moved = appointments.booking_reschedule(booking_id=mine.pk, by=clerk, wish=MONDAY + timedelta(days=2), today=TODAY)
    assert moved.date == MONDAY + timedelta(days=2)
    assert ServiceDay.objects.get(date=MONDAY).booked_total == 0


def test_urgent_skips_the_channel_quota_not_the_print_capacity(clerk, supervisor, office, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    requests = _ready(clerk, 4)
    for card_request in requests[:2]:
        appointments.booking_book(
            card_request_id=card_request.pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY
        )
    CardRequest.objects.filter(pk__in=[requests[2].pk, requests[3].pk]).update(urgent_status="approved", is_urgent=True)
    urgent = appointments.booking_book(
        card_request_id=requests[2].pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY
    )
    assert urgent.urgent and ServiceDay.objects.get(date=MONDAY).booked_total == 3
    with pytest.raises(errors.DayUnavailable):
        appointments.booking_book(
            card_request_id=requests[3].pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY
        )


def test_only_ready_requests_are_booked_once(clerk, office):
    (card_request,) = _ready(clerk, 1)
    appointments.booking_book(card_request_id=card_request.pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY)
    with pytest.raises(errors.QueueingError, match="belum siap cetak"):
        appointments.booking_book(
            card_request_id=card_request.pk, channel="whatsapp", by=clerk, wish=MONDAY, today=TODAY
        )


def test_the_database_refuses_overbooking(clerk, office):
    day = calendar.service_day_get(office=office, day=MONDAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceDay.objects.filter(pk=day.pk).update(booked_total=4, booked_whatsapp=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceDay.objects.filter(pk=day.pk).update(booked_total=1)  # not the sum of the channels


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookers_never_overbook(ponorogo, clerk):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    office = clerk.office
    OpeningHours.objects.create(office=office, weekday=MONDAY.weekday(), opens_at=time(8), closes_at=time(15))
    QuotaDefault.objects.create(office=office, weekday=MONDAY.weekday(), print_capacity=30, whatsapp=30)
    requests = _ready(clerk, 45)
    barrier = threading.Barrier(15)
    outcomes: list[str] = []
    lock = threading.Lock()

    def booker(chunk):
        barrier.wait()
        try:
            for card_request in chunk:
                try:
                    appointments.booking_book(
                        card_request_id=card_request.pk, channel="whatsapp", by=None, wish=MONDAY, today=TODAY
                    )
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
    day = ServiceDay.objects.get(date=MONDAY)
    assert day.booked_total == 30 and day.last_number == 30
    numbers = sorted(Booking.objects.filter(day=day).values_list("number", flat=True))
    assert numbers == list(range(1, 31))


def test_supervisor_may_exceed_the_print_capacity_for_urgent_and_it_is_logged(clerk, supervisor, office, client):
    requests = _ready(clerk, 4)
    for card_request, channel in zip(requests[:3], ["whatsapp", "whatsapp", "walk_in"], strict=True):
        appointments.booking_book(card_request_id=card_request.pk, channel=channel, by=clerk, wish=MONDAY, today=TODAY)
    urgent = requests[3]
    CardRequest.objects.filter(pk=urgent.pk).update(urgent_status="approved", is_urgent=True)
    with pytest.raises(errors.QueueingError, match="kepala bidang"):
        appointments.booking_book_over_capacity(card_request_id=urgent.pk, by=clerk, wish=MONDAY, today=TODAY)
    client.force_login(supervisor)
    client.post(f"/permohonan/{urgent.pk}/jadwal/", {"channel": "whatsapp", "wish": MONDAY.isoformat()})
    assert not Booking.objects.filter(card_request=urgent).exists()  # full, and no override asked
    client.post(
        f"/permohonan/{urgent.pk}/jadwal/", {"channel": "whatsapp", "wish": MONDAY.isoformat(), "over_capacity": "on"}
    )
    day = ServiceDay.objects.get(date=MONDAY)
    assert (day.print_capacity, day.booked_total, day.capacity_overrides) == (4, 4, 1)
    assert urgent.events.filter(action="over_capacity", by=supervisor).exists()


def test_administrators_see_only_their_offices_quotas_in_the_admin(client, administrator, office, ponorogo):
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    from queueing.admin import QuotaDefaultAdmin
    from registry.models import Office, Region

    Region.objects.get_or_create(
        code="35.01", defaults={"level": 2, "kind": "kabupaten", "parent_id": "35", "name": "PACITAN", "decree": "-"}
    )
    foreign = Office.objects.create(kind="disdukcapil", region_id="35.01", name="Disdukcapil Pacitan")
    QuotaDefault.objects.create(office=foreign, weekday=0, print_capacity=1)
    request = RequestFactory().get("/admin/queueing/quotadefault/")
    request.user = administrator
    visible = QuotaDefaultAdmin(QuotaDefault, site).get_queryset(request)
    assert set(visible.values_list("office_id", flat=True)) == {office.pk}
    client.force_login(administrator)
    assert client.get("/admin/queueing/quotadefault/").status_code == 200
