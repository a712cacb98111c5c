"""Browser journeys of card requests: a UPTD operator submits for an elderly resident, a clerk works it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cards.models import CardRequest
from tests.documents import PDF
from tests.e2e.navigation import nav_go
from tests.e2e.test_resident_journeys import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_uptd_submits_hilang_clerk_marks_incomplete_then_verifies(
    page: Page, live_server, uptd_a, clerk, resident_a, settings, tmp_path, screenshot
):
    settings.MEDIA_ROOT = tmp_path
    report = tmp_path / "laporan-kehilangan-polsek.pdf"
    report.write_bytes(PDF)

    # The UPTD operator of Slahung submits for an elderly resident who cannot use WhatsApp.
    login(page, live_server.url, "uptd.slahung")
    nav_go(page, "Permohonan")
    page.get_by_test_id("new-request").click()
    page.get_by_label("NIK penduduk").fill(resident_a.nik)
    page.get_by_role("button", name="Cari").click()
    expect(page.get_by_test_id("found-resident")).to_contain_text("SITI AMINAH")
    expect(page.get_by_test_id("found-resident")).to_contain_text(resident_a.masked_nik)
    assert resident_a.nik not in page.url
    page.get_by_role("radio", name="Hilang").check()
    police = page.get_by_label("Surat keterangan kehilangan dari kepolisian")
    expect(police).to_be_visible()
    expect(page.get_by_label("Dokumen pendukung perubahan data")).to_be_hidden()
    police.set_input_files(str(report))
    page.get_by_label("Catatan").fill("lansia, tidak bisa WhatsApp")
    screenshot("request-create")
    page.get_by_test_id("submit-request").click()

    card_request = CardRequest.objects.get()
    expect(page.get_by_test_id("status")).to_have_text("Diterima")
    expect(page.get_by_test_id("note")).to_have_text("lansia, tidak bisa WhatsApp")
    expect(page.get_by_test_id("submitted-by")).to_contain_text("Operator UPTD")
    expect(page.get_by_test_id("attachment-link")).to_have_text("laporan-kehilangan-polsek.pdf")

    # A clerk of the kabupaten office finds it in the default queue and works it.
    page.context.clear_cookies()
    login(page, live_server.url, "petugas")
    nav_go(page, "Permohonan")
    row = page.locator("#request-table tbody tr", has_text="SITI AMINAH")
    expect(row).to_contain_text("UPTD kecamatan")
    screenshot("request-queue")
    row.get_by_role("link", name=card_request.number).click()
    page.get_by_test_id("to-verifying").click()
    expect(page.get_by_test_id("status")).to_have_text("Sedang diverifikasi")

    page.locator("details[data-target='incomplete']").evaluate("details => { details.open = true; }")
    page.get_by_label("Yang kurang (satu per baris; dikirim ke penduduk)").fill(
        "Fotokopi KK terbaru\nSurat kehilangan yang distempel Polsek"
    )
    page.get_by_test_id("to-incomplete").click()
    expect(page.get_by_test_id("status")).to_have_text("Belum lengkap")
    expect(page.get_by_test_id("missing-items")).to_contain_text("Fotokopi KK terbaru")
    expect(page.get_by_test_id("notification").last).to_contain_text("BELUM LENGKAP")
    expect(page.get_by_test_id("notification").last).to_contain_text("Tidak ada nomor")

    page.get_by_test_id("to-verifying").click()
    expect(page.get_by_test_id("status")).to_have_text("Sedang diverifikasi")
    page.get_by_test_id("to-ready_to_print").click()
    expect(page.get_by_test_id("status")).to_have_text("Siap cetak")
    expect(page.get_by_test_id("timeline")).to_contain_text("Belum lengkap")
    screenshot("request-detail")

    # Back at the UPTD, the operator sees the new status of the submission.
    page.context.clear_cookies()
    login(page, live_server.url, "uptd.slahung")
    nav_go(page, "Permohonan")
    row = page.locator("#request-table tbody tr", has_text="SITI AMINAH")
    expect(row).to_contain_text("Siap cetak")
    row.get_by_role("link", name=card_request.number).click()
    expect(page.get_by_test_id("status")).to_have_text("Siap cetak")
    # Nothing left for the UPTD to do now: no move is offered.
    expect(page.get_by_test_id("actions").get_by_role("button")).to_have_count(0)
    expect(page.get_by_test_id("actions")).to_contain_text("Tidak ada langkah untuk Anda")


def test_uptd_operator_of_another_kecamatan_cannot_open_the_request(
    page: Page, live_server, uptd_a, uptd_b, resident_a
):
    from cards import services

    card_request = services.card_request_create(resident=resident_a, kind="rusak", by=uptd_a)
    login(page, live_server.url, "uptd.ngrayun")
    response = page.goto(f"{live_server.url}/permohonan/{card_request.pk}/")
    assert response.status == 404
    page.goto(f"{live_server.url}/permohonan/?antrean=semua")
    expect(page.locator("#request-table")).not_to_contain_text("SITI AMINAH")
