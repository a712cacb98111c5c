"""A card request's state in the words of the resident who asks "KTP saya sudah jadi belum?": what happens now
and what they have to do, their place in the line and the day to expect (an appointment's day, or an estimate
from the office's daily print capacity, said to be one).

Read-only: every fact comes from the request and what hangs off it (its appointment, shipment, dispatch), read
through the reverse relations the apps above declare, never by importing them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Avg, Q
from django.utils import translation

from cards.models import CardKind, CardRequest, Route, Submitter
from queueing.calendar import next_free_day, working_day_after
from queueing.models import QueueChannel, QuotaDefault
from registry import clock

S = CardRequest.Status

# How many requests one answer describes (a phone shared by a family may hold several).
MAX_REQUESTS = 4


def day_text(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def place_in_line(card_request: CardRequest) -> int:
    """The request's place among its printing office's print-ready requests, in the order they are worked
    (approved urgent first, then the oldest in line): one COUNT of those before it, plus one."""
    earlier = Q(queued_at__lt=card_request.queued_at) | Q(queued_at=card_request.queued_at, pk__lt=card_request.pk)
    ahead = (Q(is_urgent=True) & earlier) if card_request.is_urgent else (Q(is_urgent=True) | earlier)
    return CardRequest.objects.filter(ahead, office_id=card_request.office_id, status=S.READY_TO_PRINT).count() + 1


def daily_print_capacity(office_id: int) -> int:
    """The office's usual number of cards printed per working day (its default quotas)."""
    average = QuotaDefault.objects.filter(office_id=office_id, print_capacity__gt=0).aggregate(n=Avg("print_capacity"))
    return int(average["n"] or 0)


@dataclass(frozen=True)
class Expected:
    day: date | None
    estimate: bool  # an estimate from the place and the capacity, not an appointment


def expected_print_day(card_request: CardRequest, *, today: date, place: int) -> Expected:
    """A batch-printed request's likely print day: `place` divided by the daily capacity, in working days
    after today (as the calendar stands). None when the office has no capacity set or it lies beyond the
    calendar's window."""
    capacity = daily_print_capacity(card_request.office_id)
    if capacity <= 0:
        return Expected(None, True)
    days = math.ceil(place / capacity)
    return Expected(working_day_after(office=card_request.office, after=today, count=days), True)


def _place(card_request: CardRequest) -> str:
    office = card_request.pickup_office
    return f"{office.name} ({office.address})" if office.address else office.name


def _appointment(card_request: CardRequest) -> tuple[date, int] | None:
    booking = card_request.bookings.filter(status__in=["booked", "checked_in"]).order_by("-date").first()
    return (booking.date, booking.number) if booking else None


def _tracking(card_request: CardRequest) -> str:
    shipment = card_request.shipments.order_by("-shipped_at", "-id").first()
    return shipment.tracking_number if shipment else ""


def _arrived_at_uptd(card_request: CardRequest) -> bool:
    return CardRequest.objects.filter(pk=card_request.pk, dispatch_item__received_at__isnull=False).exists()


def _local_day(card_request: CardRequest, instant: datetime) -> date:
    return instant.astimezone(clock.zone_of(card_request.office)).date()


def _waiting_state(card_request: CardRequest, *, today: date, booking_open: bool) -> str:
    """Ready to print: what happens next on its route, its place in the line and the day to expect."""
    resident = card_request.resident
    if card_request.kind == CardKind.PEMULA and not resident.is_wajib_ktp_on(today):
        return "sudah lengkap. Kartu dicetak mulai ulang tahun Anda yang ke-17, saat wajib KTP; kami kabari lagi."
    place = place_in_line(card_request)
    line = f"Urutan Anda di antrean cetak: ke-{place}."
    if card_request.route == Route.COUNTER:
        first = next_free_day(office=card_request.office, channel=QueueChannel.WHATSAPP, after=today)
        how = (
            "pilih hari kedatangan dengan mengirim #nama lengkap#NIK#tanggal kedatangan"
            if booking_open
            else "tunggu undangan dari kami, atau ambil nomor antrean datang langsung"
        )
        text = f"sudah lengkap dan siap dicetak saat Anda datang ke {_place(card_request)}: {how}. {line}"
        if first is not None:
            text += f" Hari terdekat yang masih ada tempat: {day_text(first)}."
        return text
    where = {
        Route.COLLECT: f"lalu disimpan untuk diambil SENDIRI di {_place(card_request)}",
        Route.UPTD: f"lalu dikirim ke {_place(card_request)} untuk diambil di sana",
        Route.POST: "lalu dikirim lewat Pos Indonesia (bayar ongkos kurir di tempat)",
    }[Route(card_request.route)]
    text = f"sudah lengkap dan masuk daftar cetak, {where}. {line}"
    expected = expected_print_day(card_request, today=today, place=place)
    if expected.day is not None:
        text += (
            f" Perkiraan dicetak sekitar {day_text(expected.day)} (perkiraan dari kapasitas cetak harian, bukan janji)."
        )
    return text


