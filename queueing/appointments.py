"""Route 1's arrival appointments: never more than a day's channel quota and print capacity, whatever the
concurrency. A place is taken with one conditional UPDATE on the office-day row (CHECK constraints behind it);
the request's move to scheduled is asked of the workflow (cards.workflow.card_move), never written here.
Check-in, no-shows at the end of the office's day, and closing a day."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.core import signing
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cards.models import Actor, CardKind, CardRequest, CardRequestEvent, Route
from cards.workflow import CardRequestError, Message, card_move, card_move_set_based, print_ready_problem
from messaging.system_text import system_text, system_text_join
from queueing.calendar import (
    LOCK_TIMEOUT_MS,
    next_free_day,
    next_free_day_python,
    next_free_day_sql,
    printing_office,
    service_day_get,
    short_lock_timeout,
)
from queueing.errors import AlreadyCheckedIn, DayUnavailable, QueueingError, WrongDay
from queueing.models import (
    Booking,
    CallStatus,
    Closure,
    OpeningHours,
    QueueChannel,
    ServiceDay,
    WalkInTicket,
)
from registry import clock
from registry.models import Office, User

__all__ = ["DayUnavailable", "QueueingError", "booking_book"]

S = CardRequest.Status
B = Booking.Status

# The channels an appointment is booked from (by message, an invitation, a UPTD). Walk-in places are taken by
# walk-in numbers at the counter, for the same day (queueing.counter).
BOOKED_CHANNELS = frozenset({QueueChannel.WHATSAPP, QueueChannel.INVITATION, QueueChannel.UPTD})
# After this many missed appointments a request is no longer invited: it waits until the resident asks again.
NO_SHOWS_BEFORE_WAITING = 2
# Queue entries not yet ended.
OPEN_CALLS = (CallStatus.WAITING, CallStatus.CALLED)


def day_text(day: date) -> str:
    return day.strftime("%d-%m-%Y")


# --- taking a place -------------------------------------------------------------------------------------


def _free_place(*, day_id: int, channel: str, urgent: bool) -> None:
    """Give a place back to its day (the CHECK constraints refuse a count below zero)."""
    counter = "booked_urgent" if urgent else f"booked_{channel}"
    freed = ServiceDay.objects.filter(pk=day_id).update(booked_total=F("booked_total") - 1, **{counter: F(counter) - 1})
    if freed != 1:
        raise QueueingError(_("Hari layanan tidak ditemukan."))


@dataclass(frozen=True)
class _Ready:
    """What booking needs to know about a request, and a plain snapshot of the wished day's row, read in one
    statement."""

    id: int
    status: str
    route: str
    kind: str
    is_urgent: bool
    office_id: int
    time_zone: str  # the printing office's, for its "today"
    office_name: str
    day: ServiceDay | None

    @property
    def number(self) -> str:
        return f"PKTP-{self.id:06d}"


_READY_SQL = """
SELECT cr.id, cr.status, cr.route, cr.kind, cr.is_urgent, cr.office_id, o.time_zone, o.name,
       d.id, d.is_open, d.print_capacity, d.booked_total, d.booked_urgent,
       d.cap_whatsapp, d.booked_whatsapp, d.cap_walk_in, d.booked_walk_in,
       d.cap_invitation, d.booked_invitation, d.cap_uptd, d.booked_uptd, d.last_number, d.batch_printed
  FROM registry_cardrequest cr
  JOIN registry_office o ON o.id = cr.office_id
  LEFT JOIN queueing_serviceday d ON d.office_id = cr.office_id AND d.date = %s
 WHERE cr.id = %s
