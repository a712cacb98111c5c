"""Resident import: formats, row validation, upsert semantics, history, duplicates, cancel (on PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest

from registry.importer.engine import import_residents
from registry.importer.sample import export_write
from registry.models import Family, ImportRowError, Resident, ResidentChange, ResidentImport
from registry.nik import make_kk, make_nik
from tests.conftest import DESA_A, DESA_B, KEC_A

HEADER = ["NIK", "NO_KK", "NAMA_LGKP", "TMPT_LHR", "TGL_LHR", "JENIS_KLMIN", "AGAMA", "ALAMAT", "NO_RT", "NO_RW"]
HEADER += ["KODE_DESA", "STAT_HBKEL", "NO_HP"]


def nik(serial: int, *, sex: str = "L", born: date = date(1990, 3, 12)) -> str:
    return make_nik(kecamatan_code=KEC_A, birth_date=born, sex=sex, serial=serial)


def kk(serial: int) -> str:
    return make_kk(kecamatan_code=KEC_A, registered_on=date(2015, 6, 1), serial=serial)


def person(serial: int, **overrides) -> dict[str, str]:
    sex = overrides.pop("sex", "L")
    born = overrides.pop("born", date(1990, 3, 12))
    row = {
        "NIK": nik(serial, sex=sex, born=born),
        "NO_KK": kk(serial),
        "NAMA_LGKP": f"WARGA NOMOR {serial}",
        "TMPT_LHR": "PONOROGO",
        "TGL_LHR": f"{born:%d-%m-%Y}",
        "JENIS_KLMIN": "LAKI-LAKI" if sex == "L" else "PEREMPUAN",
        "AGAMA": "ISLAM",
        "ALAMAT": "JL. SUKARNO HATTA",
        "NO_RT": "1",
        "NO_RW": "2",
        "KODE_DESA": DESA_A,
        "STAT_HBKEL": "KEPALA KELUARGA",
        "NO_HP": "",
    }
    row.update(overrides)
    return row


def csv_text(rows: list[dict[str, str]], *, header=HEADER, delimiter=",") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, delimiter=delimiter, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture
def run(tmp_path, ponorogo, supervisor):
    """Import `content` (text, encoded with `encoding`, or bytes) as the supervisor; returns the finished job."""

    def run(content, *, encoding="utf-8", name="siak.csv", **options):
        path = tmp_path / name
        if isinstance(content, str):
            content = content.encode(encoding)
        path.write_bytes(content)
        job = ResidentImport.objects.create(office=supervisor.office, created_by=supervisor, file_name=name)
        return import_residents(job, str(path), **options)

    return run


def errors_of(job) -> list[tuple[int, str, str, str]]:
    return list(job.row_errors.order_by("row_number", "id").values_list("row_number", "column_name", "value", "reason"))


def test_generated_export_imports_every_resident_and_family(run, tmp_path):
    with open(tmp_path / "gen.csv", "w", encoding="utf-8", newline="") as f:
        written = export_write(f, count=60, seed=7)
    job = run((tmp_path / "gen.csv").read_bytes())
    assert job.status == ResidentImport.Status.DONE, job.message
    assert (job.rows_read, job.rows_inserted, job.rows_refused) == (written, written, 0)
    assert Resident.objects.count() == written
    families = Family.objects.count()
    assert job.families_created == families > 0
    # Every family got its head and every resident its family.
    assert not Family.objects.filter(head__isnull=True).exists()
    assert not Resident.objects.filter(family__isnull=True).exists()
    assert job.percent == 100
    assert job.file_sha256 and len(job.file_sha256) == 64


def test_chunks_of_one_row_merge_every_row(run):
    # Every chunk-th NIK starts a chunk: with chunks of one, every NIK does (n % 1 never equals 1).
    job = run(csv_text([person(1), person(2), person(3)]), merge_rows=1, bulk_min_rows=10**9)
    assert job.status == ResidentImport.Status.DONE, job.message
    assert (job.rows_inserted, Resident.objects.count()) == (3, 3)


def test_same_file_twice_changes_nothing(run):
    content = csv_text([person(1), person(2, NO_HP="0812-3456-7890")])
    first = run(content)
    stamps = dict(Resident.objects.values_list("nik", "updated_at"))
    second = run(content)
    assert (first.rows_inserted, second.rows_inserted, second.rows_updated, second.rows_unchanged) == (2, 0, 0, 2)
    assert second.families_created == 0
    assert dict(Resident.objects.values_list("nik", "updated_at")) == stamps
    assert not ResidentChange.objects.exists()


def test_reimport_with_one_changed_field_updates_and_records_history(run):
    run(csv_text([person(1), person(2)]))
    changed = run(csv_text([person(1), person(2, NAMA_LGKP="WARGA BERGANTI NAMA", NO_RT="7")]))
    assert (changed.rows_updated, changed.rows_unchanged, changed.rows_inserted) == (1, 1, 0)
    resident = Resident.objects.get(nik=nik(2))
    assert (resident.full_name, resident.rt) == ("WARGA BERGANTI NAMA", "007")
    (change,) = ResidentChange.objects.all()
    assert change.resident == resident and change.resident_import == changed
    assert change.changes == {"full_name": ["WARGA NOMOR 2", "WARGA BERGANTI NAMA"], "rt": ["001", "007"]}


def test_moving_to_another_family_is_recorded_by_kk_number(run):
    run(csv_text([person(1), person(2)]))
    run(csv_text([person(1), person(2, NO_KK=kk(1), STAT_HBKEL="ANAK")]))
    resident = Resident.objects.get(nik=nik(2))
    assert resident.family.kk_number == kk(1)
    change = ResidentChange.objects.get(resident=resident)
    assert change.changes["kk_number"] == [kk(2), kk(1)]
    assert change.changes["relation_to_head"] == ["kepala", "anak"]


@pytest.mark.parametrize(
    ("encoding", "delimiter", "described"),
    [
        ("utf-8", ",", "UTF-8"),
        ("utf-8-sig", ";", "UTF-8 (BOM)"),
        ("cp1252", "\t", "Windows-1252"),
        ("cp1252", ";", "Windows-1252"),
        ("utf-16", "\t", "UTF-16"),
    ],
)
def test_encodings_and_separators(run, encoding, delimiter, described):
    rows = [person(1, NAMA_LGKP="ANDRÉ JOSÉ"), person(2, ALAMAT="GG. MAWAR; RT 1, RW 2")]
    job = run(csv_text(rows, delimiter=delimiter), encoding=encoding)
    assert job.status == ResidentImport.Status.DONE, job.message
    assert described in job.file_format
    assert job.rows_inserted == 2, errors_of(job)
    assert Resident.objects.get(nik=nik(1)).full_name == "ANDRÉ JOSÉ"
    assert Resident.objects.get(nik=nik(2)).address == "GG. MAWAR; RT 1, RW 2"


def test_header_aliases_are_recognised(run):
    header = ["Nomor NIK", "No. KK", "Nama Lengkap", "Tempat Lahir", "Tanggal Lahir", "Jenis Kelamin", "Kode Desa"]
    rows = [[nik(1), kk(1), "ALIAS", "MADIUN", "1990-03-12", "L", DESA_A]]
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    job = run(out.getvalue())
    assert job.rows_inserted == 1, (job.message, errors_of(job))
    assert Resident.objects.get(nik=nik(1)).birth_place == "MADIUN"


def test_missing_required_column_fails_the_file_and_changes_nothing(run):
    header = [h for h in HEADER if h != "TGL_LHR"]
    job = run(csv_text([person(1)], header=header))
    assert job.status == ResidentImport.Status.FAILED
    assert "TGL_LHR" in job.message and "Kolom wajib tidak ditemukan" in job.message
    assert not Resident.objects.exists() and not Family.objects.exists()


def test_extra_columns_are_listed_and_ignored(run):
    header = [*HEADER, "GOL_DARAH", "PEKERJAAN"]
    job = run(csv_text([person(1, GOL_DARAH="O", PEKERJAAN="PETANI")], header=header))
    assert job.rows_inserted == 1
    assert job.ignored_columns == ["GOL_DARAH", "PEKERJAAN"]


def test_absent_optional_column_does_not_erase_what_is_stored(run):
    run(csv_text([person(1, NO_HP="081234567890", AGAMA="KRISTEN")]))
    header = [h for h in HEADER if h not in ("NO_HP", "AGAMA")]
    job = run(csv_text([person(1, NAMA_LGKP="NAMA BARU")], header=header))
    assert job.rows_updated == 1
    resident = Resident.objects.get(nik=nik(1))
    assert (resident.full_name, resident.whatsapp, resident.religion) == ("NAMA BARU", "6281234567890", "kristen")


def test_bad_rows_are_reported_with_row_column_value_and_reason(run):
    rows = [
        person(1),
        person(2, NIK="35020112039"),  # 11 digits
        person(3, NO_KK="3502011506150000"),  # serial 0000
        person(4, TGL_LHR="31-02-1990"),
        person(5, TGL_LHR="1990/03/12"),
        person(6, KODE_DESA="35.02.99.2001"),
        person(7, JENIS_KLMIN="X", AGAMA="JEDI"),
        person(8, NO_HP="021-5551234"),
        person(9),
    ]
    job = run(csv_text(rows))
    assert (job.rows_read, job.rows_inserted, job.rows_refused) == (9, 2, 7)
    errors = errors_of(job)
    by_row = {}
    for row_number, column, value, reason in errors:
        by_row.setdefault(row_number, []).append((column, value, reason))
    assert [c for c, _v, _r in by_row[3]] == ["NIK"] and "16 digit" in by_row[3][0][2]
    assert by_row[4][0][:2] == ("NO_KK", "3502011506150000") and "0000" in by_row[4][0][2]
    assert by_row[5][0][:2] == ("TGL_LHR", "31-02-1990") and "kalender" in by_row[5][0][2]
    assert "format tanggal" in by_row[6][0][2]
    assert by_row[7][0][0] == "KODE_DESA" and "tidak dikenal" in by_row[7][0][2]
    assert {c for c, _v, _r in by_row[8]} == {"JENIS_KLMIN", "AGAMA"}
    assert by_row[9][0][0] == "NO_HP" and "ponsel" in by_row[9][0][2]
    assert set(Resident.objects.values_list("nik", flat=True)) == {nik(1), nik(9)}


def test_a_refused_row_leaves_no_trace(run):
    """Its KK is valid and new, but the NIK is not: no family, no resident, no history."""
    job = run(csv_text([person(1, NIK="3502010000000001", NO_KK=kk(50))]))
    assert job.rows_refused == 1
    assert not Resident.objects.exists()
    assert not Family.objects.filter(kk_number=kk(50)).exists()
    assert not ResidentChange.objects.exists()


def test_duplicate_nik_in_one_file_refuses_every_occurrence(run):
    rows = [person(1), person(2), person(1, NAMA_LGKP="ORANG LAIN"), person(3)]
    job = run(csv_text(rows))
    assert (job.rows_inserted, job.rows_refused) == (2, 2)
    dup = [e for e in errors_of(job) if "ganda" in e[3]]
    assert [e[0] for e in dup] == [2, 4]
    assert "pertama di baris 2" in dup[0][3] and "2 baris" in dup[0][3]
    assert not Resident.objects.filter(nik=nik(1)).exists()


def test_desa_by_name_and_by_siak_parts(run):
    header = ["NIK", "NAMA_LGKP", "TGL_LHR", "JENIS_KLMIN", "NAMA_KEC", "NAMA_KEL"]
    from registry.models import Region

    desa_a, desa_b = Region.objects.get(code=DESA_A), Region.objects.get(code=DESA_B)
    rows = [
        {"NIK": nik(1), "NAMA_LGKP": "A", "TGL_LHR": "12-03-1990", "JENIS_KLMIN": "L"}
        | {"NAMA_KEC": desa_a.parent.name.lower(), "NAMA_KEL": desa_a.name},
        {"NIK": nik(2), "NAMA_LGKP": "B", "TGL_LHR": "12-03-1990", "JENIS_KLMIN": "L"}
        | {"NAMA_KEC": desa_b.parent.name, "NAMA_KEL": "DESA YANG TIDAK ADA"},
    ]
    job = run(csv_text(rows, header=header))
    assert job.rows_inserted == 1
    assert Resident.objects.get(nik=nik(1)).desa_id == DESA_A
    assert "tidak ditemukan" in errors_of(job)[0][3]

    parts = ["NIK", "NAMA_LGKP", "TGL_LHR", "JENIS_KLMIN", "NO_PROP", "NO_KAB", "NO_KEC", "NO_KEL"]
    row = {"NIK": nik(3), "NAMA_LGKP": "C", "TGL_LHR": "12-03-1990", "JENIS_KLMIN": "1"}
    row |= {"NO_PROP": "35", "NO_KAB": "2", "NO_KEC": "2", "NO_KEL": "2001"}
    assert run(csv_text([row], header=parts)).rows_inserted == 1
    assert Resident.objects.get(nik=nik(3)).kecamatan_id == "35.02.02"


def test_xlsx_with_date_cells_and_a_nik_stored_as_a_number(run, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    good = person(1)
    sheet.append([good[h] if h != "TGL_LHR" else datetime(1990, 3, 12) for h in HEADER])
    mangled = person(2, NIK=9_101_015_205_850_002)  # a Papua NIK above 2**53: Excel rounds it
    sheet.append([mangled[h] for h in HEADER])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = run(buffer.getvalue(), name="siak.xlsx")
    assert job.status == ResidentImport.Status.DONE, job.message
    assert job.file_format.startswith("XLSX")
    assert job.rows_inserted == 1
    assert Resident.objects.get(nik=nik(1)).birth_date == date(1990, 3, 12)
    (error,) = errors_of(job)
    assert error[1] == "NIK" and "sebagai teks" in error[3]


def test_old_xls_and_empty_files_are_refused_with_a_message(run):
    assert "XLS lama" in run(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", name="a.xls").message
    assert run(b"", name="empty.csv").status == ResidentImport.Status.FAILED


def test_cancel_half_way_leaves_whole_chunks_merged(run, tmp_path):
    with open(tmp_path / "gen.csv", "w", encoding="utf-8", newline="") as f:
        written = export_write(f, count=300, seed=3)

    def cancel_after_first_chunk(job):
        if job.phase == ResidentImport.Phase.MERGING and job.rows_merged:
            ResidentImport.objects.filter(pk=job.pk).update(cancel_requested=True)

    job = run((tmp_path / "gen.csv").read_bytes(), merge_rows=100, block_rows=70, on_progress=cancel_after_first_chunk)
    assert job.status == ResidentImport.Status.CANCELLED
    assert 0 < job.rows_merged < written
    # What was merged is whole: the counters match the tables and every merged resident has its family.
    assert Resident.objects.count() == job.rows_inserted == job.rows_merged
    assert not Resident.objects.filter(family__isnull=True).exists()
    assert Family.objects.count() == job.families_created
    # Running the file again completes the rest and touches nothing already there.
    again = run((tmp_path / "gen.csv").read_bytes())
    assert (again.rows_unchanged, again.rows_inserted) == (job.rows_merged, written - job.rows_merged)
    assert not Family.objects.filter(head__isnull=True).exists()


def test_progress_is_reported_per_block(run, tmp_path):
    with open(tmp_path / "gen.csv", "w", encoding="utf-8", newline="") as f:
        export_write(f, count=50, seed=1)
    seen = []
    run((tmp_path / "gen.csv").read_bytes(), block_rows=20, on_progress=lambda j: seen.append((j.phase, j.rows_read)))
    reads = [n for phase, n in seen if phase == ResidentImport.Phase.READING]
    assert reads[-3:] == [20, 40, 50]
    assert seen[-1][0] == ResidentImport.Phase.FINISHED


def test_row_errors_of_a_rerun_job_are_not_doubled(run, tmp_path, supervisor):
    path = tmp_path / "bad.csv"
    path.write_text(csv_text([person(1, NIK="1")]))
    job = ResidentImport.objects.create(office=supervisor.office, created_by=supervisor, file_name="bad.csv")
    import_residents(job, str(path))
    import_residents(job, str(path))  # a redelivered task
    assert ImportRowError.objects.filter(resident_import=job).count() == 1


def _structures():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
               WHERE indrelid IN ('registry_resident'::regclass, 'registry_family'::regclass)
               UNION ALL
               SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
               WHERE conrelid IN ('registry_resident'::regclass, 'registry_family'::regclass)
               ORDER BY 1, 2"""
        )
        return cursor.fetchall()


