"""What a resident's message does: parsed, it acts through the card pipeline's services (a booking takes a
route-1 appointment, `#KTP` opens a request, `#SINKRONISASI` a data-sync request, a status question is answered)
or goes to the inbox for a clerk; either way the sender gets one reply, from the number they wrote to.

Rules every action keeps:
- Idempotent: a message that has an outcome is never acted on again, and the same booking or request sent again
  under a new message id books or opens nothing: the reply points to the first, which keeps its place.
- Nothing leaks: a request's status (and an appointment's day) is told only to the registered identity of the
  resident (a contact a clerk linked, the resident's own WhatsApp number, or the contact whose message opened
  the request); anyone else hears that it went to the registered number, in one sentence that is the same for
  an unknown NIK. A name or NIK that does not match says only that they do not match.
- One message per person: where a service writes its own message to the resident (the booking confirmation,
  "request received") and the sender is that resident, the reply is the only message they get.
- Runs inside the caller's transaction (the webhook processing); every service call that may refuse is under
  a savepoint, so one refused action never poisons the rest of the payload.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import formats, translation

from cards.data_sync import DataSyncDuplicate, data_sync_open
from cards.models import CardKind, CardRequest, DataSyncRequest, Requirement, Route
from cards.services import card_request_create
from cards.workflow import CardRequestError, missing_documents
from intake import status_text
from intake.models import InboundMessage
from intake.parser import FORMATS, Parsed, parse_message
from intake.threads import thread_for, thread_wait
from messaging.messages import notification_write, phone_international, reply_write
from messaging.models import Contact, Notification, OfficeNumber
from queueing.appointments import booking_book
from queueing.calendar import SEARCH_DAYS, next_free_day, places_left
from queueing.errors import DayUnavailable, QueueingError
from queueing.models import Booking, QueueChannel
from registry import clock
from registry.models import Office, Resident
from registry.regions import kk_check, nik_check

Intent = InboundMessage.Intent
Outcome = InboundMessage.Outcome
Kind = InboundMessage.Kind
S = CardRequest.Status

MEDIA_KINDS = frozenset({Kind.IMAGE, Kind.DOCUMENT, Kind.AUDIO})
# A photo or a PDF can be a missing requirement; a voice note cannot.
ATTACHABLE_KINDS = frozenset({Kind.IMAGE, Kind.DOCUMENT})
TEXT_KINDS = frozenset({Kind.TEXT, Kind.INTERACTIVE})

# Each format, and the office-number setting that accepts it.
ACCEPTS = {
    Intent.BOOKING: "accepts_booking",
    Intent.REQUEST: "accepts_request",
    Intent.SYNC: "accepts_sync",
    Intent.QUESTION: "accepts_question",
    Intent.STATUS: "accepts_status",
}
PURPOSES = {
    Intent.BOOKING: "pendaftaran jadwal cetak KTP-el",
    Intent.REQUEST: "permohonan KTP-el",
    Intent.SYNC: "sinkronisasi data",
    Intent.QUESTION: "pertanyaan",
    Intent.STATUS: "cek status KTP-el",
}
# A booking is for a day after today and within the calendar's search window (the next free day looks as far).
BOOKING_WINDOW_DAYS = SEARCH_DAYS
# Before a status is written to a resident's registered number because somebody else asked: once a day at most
# (asking a stranger's NIK a hundred times must not send the resident a hundred messages).
STATUS_FORWARD_KEY = "status-forward:{resident}:{day}"
# A typed name matches the registered one at this similarity (letters only, case and spaces ignored).
NAME_SIMILARITY = 0.85
ACTIVE_BOOKINGS = (Booking.Status.BOOKED, Booking.Status.CHECKED_IN)


def message_act(message: InboundMessage) -> None:
    """Act on one new text, interactive or media message (the webhook processing calls it after the message row
    and its thread exist, in its transaction). Sets intent, outcome, card_request and reply; a message that
    needs a clerk makes its thread wait. Nothing happens when the message already has an outcome."""
    if message.outcome:
        return
    if message.thread_id is None:
        message.thread = thread_for(office=message.office, contact=message.contact, at=message.sent_at)
    with translation.override("id"):
        if message.kind in MEDIA_KINDS:
            _media(message)
        elif message.kind in TEXT_KINDS:
            _text(message)
        elif message.kind == Kind.SYSTEM:
            message.intent, message.outcome = Intent.UNKNOWN, Outcome.IGNORED
        else:  # a sticker, a location, a contact card: a clerk looks at it
            message.intent = Intent.UNKNOWN
            _inbox(message)
    message.save(update_fields=["thread", "intent", "outcome", "card_request", "reply", "answered_at"])


# --- replies ---------------------------------------------------------------------------------------------------


def _reply(
    message: InboundMessage,
    template: str,
    *,
    outcome: str,
    answered: bool = True,
    resident: Resident | None = None,
    card_request: CardRequest | None = None,
    **values: object,
) -> Notification:
    """The one reply to the message, from the number it was sent to. `answered`: the reply settles the message
    (an automatic acknowledgement of something a clerk still has to read does not)."""
    message.reply = reply_write(
        contact=message.contact,
        office_number=message.office_number,
        office=message.office,
        template=template,
        resident=resident,
        card_request=card_request,
        **values,
    )
    message.outcome = outcome
    if answered:
        message.answered_at = clock.now()
    return message.reply


def _format(intent: str) -> str:
    return FORMATS[intent]


def _problems(lines: Iterable[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _replied_today(message: InboundMessage, template: str) -> bool:
    """The thread had this automatic reply today (office time): acknowledgements are not repeated per photo."""
    midnight = clock.local_now(message.office).replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        InboundMessage.objects.filter(thread_id=message.thread_id, reply__template=template)
        .filter(reply__created_at__gte=midnight)
        .exclude(pk=message.pk)
        .exists()
    )


def _day(day: date) -> str:
    return status_text.day_text(day)


def _local_date(office: Office, instant: datetime) -> str:
    return formats.date_format(instant.astimezone(clock.zone_of(office)).date(), "j F Y")


# --- the inbox -------------------------------------------------------------------------------------------------


def _wait(message: InboundMessage) -> None:
    """The thread waits for a clerk from this message on (an older unanswered one keeps the earlier time)."""
    thread_wait(message.thread, since=min(message.sent_at, message.received_at))


def _inbox(message: InboundMessage) -> None:
    """A question or a message nobody could act on: a clerk answers it. The sender is told so once a day."""
    _wait(message)
    message.outcome = Outcome.INBOX
    if not _replied_today(message, "reply_inbox_received"):
        _reply(message, "reply_inbox_received", outcome=Outcome.INBOX, answered=False)


def _media(message: InboundMessage) -> None:
    """A photo, a PDF or a voice note: to the inbox; a photo or PDF is offered to the clerk for the sender's
    request that still misses documents (one click to attach)."""
    message.intent = Intent.MEDIA
    _wait(message)
    message.outcome = Outcome.INBOX
    if message.kind in ATTACHABLE_KINDS and not message.media_error:
        message.card_request = _request_missing_documents(message)
    if message.media_error:
        _reply(message, "reply_media_refused", outcome=Outcome.INBOX, answered=False, reason=message.media_error)
    elif message.kind in ATTACHABLE_KINDS:
        if not _replied_today(message, "reply_media_received"):
            _reply(message, "reply_media_received", outcome=Outcome.INBOX, answered=False)
    elif not _replied_today(message, "reply_inbox_received"):
        _reply(message, "reply_inbox_received", outcome=Outcome.INBOX, answered=False)


def _request_missing_documents(message: InboundMessage) -> CardRequest | None:
    """The sender's open request still waiting for documents: of the residents whose requests their messages
    opened or a clerk linked them to, else (only then, it costs a search) whose WhatsApp number they write
    from; the latest first."""
    contact = message.contact
    waiting = CardRequest.objects.filter(status__in=[S.RECEIVED, S.VERIFYING, S.INCOMPLETE]).order_by(
        "-created_at", "-pk"
    )
    known = _residents_of_contact(contact, message.office, by_phone=False)
    candidates = list(waiting.filter(resident_id__in=known)[:5]) if known else []
    if not candidates and contact.phone:
        candidates = list(waiting.filter(resident_id__in=_residents_of_contact(contact, message.office))[:5])
    for card_request in candidates:
        if card_request.status == S.INCOMPLETE or missing_documents(card_request):
            return card_request
    return None


# --- text messages ---------------------------------------------------------------------------------------------


def _text(message: InboundMessage) -> None:
    today = clock.today(message.office)
    parsed = parse_message(message.text, today=today)
    intent = parsed.intent if parsed.intent in Intent.values else Intent.UNKNOWN
    message.intent = intent
    if intent == Intent.UNKNOWN:
        # Free text, whatever the number: every "balas pesan ini" the office sends must reach a clerk.
        _inbox(message)
        return
    if not _accepted_here(message, intent):
        return
    if parsed.problems:
        _reply(
            message,
            "reply_format",
            outcome=Outcome.FORMAT_REPLY,
            problems=_problems(parsed.problems),
            format=_format(intent),
        )
        return
    if intent == Intent.QUESTION:
        _inbox(message)
    elif intent == Intent.BOOKING:
        _booking(message, parsed, today)
    elif intent == Intent.REQUEST:
        _request(message, parsed, today)
    elif intent == Intent.SYNC:
        _sync(message, parsed)
    elif intent == Intent.STATUS:
        _status(message, parsed, today)


def _office_numbers(office: Office, flag: str) -> list[OfficeNumber]:
    """The active numbers taking a format: the office's own first, then (for a UPTD) its Disdukcapil's."""
    chain = [office.pk, office.parent_id] if office.parent_id else [office.pk]
    numbers = OfficeNumber.objects.filter(office_id__in=chain, is_active=True, **{flag: True})
    return sorted(numbers, key=lambda n: (chain.index(n.office_id), n.channel, n.pk))


def _accepted_here(message: InboundMessage, intent: str) -> bool:
    """The number the message came to takes this format; else the sender gets the right number and format
    (False: nothing else happens). A question no number takes still reaches the inbox."""
    number = message.office_number
    flag = ACCEPTS[intent]
    if number is None or getattr(number, flag):
        return True
    others = _office_numbers(message.office, flag)
    if not others:
        if intent == Intent.QUESTION:
            return True
        _reply(message, "reply_not_offered", outcome=Outcome.REFUSED, purpose=PURPOSES[intent])
        return False
    right = sorted(others, key=lambda n: n.channel != number.channel)[0]
    _reply(
        message,
        "reply_wrong_number",
        outcome=Outcome.FORMAT_REPLY,
        purpose=PURPOSES[intent],
        channel=right.get_channel_display(),
        number=right.number,
        format=_format(intent),
    )
    return False


# --- who the sender is ------------------------------------------------------------------------------------------


def name_key(name: str) -> str:
    """A name as compared: letters only (accents dropped), upper case, single spaces."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^A-Z]+", " ", ascii_name.upper()).split())


