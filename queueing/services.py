"""Service calendar, daily quotas and bookings: never more bookings than places, whatever the concurrency.

A place is taken with one conditional UPDATE on the office-day row (`... WHERE booked < quota AND
booked_total < print_capacity`): the row lock it takes is held for the rest of a short transaction, waiting
for it is bounded by a lock timeout, and CHECK constraints on the row are the last line of defence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.models import CardRequest, CardRequestEvent
from messaging.messages import notification_write, render_message
from messaging.models import Notification
from queueing.models import (
    BlankMovement,
    BlankStock,
    Booking,
    Closure,
    OpeningHours,
    PrintBatch,
    QueueChannel,
    QuotaDefault,
    ServiceDay,
    WalkInTicket,
)
from registry.models import Office, User

S = CardRequest.Status
# How far ahead "the first day with room" is looked for.
SEARCH_DAYS = 90
# A booker waits at most this long for a day's row; a full day must answer at once, not after a queue.
LOCK_TIMEOUT_MS = 2000


class QueueingError(Exception):
    """A refused booking action; the message is for the clerk or the resident."""


class DayUnavailable(QueueingError):
    """The wished day is closed or full; `next_free` is the first day with room for that channel."""

    def __init__(self, message: str, *, next_free: date | None) -> None:
        super().__init__(message)
        self.next_free = next_free


# --- calendar -------------------------------------------------------------------------------------------


def holidays_load(*, years: Iterable[int]) -> int:
    """Seed national holidays and cuti bersama from the `holidays` package (its `government` category) as
    closures for every office. Rows staff edited or added are left as they are."""
    import holidays

    created = 0
    for year in years:
        national = holidays.country_holidays("ID", years=year, language="id")
        cuti = holidays.country_holidays("ID", years=year, language="id", categories=("government",))
        for kind, table in ((Closure.Kind.NATIONAL_HOLIDAY, national), (Closure.Kind.CUTI_BERSAMA, cuti)):
            for day, name in sorted(table.items()):
                _closure, was_created = Closure.objects.get_or_create(
                    office=None, date=day, defaults={"name": name[:150], "kind": kind, "from_package": True}
                )
                created += was_created
    return created


def _office_for_quota(office: Office) -> Office:
    """Cards are printed by the Disdukcapil office: its calendar and quotas are the ones that count."""
    return office.head_office


def service_day_get(*, office: Office, day: date) -> ServiceDay:
    """The office-day row, created from the weekday's opening hours, default quota and the closures the
    first time it is needed. Two callers creating it at once end with the same row."""
    office = _office_for_quota(office)
    existing = ServiceDay.objects.filter(office=office, date=day).first()
    if existing is not None:
        return existing
    weekday = day.weekday()
    is_open = (
        OpeningHours.objects.filter(office=office, weekday=weekday).exists()
        and not Closure.objects.filter(Q(office__isnull=True) | Q(office=office), date=day).exists()
    )
    quota = QuotaDefault.objects.filter(office=office, weekday=weekday).first()
    values = {
        "is_open": is_open,
        "print_capacity": quota.print_capacity if quota else 0,
        "cap_whatsapp": quota.whatsapp if quota else 0,
        "cap_walk_in": quota.walk_in if quota else 0,
        "cap_invitation": quota.invitation if quota else 0,
        "cap_uptd": quota.uptd if quota else 0,
    }
    try:
        with transaction.atomic():
            return ServiceDay.objects.create(office=office, date=day, **values)
    except IntegrityError:
        return ServiceDay.objects.get(office=office, date=day)


def next_free_day(*, office: Office, channel: str, after: date, urgent: bool = False) -> date | None:
    """The first day after `after` with room for the channel (for urgent: room in the print capacity)."""
    office_id = _office_for_quota(office).pk
    if connection.vendor == "postgresql":
        return _next_free_day_sql(office_id=office_id, channel=channel, after=after, urgent=urgent)
    return _next_free_day_python(office_id=office_id, channel=channel, after=after, urgent=urgent)


def _next_free_day_python(*, office_id: int, channel: str, after: date, urgent: bool) -> date | None:
    """Day by day over the office's rows, opening hours, quotas and closures (SQLite; the reference that
    the PostgreSQL query is tested against)."""
    end = after + timedelta(days=SEARCH_DAYS)
    closed = set(
        Closure.objects.filter(Q(office__isnull=True) | Q(office_id=office_id), date__range=(after, end)).values_list(
            "date", flat=True
        )
    )
    open_weekdays = set(OpeningHours.objects.filter(office_id=office_id).values_list("weekday", flat=True))
    quotas = {q.weekday: q for q in QuotaDefault.objects.filter(office_id=office_id)}
    rows = {d.date: d for d in ServiceDay.objects.filter(office_id=office_id, date__gt=after, date__lte=end)}
    day = after + timedelta(days=1)
    while day <= end:
        row = rows.get(day)
        if row is not None:
            if row.room(channel, urgent=urgent) > 0:
                return day
        elif day.weekday() in open_weekdays and day not in closed:
            quota = quotas.get(day.weekday())
            capacity = quota.print_capacity if quota else 0
            if capacity > 0 and (urgent or getattr(quota, channel, 0) > 0):
                return day
        day += timedelta(days=1)
    return None


# The same search in one query: a full day's refusal must cost one round trip, not five.
_NEXT_FREE_SQL = """
SELECT g.day::date
  FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS g(day)
  LEFT JOIN queueing_serviceday d ON d.office_id = %(office)s AND d.date = g.day::date
  LEFT JOIN queueing_quotadefault q ON q.office_id = %(office)s AND q.weekday = extract(isodow FROM g.day)::int - 1
 WHERE CASE WHEN d.id IS NOT NULL
            THEN d.is_open AND d.booked_total < d.print_capacity {row_channel}
            ELSE q.print_capacity > 0 {default_channel}
                 AND EXISTS (SELECT 1 FROM queueing_openinghours h
                              WHERE h.office_id = %(office)s AND h.weekday = extract(isodow FROM g.day)::int - 1)
                 AND NOT EXISTS (SELECT 1 FROM queueing_closure c
                                  WHERE c.date = g.day::date AND (c.office_id IS NULL OR c.office_id = %(office)s))
       END
 ORDER BY g.day
 LIMIT 1
