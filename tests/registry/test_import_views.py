"""Import pages: who may import, upload → Celery task → outcome, reports (formula cells, audit), scope."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from registry.importer.report import neutralise
from registry.models import AccessLog, ImportRowError, Resident, ResidentImport
from registry.tasks import run_resident_import
from tests.registry.test_import import csv_text, nik, person


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client, content: str, name: str = "siak.csv", capture=None):
    data = {"file": SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")}
    if capture is None:
        return client.post("/penduduk/impor/", data)
    with capture(execute=True):
        return client.post("/penduduk/impor/", data)


def test_supervisor_upload_runs_the_import_and_deletes_the_file(client, supervisor, django_capture_on_commit_callbacks):
    client.force_login(supervisor)
    content = csv_text([person(1), person(2, NIK="123")])
    response = upload(client, content, capture=django_capture_on_commit_callbacks)
    job = ResidentImport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/penduduk/impor/{job.pk}/"
    assert (job.status, job.rows_inserted, job.rows_refused) == ("done", 1, 1)
    assert job.created_by == supervisor and job.office == supervisor.office
    assert job.file.name == ""  # the upload, full of NIKs, is gone
    page = client.get(f"/penduduk/impor/{job.pk}/")
    body = page.content.decode()
    assert "Selesai" in body and 'data-testid="error-preview"' in body
    assert "hx-trigger" not in body  # a finished import is not polled
    listing = client.get("/penduduk/impor/").content.decode()
    assert "siak.csv" in listing


@pytest.mark.parametrize("role", ["clerk", "uptd_a"])
def test_only_supervisors_and_administrators_may_import(client, request, role, django_capture_on_commit_callbacks):
    client.force_login(request.getfixturevalue(role))
    response = upload(client, csv_text([person(1)]), capture=django_capture_on_commit_callbacks)
    assert response.status_code == 403
    assert not ResidentImport.objects.exists() and not Resident.objects.exists()


def test_wrong_file_type_is_a_field_error(client, supervisor):
    client.force_login(supervisor)
    response = upload(client, "MZ", name="program.exe")
    assert response.status_code == 200
    assert "Jenis berkas tidak didukung" in response.content.decode()
    assert not ResidentImport.objects.exists()


def test_second_upload_while_one_runs_is_refused(client, supervisor):
    ResidentImport.objects.create(office=supervisor.office, created_by=supervisor, file_name="a.csv", status="running")
    client.force_login(supervisor)
    response = upload(client, csv_text([person(1)]))
    assert response.status_code == 200
    assert "Masih ada impor yang berjalan" in response.content.decode()
    assert ResidentImport.objects.count() == 1


def test_running_import_page_polls_and_can_be_cancelled(client, supervisor):
    job = ResidentImport.objects.create(
        office=supervisor.office, created_by=supervisor, file_name="a.csv", status="running", rows_total=100
    )
    client.force_login(supervisor)
    body = client.get(f"/penduduk/impor/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in body
    partial = client.get(f"/penduduk/impor/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith("<div") and "<html" not in partial
    client.post(f"/penduduk/impor/{job.pk}/batal/")
    job.refresh_from_db()
    assert job.cancel_requested


def test_task_for_a_cancelled_queued_import_does_nothing(supervisor, tmp_path):
    job = ResidentImport.objects.create(
        office=supervisor.office, file_name="a.csv", cancel_requested=True, file=SimpleUploadedFile("a.csv", b"x")
    )
    assert run_resident_import(job.pk) == "cancelled"
    job.refresh_from_db()
    assert job.status == "cancelled" and not job.file


def test_imports_of_another_kabupaten_office_are_invisible(client, supervisor, ponorogo):
    from registry.models import Office, Region

    Region.objects.create(code="35.03", level=2, kind="kabupaten", parent_id="35", name="TRENGGALEK", decree="x")
    other = Office.objects.create(kind="disdukcapil", region_id="35.03", name="Disdukcapil Trenggalek")
    job = ResidentImport.objects.create(office=other, file_name="lain.csv", status="done")
    client.force_login(supervisor)
    assert client.get(f"/penduduk/impor/{job.pk}/").status_code == 404
    assert client.get(f"/penduduk/impor/{job.pk}/laporan.csv").status_code == 404
    assert "lain.csv" not in client.get("/penduduk/impor/").content.decode()


@pytest.fixture
def formula_job(supervisor):
    job = ResidentImport.objects.create(office=supervisor.office, file_name="x.csv", status="done", rows_refused=4)
    for row, value in enumerate(['=HYPERLINK("http://evil","klik")', "+62812", "-1", "@SUM(A1)"], start=2):
        ImportRowError.objects.create(resident_import=job, row_number=row, column_name="NO_HP", value=value, reason="x")
    return job


def test_error_report_csv_neutralises_formulas_and_is_audited(client, supervisor, formula_job):
    client.force_login(supervisor)
    response = client.get(f"/penduduk/impor/{formula_job.pk}/laporan.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Baris", "Kolom", "Isi", "Alasan"]
    assert [r[2] for r in rows[1:]] == ['\'=HYPERLINK("http://evil","klik")', "'+62812", "'-1", "'@SUM(A1)"]
    log = AccessLog.objects.get()
    assert (log.user, log.action) == (supervisor, AccessLog.Action.EXPORT)


def test_error_report_xlsx_has_no_formula_cells(client, supervisor, formula_job):
    client.force_login(supervisor)
    response = client.get(f"/penduduk/impor/{formula_job.pk}/laporan.xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = [row[2] for row in workbook.active.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)
    assert [c.value for c in cells][0].startswith("'=")
    assert AccessLog.objects.filter(action=AccessLog.Action.EXPORT).count() == 1


def test_neutralise_leaves_ordinary_values_alone():
    assert neutralise("3502011203900001") == "3502011203900001"
    assert neutralise(12) == 12
    assert neutralise("\tcmd") == "'\tcmd"


def test_error_preview_masks_nik_values(client, supervisor, run_import=None):
    job = ResidentImport.objects.create(office=supervisor.office, file_name="x.csv", status="done", rows_refused=1)
    ImportRowError.objects.create(
        resident_import=job, row_number=2, column_name="NIK", value="3502011203900000", reason="serial"
    )
    client.force_login(supervisor)
    body = client.get(f"/penduduk/impor/{job.pk}/").content.decode()
    assert "3502************" in body and "3502011203900000" not in body and "*0000" not in body


def test_command_imports_with_office_scope_and_writes_the_error_report(supervisor, tmp_path, capsys):
    path = tmp_path / "siak.csv"
    path.write_text(csv_text([person(1), person(2, TGL_LHR="kemarin")]))
    call_command("import_residents", str(path), "--user", supervisor.username, "--errors", str(tmp_path / "e.csv"))
    out = capsys.readouterr().out
    assert "1 penduduk baru" in out and "1 baris ditolak" in out
    assert Resident.objects.filter(nik=nik(1)).exists()
    report = (tmp_path / "e.csv").read_text(encoding="utf-8-sig")
    assert "TGL_LHR" in report and "kemarin" in report


def test_command_refuses_an_account_without_the_permission(clerk, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "siak.csv"
    path.write_text(csv_text([person(1)]))
    with pytest.raises(CommandError):
        call_command("import_residents", str(path), "--user", clerk.username)
    assert not Resident.objects.exists()


def test_report_downloads_appear_in_the_access_log_page(client, supervisor, formula_job):
    client.force_login(supervisor)
    client.get(f"/penduduk/impor/{formula_job.pk}/laporan.csv")
    body = client.get("/audit/akses/").content.decode()
    assert f"Laporan baris ditolak impor #{formula_job.pk} (CSV)" in body


@pytest.mark.django_db(transaction=True)
def test_upload_while_the_broker_is_down_keeps_the_import_queued(client, supervisor, monkeypatch):
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(run_resident_import, "delay", broker_down)
    client.force_login(supervisor)
    response = upload(client, csv_text([person(1)]))
    job = ResidentImport.objects.get()
    assert response.status_code == 302
    assert job.status == ResidentImport.Status.QUEUED and job.file.name  # nothing lost
    page = client.get(response["Location"]).content.decode()
    assert "Antrean tugas sedang tidak tersedia" in page


def test_beat_resends_queued_and_abandoned_imports_and_each_runs_once(supervisor, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from registry.tasks import resume_resident_imports

    now = timezone.now()
    office, upload_file = supervisor.office, SimpleUploadedFile("a.csv", csv_text([person(1)]).encode())
    waiting = ResidentImport.objects.create(office=office, file_name="a.csv", file=upload_file)
    ResidentImport.objects.filter(pk=waiting.pk).update(created_at=now - timedelta(minutes=5))
    fresh = ResidentImport.objects.create(office=office, file_name="b.csv")  # just uploaded: its task is coming
    alive = ResidentImport.objects.create(office=office, file_name="c.csv", status="running", heartbeat_at=now)
    dead = ResidentImport.objects.create(
        office=office, file_name="d.csv", status="running", heartbeat_at=now - timedelta(hours=1)
    )
    sent = []
    monkeypatch.setattr(run_resident_import, "delay", lambda pk: sent.append(pk))
    assert resume_resident_imports() == 2
    assert sorted(sent) == sorted([waiting.pk, dead.pk])
    assert fresh.pk not in sent and alive.pk not in sent
    # A duplicate delivery for an import another worker is running does nothing.
    assert run_resident_import(alive.pk) == "skipped"
    assert run_resident_import(waiting.pk) == ResidentImport.Status.DONE
    assert Resident.objects.filter(nik=nik(1)).exists()
    assert run_resident_import(waiting.pk) == "skipped"  # and an ended one is left alone


def test_refused_rows_are_purged_after_the_retention_period(client, supervisor, settings):
    from datetime import timedelta

    from django.utils import timezone

    from registry.tasks import purge_import_reports

    settings.IMPORT_REPORT_RETENTION_DAYS = 30
    now = timezone.now()
    old = ResidentImport.objects.create(
        office=supervisor.office, file_name="lama.csv", status="done", rows_refused=1, finished_at=now - timedelta(40)
    )
    recent = ResidentImport.objects.create(
        office=supervisor.office, file_name="baru.csv", status="done", rows_refused=1, finished_at=now - timedelta(5)
    )
    for job in (old, recent):
        ImportRowError.objects.create(resident_import=job, row_number=2, column_name="NIK", value="1", reason="x")
    assert purge_import_reports() == 1
    assert not old.row_errors.exists() and recent.row_errors.exists()
    client.force_login(supervisor)
    body = client.get(f"/penduduk/impor/{old.pk}/").content.decode()
    assert 'data-testid="report-purged"' in body and "30 hari" in body
    assert 'data-testid="report-xlsx"' not in body