"""
_DAY_COLUMNS = (
    "id", "is_open", "print_capacity", "booked_total", "booked_urgent", "cap_whatsapp", "booked_whatsapp",
    "cap_walk_in", "booked_walk_in", "cap_invitation", "booked_invitation", "cap_uptd", "booked_uptd", "last_number",
    "batch_printed",
)  # fmt: skip


def _read_ready(card_request_id: int, wish: date | None) -> _Ready:
    with connection.cursor() as cursor:
        cursor.execute(_READY_SQL, [wish, card_request_id])
        row = cursor.fetchone()
    if row is None:
        raise CardRequest.DoesNotExist(card_request_id)
    head, day_values = row[:8], row[8:]
    day = None
    if day_values[0] is not None:
        day = ServiceDay(office_id=head[5], date=wish, **dict(zip(_DAY_COLUMNS, day_values, strict=True)))
    return _Ready(*head, day=day)


# PostgreSQL: taking a place is ONE autocommitted statement, like the bare `UPDATE ... WHERE booked <
# capacity`: the office-day row, which every booker wants, is locked only while that statement and its
# commit run, never while Python prepares the next one. The InitPlan sets, for the statement's own
# transaction and before the row is locked, the short lock timeout and an asynchronous commit: the row is
# released without waiting for the WAL flush, and the booking's own (synchronous) commit right after flushes
# this one too, so a booking that is confirmed is never lost; a place lost by a crash before that was never
# confirmed to anyone. Only a request ready to print takes a place (read here, never written). Cards printed in
# a batch that day hold print places too.
_TAKE_PLACE_SQL = """
UPDATE queueing_serviceday
   SET booked_total = booked_total + 1, last_number = last_number + 1, {counter} = {counter} + 1
 WHERE id = %(day)s AND is_open AND booked_total + batch_printed < print_capacity {channel_condition}
   AND EXISTS (SELECT 1 FROM registry_cardrequest WHERE id = %(card_request)s AND status = 'ready_to_print')
   AND (SELECT set_config('lock_timeout', %(lock_timeout)s, true)
               || set_config('synchronous_commit', %(synchronous_commit)s, true)) IS NOT NULL
