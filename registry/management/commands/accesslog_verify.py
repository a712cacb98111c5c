"""Walk the access log's hash chain from its first row to its last; exit 1 at the first broken link."""

from contextlib import closing

from django.core.management.base import BaseCommand, CommandError

from registry.audit import CHAIN_FIELDS, access_log_chain_verify
from registry.models import AccessLog


class Command(BaseCommand):
    help = (
        "Periksa rantai hash log akses dari baris pertama sampai terakhir. Keluar dengan kode 1 pada mata rantai "
        "pertama yang putus (baris diubah, dihapus atau disisipkan)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=2000, help="Baris per pengambilan (memori tetap).")
        parser.add_argument(
            "--known-head",
            metavar="SEQ:HASH",
            help="Ujung rantai dari pemeriksaan sebelumnya (dicatat di luar basis data): harus masih ada.",
        )

    def handle(self, *args, chunk_size: int = 2000, known_head: str | None = None, **options):
        expected = _known_head(known_head) if known_head else None
        rows = AccessLog.objects.order_by("seq").values_list(*CHAIN_FIELDS).iterator(chunk_size=chunk_size)
        with closing(rows):  # a break stops the walk early: close the server-side cursor now, not at GC
            report = access_log_chain_verify(rows, known_head=expected)
        if report.anchor_seq is not None and report.anchor_seq != 1:
            self.stdout.write(
                f"Jangkar: rantai dimulai pada seq {report.anchor_seq} setelah hash {report.anchor_prev_hash} "
                "(baris sebelumnya sudah diarsipkan; cocokkan dengan arsipnya)."
            )
        if report.known_head_archived:
            self.stdout.write(f"Seq {expected[0]} yang dicatat sudah diarsipkan: cocokkan hash-nya dengan arsip.")
        if report.broken is not None:
            where = f" pada baris id {report.broken_id}" if report.broken_id is not None else ""
            raise CommandError(
                f"Rantai log akses PUTUS{where}: {report.broken}. {report.checked} baris sebelumnya utuh.",
                returncode=1,
            )
        if report.head_seq is None:
            self.stdout.write(self.style.SUCCESS("Log akses kosong: 0 baris diperiksa. OK"))
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.checked} baris diperiksa, rantai utuh sampai seq {report.head_seq}. OK\n"
                f"Catat ujungnya di luar basis data: --known-head {report.head_seq}:{report.head_hash}"
            )
        )


def _known_head(value: str) -> tuple[int, str]:
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise CommandError("--known-head harus SEQ:HASH, misalnya 1234:<64 karakter hex>.")
    return int(seq), digest.lower()
