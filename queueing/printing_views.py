"""Blank-card and printing pages: stock, receipts, spoilage, the ledger, print batches (their page and sheet),
printing one card at the counter, and misprints."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cards.models import CardRequest
from cards.workflow import CardRequestError
from messaging.system_text import system_text
from queueing import errors, printing
from queueing.calendar import service_day_get
from queueing.ledger import BlankLedgerForm
from queueing.models import BlankMovement, PrintBatch
from registry import clock
from registry.models import Office
from registry.scoping import get_visible_or_404
from registry.web import pdf_response
from registry.widgets import DateField


def _office(request: HttpRequest) -> Office:
    office = request.user.office
    if office is None:
        raise PermissionDenied
    return office.head_office


def _batch_or_404(request: HttpRequest, pk: int) -> PrintBatch:
    """A batch of the user's printing office; any other answers 404."""
    batch = PrintBatch.objects.filter(pk=pk, office=_office(request)).select_related("office").first()
    if batch is None:
        raise Http404
    return batch


def _request_or_404(request: HttpRequest, pk: int) -> CardRequest:
    """A request printed by the user's office and within their scope; any other answers 404."""
    return get_visible_or_404(CardRequest.objects.filter(office=_office(request)), request.user, pk=pk)


def _back(request: HttpRequest, default: str, *args: object) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default, *args)


# --- blank stock ----------------------------------------------------------------------------------------


class ReceiptForm(forms.Form):
    quantity = forms.IntegerField(label=gettext_lazy("Jumlah"), min_value=1, max_value=1_000_000)
    reference = forms.CharField(label=gettext_lazy("Nomor/referensi kiriman"), max_length=200)
    received_on = DateField(label=gettext_lazy("Tanggal terima"))

    def __init__(self, *args, office: Office | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.office = office

    def clean_reference(self) -> str:
        """A delivery is received once: its reference must not be on an earlier receipt of the office."""
        reference = printing.receipt_reference_normalise(self.cleaned_data["reference"])
        if self.office is not None and (existing := printing.receipt_recorded(office=self.office, reference=reference)):
            raise forms.ValidationError(printing.receipt_duplicate_message(existing), code="duplicate")
        return reference


class SpoilageForm(forms.Form):
    quantity = forms.IntegerField(label=gettext_lazy("Jumlah"), min_value=1, max_value=1_000_000)
    reason = forms.CharField(label=gettext_lazy("Alasan"), max_length=200)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "id_spoil_%s")  # beside the receipt form's quantity on the same page
        super().__init__(*args, **kwargs)


class PrintDayForm(forms.Form):
    day = DateField(label=gettext_lazy("Tanggal cetak"))

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "id_print_%s")
        super().__init__(*args, **kwargs)


class StoreForm(forms.Form):
    from_day = DateField(label=gettext_lazy("Dapat diambil mulai"))


class MisprintForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Alasan gagal cetak"), max_length=150)


@never_cache
@require_GET
@permission_required("queueing.view_blankstock", raise_exception=True)
def blanks(request: HttpRequest) -> HttpResponse:
    """Blank cards: the stock, receipts and spoilage (supervisors), the ledger, and the print batches."""
    return _blanks_page(request)