@pytest.mark.postgres_only  # the bulk path (COPY, dropped and rebuilt indexes) is PostgreSQL's
def test_bulk_first_load_rebuilds_every_index_and_constraint(run, tmp_path):
    before = _structures()
    assert any("gin_trgm_ops" in definition for _name, definition in before)
    with open(tmp_path / "gen.csv", "w", encoding="utf-8", newline="") as f:
        written = export_write(f, count=120, seed=5)
    job = run((tmp_path / "gen.csv").read_bytes(), bulk_min_rows=50)
    assert job.status == ResidentImport.Status.DONE, job.message
    assert job.rows_inserted == written == Resident.objects.count()
    assert _structures() == before
    assert not Family.objects.filter(head__isnull=True).exists()
    # Not taken when the table already holds more residents than the file brings new.
    again = run(csv_text([person(1)]), bulk_min_rows=1)
    assert again.rows_inserted == 1 and _structures() == before


def test_the_column_reference_in_docs_lists_every_column_and_alias():
    from pathlib import Path

    from registry.importer.columns import COLUMNS

    text = (Path(__file__).resolve().parents[2] / "docs" / "import-format.md").read_text(encoding="utf-8")
    for column in COLUMNS:
        for alias in column.aliases:
            assert f"`{alias}`" in text, alias


