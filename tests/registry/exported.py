"""Reading an export back in tests: the CSV's rows (BOM, `;`) and the XLSX's cells with their types."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "a UTF-8 BOM, for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def xlsx_rows(data: bytes) -> list[list[object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def xlsx_cells(data: bytes) -> list[tuple[object, str]]:
    """Every cell as (value, openpyxl data type: s text, n number, d date, f formula)."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return [(cell.value, cell.data_type) for row in sheet.iter_rows() for cell in row if cell.value is not None]


def xlsx_xml(data: bytes) -> str:
    """The workbook's XML parts as one text (to look for a value anywhere, shared strings or inline)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith(".xml"))


def exported(response, fmt: str) -> list[list[object]]:
    data = content_of(response)
    return csv_rows(data) if fmt == "csv" else xlsx_rows(data)