def names_match(typed: str, registered: str) -> bool:
    """The typed name is the registered one up to case, spacing, punctuation, word order and a letter or two
    (a typo, a doubled or dropped letter: "Muhamad" for "Muhammad")."""
    a, b = name_key(typed), name_key(registered)
    if not a or not b:
        return False
    if a.replace(" ", "") == b.replace(" ", "") or sorted(a.split()) == sorted(b.split()):
        return True
    return difflib.SequenceMatcher(None, a.replace(" ", ""), b.replace(" ", "")).ratio() >= NAME_SIMILARITY


def _residents_here(office: Office) -> Q:
    """Residents of the office's kabupaten (the kecamatan code starts with the kabupaten's)."""
    return Q(kecamatan__code__startswith=f"{office.head_office.region_id}.")


def _is_the_resident(contact: Contact, resident: Resident) -> bool:
    """The contact is the resident's registered identity: linked by a clerk, or the resident's own number."""
    if contact.resident_id == resident.pk:
        return True
    phone = phone_international(contact.phone)
    return bool(phone) and phone == phone_international(resident.whatsapp)


def _opened_by(contact: Contact, resident: Resident) -> bool:
    """The contact's own message opened one of the resident's requests."""
    return InboundMessage.objects.filter(
        contact=contact, outcome=Outcome.REQUEST_OPENED, card_request__resident_id=resident.pk
    ).exists()


