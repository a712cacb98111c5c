"""Blank cards and printing. A card is printed only by printing, and printing takes one blank per card in the
same transaction as the move to printed, or nothing: at the counter (route 1, one card for a resident checked in
today) or in a batch (routes 2-4, up to the print places left that day). Every blank that leaves the stock is a
ledger line: stock = receipts − spoilage − prints, and one PRINT line per card printed.

Statuses move through cards.workflow (actor PRINTING, and the clerk for storing route-2 cards); the stock and
the day's print places are taken with conditional UPDATEs (CHECK constraints behind them), last in each
transaction, so their rows stay locked only until the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cards.models import Actor, CardKind, CardRequest, CardRequestEvent, Route
from cards.workflow import (
    CardRequestError,
    Message,
    StaleCardRequest,
    actor_of,
    card_move,
    print_ready_problem,
)
from messaging.system_text import fit, system_text
from queueing.calendar import printing_office, service_day_get
from queueing.counter import entry_served_for
from queueing.errors import DuplicateReceipt, QueueingError, StockShort
from queueing.models import BlankMovement, BlankStock, Booking, PrintBatch, ServiceDay
from registry import clock
from registry.models import Office, User

S = CardRequest.Status
# Routes printed in a batch; route 1 is printed at the counter while the resident waits.
BATCH_ROUTES = (Route.COLLECT, Route.UPTD, Route.POST)


# --- the stock and its ledger ---------------------------------------------------------------------------


def _stock_row(office: Office) -> BlankStock:
    stock, _created = BlankStock.objects.get_or_create(office=office)
    return stock


def _take_blanks(office: Office, count: int, *, short_message: str) -> None:
    """Compare-and-set: take `count` blanks, or raise StockShort and take none."""
    stock = _stock_row(office)
    if not BlankStock.objects.filter(pk=stock.pk, quantity__gte=count).update(
        quantity=F("quantity") - count, updated_at=clock.now()
    ):
        have = BlankStock.objects.filter(pk=stock.pk).values_list("quantity", flat=True).get()
        raise StockShort(short_message % {"stock": have, "n": count})


def blank_stock_of(office: Office) -> int:
    return BlankStock.objects.filter(office=printing_office(office)).values_list("quantity", flat=True).first() or 0


def receipt_reference_normalise(reference: str) -> str:
    """A delivery's reference as it is stored and compared: spaces collapsed, at most 200 characters."""
    return " ".join(reference.split())[:200]


def receipt_recorded(*, office: Office, reference: str) -> BlankMovement | None:
    """The receipt already recorded for this delivery reference at the office's printing office, if any."""
    return (
        BlankMovement.objects.filter(
            office=printing_office(office),
            kind=BlankMovement.Kind.RECEIPT,
            reference__iexact=receipt_reference_normalise(reference),
        )
        .order_by("id")
        .first()
    )


def receipt_duplicate_message(existing: BlankMovement) -> str:
    """What the supervisor reads when a delivery is submitted a second time."""
    return _(
        "Kiriman blangko dengan referensi “%(reference)s” sudah dicatat pada %(day)s (%(n)d blangko); stok "
        "tidak diubah."
    ) % {"reference": existing.reference, "day": existing.received_on.strftime("%d-%m-%Y"), "n": existing.quantity}


def blanks_receive(*, office: Office, quantity: int, reference: str, received_on: date, by: User) -> BlankMovement:
    """Record a delivery of blank cards from the centre (delivery reference, quantity, date).

    Invariant: one delivery counts once. Its reference is unique per printing office (without case; the
    database constraint blankmovement_receipt_reference_unique backs this check when two submissions race),
    and a second receipt with it raises DuplicateReceipt and leaves the stock as it was."""
    if quantity <= 0:
        raise QueueingError(_("Jumlah blangko harus lebih dari nol."))
    reference = receipt_reference_normalise(reference)
    if not reference:
        raise QueueingError(_("Tulis nomor/referensi kiriman blangko."))
    office = printing_office(office)
    if existing := receipt_recorded(office=office, reference=reference):
        raise DuplicateReceipt(receipt_duplicate_message(existing))
    try:
        with transaction.atomic():
            movement = BlankMovement.objects.create(
                office=office, kind=BlankMovement.Kind.RECEIPT, quantity=quantity, reference=reference,
                received_on=received_on, created_by=by, created_at=clock.now(),
            )  # fmt: skip
            stock = _stock_row(office)
            BlankStock.objects.filter(pk=stock.pk).update(quantity=F("quantity") + quantity, updated_at=clock.now())
    except IntegrityError:
        # The same delivery recorded by a concurrent submission between the check and the insert.
        if (existing := receipt_recorded(office=office, reference=reference)) is None:
            raise
        raise DuplicateReceipt(receipt_duplicate_message(existing)) from None
    return movement


