"""The embedded default: SQLite and the filesystem broker, with `celery worker -B` executing tasks."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_worker_with_beat_runs_sent_and_scheduled_tasks_on_sqlite_and_filesystem_broker(tmp_path):
    db = tmp_path / "embedded.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{db}",
        CELERY_BROKER_URL="filesystem://",
        CELERY_HEARTBEAT_SECONDS="2",
        VAR_DIR=str(tmp_path / "var"),
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-B",
            "--pool=solo",
            "--loglevel=INFO",
            f"--schedule={tmp_path / 'beat-schedule'}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # A task sent from another process goes through the filesystem broker to the worker.
        sender = (
            "import django; django.setup();"
            "from delivery.tasks import record_worker_heartbeat as t; t.apply_async(); print('sent')"
        )
        subprocess.run(
            [sys.executable, "-c", sender],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
            check=True,
            timeout=60,
        )
        beats = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and beats < 3:
            time.sleep(1)
            try:
                with sqlite3.connect(db) as conn:
                    row = conn.execute("SELECT SUM(beats) FROM delivery_workerheartbeat").fetchone()
                beats = row[0] or 0
            except sqlite3.OperationalError:
                pass
        # One sent by hand, the others by beat every 2 s.
        assert beats >= 3
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert "delivery.tasks.record_worker_heartbeat" in output
    assert "filesystem" in output
