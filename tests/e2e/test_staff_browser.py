"""An office administrator manages a clerk's account in the app, without the Django admin: adds it with a
password, the clerk signs in with it (and chooses their own), the administrator deactivates it and the clerk can
no longer sign in."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from registry.demo import demo_letterhead_fill
from registry.models import AccessLog, User
from tests.conftest import PASSWORD
from tests.e2e.navigation import logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLERK_PASSWORD = "Loket-Pagi-2027"
OWN_PASSWORD = "Rina-Sendiri-2027"


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/masuk/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()


def test_administrator_adds_a_clerk_who_signs_in_until_deactivated(
    page: Page, live_server, administrator, ponorogo, screenshot, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    demo_letterhead_fill(kabupaten_code=ponorogo.region_id)
    base = live_server.url
    sign_in(page, base, "admin", PASSWORD)
    expect(page).to_have_url(f"{base}/")

    page.goto(f"{base}/petugas/")
    expect(page.get_by_role("heading", name="Akun petugas")).to_be_visible()
    page.get_by_test_id("staff-add").click()
    form = page.get_by_test_id("staff-create-form")
    form.get_by_label("Nama pengguna").fill("loket.rina")
    form.get_by_label("Nama depan").fill("Rina")
    form.get_by_label("Nama belakang").fill("Wulandari")
    form.get_by_label("Peran").select_option(label="Petugas")
    form.get_by_label("Kantor").select_option(label=ponorogo.name)
    form.get_by_label("Kata sandi awal").select_option(label="Saya tentukan sendiri")
    form.get_by_label("Kata sandi baru").fill(CLERK_PASSWORD)
    form.get_by_label("Ulangi kata sandi").fill(CLERK_PASSWORD)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot("staff-create")
    form.get_by_role("button", name="Simpan akun").click()
    expect(page.get_by_role("alert").filter(has_text="loket.rina")).to_contain_text("dibuat")
    expect(page.get_by_test_id("account-status")).to_have_text("Aktif")
    account = User.objects.get(username="loket.rina")
    assert (account.role, account.office_id) == ("clerk", ponorogo.pk)

    page.goto(f"{base}/petugas/")
    expect(page.get_by_test_id("staff-table").locator("tr[data-username='loket.rina']")).to_contain_text("Petugas")
    screenshot("staff-list")
    logout(page)

    # The clerk signs in with the password the administrator set, and first chooses their own.
    sign_in(page, base, "loket.rina", CLERK_PASSWORD)
    expect(page.get_by_test_id("password-change-required")).to_be_visible()
    form = page.get_by_test_id("password-change-form")
    form.get_by_label("Sandi lama").fill(CLERK_PASSWORD)
    form.get_by_label("Sandi baru", exact=True).fill(OWN_PASSWORD)
    form.get_by_label("Konfirmasi sandi baru").fill(OWN_PASSWORD)
    form.get_by_role("button", name="Simpan kata sandi").click()
    expect(page).to_have_url(f"{base}/")
    logout(page)

    # The administrator deactivates the account.
    sign_in(page, base, "admin", PASSWORD)
    page.goto(f"{base}/petugas/")
    page.get_by_test_id("staff-table").locator("tr[data-username='loket.rina']").get_by_role(
        "link", name="Kelola"
    ).click()
    page.get_by_test_id("staff-deactivate").click()
    expect(page.get_by_test_id("account-status")).to_have_text("Nonaktif")
    assert not User.objects.get(username="loket.rina").is_active
    page.goto(f"{base}/kantor/pengaturan/")
    preview = page.get_by_test_id("letterhead-preview")
    expect(preview.get_by_test_id("letterhead")).to_contain_text("PEMERINTAH KABUPATEN PONOROGO")
    expect(preview.get_by_test_id("signatory")).to_contain_text("NIP. 19700512 199503 1 002")
    screenshot("office-settings")
    logout(page)

    # The clerk can no longer sign in.
    sign_in(page, base, "loket.rina", OWN_PASSWORD)
    expect(page).to_have_url(f"{base}/masuk/")
    expect(page.get_by_role("button", name="Masuk")).to_be_visible()

    details = [str(d) for d in AccessLog.objects.filter(action="staff_change").values_list("detail", flat=True)]
    assert any("loket.rina" in d and "Petugas" in d for d in details)
    assert any("loket.rina" in d and "dinonaktifkan" in d for d in details)
