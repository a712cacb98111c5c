"""The refused rows of an import as a spreadsheet (CSV or XLSX) for the supervisor to fix and re-import.

Cells that a spreadsheet would run as a formula (starting with = + - @, or a tab/carriage return) get a
leading apostrophe, so a crafted value in a SIAK export cannot execute when the report is opened.
"""

from __future__ import annotations

import codecs
import csv
import tempfile
from collections.abc import Iterator

from django.utils.translation import gettext as _

from registry.models import ImportRowError, ResidentImport

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A cell value that spreadsheets show as text, never evaluate."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def report_header() -> list[str]:
    return [_("Baris"), _("Kolom"), _("Isi"), _("Alasan")]


def report_rows(job: ResidentImport) -> Iterator[list[object]]:
    rows = (
        ImportRowError.objects.filter(resident_import=job)
        .order_by("row_number", "id")
        .values_list("row_number", "column_name", "value", "reason")
    )
    for row in rows.iterator(chunk_size=5000):
        yield [neutralise(v) for v in row]


class _Echo:
    def write(self, value: str) -> str:
        return value


def report_csv_chunks(job: ResidentImport) -> Iterator[str]:
    """The report as CSV text, streamed: a UTF-8 BOM (so Excel reads it as UTF-8), then one line per row."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield codecs.BOM_UTF8.decode("utf-8")
    yield writer.writerow(report_header())
    for row in report_rows(job):
        yield writer.writerow(row)


def report_xlsx_file(job: ResidentImport):
    """The report as an XLSX workbook in a temporary file (write-only mode: memory stays flat)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Baris ditolak"))
    sheet.append(report_header())
    for row in report_rows(job):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never "f", whatever the text looks like
            cells.append(cell)
        sheet.append(cells)
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    workbook.save(handle)
    handle.seek(0)
    return handle
