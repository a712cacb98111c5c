from __future__ import annotations

import logging
import socket

from celery import shared_task
from django.db.models import F

from cards.retention import attachments_purge
from delivery.models import WorkerHeartbeat
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
    }
    logger.info("retention purge: %s", purged)
    return purged
