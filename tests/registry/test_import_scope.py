"""An import creates or changes residents and families only inside the importing office's region.

A Ponorogo (35.02) supervisor's file that names a Pacitan (35.01) resident by NIK, a Pacitan family by KK, or
a Pacitan desa is refused row by row, with the reason in the error report; the Pacitan records stay exactly
as they were, and the file's other rows still import. The reason is one generic text whatever lies outside
(the report is no register of who lives elsewhere), and each import that refused rows so leaves one AccessLog
LOOKUP row on its uploader.
"""

from __future__ import annotations

import pytest

from registry.importer.engine import import_residents, outside_reason
from registry.importer.report import report_rows
from registry.models import AccessLog, Family, Office, Resident, ResidentChange, ResidentImport
from registry.offices import offices_create_for_kabupaten
from registry.regions import region_codes, regions_load
from registry.signals import residents_moved
from tests.conftest import DESA_A, DESA_B, KEC_A, KEC_B
from tests.factories import FamilyFactory, ResidentFactory
from tests.registry.test_import import csv_text, kk, nik, person

PACITAN_DESA = "35.01.01.2001"  # Widoro, Kecamatan Donorojo, Kabupaten Pacitan
OUTSIDE = "di luar wilayah kantor Anda"


@pytest.fixture
def pacitan(ponorogo):
    """Kabupaten Pacitan's regions and offices beside Ponorogo's, and one of its residents with a family."""
    regions_load(within="35.01")
    region_codes.cache_clear()
    offices_create_for_kabupaten(kabupaten_code="35.01")
    family = FamilyFactory(desa_id=PACITAN_DESA, address="DUSUN KRAJAN PACITAN", rt="004", rw="001")
    resident = ResidentFactory(
        desa_id=PACITAN_DESA,
        full_name="SRI WAHYUNI",
        address="DUSUN KRAJAN PACITAN",
        whatsapp="6281234500001",
        family=family,
    )
    family.head = resident
    family.save(update_fields=["head"])
    yield resident
    region_codes.cache_clear()


@pytest.fixture
def run_as(tmp_path):
    """Import `content` for `office` (its region is the import's scope); returns the finished job."""

    def run_as(office: Office, content: str, *, by=None, **options) -> ResidentImport:
        path = tmp_path / "siak.csv"
        path.write_text(content, encoding="utf-8")
        job = ResidentImport.objects.create(office=office, created_by=by, file_name="siak.csv")
        return import_residents(job, str(path), **options)

    return run_as


def _snapshot(resident: Resident) -> dict:
    resident.refresh_from_db()
    family = Family.objects.get(pk=resident.family_id) if resident.family_id else None
    return {
        "resident": {
            f: getattr(resident, f)
            for f in ("full_name", "address", "rt", "rw", "whatsapp", "family_id", "desa_id", "kecamatan_id")
        }
        | {"updated_at": resident.updated_at},
        "family": family and {f: getattr(family, f) for f in ("head_id", "address", "rt", "rw", "desa_id")},
    }


def _errors(job: ResidentImport) -> dict[int, list[tuple[str, str, str]]]:
    by_row: dict[int, list[tuple[str, str, str]]] = {}
    for row, column, value, reason in job.row_errors.values_list("row_number", "column_name", "value", "reason"):
        by_row.setdefault(row, []).append((column, value, reason))
    return by_row


def test_a_row_naming_a_pacitan_resident_is_refused_and_the_resident_is_unchanged(
    ponorogo, supervisor, pacitan, run_as
):
    before = _snapshot(pacitan)
    foreign_row = person(
        1,
        NIK=pacitan.nik,
        NAMA_LGKP="NAMA DITIMPA",
        ALAMAT="JL. DITIMPA",
        NO_HP="081299990000",
        NO_KK=kk(77),
        KODE_DESA=DESA_A,
    )
    job = run_as(supervisor.office, csv_text([foreign_row, person(2)]))

    assert job.status == ResidentImport.Status.DONE, job.message
    assert (job.rows_read, job.rows_refused, job.rows_inserted, job.rows_updated) == (2, 1, 1, 0)
    assert _snapshot(pacitan) == before
    assert not ResidentChange.objects.filter(resident=pacitan).exists()
    assert not Family.objects.filter(kk_number=kk(77)).exists()  # nothing of the refused row was merged
    assert Resident.objects.filter(nik=nik(2), kecamatan_id=KEC_A).exists()  # the row in scope imported
    ((column, value, reason),) = _errors(job)[2]
    assert (column, value) == ("NIK", pacitan.nik)
    assert OUTSIDE in reason and "tidak diubah" in reason
    assert [2, "NIK", pacitan.nik, reason] in [list(r) for r in report_rows(job)]  # the downloadable report


