from __future__ import annotations

from celery import shared_task

from registry.models import SavedSearch


@shared_task
def purge_saved_searches() -> int:
    """Delete search criteria (which may hold a NIK) older than a day. Idempotent."""
    deleted, _ = SavedSearch.objects.expired().delete()
    return deleted


@shared_task(acks_late=True, soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)
def run_resident_import(import_id: int) -> str:
    """Run an uploaded import to its end. Takes the id only (no file content, no NIK, in the broker).

    A redelivered task (worker lost mid-run) starts the import over, which is safe: merged rows are found
    unchanged. An import that already ended is left alone. The uploaded file is deleted at the end.
    """
    from registry.importer.engine import import_residents
    from registry.models import ResidentImport

    job = ResidentImport.objects.filter(pk=import_id).select_related("office").first()
    if job is None or job.status in (ResidentImport.Status.DONE, ResidentImport.Status.FAILED):
        return "skipped"
    if job.status == ResidentImport.Status.CANCELLED or job.cancel_requested:
        ResidentImport.objects.filter(pk=job.pk).update(status=ResidentImport.Status.CANCELLED)
    elif job.file and job.file.storage.exists(job.file.name):
        job = import_residents(job, job.file.path)
    else:
        ResidentImport.objects.filter(pk=job.pk).update(
            status=ResidentImport.Status.FAILED, message="Berkas unggahan tidak ditemukan; unggah ulang."
        )
    if job.file:
        job.file.delete(save=False)
        ResidentImport.objects.filter(pk=job.pk).update(file="")
    return ResidentImport.objects.values_list("status", flat=True).get(pk=job.pk)