"""


def _next_free_day_sql(*, office_id: int, channel: str, after: date, urgent: bool) -> date | None:
    channel = QueueChannel(channel)  # only a known channel reaches the column names below
    sql = _NEXT_FREE_SQL.format(
        row_channel="" if urgent else f"AND d.booked_{channel} < d.cap_{channel}",
        default_channel="" if urgent else f"AND q.{channel} > 0",
    )
    params = {"office": office_id, "start": after + timedelta(days=1), "end": after + timedelta(days=SEARCH_DAYS)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


# --- bookings -------------------------------------------------------------------------------------------


def _short_lock_timeout() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")


def _free_place(*, day_id: int, channel: str, urgent: bool) -> None:
    counter = "booked_urgent" if urgent else f"booked_{channel}"
    ServiceDay.objects.filter(pk=day_id).update(booked_total=F("booked_total") - 1, **{counter: F(counter) - 1})


@dataclass(frozen=True)
class _Ready:
    """What booking needs to know about a request, and a plain snapshot of the wished day's row, read in one
    statement."""

    id: int
    status: str
    is_urgent: bool
    office_id: int
    office_name: str
    resident_id: int
    resident_name: str
    whatsapp: str
    day: ServiceDay | None

    @property
    def number(self) -> str:
        return f"PKTP-{self.id:06d}"


_READY_SQL = """
SELECT cr.id, cr.status, cr.is_urgent, cr.office_id, o.name, cr.resident_id, r.full_name, r.whatsapp,
       d.id, d.is_open, d.print_capacity, d.booked_total, d.booked_urgent,
       d.cap_whatsapp, d.booked_whatsapp, d.cap_walk_in, d.booked_walk_in,
       d.cap_invitation, d.booked_invitation, d.cap_uptd, d.booked_uptd, d.last_number
  FROM registry_cardrequest cr
  JOIN registry_office o ON o.id = cr.office_id
  JOIN registry_resident r ON r.id = cr.resident_id
  LEFT JOIN queueing_serviceday d ON d.office_id = cr.office_id AND d.date = %s
 WHERE cr.id = %s
