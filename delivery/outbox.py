"""The outbox worker: delivers `messaging.models.Notification` rows, one at a time, through the gateways.

A row is sent only by the holder of its lease. `deliver` claims the row with one compare-and-set UPDATE
(pending, not leased, due) that sets `locked_until`; it holds no row lock and no transaction while the gateway
is called; then it records the outcome in one UPDATE guarded by the same lease value. A worker that lost its
lease (it stalled past `locked_until` and another worker took the row) records nothing, so it never overwrites
what the new holder did.

The residual at-least-once window: a worker killed (or a database that fails) between the gateway's success and
the recording UPDATE leaves the row pending with an expired lease; the sweep hands it out again and it is sent a
second time. The window is the length of one UPDATE. Every WhatsApp send carries the row's id as
`biz_opaque_callback_data` (Outgoing.reference), which the Cloud API echoes in its status callbacks, so a
duplicate can be told from the first and reconciled; the Cloud API has no idempotency key that would let it
refuse the second send itself.

Rules applied once the row is claimed (a row that must wait is not failed: it gets `next_attempt_at`):
- quiet hours: what the office starts (`is_reply` False) is not sent between QUIET_HOURS_START and
  QUIET_HOURS_END office time; it waits for the end. A reply goes at once.
- WhatsApp's 24-hour window: free text only within 24 h of the contact's last message; outside it the approved
  template (the office's `MessageTemplate.wa_template_name` for the row's template code, else
  WHATSAPP_UPDATE_TEMPLATE with the text as its one body parameter); without one, SMS when there is a phone
  number, else dead with the reason.
- a contact known to have no WhatsApp, or a send the Cloud API says cannot reach WhatsApp (131026), goes by SMS
  from the office's SMS number, at once.
- the Cloud API's throughput per sending number (WHATSAPP_RATE_PER_SECOND, 80): a token bucket in Redis when
  the broker is Redis (no-op otherwise); over it, the row waits a moment and is not counted as an attempt.

Outcomes of a send: success → SENT with the provider's message id (and the contact's WhatsApp user id learned
from the answer); throttled or temporary → `attempts` + 1 and `next_attempt_at` after an exponential backoff
with jitter (the provider's retry-after honoured), DEAD after MESSAGE_MAX_ATTEMPTS; permanent → DEAD at once.
The last error is on the row (codes and classes, no personal data).

This module talks to the database and the gateways only; delivery/tasks.py hands rows to the broker.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache

import httpx
import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cards.models import CardRequestEvent
from messaging import gateways
from messaging.contacts import contact_user_id_learn
from messaging.models import Contact, MessageTemplate, Notification, OfficeNumber
from messaging.system_text import fit, system_text, system_text_join
from registry import clock
from registry.models import Office, User
from registry.scoping import scope_code_of

logger = logging.getLogger(__name__)

N = Notification.Status
WINDOW = timedelta(hours=24)
# The timeline action of a clerk's resend (see notifications_resend).
MESSAGE_RESENT = CardRequestEvent.Action.MESSAGE_RESENT
# A WhatsApp template parameter may hold no newline or tab and at most 4 spaces in a row (error 132018), and a
# template body is at most 1,024 characters.
TEMPLATE_PARAM_MAX = 900

GatewayFor = Callable[[str], gateways.Gateway]


@dataclass(frozen=True)
class Outcome:
    """What `deliver` did. `retry_in`: seconds after which the row should be handed to the broker again (None:
    the sweep will find it when it is due, or nothing more is to be done)."""

    result: str  # sent | retry | dead | waiting | rate_limited | switched | skipped | lease_lost
    retry_in: float | None = None


# --- claiming and recording ---------------------------------------------------------------------------------


def _claim(notification_id: int, now: datetime) -> datetime | None:
    """Take the row's lease: one UPDATE that only a pending, unleased, due row matches. Returns the lease (the
    value of `locked_until`, the token the recording UPDATE checks), or None when the row is not ours."""
    lease = now + timedelta(seconds=settings.MESSAGE_LEASE_SECONDS)
    taken = (
        Notification.objects.filter(pk=notification_id, status=N.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(locked_until=lease)
    )
    return lease if taken == 1 else None


def _savepoint():
    """A savepoint when called inside a transaction (a failed statement must not spoil it); nothing otherwise:
    a worker runs in autocommit, where the recording UPDATE is one round trip (the shorter the time between the
    gateway's answer and the recorded outcome, the smaller the at-least-once window)."""
    return transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()


def _record(notification_id: int, lease: datetime, **fields: object) -> bool:
    """Write an outcome if the lease is still ours (compare-and-set), releasing it."""
    return bool(
        Notification.objects.filter(pk=notification_id, status=N.PENDING, locked_until=lease).update(
            locked_until=None, **fields
        )
    )


def backoff_seconds(attempts: int, *, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter after the `attempts`-th failed attempt: base × 2^(attempts-1), capped,
    then a random point in its upper half; never sooner than the provider's retry-after."""
    doublings = min(max(attempts - 1, 0), 40)  # past the cap long before; keeps the float finite
    ceiling = min(settings.MESSAGE_BACKOFF_MAX_SECONDS, settings.MESSAGE_BACKOFF_BASE_SECONDS * 2**doublings)
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return max(delay, retry_after or 0.0)


def _queued_for(retry_in: float | None, now: datetime) -> datetime | None:
    """`queued_at` for a row the worker hands back to the broker itself (short waits); NULL leaves it to the
    sweep."""
    if retry_in is not None and retry_in <= settings.MESSAGE_QUEUED_STALE_SECONDS:
        return now
    return None


# --- the rules --------------------------------------------------------------------------------------------


def _hm(value: str) -> time:
    return time.fromisoformat(value)


def quiet_until(office: Office | None, *, now: datetime) -> datetime | None:
    """The end of the quiet hours when `now` falls in them at the office, else None."""
    start, end = _hm(settings.QUIET_HOURS_START), _hm(settings.QUIET_HOURS_END)
    if start == end:
        return None
    local = now.astimezone(clock.zone_of(office))
    wall = local.time()
    quiet = (wall >= start or wall < end) if start > end else (start <= wall < end)
    if not quiet:
        return None
    day = local.date() if wall < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=clock.zone_of(office))


def _template_param(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TEMPLATE_PARAM_MAX else flat[: TEMPLATE_PARAM_MAX - 1] + "…"


def approved_template(row: Notification) -> tuple[str, str] | None:
    """(name, language) of the approved WhatsApp template for a message outside the 24-hour window: the office's
    own for the row's template code, else the global update template; None when neither is set."""
    if row.office_id:
        own = (
            MessageTemplate.objects.filter(office_id=row.office_id, code=row.template)
            .exclude(wa_template_name="")
            .values_list("wa_template_name", "wa_template_language")
            .first()
        )
        if own:
            return own[0], own[1] or "id"
    if settings.WHATSAPP_UPDATE_TEMPLATE:
        return settings.WHATSAPP_UPDATE_TEMPLATE, settings.WHATSAPP_UPDATE_TEMPLATE_LANGUAGE
    return None


def _sms_number(office_id: int | None) -> OfficeNumber | None:
    """The office's SMS number for what it sends (the one marked for updates first)."""
    if office_id is None:
        return None
    return (
        OfficeNumber.objects.filter(office_id=office_id, channel=OfficeNumber.Channel.SMS, is_active=True)
        .order_by("-sends_updates", "pk")
        .first()
    )


def _sender(row: Notification) -> OfficeNumber | None:
    """The number the row goes out from: its own, else the office's number for updates on its channel."""
    if row.sender_number_id and row.sender_number.channel == row.channel:
        return row.sender_number
    if row.channel == Notification.Channel.SMS:
        return _sms_number(row.office_id)
    if row.office_id is None:
        return None
    return (
        OfficeNumber.objects.filter(office_id=row.office_id, channel=row.channel, is_active=True, sends_updates=True)
        .order_by("pk")
        .first()
    )


def _contact(row: Notification) -> Contact | None:
    if row.contact_id:
        return row.contact
    if row.recipient:
        return Contact.objects.filter(phone=row.recipient).first()
    return None


# --- the rate limit ---------------------------------------------------------------------------------------

# A token bucket per sending number, on Redis's own clock (all workers share it, and tests that stop the
# app's clock do not stop the bucket). Returns "0" when a token was taken, else the seconds until one is due.
RATE_LIMIT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def rate_limit_wait(key: str) -> float:
    """Seconds to wait before sending from `key` (0: go), by the Redis token bucket when the broker is Redis.
    Without Redis, or when Redis does not answer, it lets the message go (the gateway's own 429 remains)."""
    url = settings.CELERY_BROKER_URL
    rate = float(settings.WHATSAPP_RATE_PER_SECOND)
    if rate <= 0 or not url.startswith(("redis://", "rediss://", "unix://")):
        return 0.0
    try:
        wait = _redis(url).eval(RATE_LIMIT_SCRIPT, 1, f"outbox:rate:{key}", rate, max(rate, 1.0))
    except redis.RedisError as exc:
        logger.warning("outbox rate limit skipped: %s", type(exc).__name__)
        return 0.0
    return float(wait)


# --- delivering ---------------------------------------------------------------------------------------------


def _address(row: Notification, contact: Contact | None) -> tuple[str, str]:
    """(phone, WhatsApp user id) the row can go to."""
    phone = row.recipient or (contact.phone if contact and contact.phone else "")
    user_id = contact.user_id if contact and contact.user_id else ""
    return phone, user_id


def _switch_to_sms(
    row: Notification, lease: datetime, *, phone: str, now: datetime, reason: str
) -> tuple[datetime, OfficeNumber | None] | None:
    """Move the row to SMS under its lease, keeping the lease (the caller sends it at once). Returns the new
    lease and sender, or None when the lease was lost."""
    sms = _sms_number(row.office_id)
    renewed = now + timedelta(seconds=settings.MESSAGE_LEASE_SECONDS)
    moved = Notification.objects.filter(pk=row.pk, status=N.PENDING, locked_until=lease).update(
        channel=Notification.Channel.SMS,
        recipient=phone,
        sender_number=sms,
        locked_until=renewed,
        last_error=fit(reason, 300),
    )
    if not moved:
        return None
    row.channel, row.recipient, row.sender_number = Notification.Channel.SMS, phone, sms
    return renewed, sms


def _dead(row: Notification, lease: datetime, error: str, *, attempted: bool = False) -> Outcome:
    """Give the row up (`attempted`: after a call to the gateway, which counts as an attempt)."""
    recorded = _record(
        row.pk,
        lease,
        status=N.DEAD,
        attempts=row.attempts + 1 if attempted else row.attempts,
        next_attempt_at=None,
        queued_at=None,
        last_error=fit(error, 300),
    )
    return Outcome("dead" if recorded else "lease_lost")


def _outgoing(
    row: Notification,
    *,
    phone: str,
    user_id: str,
    sender: OfficeNumber | None,
    template: tuple[str, str] | None,
) -> gateways.Outgoing:
    """What the gateway sends: to the phone number, else (WhatsApp) to the BSUID; the text, or outside the
    window the template with the text as its one parameter; the row's id as the reference."""
    return gateways.Outgoing(
        channel=row.channel,
        to_phone=phone,
        to_user_id="" if phone else user_id,
        sender_phone_number_id=sender.phone_number_id if sender else "",
        sender_number=sender.number if sender else "",
        text=row.text,
        template_name=template[0] if template else "",
        template_language=template[1] if template else "id",
        params=(_template_param(row.text),) if template else (),
        reference=str(row.pk),
    )


def deliver(notification_id: int, *, gateway_for: GatewayFor | None = None) -> Outcome:
    """Send one row if it is pending, due and not held by another worker; record what happened.

    Invariant: a row is sent only by the holder of its lease, and an outcome is recorded only while the lease is
    still held (compare-and-set), so two workers never both send a row, and a stalled worker never overwrites
    the outcome of the one that took the row over. No row lock is held during the gateway call.
    """
    gateway_for = gateway_for or gateways.gateway_for
    now = clock.now()
    lease = _claim(notification_id, now)
    if lease is None:
        return Outcome("skipped")
    row = Notification.objects.select_related("contact", "office", "sender_number").get(pk=notification_id)

    if not row.is_reply and (until := quiet_until(row.office, now=now)):
        recorded = _record(row.pk, lease, next_attempt_at=until, queued_at=None)
        return Outcome("waiting" if recorded else "lease_lost")

    contact = _contact(row)
    phone, user_id = _address(row, contact)
    template = None
    if row.channel == Notification.Channel.WHATSAPP:
        reason = ""
        if contact and contact.whatsapp == Contact.WhatsApp.NO:
            reason = system_text(gettext_noop("Nomor tanpa WhatsApp: dikirim lewat SMS."))
        elif not (contact and contact.last_whatsapp_at and now - contact.last_whatsapp_at < WINDOW):
            template = approved_template(row)
            if template is None:
                reason = system_text(
                    gettext_noop("Di luar jendela 24 jam WhatsApp dan tidak ada templat yang disetujui.")
                )
        if reason:
            if not phone:
                return _dead(
                    row,
                    lease,
                    system_text_join([reason, system_text(gettext_noop("Tidak ada nomor telepon untuk SMS."))]),
                )
            switched = _switch_to_sms(row, lease, phone=phone, now=now, reason=reason)
            if switched is None:
                return Outcome("lease_lost")
            lease, _sms = switched
    if not phone and not (row.channel == Notification.Channel.WHATSAPP and user_id):
        return _dead(row, lease, _("Tidak ada alamat tujuan."))

    sender = _sender(row)
    if row.channel == Notification.Channel.WHATSAPP:
        key = (sender.phone_number_id or sender.number) if sender else "default"
        if (wait := rate_limit_wait(f"whatsapp:{key}")) > 0:
            retry_in = wait + random.uniform(0, 1)
            recorded = _record(
                row.pk,
                lease,
                next_attempt_at=now + timedelta(seconds=retry_in),
                queued_at=_queued_for(retry_in, now),
            )
            return Outcome("rate_limited", retry_in) if recorded else Outcome("lease_lost")

    outgoing = _outgoing(row, phone=phone, user_id=user_id, sender=sender, template=template)
    try:
        result = gateway_for(row.channel).send(outgoing)
    except gateways.GatewayError as exc:
        error = exc
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        error = gateways.GatewayError(type(exc).__name__, "retry")
    except Exception as exc:  # a gateway bug must not lose the row: it is retried, then dead
        logger.exception("outbox gateway raised %s", type(exc).__name__)
        error = gateways.GatewayError(type(exc).__name__, "retry")
    else:
        return _sent(row, lease, result, contact=contact, now=clock.now())
    # Waits count from the answer (a timeout may have taken seconds).
    return _failed(row, lease, error, contact=contact, phone=phone, now=clock.now())


def _sent(
    row: Notification, lease: datetime, result: gateways.SendResult, *, contact: Contact | None, now: datetime
) -> Outcome:
    fields = {
        "status": N.SENT,
        "sent_at": now,
        "attempts": F("attempts") + 1,
        "next_attempt_at": None,
        "queued_at": None,
        "last_error": "",
    }
    try:
        with _savepoint():
            recorded = _record(row.pk, lease, provider_message_id=result.provider_message_id or None, **fields)
    except IntegrityError:
        # Another row already holds that provider id (a provider reusing ids, a replayed fake): the row is sent
        # all the same; its status callbacks cannot be matched.
        recorded = _record(
            row.pk, lease, **{**fields, "last_error": system_text(gettext_noop("ID pesan penyedia ganda."))}
        )
    if not recorded:
        logger.warning("outbox %s sent but its lease was lost before recording", row.pk)
        return Outcome("lease_lost")
    if contact is not None and contact.phone and not contact.user_id and getattr(result, "user_id", ""):
        contact_user_id_learn(phone=contact.phone, user_id=result.user_id)
    return Outcome("sent")


def _failed(
    row: Notification,
    lease: datetime,
    error: gateways.GatewayError,
    *,
    contact: Contact | None,
    now: datetime,
    phone: str = "",
) -> Outcome:
    code = getattr(error, "code", None)
    text = f"{error.kind}{f' {code}' if code else ''}: {error}"[:300]
    if error.kind == "not_whatsapp" and row.channel == Notification.Channel.WHATSAPP:
        if contact is not None:
            Contact.objects.filter(pk=contact.pk).update(whatsapp=Contact.WhatsApp.NO)
        if not phone:
            return _dead(
                row,
                lease,
                system_text_join([text, system_text(gettext_noop("Tidak ada nomor telepon untuk SMS."))]),
                attempted=True,
            )
        sms = _sms_number(row.office_id)
        recorded = _record(
            row.pk,
            lease,
            channel=Notification.Channel.SMS,
            recipient=phone,
            sender_number=sms,
            next_attempt_at=now,
            queued_at=now,
            last_error=text,
        )
        return Outcome("switched", 0.0) if recorded else Outcome("lease_lost")
    if error.kind in ("permanent", "not_whatsapp"):
        return _dead(row, lease, text, attempted=True)
    attempts = row.attempts + 1
    if attempts >= settings.MESSAGE_MAX_ATTEMPTS:
        recorded = _record(
            row.pk, lease, status=N.DEAD, attempts=attempts, next_attempt_at=None, queued_at=None, last_error=text
        )
        return Outcome("dead" if recorded else "lease_lost")
    retry_in = backoff_seconds(attempts, retry_after=getattr(error, "retry_after", None))
    recorded = _record(
        row.pk,
        lease,
        attempts=attempts,
        next_attempt_at=now + timedelta(seconds=retry_in),
        queued_at=_queued_for(retry_in, now),
        last_error=text,
    )
    return Outcome("retry", retry_in) if recorded else Outcome("lease_lost")


# --- the sweep ----------------------------------------------------------------------------------------------


def due_take(*, now: datetime, limit: int, queued_before: datetime) -> list[int]:
    """Pending rows that are due, not leased, and not in the broker: never handed to it (`queued_at` NULL: the
    on-commit hand-over failed, or a retry or a quiet-hours wait left to the sweep), handed to it before
    `queued_before` (presumed lost: see delivery.tasks.outbox_sweep), or whose lease expired (a killed worker's).
    They are marked queued now under SKIP LOCKED, so concurrent sweeps take different rows; the caller hands them
    to the broker. Served by the notification_due index (status, next_attempt_at)."""
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=N.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=queued_before) | Q(locked_until__isnull=False))
            .order_by()
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            # An expired lease is cleared: its holder (a killed or stalled worker) can no longer record anything.
            Notification.objects.filter(pk__in=ids).update(queued_at=now, locked_until=None)
    return ids