def blanks_spoil(*, office: Office, quantity: int, reason: str, by: User) -> BlankMovement:
    """Write off spoiled blanks, with a reason; never more than the stock."""
    if quantity <= 0:
        raise QueueingError(_("Jumlah blangko harus lebih dari nol."))
    if not reason.strip():
        raise QueueingError(_("Tulis alasan blangko rusak."))
    office = printing_office(office)
    with transaction.atomic():
        _take_blanks(
            office, quantity, short_message=_("Stok blangko hanya %(stock)d; tidak bisa mencatat %(n)d rusak.")
        )
        return BlankMovement.objects.create(
            office=office, kind=BlankMovement.Kind.SPOILAGE, quantity=-quantity, reference=reason.strip()[:200],
            received_on=clock.today(office), created_by=by, created_at=clock.now(),
        )  # fmt: skip


def _print_lines(
    office: Office, card_request_ids: Iterable[int], *, reference: str, by: User, batch: PrintBatch | None = None
) -> None:
    now, today = clock.now(), clock.today(office)
    BlankMovement.objects.bulk_create(
        BlankMovement(
            office=office, kind=BlankMovement.Kind.PRINT, quantity=-1, reference=fit(reference, 200), received_on=today,
            print_batch=batch, card_request_id=pk, created_by=by, created_at=now,
        )
        for pk in card_request_ids
    )  # fmt: skip


# --- route 1: one card at the counter -------------------------------------------------------------------


def counter_print_rows(*, office: Office, day: date | None = None) -> list[Booking]:
    """Today's checked-in appointments whose card is to print or just printed (the counter's print list)."""
    office = printing_office(office)
    day = day or clock.today(office)
    return list(
        Booking.objects.filter(
            office=office,
            date=day,
            status=Booking.Status.CHECKED_IN,
            card_request__status__in=[S.SCHEDULED, S.PRINTED],
        )
        .select_related("card_request__resident")
        .order_by("checked_in_at", "number")
    )


def counter_print(*, card_request_id: int, by: User) -> CardRequest:
    """Print one card for a resident who checked in today (route 1), while they wait.

    Invariants: only for a request whose appointment today is checked in; one blank is taken (compare-and-set,
    never below zero) and written in the ledger, in the same transaction as scheduled → printed; with no blank
    left nothing changes. The print place was taken by the appointment. The clerk then hands the card over in
    person (a clerk's move on the request page).
    """
    card_request = CardRequest.objects.select_related("office").get(pk=card_request_id)
    office = printing_office(card_request.office)
    if card_request.route != Route.COUNTER:
        raise QueueingError(_("Hanya kartu rute loket yang dicetak di loket; yang lain dicetak dalam batch."))
    booking = Booking.objects.filter(
        card_request_id=card_request_id, office=office, date=clock.today(office), status=Booking.Status.CHECKED_IN
    ).first()
    if booking is None:
        raise QueueingError(_("Penduduk belum tercatat hadir hari ini; kartu dicetak setelah hadir di loket."))
    with transaction.atomic():
        card_request = card_move(
            card_request_id=card_request_id,
            to_status=S.PRINTED,
            actor=Actor.PRINTING,
            by=by,
            expected_status=S.SCHEDULED,
            message=None,  # the resident is at the counter; the handover has its own message
            event_note=system_text(gettext_noop("Dicetak di loket, nomor antrean %(number)d"), number=booking.number),
        )
        _take_blanks(
            office, 1, short_message=_("Blangko habis (tersedia %(stock)d, perlu %(n)d): kartu tidak dicetak.")
        )
        _print_lines(
            office,
            [card_request_id],
            reference=system_text(gettext_noop("Cetak di loket, nomor antrean %(number)d"), number=booking.number),
            by=by,
        )
        entry_served_for(card_request_id=card_request_id)  # the call ends served with the print
    return card_request