"""
_DAY_COLUMNS = (
    "id", "is_open", "print_capacity", "booked_total", "booked_urgent", "cap_whatsapp", "booked_whatsapp",
    "cap_walk_in", "booked_walk_in", "cap_invitation", "booked_invitation", "cap_uptd", "booked_uptd", "last_number",
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
        day = ServiceDay(office_id=head[3], date=wish, **dict(zip(_DAY_COLUMNS, day_values, strict=True)))
    return _Ready(*head, day=day)


# PostgreSQL: taking a place is ONE autocommitted statement, like the bare `UPDATE ... WHERE booked <
# capacity`: the office-day row, which every booker wants, is locked only while that statement and its
# commit run, never while Python prepares the next one. The InitPlan sets, for the statement's own
# transaction and before the row is locked, the short lock timeout and an asynchronous commit: the row is
# released without waiting for the WAL flush, and the booking's own (synchronous) commit right after flushes
# this one too, so a booking that is confirmed is never lost; a place lost by a crash before that was never
# confirmed to anyone. Only a request ready to print takes a place.
_TAKE_PLACE_SQL = """
UPDATE queueing_serviceday
   SET booked_total = booked_total + 1, last_number = last_number + 1, {counter} = {counter} + 1
 WHERE id = %(day)s AND is_open AND booked_total < print_capacity {channel_condition}
   AND EXISTS (SELECT 1 FROM registry_cardrequest WHERE id = %(card_request)s AND status = 'ready_to_print')
   AND (SELECT set_config('lock_timeout', %(lock_timeout)s, true)
               || set_config('synchronous_commit', %(synchronous_commit)s, true)) IS NOT NULL
RETURNING last_number
"""

# PostgreSQL: then the request moves to scheduled (only if it is still ready to print) and the booking, the
# timeline event and the message are written from that move, in one statement: all or nothing. The hot row
# is not touched here.
_RECORD_SQL = """
WITH moved AS (
    UPDATE registry_cardrequest SET status = 'scheduled', status_changed_at = %(now)s, updated_at = %(now)s
     WHERE id = %(card_request)s AND status = 'ready_to_print'
 RETURNING id
), booking AS (
    INSERT INTO queueing_booking
           (card_request_id, day_id, office_id, date, channel, urgent, number, status, created_by_id, created_at)
    SELECT moved.id, %(day)s, %(office)s, %(date)s, %(channel)s, %(urgent)s, %(number)s, 'booked', %(by)s, %(now)s
      FROM moved
 RETURNING id
), event AS (
    INSERT INTO registry_cardrequestevent (card_request_id, at, by_id, action, from_status, to_status, note)
    SELECT moved.id, %(now)s, %(by)s, 'status', 'ready_to_print', 'scheduled', %(note)s FROM moved
), message AS (
    INSERT INTO delivery_notification
           (resident_id, card_request_id, channel, recipient, template, text, status, attempts, last_error,
            created_at)
    SELECT %(resident)s, moved.id, 'whatsapp', %(recipient)s, %(template)s, %(text)s, %(message_status)s,
           0, '', %(now)s
      FROM moved
)
SELECT id FROM booking
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
    condition = Q(pk=day.pk, is_open=True, booked_total__lt=F("print_capacity"))
    if not urgent:
        condition &= Q(**{f"{counter}__lt": F(f"cap_{channel}")})
    with transaction.atomic():
        taken = ServiceDay.objects.filter(condition).update(
            booked_total=F("booked_total") + 1, last_number=F("last_number") + 1, **{counter: F(counter) + 1}
        )
        if not taken:
            return None
        return ServiceDay.objects.filter(pk=day.pk).values_list("last_number", flat=True).get()


def _message_template(channel: str) -> str:
    return "invitation" if channel == QueueChannel.INVITATION else "booking_confirmed"


def _booking_texts(ready: _Ready, day: ServiceDay, channel: QueueChannel, number: int) -> tuple[str, str]:
    """The timeline note and the resident's message (an invitation when booked through that channel)."""
    day_text = day.date.strftime("%d-%m-%Y")
    note = _("Jadwal %(day)s, nomor antrean %(number)s (%(channel)s)") % {
        "day": day_text,
        "number": number,
        "channel": channel.label,
    }
    text = render_message(
        _message_template(channel), name=ready.resident_name, number=ready.number, day=day_text, queue=number,
        office=ready.office_name,
    )  # fmt: skip
    return note, text