RETURNING last_number
"""


def _take_place(ready: _Ready, day: ServiceDay, channel: str) -> int | None:
    """Compare-and-set one place on the day; the queue number it got, or None when there is no room."""
    urgent = ready.is_urgent
    counter = "booked_urgent" if urgent else f"booked_{channel}"
    if connection.vendor == "postgresql":
        channel_condition = "" if urgent else f"AND booked_{channel} < cap_{channel}"
        params = {
            "day": day.pk,
            "card_request": ready.id,
            "lock_timeout": f"{LOCK_TIMEOUT_MS}ms",
            # Asynchronous only when this statement is its own transaction: inside a caller's transaction
            # (a reschedule, a day closed) the setting would cover everything that transaction commits.
            "synchronous_commit": "on" if connection.in_atomic_block else "off",
        }
        with connection.cursor() as cursor:
            cursor.execute(_TAKE_PLACE_SQL.format(counter=counter, channel_condition=channel_condition), params)
            row = cursor.fetchone()
        return row[0] if row else None
    # SQLite (the embedded default) serialises writers: the same compare-and-set with the ORM.
    condition = Q(pk=day.pk, is_open=True, booked_total__lt=F("print_capacity") - F("batch_printed"))
    if not urgent:
        condition &= Q(**{f"{counter}__lt": F(f"cap_{channel}")})
    with transaction.atomic():
        taken = ServiceDay.objects.filter(condition).update(
            booked_total=F("booked_total") + 1, last_number=F("last_number") + 1, **{counter: F(counter) + 1}
        )
        if not taken:
            return None
        return ServiceDay.objects.filter(pk=day.pk).values_list("last_number", flat=True).get()


# The resident's message for a new appointment: (day, queue number) -> Message, or None for no message.
MessageFor = Callable[[date, int], Message | None]


def _default_message(channel: str) -> MessageFor:
    template = "invitation" if channel == QueueChannel.INVITATION else "booking_confirmed"
    return lambda day, number: Message(template, {"day": day_text(day), "queue": number})


def _record_booking(
    ready: _Ready, day: ServiceDay, number: int, channel: QueueChannel, by: User | None, message_for: MessageFor
) -> Booking:
    """Write the appointment for a place already taken, in one short transaction: the workflow moves the
    request to scheduled (only if it is still ready to print; its event and the resident's message with it),
    and the booking row."""
    note = system_text(
        gettext_noop("Jadwal %(day)s, nomor antrean %(number)s (%(channel)s)"),
        day=day_text(day.date),
        number=number,
        channel=channel.label,
    )
    message = message_for(day.date, number)
    if message is not None:
        message = Message(message.template, {"office": ready.office_name, "place": ready.office_name, **message.values})
    move = {
        "card_request_id": ready.id,
        "from_status": S.READY_TO_PRINT,
        "to_status": S.SCHEDULED,
        "actor": Actor.BOOKING,
        "by": by,
        "event_note": note,
        "message": message,
    }
    stale = CardRequestError(
        _("Permohonan %(number)s baru saja diubah; muat ulang halaman.") % {"number": ready.number}
    )
    values = {
        "day_id": day.pk, "office_id": day.office_id, "date": day.date, "channel": channel, "urgent": ready.is_urgent,
        "number": number, "created_by_id": by.pk if by else None, "created_at": clock.now(),
    }  # fmt: skip
    if connection.vendor == "postgresql":
        # One statement: the workflow's move (status, event, message) and this app's booking row with it; under
        # 200 bookers at once, round trips are the cost.
        booking_id = card_move_set_based(**move, attached_sql=_BOOKING_INSERT_SQL, attached_params=values)
        if booking_id is None:
            raise stale
        return Booking(pk=booking_id, card_request_id=ready.id, status=Booking.Status.BOOKED, **values)
    with transaction.atomic():
        booking = Booking.objects.create(card_request_id=ready.id, **values)
        if card_move_set_based(**move) is None:
            raise stale
        return booking


# The booking row, written in the workflow's statement exactly when the request moves (reads `moved(id)`).
_BOOKING_INSERT_SQL = """
    INSERT INTO queueing_booking (card_request_id, day_id, office_id, date, channel, urgent, number, status,
                                  created_by_id, created_at, call_status, counter)
    SELECT id, %(day_id)s, %(office_id)s, %(date)s, %(channel)s, %(urgent)s, %(number)s, 'booked',
           %(created_by_id)s, %(created_at)s, '', ''
      FROM moved
 RETURNING id
"""


def _book_on_day(
    ready: _Ready, day: ServiceDay, channel: QueueChannel, by: User | None, message_for: MessageFor
) -> Booking | None:
    """Take a place, then record the appointment (two statements, so the hot row is locked only for the
    first). A place whose appointment cannot be written is given back at once; one left taken by a crash in
    between is given back by `service_days_reconcile`."""
    number = _take_place(ready, day, channel)
    if number is None:
        return None
    try:
        return _record_booking(ready, day, number, channel, by, message_for)
    except CardRequestError as refused:
        _free_place(day_id=day.pk, channel=channel, urgent=ready.is_urgent)
        raise QueueingError(str(refused)) from refused
    except BaseException:
        _free_place(day_id=day.pk, channel=channel, urgent=ready.is_urgent)
        raise


def _unavailable(*, office_id: int, channel: str, day: ServiceDay, urgent: bool) -> DayUnavailable:
    # office_id is the request's printing office, a Disdukcapil: its calendar is the one that counts.
    search = next_free_day_sql if connection.vendor == "postgresql" else next_free_day_python
    next_free = search(office_id=office_id, channel=channel, after=day.date, urgent=urgent)
    return DayUnavailable(
        _("Tanggal %(day)s %(reason)s. Hari terdekat yang masih ada tempat: %(next)s.")
        % {
            "day": day_text(day.date),
            "reason": _("penuh") if day.is_open else _("tutup"),
            "next": day_text(next_free) if next_free else _("belum ada"),
        },
        next_free=next_free,
    )


def _check_bookable(ready: _Ready, channel: QueueChannel) -> None:
    if channel not in BOOKED_CHANNELS:
        raise QueueingError(
            _("Kuota datang langsung dipakai lewat nomor antrean di loket, untuk hari itu juga; pilih kuota lain.")
        )
    if ready.route != Route.COUNTER:
        raise QueueingError(
            _(
                "Permohonan %(number)s rutenya '%(route)s': kartunya dicetak dalam batch, tanpa jadwal kedatangan. "
                "Hanya rute 'Cetak di loket' yang dijadwalkan."
            )
            % {"number": ready.number, "route": Route(ready.route).label}
        )
    if ready.status != S.READY_TO_PRINT:
        raise QueueingError(
            _("Permohonan %(number)s belum siap cetak (%(status)s): belum bisa dijadwalkan.")
            % {"number": ready.number, "status": S(ready.status).label}
        )


def _pemula_not_before(ready: _Ready, today: date) -> tuple[CardRequest | None, date | None]:
    """A pemula card is printed only from the day the resident is wajib KTP: the earliest appointment day
    (None: any day), with the request for `print_ready_problem`."""
    if ready.kind != CardKind.PEMULA:
        return None, None
    card_request = CardRequest.objects.select_related("resident").get(pk=ready.id)
    resident = card_request.resident
    if resident.is_wajib_ktp_on(today + timedelta(days=1)):
        return card_request, None
    return card_request, resident.wajib_ktp_from()


def booking_book(
    *,
    card_request_id: int,
    channel: str,
    by: User | None,
    wish: date | None = None,
    today: date | None = None,
    after: date | None = None,
    message_for: MessageFor | None = None,
) -> Booking:
    """Give a route-1 request ready to print a day and a queue number: the wished day, or the first day with
    room after today (or after `after`, never earlier).

    Invariants: never more bookings than a day's channel quota and print capacity (compare-and-set on the
    office-day row, CHECK constraints behind it); one active appointment per request (only a ready-to-print
    request is booked, and the workflow moves it to scheduled or refuses, in the same transaction as the
    booking row; a partial unique index behind it); only route 1 (printed at the counter) takes
    appointments; a pemula appointment is never before the day the resident is wajib KTP; a full or closed
    day is refused at once, with the next free day. Approved urgent requests skip the channel quota, not the
    print capacity.

    Call it outside a transaction where possible: the place is taken in a statement of its own, so the
    office-day row is never locked while anything else happens.
    """
    channel = QueueChannel(channel)
    ready = _read_ready(card_request_id, wish)
    _check_bookable(ready, channel)
    today = today or clock.today(ready)
    message_for = message_for or _default_message(channel)
    pemula, not_before = _pemula_not_before(ready, today)

    def check_print_ready(day: date) -> None:
        if pemula is not None and (problem := print_ready_problem(pemula, on=day)):
            raise QueueingError(problem)

    if wish is not None:
        if wish <= today:
            office = Office.objects.get(pk=ready.office_id)
            raise DayUnavailable(
                _("Tanggal kedatangan harus setelah hari ini."),
                next_free=next_free_day(office=office, channel=channel, after=today, urgent=ready.is_urgent),
            )
        check_print_ready(wish)
        day = ready.day or service_day_get(office=Office.objects.get(pk=ready.office_id), day=wish)
        booking = (
            _book_on_day(ready, day, channel, by, message_for)
            if day.room(channel, urgent=ready.is_urgent) > 0
            else None
        )
        if booking is None:
            raise _unavailable(office_id=ready.office_id, channel=channel, day=day, urgent=ready.is_urgent)
        return booking
    office = Office.objects.get(pk=ready.office_id)
    candidate = max(today, after or today)
    if not_before is not None:
        candidate = max(candidate, not_before - timedelta(days=1))
    booking = None
    while booking is None:
        candidate = next_free_day(office=office, channel=channel, after=candidate, urgent=ready.is_urgent)
        if candidate is None:
            raise DayUnavailable(_("Tidak ada hari dengan tempat tersisa dalam 90 hari."), next_free=None)
        check_print_ready(candidate)
        booking = _book_on_day(ready, service_day_get(office=office, day=candidate), channel, by, message_for)
    return booking


def service_days_reconcile(*, since: date | None = None) -> int:
    """Set each office-day's counters to its active and checked-in appointments plus its walk-in numbers (a
    place taken by a booker that crashed before writing its booking is given back). A walk-in appointment
    made for a ticket holds no place of its own. Returns how many days were corrected."""
    since = since or clock.today()
    corrected = 0
    for day in ServiceDay.objects.filter(date__gte=since):
        with transaction.atomic():
            day = ServiceDay.objects.select_for_update().get(pk=day.pk)
            taken = Booking.objects.filter(day=day, status__in=[B.BOOKED, B.CHECKED_IN]).exclude(
                channel=QueueChannel.WALK_IN, ticket__isnull=False
            )
            counts = {f"booked_{c}": taken.filter(channel=c, urgent=False).count() for c in QueueChannel.values}
            counts["booked_urgent"] = taken.filter(urgent=True).count()
            counts["booked_walk_in"] += day.last_ticket  # walk-in tickets hold their place for good
            counts["booked_total"] = sum(counts.values())
            if any(getattr(day, field) != value for field, value in counts.items()):
                ServiceDay.objects.filter(pk=day.pk).update(**counts)
                corrected += 1
    return corrected


def booking_book_over_capacity(*, card_request_id: int, by: User, wish: date, today: date | None = None) -> Booking:
    """A supervisor books an approved urgent request on a day whose print capacity is used up: the day gets one
    more place, and the override is written on the request's timeline."""
    if not by.has_perm("cards.approve_urgent_cardrequest"):
        raise QueueingError(_("Hanya kepala bidang yang dapat melampaui kapasitas cetak."))
    card_request = CardRequest.objects.select_related("office").get(pk=card_request_id)
    if not card_request.is_urgent:
        raise QueueingError(_("Kapasitas hanya dapat dilampaui untuk permohonan mendesak yang disetujui."))
    with transaction.atomic():
        day = service_day_get(office=card_request.office, day=wish)
        if not day.is_open:
            raise QueueingError(_("Hari itu kantor tidak melayani."))
        ServiceDay.objects.filter(pk=day.pk).update(
            print_capacity=F("print_capacity") + 1, capacity_overrides=F("capacity_overrides") + 1
        )
        booking = booking_book(
            card_request_id=card_request_id, channel=QueueChannel.WHATSAPP, by=by, wish=wish, today=today
        )
        CardRequestEvent.objects.create(
            card_request_id=card_request_id,
            by=by,
            at=clock.now(),
            action=CardRequestEvent.Action.OVER_CAPACITY,
            note=system_text(
                gettext_noop("Kapasitas cetak %(day)s dilampaui satu tempat atas izin %(who)s (mendesak)"),
                day=day_text(wish),
                who=by.get_full_name() or by.username,
            ),
        )
    return booking