def _blanks_page(
    request: HttpRequest,
    *,
    receipt_form: ReceiptForm | None = None,
    spoil_form: SpoilageForm | None = None,
    print_form: PrintDayForm | None = None,
    ledger_form: BlankLedgerForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The blanks page; a form posted from it that was refused comes back bound, its errors beside its fields
    (status 400), and nothing was recorded."""
    office = _office(request)
    today = clock.today(office)
    service_day = service_day_get(office=office, day=today)
    context = {
        "stock": printing.blank_stock_of(office),
        "today": today,
        "places_left": service_day.print_places_left,
        "service_day": service_day,
        "movements": BlankMovement.objects.filter(office=office).select_related("created_by", "card_request")[:50],
        "batches": PrintBatch.objects.filter(office=office).annotate(cards=Count("card_requests"))[:20],
        "receipt_form": receipt_form or ReceiptForm(initial={"received_on": today}),
        "spoil_form": spoil_form or SpoilageForm(),
        "print_form": print_form or PrintDayForm(initial={"day": today}),
        "ledger_form": ledger_form or BlankLedgerForm(initial={"date_from": today.replace(day=1), "date_to": today}),
        "waiting": CardRequest.objects.filter(
            office=office, status=CardRequest.Status.READY_TO_PRINT, route__in=printing.BATCH_ROUTES
        ).count(),
    }
    return render(request, "queueing/blanks.html", context, status=status)


@require_POST
@permission_required("queueing.add_blankmovement", raise_exception=True)
def blanks_receive(request: HttpRequest) -> HttpResponse:
    form = ReceiptForm(request.POST, office=_office(request))
    if not form.is_valid():
        return _blanks_page(request, receipt_form=form, status=400)
    try:
        printing.blanks_receive(office=_office(request), by=request.user, **form.cleaned_data)
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(n)d blangko diterima.") % {"n": form.cleaned_data["quantity"]})
    return redirect("queueing:blanks")


@require_POST
@permission_required("queueing.add_blankmovement", raise_exception=True)
def blanks_spoil(request: HttpRequest) -> HttpResponse:
    form = SpoilageForm(request.POST)
    if not form.is_valid():
        return _blanks_page(request, spoil_form=form, status=400)
    try:
        printing.blanks_spoil(office=_office(request), by=request.user, **form.cleaned_data)
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(n)d blangko dicatat rusak.") % {"n": form.cleaned_data["quantity"]})
    return redirect("queueing:blanks")


# --- print batches (routes 2-4) -------------------------------------------------------------------------


@require_POST
@permission_required("queueing.add_printbatch", raise_exception=True)
def print_batch_create(request: HttpRequest) -> HttpResponse:
    form = PrintDayForm(request.POST)
    if not form.is_valid():
        return _blanks_page(request, print_form=form, status=400)
    try:
        batch = printing.print_batch_create(office=_office(request), day=form.cleaned_data["day"], by=request.user)
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
        return redirect("queueing:blanks")
    messages.success(
        request, _("Batch %(batch)s berisi %(n)d kartu.") % {"batch": batch.number, "n": batch.card_requests.count()}
    )
    return redirect("queueing:print_batch_detail", batch.pk)


def _batch_rows(batch: PrintBatch) -> list[CardRequest]:
    return list(
        batch.card_requests.select_related("resident", "resident__desa", "kecamatan", "pickup_office").order_by(
            "route", "kecamatan_id", "resident__desa_id", "resident__full_name", "id"
        )
    )


@never_cache
@require_GET
@permission_required("queueing.view_blankstock", raise_exception=True)
def print_batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A batch's cards (name, masked NIK, route, desa), and what can be done with it now: print it on its day,
    store its route-2 cards and tell the residents, record a misprint."""
    return _batch_page(request, _batch_or_404(request, pk))


def _batch_page(
    request: HttpRequest, batch: PrintBatch, *, store_form: StoreForm | None = None, status: int = 200
) -> HttpResponse:
    """The batch page; a refused "store" form comes back bound with its error beside the day (status 400)."""
    today = clock.today(batch.office)
    return render(
        request,
        "queueing/printbatch_detail.html",
        {
            "batch": batch,
            "rows": _batch_rows(batch),
            "today": today,
            "can_print": batch.status == PrintBatch.Status.DRAFT and batch.date == today,
            "stale": batch.status == PrintBatch.Status.DRAFT and batch.date < today,
            "to_store": len(printing.print_batch_to_store(batch)),
            "store_form": store_form or StoreForm(initial={"from_day": today}),
            "stock": printing.blank_stock_of(batch.office),
            "places_left": service_day_get(office=batch.office, day=batch.date).print_places_left,
        },
        status=status,
    )


@require_GET
@permission_required("queueing.view_blankstock", raise_exception=True)
def print_batch_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """The batch's sheet on A4: what goes to the printer and where each card goes after (masked NIK). The
    download is logged."""
    batch = _batch_or_404(request, pk)
    return pdf_response(
        request,
        template="queueing/printbatch_sheet.html",
        context={"batch": batch, "rows": _batch_rows(batch), "printed_on": clock.local_now(batch.office)},
        resident=None,
        detail=system_text(gettext_noop("Lembar batch cetak %(batch)s (PDF)"), batch=batch.number),
        filename=f"{batch.number}.pdf",
    )


@require_POST
@permission_required("queueing.change_printbatch", raise_exception=True)
def print_batch_print(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(request, pk)
    try:
        printing.print_batch_print(batch_id=batch.pk, by=request.user)
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Batch %(batch)s dicetak; blangko dan tempat cetak dikurangi.") % {"batch": batch.number}
        )
    return redirect("queueing:print_batch_detail", batch.pk)


@require_POST
@permission_required("cards.verify_cardrequest", raise_exception=True)
def print_batch_store(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Simpan, beri tahu penduduk": the batch's printed route-2 cards are stored for collection."""
    batch = _batch_or_404(request, pk)
    form = StoreForm(request.POST)
    if not form.is_valid():
        return _batch_page(request, batch, store_form=form, status=400)
    try:
        outcome = printing.print_batch_store(batch_id=batch.pk, by=request.user, from_day=form.cleaned_data["from_day"])
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
    else:
        if outcome.stored:
            messages.success(request, _("%(n)d kartu disimpan; penduduk diberi tahu.") % {"n": len(outcome.stored)})
        for number, reason in outcome.refused:
            messages.error(request, f"{number}: {reason}")
        if not outcome.stored and not outcome.refused:
            messages.info(request, _("Tidak ada kartu rute diambil yang menunggu disimpan."))
    return redirect("queueing:print_batch_detail", batch.pk)


# --- route 1: one card at the counter, and misprints ----------------------------------------------------


@require_POST
@permission_required("queueing.change_printbatch", raise_exception=True)
def counter_print(request: HttpRequest, pk: int) -> HttpResponse:
    """Print one card for a resident checked in today; then hand it over from the request page."""
    card_request = _request_or_404(request, pk)
    try:
        printing.counter_print(card_request_id=card_request.pk, by=request.user)
    except (errors.QueueingError, CardRequestError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Kartu %(number)s dicetak. Serahkan kepada pemiliknya sendiri (sidik jari dan aktivasi).")
            % {"number": card_request.number},
        )
    return _back(request, "queueing:counter")


@require_POST
@permission_required("queueing.change_printbatch", raise_exception=True)
def print_misprint(request: HttpRequest, pk: int) -> HttpResponse:
    """A printed card came out wrong: spoil its blank with the reason and print it again."""
    card_request = _request_or_404(request, pk)
    form = MisprintForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tulis alasan gagal cetak."))
    else:
        try:
            printing.print_misprint(
                card_request_id=card_request.pk, reason=form.cleaned_data["reason"], by=request.user
            )
        except errors.QueueingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Blangko %(number)s dicatat rusak; kartu dicetak ulang.") % {"number": card_request.number}
            )
    return _back(request, "cards:cardrequest_detail", card_request.pk)
