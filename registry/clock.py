"""The one place the code reads the clock. Tests set "now" with time-machine; nothing else calls
`timezone.now()`, `date.today()` or `datetime.now()` (tests/test_architecture.py checks).

"Today" is an office's local date: Indonesia spans three time zones (WIB, WITA, WIT), and an office's day,
its day-end job and its queue numbers follow its own wall clock.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import Protocol

from django.conf import settings
from django.utils import timezone


class HasTimeZone(Protocol):
    time_zone: str


def now() -> datetime:
    """The current instant (aware, UTC)."""
    return timezone.now()


def zone_of(office: HasTimeZone | None) -> zoneinfo.ZoneInfo:
    name = getattr(office, "time_zone", "") or settings.TIME_ZONE
    return zoneinfo.ZoneInfo(name)


def local_now(office: HasTimeZone | None = None) -> datetime:
    """The wall-clock time at the office (the project's default zone without one)."""
    return timezone.localtime(now(), zone_of(office))


def today(office: HasTimeZone | None = None) -> date:
    """The office's local date (the project's default zone without an office)."""
    return local_now(office).date()
