from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils.translation import gettext_noop

from messaging.system_text import system_text
from registry import clock
from registry.importer.engine import import_residents
from registry.models import ImportRowError, ResidentImport, SavedSearch


@shared_task
def purge_saved_searches() -> int:
    """Delete search criteria (which may hold a NIK) older than a day. Idempotent."""
    deleted, _ = SavedSearch.objects.expired().delete()
    return deleted


@shared_task(acks_late=True, soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)
def run_resident_import(import_id: int) -> str:
    """Run an uploaded import to its end. Takes the id only (no file content, no NIK, in the broker).

    The task first claims the import with one UPDATE (queued, or running with a dead worker), so a
    duplicate delivery never runs it twice at once. A run taken over from a dead worker starts over, which
    is safe: merged rows are found unchanged. The uploaded file is deleted when the import ends.
    """
    job = ResidentImport.objects.filter(pk=import_id).select_related("office").first()
    if job is None:
        return "missing"
    if job.cancel_requested and job.status == ResidentImport.Status.QUEUED:
        ResidentImport.objects.filter(pk=job.pk).update(status=ResidentImport.Status.CANCELLED)
        _delete_upload(job)
        return ResidentImport.Status.CANCELLED
    now = clock.now()
    claimed = (
        ResidentImport.objects.claimable(now=now)
        .filter(pk=job.pk)
        .update(status=ResidentImport.Status.RUNNING, heartbeat_at=now)
    )
    if not claimed:
        return "skipped"
    if job.file and job.file.storage.exists(job.file.name):
        job = import_residents(job, job.file.path)
    else:
        ResidentImport.objects.filter(pk=job.pk).update(
            status=ResidentImport.Status.FAILED,
            message=system_text(gettext_noop("Berkas unggahan tidak ditemukan; unggah ulang.")),
            finished_at=clock.now(),
        )
    _delete_upload(job)
    return ResidentImport.objects.values_list("status", flat=True).get(pk=job.pk)


def _delete_upload(job) -> None:
    if job.file:
        job.file.delete(save=False)
        type(job).objects.filter(pk=job.pk).update(file="")


@shared_task
def resume_resident_imports() -> int:
    """Send again the imports nobody is running: queued for over a minute (the broker was down when they
    were uploaded) or running with a dead worker. Beat runs this every minute; returns how many were sent."""
    now = clock.now()
    waiting = ResidentImport.objects.claimable(now=now).exclude(
        status=ResidentImport.Status.QUEUED, created_at__gte=now - timedelta(minutes=1)
    )
    ids = list(waiting.values_list("pk", flat=True)[:20])
    for import_id in ids:
        run_resident_import.delay(import_id)
    return len(ids)


@shared_task
def purge_import_reports() -> int:
    """Delete the refused rows (which quote NIKs) of imports that ended more than
    IMPORT_REPORT_RETENTION_DAYS ago; the import's counts stay. Returns the rows deleted."""
    cutoff = clock.now() - timedelta(days=settings.IMPORT_REPORT_RETENTION_DAYS)
    deleted, _ = ImportRowError.objects.filter(resident_import__finished_at__lt=cutoff).delete()
    return deleted
