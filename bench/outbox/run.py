"""Benchmark: 10,000 messages to residents through the outbox, with a gateway failing 30% of calls, Redis stopped
and restarted mid-run and one worker killed with SIGKILL mid-run.

    DATABASE_URL=postgres://…/ektp_outboxbench .venv/bin/python bench/outbox/run.py [--rows 10000] [--fail 0.3]
        [--workers 2] [--concurrency 16] [--latency-ms 20]

What runs (all real processes on loopback):
- PostgreSQL from DATABASE_URL (point it at a database of its own: the bench migrates it and replaces its messages
  and contacts);
- a redis-server of the bench's own (a free port; stopped and started again mid-run);
- the fake WhatsApp Cloud API (bench/outbox/fake_gateway.py), reached through the real "cloud" gateway
  (messaging/gateways.py: one shared httpx client, the Cloud API's error classes);
- 2 Celery workers (`celery -A config worker --pool=threads`), each its own process group; a worker that exits
  by itself (kombu's Redis transport can crash a worker when the broker goes away) is started again, as systemd's
  Restart=always does in production, and the report says so;
- the outbox sweep, run by this process every second (what beat does every minute in production).

Two phases in one run, each on 10,000 fresh rows (half the contacts inside WhatsApp's 24-hour window, half
outside: template sends), spread over 10 sending numbers (the rate limit is per number):
1. baseline: a gateway that never fails, no chaos;
2. chaos: 30% of calls fail (a third each 500, 429 with Retry-After: 1, timeout); Redis is stopped when a quarter
   of the rows are done and started again 5 s later (it keeps nothing: every task in it is lost); one worker is
   killed with SIGKILL (its whole process group) when 55% are done, and started again.
Each phase waits until every row is sent or dead, then checks with the fake's record that no message was accepted
twice and that every sent row was accepted once. Short backoff and lease settings (below) keep it to minutes.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

NUMBERS = 10
PROGRESS = False
# The settings of the bench (the workers and this process): short waits so a run takes minutes, not hours.
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DJANGO_DEBUG": "False",
    "DJANGO_ALLOWED_HOSTS": "localhost",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
    "MESSAGE_GATEWAY_WHATSAPP": "cloud",
    "MESSAGE_GATEWAY_SMS": "console",
    "WHATSAPP_ACCESS_TOKEN": "bench",
    "WHATSAPP_GRAPH_VERSION": "v24.0",
    "MESSAGE_GATEWAY_TIMEOUT_SECONDS": "0.5",
    "MESSAGE_BACKOFF_BASE_SECONDS": "0.5",
    "MESSAGE_BACKOFF_MAX_SECONDS": "4",
    "MESSAGE_MAX_ATTEMPTS": "8",
    "MESSAGE_LEASE_SECONDS": "8",
    "MESSAGE_QUEUED_STALE_SECONDS": "8",
    "QUIET_HOURS_START": "00:00",  # start = end: no quiet hours (the bench may run at night)
    "QUIET_HOURS_END": "00:00",
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "LOG_LEVEL": "WARNING",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        if time.monotonic() > deadline:
            sys.exit(f"{what} did not come up")
        time.sleep(0.1)


class Redis:
    def __init__(self, directory: str) -> None:
        self.port, self.directory, self.process = free_port(), directory, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
        )

        def pong() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return b"PONG" in conn.recv(16)

        wait_for(pong, "redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class FakeGateway:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "outbox" / "fake_gateway.py"), "--port", str(self.port)]
        )
        wait_for(lambda: self.stats() is not None, "the fake gateway")

    def control(self, **values: float) -> None:
        httpx.post(f"{self.url}/control", json=values, timeout=5).raise_for_status()

    def stats(self) -> dict:
        return httpx.get(f"{self.url}/stats", timeout=5).json()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class Worker:
    def __init__(self, name: str, env: dict, concurrency: int, logdir: str) -> None:
        self.name, self.env, self.concurrency, self.logdir = name, env, concurrency, logdir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(Path(self.logdir) / f"{self.name}-{self.starts}.log", "w")  # noqa: SIM115 (lives with the process)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=threads",
                f"--concurrency={self.concurrency}",
                "-n",
                f"{self.name}@%h",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],  # fmt: skip
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL takes the whole worker
        )

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def prepare(rows: int, phase: str):
    """`rows` pending messages of one office, to `rows` contacts (unique numbers), from NUMBERS numbers."""
    from datetime import timedelta

    from messaging.models import Contact, Notification, OfficeNumber
    from registry import clock
    from registry.models import Office
    from registry.offices import offices_create_for_kabupaten
    from registry.regions import regions_load

    if not Office.objects.filter(region_id="35.02").exists():
        regions_load(within="35.02")
        offices_create_for_kabupaten(kabupaten_code="35.02")
    office = Office.objects.get(region_id="35.02")
    Notification.objects.all().delete()
    Contact.objects.all().delete()
    numbers = []
    for n in range(NUMBERS):
        number, _ = OfficeNumber.objects.get_or_create(
            channel="whatsapp",
            number=f"62811000{n:05d}",
            defaults={"office": office, "phone_number_id": f"bench-{n}", "sends_updates": True},
        )
        numbers.append(number)
    now = clock.now()
    prefix = "6281" if phase == "baseline" else "6282"
    contacts = Contact.objects.bulk_create(
        Contact(
            phone=f"{prefix}{n:08d}",
            whatsapp="yes",
            last_whatsapp_at=now - timedelta(hours=1) if n % 2 else None,  # half inside the 24-hour window
        )
        for n in range(rows)
    )
    Notification.objects.bulk_create(
        (
            Notification(
                office=office,
                contact=contact,
                channel="whatsapp",
                recipient=contact.phone,
                sender_number=numbers[n % NUMBERS],
                template="request_received",
                text=f"Permohonan KTP-el BENCH-{n:05d} sudah kami terima.\nKami kabari lagi.\n\nLayanan GRATIS.",
                status="pending",
            )
            for n, contact in enumerate(contacts)
        ),
        batch_size=2000,
    )


def counts() -> dict[str, int]:
    from django.db.models import Count

    from messaging.models import Notification

    return dict(Notification.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))


class Sweeper(threading.Thread):
    """What beat does in production (every minute), every second here."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.running = True
        self.failures = 0

    def run(self) -> None:
        from django.db import connection

        from delivery.tasks import outbox_sweep

        while self.running:
            try:
                outbox_sweep()
            except Exception:  # the broker is down: next second
                self.failures += 1
            time.sleep(1)
        connection.close()