def _record_booking(
    ready: _Ready, day: ServiceDay, number: int, channel: QueueChannel, by: User | None
) -> Booking | None:
    """Write the booking for a place already taken: the request to scheduled (only if still ready to print),
    the booking, the timeline event and the resident's message. None if the request moved on meanwhile."""
    now = timezone.now()
    by_id = by.pk if by else None
    note, text = _booking_texts(ready, day, channel, number)
    message_status = Notification.Status.PENDING if ready.whatsapp else Notification.Status.NO_CONTACT
    if connection.vendor == "postgresql":
        values = {
            "card_request": ready.id, "day": day.pk, "office": day.office_id, "date": day.date, "channel": channel,
            "urgent": ready.is_urgent, "number": number, "by": by_id, "now": now, "note": note,
            "resident": ready.resident_id, "recipient": ready.whatsapp, "text": text, "message_status": message_status,
            "template": _message_template(channel),
        }  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(_RECORD_SQL, values)
            row = cursor.fetchone()
        if row is None:
            return None
        booking_id = row[0]
    else:
        with transaction.atomic():
            if not CardRequest.objects.filter(pk=ready.id, status=S.READY_TO_PRINT).update(
                status=S.SCHEDULED, status_changed_at=now, updated_at=now
            ):
                return None
            booking_id = Booking.objects.create(
                card_request_id=ready.id, day_id=day.pk, office_id=day.office_id, date=day.date, channel=channel,
                urgent=ready.is_urgent, number=number, created_by_id=by_id, created_at=now,
            ).pk  # fmt: skip
            CardRequestEvent.objects.create(
                card_request_id=ready.id, at=now, by_id=by_id, action=CardRequestEvent.Action.STATUS,
                from_status=S.READY_TO_PRINT, to_status=S.SCHEDULED, note=note,
            )  # fmt: skip
            Notification.objects.create(
                resident_id=ready.resident_id, card_request_id=ready.id, channel=Notification.Channel.WHATSAPP,
                recipient=ready.whatsapp, template=_message_template(channel), text=text, status=message_status,
                created_at=now,
            )  # fmt: skip
    return Booking(
        pk=booking_id, card_request_id=ready.id, day=day, office_id=day.office_id, date=day.date, channel=channel,
        urgent=ready.is_urgent, number=number, status=Booking.Status.BOOKED, created_by_id=by_id, created_at=now,
    )  # fmt: skip


def _book_on_day(ready: _Ready, day: ServiceDay, channel: QueueChannel, by: User | None) -> Booking | None:
    """Take a place, then record the booking (two statements, so the hot row is locked only for the first).
    A place whose booking cannot be written is given back at once; one left taken by a crash in between is
    given back by `service_days_reconcile`."""
    number = _take_place(ready, day, channel)
    if number is None:
        return None
    try:
        booking = _record_booking(ready, day, number, channel, by)
    except BaseException:
        _free_place(day_id=day.pk, channel=channel, urgent=ready.is_urgent)
        raise
    if booking is None:
        _free_place(day_id=day.pk, channel=channel, urgent=ready.is_urgent)
        raise QueueingError(_("Permohonan %(number)s baru saja diubah; muat ulang halaman.") % {"number": ready.number})
    return booking


def _unavailable(*, office_id: int, channel: str, day: ServiceDay, urgent: bool) -> DayUnavailable:
    # office_id is the request's printing office, a Disdukcapil: its calendar is the one that counts.
    search = _next_free_day_sql if connection.vendor == "postgresql" else _next_free_day_python
    next_free = search(office_id=office_id, channel=channel, after=day.date, urgent=urgent)
    return DayUnavailable(
        _("Tanggal %(day)s %(reason)s. Hari terdekat yang masih ada tempat: %(next)s.")
        % {
            "day": day.date.strftime("%d-%m-%Y"),
            "reason": _("penuh") if day.is_open else _("tutup"),
            "next": next_free.strftime("%d-%m-%Y") if next_free else _("belum ada"),
        },
        next_free=next_free,
    )


