"""Indonesian date phrases read by intake.dates.parse_day, from a fixed `today` (the function reads no clock)."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from intake.dates import looks_like_day, parse_day

TODAY = date(2026, 6, 30)  # a Tuesday


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


DATES = [
    # numeric
    ("5/7/2026", date(2026, 7, 5)),
    ("05-07-26", date(2026, 7, 5)),
    ("05072026", date(2026, 7, 5)),
    ("050726", date(2026, 7, 5)),
    ("5.7.2026", date(2026, 7, 5)),
    ("5 - 7 - 2026", date(2026, 7, 5)),
    ("5 7 2026", date(2026, 7, 5)),
    ("2026-07-05", date(2026, 7, 5)),
    ("5/7", date(2026, 7, 5)),
    ("tanggal 5/7", date(2026, 7, 5)),
    ("tgl. 5-7-2026", date(2026, 7, 5)),
    ("15", date(2026, 7, 15)),
    ("tgl 30", date(2026, 6, 30)),
    ("5/7/2018", date(2018, 7, 5)),  # past: returned as understood, the caller answers with the window
    # day and month names
    ("5 Juli 2026", date(2026, 7, 5)),
    ("5 Jul", date(2026, 7, 5)),
    ("5 juli", date(2026, 7, 5)),
    ("5-Juli-2026", date(2026, 7, 5)),
    ("5 juli '26", date(2026, 7, 5)),
    ("5 Juli th 2026", date(2026, 7, 5)),
    ("Juli 5", date(2026, 7, 5)),
    ("tgl 5 Juli", date(2026, 7, 5)),
    ("Kamis 5 Juli", date(2026, 7, 5)),  # 5 July 2026 is a Sunday: the date wins
    ("Kamis, 5 Juli", date(2026, 7, 5)),
    ("Minggu, 5 Juli 2026", date(2026, 7, 5)),
    ("5 Juli (Minggu)", date(2026, 7, 5)),
    ("Jum'at 3 Juli 2026", date(2026, 7, 3)),
    ("hari Jumat tanggal 3 Juli", date(2026, 7, 3)),
    ("5 Juli 2026 jam 9 pagi", date(2026, 7, 5)),
    ("05 Juli 2026 pukul 09.00 WIB", date(2026, 7, 5)),
    ("5 Juli 2026 09.00", date(2026, 7, 5)),
    ("2 Juli jam 9", date(2026, 7, 2)),
    ("5 Agt", date(2026, 8, 5)),
    ("5 Agu", date(2026, 8, 5)),
    ("5 Agustus", date(2026, 8, 5)),
    ("5 agst 2026", date(2026, 8, 5)),
    ("6 Nop", date(2026, 11, 6)),
    ("6 Nopember 2026", date(2026, 11, 6)),
    ("5 Peb", date(2027, 2, 5)),
    ("5 Pebruari 2027", date(2027, 2, 5)),
    ("5 Febuari", date(2027, 2, 5)),
    ("5 Mrt", date(2027, 3, 5)),
    ("1 Mei", date(2027, 5, 1)),  # no year: the next 1 May not before today
    ("30 Juni", date(2026, 6, 30)),  # today itself
    ("29 Juni", date(2027, 6, 29)),  # yesterday's date without a year: next year
    ("29 Feb", date(2028, 2, 29)),  # the next leap day
    ("17 Agustus 1945", date(1945, 8, 17)),
    # relative words
    ("hari ini", days(0)),
    ("besok", days(1)),
    ("Besok pagi", days(1)),
    ("besuk", days(1)),
    ("lusa", days(2)),
    ("besok lusa", days(2)),
    ("kemarin", days(-1)),
    ("kemarin lusa", days(-2)),
    ("2 hari lagi", days(2)),
    ("tiga hari lagi", days(3)),
    ("dalam 3 hari", days(3)),
    ("dlm 5 hr", days(5)),
    ("2 hr lg", days(2)),
    ("5 hari ke depan", days(5)),
    ("seminggu lagi", days(7)),
    ("dalam 2 minggu", days(14)),
    ("minggu depan", days(7)),
    ("pekan depan", days(7)),
    # weekdays (today is a Tuesday)
    ("senin", date(2026, 7, 6)),
    ("Senin depan", date(2026, 7, 6)),
    ("hari senin", date(2026, 7, 6)),
    ("selasa", date(2026, 7, 7)),  # the same weekday as today: next week's
    ("Selasa ini", date(2026, 6, 30)),
    ("sabtu ini", date(2026, 7, 4)),
    ("jumat", date(2026, 7, 3)),
    ("Minggu", date(2026, 7, 5)),
    ("Jumat minggu depan", date(2026, 7, 10)),
    ("Rabu pekan depan", date(2026, 7, 8)),
    ("Kamis jam 9 pagi", date(2026, 7, 2)),
    # weekday beside a relative word or a bare day number; filler words
    ("besok Kamis", days(1)),  # tomorrow is a Wednesday: "besok" wins
    ("lusa (kamis)", days(2)),
    ("Kamis besok", date(2026, 7, 2)),  # "the coming Thursday"
    ("senin tgl 6", date(2026, 7, 6)),
    ("hari kamis tanggal 2", date(2026, 7, 2)),
    ("tgl 5 bln 7", date(2026, 7, 5)),
    ("tanggal 5 bulan 7 tahun 2026", date(2026, 7, 5)),
    ("5/7 2026", date(2026, 7, 5)),
    ("Senin, 6 Juli 2026 pukul 08.00 WIB", date(2026, 7, 6)),
    ("5 juli 2026 sekitar jam 10", date(2026, 7, 5)),
    ("besok aja ya min", days(1)),
    ("insya allah besok", days(1)),
    ("senin depan bisa?", date(2026, 7, 6)),
    ("kira-kira lusa", days(2)),
    # not one valid day
    ("31 Juni", None),
    ("31 Juni 2026", None),
    ("29 Februari 2027", None),
    ("32 Juli", None),
    ("31/6/2026", None),
    ("5/13/2026", None),
    ("00072026", None),
    ("Juli 2026", None),  # a month, not a day
    ("", None),
    ("   ", None),
    ("blabla", None),
    ("mau tanya", None),
]


@pytest.mark.parametrize(("phrase", "expected"), DATES, ids=[p or "(empty)" for p, _ in DATES])
def test_parse_day(phrase, expected):
    assert parse_day(phrase, today=TODAY) == expected


OTHER_TODAY = date(2026, 12, 28)  # a Monday at the end of the year

AT_YEAR_END = [
    ("5 Jan", date(2027, 1, 5)),
    ("5 Januari", date(2027, 1, 5)),
    ("5/1", date(2027, 1, 5)),
    ("30 Desember", date(2026, 12, 30)),
    ("27 Des", date(2027, 12, 27)),
    ("lusa", date(2026, 12, 30)),
    ("5 hari lagi", date(2027, 1, 2)),
    ("senin", date(2027, 1, 4)),
    ("Senin ini", date(2026, 12, 28)),
    ("minggu depan", date(2027, 1, 4)),
    ("2", date(2027, 1, 2)),
    ("05-01-27", date(2027, 1, 5)),
]


@pytest.mark.parametrize(("phrase", "expected"), AT_YEAR_END, ids=[p for p, _ in AT_YEAR_END])
def test_parse_day_at_the_end_of_the_year(phrase, expected):
    assert parse_day(phrase, today=OTHER_TODAY) == expected


def test_a_leap_year_today_reads_29_february():
    assert parse_day("29 Feb", today=date(2028, 2, 1)) == date(2028, 2, 29)
    assert parse_day("29/2", today=date(2028, 3, 1)) == date(2032, 2, 29)


def test_looks_like_day_tells_a_name_from_a_date_without_dateparser():
    assert looks_like_day("32 Juli", today=TODAY)  # written like a date, though not a valid one
    assert looks_like_day("besok", today=TODAY)
    assert not looks_like_day("Siti Aminah", today=TODAY)
    assert not looks_like_day("Juli Astuti", today=TODAY)


def test_the_whole_table_is_quick():
    """dateparser's first call is slow; the common phrases never reach it. Printed, not asserted."""
    start = time.perf_counter()
    for phrase, _ in DATES:
        parse_day(phrase, today=TODAY)
    print(f"{len(DATES)} phrases in {time.perf_counter() - start:.3f} s")
