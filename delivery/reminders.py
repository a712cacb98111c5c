"""Reminders the office sends by itself (beat, hourly; each office once its own morning has come): the
appointment the day before, a card not collected after 7 and after 30 days, documents still missing after 3
days without an answer.

Each reminder is a message row first (messaging.messages.notification_write), idempotent per (kind, resident,
subject, day) through its `dedupe_key`: a run repeated, overlapping or retried writes nothing twice, and the
outbox delivers it (quiet hours included: these are office-initiated, never replies). Where it goes (the
resident, or the UPTD for a UPTD submission: the `uptd_reminder_*` texts in messaging/reminder_texts.py route
it there) is messaging's decision, not repeated here.

Not here, because the change itself already tells the resident: "your card is ready" with where and from when
(request_ready_for_pickup, request_stored_for_pickup, request_at_uptd, request_returned_by_post, written by
cards.workflow, queueing.printing, cards.dispatch), and a moved or closed day (booking_moved,
booking_moved_closed, booking_cancelled_closed, written by queueing.appointments with the move); the moved
appointment is a new booking, which gets its own reminder the day before.

Set-based: one query per kind per office selects what is due; the keys already written are skipped with one
query, so a repeated run costs a few queries whatever the number of residents. Only new reminders are written,
each through notification_write (it picks the address, channel, sending number and the office's wording).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice

from django.db import transaction
from django.db.models import Case, Count, DateTimeField, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from cards.models import Attachment, CardRequest, Requirement
from intake.models import InboundMessage
from messaging.messages import notification_write
from messaging.models import Notification
from queueing.models import Booking, OpeningHours
from registry import clock
from registry.models import Office

S = CardRequest.Status

# An office's reminders are written from this local hour on (its morning; the outbox holds anything written
# in the quiet hours until 06:00 anyway). Beat runs hourly, so WIB, WITA and WIT offices each get theirs at
# their own 08:00.
REMINDERS_FROM_HOUR = 8
# A card waiting to be collected: reminded once after 7 days, once more after 30 (by the office's calendar).
UNCOLLECTED_FIRST_DAYS = 7
UNCOLLECTED_SECOND_DAYS = 30
# Documents still missing: reminded every 3 days without an answer, at most twice, then a clerk's call.
MISSING_DOCUMENTS_EVERY_DAYS = 3
MISSING_DOCUMENTS_TIMES = 2
# New reminders are written in transactions of this many rows (each row is delivered after its commit).
WRITE_CHUNK = 200

APPOINTMENT = "reminder_appointment"
UNCOLLECTED_FIRST = "reminder_uncollected_7"
UNCOLLECTED_SECOND = "reminder_uncollected_30"
MISSING_DOCUMENTS = "reminder_missing_documents"
KINDS = (APPOINTMENT, UNCOLLECTED_FIRST, UNCOLLECTED_SECOND, MISSING_DOCUMENTS)

ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def day_text(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def reminder_key(kind: str, *, resident_id: int, subject_id: int, day: date) -> str:
    """The reminder's identity: one message per kind, resident, subject (a booking or a request) and day."""
    return f"{kind}:{resident_id}:{subject_id}:{day.isoformat()}"


@dataclass(frozen=True)
class Reminder:
    """One message due: its template, identity, request and the template's values."""

    template: str
    dedupe_key: str
    card_request: CardRequest
    values: dict[str, object] = field(default_factory=dict)


def _midnight(office: Office, day: date) -> datetime:
    """The instant the office's local `day` begins."""
    return datetime.combine(day, time(0), tzinfo=clock.zone_of(office))


def _local_date(office: Office, instant: datetime) -> date:
    return instant.astimezone(clock.zone_of(office)).date()


def offices_due(*, hour: int = REMINDERS_FROM_HOUR) -> list[int]:
    """The printing offices whose local time has passed `hour` today (one query; the zone is per office)."""
    offices = Office.objects.filter(kind=Office.Kind.DISDUKCAPIL, is_active=True).only("pk", "time_zone")
    return [office.pk for office in offices if clock.local_now(office).hour >= hour]


# --- the appointment the day before -----------------------------------------------------------------------


