from django.core.management.base import BaseCommand

from queueing.calendar import holidays_load
from registry import clock


class Command(BaseCommand):
    help = (
        "Seed national holidays and cuti bersama (the `holidays` package, category government) as closures for "
        "every office. Idempotent; rows edited by staff are kept."
    )

    def add_arguments(self, parser):
        year = clock.today().year
        parser.add_argument("years", nargs="*", type=int, default=[year, year + 1])

    def handle(self, *args, years, **options):
        created = holidays_load(years=years)
        self.stdout.write(self.style.SUCCESS(f"{created} hari libur baru untuk {', '.join(map(str, years))}."))
