"""The coming days: the calendar's figures against hand-counted bookings, closures with their reasons, closed
weekdays, defaults for days not yet materialised (and no row created by a GET), a fixed number of queries,
the scope; the list of who is expected on a day (masked NIKs, totals, scope)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from queueing import planning
from queueing.models import Booking, Closure, QuotaDefault, ServiceDay
from registry.models import Office
from tests.conftest import DESA_A, DESA_B, KEC_A
from tests.dates import SATURDAY, THURSDAY, WEDNESDAY, next_weekday
from tests.factories import CardRequestFactory, ResidentFactory, UserFactory, appointment_for, open_calendar
from tests.other_office import clerk_of_another_kabupaten


@pytest.fixture
def office(clerk, frozen_now):
    """Open Monday to Friday: 10 print places, 5 WhatsApp, 3 walk-in, 2 invitation, 2 UPTD."""
    open_calendar(clerk.office, print_capacity=10, whatsapp=5, walk_in=3, invitation=2, uptd=2)
    return clerk.office


@pytest.fixture
def wednesday(frozen_today):
    return next_weekday(frozen_today, WEDNESDAY, after=True)


def _booked(day, *, channel="whatsapp", desa=DESA_A, **resident):
    card_request = CardRequestFactory(ready=True, resident=ResidentFactory(desa_id=desa, **resident))
    return appointment_for(card_request, day=day, channel=channel)


def _day(response, day):
    return next(d for d in response.context["calendar"].days if d.date == day)


def _figure(calendar_day, channel):
    return next(f for f in calendar_day.channels if f.channel == channel)


def test_calendar_figures_match_hand_counted_bookings(client, clerk, office, wednesday):
    for _ in range(3):
        _booked(wednesday)
    _booked(wednesday, channel="invitation")
    _booked(wednesday, channel="uptd")
    client.force_login(clerk)
    response = client.get("/kalender/")
    assert response.status_code == 200
    day = _day(response, wednesday)
    assert (day.taken, day.print_capacity, day.left) == (5, 10, 5)
    assert (_figure(day, "whatsapp").taken, _figure(day, "whatsapp").left) == (3, 2)
    assert (_figure(day, "invitation").taken, _figure(day, "invitation").left) == (1, 1)
    assert (_figure(day, "uptd").taken, _figure(day, "uptd").left) == (1, 1)
    assert (_figure(day, "walk_in").taken, _figure(day, "walk_in").left) == (0, 3)
    cell = response.content.decode().split(f'data-testid="day-{wednesday.isoformat()}"')[1].split("</td>")[0]
    assert "<strong>5</strong>/10" in cell
    assert f'href="/kalender/{wednesday.isoformat()}/"' in cell


def test_a_channel_left_is_capped_by_the_print_places_left(client, clerk, frozen_now, wednesday):
    open_calendar(clerk.office, print_capacity=4, whatsapp=5, walk_in=3)
    for _ in range(3):
        _booked(wednesday)
    client.force_login(clerk)
    day = _day(client.get("/kalender/"), wednesday)
    assert _figure(day, "whatsapp").left == 1  # quota 5 − 3 = 2, but only 4 − 3 = 1 print place left
    assert _figure(day, "walk_in").left == 1


def test_days_without_a_row_show_the_weekday_default_and_a_get_creates_none(client, clerk, office, frozen_today):
    thursday = next_weekday(frozen_today, THURSDAY, after=True)
    QuotaDefault.objects.filter(office=office, weekday=THURSDAY).update(walk_in=7)
    rows_before = ServiceDay.objects.count()
    client.force_login(clerk)
    response = client.get("/kalender/")
    day = _day(response, thursday)
    assert not day.materialised
    assert day.is_open and _figure(day, "walk_in").quota == 7 and _figure(day, "walk_in").left == 7
    saturday = _day(response, next_weekday(frozen_today, SATURDAY))
    assert not saturday.weekday_open and not saturday.serves
    assert ServiceDay.objects.count() == rows_before
    assert 'data-testid="closed-weekday"' in response.content.decode()


def test_closures_are_shown_with_their_reasons(client, clerk, office, frozen_today):
    holiday = frozen_today + timedelta(days=9)
    local = frozen_today + timedelta(days=10)
    Closure.objects.create(office=None, date=holiday, name="Maulid Nabi Muhammad", kind="national")
    Closure.objects.create(office=office, date=local, name="Pemadaman listrik", kind="local")
    client.force_login(clerk)
    response = client.get("/kalender/")
    holiday_day, local_day = _day(response, holiday), _day(response, local)
    assert not holiday_day.is_open and not local_day.is_open
    assert "Maulid Nabi Muhammad" in holiday_day.closed_reason and "Libur nasional" in holiday_day.closed_reason
    assert "Pemadaman listrik" in local_day.closed_reason
    html = response.content.decode()
    assert "Libur nasional: Maulid Nabi Muhammad" in html
    assert "Penutupan lokal: Pemadaman listrik" in html


def test_another_office_closure_is_not_this_office(client, clerk, office, frozen_today, uptd_a):
    other_day = frozen_today + timedelta(days=8)
    Closure.objects.create(office=uptd_a.office, date=other_day, name="Rapat UPTD", kind="local")
    client.force_login(clerk)
    assert _day(client.get("/kalender/"), other_day).is_open


def test_the_calendar_covers_at_least_four_weeks_and_pages_by_week(client, clerk, office, frozen_today):
    client.force_login(clerk)
    calendar = client.get("/kalender/").context["calendar"]
    assert calendar.first <= frozen_today and calendar.last >= frozen_today + timedelta(weeks=4)
    assert calendar.first.weekday() == 0 and len(calendar.weeks) == 5 and all(len(w) == 7 for w in calendar.weeks)
    later = client.get("/kalender/?minggu=1").context["calendar"]
    assert later.first == calendar.first + timedelta(weeks=1)
    earlier = client.get("/kalender/?minggu=-1").context["calendar"]
    assert earlier.first == calendar.first - timedelta(weeks=1)
    assert client.get("/kalender/?minggu=x").context["calendar"].first == calendar.first


def test_the_calendar_costs_the_same_queries_whatever_the_bookings(client, clerk, office, wednesday):
    client.force_login(clerk)
    client.get("/kalender/")  # session, permissions cached alike for both runs
    with CaptureQueriesContext(connection) as empty:
        client.get("/kalender/")
    for offset in range(4):
        for _ in range(2):
            _booked(wednesday + timedelta(days=offset * 7))
    Closure.objects.create(office=None, date=wednesday + timedelta(days=1), name="Libur", kind="national")
    with CaptureQueriesContext(connection) as full:
        client.get("/kalender/")
    assert len(full) == len(empty)


# --- scope ----------------------------------------------------------------------------------------------


def test_a_uptd_without_its_own_quota_reads_the_uptd_channel_of_its_office(client, uptd_a, office, wednesday):
    _booked(wednesday, channel="uptd")
    _booked(wednesday)
    client.force_login(uptd_a)
    response = client.get("/kalender/")
    assert response.context["scope"].office == office
    day = _day(response, wednesday)
    assert [f.channel for f in day.channels] == ["uptd"]
    assert _figure(day, "uptd").taken == 1


def test_a_uptd_with_its_own_quota_reads_its_own_calendar(client, uptd_a, office, frozen_today):
    open_calendar(uptd_a.office, print_capacity=20, whatsapp=0, walk_in=20)
    client.force_login(uptd_a)
    response = client.get("/kalender/")
    assert response.context["scope"].office == uptd_a.office
    day = _day(response, next_weekday(frozen_today, THURSDAY, after=True))
    assert _figure(day, "walk_in").quota == 20


def test_a_supervisor_picks_one_of_its_offices_and_no_other(client, supervisor, office, uptd_a):
    open_calendar(uptd_a.office, print_capacity=20, whatsapp=0, walk_in=20)
    client.force_login(supervisor)
    response = client.get(f"/kalender/?kantor={uptd_a.office.pk}")
    assert response.status_code == 200 and response.context["scope"].office == uptd_a.office
    other = clerk_of_another_kabupaten()
    open_calendar(other.office)
    assert client.get(f"/kalender/?kantor={other.office.pk}").status_code == 404
    assert client.get("/kalender/?kantor=abc").status_code == 404


def test_a_uptd_operator_cannot_read_another_kecamatan_or_kabupaten(client, uptd_a, uptd_b, office):
    open_calendar(uptd_a.office, print_capacity=20, whatsapp=0, walk_in=20)
    client.force_login(uptd_b)
    assert client.get(f"/kalender/?kantor={uptd_a.office.pk}").status_code == 404
    other = clerk_of_another_kabupaten()
    assert client.get(f"/kalender/?kantor={other.office.pk}").status_code == 404
    response = client.get("/kalender/")  # its own view: the kabupaten office's UPTD channel
    assert response.status_code == 200 and response.context["scope"].office == office


def test_another_kabupaten_clerk_cannot_read_this_office(client, office, wednesday):
    _booked(wednesday)
    other = clerk_of_another_kabupaten()
    client.force_login(other)
    assert client.get(f"/kalender/?kantor={office.pk}").status_code == 404
    response = client.get(f"/kalender/{wednesday.isoformat()}/?kantor={office.pk}")
    assert response.status_code == 404
    own_list = client.get(f"/kalender/{wednesday.isoformat()}/")
    assert own_list.status_code == 200 and own_list.context["bookings"] == []


# --- who is expected ------------------------------------------------------------------------------------


def test_expected_on_returns_the_days_bookings_by_number_without_cancelled(office, wednesday, clerk):
    first = _booked(wednesday, full_name="ANI")
    second = _booked(wednesday, full_name="BAMBANG")
    cancelled = _booked(wednesday, full_name="CANDRA")
    _booked(wednesday + timedelta(days=1), full_name="DEWI")
    Booking.objects.filter(pk=cancelled.pk).update(status=Booking.Status.CANCELLED)
    Booking.objects.filter(pk=second.pk).update(status=Booking.Status.NO_SHOW)
    bookings = list(planning.expected_on(office=office, day=wednesday))
    assert [b.pk for b in bookings] == [first.pk, second.pk]
    with CaptureQueriesContext(connection) as queries:
        names = [b.card_request.resident.full_name for b in planning.expected_on(office=office, day=wednesday)]
    assert names == ["ANI", "BAMBANG"] and len(queries) == 1


def test_the_day_list_shows_masked_niks_states_and_totals(client, clerk, office, wednesday, time_machine):
    first = _booked(wednesday, full_name="SRI WAHYUNI")
    _booked(wednesday, full_name="AGUS SALIM", channel="invitation")
    Booking.objects.filter(pk=first.pk).update(
        status=Booking.Status.CHECKED_IN, checked_in_at=first.created_at, call_status="served"
    )
    client.force_login(clerk)
    response = client.get(f"/kalender/{wednesday.isoformat()}/")
    assert response.status_code == 200
    html = response.content.decode()
    resident = first.card_request.resident
    assert resident.masked_nik in html and resident.nik not in html
    assert "SRI WAHYUNI" in html and "AGUS SALIM" in html
    assert response.context["totals"] == {"all": 2, "expected": 1, "checked_in": 1, "served": 1, "no_show": 0}
    assert f'href="/permohonan/{first.card_request_id}/"' in html
    assert office.name in html and wednesday.strftime("%d-%m-%Y") in html
    stylesheet = Path(settings.BASE_DIR, "static/css/planning.css").read_text()
    assert "@media print" in stylesheet and "planning.css" in html


def test_a_uptd_operator_sees_only_its_kecamatan_on_the_day_list(client, uptd_a, uptd_b, office, wednesday):
    ours = _booked(wednesday, channel="uptd", desa=DESA_A, full_name="WARGA SLAHUNG")
    theirs = _booked(wednesday, channel="uptd", desa=DESA_B, full_name="WARGA NGRAYUN")
    _booked(wednesday, channel="whatsapp", desa=DESA_A)
    assert ours.card_request.kecamatan_id == KEC_A
    client.force_login(uptd_a)
    response = client.get(f"/kalender/{wednesday.isoformat()}/")
    assert [b.pk for b in response.context["bookings"]] == [ours.pk]
    client.force_login(uptd_b)
    response = client.get(f"/kalender/{wednesday.isoformat()}/")
    assert [b.pk for b in response.context["bookings"]] == [theirs.pk]
    assert "WARGA SLAHUNG" not in response.content.decode() and "WARGA NGRAYUN" in response.content.decode()


def test_an_impossible_day_in_the_path_is_404(client, clerk, office):
    client.force_login(clerk)
    assert client.get("/kalender/2027-02-30/").status_code == 404
    assert client.get("/kalender/27-02-2027/").status_code == 404


def test_the_calendar_needs_the_calendar_permission(client, office, ponorogo):
    nobody = UserFactory(username="tanpa.peran", office=Office.objects.get(pk=office.pk))
    client.force_login(nobody)
    assert client.get("/kalender/").status_code == 403


def test_the_day_list_costs_the_same_queries_whatever_the_bookings(client, clerk, office, wednesday):
    _booked(wednesday)
    client.force_login(clerk)
    client.get(f"/kalender/{wednesday.isoformat()}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/kalender/{wednesday.isoformat()}/")
    for channel in ("whatsapp",) * 4 + ("invitation",) * 2:
        _booked(wednesday, channel=channel)
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"/kalender/{wednesday.isoformat()}/")
    assert response.context["totals"]["all"] == 7 and len(many) == len(few)
