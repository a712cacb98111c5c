"""Celery tasks of the WhatsApp and SMS desk. They take row ids only (no message text, no number, no NIK in the
broker) and are idempotent. What must not be lost is a row first (the raw payload, the message): a broker
outage delays work and the minute sweep sends it again.

The webhook views do not publish a task per POST: publishing costs a web process about a millisecond of CPU
and a round trip to the broker, more than storing the payload. After each commit they `payloads_wake()`: one
thread per web process publishes `process_pending`, at most ten times a second however many payloads arrive
(processing starts at most 0.1 s later), and no request waits for the broker. `process_pending` drains the
pending payloads (each taken by one worker: `processing.payloads_claim`). Every payload committed before a
wake is seen by a drain that starts after it, so none waits for the sweep unless the broker was down.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings
from django.db.models import Q

from intake import media, processing
from intake.models import InboundMessage, WebhookPayload
from registry import clock

logger = logging.getLogger(__name__)

# A pending payload younger than this is still in the hands of the drain the webhook woke.
PENDING_GRACE = timedelta(seconds=30)
# A drain takes this many payloads at a time, and hands over to a fresh task after DRAIN_SECONDS (the tasks'
# soft time limit is 60 s).
DRAIN_BATCH = 20
DRAIN_SECONDS = 30.0
# A message's media the first download task has not had its chance at yet.
MEDIA_GRACE = timedelta(minutes=2)
SWEEP_BATCH = 100
# Media downloads: tries at once, then after 30 s, 2 min, 8 min, 32 min; the sweep carries on for 7 days.
MEDIA_RETRIES = 4


def enqueue(task: Task, *args: int) -> bool:
    """Send `task` to the broker without waiting for it: with the broker down this fails at once (no
    publish retries) and the sweep sends it later. Returns whether it was sent."""
    try:
        task.apply_async(args=args, retry=False)
    except Exception as exc:  # the broker is down, or (eager mode) the task raised: the sweep picks it up
        logger.warning("%s%s not sent (%s); the sweep sends it again", task.name, args, exc.__class__.__name__)
        return False
    return True


class Waker:
    """A thread that calls `publish` after `wake()`: once for any number of wakes that came while it was
    publishing or in the `interval` after a publish (so at most 1/interval publishes a second, whatever the
    number of POSTs). Every wake is followed by a publish that starts after it. Started in the process that
    first wakes it (a gunicorn worker, never the master before a fork)."""

    def __init__(self, publish: Callable[[], object], *, interval: float = 0.1) -> None:
        self.publish = publish
        self.interval = interval
        self._event = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def wake(self) -> None:
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._start()
        self._event.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            self._event = threading.Event()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="intake-waker", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._event.wait()
            self._event.clear()  # wakes from here on make another publish
            try:
                self.publish()
            except Exception as exc:  # never let the thread die: the sweep covers what was not published
                logger.warning("Waker: publish failed (%s)", exc.__class__.__name__)
            time.sleep(self.interval)  # wakes meanwhile are answered by one publish after it


@shared_task(acks_late=True)
def process_pending() -> int:
    """Process the pending webhook payloads, oldest first, each taken by this worker alone; hands over to a
    fresh task after DRAIN_SECONDS. Returns how many it processed."""
    started = time.monotonic()
    done = 0
    while ids := processing.payloads_claim(now=clock.now(), limit=DRAIN_BATCH):
        for payload_id in ids:
            process_payload(payload_id)
            done += 1
        if time.monotonic() - started > DRAIN_SECONDS:
            enqueue(process_pending)
            break
    return done


def _pending_publish() -> None:
    enqueue(process_pending)


_waker = Waker(_pending_publish)


def payloads_wake() -> None:
    """Stored payloads are waiting: have them processed, without making the caller wait for the broker (in
    eager mode, at once)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        enqueue(process_pending)
    else:
        _waker.wake()


@shared_task(acks_late=True)
def process_payload(payload_id: int) -> str:
    """Process one stored webhook payload, then start the download of the media it brought."""
    result = processing.payload_process(payload_id)
    if result is None:
        return "skipped"
    for message_id in result.media_message_ids:
        enqueue(media_fetch, message_id)
    return result.status


@shared_task(bind=True, acks_late=True, max_retries=MEDIA_RETRIES, soft_time_limit=90, time_limit=120)
def media_fetch(self: Task, message_id: int) -> str:
    """Download one message's photo, document or voice note from the Graph API and attach it (checked like an
    upload). Temporary failures are retried with growing waits; the sweep carries on while the id is valid."""
    try:
        return media.inbound_media_fetch(message_id)
    except media.MediaTemporaryError as exc:
        if self.request.retries >= self.max_retries or self.request.is_eager or self.request.called_directly:
            return "retry later"
        raise self.retry(exc=exc, countdown=30 * 4**self.request.retries) from exc


@shared_task
def payload_sweep() -> dict[str, int]:
    """Every minute: send again the payloads no drain took (pending for over 30 s, or taken by a worker that
    died), the failed ones
    whose wait is over (2, 4, 8 … minutes after each attempt, up to WEBHOOK_MAX_ATTEMPTS), and the media
    downloads not done yet (while the media id is valid: 7 days)."""
    from_payloads = [payload_id for payload_id in _payloads_due() if enqueue(process_payload, payload_id)]
    from_media = [message_id for message_id in _media_due() if enqueue(media_fetch, message_id)]
    return {"payloads": len(from_payloads), "media": len(from_media)}


def _payloads_due() -> list[int]:
    now = clock.now()
    pending = list(
        WebhookPayload.objects.filter(status=WebhookPayload.Status.PENDING, received_at__lt=now - PENDING_GRACE)
        .filter(Q(processed_at__isnull=True) | Q(processed_at__lt=now - processing.CLAIM_LEASE))
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    failed = [
        payload_id
        for payload_id, attempts, last in WebhookPayload.objects.filter(
            status=WebhookPayload.Status.FAILED, attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS
        ).values_list("pk", "attempts", "processed_at")[:SWEEP_BATCH]
        if last is None or last <= now - timedelta(minutes=2**attempts)
    ]
    return pending + failed


def _media_due() -> list[int]:
    now = clock.now()
    return list(
        InboundMessage.objects.filter(
            kind__in=media.FETCHED_KINDS,
            received_at__gt=now - media.MEDIA_ID_VALIDITY,
            received_at__lt=now - MEDIA_GRACE,
        )
        .exclude(media_id="")
        .filter(media_file="")
        .filter(Q(media_error="") | Q(media_error__startswith=media.RETRYING))
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
