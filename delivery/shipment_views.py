"""Route 4 pages: the Pos COD shipments list (to ship, in transit, closed), and the actions shared with the
request page's shipment panel: ship with a tracking number, record delivered, record failed or returned."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cards.models import CardKind, CardRequest, Route
from cards.views import cardrequest_detail_refused
from cards.workflow import CardRequestError
from delivery import shipments
from delivery.models import Shipment
from delivery.services import DeliveryError
from registry.models import User
from registry.scoping import get_visible_or_404

PERMISSION = "cards.verify_cardrequest"  # shipping is a clerk's processing of the request
# Kinds whose old card the courier collects on delivery (their handover requirement).
OLD_CARD_KINDS = (CardKind.RUSAK, CardKind.UBAH_DATA)


class ShipForm(forms.Form):
    tracking_number = forms.CharField(label=gettext_lazy("Nomor resi Pos"), max_length=60)


class DeliveredForm(forms.Form):
    old_card_collected = forms.BooleanField(label=gettext_lazy("KTP lama sudah diterima kurir"), required=False)


class FailedForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Hasil"),
        choices=[(s.value, s.label) for s in shipments.FAILURE_OUTCOMES],
    )
    reason = forms.CharField(label=gettext_lazy("Alasan dari Pos"), max_length=300)


def shipment_context(user: User, card_request: CardRequest) -> dict:
    """What the request page shows about Pos: the shipments, and the forms the services would accept now."""
    allowed = user.has_perm(PERMISSION)
    active = shipments.shipment_active(card_request)
    return {
        "shipments": list(Shipment.objects.filter(card_request=card_request)),
        "can_ship": allowed and card_request.route == Route.POST and card_request.status == CardRequest.Status.PRINTED,
        "ship_form": ShipForm(),
        "active_shipment": active if allowed else None,
        "cod_fee": f"{card_request.office.cod_fee:,}".replace(",", "."),
        "asks_old_card": card_request.kind in OLD_CARD_KINDS,
        "failure_outcomes": shipments.FAILURE_OUTCOMES,
    }


def _request_or_404(request: HttpRequest, pk: int) -> CardRequest:
    return get_visible_or_404(CardRequest.objects.select_related("office"), request.user, pk=pk)


def _back(request: HttpRequest, card_request: CardRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("cards:cardrequest_detail", pk=card_request.pk)


@never_cache
@require_GET
@permission_required(PERMISSION, raise_exception=True)
def shipment_list(request: HttpRequest) -> HttpResponse:
    """Printed route-4 cards to ship, shipments in transit (oldest first), and the latest closed ones."""
    office = request.user.office
    if office is None:
        raise PermissionDenied
    office = office.head_office
    visible = Shipment.objects.visible_to(request.user).filter(office=office).select_related("card_request__resident")
    to_ship = (
        CardRequest.objects.visible_to(request.user)
        .filter(office=office, route=Route.POST, status=CardRequest.Status.PRINTED)
        .select_related("resident")
        .order_by("status_changed_at", "id")
    )
    return render(
        request,
        "delivery/shipment_list.html",
        {
            "to_ship": list(to_ship[:200]),
            "in_transit": list(visible.filter(status=Shipment.Status.SHIPPED).order_by("shipped_at", "id")[:200]),
            "closed": list(visible.exclude(status=Shipment.Status.SHIPPED).order_by("-closed_at", "-id")[:50]),
            "cod_fee": f"{office.cod_fee:,}".replace(",", "."),
            "old_card_kinds": OLD_CARD_KINDS,
            "failure_outcomes": shipments.FAILURE_OUTCOMES,
        },
    )


@require_POST
@permission_required(PERMISSION, raise_exception=True)
def shipment_create(request: HttpRequest, pk: int) -> HttpResponse:
    card_request = _request_or_404(request, pk)
    form = ShipForm(request.POST)
    if not form.is_valid():
        # The request page again, the tracking number's error beside it (400); nothing shipped.
        return cardrequest_detail_refused(request, card_request, ship_form_bound=form)
    try:
        shipment = shipments.shipment_create(
            card_request_id=card_request.pk, tracking_number=form.cleaned_data["tracking_number"], by=request.user
        )
    except (DeliveryError, CardRequestError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(number)s dikirim lewat Pos, resi %(tracking)s; penduduk diberi tahu (COD Rp %(fee)s).")
            % {"number": card_request.number, "tracking": shipment.tracking_number, "fee": shipment.fee_text},
        )
    return _back(request, card_request)


def _active_or_message(request: HttpRequest, card_request: CardRequest) -> Shipment | None:
    shipment = shipments.shipment_active(card_request)
    if shipment is None:
        messages.error(request, _("Tidak ada kiriman Pos yang sedang berjalan untuk permohonan ini."))
    return shipment


@require_POST
@permission_required(PERMISSION, raise_exception=True)
def shipment_delivered(request: HttpRequest, pk: int) -> HttpResponse:
    card_request = _request_or_404(request, pk)
    shipment = _active_or_message(request, card_request)
    if shipment is not None:
        form = DeliveredForm(request.POST)
        form.is_valid()
        try:
            shipments.shipment_delivered(
                shipment_id=shipment.pk,
                by=request.user,
                old_card_collected=form.cleaned_data.get("old_card_collected", False),
            )
        except (DeliveryError, CardRequestError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("%(number)s diterima lewat Pos; permohonan selesai.") % {"number": card_request.number}
            )
    return _back(request, card_request)


@require_POST
@permission_required(PERMISSION, raise_exception=True)
def shipment_failed(request: HttpRequest, pk: int) -> HttpResponse:
    card_request = _request_or_404(request, pk)
    shipment = _active_or_message(request, card_request)
    if shipment is not None:
        form = FailedForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Pilih hasil dan tulis alasan dari Pos."))
            return _back(request, card_request)
        try:
            shipments.shipment_failed(shipment_id=shipment.pk, by=request.user, **form.cleaned_data)
        except (DeliveryError, CardRequestError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("%(number)s kembali ke kantor: siap diambil sendiri oleh penduduk (sudah diberi tahu).")
                % {"number": card_request.number},
            )
    return _back(request, card_request)
