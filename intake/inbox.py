"""The inbox: what the parser could not act on, and free questions, answered by a clerk. A thread is claimed
(compare-and-set: two clerks never both hold it), answered from the page (the reply goes from the number the
resident wrote to, as a reply), and a photo or document a resident sent is attached to their request in one
click. Every service checks the caller's scope itself: the page's 404 is the first line, this the second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cards import number_links
from cards.models import Attachment, CardRequest, Requirement
from cards.services import attachment_add
from cards.workflow import card_request_locked
from intake.models import InboundMessage, Thread
from intake.threads import thread_answered, thread_wait
from messaging import messages
from messaging.models import Contact, Notification, OfficeNumber
from registry import clock
from registry.models import Office, Resident, User, mask_number

# WhatsApp's customer-service window: free text only within 24 hours of the contact's last message; outside
# it the outbox sends the office's approved template.
WHATSAPP_WINDOW = timedelta(hours=24)
ANSWER_MAX_CHARS = 1000
PREVIEW_CHARS = 80
# A run of 12 or more digits, single spaces, dots or dashes allowed between them ("3502 0152 0590 0002"): a NIK
# or KK number, whole or most of it, as residents type them.
_LONG_NUMBER = re.compile(r"(?<!\d)\d(?:[ .\-]?\d){11,}(?!\d)")
# How a stored attachment names the message it came from: "foto.jpg (pesan #123)". The request page shows it,
# and the inbox reads it back to say where a message was attached and to refuse attaching it there twice.
_FROM_MESSAGE = re.compile(r"\(pesan #(\d+)\)$")


class InboxError(Exception):
    """A refused inbox action; the message is for the clerk, in their language."""


class ThreadTaken(InboxError):
    """Another clerk holds the thread (their name is in the message)."""


# --- what a staff member sees -------------------------------------------------------------------------------


def threads_visible_to(user: User) -> QuerySet[Thread]:
    """The threads of the offices in the user's scope: a kabupaten's staff see their Disdukcapil's and its
    UPTDs' threads; a UPTD operator only threads of the UPTD's own numbers (the kabupaten's desk is not theirs);
    nobody another kabupaten's."""
    return Thread.objects.filter(office__in=Office.objects.visible_to(user))


def messages_visible_to(user: User) -> QuerySet[InboundMessage]:
    return InboundMessage.objects.filter(office__in=Office.objects.visible_to(user))


def numbers_masked(text: str) -> str:
    """`text` with every NIK- or KK-like number (12 digits or more, separators allowed) masked by the one mask
    (registry.models.mask_number): what a page or list shows of what a resident typed."""
    return _LONG_NUMBER.sub(lambda m: mask_number(re.sub(r"\D", "", m.group(0))), text or "")


def has_long_number(text: str) -> bool:
    return bool(_LONG_NUMBER.search(text or ""))


def preview(text: str) -> str:
    """One short line of a message: masked first, then cut (cutting first could leave a NIK's first 12 digits
    unmasked)."""
    line = " ".join(numbers_masked(text).split())
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1] + "…"


