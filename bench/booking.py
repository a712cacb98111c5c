"""Benchmark: 200 concurrent bookers against a day with 300 places, on PostgreSQL.

In one run:
  1. baseline: the same threads run a bare conditional `UPDATE bench_day SET booked = booked + 1 WHERE id = 1
     AND booked < 300` (autocommit), one per attempt: the cheapest correct way to take a place;
  2. booking: the same number of attempts through `queueing.appointments.booking_book` (lock the request, take
     the place, create the booking, move the request to scheduled, write the timeline and the message).
Both report attempts per second; the ratio booking / baseline is the figure to compare between runs. Every
run checks that exactly 300 places were taken, and reports the slowest refusal of a full day.

    DATABASE_URL=postgres://.../ektp_bookingbench .venv/bin/python bench/booking.py [--bookers 200] [--capacity 300]

The run prints the machine's load at its start and end and the server's durability settings (fsync,
synchronous_commit) beside the ratio, and fails (exit status 1) when a booker thread dies, a booker process
stops answering, or the bookings taken are not exactly the capacity.

The server needs max_connections above the number of bookers. The database is migrated and its card
requests, bookings and residents of the bench are replaced: point DATABASE_URL at a database of its own.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import sys
import threading
import time
import traceback
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production settings: with DEBUG on, Django records every query of every thread.
os.environ.setdefault("DJANGO_DEBUG", "False")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "x" * 40)

from bench.common import print_load_at_start_and_end  # noqa: E402

CHILD_TIMEOUT = 600  # seconds a booker process may take to report before the run is failed


def _setup():
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("This benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    return connection


def _prepare(attempts: int, capacity: int):
    """Kabupaten Ponorogo with its offices, `attempts` ready-to-print requests, and the day's quota."""
    from datetime import time as wall

    from cards.models import CardRequest, CardRequestEvent
    from messaging.models import Notification
    from queueing.models import Booking, OpeningHours, QuotaDefault, ServiceDay
    from registry import clock
    from registry.models import Office, Resident
    from registry.offices import offices_create_for_kabupaten
    from registry.regions import regions_load

    regions_load(within="35.02")
    office, _ = offices_create_for_kabupaten(kabupaten_code="35.02")
    office = Office.objects.get(pk=office.pk)
    Booking.objects.all().delete()
    ServiceDay.objects.all().delete()
    Notification.objects.all().delete()
    CardRequestEvent.objects.all().delete()
    CardRequest.objects.all().delete()
    Resident.objects.filter(full_name__startswith="BENCH ").delete()
    day = clock.today(office) + timedelta(days=7)
    OpeningHours.objects.update_or_create(
        office=office, weekday=day.weekday(), defaults={"opens_at": wall(8), "closes_at": wall(15)}
    )
    QuotaDefault.objects.update_or_create(
        office=office, weekday=day.weekday(), defaults={"print_capacity": capacity, "whatsapp": capacity}
    )
    return _ready_requests(office, attempts, offset=0), day


def _prepare_more(count: int, day: date) -> list[int]:
    from registry.models import Office

    return _ready_requests(Office.objects.get(region_id="35.02"), count, offset=1_000_000)


