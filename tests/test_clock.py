"""The one clock (registry.clock): an office's "today" follows its own time zone; offices get their zone from
their province; the test clock helpers (frozen_now, the shifted session) do what tests/conftest.py says."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.utils import timezone

from registry import clock
from registry.admin import OfficeAdmin
from registry.models import Office, TimeZone, time_zone_of_region
from registry.offices import offices_create_for_kabupaten
from registry.regions import region_codes, regions_load
from tests.dates import (
    FRIDAY,
    FROZEN_NOW,
    FROZEN_TODAY,
    MONDAY,
    SATURDAY,
    WIB,
    WIT,
    WITA,
    at,
    next_weekday,
    working_day_after,
)

CLOCK_SHIFT_DAYS = int(os.environ.get("TEST_CLOCK_SHIFT_DAYS") or 0)


def _real_time() -> float:
    """The wall clock, whatever time-machine is doing."""
    escape = time_machine.escape_hatch
    return escape.time.time() if escape.is_travelling() else time.time()


def _office(zone: str) -> Office:
    return Office(name="kantor", time_zone=zone)  # unsaved: the clock needs only the zone


# --- an office's day ----------------------------------------------------------------------------------------


def test_a_wit_office_is_already_in_tomorrow_at_half_past_eleven_wib(time_machine):
    time_machine.move_to(at(FROZEN_TODAY, 23, 30, zone=WIB), tick=False)
    jayapura, ponorogo, makassar = _office(TimeZone.WIT), _office(TimeZone.WIB), _office(TimeZone.WITA)
    assert clock.today(ponorogo) == FROZEN_TODAY
    assert clock.today(makassar) == FROZEN_TODAY + timedelta(days=1)  # 00:30 WITA
    assert clock.today(jayapura) == FROZEN_TODAY + timedelta(days=1)  # 01:30 WIT
    assert clock.local_now(jayapura).hour == 1 and clock.local_now(jayapura).tzinfo.key == "Asia/Jayapura"
    assert clock.today() == FROZEN_TODAY  # no office: the project's zone (WIB)


def test_a_wib_office_is_still_in_yesterday_when_jayapura_opens(time_machine):
    time_machine.move_to(at(FROZEN_TODAY, 7, 30, zone=WIT), tick=False)  # 05:30 WIB
    assert clock.today(_office(TimeZone.WIT)) == FROZEN_TODAY
    assert clock.local_now(_office(TimeZone.WIB)).hour == 5
    time_machine.move_to(at(FROZEN_TODAY, 5, 30, zone=WIT), tick=False)  # 03:30 WIB, 04:30 WITA
    assert clock.today(_office(TimeZone.WITA)) == FROZEN_TODAY


def test_now_is_one_aware_instant_whatever_the_office(frozen_now):
    assert clock.now() == FROZEN_NOW == timezone.now()
    assert timezone.is_aware(clock.now())
    assert clock.local_now(_office(TimeZone.WIT)) == clock.local_now(_office(TimeZone.WIB)) == FROZEN_NOW


@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("35.02", TimeZone.WIB),  # Ponorogo, Jawa Timur
        ("11.01.01", TimeZone.WIB),  # Aceh
        ("61.71", TimeZone.WIB),  # Pontianak: Kalimantan Barat keeps WIB
        ("62.71", TimeZone.WIB),  # Palangka Raya: Kalimantan Tengah too
        ("63.71", TimeZone.WITA),  # Banjarmasin
        ("64.72", TimeZone.WITA),  # Samarinda
        ("65.01", TimeZone.WITA),  # Kalimantan Utara
        ("51.71", TimeZone.WITA),  # Denpasar
        ("53.71", TimeZone.WITA),  # Kupang
        ("73.71.01", TimeZone.WITA),  # Makassar
        ("76.01", TimeZone.WITA),  # Sulawesi Barat
        ("81.71", TimeZone.WIT),  # Ambon
        ("82.71", TimeZone.WIT),  # Ternate
        ("91.71", TimeZone.WIT),  # Kota Jayapura
        ("96.71", TimeZone.WIT),  # Sorong, Papua Barat Daya
    ],
)
def test_time_zone_of_region_follows_the_province(code, zone):
    assert time_zone_of_region(code) == zone


def test_offices_of_a_papuan_kabupaten_keep_wit(db):
    regions_load(within="91.71")
    region_codes.cache_clear()
    head, branches = offices_create_for_kabupaten(kabupaten_code="91.71")
    assert head.time_zone == TimeZone.WIT
    assert branches and {branch.time_zone for branch in branches} == {TimeZone.WIT}
    region_codes.cache_clear()


def test_ponorogos_offices_are_wib(ponorogo):
    assert set(Office.objects.values_list("time_zone", flat=True)) == {TimeZone.WIB}


# --- the admin shows the office's settings --------------------------------------------------------------


def test_office_admin_lists_and_edits_the_time_zone(administrator, client):
    admin = OfficeAdmin(Office, site)
    assert "time_zone" in admin.list_display and "time_zone" in admin.list_filter
    request = RequestFactory().get("/admin/registry/office/")
    request.user = administrator
    shown = {name for _title, options in admin.get_fieldsets(request) for name in options["fields"]}
    editable = {f.name for f in Office._meta.get_fields() if getattr(f, "editable", False) and not f.auto_created}
    assert editable - {"id"} <= shown, "an office setting is missing from the admin form"
    client.force_login(administrator)
    page = client.get("/admin/registry/office/").content.decode()
    assert "WIB (UTC+7)" in page
    office = administrator.office
    form = client.get(f"/admin/registry/office/{office.pk}/change/").content.decode()
    assert 'name="time_zone"' in form and "WIT (UTC+9)" in form


# --- the test clock itself ---------------------------------------------------------------------------------


def test_frozen_now_is_a_monday_morning_in_wib_and_stands_still(frozen_now, frozen_today):
    assert frozen_now.weekday() == MONDAY and frozen_now.hour == 9 and frozen_now.tzinfo == WIB
    assert clock.today() == frozen_today == FROZEN_TODAY
    time.sleep(0.01)
    assert clock.now() == frozen_now


def test_frozen_now_moves_with_time_machine(frozen_now, time_machine):
    time_machine.shift(timedelta(days=1, hours=8))
    assert clock.local_now() == at(FROZEN_TODAY + timedelta(days=1), 17)


def test_date_helpers():
    assert next_weekday(FROZEN_TODAY, MONDAY) == FROZEN_TODAY
    assert next_weekday(FROZEN_TODAY, MONDAY, after=True) == FROZEN_TODAY + timedelta(days=7)
    assert next_weekday(FROZEN_TODAY, FRIDAY) == FROZEN_TODAY + timedelta(days=4)
    friday = next_weekday(FROZEN_TODAY, FRIDAY)
    assert working_day_after(friday) == FROZEN_TODAY + timedelta(days=7)
    assert working_day_after(FROZEN_TODAY, 5) == FROZEN_TODAY + timedelta(days=7)
    assert next_weekday(FROZEN_TODAY, SATURDAY).weekday() == SATURDAY
    assert at(FROZEN_TODAY, 23, 30, zone=WITA).utcoffset() == timedelta(hours=8)


def test_the_session_clock_runs_the_shift_asked_for():
    """With TEST_CLOCK_SHIFT_DAYS=N the whole session runs N days ahead of the wall clock (0 in the normal run)."""
    real = _real_time()
    assert round((time.time() - real) / 86_400) == CLOCK_SHIFT_DAYS
    assert round((clock.now().timestamp() - real) / 86_400) == CLOCK_SHIFT_DAYS


def test_a_test_that_sets_its_time_is_not_shifted():
    with time_machine.travel(FROZEN_NOW, tick=False):
        assert clock.now() == FROZEN_NOW
    real = _real_time()
    assert round((clock.now().timestamp() - real) / 86_400) == CLOCK_SHIFT_DAYS  # back to the session's clock