def phase(name: str, *, rows: int, fail: float, chaos: bool, gateway, redis, workers, latency_ms: float) -> dict:
    from django.db import connection

    prepare(rows, name)
    gateway.control(fail=fail, latency_ms=latency_ms, timeout_s=0.8)
    events = []
    started = time.monotonic()
    sweeper = Sweeper()
    sweeper.start()
    redis_stopped = killed = False
    in_flight: set[str] = set()
    deadline = started + 1800
    shown = 0.0
    while True:
        now = counts()
        done = now.get("sent", 0) + now.get("dead", 0)
        elapsed = time.monotonic() - started
        if PROGRESS and elapsed - shown >= 5:
            shown = elapsed
            print(f"  {name[:8]} {elapsed:6.1f} s {now}", flush=True)
        if done >= rows:
            break
        if time.monotonic() > deadline:
            sys.exit(f"{name}: not finished after 30 minutes: {now}")
        if chaos and not redis_stopped and done >= rows * 0.25:
            redis_stopped = True
            redis.stop()
            events.append(f"{elapsed:6.1f} s  Redis stopped ({done} done)")
            time.sleep(5)
            redis.start()
            events.append(f"{time.monotonic() - started:6.1f} s  Redis started again (empty)")
        for worker in workers:  # what systemd's Restart=always does in production
            if worker.process.poll() is not None:
                events.append(
                    f"{time.monotonic() - started:6.1f} s  worker {worker.name} exited by itself "
                    f"(code {worker.process.returncode}), "
                    "started again by the bench (as its supervisor would)"
                )
                worker.start()
        if chaos and not killed and done >= rows * 0.55:
            killed = True
            victim = workers[0]
            in_flight = leased_numbers()  # rows held by a worker at this instant (either worker)
            victim.kill()
            events.append(
                f"{elapsed:6.1f} s  worker {victim.name} killed with SIGKILL ({done} done, "
                f"{len(in_flight)} rows held by the workers at that instant)"
            )
            victim.start()
            events.append(f"{time.monotonic() - started:6.1f} s  worker {victim.name} started again")
        time.sleep(0.25)
    duration = time.monotonic() - started
    sweeper.running = False
    sweeper.join(timeout=10)
    connection.close()
    stats = gateway.stats()
    return {
        "name": name,
        "duration": duration,
        "counts": counts(),
        "stats": stats,
        "events": events,
        "sweep_failures": sweeper.failures,
        "sent_numbers": sent_numbers(),
        "in_flight_at_kill": in_flight,
    }


