"""Supervisor settings in the app: a coming date's quota (never below what is booked, within the print
capacity, under a row lock), each weekday's default and opening hours, local closures; every change kept as
history and shown latest first; only supervisors and administrators of the office."""

from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F

from queueing import errors, quotas
from queueing.models import Closure, OpeningHours, QuotaChange, QuotaDefault, ServiceDay
from tests.dates import MONDAY, SATURDAY, THURSDAY, next_weekday
from tests.factories import CardRequestFactory, ResidentFactory, appointment_for, open_calendar
from tests.other_office import clerk_of_another_kabupaten

URL = "/kalender/kuota/"


@pytest.fixture
def office(supervisor, frozen_now):
    """Open Monday to Friday: 10 print places, 5 WhatsApp, 3 walk-in, 2 invitation, 0 UPTD."""
    open_calendar(supervisor.office, print_capacity=10, whatsapp=5, walk_in=3, invitation=2)
    return supervisor.office


@pytest.fixture
def next_monday(frozen_today):
    return next_weekday(frozen_today, MONDAY, after=True)


def _book(day, channel="whatsapp"):
    return appointment_for(CardRequestFactory(ready=True, resident=ResidentFactory()), day=day, channel=channel)


def _day_post(day, **figures):
    data = {"action": "day", "day": day.strftime("%d-%m-%Y"), "print_capacity": 10, "whatsapp": 5, "walk_in": 3}
    data.update({"invitation": 2, "uptd": 0})
    data.update(figures)
    return data


# --- one coming date ------------------------------------------------------------------------------------


def test_next_mondays_walk_in_quota_is_changed_and_kept_as_history(client, supervisor, office, next_monday):
    client.force_login(supervisor)
    response = client.post(URL, _day_post(next_monday, walk_in=6))
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?day={next_monday.strftime('%d-%m-%Y')}"
    day = ServiceDay.objects.get(office=office, date=next_monday)
    assert (day.cap_walk_in, day.cap_whatsapp, day.print_capacity) == (6, 5, 10)
    change = QuotaChange.objects.get()
    assert (change.day, change.weekday, change.field, change.old_value, change.new_value) == (
        next_monday,
        None,
        "walk_in",
        "3",
        "6",
    )
    assert change.changed_by == supervisor and change.office == office
    page = client.get(URL).content.decode()
    assert 'data-testid="history-row"' in page and "Kuota datang langsung" in page
    (own,) = quotas.coming_own_figures(office=office, after=next_monday - timedelta(days=1))
    assert (own.day, own.differences) == (next_monday, [("Kuota datang langsung", 6, 3)])
    assert 'data-testid="own-figures"' in page
    calendar = client.get("/kalender/").context["calendar"]
    monday = next(d for d in calendar.days if d.date == next_monday)
    assert next(f for f in monday.channels if f.channel == "walk_in").quota == 6


def test_a_quota_below_what_is_booked_is_refused_beside_the_field(client, supervisor, office, next_monday):
    _book(next_monday)
    _book(next_monday)
    client.force_login(supervisor)
    response = client.post(URL, _day_post(next_monday, whatsapp=1))
    assert response.status_code == 200
    form = response.context["day_form"]
    assert "Sudah 2 terjadwal" in " ".join(form.errors["whatsapp"])
    assert 'data-testid="field-error"' in response.content.decode()
    day = ServiceDay.objects.get(office=office, date=next_monday)
    assert day.cap_whatsapp == 5 and not QuotaChange.objects.exists()
    assert client.post(URL, _day_post(next_monday, whatsapp=2)).status_code == 302
    assert ServiceDay.objects.get(pk=day.pk).cap_whatsapp == 2


def test_a_print_capacity_below_the_appointments_and_batch_prints_is_refused(office, supervisor, next_monday):
    _book(next_monday)
    ServiceDay.objects.filter(office=office, date=next_monday).update(batch_printed=3)
    with pytest.raises(errors.QuotaRefused) as refused:
        quotas.service_day_quota_set(
            office=office,
            day=next_monday,
            figures=quotas.Figures(print_capacity=3, whatsapp=1, walk_in=0, invitation=0, uptd=0),
            by=supervisor,
        )
    assert set(refused.value.errors) == {"print_capacity"}
    assert ServiceDay.objects.get(office=office, date=next_monday).print_capacity == 10


