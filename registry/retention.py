"""How long a resident's change history is kept (UU PDP 27/2022 art. 43-44). Each ResidentChange row holds the
values a resident's record had before an import or a correction changed them (a former name, address, KK or
WhatsApp number): personal data that is no longer current. The register itself is SIAK's; this history serves
to trace what an import changed and to answer a resident's question about it, for
RESIDENT_CHANGE_RETENTION_DAYS. The access log (AccessLog) is not purged here or anywhere in the app: it is
append-only, and only the database owner archives it (README, "Retention").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from registry.models import ResidentChange

BATCH = 1000


def resident_changes_purge(*, now: datetime) -> int:
    """Delete change-history rows made more than RESIDENT_CHANGE_RETENTION_DAYS before `now`. Invariant: the
    resident and younger history rows are untouched. Idempotent; returns the rows deleted."""
    cutoff = now - timedelta(days=settings.RESIDENT_CHANGE_RETENTION_DAYS)
    expired = ResidentChange.objects.filter(changed_at__lt=cutoff)
    deleted = 0
    while ids := list(expired.order_by("pk").values_list("pk", flat=True)[:BATCH]):
        deleted += expired.filter(pk__in=ids).delete()[0]
    return deleted