def booking_book(
    *, card_request_id: int, channel: str, by: User | None, wish: date | None = None, today: date | None = None
) -> Booking:
    """Give a ready-to-print request a day and a queue number: the wished day, or the first day with room.

    Invariants: never more bookings than a day's channel quota and print capacity (compare-and-set on the
    office-day row, CHECK constraints behind it); one active booking per request (only a ready-to-print
    request is booked, and booking moves it to scheduled; a partial unique index behind it); a full or
    closed day is refused at once, with the next free day. Approved urgent requests skip the channel quota,
    not the print capacity.

    Call it outside a transaction: the place is taken in a statement of its own, so the office-day row is
    never locked while anything else happens. A place whose booking could not be written is given back;
    one left taken by a crash in between is given back by `service_days_reconcile`.
    """
    channel = QueueChannel(channel)
    today = today or timezone.localdate()
    ready = _read_ready(card_request_id, wish)
    if ready.status != S.READY_TO_PRINT:
        raise QueueingError(
            _("Permohonan %(number)s belum siap cetak (%(status)s): belum bisa dijadwalkan.")
            % {"number": ready.number, "status": S(ready.status).label}
        )
    if wish is not None:
        if wish <= today:
            raise DayUnavailable(
                _("Tanggal kedatangan harus setelah hari ini."),
                next_free=next_free_day(
                    office=Office.objects.get(pk=ready.office_id), channel=channel, after=today, urgent=ready.is_urgent
                ),
            )
        day = ready.day or service_day_get(office=Office.objects.get(pk=ready.office_id), day=wish)
        booking = _book_on_day(ready, day, channel, by) if day.room(channel, urgent=ready.is_urgent) > 0 else None
        if booking is None:
            raise _unavailable(office_id=ready.office_id, channel=channel, day=day, urgent=ready.is_urgent)
        return booking
    office = Office.objects.get(pk=ready.office_id)
    booking, candidate = None, today
    while booking is None:
        candidate = next_free_day(office=office, channel=channel, after=candidate, urgent=ready.is_urgent)
        if candidate is None:
            raise DayUnavailable(_("Tidak ada hari dengan tempat tersisa dalam 90 hari."), next_free=None)
        booking = _book_on_day(ready, service_day_get(office=office, day=candidate), channel, by)
    return booking


def service_days_reconcile(*, since: date | None = None) -> int:
    """Set each office-day's counters to its active and checked-in bookings (a place taken by a booker that
    crashed before writing its booking is given back). Returns how many days were corrected."""
    since = since or timezone.localdate()
    corrected = 0
    for day in ServiceDay.objects.filter(date__gte=since):
        with transaction.atomic():
            day = ServiceDay.objects.select_for_update().get(pk=day.pk)
            taken = Booking.objects.filter(day=day, status__in=[Booking.Status.BOOKED, Booking.Status.CHECKED_IN])
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
            action=CardRequestEvent.Action.OVER_CAPACITY,
            note=_("Kapasitas cetak %(day)s dilampaui satu tempat atas izin %(who)s (mendesak)")
            % {"day": wish.strftime("%d-%m-%Y"), "who": by.get_full_name() or by.username},
        )
    return booking


def _end_booking(booking_id: int, *, status: str, by: User | None, note: Callable[[Booking], str]) -> Booking:
    """Inside a transaction: end an active booking, free its place, and put its request back to ready to
    print with a timeline line."""
    booking = Booking.objects.select_for_update().get(pk=booking_id)
    if booking.status != Booking.Status.BOOKED:
        raise QueueingError(_("Jadwal ini sudah tidak aktif."))
    booking.status = status
    booking.ended_at = timezone.now()
    booking.save(update_fields=["status", "ended_at"])
    _free_place(day_id=booking.day_id, channel=booking.channel, urgent=booking.urgent)
    CardRequest.objects.filter(pk=booking.card_request_id, status=S.SCHEDULED).update(
        status=S.READY_TO_PRINT, status_changed_at=booking.ended_at, updated_at=booking.ended_at
    )
    CardRequestEvent.objects.create(
        card_request_id=booking.card_request_id,
        by=by,
        action=CardRequestEvent.Action.STATUS,
        from_status=S.SCHEDULED,
        to_status=S.READY_TO_PRINT,
        note=note(booking),
    )
    return booking


def booking_cancel(*, booking_id: int, by: User | None, reason: str) -> Booking:
    """Free the place and return the request to ready to print (it can be booked again)."""
    with transaction.atomic():
        _short_lock_timeout()
        return _end_booking(
            booking_id,
            status=Booking.Status.CANCELLED,
            by=by,
            note=lambda b: (
                _("Jadwal %(day)s dibatalkan: %(reason)s") % {"day": b.date.strftime("%d-%m-%Y"), "reason": reason}
            ),
        )


