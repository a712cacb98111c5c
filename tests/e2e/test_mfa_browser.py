"""A supervisor in production mode (MFA_REQUIRED) enrols an authenticator app after the password, then logs in
again with a code. The code is computed from the secret the enrolment page shows for manual entry, at the
frozen clock (the live server runs in this process, so time-machine sets its clock too)."""

from __future__ import annotations

from base64 import b32decode
from datetime import timedelta

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.navigation import logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_from(secret: str, *, steps_ahead: int = 0) -> str:
    totp = TOTP(b32decode(secret.replace(" ", "")), step=30, t0=0, digits=6)
    totp.time += steps_ahead * 30
    return f"{totp.token():06d}"


def password_step(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/masuk/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()


def test_supervisor_enrols_then_logs_in_with_a_code(
    page: Page, live_server, supervisor, settings, frozen_now, time_machine, screenshot
):
    settings.MFA_REQUIRED = True
    base = live_server.url
    password_step(page, base, "kabid")
    expect(page.get_by_role("heading", name="Aktifkan autentikasi dua langkah")).to_be_visible()
    assert "/akun/2fa/daftar/" in page.url
    expect(page.get_by_test_id("mfa-required")).to_be_visible()
    expect(page.get_by_test_id("mfa-qr").locator("svg")).to_be_visible()
    screenshot("mfa-enrol")

    # Any other page sends back here until the app is confirmed.
    page.goto(f"{base}/penduduk/")
    assert "/akun/2fa/daftar/" in page.url

    secret = page.get_by_test_id("mfa-secret").inner_text()
    page.get_by_label("Kode 6 digit").fill(code_from(secret))
    page.get_by_role("button", name="Konfirmasi dan aktifkan").click()
    expect(page.get_by_role("alert")).to_contain_text("Autentikasi dua langkah aktif")
    assert TOTPDevice.objects.get(user=supervisor).confirmed
    page.goto(f"{base}/penduduk/")
    expect(page.locator("#resident-table")).to_be_visible()

    logout(page)
    time_machine.shift(timedelta(seconds=30))  # the next code: the enrolment code is used up
    password_step(page, base, "kabid")
    expect(page.get_by_role("heading", name="Autentikasi dua langkah")).to_be_visible()
    assert "/akun/2fa/verifikasi/" in page.url

    accepted = {code_from(secret, steps_ahead=step) for step in (-1, 0, 1)}  # the device's tolerance
    wrong = next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)
    page.get_by_label("Kode 6 digit").fill(wrong)
    page.get_by_role("button", name="Lanjutkan").click()
    expect(page.get_by_test_id("mfa-error")).to_contain_text("Kode salah")

    time_machine.shift(timedelta(seconds=2))  # past the one-second back-off of a single wrong code
    page.get_by_label("Kode 6 digit").fill(code_from(secret))
    page.get_by_role("button", name="Lanjutkan").click()
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_test_id("office")).to_contain_text("Disdukcapil Kabupaten Ponorogo")