def leased_numbers() -> set[str]:
    """The numbers of the rows a worker holds right now (a lease running, not yet recorded)."""
    from messaging.models import Notification
    from registry import clock

    return set(
        Notification.objects.filter(status="pending", locked_until__gt=clock.now()).values_list("recipient", flat=True)
    )


def sent_numbers() -> set[str]:
    from messaging.models import Notification

    return set(Notification.objects.filter(status="sent").values_list("recipient", flat=True))


def report(result: dict, rows: int) -> tuple[bool, float]:
    accepted = result["stats"]["accepted"]
    twice = {number: count for number, count in accepted.items() if count > 1}
    sent = result["sent_numbers"]
    sent_not_accepted = sent - set(accepted)
    accepted_not_sent = set(accepted) - sent
    rate = rows / result["duration"]
    # The documented at-least-once window: a worker killed after the gateway took a message and before its outcome
    # was recorded; the row is sent again after its lease. Only rows held at the instant of the kill can be in it.
    in_window = set(twice) & result["in_flight_at_kill"]
    unexplained = set(twice) - in_window
    ok = not unexplained and not sent_not_accepted and not accepted_not_sent
    print(f"\n== {result['name']} ==")
    for line in result["events"]:
        print("  " + line)
    print(f"  duration {result['duration']:.1f} s, {rate:.0f} rows/s")
    print(f"  rows by status: {result['counts']}")
    print(f"  gateway calls: {result['stats']['calls']}")
    print(f"  sweep runs that found the broker down: {result['sweep_failures']}")
    print(f"  accepted twice: {len(twice)}; sent but never accepted: {len(sent_not_accepted)}; accepted but not sent: "
          f"{len(accepted_not_sent)}")  # fmt: skip
    if twice:
        print(
            f"  of which in the at-least-once window (held by a worker when one was killed): {len(in_window)}; "
            f"any other cause: {len(unexplained)}"
        )
    return ok, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--fail", type=float, default=0.3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16, help="threads per worker")
    parser.add_argument("--latency-ms", type=float, default=20, help="the fake Cloud API's answer time")
    parser.add_argument("--progress", action="store_true", help="print the counts every 5 s")
    args = parser.parse_args()
    global PROGRESS
    PROGRESS = args.progress
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("This benchmark runs on PostgreSQL: set DATABASE_URL=postgres://... (a database of its own)")

    tmp = tempfile.mkdtemp(prefix="outbox-bench-")
    redis = Redis(tmp)
    redis.start()
    gateway = FakeGateway()
    # This process (the sweep) and the workers read the same settings.
    os.environ.update(BENCH_ENV, CELERY_BROKER_URL=redis.url, WHATSAPP_GRAPH_URL=gateway.url)
    env = dict(os.environ)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    workers = [Worker(f"bench{i + 1}", env, args.concurrency, tmp) for i in range(args.workers)]
    for worker in workers:
        worker.start()
    try:
        common = {
            "rows": args.rows,
            "gateway": gateway,
            "redis": redis,
            "workers": workers,
            "latency_ms": args.latency_ms,
        }
        baseline = phase("baseline: a gateway that never fails, no chaos", fail=0.0, chaos=False, **common)
        chaos = phase(
            f"chaos: {args.fail:.0%} of calls fail, Redis stopped and restarted, a worker killed", fail=args.fail,
            chaos=True, **common,
        )  # fmt: skip
    finally:
        for worker in workers:
            worker.stop()
        gateway.stop()
        redis.stop()
    ok_base, rate_base = report(baseline, args.rows)
    ok_chaos, rate_chaos = report(chaos, args.rows)
    print(f"\nchaos / baseline throughput: {rate_chaos / rate_base:.2f}x "
          f"({chaos['duration']:.1f} s vs {baseline['duration']:.1f} s for {args.rows} rows)")  # fmt: skip
    print(f"worker logs in {tmp}")
    if not (ok_base and ok_chaos):
        sys.exit(
            "FAILED: a message was accepted twice outside the at-least-once window, or a row's status disagrees "
            "with the gateway's record"
        )
    print("every row sent or dead; none sent twice except in the documented window of the killed worker")


if __name__ == "__main__":
    main()
