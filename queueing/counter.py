"""The counter (loket): walk-in numbers up to the day's walk-in quota, the day's one call queue (checked-in
appointments and walk-in numbers, by arrival), a walk-in tied to the resident's request and served the same
day from the walk-in place its number holds, and the day's list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from cards.models import Actor, CardRequest, CardRequestEvent, Route
from cards.workflow import CardRequestError, card_move, print_ready_problem
from messaging.system_text import system_text
from queueing.appointments import OPEN_CALLS, _free_place, day_text
from queueing.calendar import printing_office, service_day_get, short_lock_timeout
from queueing.errors import QueueingError, QuotaExhausted
from queueing.models import Booking, CallStatus, QueueChannel, ServiceDay, WalkInTicket
from registry import clock
from registry.models import Office, Resident, User

S = CardRequest.Status
B = Booking.Status


# --- walk-in numbers ------------------------------------------------------------------------------------


def ticket_issue(*, office: Office, by: User | None, today: date | None = None) -> WalkInTicket:
    """Hand out the next walk-in number for today. Invariants: never more tickets than the day's walk-in quota
    (within its print capacity), and numbers 1, 2, 3 ... without gaps: the place, the number and the ticket
    are one transaction. The ticket holds its walk-in place for good (the resident is served from it)."""
    office = printing_office(office)
    today = today or clock.today(office)
    day = service_day_get(office=office, day=today)
    if not day.is_open:
        raise QueueingError(_("Hari ini kantor tidak melayani."))
    with transaction.atomic():
        short_lock_timeout()
        taken = ServiceDay.objects.filter(
            pk=day.pk,
            is_open=True,
            booked_walk_in__lt=F("cap_walk_in"),
            booked_total__lt=F("print_capacity") - F("batch_printed"),
        ).update(
            booked_walk_in=F("booked_walk_in") + 1, booked_total=F("booked_total") + 1, last_ticket=F("last_ticket") + 1
        )
        if not taken:
            raise QuotaExhausted(
                _("Nomor antrean datang langsung hari ini sudah habis (%(cap)d). Silakan ambil jadwal lewat WhatsApp.")
                % {"cap": day.cap_walk_in}
            )
        number = ServiceDay.objects.filter(pk=day.pk).values_list("last_ticket", flat=True).get()
        return WalkInTicket.objects.create(day=day, number=number, issued_by=by, issued_at=clock.now())


def walk_in_room_today(*, office: Office) -> int:
    """Walk-in numbers left today."""
    office = printing_office(office)
    return service_day_get(office=office, day=clock.today(office)).room(QueueChannel.WALK_IN)


# --- a walk-in served the same day ----------------------------------------------------------------------


def walk_in_serve(*, ticket_id: int, card_request_id: int, office: Office, by: User) -> Booking | None:
    """Tie a walk-in number to the resident's request and serve it today from the walk-in place the number
    already holds: a walk-in appointment for today (already arrived; no second place is taken) and the
    workflow's move to scheduled. None when the request is tied but not ready to print yet (verify it, then
    serve again).

    A resident with an appointment today is checked in through this number; one whose appointment is another
    day has it released (its place given back) and is served today instead. Invariants: one request per
    number and one number per walk-in appointment (compare-and-set, a unique key behind it); locks in the
    order request, number, day, as a closing request's release takes them.
    """
    office = printing_office(office)
    today = clock.today(office)
    with transaction.atomic():
        card_request = (
            CardRequest.objects.select_for_update(of=("self",)).select_related("resident").get(pk=card_request_id)
        )
        ticket = (
            WalkInTicket.objects.select_for_update(of=("self",))
            .select_related("day")
            .filter(pk=ticket_id, day__office=office)
            .first()
        )
        if ticket is None:
            raise QueueingError(_("Nomor antrean tidak ditemukan."))
        _check_servable(ticket, card_request, office=office, today=today)
        if ticket.card_request_id is None:
            if not WalkInTicket.objects.filter(pk=ticket.pk, card_request__isnull=True).update(
                card_request=card_request
            ):
                raise QueueingError(_("Nomor ini baru saja dihubungkan petugas lain."))
            ticket.card_request = card_request
            CardRequestEvent.objects.create(
                card_request=card_request,
                at=clock.now(),
                by=by,
                action=CardRequestEvent.Action.WALK_IN,
                note=system_text(gettext_noop("Datang langsung, nomor antrean %(label)s"), label=ticket.label),
            )
        if card_request.status in (S.RECEIVED, S.VERIFYING, S.INCOMPLETE):
            return None
        if card_request.status == S.SCHEDULED:
            existing = _appointment_for_today(card_request, ticket=ticket, today=today, by=by)
            if existing is not None:
                return existing
        if problem := print_ready_problem(card_request, on=today):
            raise QueueingError(problem)
        try:
            card_move(
                card_request_id=card_request.pk,
                to_status=S.SCHEDULED,
                actor=Actor.BOOKING,
                by=by,
                expected_status=S.READY_TO_PRINT,
                message=None,  # the resident is at the counter
                event_note=system_text(
                    gettext_noop("Dilayani hari ini dari kuota datang langsung, nomor %(label)s"), label=ticket.label
                ),
            )
        except CardRequestError as refused:
            raise QueueingError(str(refused)) from refused
        # The appointment's number (the last statement: the day row is locked only until the commit).
        ServiceDay.objects.filter(pk=ticket.day_id).update(last_number=F("last_number") + 1)
        number = ServiceDay.objects.filter(pk=ticket.day_id).values_list("last_number", flat=True).get()
        now = clock.now()
        return Booking.objects.create(
            card_request=card_request, day_id=ticket.day_id, office=office, date=today, channel=QueueChannel.WALK_IN,
            number=number, status=B.CHECKED_IN, checked_in_at=now, checked_in_by=by, ticket=ticket, created_by=by,
            created_at=now,
        )  # fmt: skip


def _check_servable(ticket: WalkInTicket, card_request: CardRequest, *, office: Office, today: date) -> None:
    if ticket.day.date != today:
        raise QueueingError(_("Nomor antrean %(label)s bukan untuk hari ini.") % {"label": ticket.label})
    if ticket.status not in OPEN_CALLS:
        raise QueueingError(
            _("Nomor %(label)s sudah selesai (%(status)s).")
            % {"label": ticket.label, "status": ticket.get_status_display()}
        )
    if ticket.card_request_id not in (None, card_request.pk):
        raise QueueingError(_("Nomor %(label)s sudah dihubungkan ke permohonan lain.") % {"label": ticket.label})
    if card_request.office_id != office.pk:
        raise QueueingError(_("Permohonan ini dicetak di kantor lain."))
    if card_request.status not in CardRequest.BEFORE_PRINTING:
        raise QueueingError(
            _("Permohonan %(number)s sudah '%(status)s': tidak dilayani lagi di loket.")
            % {"number": card_request.number, "status": card_request.get_status_display()}
        )
    if card_request.route != Route.COUNTER:
        raise QueueingError(
            _(
                "Rute kartu %(number)s '%(route)s'. Bila penduduk ingin menunggu kartunya di loket, ubah dulu rutenya "
                "menjadi 'Cetak di loket' di halaman permohonan."
            )
            % {"number": card_request.number, "route": card_request.get_route_display()}
        )
    if (
        ticket.card_request_id is None
        and WalkInTicket.objects.filter(card_request=card_request, day=ticket.day, status__in=OPEN_CALLS)
        .exclude(pk=ticket.pk)
        .exists()
    ):
        raise QueueingError(_("Permohonan ini sudah punya nomor antrean lain hari ini."))


def _appointment_for_today(card_request: CardRequest, *, ticket: WalkInTicket, today: date, by: User) -> Booking | None:
    """A scheduled request at the counter: its appointment today is served through this number (checked in
    if it was not); an appointment on another day is released, its place given back, so the request can be
    served today from the walk-in place (None: go on)."""
    booking = Booking.objects.filter(card_request=card_request, status__in=[B.BOOKED, B.CHECKED_IN]).order_by("-date")[
        :1
    ]
    booking = booking[0] if booking else None
    if booking is None:
        raise QueueingError(_("Permohonan terjadwal tanpa jadwal aktif; hubungi administrator."))
    now = clock.now()
    if booking.date == today:
        if booking.ticket_id == ticket.pk:
            return booking
        if booking.status == B.CHECKED_IN:
            raise QueueingError(
                _("Penduduk ini sudah hadir dengan nomor antrean %(number)d hari ini.") % {"number": booking.number}
            )
        # Booked for today: checked in through this number, which is its entry in the call queue.
        if not Booking.objects.filter(pk=booking.pk, status=B.BOOKED, ticket__isnull=True).update(
            status=B.CHECKED_IN, checked_in_at=now, checked_in_by=by, ticket=ticket
        ):
            raise QueueingError(_("Jadwal ini baru saja diubah petugas lain."))
        CardRequestEvent.objects.create(
            card_request=card_request,
            at=now,
            by=by,
            action=CardRequestEvent.Action.CHECKED_IN,
            note=system_text(
                gettext_noop("Hadir, nomor antrean %(number)d (lewat nomor %(label)s)"),
                number=booking.number,
                label=ticket.label,
            ),
        )
        booking.refresh_from_db()
        return booking
    if booking.status != B.BOOKED:
        raise QueueingError(_("Jadwal %(day)s sudah tidak aktif.") % {"day": day_text(booking.date)})
    # Another day: released, and served today from the walk-in place.
    try:
        card_move(
            card_request_id=card_request.pk,
            to_status=S.READY_TO_PRINT,
            actor=Actor.BOOKING,
            by=by,
            expected_status=S.SCHEDULED,
            message=None,
            event_note=system_text(
                gettext_noop(
                    "Jadwal %(day)s nomor %(number)d dilepas: datang hari ini, dilayani dari kuota datang langsung"
                ),
                day=day_text(booking.date),
                number=booking.number,
            ),
        )
    except CardRequestError as refused:
        raise QueueingError(str(refused)) from refused
    if not Booking.objects.filter(pk=booking.pk, status=B.BOOKED).update(status=B.MOVED, ended_at=now):
        raise QueueingError(_("Jadwal ini baru saja diubah petugas lain."))
    _free_place(day_id=booking.day_id, channel=booking.channel, urgent=booking.urgent)
    card_request.refresh_from_db(fields=["status"])
    return None


def walk_in_request_of(*, resident: Resident, office: Office) -> CardRequest | None:
    """The resident's open request (printed by this office, not printed yet) that a walk-in is served for:
    route 1 first, then the furthest along."""
    candidates = CardRequest.objects.filter(
        resident=resident, office=printing_office(office), status__in=CardRequest.BEFORE_PRINTING
    )
    order = [S.SCHEDULED, S.READY_TO_PRINT]
    return min(
        candidates,
        key=lambda cr: (cr.route != Route.COUNTER, order.index(cr.status) if cr.status in order else len(order), cr.pk),
        default=None,
    )


def walk_in_for_booking(*, booking_id: int, office: Office, by: User) -> tuple[WalkInTicket, Booking]:
    """A resident who came on the wrong day, served from today's walk-in places: a walk-in number is issued and
    tied to their request at once (their other appointment released). Refused whole, with no number taken,
    when no walk-in place is left today."""
    office = printing_office(office)
    booking = Booking.objects.filter(pk=booking_id, office=office, status=B.BOOKED).first()
    if booking is None:
        raise QueueingError(_("Jadwal ini sudah tidak aktif."))
    with transaction.atomic():
        # The request first, as every other path locks it before the day row.
        CardRequest.objects.select_for_update(of=("self",)).filter(pk=booking.card_request_id).exists()
        ticket = ticket_issue(office=office, by=by)
        served = walk_in_serve(ticket_id=ticket.pk, card_request_id=booking.card_request_id, office=office, by=by)
    if served is None:  # pragma: no cover - a scheduled request is always ready to serve
        raise QueueingError(_("Permohonan ini belum siap dilayani."))
    return ticket, served


# --- the call queue -------------------------------------------------------------------------------------


def _claim_ticket(ticket: WalkInTicket, *, counter: str, by: User, now: datetime) -> bool:
    return bool(
        WalkInTicket.objects.filter(pk=ticket.pk, status=CallStatus.WAITING).update(
            status=CallStatus.CALLED, counter=counter, called_at=now, called_by=by
        )
    )


def _claim_booking(booking: Booking, *, counter: str, by: User, now: datetime) -> bool:
    return bool(
        Booking.objects.filter(pk=booking.pk, status=B.CHECKED_IN, call_status=CallStatus.WAITING).update(
            call_status=CallStatus.CALLED, counter=counter, called_at=now, called_by=by
        )
    )


def call_next(*, office: Office, counter: str, by: User) -> WalkInTicket | Booking | None:
    """The day's one call queue: the checked-in appointment or walk-in number that arrived first (check-in
    time against the number's issue time), claimed for this counter. Two counters never get the same entry:
    each skips the rows another holds (SKIP LOCKED), and the claim is a compare-and-set. None when nobody
    waits."""
    office = printing_office(office)
    today = clock.today(office)
    counter = counter.strip()[:20]
    for _attempt in range(10):
        with transaction.atomic():
            booking = (
                Booking.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    office=office, date=today, status=B.CHECKED_IN, ticket__isnull=True, call_status=CallStatus.WAITING
                )
                .order_by("checked_in_at", "id")
                .first()
            )
            ticket = (
                WalkInTicket.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(day__office=office, day__date=today, status=CallStatus.WAITING)
                .order_by("issued_at", "number")
                .first()
            )
            if booking is None and ticket is None:
                return None
            now = clock.now()
            if ticket is not None and (booking is None or ticket.issued_at <= booking.checked_in_at):
                if _claim_ticket(ticket, counter=counter, by=by, now=now):
                    ticket.refresh_from_db()
                    return ticket
            elif _claim_booking(booking, counter=counter, by=by, now=now):
                booking.refresh_from_db()
                return booking
    return None


ENTRY_OUTCOMES = (CallStatus.SERVED, CallStatus.ABSENT)


def entry_end(*, office: Office, entry: str, outcome: str, by: User) -> WalkInTicket | Booking:
    """A called entry ends served or absent (compare-and-set from called). `entry` is "t<id>" for a walk-in
    number or "b<id>" for an appointment, scoped to the office's today."""
    office = printing_office(office)
    today = clock.today(office)
    outcome = CallStatus(outcome)
    if outcome not in ENTRY_OUTCOMES:
        raise QueueingError(_("Pilih: selesai dilayani atau tidak ada."))
    kind, _sep, raw_id = entry.partition("-")
    if not raw_id.isdigit() or kind not in ("t", "b"):
        raise QueueingError(_("Antrean tidak ditemukan."))
    if kind == "t":
        rows = WalkInTicket.objects.filter(pk=int(raw_id), day__office=office, day__date=today)
        ended = rows.filter(status=CallStatus.CALLED).update(status=outcome, ended_at=clock.now())
    else:
        rows = Booking.objects.filter(pk=int(raw_id), office=office, date=today, ticket__isnull=True)
        ended = rows.filter(status=B.CHECKED_IN, call_status=CallStatus.CALLED).update(call_status=outcome)
    row = rows.first()
    if row is None:
        raise QueueingError(_("Antrean tidak ditemukan."))
    if not ended:
        raise QueueingError(_("Antrean %(label)s belum dipanggil atau sudah selesai.") % {"label": row.label})
    return row


