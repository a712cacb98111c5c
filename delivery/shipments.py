"""Route 4: printed cards shipped by Pos Indonesia cash-on-delivery.

A shipment is kept minimal (tracking number, the COD fee copied from the office setting, delivered / failed /
returned); labels, reconciliation and tracking imports come later. The card's status moves through
cards.workflow as the shipment process: printed → shipped, shipped → handed over (by post: the courier hands it
over, never an in-person attestation), shipped → ready for pickup (back at the office; the workflow puts the
request on route 2).
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cards.models import Actor, CardRequest, CardRequestEvent, Handover
from cards.services import requirement_tick
from cards.workflow import HandoverInfo, Message, actor_of, card_move, unticked_handover
from delivery.models import Shipment
from delivery.services import DeliveryError
from messaging.system_text import system_text
from registry import clock
from registry.models import User

S = CardRequest.Status
# Pos Indonesia resi: letters and digits (e.g. P2301230012345), spaces and dashes dropped.
_TRACKING = re.compile(r"^[A-Z0-9]{6,40}$")


def tracking_number_clean(value: str) -> str:
    tracking = re.sub(r"[\s-]", "", value or "").upper()
    if not _TRACKING.match(tracking):
        raise DeliveryError(_("Nomor resi Pos: 6 sampai 40 huruf atau angka."))
    return tracking


def _fee_text(fee: int) -> str:
    return f"{fee:,}".replace(",", ".")


def _clerk(by: User) -> None:
    if actor_of(by) != Actor.CLERK:
        raise DeliveryError(_("Pengiriman Pos dicatat oleh petugas kabupaten."))


def _locked_active(shipment_id: int) -> Shipment:
    shipment = Shipment.objects.select_for_update().select_related("card_request").get(pk=shipment_id)
    if shipment.status != Shipment.Status.SHIPPED:
        raise DeliveryError(
            _("Kiriman %(tracking)s sudah dicatat: %(status)s.")
            % {"tracking": shipment.tracking_number, "status": shipment.get_status_display()}
        )
    return shipment


def shipment_active(card_request: CardRequest) -> Shipment | None:
    return Shipment.objects.filter(card_request=card_request, status=Shipment.Status.SHIPPED).first()


def shipment_create(*, card_request_id: int, tracking_number: str, by: User) -> Shipment:
    """Ship a printed route-4 card by Pos COD.

    Invariants: only a printed card on route 4 (the workflow checks the edge, the route and the actor); one
    active shipment per request and one per tracking number (database constraints decide a race); the fee is
    the office's COD fee when it ships. The shipment, the move to shipped and the resident's message (tracking
    number and fee) are one transaction.
    """
    tracking = tracking_number_clean(tracking_number)
    _clerk(by)
    with transaction.atomic():
        card_request = CardRequest.objects.select_related("office").get(pk=card_request_id)
        fee = card_request.office.cod_fee
        card_move(
            card_request_id=card_request_id,
            to_status=S.SHIPPED,
            actor=Actor.SHIPMENT,
            by=by,
            expected_status=S.PRINTED,
            message=Message("request_shipped", {"tracking": tracking, "fee": _fee_text(fee)}),
            event_note=system_text(
                gettext_noop("Dikirim lewat Pos, resi %(tracking)s, COD Rp %(fee)s"),
                tracking=tracking,
                fee=_fee_text(fee),
            ),
        )
        try:
            with transaction.atomic():
                return Shipment.objects.create(
                    card_request_id=card_request_id,
                    office=card_request.office,
                    tracking_number=tracking,
                    cod_fee=fee,
                    shipped_at=clock.now(),
                    shipped_by=by,
                )
        except IntegrityError as exc:
            raise DeliveryError(
                _("Nomor resi %(tracking)s sudah dipakai kiriman lain.") % {"tracking": tracking}
            ) from exc


def shipment_delivered(*, shipment_id: int, by: User, old_card_collected: bool = False) -> Shipment:
    """The courier delivered the card: the request closes as handed over by post (no fingerprint check, no
    activation: the Handover row says so).

    Invariants: only an active shipment; for rusak and ubah data the courier collects the old card, so the
    delivery is recorded only with that confirmed, and the handover requirements are ticked as collected by
    the courier; the shipment, the ticks, the close and the resident's message are one transaction.
    """
    _clerk(by)
    with transaction.atomic():
        shipment = _locked_active(shipment_id)
        card_request = shipment.card_request
        unticked = unticked_handover(card_request)
        if unticked and not old_card_collected:
            raise DeliveryError(
                _("Kurir Pos menarik KTP lama (%(names)s): centang bahwa KTP lama sudah diterima kurir.")
                % {"names": ", ".join(r.name for r in unticked)}
            )
        for requirement in unticked:
            requirement_tick(card_request_id=card_request.pk, requirement_id=requirement.pk, by=by)
        collected = bool(unticked) or card_request.requirement_checks.exists()
        if unticked:
            CardRequestEvent.objects.create(
                card_request=card_request,
                at=clock.now(),
                by=by,
                action=CardRequestEvent.Action.SHIPMENT,
                note=system_text(
                    gettext_noop("KTP lama ditarik oleh kurir Pos (resi %(tracking)s)"),
                    tracking=shipment.tracking_number,
                ),
            )
        card_move(
            card_request_id=card_request.pk,
            to_status=S.HANDED_OVER,
            actor=Actor.SHIPMENT,
            by=by,
            expected_status=S.SHIPPED,
            handover=HandoverInfo(
                method=Handover.Method.BY_POST,
                note=system_text(
                    gettext_noop("Diantar Pos, resi %(tracking)s; KTP lama ditarik kurir")
                    if collected
                    else gettext_noop("Diantar Pos, resi %(tracking)s"),
                    tracking=shipment.tracking_number,
                ),
            ),
            event_note=system_text(
                gettext_noop("Diterima lewat Pos, resi %(tracking)s"), tracking=shipment.tracking_number
            ),
        )
        shipment.status = Shipment.Status.DELIVERED
        shipment.closed_at = clock.now()
        shipment.closed_by = by
        shipment.old_card_collected = collected
        shipment.save(update_fields=["status", "closed_at", "closed_by", "old_card_collected"])
    return shipment


FAILURE_OUTCOMES = (Shipment.Status.FAILED, Shipment.Status.RETURNED)


def shipment_failed(*, shipment_id: int, outcome: str, reason: str, by: User) -> Shipment:
    """The card came back to the office: the courier could not deliver it (failed) or it was refused and
    returned. The request goes to ready for pickup at the printing office (the workflow puts it on route 2) and
    the resident is told to collect it in person.

    Invariants: only an active shipment, with a reason; the shipment and the move are one transaction.
    """
    outcome = Shipment.Status(outcome)
    if outcome not in FAILURE_OUTCOMES:
        raise DeliveryError(_("Pilih: gagal diantar atau dikembalikan."))
    if not reason.strip():
        raise DeliveryError(_("Tulis alasan dari Pos (mis. alamat tidak ditemukan)."))
    _clerk(by)
    with transaction.atomic():
        shipment = _locked_active(shipment_id)
        card_move(
            card_request_id=shipment.card_request_id,
            to_status=S.READY_FOR_PICKUP,
            actor=Actor.SHIPMENT,
            by=by,
            expected_status=S.SHIPPED,
            event_note=system_text(
                gettext_noop("%(outcome)s, resi %(tracking)s: %(reason)s"),
                outcome=outcome.label,
                tracking=shipment.tracking_number,
                reason=reason.strip(),
            ),
        )
        shipment.status = outcome
        shipment.closed_at = clock.now()
        shipment.closed_by = by
        shipment.note = reason.strip()[:300]
        shipment.save(update_fields=["status", "closed_at", "closed_by", "note"])
    return shipment
