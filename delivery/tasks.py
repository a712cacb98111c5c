from __future__ import annotations

import socket

from celery import shared_task
from django.db.models import F

from delivery.models import WorkerHeartbeat
from registry import clock


@shared_task
def record_worker_heartbeat() -> int:
    """Beat runs this every minute; /healthz reports how long ago a worker last did."""
    hostname = socket.gethostname()
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(last_seen=clock.now(), beats=F("beats") + 1)
    if not updated:
        WorkerHeartbeat.objects.get_or_create(hostname=hostname, defaults={"beats": 1})
    return WorkerHeartbeat.objects.get(hostname=hostname).beats
