"""Browser journeys of the import page: upload → outcome → report download; a running import's live
progress; the menu entry only for supervisors."""

from __future__ import annotations

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from registry.models import AccessLog, Resident, ResidentImport
from tests.e2e.navigation import nav_entry, nav_go
from tests.e2e.test_resident_journeys import login
from tests.registry.test_import import csv_text, nik, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_supervisor_imports_a_file_and_downloads_the_refused_rows(
    page: Page, live_server, supervisor, tmp_path, screenshot
):
    path = tmp_path / "ekspor-siak.csv"
    path.write_text(csv_text([person(1), person(2), person(3, TGL_LHR="31-02-1990"), person(4, NIK="35020")]))
    login(page, live_server.url, "kabid")
    nav_go(page, "Impor data")
    expect(page.get_by_role("heading", name="Impor data penduduk")).to_be_visible()
    page.get_by_label("Berkas ekspor SIAK (CSV atau XLSX)").set_input_files(str(path))
    page.get_by_test_id("import-submit").click()

    # The test settings run Celery tasks eagerly: the import has ended when the page opens.
    expect(page.get_by_test_id("import-status")).to_have_text("Selesai")
    expect(page.get_by_test_id("rows-inserted")).to_have_text("2")
    expect(page.get_by_test_id("rows-refused")).to_have_text("2")
    preview = page.get_by_test_id("error-preview")
    expect(preview).to_contain_text("tanggal tidak ada di kalender")
    expect(preview).to_contain_text("16 digit")
    screenshot("import-detail")
    assert Resident.objects.filter(nik__in=[nik(1), nik(2)]).count() == 2

    with page.expect_download() as download_info:
        page.get_by_test_id("report-xlsx").click()
    report = tmp_path / "report.xlsx"
    download_info.value.save_as(report)
    rows = list(openpyxl.load_workbook(report).active.iter_rows(values_only=True))
    assert rows[0] == ("Baris", "Kolom", "Isi", "Alasan")
    assert [r[0] for r in rows[1:]] == [4, 5]
    assert AccessLog.objects.filter(user=supervisor, action=AccessLog.Action.EXPORT).count() == 1

    page.get_by_role("link", name="Impor data penduduk").click()
    expect(page.get_by_test_id("import-history")).to_contain_text("ekspor-siak.csv")


def test_a_running_import_updates_itself_until_done(page: Page, live_server, supervisor, screenshot):
    job = ResidentImport.objects.create(
        office=supervisor.office,
        created_by=supervisor,
        file_name="besar.csv",
        status="running",
        phase="reading",
        rows_total=1000,
        rows_read=400,
    )
    login(page, live_server.url, "kabid")
    page.goto(f"{live_server.url}/penduduk/impor/{job.pk}/")
    expect(page.get_by_test_id("rows-read")).to_contain_text("400")
    expect(page.get_by_test_id("import-cancel")).to_be_visible()
    screenshot("import-progress")
    ResidentImport.objects.filter(pk=job.pk).update(rows_read=1000, phase="merging", rows_merged=500)
    expect(page.get_by_test_id("rows-merged")).to_have_text("500")
    ResidentImport.objects.filter(pk=job.pk).update(
        status="done", phase="finished", rows_merged=1000, rows_inserted=1000
    )
    expect(page.get_by_test_id("import-status")).to_have_text("Selesai")
    expect(page.get_by_test_id("import-cancel")).to_have_count(0)


def test_clerk_has_no_import_menu_and_gets_403(page: Page, live_server, clerk):
    login(page, live_server.url, "petugas")
    expect(nav_entry(page, "Impor data")).to_have_count(0)
    expect(nav_entry(page, "Penduduk")).to_have_count(1)  # the menu is there, without the import
    response = page.goto(f"{live_server.url}/penduduk/impor/")
    assert response.status == 403