def may_know_status(contact: Contact, resident: Resident) -> bool:
    """Whether a status about the resident's requests may be told to this contact (module docstring)."""
    return _is_the_resident(contact, resident) or _opened_by(contact, resident)


def _resident_by_nik(office: Office, nik: str) -> Resident | None:
    return Resident.objects.filter(_residents_here(office), nik=nik).select_related("family").first()


def _booking_open(office: Office) -> bool:
    return bool(_office_numbers(office, "accepts_booking"))


def _nik_or_format_reply(message: InboundMessage, parsed: Parsed, today: date, intent: str) -> str | None:
    """The NIK the message names, checked; or None, having answered with what is wrong and the format."""
    checked = nik_check(parsed.nik, today=today)
    if checked.errors:
        _reply(
            message,
            "reply_numbers_invalid",
            outcome=Outcome.FORMAT_REPLY,
            problems=_problems(f"NIK: {e}" for e in checked.errors),
            format=_format(intent),
        )
        return None
    return checked.number


# --- booking a print day -----------------------------------------------------------------------------------------


def _booking(message: InboundMessage, parsed: Parsed, today: date) -> None:
    office = message.office
    nik = _nik_or_format_reply(message, parsed, today, Intent.BOOKING)
    if nik is None:
        return
    resident = _resident_by_nik(office, nik)
    if resident is None or not names_match(parsed.name, resident.full_name):
        _reply(message, "reply_booking_mismatch", outcome=Outcome.REFUSED, format=_format(Intent.BOOKING))
        return
    open_requests = list(
        CardRequest.objects.open()
        .filter(resident=resident)
        .select_related("resident", "office", "pickup_office")
        .order_by("created_at", "pk")
    )
    active = (
        Booking.objects.filter(
            card_request__in=open_requests, status__in=[Booking.Status.BOOKED, Booking.Status.CHECKED_IN]
        )
        .order_by("date")
        .first()
    )
    if active is not None:
        _already_booked(message, resident, active)
        return
    ready = [cr for cr in open_requests if cr.status == S.READY_TO_PRINT and cr.route == Route.COUNTER]
    if not ready:
        _not_bookable(message, resident, open_requests, today)
        return
    card_request = ready[0]
    message.card_request = card_request
    day = parsed.day
    last = today + timedelta(days=BOOKING_WINDOW_DAYS)
    if day is None or day <= today or day > last:
        first_free = next_free_day(office=card_request.office, channel=QueueChannel.WHATSAPP, after=today)
        _reply(
            message,
            "reply_booking_window",
            outcome=Outcome.REFUSED,
            day=parsed.day_text or (_day(day) if day else "itu"),
            first=_day(today + timedelta(days=1)),
            last=_day(last),
            next_free=f" Hari terdekat yang masih ada tempat: {_day(first_free)}." if first_free else "",
            format=_format(Intent.BOOKING),
        )
        return
    if card_request.kind == CardKind.PEMULA and not resident.is_wajib_ktp_on(day):
        # A first card is printed from the 17th birthday on (the sender typed the NIK, which holds the date).
        _reply(
            message,
            "reply_booking_not_yet",
            outcome=Outcome.REFUSED,
            number=card_request.number,
            first=_day(resident.wajib_ktp_from()),
            format=_format(Intent.BOOKING),
        )
        return
    # The booking service writes the confirmation to the resident's registered address; when the sender is
    # that resident, this reply is their one confirmation. Anyone else booking for them gets the reply, and the
    # resident's own number is told too.
    the_resident = _is_the_resident(message.contact, resident)
    try:
        with transaction.atomic():
            booking = booking_book(
                card_request_id=card_request.pk,
                channel=QueueChannel.WHATSAPP,  # the quota of bookings by message (WhatsApp and SMS)
                by=None,
                wish=day,
                message_for=(lambda _day, _number: None) if the_resident else None,
            )
    except DayUnavailable as full:
        _day_unavailable(message, card_request, day, full.next_free)
        return
    except QueueingError as refused:
        # Another message for the same request may have booked it a moment ago.
        again = Booking.objects.filter(card_request=card_request, status=Booking.Status.BOOKED).first()
        if again is not None:
            _already_booked(message, resident, again)
            return
        _reply(
            message,
            "reply_booking_refused",
            outcome=Outcome.REFUSED,
            number=card_request.number,
            reason=str(refused),
        )
        return
    _reply(
        message,
        "reply_booking_confirmed",
        outcome=Outcome.BOOKED,
        resident=resident,
        card_request=card_request,
        **_booking_values(resident, card_request, booking),
        bring=_what_to_bring(card_request),
    )