def test_the_sample_file_imports_cleanly(run):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "docs" / "samples" / "contoh-ekspor-siak.csv"
    job = run(sample.read_bytes())
    assert job.status == ResidentImport.Status.DONE and job.rows_refused == 0 and job.rows_inserted == 25


def test_phone_checker_agrees_with_lokal_on_every_shape():
    import lokal

    from registry.importer.columns import PhoneChecker

    numbers = ["081234567890", "081234567891", "6281234567890", "6281234567899", "81234567890", "0215551234"]
    numbers += ["0215551235", "0812", "08123", "0812345678901234", "0812-3456-7890", "+6281234567890", "0890123456"]
    numbers += ["0890123457", "12345678", "12345679", "08١٢٣٤٥٦٧٨٩٠"]
    checker = PhoneChecker()
    for text in numbers * 2:  # the second round answers from the shape cache
        info = lokal.parse_phone(text)
        expected = info.whatsapp if info.valid and info.type == "mobile" else ""
        whatsapp, reason = checker.check(text)
        assert whatsapp == expected, text
        assert (reason is None) == bool(expected), text


def test_a_nul_character_refuses_its_row_only(run):
    content = csv_text([person(1), person(2, NAMA_LGKP="ROSAK\x00NAMA"), person(3)]).encode()
    job = run(content)
    assert (job.status, job.rows_inserted, job.rows_refused) == ("done", 2, 1)
    ((row, column, value, reason),) = errors_of(job)
    assert (row, column, value) == (3, "NAMA_LGKP", "ROSAK\\x00NAMA") and "NUL" in reason


