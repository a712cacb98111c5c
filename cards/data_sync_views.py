"""SINKRONISASI pages: the list (open ones oldest first, by status, with the age of the oldest open request),
a request's page with the checks and a clerk's steps, and the form for one brought in person or by phone.

Every lookup goes through the user's scope (404 outside it); every change goes through cards/data_sync.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cards import data_sync
from cards.forms import DataSyncForm, DataSyncStepForm
from cards.models import CentralStatus, DataSyncRequest
from cards.workflow import CardRequestError, central_status_of
from registry import clock
from registry.scoping import get_visible_or_404
from registry.web import client_ip

Status = DataSyncRequest.Status
OPEN = "terbuka"
# The list's filter: its query value, the statuses it shows, its label.
FILTERS = {
    OPEN: (DataSyncRequest.OPEN_STATUSES, gettext_lazy("Semua yang terbuka")),
    Status.RECEIVED: ({Status.RECEIVED}, Status.RECEIVED.label),
    Status.DOCUMENTS_REQUESTED: ({Status.DOCUMENTS_REQUESTED}, Status.DOCUMENTS_REQUESTED.label),
    Status.SYNCHRONISED: ({Status.SYNCHRONISED}, Status.SYNCHRONISED.label),
    Status.REFUSED: ({Status.REFUSED}, Status.REFUSED.label),
}
SHOWN = 200


@never_cache
@require_GET
@permission_required("cards.view_datasyncrequest", raise_exception=True)
def datasync_list(request: HttpRequest) -> HttpResponse:
    """Open requests oldest first (the first of a NIK keeps its place), or one status; decided ones newest
    decision first."""
    user = request.user
    visible = DataSyncRequest.objects.visible_to(user)
    chosen = request.GET.get("status") or OPEN
    if chosen not in FILTERS:
        chosen = OPEN
    statuses, _label = FILTERS[chosen]
    counts = dict(visible.values_list("status").annotate(n=Count("id")).order_by())
    rows = visible.filter(status__in=statuses).select_related("resident", "contact")
    open_only = set(statuses) <= DataSyncRequest.OPEN_STATUSES
    rows = rows.order_by("received_at", "id") if open_only else rows.order_by("-decided_at", "-id")
    oldest = visible.open().aggregate(at=Min("received_at"))["at"]
    tabs = [(key, str(label), sum(counts.get(s, 0) for s in wanted)) for key, (wanted, label) in FILTERS.items()]
    return render(
        request,
        "cards/datasync_list.html",
        {
            "rows": rows[:SHOWN],
            "tabs": tabs,
            "chosen": chosen,
            "open_only": open_only,
            "oldest": oldest,
            "now": clock.now(),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required("cards.add_datasyncrequest", raise_exception=True)
def datasync_create(request: HttpRequest) -> HttpResponse:
    """Record a SINKRONISASI brought to the counter (or received on a phone): the NIK+KK match is an audited
    lookup; a NIK with an open request is sent to that one."""
    user = request.user
    form = DataSyncForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sync = data_sync.data_sync_open(
                office=user.office, by=user, client_address=client_ip(request), **form.cleaned_data
            )
        except data_sync.DataSyncDuplicate as exc:
            messages.warning(request, str(exc))
            return redirect("cards:datasync_detail", pk=exc.existing.pk)
        except data_sync.DataSyncInvalid as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        except CardRequestError as exc:
            form.add_error(None, str(exc))
        else:
            done = _("Permohonan sinkronisasi %(reference)s dicatat.") % {"reference": sync.reference}
            messages.success(request, done)
            if sync.resident_id is None:
                messages.warning(request, _("NIK dan nomor KK tidak cocok dengan data penduduk mana pun."))
            return redirect("cards:datasync_detail", pk=sync.pk)
    return render(request, "cards/datasync_create.html", {"form": form})


@never_cache
@require_GET
@permission_required("cards.view_datasyncrequest", raise_exception=True)
def datasync_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The request, what the office knows of the resident it matched, and the steps this user may take."""
    sync = get_visible_or_404(
        DataSyncRequest.objects.select_related(
            "office", "resident__desa", "resident__kecamatan", "contact", "recorded_by", "decided_by",
            "documents_requested_by",
        ),
        request.user,
        pk=pk,
    )  # fmt: skip
    resident = sync.resident
    central = central_status_of(resident) if resident is not None else None
    return render(
        request,
        "cards/datasync_detail.html",
        {
            "sync": sync,
            "resident": resident,
            "central": central,
            "central_label": CentralStatus(central).label if central else "",
            "moves": data_sync.data_sync_moves_for(sync, request.user),
            "now": clock.now(),
        },
    )


def _step(request: HttpRequest, pk: int, act, done: str) -> HttpResponse:
    sync = get_visible_or_404(DataSyncRequest.objects.all(), request.user, pk=pk)
    form = DataSyncStepForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Formulir tidak lengkap; muat ulang halaman."))
        return redirect("cards:datasync_detail", pk=sync.pk)
    try:
        act(
            sync_id=sync.pk,
            by=request.user,
            text=form.cleaned_data["note"],
            expected=form.cleaned_data["expected_status"],
        )
    except CardRequestError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("cards:datasync_detail", pk=sync.pk)


@require_POST
@permission_required("cards.decide_datasyncrequest", raise_exception=True)
def datasync_request_documents(request: HttpRequest, pk: int) -> HttpResponse:
    def act(*, sync_id, by, text, expected):
        data_sync.data_sync_request_documents(sync_id=sync_id, by=by, note=text, expected_status=expected)

    return _step(request, pk, act, _("Permintaan dokumen dikirim ke penduduk."))


@require_POST
@permission_required("cards.decide_datasyncrequest", raise_exception=True)
def datasync_mark_synchronised(request: HttpRequest, pk: int) -> HttpResponse:
    def act(*, sync_id, by, text, expected):
        data_sync.data_sync_mark_synchronised(sync_id=sync_id, by=by, note=text, expected_status=expected)

    return _step(request, pk, act, _("Ditandai sudah disinkronkan; penduduk diberi tahu."))


@require_POST
@permission_required("cards.decide_datasyncrequest", raise_exception=True)
def datasync_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    def act(*, sync_id, by, text, expected):
        data_sync.data_sync_refuse(sync_id=sync_id, by=by, reason=text, expected_status=expected)

    return _step(request, pk, act, _("Permohonan ditolak; penduduk diberi tahu alasannya."))
