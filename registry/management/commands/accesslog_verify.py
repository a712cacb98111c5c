"""Walk the access log's hash chain from its first row to its last; exit 1 at the first broken link, when the
log does not start where the archive ends (--archived-to), or when the recorded head is gone (--known-head)."""

from contextlib import closing

from django.core.management.base import BaseCommand, CommandError

from registry.audit import CHAIN_FIELDS, access_log_chain_verify
from registry.models import AccessLog


class Command(BaseCommand):
    help = (
        "Periksa rantai hash log akses dari baris pertama sampai terakhir. Keluar dengan kode 1 pada mata rantai "
        "pertama yang putus (baris diubah, dihapus atau disisipkan), bila log tidak dimulai pada seq 1 atau "
        "tepat setelah arsip (--archived-to), atau bila ujung yang dicatat (--known-head) tidak ada lagi."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=2000, help="Baris per pengambilan (memori tetap).")
        parser.add_argument(
            "--known-head",
            metavar="SEQ:HASH",
            help="Ujung rantai dari pemeriksaan sebelumnya (dicatat di luar basis data): harus masih ada.",
        )
        parser.add_argument(
            "--archived-to",
            metavar="SEQ:HASH",
            help=(
                "Baris terakhir yang sudah diarsipkan (dicatat di luar basis data): log harus dimulai tepat "
                "setelahnya. Tanpa opsi ini log harus dimulai pada seq 1."
            ),
        )

    def handle(
        self,
        *args,
        chunk_size: int = 2000,
        known_head: str | None = None,
        archived_to: str | None = None,
        **options,
    ):
        expected_head = _seq_hash("--known-head", known_head) if known_head else None
        expected_archive = _seq_hash("--archived-to", archived_to) if archived_to else None
        rows = AccessLog.objects.order_by("seq").values_list(*CHAIN_FIELDS).iterator(chunk_size=chunk_size)
        with closing(rows):  # a break stops the walk early: close the server-side cursor now, not at GC
            report = access_log_chain_verify(rows, known_head=expected_head, archived_to=expected_archive)
        if report.broken is not None:
            where = f" pada baris id {report.broken_id}" if report.broken_id is not None else ""
            raise CommandError(
                f"Rantai log akses PUTUS{where}: {report.broken}. {report.checked} baris sebelumnya utuh.",
                returncode=1,
            )
        if report.head_seq is None:
            self.stdout.write(self.style.SUCCESS("Log akses kosong: 0 baris diperiksa. OK"))
            return
        lines = [
            f"{report.checked} baris diperiksa, rantai utuh dari seq {report.anchor_seq} sampai seq "
            f"{report.head_seq}. OK",
            f"Catat ujungnya di luar basis data: --known-head {report.head_seq}:{report.head_hash}",
        ]
        if report.archived_to is not None:
            seq, digest = report.archived_to
            lines.append(f"Baris sampai seq {seq} sudah diarsipkan; berikan lagi: --archived-to {seq}:{digest}")
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))


def _seq_hash(option: str, value: str) -> tuple[int, str]:
    seq, _, digest = value.strip().partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise CommandError(f"{option} harus SEQ:HASH, misalnya 1234:<64 karakter hex>.")
    return int(seq), digest.lower()
