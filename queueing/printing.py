"""Blank cards and printing: receipts, spoilage, the ledger, and print batches that take one blank per card."""

from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.models import CardRequest, CardRequestEvent
from queueing.calendar import holds_valid_suket, printing_office
from queueing.errors import QueueingError, StockShort
from queueing.models import (
    BlankMovement,
    BlankStock,
    Booking,
    PrintBatch,
)
from registry.models import Office, User

S = CardRequest.Status


# --- blank stock and print batches ----------------------------------------------------------------------
def _stock_row(office: Office) -> BlankStock:
    stock, _created = BlankStock.objects.get_or_create(office=office)
    return stock


def blanks_receive(*, office: Office, quantity: int, reference: str, received_on: date, by: User) -> BlankMovement:
    """Record a batch of blank cards from the centre (batch reference, quantity, date)."""
    if quantity <= 0:
        raise QueueingError(_("Jumlah blangko harus lebih dari nol."))
    if not reference.strip():
        raise QueueingError(_("Tulis nomor/referensi kiriman blangko."))
    office = printing_office(office)
    with transaction.atomic():
        stock = _stock_row(office)
        BlankStock.objects.filter(pk=stock.pk).update(quantity=F("quantity") + quantity, updated_at=timezone.now())
        return BlankMovement.objects.create(
            office=office, kind=BlankMovement.Kind.RECEIPT, quantity=quantity, reference=reference.strip()[:200],
            received_on=received_on, created_by=by,
        )  # fmt: skip


def blanks_spoil(*, office: Office, quantity: int, reason: str, by: User) -> BlankMovement:
    """Write off spoiled blanks, with a reason; never more than the stock."""
    if quantity <= 0:
        raise QueueingError(_("Jumlah blangko harus lebih dari nol."))
    if not reason.strip():
        raise QueueingError(_("Tulis alasan blangko rusak."))
    office = printing_office(office)
    with transaction.atomic():
        stock = _stock_row(office)
        if not BlankStock.objects.filter(pk=stock.pk, quantity__gte=quantity).update(
            quantity=F("quantity") - quantity, updated_at=timezone.now()
        ):
            raise StockShort(
                _("Stok blangko hanya %(stock)d; tidak bisa mencatat %(n)d rusak.")
                % {"stock": BlankStock.objects.get(pk=stock.pk).quantity, "n": quantity}
            )
        return BlankMovement.objects.create(
            office=office, kind=BlankMovement.Kind.SPOILAGE, quantity=-quantity, reference=reason.strip()[:200],
            created_by=by,
        )  # fmt: skip


def print_batch_create(*, office: Office, day: date, by: User) -> PrintBatch:
    """The day's print list: requests scheduled for that day not yet in another batch; suket holders first,
    then urgent requests, then the oldest."""
    office = printing_office(office)
    requests = list(
        CardRequest.objects.filter(
            status=S.SCHEDULED,
            bookings__office=office,
            bookings__date=day,
            bookings__status__in=[Booking.Status.BOOKED, Booking.Status.CHECKED_IN],
        )
        .exclude(
            pk__in=PrintBatch.card_requests.through.objects.filter(printbatch__status=PrintBatch.Status.DRAFT).values(
                "cardrequest_id"
            )
        )
        .annotate(has_suket=holds_valid_suket())
        .order_by("-has_suket", "-is_urgent", "created_at")
        .values_list("pk", flat=True)
    )
    if not requests:
        raise QueueingError(_("Tidak ada permohonan terjadwal untuk dicetak pada tanggal itu."))
    with transaction.atomic():
        batch = PrintBatch.objects.create(office=office, date=day, created_by=by)
        batch.card_requests.set(requests)
    return batch


def print_batch_print(*, batch_id: int, by: User) -> PrintBatch:
    """Mark a print list printed. Invariant: one blank per card is taken in the same transaction, and never
    below zero (conditional UPDATE; a CHECK behind it): with too few blanks nothing is printed."""
    with transaction.atomic():
        batch = PrintBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != PrintBatch.Status.DRAFT:
            raise QueueingError(_("Batch ini sudah dicetak."))
        request_ids = list(batch.card_requests.filter(status=S.SCHEDULED).values_list("pk", flat=True))
        count = len(request_ids)
        if not count:
            raise QueueingError(_("Tidak ada kartu dalam batch ini yang masih terjadwal."))
        stock = _stock_row(batch.office)
        if not BlankStock.objects.filter(pk=stock.pk, quantity__gte=count).update(
            quantity=F("quantity") - count, updated_at=timezone.now()
        ):
            raise StockShort(
                _("Blangko kurang: tersedia %(stock)d, perlu %(n)d. Tidak ada yang dicetak.")
                % {"stock": BlankStock.objects.get(pk=stock.pk).quantity, "n": count}
            )
        now = timezone.now()
        BlankMovement.objects.create(
            office=batch.office, kind=BlankMovement.Kind.PRINT, quantity=-count,
            reference=_("Cetak %(day)s") % {"day": batch.date.strftime("%d-%m-%Y")}, print_batch=batch, created_by=by,
        )  # fmt: skip
        moved = CardRequest.objects.filter(pk__in=request_ids, status=S.SCHEDULED).update(
            status=S.PRINTED, status_changed_at=now, updated_at=now
        )
        if moved != count:  # a request changed under us: nothing is printed
            raise QueueingError(_("Daftar cetak berubah; muat ulang halaman."))
        CardRequestEvent.objects.bulk_create(
            CardRequestEvent(
                card_request_id=pk, at=now, by=by, action=CardRequestEvent.Action.STATUS, from_status=S.SCHEDULED,
                to_status=S.PRINTED, note=_("Batch cetak %(day)s") % {"day": batch.date.strftime("%d-%m-%Y")},
            )
            for pk in request_ids
        )  # fmt: skip
        batch.status = PrintBatch.Status.PRINTED
        batch.printed_at = now
        batch.save(update_fields=["status", "printed_at"])
    return batch