def request_state(card_request: CardRequest, *, today: date, booking_open: bool = False) -> str:
    """One sentence (or three) saying where the request stands, in words a resident understands.
    `booking_open`: the office takes bookings by message (so a route-1 resident is told to book)."""
    status = card_request.status
    route = card_request.route
    place = _place(card_request)
    if status in (S.RECEIVED, S.VERIFYING):
        text = (
            "sudah diterima dan sedang diverifikasi petugas."
            if status == S.VERIFYING
            else ("sudah diterima dan menunggu verifikasi petugas.")
        )
        if card_request.kind == CardKind.PEMULA and not card_request.resident.biometric_recorded:
            text += f" Anda perlu perekaman biometrik (foto, sidik jari): datang ke {place} atau UPTD kecamatan."
        return text
    if status == S.INCOMPLETE:
        missing = "; ".join(card_request.missing_items) or "dokumen persyaratan"
        if card_request.submitted_by_kind == Submitter.UPTD_OPERATOR:
            return f"belum lengkap ({missing}). Kekurangannya sudah kami sampaikan kepada {place}."
        return f"belum lengkap. Mohon kirim: {missing}. Balas pesan ini dengan foto/PDF dokumennya."
    if status == S.READY_TO_PRINT:
        return _waiting_state(card_request, today=today, booking_open=booking_open)
    if status == S.SCHEDULED:
        appointment = _appointment(card_request)
        if appointment is None:
            return "sudah dijadwalkan; jadwalnya kami kirim ke nomor yang terdaftar."
        day, number = appointment
        return (
            f"dijadwalkan pada {day_text(day)} di {card_request.office.name}, nomor antrean {number}. "
            "Datang SENDIRI sesuai tanggal; kartu dicetak saat Anda datang."
        )
    if status == S.PRINTED:
        return {
            Route.COUNTER: "sudah dicetak dan diserahkan di loket setelah verifikasi sidik jari.",
            Route.COLLECT: f"sudah dicetak; kami kabari begitu dapat diambil di {place}.",
            Route.UPTD: f"sudah dicetak dan segera dikirim ke {place}; kami kabari begitu tiba di sana.",
            Route.POST: "sudah dicetak dan segera dikirim lewat Pos Indonesia; kami kirim nomor resinya.",
        }[Route(route)]
    if status == S.READY_FOR_PICKUP:
        since = _local_day(card_request, card_request.status_changed_at)
        return (
            f"sudah jadi dan dapat diambil SENDIRI di {place} mulai {day_text(since)} pada jam layanan "
            "(verifikasi sidik jari dan aktivasi). Bawa KTP lama bila ada."
        )
    if status == S.SHIPPED:
        tracking = _tracking(card_request)
        resi = f", nomor resi {tracking}" if tracking else ""
        return f"sudah dikirim lewat Pos Indonesia{resi}. Siapkan ongkos kurir (bayar di tempat)."
    if status == S.SENT_TO_UPTD:
        if _arrived_at_uptd(card_request):
            return f"sudah tiba di {place}. Silakan ambil SENDIRI di sana (verifikasi sidik jari dan aktivasi)."
        return f"sudah dikirim ke {place}; kami kabari begitu tiba di sana."
    if status == S.HANDED_OVER:
        return f"sudah diserahkan pada {day_text(_local_day(card_request, card_request.status_changed_at))}."
    if status == S.REJECTED:
        return f"ditolak. Alasan: {card_request.status_reason or '-'}."
    return f"dibatalkan. Alasan: {card_request.status_reason or '-'}."


def requests_to_describe(resident_ids) -> list[CardRequest]:
    """The requests a status answer describes: every open one, else the latest closed one, per resident."""
    rows = list(
        CardRequest.objects.filter(resident_id__in=list(resident_ids))
        .select_related("resident", "office", "pickup_office")
        .order_by("resident_id", "-created_at", "-id")
    )
    chosen: list[CardRequest] = []
    for resident_id in dict.fromkeys(r.resident_id for r in rows):
        own = [r for r in rows if r.resident_id == resident_id]
        open_ones = [r for r in own if r.is_open]
        chosen += open_ones or own[:1]
    return chosen[:MAX_REQUESTS]


def status_answer(card_requests: list[CardRequest], *, today: date, booking_open: bool = False) -> str:
    """The body of a status answer: one paragraph per request (number, kind, holder, state)."""
    with translation.override("id"):
        paragraphs = [
            f"Permohonan KTP-el {cr.number} ({CardKind(cr.kind).label.lower()}) atas nama {cr.resident.full_name}: "
            + request_state(cr, today=today, booking_open=booking_open)
            for cr in card_requests
        ]
    return "\n\n".join(paragraphs)
