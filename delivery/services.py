"""Getting it out: the suket (temporary certificate) while no blank card is available."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.models import CardRequest, CardRequestEvent
from delivery.models import Suket
from messaging.messages import notification_write
from registry.models import User

S = CardRequest.Status


class DeliveryError(Exception):
    """A refused delivery action; the message is for the clerk."""


def suket_issue(*, card_request_id: int, by: User) -> Suket:
    """Issue a suket. Invariants: only while the office has no blank card, only for a recorded resident
    whose request is verified (ready to print or scheduled), and one valid suket per request."""
    from queueing.models import BlankStock

    with transaction.atomic():
        card_request = (
            CardRequest.objects.select_for_update(of=("self",))
            .select_related("resident", "office")
            .get(pk=card_request_id)
        )
        if card_request.status not in (S.READY_TO_PRINT, S.SCHEDULED):
            raise DeliveryError(_("Suket hanya untuk permohonan yang sudah diverifikasi dan menunggu cetak."))
        if not card_request.resident.biometric_recorded:
            raise DeliveryError(_("Penduduk belum perekaman biometrik; suket tidak dapat diterbitkan."))
        stock = BlankStock.objects.filter(office=card_request.office).values_list("quantity", flat=True).first() or 0
        if stock > 0:
            raise DeliveryError(_("Masih ada %(n)d blangko: cetak KTP-el, bukan suket.") % {"n": stock})
        try:
            with transaction.atomic():
                suket = Suket.objects.create(
                    card_request=card_request,
                    resident=card_request.resident,
                    office=card_request.office,
                    issued_by=by,
                    valid_until=timezone.localdate() + timedelta(days=Suket.VALIDITY_DAYS),
                    verify_code=secrets.token_urlsafe(12),
                )
        except IntegrityError as exc:
            raise DeliveryError(_("Permohonan ini sudah punya suket yang berlaku.")) from exc
        CardRequestEvent.objects.create(
            card_request=card_request,
            by=by,
            action=CardRequestEvent.Action.SUKET,
            note=_("Suket %(number)s, berlaku sampai %(until)s")
            % {"number": suket.number, "until": suket.valid_until.strftime("%d-%m-%Y")},
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


def sukets_end_for(*, card_request_id: int) -> int:
    """The card is in the resident's hands (or the request closed): its suket is no longer valid."""
    return Suket.objects.filter(card_request_id=card_request_id, ended_at__isnull=True).update(ended_at=timezone.now())
