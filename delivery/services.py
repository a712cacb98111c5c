"""Getting it out: the suket (temporary certificate) while no blank card is available for the resident.

A suket ends when the request closes (the card is in the resident's hands, or the request is refused): the
workflow calls `sukets_release`, registered in DeliveryConfig.ready().
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cards.models import CardKind, CardRequest, CardRequestEvent
from delivery.models import Suket
from messaging.messages import notification_write
from messaging.system_text import system_text
from queueing.models import BlankStock
from registry import clock
from registry.models import User

S = CardRequest.Status
# A suket is for a recorded resident waiting for a card: verified, and not printed yet.
WAITING = (S.VERIFYING, S.READY_TO_PRINT, S.SCHEDULED)


class DeliveryError(Exception):
    """A refused delivery action; the message is for the clerk."""


def blanks_for(card_request: CardRequest) -> tuple[int, int]:
    """(stock, reserved): the office's blanks, and how many of them its rationing keeps for others. With
    rationing on (the Dirjen Dukcapil circular), blanks go first to pemula and approved urgent requests; a
    request that is neither gets a blank only from what is left above their number."""
    office = card_request.office
    stock = BlankStock.objects.filter(office=office).values_list("quantity", flat=True).first() or 0
    if not office.ration_blanks or card_request.kind == CardKind.PEMULA or card_request.is_urgent:
        return stock, 0
    reserved = (
        CardRequest.objects.filter(office=office, status__in=WAITING)
        .filter(Q(kind=CardKind.PEMULA) | Q(is_urgent=True))
        .exclude(pk=card_request.pk)
        .count()
    )
    return stock, reserved


def suket_problem(card_request: CardRequest) -> str | None:
    """Why a suket cannot be issued for this request now, or None. The request page offers the button only
    when this is None, so the page and the service never disagree."""
    if card_request.status not in WAITING:
        return _("Suket hanya untuk permohonan yang sudah diverifikasi dan menunggu cetak.")
    if not card_request.resident.biometric_recorded:
        return _("Penduduk belum perekaman biometrik; suket tidak dapat diterbitkan.")
    if Suket.objects.filter(card_request=card_request, ended_at__isnull=True).exists():
        return _("Permohonan ini sudah punya suket yang berlaku.")
    stock, reserved = blanks_for(card_request)
    if stock > reserved:
        return _("Masih ada %(n)d blangko untuk permohonan ini: cetak KTP-el, bukan suket.") % {"n": stock - reserved}
    return None


def suket_issue(*, card_request_id: int, by: User) -> Suket:
    """Issue a suket. Invariants: only while the office has no blank for this resident (none left, or what is
    left is reserved by rationing), only for a recorded resident whose request is verified and not printed,
    and one valid suket per request (a database constraint decides a race)."""
    with transaction.atomic():
        card_request = (
            CardRequest.objects.select_for_update(of=("self",))
            .select_related("resident", "office")
            .get(pk=card_request_id)
        )
        if problem := suket_problem(card_request):
            raise DeliveryError(problem)
        try:
            with transaction.atomic():
                suket = Suket.objects.create(
                    card_request=card_request,
                    resident=card_request.resident,
                    office=card_request.office,
                    issued_by=by,
                    issued_at=clock.now(),
                    valid_until=clock.today(card_request.office) + timedelta(days=Suket.VALIDITY_DAYS),
                    verify_code=secrets.token_urlsafe(12),
                )
        except IntegrityError as exc:
            raise DeliveryError(_("Permohonan ini sudah punya suket yang berlaku.")) from exc
        CardRequestEvent.objects.create(
            card_request=card_request,
            by=by,
            action=CardRequestEvent.Action.SUKET,
            note=system_text(
                gettext_noop("Suket %(number)s, berlaku sampai %(until)s"),
                number=suket.number,
                until=suket.valid_until.strftime("%d-%m-%Y"),
            ),
        )
        notification_write(
            resident=card_request.resident,
            card_request=card_request,
            template="suket_issued",
            number=card_request.number,
            suket=suket.number,
            until=suket.valid_until.strftime("%d-%m-%Y"),
        )
    return suket


def sukets_release(card_request: CardRequest, *, by: User | None, reason: str, closing: bool) -> None:
    """Workflow release hook: a closing request's suket is no longer valid (the card is in the resident's
    hands, or there will be no card)."""
    if closing:
        Suket.objects.filter(card_request_id=card_request.pk, ended_at__isnull=True).update(ended_at=clock.now())
