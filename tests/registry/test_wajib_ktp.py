"""Who must hold an e-KTP (wajib KTP) and who may be recorded: age 17 / 16, or married or ever married
(UU 24/2013 art. 63). Every rule takes the day; the days here are fixed, never the clock."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from registry.models import MaritalStatus, anniversary
from tests.factories import ResidentFactory

BORN = date(2008, 6, 15)  # 16 on 15-06-2024, 17 on 15-06-2025
LEAP_BORN = date(2008, 2, 29)  # 16 on 29-02-2024 (a leap year), 17 on 01-03-2025
ONE_DAY = timedelta(days=1)
EVER_MARRIED = [MaritalStatus.MARRIED, MaritalStatus.DIVORCED, MaritalStatus.WIDOWED]


def resident(born: date = BORN, status: str = "") -> object:
    return ResidentFactory.build(birth_date=born, marital_status=status)


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (date(2025, 6, 14), 16),
        (date(2025, 6, 15), 17),
        (date(2025, 6, 16), 17),
        (date(2008, 6, 15), 0),
    ],
)
def test_age_counts_a_year_on_the_birthday(day, age):
    assert resident().age_on(day) == age


@pytest.mark.parametrize(
    ("day", "wajib"),
    [(date(2025, 6, 14), False), (date(2025, 6, 15), True), (date(2025, 6, 16), True)],
)
def test_unmarried_resident_becomes_wajib_ktp_on_the_17th_birthday(day, wajib):
    assert resident().is_wajib_ktp_on(day) is wajib


@pytest.mark.parametrize(
    ("day", "may_record"),
    [(date(2024, 6, 14), False), (date(2024, 6, 15), True), (date(2024, 6, 16), True)],
)
def test_recording_may_start_on_the_16th_birthday(day, may_record):
    assert resident().may_record_on(day) is may_record


def test_wajib_ktp_from_is_the_17th_birthday():
    assert resident().wajib_ktp_from() == date(2025, 6, 15)


def test_leap_day_birthday_turns_17_on_the_first_of_march():
    leapling = resident(LEAP_BORN)
    assert leapling.wajib_ktp_from() == date(2025, 3, 1)
    assert leapling.is_wajib_ktp_on(date(2025, 2, 28)) is False
    assert leapling.is_wajib_ktp_on(date(2025, 3, 1)) is True
    assert leapling.age_on(date(2025, 2, 28)) == 16


def test_leap_day_birthday_may_record_on_the_29th_in_a_leap_year():
    leapling = resident(LEAP_BORN)
    assert leapling.may_record_on(date(2024, 2, 28)) is False
    assert leapling.may_record_on(date(2024, 2, 29)) is True
    assert leapling.may_record_on(date(2023, 3, 1)) is False  # 15


@pytest.mark.parametrize("born", [BORN, LEAP_BORN, date(2007, 12, 31), date(2009, 1, 1), date(2007, 3, 1)])
def test_wajib_ktp_from_is_the_first_day_is_wajib_ktp_on_says_yes(born):
    person = resident(born)
    first = person.wajib_ktp_from()
    assert person.is_wajib_ktp_on(first - ONE_DAY) is False
    assert person.is_wajib_ktp_on(first) is True


@pytest.mark.parametrize("status", EVER_MARRIED)
def test_married_or_ever_married_at_15_is_wajib_ktp_and_may_record(status):
    fifteen = date(2023, 9, 1)
    person = resident(status=status)
    assert person.age_on(fifteen) == 15
    assert person.is_wajib_ktp_on(fifteen) is True
    assert person.may_record_on(fifteen) is True
    assert person.wajib_ktp_from() is None


@pytest.mark.parametrize("status", [MaritalStatus.NEVER_MARRIED, ""])
def test_never_married_or_unknown_at_15_is_neither(status):
    fifteen = date(2023, 9, 1)
    person = resident(status=status)
    assert person.is_wajib_ktp_on(fifteen) is False
    assert person.may_record_on(fifteen) is False
    assert person.wajib_ktp_from() == date(2025, 6, 15)


def test_anniversary_of_a_leap_day_in_a_leap_year_stays_on_the_29th():
    assert anniversary(LEAP_BORN, 16) == date(2024, 2, 29)
    assert anniversary(LEAP_BORN, 17) == date(2025, 3, 1)
