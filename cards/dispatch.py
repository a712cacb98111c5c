"""Route 3: centrally printed cards travel to the resident's UPTD in a dispatch, the UPTD confirms each card
on arrival (and the resident is told to come there), then hands it over in person."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.models import Actor, CardRequest, CardRequestEvent, DispatchBatch, DispatchItem
from cards.workflow import CardRequestError, card_move
from messaging.messages import notification_write
from registry import clock
from registry.models import Office, User

Status = CardRequest.Status


def dispatch_create(
    *, uptd: Office, card_request_ids: Iterable[int], by: User, note: str = ""
) -> tuple[DispatchBatch | None, list[tuple[int, str]]]:
    """Send printed cards of UPTD submissions to their UPTD. Each card must be printed and picked up there;
    the others are reported and left as they were."""
    if not by.has_perm("cards.dispatch_cardrequest"):
        raise CardRequestError(_("Anda tidak berwenang mengirim kartu."))
    refused: list[tuple[int, str]] = []
    with transaction.atomic():
        rows = list(
            CardRequest.objects.visible_to(by)
            .select_for_update(of=("self",))
            .filter(pk__in=set(card_request_ids))
            .order_by("pk")
        )
        accepted = []
        for card_request in rows:
            if card_request.status != Status.PRINTED:
                refused.append(
                    (
                        card_request.pk,
                        _("%(number)s belum dicetak (%(status)s)")
                        % {"number": card_request.number, "status": card_request.get_status_display()},
                    )
                )
            elif card_request.pickup_office_id != uptd.pk:
                refused.append(
                    (
                        card_request.pk,
                        _("%(number)s tidak diambil di %(uptd)s") % {"number": card_request.number, "uptd": uptd.name},
                    )
                )
            else:
                accepted.append(card_request)
        if not accepted:
            return None, refused
        batch = DispatchBatch.objects.create(office=by.office.head_office, uptd=uptd, created_by=by, note=note.strip())
        for card_request in accepted:
            DispatchItem.objects.create(batch=batch, card_request=card_request)
            card_move(
                card_request_id=card_request.pk,
                to_status=Status.SENT_TO_UPTD,
                actor=Actor.DISPATCH,
                by=by,
                expected_status=Status.PRINTED,
                event_note=batch.number,
                message=None,  # the resident is told when the UPTD confirms the card arrived
            )
    return batch, refused


def dispatch_item_receive(*, item_id: int, by: User) -> DispatchItem:
    """The UPTD confirms one card arrived (compare-and-set: confirmed once), and the resident is told to
    come and collect it in person."""
    with transaction.atomic():
        item = (
            DispatchItem.objects.select_for_update()
            .select_related("batch__uptd", "card_request__resident")
            .get(pk=item_id)
        )
        if item.batch.uptd_id != by.office_id:
            raise CardRequestError(_("Kiriman ini bukan untuk UPTD Anda."))
        if item.received_at is not None:
            raise CardRequestError(
                _("Kartu ini sudah dikonfirmasi diterima pada %(at)s.")
                % {"at": timezone.localtime(item.received_at).strftime("%d-%m-%Y %H:%M")}
            )
        item.received_at = clock.now()
        item.received_by = by
        item.save(update_fields=["received_at", "received_by"])
        card_request = item.card_request
        CardRequestEvent.objects.create(
            card_request=card_request, by=by, action=CardRequestEvent.Action.RECEIVED_AT_UPTD, note=item.batch.number
        )
        notification_write(
            resident=card_request.resident,
            card_request=card_request,
            template="request_at_uptd",
            number=card_request.number,
            place=item.batch.uptd.name,
        )
    return item
