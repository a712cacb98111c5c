"""registry/exports.py and the request-list export: formulas neutralised in both formats, numbers kept as
numbers, one access-log row per download, the scope and the list's filters respected, no full NIK anywhere."""

from __future__ import annotations

from decimal import Decimal

import pytest

from registry.exports import Column, csv_chunks, neutralise, xlsx_file
from registry.models import AccessLog
from tests.factories import CardRequestFactory, ResidentFactory
from tests.registry.exported import content_of, csv_rows, exported, xlsx_cells, xlsx_rows, xlsx_xml

HOSTILE = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1:A2)", "\tx", "\rx", "＝1+1"]


def test_neutralise_prefixes_every_formula_start_and_leaves_plain_text():
    assert [neutralise(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert neutralise("SITI AMINAH") == "SITI AMINAH"
    assert neutralise("a=b") == "a=b"


def _rows_and_columns():
    rows = [{"text": value, "number": -3, "amount": Decimal("2.50")} for value in HOSTILE]
    columns = [Column("Teks", lambda r: r["text"]), Column("Jumlah", lambda r: r["number"])]
    return rows, [*columns, Column("Nilai", lambda r: r["amount"])]


def test_csv_cells_are_neutralised_and_numbers_stay_numbers():
    rows, columns = _rows_and_columns()
    table = csv_rows("".join(csv_chunks(rows, columns)).encode("utf-8"))
    assert table[0] == ["Teks", "Jumlah", "Nilai"]
    assert [row[0] for row in table[1:]] == ["'" + v for v in HOSTILE]
    assert {row[1] for row in table[1:]} == {"-3"}  # a number, not text with an apostrophe
    assert {row[2] for row in table[1:]} == {"2,50"}


def test_xlsx_cells_are_text_never_formulas_and_numbers_stay_numbers():
    rows, columns = _rows_and_columns()
    data = xlsx_file(rows, columns, sheet_name="Uji").read()
    cells = xlsx_cells(data)
    assert not [value for value, kind in cells if kind == "f"]
    # XlsxWriter writes a carriage return as Excel's escape _x000D_ (which openpyxl leaves as it is).
    texts = [value.replace("_x000D_", "\r") for value, kind in cells if kind == "s"]
    assert set(texts) >= {"'" + v for v in HOSTILE}
    numbers = [value for value, kind in cells if kind == "n"]
    assert numbers.count(-3) == len(HOSTILE) and numbers.count(2.5) == len(HOSTILE)
    assert "<f>" not in xlsx_xml(data)


@pytest.fixture
def requests_a_and_b(clerk, frozen_now):
    """Two requests in kecamatan A (one incomplete, one with a hostile name) and one in B."""
    hostile = CardRequestFactory(resident=ResidentFactory(full_name="=cmd|' /C calc'!A0"), verifying=True)
    incomplete = CardRequestFactory(incomplete=True)
    other = CardRequestFactory(resident=ResidentFactory(desa_id="35.02.02.2001"), verifying=True)
    return hostile, incomplete, other


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_request_export_is_neutralised_masked_audited_once(client, clerk, requests_a_and_b, fmt):
    hostile, incomplete, other = requests_a_and_b
    client.force_login(clerk)

    response = client.get(f"/permohonan/ekspor.{fmt}", {"antrean": "semua"})

    assert response.status_code == 200
    data = content_of(response)
    table = csv_rows(data) if fmt == "csv" else xlsx_rows(data)
    numbers = {row[0] for row in table[1:]}
    assert numbers == {hostile.number, incomplete.number, other.number}
    names = {row[1] for row in table[1:]}
    assert "'=cmd|' /C calc'!A0" in names
    text = data.decode("utf-8-sig") if fmt == "csv" else xlsx_xml(data)
    for card_request in (hostile, incomplete, other):
        assert card_request.resident.nik not in text
        assert card_request.resident.masked_nik in text
    log = AccessLog.objects.get()
    assert (log.action, log.resident_id, log.user_id) == ("export", None, clerk.pk)
    assert "3 baris" in log.detail and fmt.upper() in log.detail and "Semua yang berjalan" in log.detail
    disposition = response["Content-Disposition"]
    assert f"permohonan-disdukcapil-kabupaten-ponorogo-2027-09-06.{fmt}" in disposition
    assert "cmd" not in disposition


def test_uptd_operator_exports_only_its_kecamatan(client, uptd_a, requests_a_and_b):
    hostile, incomplete, other = requests_a_and_b
    client.force_login(uptd_a)

    table = exported(client.get("/permohonan/ekspor.csv", {"antrean": "semua"}), "csv")

    assert {row[0] for row in table[1:]} == {hostile.number, incomplete.number}


def test_the_export_of_a_filtered_tab_has_exactly_its_rows(client, clerk, requests_a_and_b):
    hostile, incomplete, other = requests_a_and_b
    client.force_login(clerk)

    table = exported(client.get("/permohonan/ekspor.xlsx", {"antrean": "semua", "kecamatan": "35.02.01"}), "xlsx")
    assert {row[0] for row in table[1:]} == {hostile.number, incomplete.number}

    table = exported(client.get("/permohonan/ekspor.csv", {"antrean": "belum-lengkap"}), "csv")
    assert [row[0] for row in table[1:]] == [incomplete.number]
    details = list(AccessLog.objects.order_by("id").values_list("detail", flat=True))
    assert "Kecamatan: Slahung" in details[0] and "2 baris" in details[0]
    assert "Belum lengkap" in details[1] and "1 baris" in details[1]


def test_an_unknown_format_is_404_and_writes_no_audit_row(client, clerk, requests_a_and_b):
    client.force_login(clerk)
    assert client.get("/permohonan/ekspor.pdf").status_code == 404
    assert not AccessLog.objects.exists()