def test_a_row_moving_a_ponorogo_resident_to_a_pacitan_desa_is_refused(ponorogo, supervisor, pacitan, run_as):
    run_as(supervisor.office, csv_text([person(1), person(2)]))
    moving = Resident.objects.get(nik=nik(1))
    before = _snapshot(moving)

    job = run_as(supervisor.office, csv_text([person(1, KODE_DESA=PACITAN_DESA, ALAMAT="PACITAN"), person(3)]))

    assert (job.rows_refused, job.rows_inserted) == (1, 1)
    assert _snapshot(moving) == before
    ((column, value, reason),) = _errors(job)[2]
    assert column == "KODE_DESA" and PACITAN_DESA in reason and OUTSIDE in reason


def test_a_row_joining_a_pacitan_family_is_refused_and_the_family_is_unchanged(ponorogo, supervisor, pacitan, run_as):
    """Even as its head: the old import made the Ponorogo resident the Pacitan family's head and moved the
    family to Ponorogo."""
    before = _snapshot(pacitan)
    kk_pacitan = pacitan.family.kk_number
    job = run_as(
        supervisor.office,
        csv_text([person(1, NO_KK=kk_pacitan, STAT_HBKEL="KEPALA KELUARGA", ALAMAT="JL. PONOROGO"), person(2)]),
    )

    assert (job.rows_refused, job.rows_inserted) == (1, 1)
    assert _snapshot(pacitan) == before
    assert not Resident.objects.filter(nik=nik(1)).exists()
    ((column, value, reason),) = _errors(job)[2]
    assert (column, value, reason) == ("NIK", nik(1), outside_reason()) and OUTSIDE in reason


def test_a_uptd_import_changes_only_its_own_kecamatan(ponorogo, run_as):
    """A UPTD office's scope is its kecamatan: a Ngrayun resident named in a Slahung import is left alone."""
    ngrayun = ResidentFactory(desa_id=DESA_B, full_name="WARGA NGRAYUN")
    before = _snapshot(ngrayun)
    job = run_as(
        Office.objects.get(region_id=KEC_A),
        csv_text([person(1, NIK=ngrayun.nik, NAMA_LGKP="WARGA SLAHUNG"), person(2)]),
    )
    assert (job.rows_refused, job.rows_inserted) == (1, 1)
    assert _snapshot(ngrayun) == before and ngrayun.kecamatan_id == KEC_B
    assert OUTSIDE in _errors(job)[2][0][2]


@pytest.mark.postgres_only
def test_the_bulk_first_load_checks_the_scope_too(ponorogo, supervisor, pacitan, run_as):
    before = _snapshot(pacitan)
    job = run_as(
        supervisor.office,
        csv_text([person(1, NIK=pacitan.nik, NAMA_LGKP="NAMA DITIMPA"), person(2), person(3)]),
        bulk_min_rows=1,
    )
    assert job.status == ResidentImport.Status.DONE, job.message
    assert (job.rows_refused, job.rows_inserted) == (1, 2)
    assert _snapshot(pacitan) == before