def booking_reschedule(*, booking_id: int, by: User | None, wish: date | None, today: date | None = None) -> Booking:
    """Move a booking to another day in one transaction: if the new day is closed or full, everything rolls
    back and the old booking stands."""
    with transaction.atomic():
        old = _end_booking(
            booking_id,
            status=Booking.Status.MOVED,
            by=by,
            note=lambda b: (
                _("Jadwal %(day)s nomor %(number)d dipindah") % {"day": b.date.strftime("%d-%m-%Y"), "number": b.number}
            ),
        )
        return booking_book(card_request_id=old.card_request_id, channel=old.channel, by=by, wish=wish, today=today)


# --- walk-in tickets and check-in -----------------------------------------------------------------------


class QuotaExhausted(QueueingError):
    """No place left today for this channel."""


class AlreadyCheckedIn(QueueingError):
    """The booking was checked in before; the message says when."""


class WrongDay(QueueingError):
    """The resident came on another day than booked; the message says which."""

    def __init__(self, message: str, *, booking: Booking) -> None:
        super().__init__(message)
        self.booking = booking


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


def ticket_issue(*, office: Office, by: User | None, today: date | None = None) -> WalkInTicket:
    """Hand out the next walk-in number for today. Invariants: never more tickets than the day's walk-in quota
    (within its print capacity), and numbers 1, 2, 3 ... without gaps: the place, the number and the ticket
    are one transaction."""
    today = today or timezone.localdate()
    office = _office_for_quota(office)
    day = service_day_get(office=office, day=today)
    if not day.is_open:
        raise QueueingError(_("Hari ini kantor tidak melayani."))
    with transaction.atomic():
        _short_lock_timeout()
        taken = ServiceDay.objects.filter(
            pk=day.pk, is_open=True, booked_walk_in__lt=F("cap_walk_in"), booked_total__lt=F("print_capacity")
        ).update(
            booked_walk_in=F("booked_walk_in") + 1, booked_total=F("booked_total") + 1, last_ticket=F("last_ticket") + 1
        )
        if not taken:
            raise QuotaExhausted(
                _("Nomor antrean datang langsung hari ini sudah habis (%(cap)d). Silakan ambil jadwal lewat WhatsApp.")
                % {"cap": day.cap_walk_in}
            )
        number = ServiceDay.objects.filter(pk=day.pk).values_list("last_ticket", flat=True).get()
        return WalkInTicket.objects.create(day=day, number=number, issued_by=by)


def ticket_call_next(*, office: Office, counter: str, by: User, today: date | None = None) -> WalkInTicket | None:
    """The lowest waiting ticket of today, claimed for this counter; two counters never get the same one
    (SKIP LOCKED). None when nobody is waiting."""
    today = today or timezone.localdate()
    office = _office_for_quota(office)
    with transaction.atomic():
        ticket = (
            WalkInTicket.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(day__office=office, day__date=today, status=WalkInTicket.Status.WAITING)
            .order_by("number")
            .first()
        )
        if ticket is None:
            return None
        ticket.status = WalkInTicket.Status.CALLED
        ticket.counter = counter[:20]
        ticket.called_at = timezone.now()
        ticket.called_by = by
        ticket.save(update_fields=["status", "counter", "called_at", "called_by"])
    return ticket