def _booking_values(resident: Resident, card_request: CardRequest, booking: Booking) -> dict[str, object]:
    """What a booking reply names: whose card, the request, the day, the queue number and the place."""
    return {
        "name": resident.full_name,
        "number": card_request.number,
        "day": _day(booking.date),
        "queue": booking.number,
        "place": _office_place(card_request.office),
    }


def _office_place(office: Office) -> str:
    return f"{office.name}, {office.address}" if office.address else office.name


def _what_to_bring(card_request: CardRequest) -> str:
    """What happens at the counter beyond the message: the handover requirements of the kind (the old card)."""
    handover = Requirement.objects.filter(kind=card_request.kind, stage=Requirement.Stage.HANDOVER, is_active=True)
    lines = [r.description or r.name for r in handover]
    return "".join(f" {line.rstrip('.')}." for line in lines)


def _already_booked(message: InboundMessage, resident: Resident, booking: Booking) -> None:
    """No second booking: the first one's day and number, to whom may know them."""
    card_request = booking.card_request
    message.card_request = card_request
    booked_it = InboundMessage.objects.filter(
        contact=message.contact, outcome=Outcome.BOOKED, card_request_id=card_request.pk
    ).exists()
    if not (booked_it or may_know_status(message.contact, resident)):
        _reply(message, "reply_booking_elsewhere", outcome=Outcome.DUPLICATE)
        return
    _reply(
        message,
        "reply_booking_already",
        outcome=Outcome.DUPLICATE,
        resident=resident,
        card_request=card_request,
        **_booking_values(resident, card_request, booking),
    )


