"""Health of the things the app needs: the database and the Celery broker (and when a worker last ran).

/healthz is public and polled by load balancers and monitors, several a second at times: each process answers
from the report it made in the last HEALTHZ_CACHE_SECONDS, and probes the broker over one connection it keeps
(a Redis PING on a kept socket) instead of opening, greeting and closing a new connection per call. The cache
is per process on purpose: a host reports what it can reach, and the report never depends on a cache server.

A probe never ties up more than the one worker thread that runs it, and not for long: one thread probes at a
time and every other call answers at once from the last report (or "probing", 503, before the first), and
every probe is bounded (PROBE_TIMEOUT_SECONDS: the broker's socket; on PostgreSQL a connection made for the
probe with a connect, statement and TCP timeout), so a database or broker that hangs shows as an error.

In the top app because the worker's heartbeat (delivery.models.WorkerHeartbeat) is recorded here."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend
from kombu import Connection

from delivery.models import WorkerHeartbeat
from registry import clock

PROBE_TIMEOUT_SECONDS = 2
BROKER_TIMEOUT_SECONDS = PROBE_TIMEOUT_SECONDS
# What a call answers while another thread makes the process's first probe.
PROBING_REPORT = {"status": "probing", "database": "unknown", "broker": "unknown", "worker_last_seen_seconds": None}

_lock = threading.Lock()  # one probe at a time per process; the kept broker connection is not thread-safe
_cached: tuple[datetime, dict] | None = None
_broker: Connection | None = None
_broker_url: str | None = None


def _probe_database() -> BaseDatabaseWrapper:
    """A new PostgreSQL connection for one probe: the default database's settings with a connect timeout, a
    statement timeout and a TCP timeout of PROBE_TIMEOUT_SECONDS (the app's own connections keep theirs). Not
    kept: a probe runs at most once per HEALTHZ_CACHE_SECONDS, and a kept connection would outlive the
    database it points at (a test database is dropped at the end of the run)."""
    settings_dict = connection.settings_dict
    options = {name: value for name, value in settings_dict["OPTIONS"].items() if name != "pool"}
    timeout_ms = PROBE_TIMEOUT_SECONDS * 1000
    options["connect_timeout"] = PROBE_TIMEOUT_SECONDS
    options["tcp_user_timeout"] = timeout_ms
    options["options"] = f"{options.get('options', '')} -c statement_timeout={timeout_ms}".strip()
    probe_settings = {**settings_dict, "OPTIONS": options, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False}
    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper(probe_settings, alias="healthz")


def database_ok() -> bool:
    """The database answers SELECT 1; on PostgreSQL over a connection of the probe's own, within the
    timeouts."""
    probe = _probe_database() if connection.vendor == "postgresql" else connection
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False
    finally:
        if probe is not connection:
            with contextlib.suppress(Exception):  # already broken: nothing to close cleanly
                probe.close()


def _worker_last_seen() -> datetime | None:
    """The last worker heartbeat, read on the app's own connection (a test's transaction sees its own rows);
    on PostgreSQL with a statement timeout for this one query."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(PROBE_TIMEOUT_SECONDS * 1000)])
        return WorkerHeartbeat.latest_seen()


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
    worker_seen = None
    if db:
        try:
            worker_seen = _worker_last_seen()
        except Exception:
            db = False
    return {
        "status": "ok" if db and broker else "error",
        "database": "ok" if db else "error",
        "broker": "ok" if broker else "error",
        "worker_last_seen_seconds": int((clock.now() - worker_seen).total_seconds()) if worker_seen else None,
    }


def health_report() -> dict:
    """The database, the broker and the last worker heartbeat, probed at most once per HEALTHZ_CACHE_SECONDS
    in this process (0: every call). Invariant: a call never waits for another thread's probe: while one
    runs, it answers the last report, or PROBING_REPORT before the first."""
    global _cached
    cached = _cached
    if _fresh(cached):
        return cached[1]
    if not _lock.acquire(blocking=False):
        return cached[1] if cached is not None else dict(PROBING_REPORT)
    try:
        if _fresh(_cached):  # another thread probed between the check above and the lock
            return _cached[1]
        now = clock.now()
        report = _probe()
        _cached = (now, report)
        return report
    finally:
        _lock.release()


def _fresh(cached: tuple[datetime, dict] | None) -> bool:
    if cached is None:
        return False
    age = (clock.now() - cached[0]).total_seconds()
    return 0 <= age < settings.HEALTHZ_CACHE_SECONDS


def health_cache_clear() -> None:
    """Forget the cached report (tests, and after a settings change in a running process). Never waits for a
    probe in progress."""
    global _cached
    _cached = None