def age_text(delta: timedelta) -> str:
    """How long something has waited, in words: "2 hari 3 jam", "3 jam 12 menit", "12 menit"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        parts = [ngettext("%(n)d hari", "%(n)d hari", days) % {"n": days}]
        if hours:
            parts.append(ngettext("%(n)d jam", "%(n)d jam", hours) % {"n": hours})
        return " ".join(parts)
    if hours:
        return " ".join(
            [
                ngettext("%(n)d jam", "%(n)d jam", hours) % {"n": hours},
                ngettext("%(n)d menit", "%(n)d menit", minutes) % {"n": minutes},
            ]
        )
    if minutes:
        return ngettext("%(n)d menit", "%(n)d menit", minutes) % {"n": minutes}
    return _("kurang dari 1 menit")


def oldest_waiting_since(threads: QuerySet[Thread]) -> datetime | None:
    """The arrival of the oldest message nobody has answered, among `threads`."""
    return (
        threads.filter(waiting_since__isnull=False)
        .order_by("waiting_since")
        .values_list("waiting_since", flat=True)
        .first()
    )


def thread_resident(thread: Thread) -> Resident | None:
    """Who the thread is about: the resident it was opened for, else the one a clerk linked the sender to."""
    return thread.resident or thread.contact.resident


def reply_number(thread: Thread) -> OfficeNumber | None:
    """The number the resident last wrote to: the answer goes back from it."""
    message = (
        thread.messages.exclude(office_number=None).select_related("office_number").order_by("-sent_at", "-id").first()
    )
    return message.office_number if message else None


@dataclass(frozen=True)
class AnswerMode:
    """How an answer will go: "sms", "free" (free text inside WhatsApp's 24-hour window, open `until`) or
    "template" (outside it: the office's approved template carries the words), or "none" (no number)."""

    kind: str
    until: datetime | None = None


def answer_mode(thread: Thread, number: OfficeNumber | None, *, now: datetime) -> AnswerMode:
    if number is None:
        return AnswerMode("none")
    if number.channel == OfficeNumber.Channel.SMS:
        return AnswerMode("sms")
    last = thread.contact.last_whatsapp_at
    if last is not None and last + WHATSAPP_WINDOW > now:
        return AnswerMode("free", until=last + WHATSAPP_WINDOW)
    return AnswerMode("template")


def thread_outbox(thread: Thread) -> QuerySet[Notification]:
    """The messages this office sent to the thread's contact (replies and what it started itself)."""
    return Notification.objects.filter(contact_id=thread.contact_id).filter(
        Q(office_id=thread.office_id) | Q(sender_number__office_id=thread.office_id)
    )


def attached_to(message_ids: list[int], card_request_ids: list[int]) -> dict[int, list[CardRequest]]:
    """For each message, the requests (among `card_request_ids`) it is already attached to."""
    found: dict[int, list[CardRequest]] = {}
    if not message_ids or not card_request_ids:
        return found
    wanted = set(message_ids)
    rows = Attachment.objects.filter(card_request_id__in=card_request_ids, original_name__contains="(pesan #")
    for attachment in rows.select_related("card_request"):
        match = _FROM_MESSAGE.search(attachment.original_name)
        if match and int(match.group(1)) in wanted:
            found.setdefault(int(match.group(1)), []).append(attachment.card_request)
    return found


def may_attach(message: InboundMessage) -> bool:
    """A message whose file can become a request's attachment: a photo or a document that was downloaded."""
    return bool(message.media_file) and message.kind in (InboundMessage.Kind.IMAGE, InboundMessage.Kind.DOCUMENT)


# --- claiming -----------------------------------------------------------------------------------------------


def _visible_thread(thread_id: int, by: User) -> Thread:
    thread = threads_visible_to(by).filter(pk=thread_id).first()
    if thread is None:
        raise InboxError(_("Percakapan tidak ditemukan di wilayah kerja Anda."))
    return thread


def _holder_name(user: User | None) -> str:
    if user is None:
        return _("petugas lain")
    return user.get_full_name() or user.username


def thread_claim(*, thread_id: int, by: User) -> Thread:
    """`by` takes the thread. Invariant: one holder at a time, by compare-and-set (claimed only while nobody
    holds it); a second clerk is refused with the holder's name. Claiming one's own thread again is harmless."""
    _visible_thread(thread_id, by)
    taken = Thread.objects.filter(pk=thread_id, claimed_by__isnull=True).update(claimed_by=by, claimed_at=clock.now())
    thread = Thread.objects.select_related("claimed_by").get(pk=thread_id)
    if not taken and thread.claimed_by_id != by.pk:
        raise ThreadTaken(
            _("Percakapan ini sudah ditangani oleh %(name)s.") % {"name": _holder_name(thread.claimed_by)}
        )
    return thread


def thread_release(*, thread_id: int, by: User) -> Thread:
    """Give a thread back to the inbox: its holder may, and a supervisor may for anyone (a clerk gone home)."""
    _visible_thread(thread_id, by)
    holders = Thread.objects.filter(pk=thread_id, claimed_by__isnull=False)
    if not by.is_supervisor:
        holders = holders.filter(claimed_by=by)
    if not holders.update(claimed_by=None, claimed_at=None):
        thread = Thread.objects.select_related("claimed_by").get(pk=thread_id)
        if thread.claimed_by_id is None:
            return thread
        raise ThreadTaken(
            _("Percakapan ini ditangani oleh %(name)s; hanya dia atau kepala bidang yang dapat melepasnya.")
            % {"name": _holder_name(thread.claimed_by)}
        )
    return Thread.objects.get(pk=thread_id)


# --- answering ----------------------------------------------------------------------------------------------


def thread_answer(*, thread_id: int, by: User, text: str, seen_up_to: int | None = None) -> Notification:
    """Answer a thread with a clerk's own words. Invariants: the answer is a reply row (is_reply) written in
    the transaction that marks the thread answered, so the thread stops waiting exactly when an answer exists;
    it goes from the number the resident last wrote to, on its channel (the outbox sends it as the approved
    template outside WhatsApp's 24-hour window); a thread held by another clerk is not answered behind their
    back. An unclaimed thread becomes the answerer's. `seen_up_to` (the newest message id the clerk had on
    screen): a message that arrived after it is not marked answered, and the thread keeps waiting for it."""
    text = (text or "").strip()
    if not text:
        raise InboxError(_("Tulis jawabannya dulu."))
    if len(text) > ANSWER_MAX_CHARS:
        raise InboxError(_("Jawaban terlalu panjang (paling banyak %(n)d karakter).") % {"n": ANSWER_MAX_CHARS})
    _visible_thread(thread_id, by)
    now = clock.now()
    with transaction.atomic():
        thread = (
            Thread.objects.select_for_update(of=("self",))
            .select_related("contact", "contact__resident", "resident", "office", "claimed_by")
            .get(pk=thread_id)
        )
        if thread.claimed_by_id not in (None, by.pk):
            raise ThreadTaken(
                _("Percakapan ini sedang ditangani oleh %(name)s.") % {"name": _holder_name(thread.claimed_by)}
            )
        number = reply_number(thread)
        if number is None:
            raise InboxError(_("Tidak ada nomor kantor untuk membalas percakapan ini."))
        reply = messages.reply_write(
            contact=thread.contact,
            office_number=number,
            office=thread.office,
            text=text,
            resident=thread_resident(thread),
        )
        unanswered = thread.messages.filter(answered_at__isnull=True)
        if seen_up_to is not None:
            unanswered = unanswered.filter(pk__lte=seen_up_to)
        unanswered.filter(reply__isnull=True).update(reply=reply)
        unanswered.update(answered_at=now)
        thread_answered(thread)
        unseen = thread.messages.filter(answered_at__isnull=True, outcome=InboundMessage.Outcome.INBOX)
        if (first_unseen := unseen.order_by("sent_at", "pk").first()) is not None:
            thread_wait(thread, since=min(first_unseen.sent_at, first_unseen.received_at))
        if thread.claimed_by_id is None:
            Thread.objects.filter(pk=thread.pk, claimed_by__isnull=True).update(claimed_by=by, claimed_at=now)
    return reply


# --- attaching what a resident sent --------------------------------------------------------------------------


def attach_candidates(message: InboundMessage, thread: Thread, by: User) -> list[CardRequest]:
    """The open requests a message's file may go to: the thread's resident's, and the request the message
    itself was about, within `by`'s scope."""
    resident = thread_resident(thread)
    condition = Q(pk=message.card_request_id) if message.card_request_id else Q(pk__in=[])
    if resident is not None:
        condition |= Q(resident_id=resident.pk)
    return list(
        CardRequest.objects.visible_to(by)
        .open()
        .filter(condition)
        .select_related("resident")
        .order_by("created_at", "id")
    )


def message_attach(*, message_id: int, card_request_id: int, requirement_id: int | None, by: User) -> Attachment:
    """Attach the photo or document of an inbox message to a request (cards.services.attachment_add, which
    cleans the file again and writes the timeline event). Invariants: the message is of an office in `by`'s
    scope and the request visible to `by`; the request is the thread's resident's or the one the message was
    about (never some other resident's); a message goes to a request once (the request is locked while it is
    checked, so a double click attaches one file)."""
    message = messages_visible_to(by).select_related("thread", "thread__contact").filter(pk=message_id).first()
    if message is None or message.thread is None:
        raise InboxError(_("Pesan tidak ditemukan di wilayah kerja Anda."))
    if not may_attach(message):
        raise InboxError(_("Pesan ini tidak membawa foto atau dokumen yang dapat dilampirkan."))
    allowed = {c.pk for c in attach_candidates(message, message.thread, by)}
    if card_request_id not in allowed:
        raise InboxError(_("Permohonan itu bukan milik pengirim pesan ini atau di luar wilayah kerja Anda."))
    requirement = None
    if requirement_id is not None:
        requirement = Requirement.objects.filter(
            pk=requirement_id, stage=Requirement.Stage.DOCUMENT, is_active=True
        ).first()
        if requirement is None:
            raise InboxError(_("Pilih persyaratan yang ada."))
    name = f"{(message.media_name or _('berkas')).strip()[:180]} (pesan #{message.pk})"
    with transaction.atomic():
        card_request = card_request_locked(card_request_id)
        if message.pk in attached_to([message.pk], [card_request.pk]):
            raise InboxError(
                _("Pesan ini sudah dilampirkan ke permohonan %(number)s.") % {"number": card_request.number}
            )
        with message.media_file.open("rb") as handle:
            upload = UploadedFile(file=handle, name=name, content_type=message.media_type, size=message.media_file.size)
            return attachment_add(
                card_request=card_request,
                upload=upload,
                by=by,
                requirement=requirement,
                purpose=Attachment.Purpose.REQUIREMENT if requirement else Attachment.Purpose.OTHER,
            )


# --- who the sender is ---------------------------------------------------------------------------------------


def thread_link_resident(*, thread_id: int, resident_id: int, by: User, client_address: str = "") -> Thread:
    """A clerk's deliberate link of the thread's sender to a resident of their scope
    (cards.number_links.contact_link_resident: history and access-log rows, the old number told); the thread
    is then about that resident."""
    thread = _visible_thread(thread_id, by)
    if not Resident.objects.visible_to(by).filter(pk=resident_id).exists():
        raise InboxError(_("NIK tidak ditemukan di wilayah kerja Anda."))
    with transaction.atomic():
        number_links.contact_link_resident(
            contact_id=thread.contact_id, resident_id=resident_id, by=by, client_address=client_address or ""
        )
        Thread.objects.filter(pk=thread.pk).update(resident_id=resident_id)
    return Thread.objects.select_related("resident").get(pk=thread.pk)


def contact_label(contact: Contact) -> str:
    """What a page shows of a sender: their WhatsApp profile name beside the masked address."""
    if contact.profile_name:
        return f"{contact.profile_name} ({contact.address_masked})"
    return contact.address_masked