def test_a_channel_above_the_print_capacity_is_refused(client, supervisor, office, next_monday):
    client.force_login(supervisor)
    response = client.post(URL, _day_post(next_monday, print_capacity=4, walk_in=5))
    assert response.status_code == 200 and "walk_in" in response.context["day_form"].errors
    assert not ServiceDay.objects.filter(date=next_monday, print_capacity=4).exists()


def test_today_and_past_days_cannot_be_changed(client, supervisor, office, frozen_today):
    client.force_login(supervisor)
    response = client.post(URL, _day_post(frozen_today, walk_in=9))
    assert response.status_code == 200 and "day" in response.context["day_form"].errors
    assert not QuotaChange.objects.exists()


def test_an_unreadable_date_is_a_field_error(client, supervisor, office):
    client.force_login(supervisor)
    response = client.post(URL, {"action": "day", "day": "31-31-2027", "print_capacity": 1})
    assert response.status_code == 200
    assert "hari-bulan-tahun" in " ".join(response.context["day_form"].errors["day"])


def test_a_day_the_office_does_not_serve_gets_no_quota(client, supervisor, office, frozen_today):
    saturday = next_weekday(frozen_today, SATURDAY)
    client.force_login(supervisor)
    response = client.post(URL, _day_post(saturday, walk_in=3))
    assert response.status_code == 200 and "tidak melayani" in " ".join(response.context["day_form"].errors["day"])
    assert not QuotaChange.objects.exists()


def test_picking_a_day_shows_its_current_figures(client, supervisor, office, next_monday):
    client.force_login(supervisor)
    response = client.get(URL, {"day": next_monday.strftime("%d-%m-%Y")})
    assert response.context["day_form"].initial["walk_in"] == 3
    assert not ServiceDay.objects.filter(date=next_monday).exists()  # a GET creates no row


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_booking_at_the_same_moment_cannot_be_overbooked_by_a_lower_quota(ponorogo, supervisor, frozen_today):
    """A booking holds the day's row (its place taken, not yet committed) while the supervisor lowers the
    quota to what was booked before it: the change waits for the row, then sees the booking and is refused."""
    open_calendar(supervisor.office, print_capacity=10, whatsapp=2, walk_in=0)
    monday = next_weekday(frozen_today, MONDAY, after=True)
    _book(monday)
    day = ServiceDay.objects.get(date=monday)
    place_taken, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def booking() -> None:
        try:
            with transaction.atomic():
                # The booking's own compare-and-set on the row (queueing.appointments._take_place).
                taken = ServiceDay.objects.filter(pk=day.pk, booked_whatsapp__lt=F("cap_whatsapp")).update(
                    booked_whatsapp=F("booked_whatsapp") + 1, booked_total=F("booked_total") + 1
                )
                outcome["taken"] = taken
                place_taken.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def lower_quota() -> None:
        try:
            quotas.service_day_quota_set(
                office=supervisor.office,
                day=monday,
                figures=quotas.Figures(print_capacity=10, whatsapp=1, walk_in=0, invitation=0, uptd=0),
                by=supervisor,
            )
            outcome["quota"] = "changed"
        except errors.QuotaRefused as exc:
            outcome["quota"] = exc.errors
        finally:
            connection.close()

    booker = threading.Thread(target=booking)
    booker.start()
    assert place_taken.wait(timeout=30)
    changer = threading.Thread(target=lower_quota)
    changer.start()
    changer.join(timeout=1)  # it waits on the row lock the booking holds
    waited = changer.is_alive()
    release.set()
    booker.join()
    changer.join()
    assert waited and outcome["taken"] == 1
    assert set(outcome["quota"]) == {"whatsapp"}
    day.refresh_from_db()
    assert (day.cap_whatsapp, day.booked_whatsapp) == (2, 2)
    assert not QuotaChange.objects.exists()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_booking_waiting_on_a_quota_change_is_judged_by_the_new_quota(ponorogo, supervisor, frozen_today):
    """The other order: the quota change holds the row; a booking's compare-and-set waits, then finds the new,
    lower quota used up and takes nothing."""
    open_calendar(supervisor.office, print_capacity=10, whatsapp=3, walk_in=0)
    monday = next_weekday(frozen_today, MONDAY, after=True)
    _book(monday)
    day = ServiceDay.objects.get(date=monday)
    outcome: dict[str, int] = {}

    def booking() -> None:
        try:
            outcome["taken"] = ServiceDay.objects.filter(pk=day.pk, booked_whatsapp__lt=F("cap_whatsapp")).update(
                booked_whatsapp=F("booked_whatsapp") + 1, booked_total=F("booked_total") + 1
            )
        finally:
            connection.close()

    with transaction.atomic():
        quotas.service_day_quota_set(
            office=supervisor.office,
            day=monday,
            figures=quotas.Figures(print_capacity=10, whatsapp=1, walk_in=0, invitation=0, uptd=0),
            by=supervisor,
        )
        booker = threading.Thread(target=booking)
        booker.start()
        booker.join(timeout=1)
        assert booker.is_alive()  # blocked on the row the change holds
    booker.join()
    assert outcome["taken"] == 0
    day.refresh_from_db()
    assert (day.cap_whatsapp, day.booked_whatsapp) == (1, 1)


