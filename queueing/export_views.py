"""Spreadsheets of the printing office's lists: a print batch's cards, the blank-card ledger over a date range,
and a day's expected appointments. Each is the page's own rows, through registry/exports.py (streamed, formulas
neutralised, masked NIK, one access-log row per download)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from messaging.system_text import system_text
from queueing.ledger import BlankLedgerForm, ledger_movements
from queueing.models import BlankMovement, Booking, CallStatus
from queueing.planning_views import expected_for
from queueing.printing_views import _batch_or_404, _blanks_page, _office
from registry.exports import Column, describe_filters, export_response

# --- a print batch --------------------------------------------------------------------------------------

BATCH_COLUMNS = [
    Column(gettext_lazy("No."), lambda pair: pair[0]),
    Column(gettext_lazy("Nomor"), lambda pair: pair[1].number),
    Column(gettext_lazy("Penduduk"), lambda pair: pair[1].resident.full_name),
    Column(gettext_lazy("NIK"), lambda pair: pair[1].resident.masked_nik),
    Column(gettext_lazy("Rute"), lambda pair: pair[1].get_route_display()),
    Column(gettext_lazy("Kecamatan"), lambda pair: pair[1].kecamatan.name),
    Column(gettext_lazy("Desa"), lambda pair: pair[1].resident.desa.name),
    Column(gettext_lazy("Tujuan"), lambda pair: pair[1].pickup_office.name),
    Column(gettext_lazy("Mendesak"), lambda pair: pair[1].is_urgent),
    Column(gettext_lazy("Status"), lambda pair: pair[1].get_status_display()),
]


def _numbered(rows: Iterable) -> Iterator[tuple[int, object]]:
    return enumerate(rows, start=1)


@never_cache
@require_GET
@permission_required("queueing.view_blankstock", raise_exception=True)
def printbatch_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    """A batch's cards in the order of its sheet (route, kecamatan, desa, name), with the masked NIK."""
    batch = _batch_or_404(request, pk)
    rows = batch.card_requests.select_related("resident", "resident__desa", "kecamatan", "pickup_office").order_by(
        "route", "kecamatan_id", "resident__desa_id", "resident__full_name", "id"
    )
    return export_response(
        request,
        fmt=fmt,
        rows=rows,
        columns=BATCH_COLUMNS,
        what=system_text(gettext_noop("Batch cetak %(batch)s"), batch=batch.number),
        slug=f"batch-cetak-{batch.pk}",
        office=batch.office,
        filters={_("Tanggal cetak"): batch.date.strftime("%d-%m-%Y"), _("Status"): batch.get_status_display()},
        day=batch.date,
        wrap=_numbered,
    )


# --- the blank ledger -----------------------------------------------------------------------------------


LEDGER_COLUMNS = [
    Column(gettext_lazy("Dicatat"), lambda pair: pair[0].created_at),
    Column(gettext_lazy("Tanggal"), lambda pair: pair[0].received_on),
    Column(gettext_lazy("Jenis"), lambda pair: pair[0].get_kind_display()),
    Column(gettext_lazy("Jumlah"), lambda pair: pair[0].quantity),
    Column(gettext_lazy("Saldo"), lambda pair: pair[1]),
    Column(gettext_lazy("Referensi/alasan"), lambda pair: pair[0].reference),
    Column(gettext_lazy("Permohonan"), lambda pair: pair[0].card_request.number if pair[0].card_request_id else ""),
    Column(gettext_lazy("Batch cetak"), lambda pair: pair[0].print_batch.number if pair[0].print_batch_id else ""),
    Column(gettext_lazy("Petugas"), lambda pair: pair[0].created_by.username),
]


def _with_balance(opening: int):
    """Each movement with the stock after it, counted on from the stock before the range."""

    def wrap(rows: Iterable[BlankMovement]) -> Iterator[tuple[BlankMovement, int]]:
        balance = opening
        for movement in rows:
            balance += movement.quantity
            yield movement, balance

    return wrap


@never_cache
@require_GET
@permission_required("queueing.view_blankstock", raise_exception=True)
def blank_ledger_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """The office's blank-card ledger, oldest first, within `date_from`..`date_to` (DD-MM-YYYY, office days),
    with the stock after each line. An unreadable range shows the blanks page with the error beside the field
    (status 400) and exports nothing."""
    office = _office(request)
    form = BlankLedgerForm(request.GET)
    if not form.is_valid():
        return _blanks_page(request, ledger_form=form, status=400)
    rows, opening = ledger_movements(office=office, **form.cleaned_data)
    filters = describe_filters(form)
    if form.cleaned_data.get("date_from"):
        filters[_("Saldo awal")] = str(opening)
    return export_response(
        request,
        fmt=fmt,
        rows=rows,
        columns=LEDGER_COLUMNS,
        what=system_text(gettext_noop("Mutasi blangko")),
        slug="mutasi-blangko",
        office=office,
        filters=filters,
        wrap=_with_balance(opening),
    )


# --- a day's expected appointments ----------------------------------------------------------------------


def _arrival(booking: Booking) -> str:
    if booking.status == Booking.Status.CHECKED_IN:
        return _("Ya")
    if booking.status == Booking.Status.NO_SHOW:
        return _("Tidak hadir")
    return _("Belum")


def _served(booking: Booking) -> str:
    if booking.call_status == CallStatus.SERVED:
        return _("Ya")
    return booking.get_call_status_display() if booking.call_status else ""


DAY_COLUMNS = [
    Column(gettext_lazy("No."), lambda b: b.label),
    Column(gettext_lazy("Nama"), lambda b: b.card_request.resident.full_name),
    Column(gettext_lazy("NIK"), lambda b: b.card_request.resident.masked_nik),
    Column(gettext_lazy("Desa/kelurahan"), lambda b: b.card_request.resident.desa.name),
    Column(gettext_lazy("Saluran"), lambda b: b.get_channel_display()),
    Column(gettext_lazy("Hadir"), _arrival),
    Column(gettext_lazy("Jam hadir"), lambda b: b.checked_in_at),
    Column(gettext_lazy("Dilayani"), _served),
    Column(gettext_lazy("Permohonan"), lambda b: b.card_request.number),
]


@never_cache
@require_GET
@permission_required("queueing.view_calendar", raise_exception=True)
def day_export(request: HttpRequest, day: date, fmt: str) -> HttpResponseBase:
    """Who is expected on `day` (the rows of `queueing:day_expected`, same office choice `?kantor=` and the
    same narrowing to the user's scope and channels), by queue number, with the masked NIK."""
    scope, office, bookings = expected_for(request, day)
    return export_response(
        request,
        fmt=fmt,
        rows=bookings,
        columns=DAY_COLUMNS,
        what=system_text(gettext_noop("Daftar kedatangan %(day)s"), day=day.strftime("%d-%m-%Y")),
        slug="kedatangan",
        office=office,
        filters={_("Kantor"): scope.office.name},
        day=day,
    )
