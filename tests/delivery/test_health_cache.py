"""/healthz answers from a short per-process cache and keeps one broker connection instead of opening one per
call (load balancers and monitors poll it several times a second)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import redis
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