def test_an_import_announces_exactly_the_residents_it_moved_to_another_kecamatan(ponorogo, supervisor, run_as):
    run_as(supervisor.office, csv_text([person(1), person(2), person(3)]))
    heard: list[list[int]] = []

    def receiver(sender, resident_ids, by, **kwargs):
        heard.append(sorted(resident_ids))

    residents_moved.connect(receiver, dispatch_uid="test_import_moves")
    try:
        # 1 moves to Ngrayun, 2 changes only its name, 3 is unchanged.
        run_as(
            supervisor.office,
            csv_text([person(1, KODE_DESA=DESA_B), person(2, NAMA_LGKP="NAMA BARU"), person(3)]),
        )
    finally:
        residents_moved.disconnect(dispatch_uid="test_import_moves")
    assert heard == [[Resident.objects.get(nik=nik(1)).pk]]
    assert Resident.objects.get(nik=nik(1)).kecamatan_id == KEC_B


def test_a_platform_import_without_an_office_is_not_limited(ponorogo, pacitan, run_as):
    job = run_as(None, csv_text([person(1, NIK=pacitan.nik, NAMA_LGKP="SRI WAHYUNI PINDAH", NO_KK="")]))
    assert (job.rows_refused, job.rows_updated) == (0, 1)
    pacitan.refresh_from_db()
    assert (pacitan.full_name, pacitan.kecamatan_id) == ("SRI WAHYUNI PINDAH", KEC_A)


def test_the_report_does_not_say_whether_a_nik_or_a_kk_is_registered_elsewhere(ponorogo, supervisor, pacitan, run_as):
    """A row naming a Pacitan resident and a row naming a Pacitan family get the same one line: no column, no
    wording tells the importer which of the numbers it tried exists in another kabupaten."""
    job = run_as(
        supervisor.office,
        csv_text(
            [
                person(1, NIK=pacitan.nik, NO_KK=kk(71)),  # the resident is Pacitan's, the KK is new
                person(2, NO_KK=pacitan.family.kk_number, STAT_HBKEL="ANAK"),  # a new NIK, a Pacitan KK
                person(3),
            ]
        ),
        by=supervisor,
    )

    errors = _errors(job)
    assert sorted(errors) == [2, 3] and job.rows_inserted == 1
    assert errors[2] == [("NIK", pacitan.nik, outside_reason())]
    assert errors[3] == [("NIK", nik(2), outside_reason())]
    reason = outside_reason()
    assert "terdaftar" not in reason and "milik" not in reason  # "registered", "belongs to"


def test_a_row_with_a_desa_outside_gets_the_same_reason_whether_or_not_its_nik_exists_elsewhere(
    ponorogo, supervisor, pacitan, run_as
):
    job = run_as(
        supervisor.office,
        csv_text([person(1, NIK=pacitan.nik, KODE_DESA=PACITAN_DESA), person(2, KODE_DESA=PACITAN_DESA)]),
        by=supervisor,
    )
    errors = _errors(job)
    assert [(column, reason) for column, _value, reason in errors[2]] == [
        (column, reason) for column, _value, reason in errors[3]
    ]
    assert OUTSIDE in errors[2][0][2]


def test_an_import_that_refused_rows_outside_its_scope_is_audited_once(ponorogo, supervisor, pacitan, run_as):
    """Probing NIKs through imports leaves a trace: one LOOKUP row per import (not per row, not per chunk),
    on the uploader, counting the refused rows; an import with none writes nothing."""
    other = ResidentFactory(desa_id=PACITAN_DESA)
    rows = [person(1, NIK=pacitan.nik), person(2), person(3, NIK=other.nik), person(4, NO_KK=pacitan.family.kk_number)]
    job = run_as(supervisor.office, csv_text(rows), by=supervisor, merge_rows=2)  # two chunks

    assert job.status == ResidentImport.Status.DONE, job.message
    assert job.rows_refused == 3
    (log,) = AccessLog.objects.filter(action=AccessLog.Action.LOOKUP)
    assert (log.user, log.resident) == (supervisor, None)
    assert f"#{job.pk}" in log.detail and "3 baris" in log.detail and "di luar wilayah" in log.detail
    assert pacitan.nik not in log.detail and other.nik not in log.detail

    run_as(supervisor.office, csv_text([person(5), person(6)]), by=supervisor)
    assert AccessLog.objects.filter(action=AccessLog.Action.LOOKUP).count() == 1