def _hours_text(office: Office, day: date) -> str:
    hours = OpeningHours.objects.filter(office=office, weekday=day.weekday()).first()
    if hours is None:
        return "pada jam layanan"
    zone = ZONE_LABELS.get(office.time_zone, "")
    return f"pukul {hours.opens_at:%H.%M}–{hours.closes_at:%H.%M} {zone}".rstrip()


def _what_to_bring() -> dict[str, str]:
    """Per kind of request, what a resident brings to the counter: the KK, the originals of the documents the
    request needed, and what is handed in there (the old card). One query."""
    lines: dict[str, list[str]] = defaultdict(lambda: ["- Kartu Keluarga (KK) asli"])
    for requirement in Requirement.objects.filter(is_active=True).order_by("kind", "position", "id"):
        suffix = " (asli)" if requirement.stage == Requirement.Stage.DOCUMENT else ""
        lines[requirement.kind].append(f"- {requirement.name}{suffix}")
    return defaultdict(lambda: "- Kartu Keluarga (KK) asli", {kind: "\n".join(items) for kind, items in lines.items()})


def appointment_reminders(*, office: Office, today: date) -> list[Reminder]:
    """Route-1 appointments at the office tomorrow (its local date). An appointment made or moved today is
    left out: its confirmation, with the same day and number, went out today."""
    tomorrow = today + timedelta(days=1)
    bookings = (
        Booking.objects.filter(office=office, date=tomorrow, status=Booking.Status.BOOKED)
        .filter(card_request__status=S.SCHEDULED, created_at__lt=_midnight(office, today))
        .select_related("card_request__resident")
        .order_by("number")
    )
    bookings = list(bookings)
    if not bookings:
        return []
    place = f"{office.name} ({office.address})" if office.address else office.name
    hours = _hours_text(office, tomorrow)
    bring = _what_to_bring()
    return [
        Reminder(
            template=APPOINTMENT,
            dedupe_key=reminder_key(
                APPOINTMENT, resident_id=booking.card_request.resident_id, subject_id=booking.pk, day=tomorrow
            ),
            card_request=booking.card_request,
            values={
                "day": day_text(tomorrow),
                "place": place,
                "hours": hours,
                "queue": booking.label,
                "bring": bring[booking.card_request.kind],
            },
        )
        for booking in bookings
    ]


# --- cards waiting to be collected ----------------------------------------------------------------------


def cards_waiting(*, office: Office) -> QuerySet[CardRequest]:
    """The office's printed cards the resident can collect and has not: stored for pickup (since the move to
    ready for pickup, `status_changed_at`, the time of that timeline event) or confirmed arrived at the UPTD
    (since the UPTD's receipt). Each with `waiting_since`."""
    return (
        CardRequest.objects.filter(office=office)
        .filter(Q(status=S.READY_FOR_PICKUP) | Q(status=S.SENT_TO_UPTD, dispatch_item__received_at__isnull=False))
        .annotate(
            waiting_since=Case(
                When(status=S.SENT_TO_UPTD, then=F("dispatch_item__received_at")), default=F("status_changed_at")
            )
        )
    )


def uncollected_reminders(*, office: Office, today: date) -> list[Reminder]:
    """A card waiting 7 to 29 days gets the first reminder, from 30 days the second, each once (the key's day
    is the day it started waiting: a card back from the post office waits anew). Days are the office's."""
    first_before = _midnight(office, today - timedelta(days=UNCOLLECTED_FIRST_DAYS - 1))
    second_before = _midnight(office, today - timedelta(days=UNCOLLECTED_SECOND_DAYS - 1))
    rows = (
        cards_waiting(office=office)
        .filter(waiting_since__lt=first_before)
        .select_related("resident", "pickup_office")
        .order_by("waiting_since", "id")
    )
    reminders = []
    for card_request in rows:
        since = _local_date(office, card_request.waiting_since)
        kind = UNCOLLECTED_SECOND if card_request.waiting_since < second_before else UNCOLLECTED_FIRST
        reminders.append(
            Reminder(
                template=kind,
                dedupe_key=reminder_key(
                    kind, resident_id=card_request.resident_id, subject_id=card_request.pk, day=since
                ),
                card_request=card_request,
                values={
                    "place": card_request.pickup_office.name,
                    "since": day_text(since),
                    "days": (today - since).days,
                },
            )
        )
    return reminders


# --- documents still missing ------------------------------------------------------------------------------