# --- ending an appointment ------------------------------------------------------------------------------


def _end_booking(
    booking_id: int,
    *,
    status: str,
    actor: str,
    by: User | None,
    message: Message | None,
    event_note: str,
) -> Booking:
    """Inside a transaction: end an active appointment. The workflow returns the request to ready to print
    (locking it first: the same order as a closing request's release), then the booking is ended by
    compare-and-set and its place given back; anything refused rolls the whole back."""
    booking = Booking.objects.get(pk=booking_id)
    if booking.status != B.BOOKED:
        raise QueueingError(_("Jadwal ini sudah tidak aktif."))
    try:
        card_move(
            card_request_id=booking.card_request_id,
            to_status=S.READY_TO_PRINT,
            actor=actor,
            by=by,
            expected_status=S.SCHEDULED,
            message=message,
            event_note=event_note,
        )
    except CardRequestError as refused:
        raise QueueingError(str(refused)) from refused
    now = clock.now()
    if not Booking.objects.filter(pk=booking.pk, status=B.BOOKED).update(status=status, ended_at=now):
        raise QueueingError(_("Jadwal ini baru saja diubah petugas lain; muat ulang halaman."))
    _free_place(day_id=booking.day_id, channel=booking.channel, urgent=booking.urgent)
    booking.status, booking.ended_at = status, now
    return booking


