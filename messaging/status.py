"""What the WhatsApp Cloud API says became of a message (its status callbacks), applied to the outbox row.

Callbacks arrive in any order and more than once: a "read" can come without a "delivered", a late "delivered"
after the "read", a "sent" after either. A row's state only moves forward (pending < sent < delivered < read)
and each timestamp keeps the first value it got. Each callback is one UPDATE whose CASE reads the row's state
at that instant, so two callbacks processed at once cannot undo each other (no read, decide and save).

This app sits below the clock (registry/clock.py): the callback's own time is what is recorded.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, DateTimeField, F, Value, When
from django.db.models.functions import Coalesce

from messaging.models import Notification

S = Notification.Status
# What each callback may move a row from (anything else is left as it is).
_SENT_FROM = (S.PENDING,)
# A delivery or a read is proof the message arrived, whatever a worker or an earlier callback concluded.
_DELIVERED_FROM = (S.PENDING, S.SENT, S.FAILED, S.DEAD)
_READ_FROM = (S.PENDING, S.SENT, S.DELIVERED, S.FAILED, S.DEAD)
# A failure is recorded only over a message not known to have arrived.
_FAILED_FROM = (S.PENDING, S.SENT)

# Cloud API status values; "played" is a voice message listened to (a read). Others ("deleted", …) are ignored.
_CALLBACK_STATUS = {"sent": S.SENT, "delivered": S.DELIVERED, "read": S.READ, "played": S.READ, "failed": S.FAILED}


def _first(field: str, at: datetime) -> Coalesce:
    return Coalesce(F(field), Value(at, output_field=DateTimeField()))


def _moved(to: str, sources: tuple[str, ...]) -> Case:
    return Case(When(status__in=sources, then=Value(to)), default=F("status"))


def notification_status_apply(*, provider_message_id: str, status: str, at: datetime, error: str = "") -> bool:
    """Apply one status callback to the row sent as `provider_message_id`. Invariant: the row never goes
    backwards (module docstring); "failed" records `error` (the caller's code and title) as the last error.
    Returns whether a row matched (False: not one of ours, or not yet known as sent)."""
    if not provider_message_id:
        return False
    rows = Notification.objects.filter(provider_message_id=provider_message_id)
    target = _CALLBACK_STATUS.get((status or "").lower())
    if target is None:
        return rows.exists()
    changes: dict[str, object] = {} if target == S.FAILED else {"sent_at": _first("sent_at", at)}
    if target == S.SENT:
        changes["status"] = _moved(S.SENT, _SENT_FROM)
    elif target == S.DELIVERED:
        changes["status"] = _moved(S.DELIVERED, _DELIVERED_FROM)
        changes["delivered_at"] = _first("delivered_at", at)
    elif target == S.READ:
        changes["status"] = _moved(S.READ, _READ_FROM)
        changes["delivered_at"] = _first("delivered_at", at)  # a read without a delivered was delivered too
        changes["read_at"] = _first("read_at", at)
    else:
        reason = (error or "failed").strip()[: Notification._meta.get_field("last_error").max_length]
        changes["status"] = _moved(S.FAILED, _FAILED_FROM)
        changes["last_error"] = Case(
            When(status__in=_FAILED_FROM, then=Value(reason)),
            default=F("last_error"),
            output_field=Notification._meta.get_field("last_error"),
        )
    return rows.update(**changes) > 0
