"""Benchmark: signed WhatsApp text messages posted to /webhook/whatsapp/ under gunicorn on PostgreSQL, against a
bare Django view (bench/webhook/urls.py: reads the body, answers 200) under the same server, in the same run.

    DATABASE_URL=postgres://.../ektp_webhookbench CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/webhook/run.py [--requests 3000] [--rounds 8] [--concurrency 16] \\
        [--workers 2] [--threads 4]

One gunicorn (gthread workers, keep-alive) serves both views with production settings (DEBUG off). The load
generator runs in 2 processes of threads on persistent HTTP/1.1 connections; every request carries a body
signed with the app secret, with a message id of its own (the webhook stores each one). Bodies and signatures
are made before the clock starts. Each round times both views (their order alternates between rounds) after a
warm-up; the figures are client-side: requests per second over the round, p50 and p95 latency. The ratio is
webhook / bare requests per second, per round, and its median is the figure to compare between runs (the box
is shared: a round's ratio swings with what else runs; the load average is printed). PostgreSQL's own count of
committed transactions shows what each webhook POST cost the database (1: the INSERT).

Targets (issue 13): ratio >= 0.5 and webhook p95 <= 100 ms. No worker runs during the bench: payloads stay
pending and their tasks wait in the broker. Point DATABASE_URL (and the broker) at a database of their own: the
bench migrates it and deletes the payloads it posted at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
APP_SECRET = "bench-app-secret-" + "s" * 24
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.webhook.settings"
os.environ.setdefault("DJANGO_DEBUG", "False")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
os.environ["WHATSAPP_APP_SECRET"] = APP_SECRET
os.environ.setdefault("LOG_LEVEL", "WARNING")
if "CELERY_BROKER_URL" not in os.environ and os.environ.get("REDIS_URL"):
    os.environ["CELERY_BROKER_URL"] = os.environ["REDIS_URL"]
if "CELERY_BROKER_URL" not in os.environ:
    # The filesystem broker writes a file per task: keep them out of the project's var/.
    os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="webhook-bench-"))

WEBHOOK = "/webhook/whatsapp/"
BARE = "/bench/bare/"
PHONE_NUMBER_ID = "109876543210001"


def _body(message_id: str, serial: int) -> bytes:
    """A text message as Meta posts it in 2026 (BSUID and number), with its own id."""
    phone = f"62812{serial % 10**8:08d}"
    user_id = f"ID.{1502739184265530117 + serial}"
    document = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "6281130001000", "phone_number_id": PHONE_NUMBER_ID},
                            "contacts": [
                                {"profile": {"name": "Siti Aminah"}, "wa_id": phone, "user_id": user_id},
                            ],
                            "messages": [
                                {
                                    "from": phone,
                                    "from_user_id": user_id,
                                    "id": message_id,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": f"#SITI AMINAH#35020141079{serial % 100000:05d}#besok"},
                                }
                            ],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }
    return json.dumps(document).encode()


def _signed(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


# --- load generator (runs in child processes) ------------------------------------------------------------------


def _load(port: int, path: str, tag: str, count: int, threads: int, start_at: float, queue) -> None:
    """`count` POSTs to `path` from `threads` threads on keep-alive connections, starting at `start_at`; puts
    (latencies in seconds, failures, first instant, last instant) on `queue`."""
    per_thread = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
    prepared = []
    serial = 0
    for n in per_thread:
        requests = []
        for _ in range(n):
            body = _body(f"wamid.BENCH.{tag}.{serial}", serial)
            headers = {
                "Content-Type": "application/json",
                "X-Hub-Signature-256": _signed(body),
                "X-Forwarded-Proto": "https",  # behind the TLS proxy, as deployed
                "User-Agent": "facebookexternalua",
            }
            requests.append((body, headers))
            serial += 1
        prepared.append(requests)
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()

    def run(requests) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], []
        while time.time() < start_at:
            time.sleep(0.001)
        for body, headers in requests:
            began = time.perf_counter()
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            mine.append(time.perf_counter() - began)
            if status != 200:
                bad.append(status)
        connection.close()
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    workers = [threading.Thread(target=run, args=(requests,)) for requests in prepared]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put((latencies, failures, time.time()))


def _scenario(port: int, path: str, *, requests: int, concurrency: int, processes: int) -> dict:
    """Run one timed scenario; its requests per second, p50/p95 in ms and failures."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    tag = uuid.uuid4().hex[:8]
    start_at = time.time() + 1.5 + requests / 20000  # time for the children to prepare their bodies
    per_process = [requests // processes + (1 if i < requests % processes else 0) for i in range(processes)]
    threads = max(concurrency // processes, 1)
    children = [
        context.Process(target=_load, args=(port, path, f"{tag}{i}", n, threads, start_at, queue))
        for i, n in enumerate(per_process)
    ]
    for child in children:
        child.start()
    latencies: list[float] = []
    failures: list[int] = []
    ends = []
    for _ in children:
        got, bad, ended = queue.get()
        latencies.extend(got)
        failures.extend(bad)
        ends.append(ended)
    for child in children:
        child.join()
    elapsed = max(ends) - start_at
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": 1000 * latencies[len(latencies) // 2],
        "p95": 1000 * latencies[int(len(latencies) * 0.95) - 1],
        "failures": len(failures),
        "statuses": sorted(set(failures)),
        "count": len(latencies),
    }


# --- the server ------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _gunicorn(port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())
    deadline = time.time() + 120  # a worker imports the whole project first (several seconds on a busy box)
    status = None
    while time.time() < deadline and server.poll() is None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("POST", BARE, body=b"{}", headers={"X-Forwarded-Proto": "https"})
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.5)
    server.terminate()
    sys.exit(f"gunicorn did not answer 200 within 120 s (last status: {status})")