def entry_served_for(*, card_request_id: int) -> bool:
    """For printing at the counter, in its transaction: the request's call-queue entry of today (its
    checked-in appointment, or the walk-in number tied to it) ends served and the appointment is concluded.
    Idempotent; False when the request had no entry today."""
    card_request = CardRequest.objects.select_related("office").get(pk=card_request_id)
    today = clock.today(card_request.office)
    now = clock.now()
    bookings = Booking.objects.filter(card_request_id=card_request_id, date=today, status=B.CHECKED_IN)
    tickets = WalkInTicket.objects.filter(card_request_id=card_request_id, day__date=today)
    had_entry = bookings.exists() or tickets.exists()
    bookings.filter(ticket__isnull=True).exclude(call_status=CallStatus.SERVED).update(call_status=CallStatus.SERVED)
    bookings.filter(ended_at__isnull=True).update(ended_at=now)
    tickets.exclude(status=CallStatus.SERVED).update(status=CallStatus.SERVED, ended_at=now)
    return had_entry


# --- the day's list -------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One line of the counter's day list."""

    key: str  # "t-<id>" or "b-<id>" (what the end-of-call form posts)
    label: str
    state: str  # expected, waiting, called, served, absent, no_show
    arrived_at: datetime | None
    card_request: CardRequest | None
    booking: Booking | None = None
    ticket: WalkInTicket | None = None
    counter: str = ""

    @property
    def state_label(self) -> str:
        return str(STATES[self.state])

    @property
    def is_called(self) -> bool:
        return self.state == CallStatus.CALLED

    @property
    def can_be_served(self) -> bool:
        """A called walk-in number not yet tied to a request scheduled for today."""
        return self.ticket is not None and self.is_called and self.booking is None


