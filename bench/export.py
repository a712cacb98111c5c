"""Benchmark: the request-list export (`cards:cardrequest_export`) of 100,000 card requests, CSV and XLSX, on
PostgreSQL: rows per second, the process's peak memory at 1,000 rows and at 100,000 rows (flat memory: the
ratio is about 1), and the time against a baseline measured in the same run.

Each measurement runs in a fresh child process (so its peak RSS, `ru_maxrss`, is its own and not the parent's
or an earlier run's): Django set up, a clerk signed in, one GET through the full request path (middleware,
session, scoping, the view, registry/exports.py) with the test client, the streamed body read to the end and
thrown away. The baseline child iterates the same queryset (same select_related, same order, same chunked
server-side cursor) and writes each row's values to /dev/null: what reading the rows costs without any file
format. The 1,000-row export is the same view with a filter (`mine=1`: the 1,000 requests the bench marks as
submitted by the clerk).

    DATABASE_URL=postgres://.../ektp_exportbench .venv/bin/python bench/export.py [--runs 3] [--rebuild]

The data (100,000 residents through the importer's COPY path, 100,000 open card requests, one per resident) is
built by bench/work_queue.py's `build` and kept; `--rebuild` builds it again. Point DATABASE_URL at a database
of its own: its residents and card requests are REPLACED.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
# Production settings (no debug, cached templates) without TLS, since the test client speaks plain HTTP.
os.environ.setdefault("DJANGO_DEBUG", "False")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "False")

from bench.common import print_load_at_start_and_end  # noqa: E402

REQUESTS = 100_000
SMALL = 1_000


def _setup() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("This benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.ROOT_URLCONF = "bench.urls"


def _peak_rss_mb() -> float:
    """This process's own peak resident memory: VmHWM, reset by exec. (getrusage's ru_maxrss is not: a child
    started from a big parent reports the parent's figure at fork, which hid the real figures here at first.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, size: str) -> None:
    """One measurement, printed as one JSON line: rows, seconds, bytes, peak RSS (MB)."""
    _setup()
    from django.test import Client

    from cards.models import CardRequest
    from cards.tables import queue_condition
    from registry.models import User

    clerk = User.objects.get(username="petugas")
    query = {"antrean": "semua", **({"mine": "1"} if size == "small" else {})}
    rss_before = _peak_rss_mb()
    if kind == "baseline":
        rows = CardRequest.objects.visible_to(clerk).with_appointment().filter(queue_condition("semua"))
        if size == "small":
            rows = rows.filter(submitted_by=clerk)
        rows = rows.select_related("resident", "kecamatan").in_work_order()
        started = time.perf_counter()
        count = written = 0
        with open(os.devnull, "w") as sink:
            for row in rows.iterator(chunk_size=2000):
                written += sink.write(
                    f"{row.pk};{row.resident.full_name};{row.resident.nik};{row.kind};{row.channel};"
                    f"{row.kecamatan.name};{row.route};{row.status};{row.appointment_day};{row.created_at}\n"
                )
                count += 1
        seconds = time.perf_counter() - started
    else:
        client = Client()
        client.force_login(clerk)
        started = time.perf_counter()
        response = client.get(f"/permohonan/ekspor.{kind}", query)
        if response.status_code != 200:
            sys.exit(f"export answered {response.status_code}")
        written = 0
        for chunk in response.streaming_content:
            written += len(chunk)
        response.close()
        seconds = time.perf_counter() - started
        count = int(response["X-Export-Rows"])
    print(
        json.dumps(
            {"rows": count, "seconds": seconds, "bytes": written, "rss_mb": _peak_rss_mb(), "rss_setup_mb": rss_before}
        )
    )


def _measure(kind: str, size: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, size], capture_output=True, text=True, check=False, cwd=ROOT
    )
    if out.returncode != 0:
        sys.exit(f"child {kind} {size} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="Children per scenario; the median time is shown.")
    parser.add_argument("--rebuild", action="store_true", help="Build the data again even if it is there.")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print_load_at_start_and_end()
    _setup()
    from bench.work_queue import build
    from cards.models import CardRequest
    from registry.models import User

    build(residents=REQUESTS, requests=REQUESTS, open_requests=REQUESTS, rebuild=args.rebuild)
    clerk = User.objects.get(username="petugas")
    marked = CardRequest.objects.filter(submitted_by=clerk).count()
    if marked != SMALL:
        CardRequest.objects.filter(submitted_by=clerk).update(submitted_by=None)
        ids = CardRequest.objects.order_by("id").values_list("id", flat=True)[:SMALL]
        CardRequest.objects.filter(id__in=list(ids)).update(submitted_by=clerk)
    print(f"card requests: {CardRequest.objects.count():,} (open, in the clerk's scope); {SMALL:,} marked 'mine'")

    results: dict[tuple[str, str], dict] = {}
    for kind in ("baseline", "csv", "xlsx"):
        for size in ("small", "large"):
            runs = [_measure(kind, size) for _ in range(args.runs)]
            median = statistics.median(run["seconds"] for run in runs)
            results[kind, size] = {
                "rows": runs[0]["rows"],
                "seconds": median,
                "bytes": runs[0]["bytes"],
                "rss_mb": max(run["rss_mb"] for run in runs),
                "rss_setup_mb": max(run["rss_setup_mb"] for run in runs),
            }
            r = results[kind, size]
            print(
                f"{kind:8} {r['rows']:>7,} rows  {median:7.2f} s (median of {args.runs})  "
                f"{r['rows'] / median:>9,.0f} rows/s  {r['bytes'] / 1e6:6.1f} MB out  "
                f"peak RSS {r['rss_mb']:.0f} MB (after setup {r['rss_setup_mb']:.0f} MB)",
                flush=True,
            )
    print()
    base = results["baseline", "large"]["seconds"]
    for kind in ("csv", "xlsx"):
        small, large = results[kind, "small"], results[kind, "large"]
        print(
            f"{kind.upper():4}: peak RSS {small['rss_mb']:.0f} MB at {small['rows']:,} rows, "
            f"{large['rss_mb']:.0f} MB at {large['rows']:,} rows: ratio {large['rss_mb'] / small['rss_mb']:.2f}; "
            f"time {large['seconds'] / base:.2f}x the baseline ({large['seconds']:.2f} s vs {base:.2f} s)"
        )
    small_base, large_base = results["baseline", "small"], results["baseline", "large"]
    print(
        f"baseline: peak RSS {small_base['rss_mb']:.0f} MB at {small_base['rows']:,} rows, "
        f"{large_base['rss_mb']:.0f} MB at {large_base['rows']:,} rows"
    )


if __name__ == "__main__":
    main()
