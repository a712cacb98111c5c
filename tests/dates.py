"""Dates for tests, relative to one fixed "now" (see the `frozen_now` fixture in tests/conftest.py).

A test never writes a calendar date that reaches code reading the clock; it builds dates from FROZEN_NOW
(or from `clock.today()` inside a frozen test) with these helpers, so it passes on any day it runs, and
in `make test`'s second run with the clock moved more than a year ahead.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")  # the project's default zone (settings.TIME_ZONE); Ponorogo's
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)

# The anchor is chosen in a stretch without Indonesian national holidays or cuti bersama (September to
# mid-December 2027), so "the next working days" after it are plain weekdays for weeks.
ANCHOR = date(2027, 9, 1)


def next_weekday(day: date, weekday: int, *, after: bool = False) -> date:
    """The first `weekday` (MONDAY=0 … SUNDAY=6) on or after `day` (strictly after with `after=True`)."""
    start = day + timedelta(days=1) if after else day
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def working_day_after(day: date, count: int = 1) -> date:
    """`count` Monday-to-Friday days after `day` (holidays are not counted out: the anchor avoids them)."""
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < SATURDAY:
            count -= 1
    return day


def at(day: date, hour: int = 9, minute: int = 0, *, zone: ZoneInfo = WIB) -> datetime:
    """An aware instant: `day` at hour:minute on the wall clock of `zone` (WIB unless told)."""
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


FROZEN_TODAY = next_weekday(ANCHOR, MONDAY)  # Monday 6 September 2027
FROZEN_NOW = at(FROZEN_TODAY, 9)  # 09:00 WIB: the office is open
