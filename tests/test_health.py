from __future__ import annotations

from datetime import timedelta

from delivery.models import WorkerHeartbeat


def test_healthz_is_public_and_reports_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["worker_last_seen_seconds"] is None


def test_healthz_reports_the_last_worker_heartbeat(client, db, frozen_now):
    WorkerHeartbeat.objects.create(hostname="w1", last_seen=frozen_now - timedelta(seconds=90))
    body = client.get("/healthz").json()
    assert body["worker_last_seen_seconds"] == 90


def test_healthz_fails_when_the_broker_is_unreachable(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "error"


def test_healthz_carries_no_personal_data(client, resident_a):
    content = client.get("/healthz").content.decode()
    assert resident_a.nik not in content and resident_a.full_name not in content