def _not_bookable(message: InboundMessage, resident: Resident, open_requests: list[CardRequest], today: date) -> None:
    """No route-1 request ready to print: say what happens next (to whom may know), or how to ask for a card.
    Anyone else gets the one sentence they also get when the request is not ready or already booked, so a
    name and a NIK do not tell a stranger whether a request exists."""
    if not may_know_status(message.contact, resident):
        if open_requests:
            message.card_request = open_requests[0]
        _status_forward(message, resident, today)
        _reply(message, "reply_booking_refer", outcome=Outcome.REFUSED)
        return
    if not open_requests:
        numbers = _office_numbers(message.office, "accepts_request")
        if numbers:
            how = f"Ajukan dulu lewat {numbers[0].get_channel_display()} {numbers[0].number} dengan format:\n"
            how += _format(Intent.REQUEST)
        else:
            how = f"Ajukan permohonan di {message.office.name} atau UPTD kecamatan Anda pada jam layanan."
        _reply(message, "reply_booking_no_request", outcome=Outcome.REFUSED, name=resident.full_name, how=how)
        return
    card_request = open_requests[0]
    message.card_request = card_request
    _reply(
        message,
        "reply_booking_not_ready",
        outcome=Outcome.REFUSED,
        resident=resident,
        card_request=card_request,
        name=resident.full_name,
        number=card_request.number,
        state=status_text.request_state(card_request, today=today, booking_open=False),
    )


def _day_unavailable(message: InboundMessage, card_request: CardRequest, day: date, next_free: date | None) -> None:
    """A full or closed day: the next day with room (or none within the window)."""
    served = places_left(office=card_request.office, first=day, days=1)
    reason = "sudah penuh" if served else "kantor tidak melayani (libur atau tutup)"
    if next_free is None:
        _reply(
            message,
            "reply_booking_none_free",
            outcome=Outcome.REFUSED,
            day=_day(day),
            reason=reason,
            number=card_request.number,
        )
        return
    _reply(
        message,
        "reply_booking_full",
        outcome=Outcome.REFUSED,
        day=_day(day),
        reason=reason,
        next_day=_day(next_free),
        format=_format(Intent.BOOKING),
    )


# --- a card request (#KTP#NIK#KK#Nama#Desa#Kecamatan#Jenis) -------------------------------------------------------