def broker_queue_length(queue: str) -> int | None:
    """How many messages wait in the broker's queue `queue`, when the broker is Redis and answers; else None."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    try:
        return int(_redis(url).llen(queue))
    except redis.RedisError:
        return None


def unqueue(ids: list[int], *, queued_at: datetime) -> int:
    """Rows that could not be handed to the broker after all: the next sweep takes them again."""
    return Notification.objects.filter(pk__in=ids, queued_at=queued_at).update(queued_at=None)


def mark_queued(ids: list[int], *, at: datetime) -> int:
    return Notification.objects.filter(pk__in=ids, status=N.PENDING).update(queued_at=at)


# --- what clerks see and do ------------------------------------------------------------------------------


def notifications_visible_to(user: User) -> QuerySet[Notification]:
    """Messages in the user's scope: those of an office in it (a kabupaten's own and its UPTDs'; a UPTD's own)
    and those to residents living in it."""
    scope = scope_code_of(user)
    if scope is None:
        return Notification.objects.all()
    if scope is False:
        return Notification.objects.none()
    return Notification.objects.filter(
        Q(office__region__code=scope)
        | Q(office__region__code__startswith=f"{scope}.")
        | Q(resident__kecamatan__code=scope)
        | Q(resident__kecamatan__code__startswith=f"{scope}.")
    )


FAILED_STATUSES = (N.DEAD, N.FAILED)


def outbox_counts(user: User) -> dict[str, int]:
    """Pending, dead and failed messages in the user's scope (one query)."""
    return notifications_visible_to(user).aggregate(
        pending=Count("pk", filter=Q(status=N.PENDING)),
        dead=Count("pk", filter=Q(status=N.DEAD)),
        failed=Count("pk", filter=Q(status=N.FAILED)),
    )