def booking_cancel(*, booking_id: int, by: User | None, reason: str, message: Message | None | bool = True) -> Booking:
    """End an appointment without a card: its place is given back and the request returns to ready to print
    (it can be booked again). The resident is told why, unless `message` says otherwise."""
    reason = reason.strip()
    if not reason:
        raise QueueingError(_("Tulis alasan pembatalan jadwal."))
    with transaction.atomic():
        short_lock_timeout()
        booking = Booking.objects.get(pk=booking_id)
        if message is True:
            message = Message("booking_cancelled", {"day": day_text(booking.date), "reason": reason})
        return _end_booking(
            booking_id,
            status=B.CANCELLED,
            actor=Actor.BOOKING,
            by=by,
            message=message or None,
            event_note=system_text(
                gettext_noop("Jadwal %(day)s nomor %(number)d dibatalkan: %(reason)s"),
                day=day_text(booking.date),
                number=booking.number,
                reason=reason,
            ),
        )


def booking_reschedule(
    *,
    booking_id: int,
    by: User | None,
    wish: date | None,
    today: date | None = None,
    after: date | None = None,
    reason: str = "",
) -> Booking:
    """Move an appointment to another day in one transaction: the new day (wished, or the first with room after
    `after`/today) replaces the old one, and the resident gets one message saying so (with the reason when a
    closed day moved it). If the new day is closed or full, everything rolls back and the old one stands."""
    with transaction.atomic():
        current = Booking.objects.get(pk=booking_id)
        note = system_text(
            gettext_noop("Jadwal %(day)s nomor %(number)d dipindah"), day=day_text(current.date), number=current.number
        )
        old = _end_booking(
            booking_id,
            status=B.MOVED,
            actor=Actor.BOOKING,
            by=by,
            message=None,  # the new appointment's message says it replaces this one
            event_note=system_text_join([note, reason], ": "),
        )
        template = "booking_moved_closed" if reason else "booking_moved"

        def message_for(day: date, number: int) -> Message:
            return Message(
                template, {"day": day_text(day), "queue": number, "old_day": day_text(old.date), "reason": reason}
            )

        return booking_book(
            card_request_id=old.card_request_id,
            channel=old.channel,
            by=by,
            wish=wish,
            today=today,
            after=after,
            message_for=message_for,
        )


# --- check-in -------------------------------------------------------------------------------------------