def _request(message: InboundMessage, parsed: Parsed, today: date) -> None:
    office = message.office
    nik, kk = nik_check(parsed.nik, today=today), kk_check(parsed.kk_number, today=today)
    errors = [f"NIK: {e}" for e in nik.errors] + [f"KK: {e}" for e in kk.errors]
    if errors:
        _reply(
            message,
            "reply_numbers_invalid",
            outcome=Outcome.FORMAT_REPLY,
            problems=_problems(errors),
            format=_format(Intent.REQUEST),
        )
        return
    resident = (
        Resident.objects.filter(_residents_here(office), nik=nik.number, family__kk_number=kk.number)
        .select_related("family")
        .first()
    )
    if resident is None or not names_match(parsed.name, resident.full_name):
        _reply(message, "reply_request_mismatch", outcome=Outcome.REFUSED, format=_format(Intent.REQUEST))
        return
    kind = CardKind(parsed.card_kind)
    existing = CardRequest.objects.open().filter(resident=resident, kind=kind).select_related("resident").first()
    if existing is not None:
        _request_duplicate(message, resident, existing, today)
        return
    try:
        with transaction.atomic():
            card_request = card_request_create(
                resident=resident,
                kind=kind,
                by=None,
                channel=message.source,
                # The resident's own address gets one message: the reply below, which says all a receipt would.
                tell_resident=not _is_the_resident(message.contact, resident),
            )
    except CardRequestError as refused:
        existing = CardRequest.objects.open().filter(resident=resident, kind=kind).first()
        if existing is not None:  # opened a moment ago by another message
            _request_duplicate(message, resident, existing, today)
            return
        _reply(message, "reply_request_refused", outcome=Outcome.REFUSED, reason=str(refused))
        return
    message.card_request = card_request
    _reply(
        message,
        "reply_request_opened",
        outcome=Outcome.REQUEST_OPENED,
        resident=resident,
        card_request=card_request,
        name=resident.full_name,
        kind=kind.label.lower(),
        number=card_request.number,
        next_steps=_next_steps(card_request, office),
    )


def _next_steps(card_request: CardRequest, office: Office) -> str:
    """What the resident sends or brings next: the documents the kind requires (from the requirements),
    the old card collected at handover (by the courier on route 4), recording for a first card, the route."""
    steps = []
    documents = missing_documents(card_request)
    if documents:
        names = "; ".join(f"{r.name} ({r.description.rstrip('.')})" if r.description else r.name for r in documents)
        steps.append(f"Kirim foto/PDF: {names}, dengan membalas pesan ini.")
    post = card_request.route == Route.POST
    for requirement in Requirement.objects.filter(
        kind=card_request.kind, stage=Requirement.Stage.HANDOVER, is_active=True
    ):
        where = "kepada kurir Pos saat kartu baru diantar" if post else "di loket saat kartu baru diterima"
        steps.append(f"{requirement.name} {where}.")
    if card_request.kind == CardKind.PEMULA and not card_request.resident.biometric_recorded:
        steps.append(f"Anda perlu perekaman biometrik: datang ke {office.name} atau UPTD kecamatan pada jam layanan.")
    if post:
        fee = f"{card_request.office.cod_fee:,}".replace(",", ".")
        steps.append(f"Kartu dikirim lewat Pos Indonesia; bayar ongkos kurir Rp {fee} di tempat.")
    elif card_request.route == Route.COUNTER and _booking_open(office):
        steps.append("Setelah permohonan lengkap, pilih hari kedatangan dengan format #nama lengkap#NIK#tanggal.")
    else:
        steps.append("Kami kabari langkah berikutnya setelah diverifikasi.")
    return "".join(f"\n{step}" for step in steps)


def _request_duplicate(message: InboundMessage, resident: Resident, existing: CardRequest, today: date) -> None:
    """No second request: the first one's number and state (its place in the line is kept)."""
    message.card_request = existing
    kind = CardKind(existing.kind).label.lower()
    if not may_know_status(message.contact, resident):
        _status_forward(message, resident, today)
        _reply(message, "reply_request_elsewhere", outcome=Outcome.DUPLICATE, kind=kind)
        return
    _reply(
        message,
        "reply_request_duplicate",
        outcome=Outcome.DUPLICATE,
        resident=resident,
        card_request=existing,
        name=resident.full_name,
        kind=kind,
        number=existing.number,
        state=status_text.request_state(existing, today=today, booking_open=_booking_open(message.office)),
    )


# --- SINKRONISASI ------------------------------------------------------------------------------------------------


def _sync(message: InboundMessage, parsed: Parsed) -> None:
    try:
        with transaction.atomic():
            sync = data_sync_open(
                office=message.office,
                nik=parsed.nik,
                kk_number=parsed.kk_number,
                purpose=parsed.purpose,
                channel=message.source,
                contact=message.contact,
            )
    except DataSyncDuplicate as duplicate:
        first = duplicate.existing
        if not _sync_asked_by(first, message.contact):
            # Someone else's request for this NIK (by message, or recorded at the counter): its number and day
            # are theirs to know.
            _reply(message, "reply_sync_elsewhere", outcome=Outcome.DUPLICATE)
            return
        _reply(
            message,
            "data_sync_duplicate",
            outcome=Outcome.DUPLICATE,
            reference=first.reference,
            nik=first.masked_nik,
            purpose=first.purpose,
            received=_local_date(first.office, first.received_at),
        )
        return
    except CardRequestError as refused:
        _reply(
            message,
            "reply_sync_refused",
            outcome=Outcome.REFUSED,
            reason=str(refused),
            format=_format(Intent.SYNC),
        )
        return
    _reply(
        message,
        "data_sync_received",
        outcome=Outcome.SYNC_OPENED,
        reference=sync.reference,
        nik=sync.masked_nik,
        purpose=sync.purpose,
    )


