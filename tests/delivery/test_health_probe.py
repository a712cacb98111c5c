"""/healthz never makes a worker wait for another thread's probe, and its probes are bounded (security review of
issue 12: a hanging database held the probe lock and every /healthz request queued behind it)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection

from delivery import health


@pytest.fixture(autouse=True)
def fresh_health():
    health.health_cache_clear()
    health._broker_drop()
    yield
    health.health_cache_clear()
    health._broker_drop()


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