BOOKING_TOKEN_SALT = "queueing.booking-check-in"  # noqa: S105 (a namespace, not a secret)


def booking_token(booking: Booking) -> str:
    """The signed token in a booking's QR code: it names the booking and its request, so it cannot be
    forged, nor used for another resident's booking."""
    return signing.dumps({"b": booking.pk, "r": booking.card_request_id}, salt=BOOKING_TOKEN_SALT, compress=True)


def booking_from_token(token: str) -> Booking:
    try:
        data = signing.loads(token.strip(), salt=BOOKING_TOKEN_SALT)
    except signing.BadSignature as exc:
        raise QueueingError(_("Kode QR tidak sah.")) from exc
    booking = Booking.objects.filter(pk=data.get("b"), card_request_id=data.get("r")).first()
    if booking is None:
        raise QueueingError(_("Kode QR tidak sah."))
    return booking


def booking_find(*, office: Office, token: str = "", resident_id: int | None = None) -> Booking:
    """The appointment a scanned QR or a resident (found by NIK at the counter) names at this office: the
    active one, else the last checked in."""
    office = printing_office(office)
    if token:
        booking = booking_from_token(token)
    else:
        booking = (
            Booking.objects.filter(
                card_request__resident_id=resident_id, office=office, status__in=[B.BOOKED, B.CHECKED_IN]
            )
            .order_by("status", "-date")  # booked before checked_in
            .first()
        )
        if booking is None:
            raise QueueingError(_("Tidak ada jadwal untuk NIK ini di kantor ini."))
    if booking.office_id != office.pk:
        raise QueueingError(_("Jadwal ini untuk kantor lain."))
    return booking


def booking_check_in(
    *, office: Office, by: User, token: str = "", resident_id: int | None = None, today: date | None = None
) -> Booking:
    """Mark a booked resident as arrived, once (compare-and-set): the appointment joins the day's call queue.
    A second scan says when it was checked in; an arrival on another day is told the booked day
    (`WrongDay`; the counter may serve them from today's walk-in places when some are left)."""
    office = printing_office(office)
    today = today or clock.today(office)
    booking = booking_find(office=office, token=token, resident_id=resident_id)
    if booking.status == B.CHECKED_IN:
        raise AlreadyCheckedIn(
            _("Sudah tercatat hadir pada %(at)s.")
            % {"at": timezone.localtime(booking.checked_in_at, clock.zone_of(office)).strftime("%d-%m-%Y %H:%M")}
        )
    if booking.status != B.BOOKED:
        raise QueueingError(_("Jadwal ini tidak aktif (%(status)s).") % {"status": booking.get_status_display()})
    if booking.date != today:
        raise WrongDay(
            _("Jadwal kedatangan permohonan ini tanggal %(day)s, nomor antrean %(number)d.")
            % {"day": day_text(booking.date), "number": booking.number},
            booking=booking,
        )
    now = clock.now()
    with transaction.atomic():
        if not Booking.objects.filter(pk=booking.pk, status=B.BOOKED).update(
            status=B.CHECKED_IN, checked_in_at=now, checked_in_by=by, call_status=CallStatus.WAITING
        ):
            booking.refresh_from_db()
            raise AlreadyCheckedIn(
                _("Jadwal ini baru saja dicatat petugas lain (%(status)s).") % {"status": booking.get_status_display()}
            )
        CardRequestEvent.objects.create(
            card_request_id=booking.card_request_id,
            at=now,
            by=by,
            action=CardRequestEvent.Action.CHECKED_IN,
            note=system_text(gettext_noop("Hadir, nomor antrean %(number)d"), number=booking.number),
        )
    booking.refresh_from_db()
    return booking


# --- the end of an office's day: no-shows and unserved arrivals ---------------------------------------------


def day_has_ended(*, office: Office, day: date) -> bool:
    """The office's day is over: an earlier local date, or today after its closing hour (office local time)."""
    local = clock.local_now(office)
    if day != local.date():
        return day < local.date()
    hours = OpeningHours.objects.filter(office=office, weekday=day.weekday()).first()
    return hours is None or local.time() >= hours.closes_at


def _no_show(booking_id: int) -> str:
    """One missed appointment: the request returns to ready to print (day-end job), goes to the back of the
    line and counts one no-show more; the resident is told. Returns the message sent."""
    with transaction.atomic():
        booking = Booking.objects.get(pk=booking_id)
        # Read the count under the request's lock: the message depends on it.
        no_shows = (
            CardRequest.objects.select_for_update(of=("self",))
            .filter(pk=booking.card_request_id)
            .values_list("no_shows", flat=True)
            .get()
        )
        template = "no_show_returned" if no_shows + 1 >= NO_SHOWS_BEFORE_WAITING else "no_show_requeued"
        _end_booking(
            booking_id,
            status=B.NO_SHOW,
            actor=Actor.SYSTEM,
            by=None,
            message=Message(template, {"day": day_text(booking.date)}),
            event_note=system_text(
                gettext_noop("Tidak hadir pada jadwal %(day)s nomor %(number)d; masuk antrean lagi dari belakang"),
                day=day_text(booking.date),
                number=booking.number,
            ),
        )
        # Back of the line; written by compare-and-set on these two fields only (the status is the workflow's).
        if not CardRequest.objects.filter(pk=booking.card_request_id, no_shows=no_shows).update(
            no_shows=no_shows + 1, queued_at=clock.now()
        ):
            raise QueueingError(_("Permohonan baru saja diubah."))
    return template


def _unserved(booking_id: int) -> bool:
    """A resident who came (checked in, or a walk-in tied to the request) but whose card was not printed that
    day: the request returns to ready to print, keeping its place in line (not a no-show). The appointment is
    concluded (`ended_at`), so a later day-end never returns the request again."""
    booking = Booking.objects.get(pk=booking_id)
    try:
        with transaction.atomic():
            card_move(
                card_request_id=booking.card_request_id,
                to_status=S.READY_TO_PRINT,
                actor=Actor.SYSTEM,
                by=None,
                expected_status=S.SCHEDULED,
                message=Message("appointment_unserved", {"day": day_text(booking.date)}),
                event_note=system_text(
                    gettext_noop("Hadir pada %(day)s tetapi kartu belum dicetak"), day=day_text(booking.date)
                ),
            )
            now = clock.now()
            if not Booking.objects.filter(pk=booking.pk, status=B.CHECKED_IN, ended_at__isnull=True).update(
                ended_at=now
            ):
                raise QueueingError(_("Jadwal ini baru saja diubah."))
            Booking.objects.filter(pk=booking.pk, call_status__in=OPEN_CALLS).update(call_status=CallStatus.ABSENT)
    except (CardRequestError, QueueingError):
        return False
    return True


def bookings_close_day(*, office: Office, day: date) -> dict[str, int]:
    """After the office's day (its local time): route-1 appointments nobody checked in become no-shows (the
    request back to ready to print, at the back of the line; after two it waits until the resident asks
    again); residents who came but were not printed return to ready to print; queue entries still open end
    absent. Nothing printed, shipped, dispatched, handed over or closed is touched: only scheduled requests
    (a closed request's appointment was already cancelled by its release)."""
    office = printing_office(office)
    if not day_has_ended(office=office, day=day):
        raise QueueingError(_("Hari layanan itu belum selesai."))
    counts = {"no_show": 0, "returned": 0, "unserved": 0}
    missed = Booking.objects.filter(
        office=office,
        date=day,
        status=B.BOOKED,
        card_request__route=Route.COUNTER,
        card_request__status=S.SCHEDULED,
    ).values_list("pk", flat=True)
    for booking_id in list(missed):
        try:
            template = _no_show(booking_id)
        except QueueingError:
            continue  # changed meanwhile (checked in, cancelled, closed): not a no-show
        counts["no_show"] += 1
        counts["returned"] += template == "no_show_returned"
    came = Booking.objects.filter(
        office=office, date=day, status=B.CHECKED_IN, ended_at__isnull=True, card_request__status=S.SCHEDULED
    ).values_list("pk", flat=True)
    for booking_id in list(came):
        counts["unserved"] += _unserved(booking_id)
    # Entries still open: served when the card exists (printed, whether or not printing ended the call),
    # else absent.
    now = clock.now()
    printed = ~Q(card_request__status__in=CardRequest.BEFORE_PRINTING)
    open_bookings = Booking.objects.filter(office=office, date=day, status=B.CHECKED_IN, call_status__in=OPEN_CALLS)
    open_bookings.filter(printed).update(call_status=CallStatus.SERVED)
    open_bookings.update(call_status=CallStatus.ABSENT)
    open_tickets = WalkInTicket.objects.filter(day__office=office, day__date=day, status__in=OPEN_CALLS)
    open_tickets.filter(printed, card_request__isnull=False).update(status=CallStatus.SERVED, ended_at=now)
    open_tickets.update(status=CallStatus.ABSENT, ended_at=now)
    return counts


