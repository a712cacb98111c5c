"""Queueing's errors; the message is for the clerk or the resident, in their language."""

from __future__ import annotations

from datetime import date

from queueing.models import Booking


class QueueingError(Exception):
    """A refused booking action; the message is for the clerk or the resident."""


class DayUnavailable(QueueingError):
    """The wished day is closed or full; `next_free` is the first day with room for that channel."""

    def __init__(self, message: str, *, next_free: date | None) -> None:
        super().__init__(message)
        self.next_free = next_free


class QuotaExhausted(QueueingError):
    """No place left today for this channel."""


class AlreadyCheckedIn(QueueingError):
    """The booking was checked in before; the message says when."""


class WrongDay(QueueingError):
    """The resident came on another day than booked; the message says which."""

    def __init__(self, message: str, *, booking: Booking) -> None:
        super().__init__(message)
        self.booking = booking


class StockShort(QueueingError):
    """Not enough blank cards for what was asked."""


class DuplicateReceipt(QueueingError):
    """A receipt of blanks with this reference was recorded before: one delivery counts once."""


class QuotaRefused(QueueingError):
    """A quota, capacity or opening-hours change that would break a rule (below what is already booked, a channel
    above the print capacity); `errors` maps each form field to its message. Nothing was changed."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors
