from __future__ import annotations

from celery import shared_task

from registry.models import SavedSearch


@shared_task
def purge_saved_searches() -> int:
    """Delete search criteria (which may hold a NIK) older than a day. Idempotent."""
    deleted, _ = SavedSearch.objects.expired().delete()
    return deleted