def test_a_csv_broken_past_repair_stops_before_anything_is_merged(run):
    content = csv_text([person(1), person(2, ALAMAT="X" * 200_000), person(3)])
    job = run(content)
    assert job.status == ResidentImport.Status.FAILED
    assert "rusak di sekitar baris" in job.message
    assert not Resident.objects.exists()


# -- marital status (STAT_KWN) and recording status (STAT_REKAM) -------------------------------------------

WITH_STATUS = [*HEADER, "STAT_KWN", "STAT_REKAM"]


def test_marital_status_as_text_or_siak_code_in_any_case_and_spacing(run):
    values = ["belum kawin", " Kawin ", "CERAI  HIDUP", "4", "KAWIN BELUM TERCATAT", "1", ""]
    job = run(csv_text([person(i, STAT_KWN=v) for i, v in enumerate(values, start=1)], header=WITH_STATUS))
    assert (job.rows_inserted, job.rows_refused) == (7, 0), errors_of(job)
    stored = dict(Resident.objects.values_list("nik", "marital_status"))
    expected = ["belum_kawin", "kawin", "cerai_hidup", "cerai_mati", "kawin", "belum_kawin", ""]
    assert [stored[nik(i)] for i in range(1, 8)] == expected


@pytest.mark.parametrize(
    ("text", "recorded"),
    [
        ("SUDAH REKAM", True),
        ("belum rekam", False),
        ("Sudah", True),
        ("BELUM", False),
        ("Y", True),
        ("n", False),
        ("1", True),
        ("0", False),
        ("PRR", True),
    ],
)
def test_recording_status_values(run, text, recorded):
    job = run(csv_text([person(1, STAT_REKAM=text)], header=WITH_STATUS))
    assert job.rows_inserted == 1, errors_of(job)
    assert Resident.objects.get(nik=nik(1)).biometric_recorded is recorded


