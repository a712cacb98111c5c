from __future__ import annotations

import logging
import socket
from datetime import datetime, timedelta

from celery import current_app, shared_task
from django.conf import settings
from django.db.models import F

from cards.retention import attachments_purge
from delivery import outbox
from delivery.models import WorkerHeartbeat
from intake.retention import inbound_purge
from messaging.models import Notification
from messaging.retention import notifications_purge
from registry import clock
from registry.retention import resident_changes_purge

logger = logging.getLogger(__name__)


@shared_task
def record_worker_heartbeat() -> int:
    """Beat runs this every minute; /healthz reports how long ago a worker last did."""
    hostname = socket.gethostname()
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(last_seen=clock.now(), beats=F("beats") + 1)
    if not updated:
        WorkerHeartbeat.objects.get_or_create(hostname=hostname, defaults={"beats": 1})
    return WorkerHeartbeat.objects.get(hostname=hostname).beats


@shared_task(soft_time_limit=30 * 60, time_limit=31 * 60)
def purge_personal_data() -> dict[str, int]:
    """Beat runs this nightly: each app deletes its own personal data that is past its retention period
    (settings: ATTACHMENT_RETENTION_DAYS, MESSAGE_RETENTION_DAYS, RESIDENT_CHANGE_RETENTION_DAYS), all measured
    from the same "now". Idempotent; returns what each purged (counts only, no personal data in the log)."""
    now = clock.now()
    purged = {
        "attachments": attachments_purge(now=now),
        "messages": notifications_purge(now=now),
        "resident_changes": resident_changes_purge(now=now),
        "inbound": inbound_purge(now=now),
    }
    logger.info("retention purge: %s", purged)
    return purged


# --- the outbox (delivery/outbox.py) -------------------------------------------------------------------------

# Publishing while the broker is down fails fast (one retry): the rows are in the database and the sweep hands
# them over later; nothing waits on a dead broker.
_PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def deliver_notification(notification_id: int) -> str:
    """Deliver one message row (delivery.outbox.deliver; the lease decides who sends). A short wait (the rate
    limit, a quick retry, the switch to SMS) is handed back to the broker at once; longer ones to the sweep.
    Idempotent: a row that is sent, dead, not due or held by another worker is left alone."""
    outcome = outbox.deliver(notification_id)
    if outcome.retry_in is not None and outcome.retry_in <= settings.MESSAGE_QUEUED_STALE_SECONDS:
        try:
            deliver_notification.apply_async(
                (notification_id,), countdown=outcome.retry_in, retry=True, retry_policy=_PUBLISH_RETRY
            )
        except Exception as exc:  # the broker is down: the sweep hands the row out when it is due
            Notification.objects.filter(pk=notification_id, status=Notification.Status.PENDING).update(queued_at=None)
            logger.warning("outbox %s not handed back to the broker (%s)", notification_id, type(exc).__name__)
    return outcome.result


def _publish(ids: list[int], *, queued_at) -> None:
    """Hand rows to the broker over one connection. On a broker error the rows not handed over are unmarked
    (the next sweep takes them) and the error is raised."""
    done = 0
    if current_app.conf.task_always_eager:  # tests: each runs here and now
        for notification_id in ids:
            deliver_notification.apply_async((notification_id,))
        return
    try:
        with current_app.producer_or_acquire() as producer:
            for notification_id in ids:
                deliver_notification.apply_async(
                    (notification_id,), producer=producer, retry=True, retry_policy=_PUBLISH_RETRY
                )
                done += 1
    except Exception:
        outbox.unqueue(ids[done:], queued_at=queued_at)
        raise


def _lost_before(now: datetime) -> datetime:
    """Before when a row handed to the broker and still not taken is presumed lost (a broker restart without
    persistence, a worker killed with messages reserved). While the broker's queue still holds messages, a row
    waiting longer than MESSAGE_QUEUED_STALE_SECONDS is most likely still in it, behind a backlog: it is handed out
    again only after MESSAGE_QUEUED_LOST_SECONDS (Redis gives unacknowledged messages back after its visibility
    timeout anyway). Handing out a backlog again every few minutes would only fill the queue with duplicates
    (harmless, the lease decides, but each costs a worker a claim). An empty queue (or a broker whose queue cannot
    be read) means MESSAGE_QUEUED_STALE_SECONDS is enough."""
    waiting = outbox.broker_queue_length(current_app.conf.task_default_queue)
    seconds = settings.MESSAGE_QUEUED_LOST_SECONDS if waiting else settings.MESSAGE_QUEUED_STALE_SECONDS
    return now - timedelta(seconds=seconds)


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def outbox_sweep() -> int:
    """Beat runs this every minute: pending rows that are due and not in the broker (the on-commit hand-over
    failed, a retry is due, a worker was killed holding one, the broker lost them) are handed to it, in batches,
    under SKIP LOCKED (concurrent sweeps and workers are safe: the lease decides who sends). When the broker is
    down the sweep fails and runs again next minute; the rows wait in the database."""
    now = clock.now()
    queued_before = _lost_before(now)
    total = 0
    for _batch in range(settings.MESSAGE_SWEEP_MAX_BATCHES):
        ids = outbox.due_take(now=now, limit=settings.MESSAGE_SWEEP_BATCH, queued_before=queued_before)
        if ids:
            _publish(ids, queued_at=now)
            total += len(ids)
        if len(ids) < settings.MESSAGE_SWEEP_BATCH:
            break
    if total:
        logger.info("outbox sweep handed %d messages to the broker", total)
    return total


def notifications_enqueue(ids: list[int]) -> bool:
    """Hand rows a clerk sent again to the broker (call after commit). A broker that is down is logged and
    otherwise ignored: the rows are unmarked and the sweep hands them over."""
    now = clock.now()
    outbox.mark_queued(ids, at=now)
    try:
        _publish(ids, queued_at=now)
    except Exception as exc:
        logger.warning("%d messages not handed to the broker (%s); the sweep will", len(ids), type(exc).__name__)
        return False
    return True