# --- weekday defaults and opening hours -----------------------------------------------------------------


def _weekday_post(office):
    """The whole weekday formset as the page posts it, as the office's calendar stands."""
    data = {"action": "weekdays", "wd-TOTAL_FORMS": 7, "wd-INITIAL_FORMS": 7}
    defaults = {q.weekday: q for q in QuotaDefault.objects.filter(office=office)}
    hours = {h.weekday: h for h in OpeningHours.objects.filter(office=office)}
    for weekday in range(7):
        quota, opening = defaults.get(weekday), hours.get(weekday)
        row = {
            "weekday": weekday,
            "opens_at": opening.opens_at.strftime("%H:%M") if opening else "",
            "closes_at": opening.closes_at.strftime("%H:%M") if opening else "",
            "print_capacity": quota.print_capacity if quota else 0,
        }
        for channel in ("whatsapp", "walk_in", "invitation", "uptd"):
            row[channel] = getattr(quota, channel) if quota else 0
        data.update({f"wd-{weekday}-{key}": value for key, value in row.items()})
    return data


def test_a_weekday_default_reaches_coming_days_not_given_their_own_figure(client, supervisor, office, frozen_today):
    thursday = next_weekday(frozen_today, THURSDAY, after=True)
    later_thursday = thursday + timedelta(days=7)
    _book(thursday)  # materialised with the default
    quotas.service_day_quota_set(
        office=office,
        day=later_thursday,
        figures=quotas.Figures(print_capacity=10, whatsapp=5, walk_in=1, invitation=2, uptd=0),
        by=supervisor,
    )
    client.force_login(supervisor)
    response = client.post(URL, _weekday_post(office) | {f"wd-{THURSDAY}-walk_in": 8})
    assert response.status_code == 302
    assert QuotaDefault.objects.get(office=office, weekday=THURSDAY).walk_in == 8
    assert ServiceDay.objects.get(date=thursday).cap_walk_in == 8
    assert ServiceDay.objects.get(date=later_thursday).cap_walk_in == 1  # its own figure stays
    change = QuotaChange.objects.filter(weekday=THURSDAY).get()
    assert (change.field, change.old_value, change.new_value, change.day) == ("walk_in", "3", "8", None)


def test_opening_a_weekday_with_its_hours_is_history_and_opens_the_calendar(client, supervisor, office, frozen_today):
    saturday = next_weekday(frozen_today, SATURDAY)
    client.force_login(supervisor)
    data = _weekday_post(office) | {
        f"wd-{SATURDAY}-opens_at": "08:00",
        f"wd-{SATURDAY}-closes_at": "12:00",
        f"wd-{SATURDAY}-print_capacity": 50,
        f"wd-{SATURDAY}-walk_in": 50,
    }
    assert client.post(URL, data).status_code == 302
    hours = OpeningHours.objects.get(office=office, weekday=SATURDAY)
    assert (hours.opens_at, hours.closes_at) == (time(8), time(12))
    fields = set(QuotaChange.objects.filter(weekday=SATURDAY).values_list("field", "new_value"))
    assert {("opening_hours", "08:00–12:00"), ("print_capacity", "50"), ("walk_in", "50")} <= fields
    day = next(d for d in client.get("/kalender/").context["calendar"].days if d.date == saturday)
    assert day.serves and day.left == 50


