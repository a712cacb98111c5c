"""Blank-card pages: stock, receipts, spoilage, the ledger, and print batches."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cards.models import CardRequest
from queueing import errors, printing
from queueing.models import BlankMovement, BlankStock, PrintBatch


def _office(request: HttpRequest):
    office = request.user.office
    if office is None:
        raise PermissionDenied
    return office.head_office


# --- blank stock and print batches ----------------------------------------------------------------------


class ReceiptForm(forms.Form):
    quantity = forms.IntegerField(label=gettext_lazy("Jumlah"), min_value=1, max_value=1_000_000)
    reference = forms.CharField(label=gettext_lazy("Nomor/referensi kiriman"), max_length=200)
    received_on = forms.DateField(label=gettext_lazy("Tanggal terima"), widget=forms.DateInput(attrs={"type": "date"}))


class SpoilageForm(forms.Form):
    quantity = forms.IntegerField(label=gettext_lazy("Jumlah"), min_value=1, max_value=1_000_000)
    reason = forms.CharField(label=gettext_lazy("Alasan"), max_length=200)


class PrintDayForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Tanggal layanan"), widget=forms.DateInput(attrs={"type": "date"}))


@never_cache
@require_GET
@permission_required("queueing.view_blankstock", raise_exception=True)
def blanks(request: HttpRequest) -> HttpResponse:
    """Blank cards: the stock, receipts and spoilage (supervisors), the ledger, and the print lists."""
    office = _office(request)
    stock = BlankStock.objects.filter(office=office).first()
    context = {
        "stock": stock.quantity if stock else 0,
        "movements": BlankMovement.objects.filter(office=office).select_related("created_by")[:50],
        "batches": PrintBatch.objects.filter(office=office).annotate(cards=Count("card_requests"))[:20],
        "receipt_form": ReceiptForm(initial={"received_on": timezone.localdate()}),
        "spoilage_form": SpoilageForm(),
        "print_form": PrintDayForm(initial={"day": timezone.localdate()}),
        "scheduled_today": CardRequest.objects.filter(
            status=CardRequest.Status.SCHEDULED, bookings__office=office, bookings__date=timezone.localdate()
        ).count(),
    }
    return render(request, "queueing/blanks.html", context)


@require_POST
@permission_required("queueing.add_blankmovement", raise_exception=True)
def blanks_receive(request: HttpRequest) -> HttpResponse:
    form = ReceiptForm(request.POST)
    if form.is_valid():
        try:
            printing.blanks_receive(office=_office(request), by=request.user, **form.cleaned_data)
        except errors.QueueingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("%(n)d blangko diterima.") % {"n": form.cleaned_data["quantity"]})
    else:
        messages.error(request, _("Isi jumlah, referensi dan tanggal kiriman blangko."))
    return redirect("queueing:blanks")


@require_POST
@permission_required("queueing.add_blankmovement", raise_exception=True)
def blanks_spoil(request: HttpRequest) -> HttpResponse:
    form = SpoilageForm(request.POST)
    if form.is_valid():
        try:
            printing.blanks_spoil(office=_office(request), by=request.user, **form.cleaned_data)
        except errors.QueueingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("%(n)d blangko dicatat rusak.") % {"n": form.cleaned_data["quantity"]})
    else:
        messages.error(request, _("Isi jumlah dan alasan blangko rusak."))
    return redirect("queueing:blanks")


@require_POST
@permission_required("queueing.add_printbatch", raise_exception=True)
def print_batch_create(request: HttpRequest) -> HttpResponse:
    form = PrintDayForm(request.POST)
    if form.is_valid():
        try:
            batch = printing.print_batch_create(office=_office(request), day=form.cleaned_data["day"], by=request.user)
        except errors.QueueingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Daftar cetak %(n)d kartu dibuat.") % {"n": batch.card_requests.count()})
    return redirect("queueing:blanks")


@require_POST
@permission_required("queueing.change_printbatch", raise_exception=True)
def print_batch_print(request: HttpRequest, pk: int) -> HttpResponse:
    batch = PrintBatch.objects.filter(pk=pk, office=_office(request)).first()
    if batch is None:
        raise Http404
    try:
        printing.print_batch_print(batch_id=batch.pk, by=request.user)
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Batch dicetak; stok blangko dikurangi."))
    return redirect("queueing:blanks")
