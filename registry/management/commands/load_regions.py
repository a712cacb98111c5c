import time

from django.core.management.base import BaseCommand

from registry.regions import DECREE, EXPECTED_COUNTS, regions_load


class Command(BaseCommand):
    help = f"Load the Kemendagri region tree ({DECREE}) into the Region table. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Upsert every row even if already loaded.")

    def handle(self, *args, force: bool = False, **options):
        started = time.monotonic()
        result = regions_load(force=force)
        elapsed = time.monotonic() - started
        names = {1: "provinsi", 2: "kabupaten/kota", 3: "kecamatan", 4: "desa/kelurahan"}
        summary = ", ".join(f"{result.counts.get(level, 0):,} {names[level]}" for level in sorted(names))
        verb = "sudah termuat" if result.skipped else "dimuat"
        self.stdout.write(self.style.SUCCESS(f"Wilayah {DECREE} {verb}: {summary} ({elapsed:.1f} s)."))
        if result.counts != EXPECTED_COUNTS:
            self.stderr.write(self.style.WARNING(f"Jumlah tidak sesuai keputusan: {result.counts}"))