# --- misprints ------------------------------------------------------------------------------------------


def print_misprint(*, card_request_id: int, reason: str, by: User) -> CardRequest:
    """A printed card came out wrong: its blank is spoiled, with the reason, and the card is printed again.

    Invariants: only for a card just printed (status printed). The reprint takes one more blank (compare-and-set;
    with none left nothing is written), and the ledger gets one SPOILAGE line naming the request and the reason:
    the request's PRINT line stands for the card it holds, so stock = receipts − spoilage − prints still counts
    every blank that left the cupboard, and PRINT lines still equal cards printed. Both the spoiled blank and
    the reprint are on the request's timeline.
    """
    if not reason.strip():
        raise QueueingError(_("Tulis alasan gagal cetak."))
    with transaction.atomic():
        card_request = (
            CardRequest.objects.select_for_update(of=("self",)).select_related("office").get(pk=card_request_id)
        )
        if card_request.status != S.PRINTED:
            raise QueueingError(
                _("Gagal cetak dicatat untuk kartu yang baru dicetak; permohonan %(number)s berstatus '%(status)s'.")
                % {"number": card_request.number, "status": card_request.get_status_display()}
            )
        office = printing_office(card_request.office)
        _take_blanks(
            office,
            1,
            short_message=_("Blangko habis (tersedia %(stock)d, perlu %(n)d): kartu tidak dapat dicetak ulang."),
        )
        now = clock.now()
        BlankMovement.objects.create(
            office=office, kind=BlankMovement.Kind.SPOILAGE, quantity=-1, card_request=card_request,
            reference=system_text(gettext_noop("Gagal cetak: %(reason)s"), reason=reason.strip()),
            received_on=clock.today(office), created_by=by, created_at=now,
        )  # fmt: skip
        CardRequestEvent.objects.bulk_create(
            [
                CardRequestEvent(
                    card_request=card_request, at=now, by=by, action=CardRequestEvent.Action.MISPRINT,
                    note=system_text(gettext_noop("Blangko rusak (gagal cetak): %(reason)s"), reason=reason.strip()),
                ),
                CardRequestEvent(
                    card_request=card_request, at=now, by=by, action=CardRequestEvent.Action.MISPRINT,
                    note=system_text(gettext_noop("Dicetak ulang pada blangko baru")),
                ),
            ]
        )  # fmt: skip
    return card_request


# --- routes 2-4: print batches --------------------------------------------------------------------------


def _holds_valid_suket() -> Exists:
    """Requests whose resident holds a valid suket (they wait on paper, so they print first). Both conditions
    sit on one join: a request with no suket at all does not count."""
    return Exists(CardRequest.objects.filter(pk=OuterRef("pk"), sukets__isnull=False, sukets__ended_at__isnull=True))


def _current_drafts(office: Office, today: date):
    """Draft batches that can still be printed (a draft of a past day is stale: it holds nobody)."""
    return PrintBatch.objects.filter(office=office, status=PrintBatch.Status.DRAFT, date__gte=today)


