import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from delivery.demo import demo_card_requests_create, demo_seed, demo_service_calendar_create
from intake.demo import demo_inbox_messages_create
from registry.demo import demo_accounts_create
from registry.models import Resident


class Command(BaseCommand):
    help = (
        "Demo data for Kabupaten Ponorogo (35.02): regions, offices, one account per role and synthetic "
        "residents in families whose NIKs pass the validator. Runs only with DEBUG on (the demo logins share a "
        "published password); accounts that already exist are never changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--residents", type=int, default=5000, help="How many residents (default 5,000).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed, for repeatable data.")
        parser.add_argument("--if-empty", action="store_true", help="Only create residents when there are none yet.")

    def handle(self, *args, residents: int, seed: int, if_empty: bool, **options):
        # The demo accounts log in with a password printed in the README: never on a production installation.
        if not settings.DEBUG:
            raise CommandError(
                _(
                    "seed_demo hanya berjalan dengan DJANGO_DEBUG=True: akun demo memakai kata sandi yang "
                    "dipublikasikan. Tidak ada data yang ditulis."
                )
            )
        started = time.monotonic()
        if if_empty and Resident.objects.exists():
            logins, created = demo_accounts_create(), 0
            demo_service_calendar_create()
            demo_card_requests_create(seed=seed)
        else:

            def progress(done: int) -> None:
                if options["verbosity"] and residents >= 50_000:
                    self.stdout.write(f"  {done:,} / {residents:,} penduduk", ending="\r")
                    self.stdout.flush()

            logins, created = demo_seed(residents=residents, seed=seed, progress=progress)
        # The office's WhatsApp number and SMS centre, and residents' messages through the real webhook
        # processing (idempotent: a second run adds nothing).
        demo_inbox_messages_create()
        total = Resident.objects.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Data demo siap: {created:,} penduduk baru, {total:,} seluruhnya ({time.monotonic() - started:.1f} s)."
            )
        )
        self.stdout.write(f"Akun demo (kata sandi untuk semua: {settings.DEMO_PASSWORD}):")
        for login in logins:
            untouched = "" if login.created else "  (sudah ada: tidak diubah, kata sandinya tetap)"
            self.stdout.write(f"  {login.username:<15} {login.role:<15} {login.office}{untouched}")