def test_unknown_marital_or_recording_status_refuses_the_row_with_a_reason(run):
    rows = [person(1, STAT_KWN="JANDA"), person(2, STAT_REKAM="DUPLICATE RECORD"), person(3, STAT_KWN="5")]
    job = run(csv_text(rows, header=WITH_STATUS))
    assert (job.rows_inserted, job.rows_refused) == (0, 3)
    errors = errors_of(job)
    assert [(row, column, value) for row, column, value, _reason in errors] == [
        (2, "STAT_KWN", "JANDA"),
        (3, "STAT_REKAM", "DUPLICATE RECORD"),
        (4, "STAT_KWN", "5"),
    ]
    assert "status perkawinan tidak dikenal" in errors[0][3]
    assert "status perekaman tidak dikenal" in errors[1][3]


def test_status_header_aliases_are_recognised(run):
    header = [*HEADER, "Status Perkawinan", "Rekam KTP-el"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    row = person(1)
    writer.writerow([*(row[h] for h in HEADER), "CERAI MATI", "SUDAH REKAM"])
    job = run(out.getvalue())
    assert job.rows_inserted == 1 and job.ignored_columns == [], errors_of(job)
    resident = Resident.objects.get(nik=nik(1))
    assert (resident.marital_status, resident.biometric_recorded) == ("cerai_mati", True)


def test_changed_statuses_are_updated_with_history_and_the_same_file_again_changes_nothing(run):
    run(csv_text([person(1, STAT_KWN="BELUM KAWIN", STAT_REKAM="BELUM REKAM"), person(2)], header=WITH_STATUS))
    content = csv_text([person(1, STAT_KWN="KAWIN", STAT_REKAM="PRR"), person(2)], header=WITH_STATUS)
    changed = run(content)
    assert (changed.rows_updated, changed.rows_unchanged) == (1, 1)
    resident = Resident.objects.get(nik=nik(1))
    assert (resident.marital_status, resident.biometric_recorded) == ("kawin", True)
    (change,) = ResidentChange.objects.all()
    assert change.changes == {"marital_status": ["belum_kawin", "kawin"], "biometric_recorded": [False, True]}
    stamps = dict(Resident.objects.values_list("nik", "updated_at"))
    again = run(content)
    assert (again.rows_updated, again.rows_unchanged) == (0, 2)
    assert dict(Resident.objects.values_list("nik", "updated_at")) == stamps
    assert ResidentChange.objects.count() == 1


def test_a_file_without_the_recording_column_keeps_the_recorded_flag(run):
    run(csv_text([person(1, STAT_REKAM="SUDAH REKAM"), person(2, STAT_REKAM="SUDAH REKAM")], header=WITH_STATUS))
    job = run(csv_text([person(1), person(2, NAMA_LGKP="NAMA BARU"), person(3)]))
    assert (job.rows_inserted, job.rows_updated, job.rows_unchanged) == (1, 1, 1)
    recorded = dict(Resident.objects.values_list("nik", "biometric_recorded"))
    assert recorded == {nik(1): True, nik(2): True, nik(3): False}
    assert ResidentChange.objects.get().changes == {"full_name": ["WARGA NOMOR 2", "NAMA BARU"]}


def test_an_empty_recording_cell_keeps_the_stored_flag_and_a_new_resident_starts_unrecorded(run):
    run(csv_text([person(1, STAT_REKAM="SUDAH REKAM")], header=WITH_STATUS))
    job = run(csv_text([person(1, STAT_REKAM=""), person(2, STAT_REKAM="")], header=WITH_STATUS))
    assert (job.rows_inserted, job.rows_unchanged) == (1, 1)
    recorded = dict(Resident.objects.values_list("nik", "biometric_recorded"))
    assert recorded == {nik(1): True, nik(2): False}
    assert not ResidentChange.objects.exists()


def test_a_file_without_the_marital_column_keeps_the_marital_status(run):
    run(csv_text([person(1, STAT_KWN="CERAI HIDUP")], header=WITH_STATUS))
    job = run(csv_text([person(1, NO_RT="9")]))
    assert job.rows_updated == 1
    assert Resident.objects.get(nik=nik(1)).marital_status == "cerai_hidup"


def test_the_generated_export_carries_both_statuses(run, tmp_path):
    with open(tmp_path / "gen.csv", "w", encoding="utf-8", newline="") as f:
        written = export_write(f, count=40, seed=11)
    job = run((tmp_path / "gen.csv").read_bytes())
    assert job.rows_inserted == written, errors_of(job)
    statuses = set(Resident.objects.values_list("marital_status", flat=True))
    assert {"kawin", "belum_kawin"} <= statuses and "" not in statuses
    assert Resident.objects.filter(biometric_recorded=True).exists()
    assert Resident.objects.filter(biometric_recorded=False).exists()