def print_batch_candidates(*, office: Office, day: date) -> list[CardRequest]:
    """Who the next batch for that day would print, in order: requests ready to print on routes 2-4 that no
    current draft holds, suket holders and approved urgent first, then the oldest in line; a pemula not yet
    printable that day (PRR, wajib KTP) waits. Up to the day's print places left and the blanks in stock."""
    office = printing_office(office)
    service_day = service_day_get(office=office, day=day)
    room = min(service_day.print_places_left, blank_stock_of(office))
    if room <= 0:
        return []
    held = PrintBatch.card_requests.through.objects.filter(
        printbatch__in=_current_drafts(office, clock.today(office))
    ).values("cardrequest_id")
    queryset = (
        CardRequest.objects.filter(office=office, status=S.READY_TO_PRINT, route__in=BATCH_ROUTES)
        .exclude(pk__in=held)
        .annotate(has_suket=_holds_valid_suket())
        .select_related("resident")
        .order_by("-has_suket", "-is_urgent", "queued_at", "id")
    )
    chosen: list[CardRequest] = []
    # Pemula are checked one by one (recording, PRR, age on that day); read in slices so a long line of
    # pemula who must wait does not load the whole queue.
    offset, step = 0, max(room * 2, 50)
    while len(chosen) < room:
        rows = list(queryset[offset : offset + step])
        if not rows:
            break
        for card_request in rows:
            if card_request.kind == CardKind.PEMULA and print_ready_problem(card_request, on=day):
                continue
            chosen.append(card_request)
            if len(chosen) == room:
                break
        offset += step
    return chosen


def print_batch_create(*, office: Office, day: date, by: User) -> PrintBatch:
    """Make the print list of a day for routes 2-4 (never route 1, and nobody is given a day to come).

    Invariant: at most the day's print places left (capacity − route-1 appointments − cards already printed in
    batches) and the blanks in stock; a request is in at most one current draft. The places and the blanks are
    taken when the batch is printed, which checks again.
    """
    office = printing_office(office)
    today = clock.today(office)
    if day < today:
        raise QueueingError(_("Batch cetak dibuat untuk hari ini atau hari yang akan datang."))
    service_day = service_day_get(office=office, day=day)
    if not service_day.is_open:
        raise QueueingError(_("Kantor tidak melayani pada %(day)s.") % {"day": day.strftime("%d-%m-%Y")})
    chosen = print_batch_candidates(office=office, day=day)
    if not chosen:
        if service_day.print_places_left <= 0:
            raise QueueingError(
                _("Tidak ada tempat cetak tersisa pada %(day)s (kapasitas %(capacity)d).")
                % {"day": day.strftime("%d-%m-%Y"), "capacity": service_day.print_capacity}
            )
        if blank_stock_of(office) <= 0:
            raise StockShort(_("Blangko habis: tidak ada yang dapat dicetak."))
        raise QueueingError(_("Tidak ada permohonan siap cetak untuk batch (rute diambil, UPTD atau Pos)."))
    with transaction.atomic():
        batch = PrintBatch.objects.create(office=office, date=day, created_by=by, created_at=clock.now())
        batch.card_requests.set([c.pk for c in chosen])
    return batch


def print_batch_print(*, batch_id: int, by: User) -> PrintBatch:
    """Print a batch on its day. Invariants: every card moves ready to print → printed (actor printing), one
    blank and one print place per card are taken (conditional UPDATEs, never below zero nor above the day's
    capacity) with one PRINT ledger line per card, all in one transaction; if any card moved meanwhile, or
    blanks or places are short, nothing is printed."""
    with transaction.atomic():
        batch = PrintBatch.objects.select_for_update().select_related("office").get(pk=batch_id)
        if batch.status != PrintBatch.Status.DRAFT:
            raise QueueingError(_("Batch ini sudah dicetak."))
        office = batch.office
        today = clock.today(office)
        if batch.date != today:
            raise QueueingError(
                _("Batch ini untuk %(day)s; cetak pada hari itu, atau buat batch baru untuk hari ini.")
                % {"day": batch.date.strftime("%d-%m-%Y")}
            )
        request_ids = list(batch.card_requests.order_by("id").values_list("pk", flat=True))
        count = len(request_ids)
        if not count:
            raise QueueingError(_("Batch ini kosong: semua permohonannya sudah ditutup atau berpindah rute."))
        for pk in request_ids:
            try:
                card_move(
                    card_request_id=pk,
                    to_status=S.PRINTED,
                    actor=Actor.PRINTING,
                    by=by,
                    expected_status=S.READY_TO_PRINT,
                    message=None,  # each route tells the resident at its own next step
                    event_note=system_text(gettext_noop("Batch cetak %(batch)s"), batch=batch.number),
                )
            except CardRequestError as exc:
                number = f"PKTP-{pk:06d}"
                if isinstance(exc, StaleCardRequest):
                    raise QueueingError(
                        _("%(number)s berubah sejak batch dibuat. Tidak ada yang dicetak; buat batch baru.")
                        % {"number": number}
                    ) from exc
                raise QueueingError(
                    _("%(number)s tidak dapat dicetak: %(reason)s Tidak ada yang dicetak.")
                    % {"number": number, "reason": exc}
                ) from exc
        service_day = service_day_get(office=office, day=batch.date)
        if not ServiceDay.objects.filter(
            pk=service_day.pk,
            is_open=True,
            booked_total__lte=F("print_capacity") - F("batch_printed") - count,
        ).update(batch_printed=F("batch_printed") + count):
            service_day.refresh_from_db()
            raise QueueingError(
                _("Tempat cetak hari ini tinggal %(left)d, batch berisi %(n)d. Tidak ada yang dicetak.")
                % {"left": service_day.print_places_left, "n": count}
            )
        _take_blanks(
            office, count, short_message=_("Blangko kurang: tersedia %(stock)d, perlu %(n)d. Tidak ada yang dicetak.")
        )
        _print_lines(
            office,
            request_ids,
            reference=system_text(gettext_noop("Batch cetak %(batch)s"), batch=batch.number),
            by=by,
            batch=batch,
        )
        batch.status = PrintBatch.Status.PRINTED
        batch.printed_at = clock.now()
        batch.printed_by = by
        batch.save(update_fields=["status", "printed_at", "printed_by"])
    return batch


