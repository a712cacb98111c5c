"""Route 1's arrival appointments: never more than a day's channel quota and print capacity, whatever the
concurrency. A place is taken with one conditional UPDATE on the office-day row; CHECK constraints behind it.
Check-in, no-shows at the end of the office's day, and closing a day."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.core import signing
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.models import CardRequest, CardRequestEvent
from messaging.messages import notification_write, render_message
from messaging.models import Notification
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
    Closure,
    PrintBatch,
    QueueChannel,
    ServiceDay,
)
from registry.models import Office, User

S = CardRequest.Status


# --- bookings -------------------------------------------------------------------------------------------


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
    search = next_free_day_sql if connection.vendor == "postgresql" else next_free_day_python
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
        short_lock_timeout()
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


def booking_check_in(*, office: Office, by: User, token: str = "", nik: str = "", today: date | None = None) -> Booking:
    """Mark a booked resident as arrived, once (compare-and-set). A second scan says when it was checked in;
    an arrival on another day is told the booked day (the counter may then serve them from today's walk-in
    quota only)."""
    today = today or timezone.localdate()
    office = printing_office(office)
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


def bookings_close_day(*, office: Office, day: date, today: date | None = None) -> dict[str, int]:
    """After a service day: booked residents who did not come become no-shows. Each is invited once more
    (NO_SHOW_REINVITES times, configurable), then returned to ready to print with a message."""
    from django.conf import settings

    office = printing_office(office)
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
    office = printing_office(office)
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
