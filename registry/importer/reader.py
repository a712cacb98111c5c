"""Open a SIAK export as a stream of rows: CSV (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252;
comma, semicolon or tab) or XLSX (first sheet, read-only streaming). Nothing holds the whole file."""

from __future__ import annotations

import codecs
import csv
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from messaging.system_text import system_text
from registry.importer.columns import HeaderError

_SCAN_CHUNK = 1 << 20
_DELIMITERS = (",", ";", "\t")


@dataclass
class Table:
    description: str  # "CSV, UTF-8, pemisah ';'"
    header: list[object]
    rows: Iterator[list[object]]
    rows_total: int | None  # an estimate good enough for a progress bar
    typed: bool = False  # cells are XLSX values (numbers, dates, None) rather than text
    may_hold_nul: bool = False  # a cell may contain U+0000


def _scan(path: str) -> tuple[str, int, bool]:
    """The encoding (UTF-8 if the whole file decodes as UTF-8, else Windows-1252), the line count, and
    whether a NUL byte occurs (PostgreSQL text cannot hold one, so such rows must be refused)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    lines = 0
    nul = False
    with open(path, "rb") as f:
        while chunk := f.read(_SCAN_CHUNK):
            lines += chunk.count(b"\n")
            nul = nul or b"\x00" in chunk
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    return ("utf-8" if utf8 else "cp1252"), lines, nul


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_table(path: str, head: bytes) -> Iterator[Table]:
    if head.startswith(codecs.BOM_UTF8):
        encoding, label = "utf-8-sig", "UTF-8 (BOM)"
        _enc, lines, nul = _scan(path)
        if _enc != "utf-8":
            raise HeaderError(
                _("Berkas ditandai UTF-8 tetapi berisi byte yang bukan UTF-8; simpan ulang sebagai UTF-8.")
            )
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, label, lines, nul = "utf-16", "UTF-16", max(os.path.getsize(path) // 200, 1), True
    else:
        encoding, lines, nul = _scan(path)
        label = "UTF-8" if encoding == "utf-8" else "Windows-1252"
    errors = "strict" if encoding.startswith("utf") else "replace"
    with open(path, encoding=encoding, errors=errors, newline="") as f:
        first = f.readline()
        delimiter = _delimiter(first)
        f.seek(0)
        reader = csv.reader(f, delimiter=delimiter)
        header = next(reader, None)
        if not header:
            raise HeaderError(_("Berkas kosong: tidak ada baris judul."))
        shown = {",": ",", ";": ";", "\t": "tab"}[delimiter]
        description = _("CSV, %(encoding)s, pemisah %(delimiter)s") % {"encoding": label, "delimiter": shown}
        yield Table(
            description=description,
            header=header,
            rows=_guarded(reader),
            rows_total=max(lines - 1, 0),
            may_hold_nul=nul,
        )


def _guarded(reader) -> Iterator[list[str]]:
    """The CSV rows; a file broken past repair (a NUL byte, undecodable UTF-16) stops the import before
    anything is merged, with the line where it broke."""
    try:
        yield from reader
    except (csv.Error, UnicodeDecodeError) as exc:
        raise HeaderError(
            system_text(
                gettext_noop("Berkas CSV rusak di sekitar baris %(line)d (%(error)s); tidak ada data yang disimpan."),
                line=reader.line_num + 1,
                error=type(exc).__name__,
            )
        ) from exc


def _xlsx_table(path: str) -> Iterator[Table]:
    import openpyxl  # imported here: the CSV path and the web process do not pay for it

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged zip or a workbook openpyxl cannot read
        raise HeaderError(
            system_text(gettext_noop("Berkas XLSX tidak bisa dibaca: %(error)s"), error=type(exc).__name__)
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if not header or not any(header):
            raise HeaderError(_("Lembar pertama kosong: tidak ada baris judul."))
        total = (sheet.max_row - 1) if sheet.max_row else None
        description = _("XLSX, lembar %(sheet)s") % {"sheet": sheet.title}
        yield Table(
            description=description, header=list(header), rows=(list(r) for r in rows), rows_total=total, typed=True
        )
    finally:
        workbook.close()


@contextmanager
def open_table(path: str) -> Iterator[Table]:
    """The header and a row iterator of the file at `path`; raises HeaderError for an unreadable file."""
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise HeaderError(_("Berkas kosong."))
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise HeaderError(_("Format XLS lama (Excel 97-2003) tidak didukung; simpan sebagai XLSX atau CSV."))
    tables = _xlsx_table(path) if head.startswith(b"PK\x03\x04") else _csv_table(path, head)
    try:
        yield next(tables)
    finally:
        tables.close()  # runs the generator's own finally/with: the file or workbook is closed
