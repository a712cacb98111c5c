"""Processing a stored webhook payload: each message once, each status applied, nothing lost.

`payload_process(payload_id)` is idempotent and safe to run twice at once (the task and the sweep may):
- each message is its own transaction, so a poison message never blocks its siblings; its error is recorded on
  the payload, which is then FAILED and tried again by the sweep (up to WEBHOOK_MAX_ATTEMPTS runs in all);
- the provider's message id is unique in the database: a message seen before (a replay across POSTs, the same
  id twice in one POST, a second worker) is neither stored nor acted on again;
- `intake.actions.message_act` runs in a savepoint inside the message's transaction: when it raises, what it
  did is undone, the message stays stored with the error, and the next run acts on it again; after the last
  attempt it waits in the inbox for a clerk;
- status callbacks go to `messaging.status.notification_status_apply`, which never moves a message backwards;
- a payload that cannot be processed at all stays stored, FAILED, with a traceback summary in `error`; payloads
  are never deleted here.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from intake.actions import message_act
from intake.models import InboundMessage, Source, WebhookPayload
from intake.payloads import DOWNLOADED_KINDS, WaChange, WaMessage, WaStatus, whatsapp_changes
from intake.sms import sms_read
from intake.threads import thread_for, thread_wait
from messaging.contacts import (
    contact_for_sms,
    contact_for_whatsapp,
    contact_number_changed,
    contact_user_id_changed,
    contact_user_id_learn,
    is_user_id,
    phone_normalized,
)
from messaging.models import Contact, OfficeNumber
from messaging.status import notification_status_apply
from registry import clock

logger = logging.getLogger(__name__)

# The beginning of InboundMessage.error when message_act raised (the next run acts on the message again).
ACT_FAILED = "Gagal diproses otomatis"
# Kinds message_act is called for: everything a resident wrote or sent, not system messages or reactions.
ACTED_KINDS = frozenset({"text", "image", "document", "audio", "interactive", "other"})
STATUSES = frozenset({"sent", "delivered", "read", "failed", "played"})
MAX_ERROR = 5000
# A pending payload a worker took (processed_at set) is its own for this long; then another may take it.
CLAIM_LEASE = timedelta(minutes=2)


@dataclass
class PayloadResult:
    """What one run did: the payload's new status, the messages whose media to download, and what went wrong
    (failures make the payload FAILED; notes are kept on a processed payload)."""

    status: str
    media_message_ids: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Run:
    payload: WebhookPayload
    result: PayloadResult
    office_number: OfficeNumber | None = None
    numbers: dict[str, OfficeNumber | None] = field(default_factory=dict)

    @property
    def final_attempt(self) -> bool:
        return self.payload.attempts + 1 >= settings.WEBHOOK_MAX_ATTEMPTS


def payloads_claim(*, now: datetime, limit: int) -> list[int]:
    """Take up to `limit` pending payloads, oldest first, for one worker: each gets a lease (`processed_at`
    set to `now` while it is still pending), so workers draining at once take different payloads. A lease
    older than CLAIM_LEASE is a dead worker's: its payloads are taken again."""
    with transaction.atomic():
        ids = list(
            WebhookPayload.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookPayload.Status.PENDING)
            .filter(Q(processed_at__isnull=True) | Q(processed_at__lt=now - CLAIM_LEASE))
            .order_by("received_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        WebhookPayload.objects.filter(pk__in=ids).update(processed_at=now)
    return ids


def payload_process(payload_id: int) -> PayloadResult | None:
    """Process one stored payload (WhatsApp or SMS). Returns None when there is nothing to do (unknown id, or
    already processed)."""
    payload = WebhookPayload.objects.filter(pk=payload_id).first()
    if payload is None or payload.status == WebhookPayload.Status.PROCESSED:
        return None
    run = _Run(payload=payload, result=PayloadResult(status=WebhookPayload.Status.PENDING))
    try:
        if payload.source == Source.SMS:
            _sms_process(run)
        else:
            _whatsapp_process(run)
    except Exception as exc:  # anything at all: the payload stays, FAILED, and is tried again
        logger.error("Webhook payload %s failed: %s", payload.pk, exc.__class__.__name__)
        run.result.failures.append(_summary(exc, with_traceback=True))
    return _finish(run)


def _finish(run: _Run) -> PayloadResult:
    result = run.result
    result.status = WebhookPayload.Status.FAILED if result.failures else WebhookPayload.Status.PROCESSED
    updates = {
        "status": result.status,
        "error": "\n".join(result.failures + result.notes)[:MAX_ERROR],
        "attempts": F("attempts") + 1,
        "processed_at": clock.now(),
    }
    if run.office_number is not None:
        updates["office_number"] = run.office_number
    # A run that failed never overwrites one that succeeded meanwhile (the task and the sweep at once).
    rows = WebhookPayload.objects.filter(pk=run.payload.pk)
    if result.status == WebhookPayload.Status.FAILED:
        rows = rows.exclude(status=WebhookPayload.Status.PROCESSED)
    rows.update(**updates)
    return result


def _summary(exc: BaseException, *, with_traceback: bool = False) -> str:
    text = f"{exc.__class__.__name__}: {exc}"
    if with_traceback:
        frames = traceback.extract_tb(exc.__traceback__)[-4:]
        where = " < ".join(f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno} {frame.name}" for frame in frames[::-1])
        text = f"{text} [{where}]"
    return text[:1000]


def _arrival(run: _Run, sent: datetime | None) -> datetime:
    """When the resident sent it: the provider's time, never later than the POST's arrival."""
    arrived = run.payload.received_at
    return min(sent, arrived) if sent is not None else arrived


# --- WhatsApp ------------------------------------------------------------------------------------------------


def _whatsapp_process(run: _Run) -> None:
    for change in whatsapp_changes(run.payload.body):
        if change.field != "messages":
            run.result.notes.append(f"Perubahan '{change.field}' diabaikan.")
            continue
        for error in change.errors:
            run.result.notes.append(f"Galat dari WhatsApp: {error.summary()}")
        for status in change.statuses:
            _status_apply(run, status)
        if change.statuses:
            _user_ids_learn(run, change)
        if not change.messages:
            continue
        number = _whatsapp_number(run, change.phone_number_id)
        if number is None:
            run.result.failures.append(
                f"Nomor WhatsApp dengan phone_number_id '{change.phone_number_id}' "
                f"({change.display_phone_number}) tidak terdaftar pada kantor mana pun: "
                f"{len(change.messages)} pesan belum diproses."
            )
            continue
        seen: set[str] = set()
        for message in change.messages:
            if message.id in seen:  # the same id twice in one POST
                continue
            seen.add(message.id)
            try:
                with transaction.atomic():
                    _whatsapp_message(run, change, number, message)
            except Exception as exc:  # one message's failure is recorded; its siblings go on
                logger.error("Webhook payload %s: a message failed: %s", run.payload.pk, exc.__class__.__name__)
                run.result.failures.append(f"Pesan {message.id}: {_summary(exc, with_traceback=True)}")


def _whatsapp_number(run: _Run, phone_number_id: str) -> OfficeNumber | None:
    if phone_number_id not in run.numbers:
        run.numbers[phone_number_id] = (
            OfficeNumber.objects.select_related("office")
            .filter(channel=OfficeNumber.Channel.WHATSAPP, phone_number_id=phone_number_id)
            .first()
            if phone_number_id
            else None
        )
    return run.numbers[phone_number_id]


def _status_apply(run: _Run, status: WaStatus) -> None:
    if status.status not in STATUSES:
        run.result.notes.append(f"Status '{status.status}' untuk {status.id} diabaikan.")
        return
    reason = status.errors[0].summary() if status.errors else ""
    try:
        with transaction.atomic():
            notification_status_apply(
                provider_message_id=status.id,
                status=status.status,
                at=_arrival(run, status.timestamp),
                error=reason,
            )
            if status.recipient_phone and status.recipient_user_id:
                contact_user_id_learn(phone=status.recipient_phone, user_id=status.recipient_user_id)
    except Exception as exc:
        logger.error("Webhook payload %s: a status failed: %s", run.payload.pk, exc.__class__.__name__)
        run.result.failures.append(f"Status {status.id}: {_summary(exc, with_traceback=True)}")


def _user_ids_learn(run: _Run, change: WaChange) -> None:
    """Status callbacks' lean `contacts:[{"wa_id", "user_id"}]`: a number we write to gets its BSUID."""
    for contact in change.contacts:
        if contact.wa_id and contact.user_id and not is_user_id(contact.wa_id):
            contact_user_id_learn(phone=contact.wa_id, user_id=contact.user_id)


def _whatsapp_message(run: _Run, change: WaChange, number: OfficeNumber, message: WaMessage) -> None:
    at = _arrival(run, message.timestamp)
    if message.kind == "system":
        _system_message(run, number, message, at)
        return
    if not (message.user_id or message.phone):
        raise ValueError("Pengirim tanpa nomor dan tanpa ID pengguna WhatsApp.")
    sender = change.contact_of(message)
    contact = contact_for_whatsapp(
        user_id=message.user_id,
        phone=message.phone,
        username=sender.username if sender else "",
        profile_name=sender.name if sender else "",
        parent_user_id=message.parent_user_id,
        at=at,
    )
    media = message.media
    row = InboundMessage(
        source=Source.WHATSAPP,
        provider_message_id=message.id,
        kind=message.kind,
        text=message.text,
        media_id=media.id if media else "",
        media_type=media.mime_type[:60] if media else "",
        media_name=media.filename[:255] if media else "",
        error="; ".join(error.summary() for error in message.errors)[:1000],
    )
    stored = _message_store(run, row, number=number, contact=contact, at=at, act=message.type != "reaction")
    if stored is not None and stored.kind in DOWNLOADED_KINDS and stored.media_id and not stored.media_file:
        run.result.media_message_ids.append(stored.pk)


def _system_message(run: _Run, number: OfficeNumber, message: WaMessage, at: datetime) -> None:
    """A system message (no contacts array): the sender's BSUID or number changed. Stored once, so a replay
    changes nothing; the contact functions are harmless when replayed anyway."""
    if InboundMessage.objects.filter(source=Source.WHATSAPP, provider_message_id=message.id).exists():
        return
    system = message.system
    system_type = system.type if system else ""
    contact: Contact | None
    if system_type == "user_changed_user_id":
        contact = contact_user_id_changed(
            previous_user_id=system.previous_user_id,
            user_id=system.user_id or message.user_id,
            parent_user_id=system.parent_user_id,
            at=at,
        )
    elif system_type == "user_changed_number":
        contact = contact_number_changed(
            user_id=message.user_id, previous_phone=message.phone, phone=system.wa_id, at=at
        )
    else:  # customer_identity_changed and types to come: recorded for the known contact, nothing moved
        contact = _contact_known(user_id=message.user_id, phone=message.phone)
    if contact is None:
        run.result.notes.append(f"Pesan sistem '{system_type}' {message.id}: pengirim belum dikenal, diabaikan.")
        return
    row = InboundMessage(
        source=Source.WHATSAPP,
        provider_message_id=message.id,
        kind=InboundMessage.Kind.SYSTEM,
        text=message.text,
        outcome=InboundMessage.Outcome.IGNORED,
    )
    _message_store(run, row, number=number, contact=contact, at=at, act=False, thread=False)


def _contact_known(*, user_id: str, phone: str) -> Contact | None:
    if user_id and (contact := Contact.objects.filter(user_id=user_id).first()):
        return contact
    return Contact.objects.filter(phone=phone).first() if phone else None


# --- SMS -----------------------------------------------------------------------------------------------------


def _sms_process(run: _Run) -> None:
    sms = sms_read(run.payload.body, run.payload.content_type)
    number = (
        OfficeNumber.objects.select_related("office")
        .filter(channel=OfficeNumber.Channel.SMS, number=phone_normalized(sms.to))
        .first()
    )
    if number is None:
        run.result.failures.append(f"Nomor SMS tujuan '{sms.to}' tidak terdaftar pada kantor mana pun.")
        return
    run.office_number = number
    sent = sms.sent_at
    if sent is not None and timezone.is_naive(sent):
        sent = timezone.make_aware(sent, clock.zone_of(number.office))
    at = _arrival(run, sent)
    with transaction.atomic():
        contact = contact_for_sms(phone=sms.sender, at=at)
        row = InboundMessage(
            source=Source.SMS,
            provider_message_id=sms.id[:200],
            kind=InboundMessage.Kind.TEXT,
            text=sms.text[:4096],
        )
        _message_store(run, row, number=number, contact=contact, at=at, act=True)


# --- one message, once -------------------------------------------------------------------------------------


def _message_store(
    run: _Run,
    row: InboundMessage,
    *,
    number: OfficeNumber,
    contact: Contact,
    at: datetime,
    act: bool,
    thread: bool = True,
) -> InboundMessage | None:
    """Store `row` unless its provider id is known, then act on it. Returns the stored message (a new one, or
    a known one acted on again after a failed attempt), or None for a message seen before.

    Runs inside the message's transaction. The unique (source, provider id) constraint is the last word:
    an INSERT racing another worker's waits for it and fails, and the message is then the other's."""
    known = _known(row)
    if known is not None:
        if _act_pending(known):
            _act(run, known)
            return known
        return None
    row.payload = run.payload
    row.office = number.office
    row.office_number = number
    row.contact = contact
    row.sent_at = at
    row.received_at = run.payload.received_at
    if thread:
        row.thread = thread_for(office=number.office, contact=contact, at=at)
    if not act and not row.outcome:
        row.outcome = InboundMessage.Outcome.IGNORED
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        known = _known(row)
        if known is None:
            raise
        if _act_pending(known):
            _act(run, known)
            return known
        return None
    if act and row.kind in ACTED_KINDS:
        _act(run, row)
    return row


def _known(row: InboundMessage) -> InboundMessage | None:
    return (
        InboundMessage.objects.select_for_update(of=("self",))
        .select_related("thread")
        .filter(source=row.source, provider_message_id=row.provider_message_id)
        .first()
    )


def _act_pending(message: InboundMessage) -> bool:
    """A stored message whose earlier message_act raised: the next run acts on it again."""
    return not message.outcome and message.error.startswith(ACT_FAILED)


def _act(run: _Run, message: InboundMessage) -> None:
    """message_act in a savepoint. When it raises, what it wrote is undone and the message keeps the error;
    after the last attempt the message waits in the inbox for a clerk."""
    try:
        with transaction.atomic():
            message_act(message)
    except Exception as exc:
        attempt = run.payload.attempts + 1
        logger.error("Inbound message %s: message_act failed: %s", message.pk, exc.__class__.__name__)
        updates: dict = {"error": f"{ACT_FAILED} (percobaan {attempt}): {_summary(exc)}"[:1000]}
        if run.final_attempt:
            updates["outcome"] = InboundMessage.Outcome.INBOX
            if message.thread_id:
                thread_wait(message.thread, since=message.received_at)
        InboundMessage.objects.filter(pk=message.pk).update(**updates)
        run.result.failures.append(f"Pesan {message.provider_message_id}: {_summary(exc, with_traceback=True)}")
        return
    if message.error.startswith(ACT_FAILED):
        InboundMessage.objects.filter(pk=message.pk).update(error="")