def answered_since_incomplete() -> Q:
    """A condition on CardRequest: the resident (or the UPTD for its submission) answered after the request
    was found incomplete (its `status_changed_at`, the last move to incomplete): a document was attached, or a
    message came about the request or from the resident's contact (linked by a clerk, or their registered
    number)."""
    since = OuterRef("status_changed_at")
    attached = Attachment.objects.filter(card_request=OuterRef("pk"), uploaded_at__gt=since)
    wrote = InboundMessage.objects.filter(
        Q(card_request=OuterRef("pk")) | Q(contact__resident=OuterRef("resident_id")), sent_at__gt=since
    )
    wrote_from_number = InboundMessage.objects.filter(
        contact__phone=OuterRef("resident__whatsapp"), contact__phone__gt="", sent_at__gt=since
    )
    return Q(Exists(attached)) | Q(Exists(wrote)) | Q(Exists(wrote_from_number))


def missing_documents_reminders(*, office: Office, today: date) -> list[Reminder]:
    """Requests waiting for documents with no answer: reminded when 3 days have passed since the last ask (the
    incomplete message, then the previous reminder), at most twice for one incomplete period."""
    sent = Notification.objects.filter(
        card_request=OuterRef("pk"), template=MISSING_DOCUMENTS, created_at__gte=OuterRef("status_changed_at")
    ).order_by()
    due_before = _midnight(office, today - timedelta(days=MISSING_DOCUMENTS_EVERY_DAYS - 1))
    rows = (
        CardRequest.objects.filter(office=office, status=S.INCOMPLETE, status_changed_at__lt=due_before)
        .annotate(
            reminded=Coalesce(Subquery(sent.values("card_request").annotate(n=Count("pk")).values("n")), Value(0)),
            last_asked=Coalesce(
                Subquery(sent.values("card_request").annotate(at=Max("created_at")).values("at")),
                F("status_changed_at"),
                output_field=DateTimeField(),
            ),
        )
        .filter(reminded__lt=MISSING_DOCUMENTS_TIMES, last_asked__lt=due_before)
        .exclude(answered_since_incomplete())
        .select_related("resident", "pickup_office")
        .order_by("status_changed_at", "id")
    )
    return [
        Reminder(
            template=MISSING_DOCUMENTS,
            dedupe_key=reminder_key(
                MISSING_DOCUMENTS, resident_id=card_request.resident_id, subject_id=card_request.pk, day=today
            ),
            card_request=card_request,
            values={
                "since": day_text(_local_date(office, card_request.status_changed_at)),
                "missing": "\n".join(f"- {item}" for item in card_request.missing_items) or "- (lihat pesan kami)",
            },
        )
        for card_request in rows
    ]


# --- writing them ---------------------------------------------------------------------------------------


def _chunks(items: list[Reminder], size: int) -> Iterator[list[Reminder]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def reminders_write(reminders: Iterable[Reminder], *, office: Office) -> int:
    """Write the reminders not written yet (one query finds the keys already there); each through
    notification_write with its key, so a run racing this one still writes each key once. Returns how many
    were new."""
    reminders = list(reminders)
    if not reminders:
        return 0
    written = set(
        Notification.objects.filter(dedupe_key__in=[r.dedupe_key for r in reminders]).values_list(
            "dedupe_key", flat=True
        )
    )
    new = [r for r in reminders if r.dedupe_key not in written]
    for chunk in _chunks(new, WRITE_CHUNK):
        with transaction.atomic():
            for reminder in chunk:
                card_request = reminder.card_request
                notification_write(
                    resident=card_request.resident,
                    card_request=card_request,
                    template=reminder.template,
                    office=office,
                    dedupe_key=reminder.dedupe_key,
                    number=card_request.number,
                    **reminder.values,
                )
    return len(new)


def office_reminders_send(*, office: Office) -> dict[str, int]:
    """Every reminder due at the office today (its local date); idempotent. Returns the new ones per kind."""
    today = clock.today(office)
    due: dict[str, list[Reminder]] = {kind: [] for kind in KINDS}
    for reminder in [
        *appointment_reminders(office=office, today=today),
        *uncollected_reminders(office=office, today=today),
        *missing_documents_reminders(office=office, today=today),
    ]:
        due[reminder.template].append(reminder)
    return {kind: reminders_write(items, office=office) for kind, items in due.items()}