@dataclass
class StoreOutcome:
    stored: list[CardRequest]
    refused: list[tuple[str, str]]  # (number, reason)


def print_batch_to_store(batch: PrintBatch) -> list[int]:
    """The batch's route-2 cards that are printed and not yet stored (the "Simpan" button's cards)."""
    if batch.status != PrintBatch.Status.PRINTED:
        return []
    return list(batch.card_requests.filter(route=Route.COLLECT, status=S.PRINTED).values_list("pk", flat=True))


def print_batch_store(*, batch_id: int, by: User, from_day: date) -> StoreOutcome:
    """A clerk stores the printed route-2 cards of a batch for collection and each resident is told "dapat
    diambil di {place} mulai {day}". Each card is the clerk's move printed → ready for pickup, in its own
    transaction: a card that moved meanwhile is reported, the others go through."""
    batch = PrintBatch.objects.select_related("office").get(pk=batch_id)
    if batch.status != PrintBatch.Status.PRINTED:
        raise QueueingError(_("Batch ini belum dicetak."))
    if from_day < clock.today(batch.office):
        raise QueueingError(_("Tanggal mulai diambil tidak boleh sebelum hari ini."))
    actor = actor_of(by)
    if actor != Actor.CLERK:
        raise QueueingError(_("Hanya petugas kabupaten yang menyimpan kartu untuk diambil."))
    outcome = StoreOutcome(stored=[], refused=[])
    for pk in print_batch_to_store(batch):
        try:
            outcome.stored.append(
                card_move(
                    card_request_id=pk,
                    to_status=S.READY_FOR_PICKUP,
                    actor=actor,
                    by=by,
                    expected_status=S.PRINTED,
                    event_note=system_text(gettext_noop("Disimpan dari batch %(batch)s"), batch=batch.number),
                    message=Message("request_stored_for_pickup", {"day": from_day.strftime("%d-%m-%Y")}),
                )
            )
        except CardRequestError as exc:
            outcome.refused.append((f"PKTP-{pk:06d}", str(exc)))
    return outcome


def print_batches_release(card_request: CardRequest, *, by: User | None, reason: str, closing: bool) -> None:
    """Workflow release hook: a request that closes, or leaves the batch routes, leaves every unprinted batch
    (so a batch never prints a cancelled card, and never a route-1 card)."""
    if closing or card_request.route not in BATCH_ROUTES:
        PrintBatch.card_requests.through.objects.filter(
            cardrequest_id=card_request.pk, printbatch__status=PrintBatch.Status.DRAFT
        ).delete()
