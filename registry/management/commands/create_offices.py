from django.core.management.base import BaseCommand, CommandError

from registry.offices import OfficeError, offices_create_for_kabupaten


class Command(BaseCommand):
    help = "Create the Disdukcapil office of a kabupaten/kota and one UPTD per kecamatan (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("kabupaten", help="Dotted Kemendagri code, e.g. 35.02 (Kabupaten Ponorogo).")

    def handle(self, *args, kabupaten: str, **options):
        try:
            head, branches = offices_create_for_kabupaten(kabupaten_code=kabupaten)
        except OfficeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{head.name}: {len(branches)} UPTD kecamatan."))
