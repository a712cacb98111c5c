"""Redis stopped while messages are written: every message is delivered once it is back, none twice.

A throwaway redis-server on a free loopback port (its own, so stopping it disturbs nothing else), the Celery app
pointed at it for the test; the rows are written through `notification_write` (whose on-commit hand-over fails
and is swallowed), the sweep fails while Redis is down and hands everything over once it is back, and what the
broker holds is delivered here (every broker message delivered twice, as a redelivery would)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections import Counter
from contextlib import contextmanager

import pytest
import redis
from django.db import transaction
from kombu import pools as kombu_pools

from delivery import outbox, tasks
from messaging import messages
from messaging.messages import notification_write
from messaging.models import Notification
from tests.delivery.test_outbox import FakeGateway
from tests.factories import ResidentFactory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of this test's own on 127.0.0.1:port, started and stopped at will."""

    def __init__(self, port: int, directory) -> None:
        self.port, self.directory, self.process = port, directory, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:  # waiting for the server to listen, not a timed assertion
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def celery_broker(url: str, monkeypatch):
    """The Celery app publishing to `url` (not eager) for the block; its connection pools are dropped on the
    way in and out so no connection to another broker is reused."""
    app = tasks.deliver_notification.app

    def drop_pools() -> None:
        # app.pool is kombu's process-wide pool for the URL: closing it alone leaves a closed pool that
        # kombu hands to the next producer ("Acquire on closed pool"); reset() closes and forgets them all.
        kombu_pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    drop_pools()
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.setattr(app.conf, "task_always_eager", False)
    monkeypatch.setattr(app.conf, "broker_transport_options", {"visibility_timeout": 3600})
    monkeypatch.setattr(app.conf, "broker_connection_retry", False)
    try:
        yield app
    finally:
        drop_pools()


def _broker_ids(app) -> list[int]:
    """The ids of every deliver task the broker holds (taken off it)."""
    ids = []
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue("celery")
        try:
            while True:
                try:
                    message = queue.get(block=True, timeout=0.5)
                except queue.Empty:
                    return ids
                assert message.headers["task"] == "delivery.tasks.deliver_notification"
                args, _kwargs, _embed = message.payload
                ids.append(args[0])
                message.ack()
        finally:
            queue.close()


@pytest.mark.django_db(transaction=True)
def test_messages_written_while_redis_is_stopped_are_all_delivered_once_after_it_is_back(
    ponorogo, frozen_now, tmp_path, monkeypatch, settings
):
    settings.WHATSAPP_RATE_PER_SECOND = 0
    monkeypatch.setattr(messages, "_broker_paused_until", 0.0)
    gateway = FakeGateway()
    monkeypatch.setattr(outbox.gateways, "gateway_for", gateway)
    server = RedisServer(_free_port(), tmp_path)
    settings.CELERY_BROKER_URL = server.url  # what the outbox reads the queue's length from
    server.start()
    try:
        with celery_broker(server.url, monkeypatch) as app:
            server.stop()
            residents = [ResidentFactory(whatsapp=f"0812300000{n:02d}") for n in range(12)]
            for resident in residents:
                with transaction.atomic():  # each change commits its message; the hand-over fails quietly
                    notification_write(
                        resident=resident, template="request_received", number="X-1", kind="hilang", office=ponorogo
                    )
            written = list(Notification.objects.filter(resident__in=residents).values_list("pk", "status", "queued_at"))
            assert len(written) == 12
            assert {(status, queued_at) for _pk, status, queued_at in written} == {("pending", None)}

            # The sweep fails while Redis is down and leaves the rows for the next one.
            with pytest.raises(Exception):  # noqa: B017 (kombu's OperationalError or the socket's)
                tasks.outbox_sweep()
            assert not Notification.objects.filter(queued_at__isnull=False).exists()

            server.start()
            assert outbox.broker_queue_length("celery") == 0
            assert tasks.outbox_sweep() == 12
            assert outbox.broker_queue_length("celery") == 12
            assert tasks.outbox_sweep() == 0  # handed over: not again
            handed = _broker_ids(app)
            assert sorted(handed) == sorted(pk for pk, _status, _queued in written)
            for notification_id in handed * 2:  # each broker message delivered twice (a redelivery)
                tasks.deliver_notification(notification_id)
    finally:
        server.stop()

    sent = Counter(int(call.reference) for call in gateway.calls)
    assert sent == Counter({pk: 1 for pk, _status, _queued in written})
    assert set(Notification.objects.filter(resident__in=residents).values_list("status", flat=True)) == {"sent"}
