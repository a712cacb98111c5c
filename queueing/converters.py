"""Path converters of queueing's URLs."""

from __future__ import annotations

from datetime import date


class IsoDateConverter:
    """A day in a path as YYYY-MM-DD (`<isodate:day>`), given to the view as a date; an impossible date
    (2027-02-30) does not match: 404."""

    regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def to_python(self, value: str) -> date:
        return date.fromisoformat(value)  # ValueError: the pattern does not match

    def to_url(self, value: date | str) -> str:
        return value.isoformat() if isinstance(value, date) else date.fromisoformat(value).isoformat()