def notifications_resend(*, ids: list[int], by: User) -> list[int]:
    """A clerk sends dead or failed messages again: back to pending, attempts 0, due now. Only rows in the
    clerk's scope and still dead or failed are taken (compare-and-set under row locks); each one of a card
    request leaves a line in its timeline. Returns the ids taken; the caller hands them to the broker after
    commit."""
    now = clock.now()
    with transaction.atomic():
        rows = list(
            notifications_visible_to(by)
            .select_for_update(of=("self",))
            .filter(pk__in=ids, status__in=FAILED_STATUSES)
            .order_by("pk")
            .values_list("pk", "card_request_id", "template")
        )
        taken = [pk for pk, _cr, _t in rows]
        Notification.objects.filter(pk__in=taken, status__in=FAILED_STATUSES).update(
            status=N.PENDING,
            attempts=0,
            next_attempt_at=now,
            locked_until=None,
            queued_at=now,
            last_error="",
            provider_message_id=None,
            sent_at=None,
            delivered_at=None,
            read_at=None,
        )
        CardRequestEvent.objects.bulk_create(
            CardRequestEvent(
                card_request_id=card_request_id,
                by=by,
                at=now,
                action=MESSAGE_RESENT,
                note=system_text(gettext_noop("Pesan “%(template)s” dikirim ulang."), template=template),
            )
            for _pk, card_request_id, template in rows
            if card_request_id
        )
    return taken
