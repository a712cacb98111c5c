"""/healthz answers from a short per-process cache and keeps one broker connection instead of opening one per
call (load balancers and monitors poll it several times a second); it never makes a worker wait for another
thread's probe, and its probes are bounded (security review of issue 12: a hanging database held the probe
lock and every /healthz request queued behind it)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis
from django.db import DatabaseError, connection
from kombu import Connection

from delivery import health


@pytest.fixture(autouse=True)
def fresh_health():
    """No cached report and no kept broker connection from an earlier test, before and after."""
    health.health_cache_clear()
    health._broker_drop()
    yield
    health.health_cache_clear()
    health._broker_drop()


@pytest.fixture
def probes(monkeypatch) -> dict[str, int]:
    """Counts the database and broker probes, which still run for real."""
    counts = {"database": 0, "broker": 0}
    database_ok, broker_ok = health.database_ok, health.broker_ok

    def counted(name, probe):
        def run() -> bool:
            counts[name] += 1
            return probe()

        return run

    monkeypatch.setattr(health, "database_ok", counted("database", database_ok))
    monkeypatch.setattr(health, "broker_ok", counted("broker", broker_ok))
    return counts


def test_two_calls_within_the_cache_window_make_one_probe(
    client, db, settings, frozen_now, time_machine, fresh_health, probes
):
    settings.HEALTHZ_CACHE_SECONDS = 10
    first = client.get("/healthz")
    time_machine.move_to(frozen_now + timedelta(seconds=9), tick=False)
    second = client.get("/healthz")

    assert first.json() == second.json() and second.status_code == 200
    assert probes == {"database": 1, "broker": 1}
    # After the window the next call probes again.
    time_machine.move_to(frozen_now + timedelta(seconds=10), tick=False)
    client.get("/healthz")
    assert probes == {"database": 2, "broker": 2}


def test_a_failure_is_cached_as_briefly_and_reported_as_it_was(
    client, db, settings, frozen_now, time_machine, fresh_health
):
    settings.HEALTHZ_CACHE_SECONDS = 10
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    assert client.get("/healthz").status_code == 503
    assert client.get("/healthz").status_code == 503  # from the cache
    settings.CELERY_BROKER_URL = "memory://"
    time_machine.move_to(frozen_now + timedelta(seconds=10), tick=False)
    assert client.get("/healthz").status_code == 200


def test_the_broker_probe_keeps_one_connection(client, db, settings, monkeypatch):
    settings.CELERY_BROKER_URL = "memory://"
    made = []

    class CountedConnection(Connection):
        def __init__(self, *args, **kwargs):
            made.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(health, "Connection", CountedConnection)
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
    assert len(made) == 1


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs Redis (TEST_REDIS_URL, set by make test)")
def test_the_redis_broker_sees_one_connection_for_many_calls(client, db, settings):
    settings.CELERY_BROKER_URL = os.environ["TEST_REDIS_URL"]
    server = redis.Redis.from_url(os.environ["TEST_REDIS_URL"])
    before = server.info("stats")["total_connections_received"]
    for _ in range(5):
        assert client.get("/healthz").json()["broker"] == "ok"
    after = server.info("stats")["total_connections_received"]
    assert after - before == 1


@contextmanager
def lock_held_by_another_thread() -> Iterator[threading.Event]:
    """Another thread holds the probe lock (as a probe stuck on the database would) until the block ends.
    Yields an Event that the other thread sets just before it lets go: a call that returned while it is still
    unset did not wait for the lock. (The other thread gives up after 30 s only so that code which does wait
    fails the test instead of hanging it.)"""
    held, release, let_go = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        with health._lock:
            held.set()
            release.wait(timeout=30)
            let_go.set()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    try:
        yield let_go
    finally:
        release.set()
        holder.join()


@pytest.fixture
def no_probe(monkeypatch) -> list[str]:
    """Records any probe made by the calling thread (there must be none while another thread probes)."""
    made: list[str] = []
    monkeypatch.setattr(health, "database_ok", lambda: made.append("database") or True)
    monkeypatch.setattr(health, "broker_ok", lambda: made.append("broker") or True)
    return made


def test_while_another_thread_probes_a_call_answers_the_last_report_at_once(
    client, db, settings, frozen_now, time_machine
):
    settings.HEALTHZ_CACHE_SECONDS = 10
    last = client.get("/healthz").json()
    assert last["status"] == "ok"
    time_machine.move_to(frozen_now + timedelta(seconds=30), tick=False)  # the report is stale: time to probe

    with lock_held_by_another_thread() as let_go:
        response = client.get("/healthz")
        assert not let_go.is_set()  # answered while the other thread still held the lock
    assert response.status_code == 200 and response.json() == last


def test_before_the_first_report_a_call_answers_probing_with_503(client, db, no_probe):
    with lock_held_by_another_thread() as let_go:
        response = client.get("/healthz")
        assert not let_go.is_set()
    assert response.status_code == 503
    assert response.json()["status"] == "probing"
    assert no_probe == []


def test_the_next_call_after_the_other_probe_probes_again(client, db, no_probe):
    with lock_held_by_another_thread():
        client.get("/healthz")
    assert client.get("/healthz").json()["status"] == "ok"
    assert no_probe == ["database", "broker"]


def test_a_probe_that_raises_lets_go_of_the_lock(db, monkeypatch):
    def broken() -> bool:
        raise RuntimeError("probe")

    monkeypatch.setattr(health, "broker_ok", broken)
    with pytest.raises(RuntimeError):
        health.health_report()
    assert health._lock.acquire(blocking=False)
    health._lock.release()


def test_a_failing_heartbeat_query_reports_the_database_as_failing(client, db, monkeypatch):
    def timed_out():
        raise DatabaseError("canceling statement due to statement timeout")

    monkeypatch.setattr(health, "_worker_last_seen", timed_out)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "error"


@pytest.mark.postgres_only
def test_the_database_probe_has_its_own_bounded_connection(db):
    probe = health._probe_database()
    try:
        assert probe is not connection
        params = probe.get_connection_params()
        assert params["connect_timeout"] == health.PROBE_TIMEOUT_SECONDS
        assert params["tcp_user_timeout"] == health.PROBE_TIMEOUT_SECONDS * 1000
        with probe.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone() == (f"{health.PROBE_TIMEOUT_SECONDS}s",)
    finally:
        probe.close()
    with connection.cursor() as cursor:  # the app's own connection keeps its settings
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() != (f"{health.PROBE_TIMEOUT_SECONDS}s",)


@pytest.mark.postgres_only
def test_the_heartbeat_query_runs_under_a_statement_timeout(db, monkeypatch):
    seen: list[str] = []

    def latest_seen():
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            seen.append(cursor.fetchone()[0])

    monkeypatch.setattr(health.WorkerHeartbeat, "latest_seen", latest_seen)
    health._worker_last_seen()
    assert seen == [f"{health.PROBE_TIMEOUT_SECONDS}s"]