def _sync_asked_by(sync: DataSyncRequest, contact: Contact) -> bool:
    """The contact may hear a sync request's reference and day: its own message opened it, it writes from the
    number noted at the counter, or it is the matched resident's registered identity."""
    if sync.contact_id is not None and sync.contact_id == contact.pk:
        return True
    noted = phone_international(sync.phone) if sync.contact_id is None and sync.phone else ""
    if noted and noted == phone_international(contact.phone):
        return True
    return sync.resident is not None and _is_the_resident(contact, sync.resident)


# --- status ------------------------------------------------------------------------------------------------------


def _status(message: InboundMessage, parsed: Parsed, today: date) -> None:
    office = message.office
    if not parsed.nik:
        residents = _residents_of_contact(message.contact, office)
        requests = status_text.requests_to_describe(residents)
        if not requests:
            _reply(message, "reply_status_ask_nik", outcome=Outcome.FORMAT_REPLY, format=_format(Intent.STATUS))
            return
        _status_answer(message, requests, today)
        return
    nik = _nik_or_format_reply(message, parsed, today, Intent.STATUS)
    if nik is None:
        return
    resident = _resident_by_nik(office, nik)
    if resident is not None and may_know_status(message.contact, resident):
        requests = status_text.requests_to_describe([resident.pk])
        if requests:
            _status_answer(message, requests, today)
        else:
            _reply(
                message,
                "reply_booking_no_request",
                outcome=Outcome.STATUS_ANSWERED,
                resident=resident,
                name=resident.full_name,
                how="Ajukan permohonan lewat pesan atau di kantor pada jam layanan.",
            )
        return
    # A stranger, or a NIK nobody here has: the same sentence; the registered number hears the status.
    if resident is not None:
        _status_forward(message, resident, today)
    _reply(message, "reply_status_elsewhere", outcome=Outcome.STATUS_REFUSED)


def _residents_of_contact(contact: Contact, office: Office, *, by_phone: bool = True) -> list[int]:
    """The residents whose status this contact may hear without naming a NIK: the one a clerk linked, those
    whose request its messages opened, and (`by_phone`) those whose WhatsApp number it writes from."""
    ids: set[int] = set()
    if contact.resident_id:
        ids.add(contact.resident_id)
    ids.update(
        InboundMessage.objects.filter(contact=contact, outcome=Outcome.REQUEST_OPENED, card_request__isnull=False)
        .values_list("card_request__resident_id", flat=True)
        .distinct()
    )
    phone = phone_international(contact.phone)
    if by_phone and phone:
        ids.update(Resident.objects.filter(_residents_here(office), whatsapp=phone).values_list("pk", flat=True))
    return sorted(ids)


def _status_answer(message: InboundMessage, requests: list[CardRequest], today: date) -> None:
    first = requests[0]
    message.card_request = first
    _reply(
        message,
        "reply_status",
        outcome=Outcome.STATUS_ANSWERED,
        resident=first.resident,
        card_request=first,
        name=first.resident.full_name,
        answer=status_text.status_answer(requests, today=today, booking_open=_booking_open(message.office)),
    )


def _status_forward(message: InboundMessage, resident: Resident, today: date) -> None:
    """Someone else asked about the resident: the status goes to the resident's registered address (its
    WhatsApp number, or a contact a clerk linked), at most once a day, never to the asker. Nothing is written
    when the resident has no address or no request."""
    if not (resident.whatsapp or Contact.objects.filter(resident=resident).exists()):
        return
    requests = status_text.requests_to_describe([resident.pk])
    if not requests:
        return
    notification_write(
        resident=resident,
        template="status_answer",
        card_request=requests[0],
        office=message.office,
        dedupe_key=STATUS_FORWARD_KEY.format(resident=resident.pk, day=today.isoformat()),
        answer=status_text.status_answer(requests, today=today, booking_open=_booking_open(message.office)),
    )
