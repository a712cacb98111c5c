"""Every staff export goes through here: rows read from a queryset iterator, streamed as CSV or written as XLSX
with flat memory, spreadsheet formulas neutralised, and one access-log row per download.

Choices, and why:

- **CSV** is UTF-8 with a BOM, `;` between fields and CRLF line ends. Excel only reads a CSV as UTF-8 when
  it starts with the BOM (names with accents, "Ö" in an office name). Excel splits a CSV on the list separator
  of Windows' regional settings, and with Indonesian regional settings (decimal comma) that is `;`: a
  comma-separated file opens as one column on an office PC set to Indonesian, while `;` opens in columns there
  (and LibreOffice asks). A `sep=;` first line would also tell Excel, but Excel then ignores the BOM, so it is
  not used. The resident importer (registry/importer/reader.py) detects `,`, `;` and tab and reads a BOM, so
  an export can be read back. Rows are written in chunks of about 32 KB to a StreamingHttpResponse: nothing
  but the current chunk is held.
- **XLSX** is written by XlsxWriter in `constant_memory` mode: each row goes to a temporary file as soon as
  the next one starts, and strings are written inline instead of into a shared-strings table (openpyxl's
  write-only mode still keeps every distinct string in memory, so its memory grows with the rows). The
  finished file is a temporary file sent by FileResponse, which closes (and so deletes) it. bench/export.py
  measures both formats at 1,000 and 100,000 rows.
- **Formulas**: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (or the
  full-width `＝＋－＠` some input methods type) gets a leading apostrophe in both formats, so a name or a
  note typed as `=HYPERLINK(...)` is shown, never run (OWASP "CSV injection"). XLSX cells are moreover written
  with `write_string`, never `write`, with XlsxWriter's string-to-formula/number/URL conversions off. Numbers
  stay numbers (a blank movement of -1 is the number -1, not text).
- **Audit**: the access-log row is written *before* the first byte leaves, so a download that fails half-way is
  still on record and none leaves unrecorded. It names what was exported, the format, the filters and the
  number of rows, counted with one COUNT(*) of the same queryset just before reading it (a row added in the
  second between the two is the only possible difference; an export is not a snapshot and says so nowhere).
  The resident is None: an export is about many.
- **Personal data**: exports carry the masked NIK only (`Resident.masked_nik`); a full-data export would need
  its own permission, and none exists. File names say what, which office and which day, never a person.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from django import forms
from django.db.models import Model, QuerySet
from django.http import FileResponse, Http404, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from messaging.system_text import SystemText, fit, system_text
from registry import clock
from registry.models import AccessLog, Office, Resident
from registry.web import access_log_record

FORMATS = ("csv", "xlsx")
CSV_DELIMITER = ";"
CHUNK_ROWS = 2000  # rows fetched per round trip by queryset.iterator()
_CSV_FLUSH_BYTES = 32 * 1024
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_DETAIL_MAX = 255  # AccessLog.detail
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    """One column of an export: its header (translated when the file is written) and how a row gives its
    value (a plain value: str, int, Decimal, date, datetime, bool or None)."""

    header: str | Promise
    value: Callable[[Any], object]


def neutralise(value: str) -> str:
    """A text cell that a spreadsheet shows as text and never evaluates."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _plain(value: object) -> object:
    """A cell's value reduced to str, int/float/Decimal, date or naive local datetime, or None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return _("ya") if value else _("tidak")
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value
    return neutralise(str(value))


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d-%m-%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    if isinstance(value, float | Decimal):
        return str(value).replace(".", ",")  # Indonesian decimal comma, as the `;` separator implies
    return str(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(rows: Iterable[Any], columns: Sequence[Column]) -> Iterator[str]:
    """The CSV text in chunks of about 32 KB: the BOM and header first, then the rows as they are read."""
    writer = csv.writer(_Echo(), delimiter=CSV_DELIMITER, lineterminator="\r\n")
    buffer = io.StringIO()
    buffer.write(codecs.BOM_UTF8.decode("utf-8"))
    buffer.write(writer.writerow([neutralise(str(column.header)) for column in columns]))
    for row in rows:
        buffer.write(writer.writerow([_csv_text(_plain(column.value(row))) for column in columns]))
        if buffer.tell() >= _CSV_FLUSH_BYTES:
            yield buffer.getvalue()
            buffer = io.StringIO()
    yield buffer.getvalue()


def xlsx_file(rows: Iterable[Any], columns: Sequence[Column], *, sheet_name: str) -> io.BufferedRandom:
    """The workbook in a temporary file, positioned at its start (XlsxWriter constant_memory: flat memory)."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes (and so deletes) it
    workbook = xlsxwriter.Workbook(
        handle,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "default_date_format": "dd-mm-yyyy",
        },
    )
    bold = workbook.add_format({"bold": True})
    day_format = workbook.add_format({"num_format": "dd-mm-yyyy"})
    time_format = workbook.add_format({"num_format": "dd-mm-yyyy hh:mm"})
    # Excel refuses sheet names over 31 characters or with []:*?/\.
    sheet = workbook.add_worksheet("".join(c for c in sheet_name if c not in "[]:*?/\\")[:31] or "Data")
    for col, column in enumerate(columns):
        sheet.write_string(0, col, neutralise(str(column.header)), bold)
    sheet.freeze_panes(1, 0)
    for number, row in enumerate(rows, start=1):
        for col, column in enumerate(columns):
            value = _plain(column.value(row))
            if value is None:
                continue
            if isinstance(value, int | float | Decimal):
                sheet.write_number(number, col, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(number, col, value, time_format)
            elif isinstance(value, date):
                sheet.write_datetime(number, col, value, day_format)
            else:
                sheet.write_string(number, col, value)
    workbook.close()
    handle.seek(0)
    return handle


def describe_filters(form: forms.Form) -> dict[str, str]:
    """The filters of a validated form that are set, as label → shown value, for the access-log row: choices
    by their label, dates as DD-MM-YYYY, a resident by the masked NIK only, any other record by its name."""
    described = {}
    cleaned = getattr(form, "cleaned_data", None) or {}
    for name, field in form.fields.items():
        value = cleaned.get(name)
        if value in (None, "", [], ()):
            continue
        if isinstance(value, Resident):
            shown = value.masked_nik
        elif isinstance(value, datetime | date):
            shown = value.strftime("%d-%m-%Y")
        elif isinstance(value, Model):
            shown = str(getattr(value, "name", None) or getattr(value, "username", None) or value.pk)
        elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            shown = str(dict(field.choices).get(value, value))
        else:
            shown = str(value)
        described[str(field.label or name)] = shown
    return described


def _detail(*, what: str, fmt: str, count: int, filters: Mapping[str, str]) -> SystemText:
    """A system text (messaging/system_text.py): the sentence is shown in the reader's language, and `what` too
    (a system text or a lazy translation); the filters as they were described. Fitted to the column by
    shortening them."""
    shown = "; ".join(f"{label}: {value}" for label, value in filters.items())
    detail = system_text(
        gettext_noop("Ekspor %(what)s (%(fmt)s), %(count)d baris; %(filters)s"),
        what=what,
        fmt=fmt.upper(),
        count=count,
        filters=shown or system_text(gettext_noop("tanpa filter")),
    )
    return fit(detail, _DETAIL_MAX)


def file_name(*, slug: str, office: Office | None, fmt: str, day: date | None = None) -> str:
    """what-office-date.fmt: no personal data, only ASCII (a header that every browser reads the same)."""
    office_part = slugify(office.name) if office is not None else ""
    day = day or clock.today(office)
    parts = [slugify(slug), office_part, day.strftime("%Y-%m-%d")]
    return "-".join(part for part in parts if part) + f".{fmt}"


def export_response(
    request: HttpRequest,
    *,
    fmt: str,
    rows: QuerySet | Sequence[Any],
    columns: Sequence[Column],
    what: str,
    slug: str,
    office: Office | None,
    filters: Mapping[str, str] | None = None,
    day: date | None = None,
    wrap: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> HttpResponseBase:
    """The export as a download. Invariant: one AccessLog row (EXPORT, no resident) is written before any row
    leaves, naming what, the format, the filters and the row count; an unknown format is a 404 and writes
    nothing. `wrap` turns the rows as read into what the columns read (a running balance, a position), lazily."""
    if fmt not in FORMATS:
        raise Http404
    if isinstance(rows, QuerySet):
        count = rows.count()
        iterated: Iterable[Any] = rows.iterator(chunk_size=CHUNK_ROWS)
    else:
        count, iterated = len(rows), rows
    if wrap is not None:
        iterated = wrap(iterated)
    access_log_record(
        request, action=AccessLog.Action.EXPORT, detail=_detail(what=what, fmt=fmt, count=count, filters=filters or {})
    )
    name = file_name(slug=slug, office=office, fmt=fmt, day=day)
    if fmt == "csv":
        response: HttpResponseBase = StreamingHttpResponse(
            csv_chunks(iterated, columns), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        response = FileResponse(
            xlsx_file(iterated, columns, sheet_name=what),
            as_attachment=True,
            filename=name,
            content_type=XLSX_CONTENT_TYPE,
        )
    response["Cache-Control"] = "private, no-store"
    response["X-Export-Rows"] = str(count)
    return response
