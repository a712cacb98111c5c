"""Resident import pages for supervisors and administrators: upload, live progress, past imports, reports."""

from __future__ import annotations

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from messaging.system_text import system_text
from registry.importer.columns import COLUMNS
from registry.importer.report import report_csv_chunks, report_xlsx_file
from registry.models import AccessLog, ImportRowError, ResidentImport, mask_number
from registry.scoping import get_visible_or_404
from registry.tasks import run_resident_import
from registry.web import access_log_record

logger = logging.getLogger(__name__)
ALLOWED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")
PREVIEW_ERRORS = 20
_NUMBER_COLUMNS = {alias for c in COLUMNS if c.field in ("nik", "kk_number") for alias in c.aliases}


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Berkas ekspor SIAK (CSV atau XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_SUFFIXES)}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
            raise forms.ValidationError(
                _("Jenis berkas tidak didukung: pakai CSV (.csv, .txt, .tsv) atau XLSX (.xlsx).")
            )
        limit = settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024
        if upload.size > limit:
            raise forms.ValidationError(
                _("Berkas terlalu besar (maksimal %(mb)d MB).") % {"mb": settings.IMPORT_MAX_UPLOAD_MB}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("Berkas kosong."))
        return upload


def _dispatch(request: HttpRequest, job: ResidentImport) -> None:
    """Send the import to a Celery worker. If the broker is down, the import stays queued (the file is
    saved) and the beat task resume_resident_imports sends it once the broker is back."""
    try:
        run_resident_import.delay(job.pk)
    except Exception as exc:  # kombu raises several types for an unreachable broker
        logger.warning("resident import %s not sent to the broker: %s", job.pk, type(exc).__name__)
        messages.warning(
            request,
            _("Antrean tugas sedang tidak tersedia. Berkas sudah tersimpan; impor dimulai otomatis begitu pulih."),
        )


def _imports_of(user):
    return ResidentImport.objects.visible_to(user).select_related("created_by")


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required("registry.import_resident", raise_exception=True)
def import_list(request: HttpRequest) -> HttpResponse:
    """Upload an export, and the office's past imports with their outcome."""
    user = request.user
    if user.office is None:
        raise PermissionDenied
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        if _imports_of(user).filter(office=user.office).active().exists():
            messages.error(request, _("Masih ada impor yang berjalan untuk kantor ini; tunggu sampai selesai."))
        else:
            upload = form.cleaned_data["file"]
            with transaction.atomic():
                job = ResidentImport.objects.create(
                    office=user.office,
                    created_by=user,
                    file=upload,
                    file_name=upload.name[:255],
                    file_size=upload.size,
                )
            # Outside the atomic block: runs at once, unless a caller holds a transaction (then at its commit).
            transaction.on_commit(lambda: _dispatch(request, job))
            return redirect("registry:import_detail", pk=job.pk)
    context = {
        "form": form,
        "imports": _imports_of(user)[:50],
        "columns": COLUMNS,
    }
    return render(request, "registry/import_list.html", context)


def _preview_errors(job: ResidentImport) -> list[dict]:
    rows = ImportRowError.objects.filter(resident_import=job).order_by("row_number", "id")[:PREVIEW_ERRORS]
    preview = []
    for error in rows:
        value = error.value
        if error.column_name.upper().replace(" ", "_").replace(".", "") in _NUMBER_COLUMNS:
            value = mask_number(value)  # a short or long "NIK" is still someone's number
        preview.append({"row": error.row_number, "column": error.column_name, "value": value, "reason": error.reason})
    return preview


@never_cache
@require_GET
@permission_required("registry.import_resident", raise_exception=True)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One import: a progress card polled by htmx while it runs, then its outcome and refused rows."""
    job = get_visible_or_404(_imports_of(request.user), request.user, pk=pk)
    errors = _preview_errors(job) if not job.is_active else []
    context = {"job": job, "errors": errors, "retention_days": settings.IMPORT_REPORT_RETENTION_DAYS}
    if request.htmx:
        return render(request, "registry/_import_progress.html", context)
    return render(request, "registry/import_detail.html", context)


@require_POST
@permission_required("registry.import_resident", raise_exception=True)
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_visible_or_404(_imports_of(request.user), request.user, pk=pk)
    if job.is_active:
        ResidentImport.objects.filter(pk=job.pk).update(cancel_requested=True)
        messages.info(request, _("Permintaan batal dikirim; impor berhenti setelah bagian yang sedang disimpan."))
    return redirect("registry:import_detail", pk=job.pk)


@never_cache
@require_GET
@permission_required("registry.import_resident", raise_exception=True)
def import_report(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The refused rows as CSV or XLSX. It holds NIKs, so each download is written to the access log."""
    job = get_visible_or_404(_imports_of(request.user), request.user, pk=pk)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    access_log_record(
        request,
        action=AccessLog.Action.EXPORT,
        detail=system_text(gettext_noop("Laporan baris ditolak impor #%(id)s (%(fmt)s)"), id=job.pk, fmt=fmt.upper()),
    )
    name = f"baris-ditolak-impor-{job.pk}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(report_csv_chunks(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return FileResponse(
        report_xlsx_file(job),
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@require_GET
@permission_required("registry.import_resident", raise_exception=True)
def import_sample(request: HttpRequest) -> HttpResponse:
    """The sample export from docs/ (synthetic people), to show the expected columns."""
    path = settings.BASE_DIR / "docs" / "samples" / "contoh-ekspor-siak.csv"
    if not path.exists():
        raise Http404
    return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name, content_type="text/csv")