def _commits(connection) -> int:
    """Transactions committed in the bench's database so far (the connection is closed again: the load
    generator's processes are forked from this one)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        count = cursor.fetchone()[0]
    connection.close()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per view and round")
    parser.add_argument("--concurrency", type=int, default=16, help="client connections in all")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from intake.models import WebhookPayload

    if connection.vendor != "postgresql":
        sys.exit("This benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    WebhookPayload.objects.filter(body__contains='"wamid.BENCH.').delete()
    connection.close()

    broker = settings.CELERY_BROKER_URL.split("://")[0]
    port = _free_port()
    print(
        f"gunicorn: {args.workers} gthread workers x {args.threads} threads; client: {args.processes} processes, "
        f"{args.concurrency} connections; {args.requests} requests per view and round; broker: {broker}"
    )
    load_before = os.getloadavg()[0]
    commits_before = _commits(connection)
    server = _gunicorn(port, args.workers, args.threads)
    results: dict[str, list[dict]] = {"bare": [], "webhook": []}
    try:
        for path in (BARE, WEBHOOK):  # warm-up: connections, imports, the first queries
            _scenario(port, path, requests=400, concurrency=args.concurrency, processes=args.processes)
        for round_number in range(args.rounds):
            order = [("bare", BARE), ("webhook", WEBHOOK)]
            for name, path in order if round_number % 2 == 0 else order[::-1]:
                figures = _scenario(
                    port, path, requests=args.requests, concurrency=args.concurrency, processes=args.processes
                )
                results[name].append(figures)
                print(
                    f"round {round_number + 1} {name:8s} {figures['rps']:8.1f} req/s  p50 {figures['p50']:6.2f} ms  "
                    f"p95 {figures['p95']:6.2f} ms  failures {figures['failures']} {figures['statuses'] or ''}"
                )
    finally:
        server.terminate()
        server.wait(timeout=30)

    time.sleep(1.5)  # PostgreSQL's statistics are flushed about once a second
    transactions = _commits(connection) - commits_before - 1  # less this bench's own read
    stored = WebhookPayload.objects.filter(body__contains='"wamid.BENCH.').count()
    posted = sum(r["count"] for r in results["webhook"]) + 400
    WebhookPayload.objects.filter(body__contains='"wamid.BENCH.').delete()
    ratios = [w["rps"] / b["rps"] for w, b in zip(results["webhook"], results["bare"], strict=True)]

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    print()
    print("| view | req/s (median) | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for name in ("bare", "webhook"):
        print(f"| {name} | {median(name, 'rps'):.0f} | {median(name, 'p50'):.2f} | {median(name, 'p95'):.2f} |")
    print()
    per_round = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"ratio webhook / bare, per round: {per_round}; median {statistics.median(ratios):.2f}")
    print(f"PostgreSQL transactions per webhook POST: {transactions / posted:.2f}")
    print(
        f"payloads stored: {stored} of {posted} posted (each one INSERT); failures: "
        f"{sum(r['failures'] for r in results['webhook'] + results['bare'])}"
    )
    load_after = os.getloadavg()[0]
    print(f"machine load average (1 min): {load_before:.1f} before, {load_after:.1f} after ({os.cpu_count()} CPUs)")
    p95 = median("webhook", "p95")
    ratio = statistics.median(ratios)
    print(
        f"targets: ratio >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'}; webhook p95 <= 100 ms: "
        f"{'met' if p95 <= 100 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
