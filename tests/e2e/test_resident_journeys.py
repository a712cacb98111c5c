from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from registry.models import AccessLog
from tests.e2e.navigation import nav_go
from tests.factories import ResidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "kata-sandi-uji-123"


def login(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/masuk/")
    expect(page.get_by_role("heading", name="Masuk petugas")).to_be_visible()
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(f"{base_url}/")


def test_clerk_logs_in_and_finds_a_resident_by_nik(page: Page, live_server, clerk, resident_a, resident_b, screenshot):
    ResidentFactory.create_batch(30, desa_id="35.02.01.2002")
    login(page, live_server.url, "petugas")
    expect(page.get_by_test_id("office")).to_contain_text("Disdukcapil Kabupaten Ponorogo")
    screenshot("home")

    nav_go(page, "Penduduk")
    expect(page.locator("#resident-table tbody tr")).to_have_count(25)
    screenshot("resident-list")

    page.get_by_label("NIK, nomor KK atau nama").fill(resident_a.nik)
    page.get_by_role("button", name="Cari").click()
    rows = page.locator("#resident-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("SITI AMINAH")
    expect(rows.first).to_contain_text(resident_a.masked_nik)
    assert resident_a.nik not in page.url

    rows.first.get_by_role("link", name="SITI AMINAH").click()
    expect(page.get_by_test_id("resident-name")).to_have_text("SITI AMINAH")
    expect(page.get_by_test_id("masked-nik")).to_have_text(resident_a.masked_nik)
    page.get_by_test_id("reveal-nik").click()
    expect(page.get_by_test_id("nik-revealed")).to_contain_text(resident_a.nik)
    screenshot("resident-detail")
    assert resident_a.nik not in page.url
    assert AccessLog.objects.filter(user=clerk, resident=resident_a, action="reveal_nik").count() == 1


def test_invalid_nik_gets_a_field_error_in_indonesian(page: Page, live_server, clerk):
    login(page, live_server.url, "petugas")
    page.goto(f"{live_server.url}/penduduk/")
    page.get_by_label("NIK, nomor KK atau nama").fill("3502 0112 0590")
    page.get_by_role("button", name="Cari").click()
    expect(page.get_by_test_id("q-error")).to_contain_text("16 digit")


def test_uptd_operator_cannot_reach_a_resident_of_another_kecamatan(
    page: Page, live_server, uptd_b, resident_a, resident_b
):
    login(page, live_server.url, "uptd.ngrayun")
    page.goto(f"{live_server.url}/penduduk/")
    table = page.locator("#resident-table")
    expect(table).to_contain_text("BUDI SANTOSO")
    expect(table).not_to_contain_text("SITI AMINAH")

    page.get_by_label("NIK, nomor KK atau nama").fill(resident_a.nik)
    page.get_by_role("button", name="Cari").click()
    expect(page.locator("#resident-table")).to_contain_text("Tidak ada penduduk yang cocok")

    response = page.goto(f"{live_server.url}/penduduk/{resident_a.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading")).to_contain_text(re.compile("tidak ditemukan", re.I))


def test_language_switch_to_english_and_back(page: Page, live_server, clerk):
    page.goto(f"{live_server.url}/masuk/")
    page.get_by_role("button", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="ID").click()
    expect(page.locator("html")).to_have_attribute("lang", "id")
