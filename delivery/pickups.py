"""Route 2: printed cards stored at the office and not yet collected, and for how long. The handover itself is
the clerk's move ready for pickup → handed over on the request page (fingerprint check and activation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import OuterRef, QuerySet, Subquery

from cards.models import CardRequest, CardRequestEvent
from registry import clock
from registry.models import Office, User

S = CardRequest.Status


def pickups_waiting(
    user: User, *, office: Office, kecamatan: str = "", min_days: int | None = None
) -> QuerySet[CardRequest]:
    """Cards ready for pickup at `office`, within the user's scope, the longest stored first; each with
    `printed_at` (its latest move to printed). `min_days`: stored at least that many days."""
    printed_at = (
        CardRequestEvent.objects.filter(
            card_request=OuterRef("pk"), action=CardRequestEvent.Action.STATUS, to_status=S.PRINTED
        )
        .order_by("-at")
        .values("at")[:1]
    )
    queryset = (
        CardRequest.objects.visible_to(user)
        .filter(status=S.READY_FOR_PICKUP, pickup_office=office)
        .select_related("resident", "resident__desa", "kecamatan")
        .annotate(printed_at=Subquery(printed_at))
        .order_by("status_changed_at", "id")
    )
    if kecamatan:
        queryset = queryset.filter(kecamatan_id=kecamatan)
    if min_days:
        queryset = queryset.filter(status_changed_at__lte=clock.now() - timedelta(days=min_days))
    return queryset


@dataclass(frozen=True)
class Waiting:
    card_request: CardRequest
    days_since_printed: int | None
    days_stored: int


def _days(since: datetime | None, office: Office, today: date) -> int | None:
    if since is None:
        return None
    return (today - since.astimezone(clock.zone_of(office)).date()).days


def with_days(rows: list[CardRequest], *, office: Office) -> list[Waiting]:
    """Each row with its days since printed and since stored, counted in the office's calendar days."""
    today = clock.today(office)
    return [
        Waiting(
            card_request=row,
            days_since_printed=_days(row.printed_at, office, today),
            days_stored=_days(row.status_changed_at, office, today) or 0,
        )
        for row in rows
    ]
