"""Health of the things the app needs: the database and the Celery broker (and when a worker last ran).

/healthz is public and polled by load balancers and monitors, several a second at times: each process answers
from the report it made in the last HEALTHZ_CACHE_SECONDS, and probes the broker over one connection it keeps
(a Redis PING on a kept socket) instead of opening, greeting and closing a new connection per call. The cache
is per process on purpose: a host reports what it can reach, and the report never depends on a cache server.

In the top app because the worker's heartbeat (delivery.models.WorkerHeartbeat) is recorded here."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection
from kombu import Connection

from delivery.models import WorkerHeartbeat
from registry import clock

BROKER_TIMEOUT_SECONDS = 2

_lock = threading.Lock()  # one probe at a time per process; the kept broker connection is not thread-safe
_cached: tuple[datetime, dict] | None = None
_broker: Connection | None = None
_broker_url: str | None = None


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _broker_connection(url: str) -> Connection:
    """The process's kept broker connection (made on first use, or after a failed probe or a new URL)."""
    global _broker, _broker_url
    if _broker is None or _broker_url != url:
        _broker_drop()
        options = {
            **getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
            "socket_timeout": BROKER_TIMEOUT_SECONDS,
            "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
        }
        _broker = Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS, transport_options=options)
        _broker_url = url
    return _broker


def _broker_drop() -> None:
    global _broker, _broker_url
    if _broker is not None:
        with contextlib.suppress(Exception):  # already broken: nothing to close cleanly
            _broker.release()
    _broker, _broker_url = None, None


def broker_ok() -> bool:
    """The broker answers: the filesystem broker's folder is writable, or the kept connection is up (Redis:
    it answers PING). Connects only on first use and after a failure."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        return folder.is_dir() and (folder.stat().st_mode & 0o200) != 0
    try:
        broker = _broker_connection(url)
        broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)  # no-op once connected
        client = getattr(broker.default_channel, "client", None)
        if callable(getattr(client, "ping", None)):
            client.ping()
        return True
    except Exception:
        _broker_drop()
        return False


def _probe() -> dict:
    db = database_ok()
    broker = broker_ok()
    worker_seen = WorkerHeartbeat.latest_seen() if db else None
    return {
        "status": "ok" if db and broker else "error",
        "database": "ok" if db else "error",
        "broker": "ok" if broker else "error",
        "worker_last_seen_seconds": int((clock.now() - worker_seen).total_seconds()) if worker_seen else None,
    }


def health_report() -> dict:
    """The database, the broker and the last worker heartbeat, probed at most once per HEALTHZ_CACHE_SECONDS
    in this process (0: every call)."""
    global _cached
    with _lock:
        now = clock.now()
        if _cached is not None:
            made_at, report = _cached
            if 0 <= (now - made_at).total_seconds() < settings.HEALTHZ_CACHE_SECONDS:
                return report
        report = _probe()
        _cached = (now, report)
        return report


def health_cache_clear() -> None:
    """Forget the cached report (tests, and after a settings change in a running process)."""
    global _cached
    with _lock:
        _cached = None