def _ready_requests(office, count: int, *, offset: int) -> list[int]:
    """`count` residents of Slahung with a ready-to-print request each (bulk, no validation: bench data)."""
    from cards.models import CardRequest
    from registry.models import Resident
    from registry.nik import make_nik

    born = date(1950, 1, 1)
    residents = Resident.objects.bulk_create(
        Resident(
            nik=make_nik(
                kecamatan_code="35.02.01", birth_date=born + timedelta(days=i // 9000), sex="L", serial=1 + i % 9000
            ),
            full_name=f"BENCH {i:05d}",
            birth_place="PONOROGO",
            birth_date=born + timedelta(days=i // 9000),
            sex="L",
            address="Jl. Bench",
            desa_id="35.02.01.2001",
            kecamatan_id="35.02.01",
            biometric_recorded=True,
        )
        for i in range(offset, offset + count)
    )
    requests = CardRequest.objects.bulk_create(
        CardRequest(
            resident=r,
            kecamatan_id="35.02.01",
            office=office,
            pickup_office=office,
            kind="rusak",
            channel="whatsapp",
            submitted_by_kind="resident",
            status="ready_to_print",
        )
        for r in residents
    )
    return [r.pk for r in requests]


def _worker(kind: str, index: int, threads: int, per_booker: int, request_ids, day, ready, go, results) -> None:
    """One process of bookers: `threads` threads, each making `per_booker` attempts once `go` is set."""
    import django

    django.setup()
    from django.db import connection, connections

    from queueing.appointments import DayUnavailable, booking_book

    outcome = {"taken": 0, "refusals": [], "errors": []}
    lock = threading.Lock()

    def attempt(booker: int) -> None:
        try:
            _attempts(booker)
        except Exception:  # noqa: BLE001 - a booker that dies is reported and fails the run
            with lock:
                outcome["errors"].append(f"booker {booker}: {traceback.format_exc()}")
        finally:
            connections.close_all()

    def _attempts(booker: int) -> None:
        for n in range(per_booker):
            started = time.perf_counter()
            if kind == "baseline":
                with connection.cursor() as cursor:
                    cursor.execute("UPDATE bench_day SET booked = booked + 1 WHERE id = 1 AND booked < capacity")
                    taken = cursor.rowcount
            else:
                request_id = request_ids[(booker * per_booker) + n]
                try:
                    booking_book(card_request_id=request_id, channel="whatsapp", by=None, wish=day)
                    taken = 1
                except DayUnavailable:
                    taken = 0
            with lock:
                outcome["taken"] += taken
                if not taken:
                    outcome["refusals"].append(time.perf_counter() - started)

    first = index * threads

    # Connect before the start signal, so both runs time the work and not the connections.
    def connect_then_wait(thread_fn):
        def run(booker):
            try:
                connection.ensure_connection()
            except Exception:  # noqa: BLE001 - a booker that cannot connect fails the run
                with lock:
                    outcome["errors"].append(f"booker {booker} could not connect: {traceback.format_exc()}")
            go.wait()
            thread_fn(booker)

        return run

    workers = [threading.Thread(target=connect_then_wait(attempt), args=(first + i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    ready.put(index)
    for worker in workers:
        worker.join()
    results.put(outcome)


def _run(kind: str, bookers: int, processes: int, per_booker: int, request_ids=(), day=None) -> dict:
    """Start the processes, wait until every booker is connected, then time from the start signal to the end."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # never share a connection with the children
    context = multiprocessing.get_context("fork")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    threads = bookers // processes
    children = [
        context.Process(target=_worker, args=(kind, i, threads, per_booker, list(request_ids), day, ready, go, results))
        for i in range(processes)
    ]
    for child in children:
        child.start()
    try:
        for _ in children:
            ready.get(timeout=CHILD_TIMEOUT)
    except queue.Empty:
        codes = [child.exitcode for child in children]
        for child in children:
            child.kill()
        sys.exit(f"FAILED: a booker process never got ready (exit codes {codes})")
    time.sleep(0.5)  # the last threads of each process reach go.wait()
    started = time.perf_counter()
    go.set()
    try:
        outcomes = [results.get(timeout=CHILD_TIMEOUT) for _ in children]
    except queue.Empty:
        codes = [child.exitcode for child in children]
        for child in children:
            child.kill()
        sys.exit(f"FAILED: a booker process did not report within {CHILD_TIMEOUT} s (exit codes {codes})")
    seconds = time.perf_counter() - started
    for child in children:
        child.join()
    errors = [e for o in outcomes for e in o["errors"]]
    if errors:
        sys.exit(f"FAILED: {len(errors)} booker thread(s) died ({kind}); the first:\n{errors[0]}")
    refusals = [r for o in outcomes for r in o["refusals"]]
    return {
        "seconds": seconds,
        "taken": sum(o["taken"] for o in outcomes),
        "refusals": len(refusals),
        "slowest_refusal_ms": max(refusals) * 1000 if refusals else 0.0,
        "median_refusal_ms": statistics.median(refusals) * 1000 if refusals else 0.0,
    }


def baseline(bookers: int, processes: int, per_booker: int, capacity: int) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_day")
        cursor.execute("CREATE TABLE bench_day (id int PRIMARY KEY, booked int NOT NULL, capacity int NOT NULL)")
        cursor.execute("INSERT INTO bench_day VALUES (1, 0, %s)", [capacity])
    result = _run("baseline", bookers, processes, per_booker)
    with connection.cursor() as cursor:
        cursor.execute("SELECT booked FROM bench_day WHERE id = 1")
        result["booked"] = cursor.fetchone()[0]
    return result


def baseline_loop(attempts: int, capacity: int) -> dict:
    """The bare conditional UPDATE in a loop on one connection (autocommit): the primitive's own speed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE bench_day SET booked = 0, capacity = %s WHERE id = 1", [capacity])
        started = time.perf_counter()
        taken = 0
        for _ in range(attempts):
            cursor.execute("UPDATE bench_day SET booked = booked + 1 WHERE id = 1 AND booked < capacity")
            taken += cursor.rowcount
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "taken": taken}


def refusals_one_by_one(request_ids: list[int], day: date) -> list[float]:
    """A full day asked for by one booker at a time: each refusal's own latency."""
    from queueing.appointments import DayUnavailable, booking_book

    latencies = []
    for request_id in request_ids:
        started = time.perf_counter()
        try:
            booking_book(card_request_id=request_id, channel="whatsapp", by=None, wish=day)
        except DayUnavailable:
            latencies.append(time.perf_counter() - started)
    return latencies


def booking(bookers: int, processes: int, per_booker: int, request_ids: list[int], day: date) -> dict:
    from queueing.models import Booking, ServiceDay

    result = _run("booking", bookers, processes, per_booker, request_ids, day)
    row = ServiceDay.objects.get(date=day)
    numbers = sorted(Booking.objects.filter(day=row).values_list("number", flat=True))
    result.update(booked=row.booked_total, rows=len(numbers), numbers_ok=numbers == list(range(1, len(numbers) + 1)))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookers", type=int, default=200)
    parser.add_argument("--per-booker", type=int, default=2, help="attempts per booker (default 2: 400 for 300 places)")
    parser.add_argument("--capacity", type=int, default=300)
    parser.add_argument("--processes", type=int, default=4, help="bookers are spread over this many processes")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print_load_at_start_and_end()
    connection = _setup()
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        max_connections = int(cursor.fetchone()[0])
        cursor.execute("SHOW fsync")
        fsync = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        synchronous_commit = cursor.fetchone()[0]
    durability = f"server durability: fsync={fsync}, synchronous_commit={synchronous_commit}"
    print(durability)
    if max_connections <= args.bookers + 5:
        sys.exit(f"max_connections is {max_connections}: start PostgreSQL with -c max_connections={args.bookers + 50}")
    attempts = args.bookers * args.per_booker
    print(f"{args.processes} processes x {args.bookers // args.processes} threads; {args.bookers} bookers x "
          f"{args.per_booker} attempts = {attempts} against {args.capacity} places; {args.runs} runs")  # fmt: skip
    ratios, loop_ratios, slowest_full, exact_runs = [], [], [], 0
    for run in range(1, args.runs + 1):
        request_ids, day = _prepare(attempts, args.capacity)
        base = baseline(args.bookers, args.processes, args.per_booker, args.capacity)
        real = booking(args.bookers, args.processes, args.per_booker, request_ids, day)
        # The day is full now: every booker asks once more for it; these are the refusals of a full day.
        extra = _prepare_more(args.bookers, day)
        full_day = _run("booking", args.bookers, args.processes, 1, extra, day)
        single = sorted(refusals_one_by_one(extra[:100], day))
        loop = baseline_loop(attempts, args.capacity)
        base_rate, real_rate, loop_rate = (attempts / r["seconds"] for r in (base, real, loop))
        exact = real["taken"] == real["booked"] == real["rows"] == args.capacity == base["booked"]
        exact = exact and real["numbers_ok"] and not full_day["taken"]
        exact_runs += exact
        ratios.append(real_rate / base_rate)
        loop_ratios.append(real_rate / loop_rate)
        slowest_full.append(full_day["slowest_refusal_ms"])
        print(
            f"run {run}: baseline {base_rate:,.0f}/s, booking {real_rate:,.0f}/s -> {ratios[-1]:.2f}x; "
            f"loop {loop_rate:,.0f}/s -> {loop_ratios[-1]:.2f}x; booked {real['booked']} "
            f"(rows {real['rows']}, numbers 1..N {real['numbers_ok']}); refusals while filling: "
            f"median {real['median_refusal_ms']:.0f} ms, slowest {real['slowest_refusal_ms']:.0f} ms; "
            f"full day x{args.bookers} at once: median {full_day['median_refusal_ms']:.0f} ms, "
            f"slowest {full_day['slowest_refusal_ms']:.0f} ms; full day one at a time: median "
            f"{single[len(single) // 2] * 1000:.1f} ms, slowest {single[-1] * 1000:.1f} ms"
        )
    print(f"exactly {args.capacity} bookings in {exact_runs} of {args.runs} runs")
    print(f"ratio booking/baseline (same {args.bookers} bookers running the bare UPDATE): median "
          f"{statistics.median(ratios):.2f}x (min {min(ratios):.2f}, max {max(ratios):.2f}); {durability}")  # fmt: skip
    print(f"ratio booking/baseline (bare UPDATE loop on one connection): median "
          f"{statistics.median(loop_ratios):.2f}x")  # fmt: skip
    print(f"slowest refusal of a full day, {args.bookers} at once: median over runs "
          f"{statistics.median(slowest_full):.0f} ms")  # fmt: skip
    if exact_runs != args.runs:
        sys.exit(1)


if __name__ == "__main__":
    main()