def days_to_close(*, office: Office, within_days: int = 30) -> list[date]:
    """The office's past days (of the last `within_days`) that still hold an appointment or a queue entry
    waiting for the day-end job."""
    office = printing_office(office)
    today = clock.today(office)
    since = today - timedelta(days=within_days)
    waiting = (
        Q(status=B.BOOKED)
        | Q(status=B.CHECKED_IN, ended_at__isnull=True, card_request__status=S.SCHEDULED)
        | Q(call_status__in=OPEN_CALLS)
    )
    days = set(
        Booking.objects.filter(waiting, office=office, date__gte=since, date__lte=today).values_list("date", flat=True)
    )
    days |= set(
        WalkInTicket.objects.filter(
            day__office=office, day__date__gte=since, day__date__lte=today, status__in=OPEN_CALLS
        ).values_list("day__date", flat=True)
    )
    return sorted(d for d in days if day_has_ended(office=office, day=d))


# --- closing a day --------------------------------------------------------------------------------------


def day_close(*, office: Office, day: date, reason: str, by: User, today: date | None = None) -> dict[str, int]:
    """Close a future service day (a local closure). Its appointments move to the first day with room AFTER
    it, never earlier; each resident gets one message with the reason, the new day, and that it replaces the
    earlier appointment. An appointment with no day left in 90 days is cancelled, the request returned to
    ready to print, and the resident told."""
    office = printing_office(office)
    today = today or clock.today(office)
    reason = reason.strip()
    if day <= today:
        raise QueueingError(_("Hanya hari yang akan datang yang dapat ditutup di sini."))
    if not reason:
        raise QueueingError(_("Tulis alasan penutupan; penduduk yang terjadwal akan menerimanya."))
    with transaction.atomic():
        Closure.objects.update_or_create(
            office=office, date=day, defaults={"name": reason[:150], "kind": Closure.Kind.LOCAL}
        )
        service_day = service_day_get(office=office, day=day)
        ServiceDay.objects.filter(pk=service_day.pk).update(is_open=False)
    counts = {"moved": 0, "cancelled": 0}
    for booking_id in list(Booking.objects.active().filter(office=office, date=day).values_list("pk", flat=True)):
        try:
            booking_reschedule(booking_id=booking_id, by=by, wish=None, today=today, after=day, reason=reason)
            counts["moved"] += 1
        except DayUnavailable:
            booking_cancel(
                booking_id=booking_id,
                by=by,
                reason=reason,
                message=Message("booking_cancelled_closed", {"day": day_text(day), "reason": reason}),
            )
            counts["cancelled"] += 1
        except QueueingError:
            continue  # changed meanwhile (cancelled, closed): nothing to move
    return counts


# --- what a request holds here, given back when it closes or leaves route 1 --------------------------------


def holdings_release(card_request: CardRequest, *, by: User | None, reason: str, closing: bool) -> None:
    """Workflow release hook (inside the move's transaction, the request locked): an appointment gives its
    place back (a closing request's appointment can never become a no-show), the request leaves the call
    queue, and a request leaving route 1 while scheduled returns to ready to print. Print batches have their
    own hook, `printing.print_batches_release`."""
    now = clock.now()
    for booking in Booking.objects.filter(card_request=card_request, status=B.BOOKED):
        if Booking.objects.filter(pk=booking.pk, status=B.BOOKED).update(status=B.CANCELLED, ended_at=now):
            _free_place(day_id=booking.day_id, channel=booking.channel, urgent=booking.urgent)
    outcome = CallStatus.SERVED if card_request.status == S.HANDED_OVER else CallStatus.ABSENT
    Booking.objects.filter(card_request=card_request, status=B.CHECKED_IN, call_status__in=OPEN_CALLS).update(
        call_status=outcome
    )
    Booking.objects.filter(card_request=card_request, status=B.CHECKED_IN, ended_at__isnull=True).update(ended_at=now)
    WalkInTicket.objects.filter(card_request=card_request, status__in=OPEN_CALLS).update(status=outcome, ended_at=now)
    if not closing and card_request.status == S.SCHEDULED:
        card_move(
            card_request_id=card_request.pk,
            to_status=S.READY_TO_PRINT,
            actor=Actor.BOOKING,
            by=by,
            expected_status=S.SCHEDULED,
            message=None,  # the caller's own message (a route change) says what happens next
            event_note=system_text(gettext_noop("Jadwal kedatangan dilepas: %(reason)s"), reason=reason),
        )
