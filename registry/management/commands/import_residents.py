"""manage.py import_residents FILE: the same import as the upload page, with a progress bar on the terminal."""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from registry.importer.engine import import_residents
from registry.importer.report import report_csv_chunks
from registry.models import Office, ResidentImport, User


class Command(BaseCommand):
    help = "Import residents and families from a SIAK export (CSV or XLSX); see docs/import-format.md."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV (UTF-8/Windows-1252; , ; or tab) or XLSX file")
        who = parser.add_mutually_exclusive_group()
        who.add_argument("--user", help="Import on behalf of this staff account (its office limits the regions).")
        who.add_argument("--office", help="Region code of the office whose area the rows must lie in (e.g. 35.02).")
        parser.add_argument("--errors", help="Write the refused rows to this CSV file.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs and cron).")

    def handle(self, *args, **options):
        path = options["file"]
        if not os.path.isfile(path):
            raise CommandError(f"File not found: {path}")
        user = office = None
        if options["user"]:
            user = User.objects.select_related("office").filter(username=options["user"]).first()
            if user is None or not user.has_perm("registry.import_resident"):
                raise CommandError(f"{options['user']!r} is not an account allowed to import residents.")
            office = user.office
        elif options["office"]:
            office = Office.objects.filter(region_id=options["office"]).first()
            if office is None:
                raise CommandError(f"No office for region {options['office']!r} (run create_offices first).")
        job = ResidentImport.objects.create(
            office=office, created_by=user, file_name=os.path.basename(path)[:255], file_size=os.path.getsize(path)
        )
        scope = office.name if office else "seluruh wilayah"
        self.stdout.write(f"Import #{job.pk}: {path} ({job.file_size / 1e6:.1f} MB), wilayah: {scope}")
        bars: dict[str, tqdm] = {}
        show = not options["no_progress"]

        def on_progress(current: ResidentImport) -> None:
            if not show:
                return
            if current.phase == ResidentImport.Phase.READING:
                if "read" not in bars:
                    bars["read"] = tqdm(total=current.rows_total, desc="dibaca", unit=" baris", file=sys.stderr)
                bar = bars["read"]
                bar.total = current.rows_total  # known once the file's lines are counted
                bar.update(current.rows_read - bar.n)
                bar.set_postfix(ditolak=current.rows_refused, refresh=False)
            elif current.phase == ResidentImport.Phase.MERGING:
                if "read" in bars:
                    bars.pop("read").close()
                if "merge" not in bars:
                    total = current.rows_read - current.rows_refused
                    bars["merge"] = tqdm(total=total, desc="disimpan", unit=" baris", file=sys.stderr)
                bar = bars["merge"]
                bar.update(current.rows_merged - bar.n)

        try:
            job = import_residents(job, path, on_progress=on_progress)
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(
            f"{job.get_status_display()}: {job.rows_read} baris dibaca; {job.rows_inserted} penduduk baru, "
            f"{job.rows_updated} diubah, {job.rows_unchanged} tidak berubah, {job.rows_refused} baris ditolak; "
            f"{job.families_created} keluarga baru."
        )
        if job.ignored_columns:
            self.stdout.write(f"Kolom diabaikan: {', '.join(job.ignored_columns)}")
        if job.message:
            self.stdout.write(job.message)
        if options["errors"] and job.rows_refused:
            with open(options["errors"], "w", encoding="utf-8", newline="") as f:
                for chunk in report_csv_chunks(job):
                    f.write(chunk)
            self.stdout.write(f"Baris ditolak ditulis ke {options['errors']}")
        if job.status != ResidentImport.Status.DONE:
            raise CommandError(f"Import #{job.pk} {job.status}.")
