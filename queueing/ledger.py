"""The blank-card ledger over a date range: the movements of an office, oldest first, and the stock before the
range, so that every line can show the stock after it (the page's export, `queueing:blank_ledger_export`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from queueing.models import BlankMovement
from registry import clock
from registry.models import Office
from registry.widgets import DateField


class BlankLedgerForm(forms.Form):
    """The ledger's date range (the office's local days, both included); either end may stay open."""

    date_from = DateField(label=gettext_lazy("Dari tanggal"), required=False)
    date_to = DateField(label=gettext_lazy("Sampai tanggal"), required=False)

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("Tanggal akhir tidak boleh sebelum tanggal awal."))
        return cleaned


def ledger_movements(
    *, office: Office, date_from: date | None = None, date_to: date | None = None
) -> tuple[QuerySet[BlankMovement], int]:
    """The office's movements recorded within the range (by `created_at`, in the office's days), oldest first,
    and the stock before the range. Invariant: opening + the sum of the rows = the stock after the range, as
    the stock is the sum of every movement (BlankMovement)."""
    zone = clock.zone_of(office)
    movements = BlankMovement.objects.filter(office=office)
    opening = 0
    if date_from:
        start = datetime.combine(date_from, time.min, tzinfo=zone)
        movements = movements.filter(created_at__gte=start)
        before = BlankMovement.objects.filter(office=office, created_at__lt=start).aggregate(total=Sum("quantity"))
        opening = before["total"] or 0
    if date_to:
        movements = movements.filter(
            created_at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)
        )
    rows = movements.select_related("created_by", "card_request", "print_batch").order_by("created_at", "id")
    return rows, opening