def booking_check_in(*, office: Office, by: User, token: str = "", nik: str = "", today: date | None = None) -> Booking:
    """Mark a booked resident as arrived, once (compare-and-set). A second scan says when it was checked in;
    an arrival on another day is told the booked day (the counter may then serve them from today's walk-in
    quota only)."""
    today = today or timezone.localdate()
    office = _office_for_quota(office)
    if token:
        booking = booking_from_token(token)
    else:
        booking = (
            Booking.objects.filter(
                card_request__resident__nik=nik,
                office=office,
                status__in=[Booking.Status.BOOKED, Booking.Status.CHECKED_IN],
            )
            .order_by("-date")
            .first()
        )
        if booking is None:
            raise QueueingError(_("Tidak ada jadwal untuk NIK ini di kantor ini."))
    if booking.office_id != office.pk:
        raise QueueingError(_("Jadwal ini untuk kantor lain."))
    if booking.status == Booking.Status.CHECKED_IN:
        raise AlreadyCheckedIn(
            _("Sudah tercatat hadir pada %(at)s.")
            % {"at": timezone.localtime(booking.checked_in_at).strftime("%d-%m-%Y %H:%M")}
        )
    if booking.status != Booking.Status.BOOKED:
        raise QueueingError(_("Jadwal ini tidak aktif (%(status)s).") % {"status": booking.get_status_display()})
    if booking.date != today:
        raise WrongDay(
            _(
                "Jadwal kedatangan Anda tanggal %(day)s, nomor %(number)d. Hari ini hanya bisa dilayani dari kuota "
                "datang langsung."
            )
            % {"day": booking.date.strftime("%d-%m-%Y"), "number": booking.number},  # fmt: skip
            booking=booking,
        )
    now = timezone.now()
    with transaction.atomic():
        if not Booking.objects.filter(pk=booking.pk, status=Booking.Status.BOOKED).update(
            status=Booking.Status.CHECKED_IN, checked_in_at=now, checked_in_by=by
        ):
            booking.refresh_from_db()
            raise AlreadyCheckedIn(
                _("Sudah tercatat hadir pada %(at)s.")
                % {"at": timezone.localtime(booking.checked_in_at).strftime("%d-%m-%Y %H:%M")}
            )
        CardRequestEvent.objects.create(
            card_request_id=booking.card_request_id,
            by=by,
            action=CardRequestEvent.Action.CHECKED_IN,
            note=_("Hadir, nomor antrean %(number)d") % {"number": booking.number},
        )
    booking.refresh_from_db()
    return booking


# --- blank stock and print batches ----------------------------------------------------------------------


class StockShort(QueueingError):
    """Not enough blank cards for what was asked."""


def _stock_row(office: Office) -> BlankStock:
    stock, _created = BlankStock.objects.get_or_create(office=office)
    return stock


def blanks_receive(*, office: Office, quantity: int, reference: str, received_on: date, by: User) -> BlankMovement:
    """Record a batch of blank cards from the centre (batch reference, quantity, date)."""
    if quantity <= 0:
        raise QueueingError(_("Jumlah blangko harus lebih dari nol."))
    if not reference.strip():
        raise QueueingError(_("Tulis nomor/referensi kiriman blangko."))
    office = _office_for_quota(office)
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
    office = _office_for_quota(office)
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
    office = _office_for_quota(office)
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
        .annotate(has_suket=_holds_valid_suket())
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


# --- invitations and no-shows ---------------------------------------------------------------------------


def _holds_valid_suket() -> Exists:
    """Residents who hold a suket are printed first when blanks arrive (they wait on paper)."""
    from delivery.models import Suket

    return Exists(Suket.objects.filter(card_request=OuterRef("pk"), ended_at__isnull=True))


def invitations_send(*, office: Office, day: date, by: User | None, today: date | None = None) -> list[Booking]:
    """Invite requests ready to print for `day`: suket holders, then urgent, then the oldest, until the day's invitation
    quota (or its print capacity) is used. Requests collected at a UPTD are not invited: their cards travel."""
    office = _office_for_quota(office)
    today = today or timezone.localdate()
    service_day = service_day_get(office=office, day=day)
    room = service_day.room(QueueChannel.INVITATION)
    candidates = (
        CardRequest.objects.filter(office=office, status=S.READY_TO_PRINT)
        .exclude(pickup_office__kind=Office.Kind.UPTD)
        .annotate(has_suket=_holds_valid_suket())
        .order_by("-has_suket", "-is_urgent", "created_at", "id")
        .values_list("pk", "is_urgent")
    )
    invited: list[Booking] = []
    # Urgent requests do not use the invitation quota; the others stop when it is used.
    for card_request_id, is_urgent in candidates.iterator(chunk_size=500):
        if room <= 0 and not is_urgent:
            break
        try:
            booking = booking_book(
                card_request_id=card_request_id, channel=QueueChannel.INVITATION, by=by, wish=day, today=today
            )
        except DayUnavailable:
            break
        except QueueingError:
            continue  # changed meanwhile; the next one
        invited.append(booking)
        if not booking.urgent:
            room -= 1
    return invited


