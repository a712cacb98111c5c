"""Benchmark: importing a SIAK export of N residents (default 1,000,000) on PostgreSQL.

In one run, on the same generated CSV file:
  1. baseline: a raw `COPY bare FROM STDIN (FORMAT csv, HEADER)` of the file's bytes into a bare table
     (the same 15 columns as text, no index, no constraint);
  2. import: `import_residents` into empty resident/family tables (validation, staging, merge, history);
  3. re-import of the unchanged file (every row compared, nothing written).
Each step runs in its own child process (a fresh interpreter), which reports its wall time and its OWN peak
resident memory: VmHWM from /proc/self/status, the high-water mark of the child's address space since its exec.
(ru_maxrss is not used: Linux carries the forking parent's high-water mark into the child across fork and exec,
so a child would report at least what the parent held.) The run fails (exit status 1) when the import refuses
any row, or when a step fails. The machine's load is printed at the start and at the end.

    DATABASE_URL=postgres://.../ektp_importbench .venv/bin/python bench/import_residents.py [--rows 1000000]

The database's residents and families are DELETED: point DATABASE_URL at a database of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.common import print_load_at_start_and_end  # noqa: E402


def _setup():
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("This benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    return connection


def _peak_rss_mb() -> float:
    """This process's own peak RSS in MB (VmHWM); ru_maxrss only where /proc is missing (not Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_baseline(path: str) -> dict:
    connection = _setup()
    from registry.importer.sample import EXPORT_HEADER

    columns = ", ".join(f"{c.lower()} text" for c in EXPORT_HEADER)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_copy")
        cursor.execute(f"CREATE TABLE bench_bare_copy ({columns})")
    started = time.perf_counter()
    with connection.cursor() as cursor, open(path, "rb") as f:
        with cursor.copy("COPY bench_bare_copy FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        cursor.execute("SELECT COUNT(*) FROM bench_bare_copy")
        rows = cursor.fetchone()[0]
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_bare_copy")
    return {"seconds": seconds, "rows": rows, "rss_mb": _peak_rss_mb()}


def step_import(path: str) -> dict:
    _setup()
    from registry.importer.engine import import_residents
    from registry.models import Office, ResidentImport

    office = Office.objects.get(region_id="35.02")
    job = ResidentImport.objects.create(office=office, file_name=Path(path).name)
    started = time.perf_counter()
    job = import_residents(job, path)
    seconds = time.perf_counter() - started
    if job.status != ResidentImport.Status.DONE:
        sys.exit(f"import ended {job.status}: {job.message}")
    return {
        "seconds": seconds,
        "rows": job.rows_read,
        "inserted": job.rows_inserted,
        "updated": job.rows_updated,
        "unchanged": job.rows_unchanged,
        "refused": job.rows_refused,
        "families": job.families_created,
        "rss_mb": _peak_rss_mb(),
    }


def _child(step: str, path: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--step", step, "--file", path], capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"step {step} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", help="Use this CSV instead of generating one (kept afterwards).")
    parser.add_argument("--keep-file", action="store_true", help="Do not delete the generated CSV.")
    parser.add_argument("--step", choices=["baseline", "import"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.step:
        result = step_baseline(args.file) if args.step == "baseline" else step_import(args.file)
        print(json.dumps(result))
        return

    print_load_at_start_and_end()
    connection = _setup()
    from django.core.management import call_command

    from registry.importer.sample import export_write
    from registry.offices import offices_create_for_kabupaten
    from registry.regions import regions_load

    call_command("migrate", verbosity=0)
    regions_load(within="35.02")
    offices_create_for_kabupaten(kabupaten_code="35.02")

    path = args.file
    if not path:
        handle, path = tempfile.mkstemp(prefix="siak-bench-", suffix=".csv")
        os.close(handle)
        started = time.perf_counter()
        print(f"generating {args.rows:,} residents into {path} ...", flush=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            rows = export_write(f, count=args.rows, seed=2026)
        print(f"  {rows:,} rows, {os.path.getsize(path) / 1e6:.0f} MB, {time.perf_counter() - started:.0f} s")

    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), current_setting('fsync'), current_setting('shared_buffers')")
        version, fsync, shared_buffers = cursor.fetchone()
        cursor.execute("UPDATE registry_family SET head_id = NULL")
        cursor.execute(
            "TRUNCATE registry_residentchange, registry_importrowerror, registry_accesslog, "
            "registry_resident, registry_family RESTART IDENTITY CASCADE"
        )
        cursor.execute("VACUUM ANALYZE")  # noqa - a fresh start for each run
    connection.close()
    print(f"server: {version.split(',')[0]}; fsync={fsync}; shared_buffers={shared_buffers}; cores={os.cpu_count()}")

    try:
        baseline = _child("baseline", path)
        first = _child("import", path)
        again = _child("import", path)
    finally:
        if not args.file and not args.keep_file:
            os.unlink(path)

    copy_rate = baseline["rows"] / baseline["seconds"]
    print()
    print(f"{'step':<34}{'rows':>11}{'seconds':>9}{'rows/s':>11}{'vs COPY':>9}{'peak RSS':>10}")
    for label, result in (
        ("raw COPY into a bare table", baseline),
        ("import (empty tables)", first),
        ("re-import, file unchanged", again),
    ):
        rate = result["rows"] / result["seconds"]
        print(
            f"{label:<34}{result['rows']:>11,}{result['seconds']:>9.2f}{rate:>11,.0f}"
            f"{rate / copy_rate:>8.2f}×{result['rss_mb']:>7.0f} MB"
        )
    print()
    print(
        f"import: {first['inserted']:,} inserted, {first['families']:,} families, {first['refused']:,} refused; "
        f"re-import: {again['unchanged']:,} unchanged, {again['updated']:,} updated, {again['inserted']:,} inserted"
    )
    refused = {label: r["refused"] for label, r in (("import", first), ("re-import", again)) if r["refused"]}
    if refused or first["rows"] != baseline["rows"] or first["inserted"] != baseline["rows"]:
        sys.exit(
            f"FAILED: rows refused {refused or 0}; file rows {baseline['rows']:,}, import read {first['rows']:,} "
            f"and inserted {first['inserted']:,}"
        )


if __name__ == "__main__":
    main()