STATES = {
    "expected": gettext_lazy("Dijadwalkan, belum datang"),
    CallStatus.WAITING: gettext_lazy("Hadir, menunggu dipanggil"),
    CallStatus.CALLED: gettext_lazy("Dipanggil"),
    CallStatus.SERVED: gettext_lazy("Selesai dilayani"),
    CallStatus.ABSENT: gettext_lazy("Tidak ada saat dipanggil"),
    "no_show": gettext_lazy("Tidak hadir"),
}


@dataclass
class DayList:
    day: ServiceDay
    entries: list[Entry] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def count_rows(self) -> list[tuple[str, str, int]]:
        """(state, label, count) for every state, in the list's order."""
        return [(state, str(label), self.counts[state]) for state, label in STATES.items()]

    @property
    def queue(self) -> list[Entry]:
        """The call queue in the order it is called."""
        return [e for e in self.entries if e.state == CallStatus.WAITING]


def counter_day(*, office: Office, day: date | None = None) -> DayList:
    """The counter's list of a day: appointments expected, arrivals waiting in the one call queue (by
    arrival), called, served, absent, and no-shows, with their counts. Two queries whatever the rows."""
    office = printing_office(office)
    day = day or clock.today(office)
    service_day = service_day_get(office=office, day=day)
    entries: list[Entry] = []
    bookings = (
        Booking.objects.filter(office=office, date=day, status__in=[B.BOOKED, B.CHECKED_IN, B.NO_SHOW])
        .filter(ticket__isnull=True)
        .select_related("card_request__resident")
        .order_by("number")
    )
    for booking in bookings:
        if booking.status == B.BOOKED:
            state = "expected"
        elif booking.status == B.NO_SHOW:
            state = "no_show"
        else:
            state = booking.call_status or CallStatus.WAITING
        entries.append(
            Entry(
                key=f"b-{booking.pk}",
                label=booking.label,
                state=state,
                arrived_at=booking.checked_in_at,
                card_request=booking.card_request,
                booking=booking,
                counter=booking.counter,
            )  # fmt: skip
        )
    tickets = (
        WalkInTicket.objects.filter(day=service_day)
        .select_related("card_request__resident", "booking")
        .order_by("number")
    )
    for ticket in tickets:
        booking = getattr(ticket, "booking", None)
        entries.append(
            Entry(
                key=f"t-{ticket.pk}",
                label=ticket.label,
                state=ticket.status,
                arrived_at=ticket.issued_at,
                card_request=ticket.card_request,
                booking=booking,
                ticket=ticket,
                counter=ticket.counter,
            )  # fmt: skip
        )
    order = list(STATES)
    far = datetime.max.replace(tzinfo=clock.now().tzinfo)
    entries.sort(key=lambda e: (order.index(e.state), e.arrived_at or far, e.label))
    counts = dict.fromkeys(STATES, 0)
    for entry in entries:
        counts[entry.state] += 1
    counts["arrived"] = counts[CallStatus.WAITING] + counts[CallStatus.CALLED] + counts[CallStatus.SERVED]
    counts["arrived"] += counts[CallStatus.ABSENT]
    return DayList(day=service_day, entries=entries, counts=counts)