def test_hours_closing_before_opening_are_refused_beside_the_field(client, supervisor, office):
    client.force_login(supervisor)
    data = _weekday_post(office) | {f"wd-{MONDAY}-opens_at": "15:00", f"wd-{MONDAY}-closes_at": "08:00"}
    response = client.post(URL, data)
    assert response.status_code == 200
    assert "closes_at" in response.context["weekday_formset"].forms[MONDAY].errors
    assert OpeningHours.objects.get(office=office, weekday=MONDAY).opens_at == time(8)
    assert not QuotaChange.objects.exists()


# --- local closures -------------------------------------------------------------------------------------


def test_a_local_closure_is_added_and_removed_with_history(client, supervisor, office, next_monday):
    client.force_login(supervisor)
    response = client.post(URL, {"action": "close", "day": next_monday.strftime("%d-%m-%Y"), "reason": "Banjir"})
    assert response.status_code == 302
    assert Closure.objects.get(office=office, date=next_monday).name == "Banjir"
    assert not ServiceDay.objects.get(office=office, date=next_monday).is_open
    assert client.post(URL, {"action": "reopen", "day": next_monday.isoformat()}).status_code == 302
    assert not Closure.objects.filter(office=office, date=next_monday).exists()
    assert ServiceDay.objects.get(office=office, date=next_monday).is_open
    history = list(QuotaChange.objects.values_list("field", "old_value", "new_value"))
    assert history == [("closure", "Banjir", ""), ("closure", "", "Banjir")]  # latest first


def test_a_closure_without_reason_is_a_field_error(client, supervisor, office, next_monday):
    client.force_login(supervisor)
    response = client.post(URL, {"action": "close", "day": next_monday.strftime("%d-%m-%Y"), "reason": ""})
    assert response.status_code == 200 and "reason" in response.context["closure_form"].errors
    assert not Closure.objects.exists()


# --- permission -----------------------------------------------------------------------------------------


def test_only_supervisors_and_administrators_set_quotas(client, clerk, uptd_a, administrator, supervisor, office):
    for user in (clerk, uptd_a):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"action": "day"}).status_code == 403
    for user in (supervisor, administrator):
        client.force_login(user)
        assert client.get(URL).status_code == 200


def test_another_kabupatens_office_is_not_found(client, supervisor, office):
    other = clerk_of_another_kabupaten()
    client.force_login(supervisor)
    assert client.get(URL, {"kantor": other.office.pk}).status_code == 404


def test_closing_a_weekday_keeps_coming_days_that_hold_bookings_open(supervisor, office, frozen_today):
    thursday = next_weekday(frozen_today, THURSDAY, after=True)
    booked_thursday, empty_thursday = thursday, thursday + timedelta(days=7)
    _book(booked_thursday)
    quotas.service_day_quota_set(
        office=office,
        day=empty_thursday,
        figures=quotas.Figures(print_capacity=10, whatsapp=5, walk_in=3, invitation=2, uptd=0),
        by=supervisor,
    )
    quotas.quota_default_set(
        office=office,
        weekday=THURSDAY,
        figures=quotas.Figures(print_capacity=10, whatsapp=5, walk_in=3, invitation=2, uptd=0),
        opens_at=None,
        closes_at=None,
        by=supervisor,
    )
    assert not OpeningHours.objects.filter(office=office, weekday=THURSDAY).exists()
    assert ServiceDay.objects.get(date=booked_thursday).is_open
    assert not ServiceDay.objects.get(date=empty_thursday).is_open
    change = QuotaChange.objects.get(field="opening_hours")
    assert (change.weekday, change.old_value, change.new_value) == (THURSDAY, "08:00–15:00", "")
