"""Browser: a clerk filters the request list, downloads it as CSV from the list's own button, and the file has
exactly the listed rows, the masked NIK only, a hostile name neutralised; the download is in the access log."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from registry.models import AccessLog
from tests.e2e.test_resident_journeys import login
from tests.factories import CardRequestFactory, ResidentFactory
from tests.registry.exported import csv_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_downloads_the_filtered_request_list_as_csv(page: Page, live_server, clerk, frozen_now, tmp_path):
    hostile = CardRequestFactory(incomplete=True, resident=ResidentFactory(full_name='=HYPERLINK("http://x")'))
    plain = CardRequestFactory(incomplete=True, resident=ResidentFactory(full_name="SRI WAHYUNI"))
    CardRequestFactory(verifying=True, resident=ResidentFactory(full_name="AGUS PRASETYO"))  # another tab

    login(page, live_server.url, "petugas")
    page.goto(f"{live_server.url}/permohonan/?antrean=belum-lengkap")
    expect(page.locator("#request-table tbody tr")).to_have_count(2)
    with page.expect_download() as download_info:
        page.get_by_test_id("request-export").get_by_role("link", name="CSV").click()
    download = download_info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    assert download.suggested_filename.startswith("permohonan-") and download.suggested_filename.endswith(".csv")
    table = csv_rows(path.read_bytes())
    assert sorted(row[0] for row in table[1:]) == sorted([hostile.number, plain.number])
    assert '\'=HYPERLINK("http://x")' in {row[1] for row in table[1:]}
    text = path.read_text(encoding="utf-8-sig")
    assert hostile.resident.nik not in text and hostile.resident.masked_nik in text
    log = AccessLog.objects.get(action="export")
    assert log.user_id == clerk.pk and "2 baris" in log.detail and "Belum lengkap" in log.detail