def bookings_close_day(*, office: Office, day: date, today: date | None = None) -> dict[str, int]:
    """After a service day: booked residents who did not come become no-shows. Each is invited once more
    (NO_SHOW_REINVITES times, configurable), then returned to ready to print with a message."""
    from django.conf import settings

    office = _office_for_quota(office)
    today = today or timezone.localdate()
    if day >= today:
        raise QueueingError(_("Hari layanan itu belum selesai."))
    counts = {"no_show": 0, "reinvited": 0, "returned": 0}
    for booking_id in Booking.objects.filter(office=office, date=day, status=Booking.Status.BOOKED).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            if not Booking.objects.filter(pk=booking_id, status=Booking.Status.BOOKED).update(
                status=Booking.Status.NO_SHOW, ended_at=timezone.now()
            ):
                continue
            booking = Booking.objects.select_related("card_request__resident").get(pk=booking_id)
            card_request = booking.card_request
            CardRequest.objects.filter(pk=card_request.pk, status=S.SCHEDULED).update(
                status=S.READY_TO_PRINT, status_changed_at=timezone.now(), updated_at=timezone.now()
            )
            CardRequestEvent.objects.create(
                card_request=card_request,
                action=CardRequestEvent.Action.STATUS,
                from_status=S.SCHEDULED,
                to_status=S.READY_TO_PRINT,
                note=_("Tidak hadir pada %(day)s") % {"day": day.strftime("%d-%m-%Y")},
            )
            counts["no_show"] += 1
            no_shows = Booking.objects.filter(card_request=card_request, status=Booking.Status.NO_SHOW).count()
            reinvite = no_shows <= settings.NO_SHOW_REINVITES
            if not reinvite:
                notification_write(
                    resident=card_request.resident,
                    card_request=card_request,
                    template="no_show_returned",
                    number=card_request.number,
                )
                counts["returned"] += 1
        if reinvite:
            try:
                booking_book(card_request_id=card_request.pk, channel=QueueChannel.INVITATION, by=None, today=today)
                counts["reinvited"] += 1
            except QueueingError:
                notification_write(
                    resident=card_request.resident,
                    card_request=card_request,
                    template="no_show_returned",
                    number=card_request.number,
                )
                counts["returned"] += 1
    return counts


# --- closing a day --------------------------------------------------------------------------------------


def day_close(*, office: Office, day: date, reason: str, by: User, today: date | None = None) -> dict[str, int]:
    """Close a service day (a local closure). Its bookings move to the first day with room, each resident
    getting a message with the new day; a booking with no day left in 90 days is cancelled, the request
    returned to ready to print, and the resident told."""
    office = _office_for_quota(office)
    today = today or timezone.localdate()
    if day <= today:
        raise QueueingError(_("Hanya hari yang akan datang yang dapat ditutup di sini."))
    if not reason.strip():
        raise QueueingError(_("Tulis alasan penutupan; penduduk yang terjadwal akan menerimanya."))
    with transaction.atomic():
        Closure.objects.update_or_create(
            office=office, date=day, defaults={"name": reason.strip()[:150], "kind": Closure.Kind.LOCAL}
        )
        service_day = service_day_get(office=office, day=day)
        ServiceDay.objects.filter(pk=service_day.pk).update(is_open=False)
    counts = {"moved": 0, "cancelled": 0}
    for booking_id in Booking.objects.active().filter(office=office, date=day).values_list("pk", flat=True):
        try:
            booking_reschedule(booking_id=booking_id, by=by, wish=None, today=today)
            counts["moved"] += 1
        except QueueingError:
            booking = booking_cancel(booking_id=booking_id, by=by, reason=reason)
            notification_write(
                resident=booking.card_request.resident,
                card_request=booking.card_request,
                template="booking_cancelled_closed",
                number=booking.card_request.number,
                day=day.strftime("%d-%m-%Y"),
                reason=reason.strip(),
            )
            counts["cancelled"] += 1
    return counts


# --- what a request holds here, given back when it closes or leaves route 1 --------------------------------


def holdings_release(card_request: CardRequest, *, by: User | None, reason: str, closing: bool) -> None:
    """Workflow release hook: an appointment gives its place back (a closing request's appointment can
    never become a no-show), and a request leaves any unprinted print batch."""
    for booking in Booking.objects.select_for_update().filter(card_request=card_request, status=Booking.Status.BOOKED):
        booking.status = Booking.Status.CANCELLED
        booking.ended_at = timezone.now()
        booking.save(update_fields=["status", "ended_at"])
        _free_place(day_id=booking.day_id, channel=booking.channel, urgent=booking.urgent)
    PrintBatch.card_requests.through.objects.filter(
        cardrequest_id=card_request.pk, printbatch__status=PrintBatch.Status.DRAFT
    ).delete()
