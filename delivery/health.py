"""Health of the things the app needs: the database and the Celery broker (and when a worker last ran).

In the top app because the worker's heartbeat (delivery.models.WorkerHeartbeat) is recorded here."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import connection
from kombu import Connection

from delivery.models import WorkerHeartbeat
from registry import clock


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def broker_ok() -> bool:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        return folder.is_dir() and (folder.stat().st_mode & 0o200) != 0
    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def health_report() -> dict:
    db = database_ok()
    broker = broker_ok()
    worker_seen = WorkerHeartbeat.latest_seen() if db else None
    return {
        "status": "ok" if db and broker else "error",
        "database": "ok" if db else "error",
        "broker": "ok" if broker else "error",
        "worker_last_seen_seconds": int((clock.now() - worker_seen).total_seconds()) if worker_seen else None,
    }
