"""The second factor (TOTP) for supervisors and administrators: enrolment forced with MFA_REQUIRED, the code at
every login, wrong codes and the throttle, who is not asked, and an administrator's reset of a lost device.

Codes are computed from the device's key at the frozen clock (django-otp's TOTP reads time.time(), which
time-machine sets). A code is accepted once, so a second use moves the clock to the next 30-second step.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.models import AccessLog, Role
from registry.roles import staff_assign_role
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from tests.other_office import clerk_of_another_kabupaten

ENROL = "/akun/2fa/daftar/"
VERIFY = "/akun/2fa/verifikasi/"
ACCOUNT = "/akun/2fa/"
# Pages a session owing its second factor must not reach: the office's own pages and the admin.
GUARDED_PAGES = ["/", "/penduduk/", "/permohonan/", "/audit/akses/", ACCOUNT, "/admin/", "/admin/registry/user/"]


@pytest.fixture
def mfa_required(settings):
    settings.MFA_REQUIRED = True


def code_of(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code_of(device: TOTPDevice) -> str:
    """A 6-digit code the device does not accept now (its tolerance takes the previous and next step too)."""
    accepted = {code_of(device, steps_ahead=step) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


def password_login(client, user) -> None:
    """The password step through the real login view (django-axes' backend), as a browser does it."""
    response = client.post("/masuk/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Aplikasi autentikator", confirmed=True)


def test_supervisor_must_enrol_before_any_page_then_reaches_home(client, supervisor, mfa_required, frozen_now):
    password_login(client, supervisor)
    for page in GUARDED_PAGES:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"] == f"{ENROL}?next={quote(page, safe='')}", page

    page = client.get(ENROL)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=supervisor)
    assert not device.confirmed
    assert "<svg" in page.content.decode()  # the otpauth:// URI as an inline QR code
    assert page.context["secret"].replace(" ", "") in device.config_url
    assert device.config_url.startswith("otpauth://totp/e-KTP%20Disdukcapil%3Akabid?")
    assert client.get(ENROL).context["secret"] == page.context["secret"]  # a reload keeps the same device

    response = client.post(ENROL, {"token": code_of(device), "next": "/penduduk/"})
    assert response.status_code == 302 and response["Location"] == "/penduduk/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200
    assert client.get("/audit/akses/").status_code == 200


def test_a_wrong_first_code_confirms_nothing(client, administrator, mfa_required, frozen_now):
    password_login(client, administrator)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=administrator)
    response = client.post(ENROL, {"token": wrong_code_of(device)})
    assert response.status_code == 200
    assert "Kode salah" in response.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get("/admin/")["Location"].startswith(ENROL)


def test_next_login_needs_the_code_and_a_wrong_one_is_refused(
    client, supervisor, mfa_required, frozen_now, time_machine
):
    device = confirmed_device(supervisor)
    password_login(client, supervisor)
    for page in GUARDED_PAGES:
        response = client.get(page)
        assert response["Location"] == f"{VERIFY}?next={quote(page, safe='')}", page

    wrong = client.post(VERIFY, {"token": wrong_code_of(device), "next": "/penduduk/"})
    assert wrong.status_code == 200
    assert "Kode salah" in wrong.content.decode()
    assert client.get("/").status_code == 302

    not_digits = client.post(VERIFY, {"token": "12ab56"})
    assert "Masukkan 6 angka" in not_digits.content.decode()

    time_machine.shift(timedelta(seconds=2))  # past the one-second back-off of a single wrong code
    response = client.post(VERIFY, {"token": code_of(device), "next": "/penduduk/"})
    assert response.status_code == 302 and response["Location"] == "/penduduk/"
    assert client.get("/").status_code == 200


def test_the_enrolment_page_is_no_way_around_the_code(client, supervisor, frozen_now):
    """Whoever holds only the password of an account with a device cannot add an authenticator of their own."""
    confirmed_device(supervisor)
    password_login(client, supervisor)
    response = client.get(ENROL)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    response = client.post(ENROL, {"token": "123456"})
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=supervisor).count() == 1


def test_wrong_codes_are_throttled_even_before_the_right_one(client, supervisor, frozen_now, time_machine):
    """django-otp's back-off: after n wrong codes in a row, no code is checked for 2**(n-1) seconds."""
    device = confirmed_device(supervisor)
    password_login(client, supervisor)
    client.post(VERIFY, {"token": wrong_code_of(device)})
    refused = client.post(VERIFY, {"token": code_of(device)})  # the same second: not even checked
    assert refused.status_code == 200
    assert "Terlalu banyak kode salah" in refused.content.decode()

    time_machine.shift(timedelta(seconds=1))
    client.post(VERIFY, {"token": wrong_code_of(device)})  # the second failure: now 2 seconds
    time_machine.shift(timedelta(seconds=1))
    refused = client.post(VERIFY, {"token": code_of(device)})
    assert "Coba lagi dalam 1 detik" in refused.content.decode()
    assert client.get("/").status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 2

    time_machine.shift(timedelta(seconds=30))
    response = client.post(VERIFY, {"token": code_of(device)})
    assert response.status_code == 302 and response["Location"] == "/"
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 0


def test_a_code_is_accepted_once(client, supervisor, frozen_now, time_machine):
    device = confirmed_device(supervisor)
    code = code_of(device)
    password_login(client, supervisor)
    assert client.post(VERIFY, {"token": code})["Location"] == "/"
    client.post("/keluar/")
    time_machine.shift(timedelta(seconds=5))  # past any back-off; the same 30-second step
    password_login(client, supervisor)
    replay = client.post(VERIFY, {"token": code})
    assert replay.status_code == 200 and "Kode salah" in replay.content.decode()


def test_admin_site_needs_a_verified_session(client, administrator, frozen_now):
    device = confirmed_device(administrator)
    password_login(client, administrator)
    assert client.get("/admin/")["Location"] == f"{VERIFY}?next=%2Fadmin%2F"
    assert client.post(VERIFY, {"token": code_of(device), "next": "/admin/"})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_only_login_logout_language_health_and_2fa_pages_are_open_meanwhile(client, supervisor, mfa_required):
    password_login(client, supervisor)
    assert client.get("/healthz").status_code in (200, 503)
    assert client.post("/bahasa/", {"language": "en", "next": "/"})["Location"] == "/"
    assert client.get(VERIFY)["Location"] == "/"  # nothing to verify yet: home, which sends to enrolment
    response = client.get("/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == f"{ENROL}?next=%2F"
    assert client.post("/keluar/").status_code == 302
    assert client.get("/")["Location"].startswith("/masuk/")


def test_next_is_never_another_site(client, supervisor, frozen_now):
    device = confirmed_device(supervisor)
    password_login(client, supervisor)
    response = client.post(VERIFY, {"token": code_of(device), "next": "https://example.com/"})
    assert response["Location"] == "/"


def test_clerk_and_uptd_operator_are_not_asked(client, clerk, uptd_a, mfa_required):
    for user in (clerk, uptd_a):
        password_login(client, user)
        assert client.get("/").status_code == 200
        assert client.get("/penduduk/").status_code == 200
        client.post("/keluar/")


def test_clerk_may_enrol_and_is_then_asked_for_the_code(client, clerk, frozen_now, time_machine):
    password_login(client, clerk)
    assert b"Aktifkan dengan aplikasi autentikator" in client.get(ACCOUNT).content
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=clerk)
    assert client.post(ENROL, {"token": code_of(device)})["Location"] == "/"
    client.post("/keluar/")

    time_machine.shift(timedelta(seconds=30))
    password_login(client, clerk)
    assert client.get("/")["Location"].startswith(VERIFY)


def test_without_mfa_required_the_supervisor_is_not_forced(client, supervisor, administrator, settings):
    settings.MFA_REQUIRED = False
    for user in (supervisor, administrator):
        password_login(client, user)
        assert client.get("/").status_code == 200
        assert client.get("/audit/akses/").status_code == 200
        client.post("/keluar/")
    assert not TOTPDevice.objects.exists()


def test_a_superuser_is_asked_like_an_administrator(client, ponorogo, mfa_required):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    password_login(client, root)
    assert client.get("/admin/")["Location"].startswith(ENROL)


# --- resetting a lost device --------------------------------------------------------------------------------


def test_administrator_resets_a_supervisors_lost_device(client, administrator, supervisor, mfa_required, frozen_now):
    confirmed_device(supervisor)
    admin_device = confirmed_device(administrator)
    password_login(client, administrator)
    client.post(VERIFY, {"token": code_of(admin_device)})

    listing = client.get(ACCOUNT)
    assert [d.user for d in listing.context["devices"]] == [supervisor]
    response = client.post(f"/akun/2fa/petugas/{supervisor.pk}/reset/")
    assert response.status_code == 302 and response["Location"] == ACCOUNT
    assert not TOTPDevice.objects.filter(user=supervisor).exists()
    log = AccessLog.objects.get(action=AccessLog.Action.STAFF_CHANGE, user=administrator)
    assert log.resident_id is None and "kabid" in log.detail

    other = client.__class__()
    password_login(other, supervisor)
    assert other.get("/")["Location"].startswith(ENROL)  # enrols a new phone at the next login


def test_reset_ends_the_verified_sessions_of_that_device(client, administrator, supervisor, frozen_now):
    device = confirmed_device(supervisor)
    password_login(client, supervisor)
    client.post(VERIFY, {"token": code_of(device)})
    assert client.get("/").status_code == 200
    staff = client.__class__()
    staff.force_login(administrator)
    staff.post(f"/akun/2fa/petugas/{supervisor.pk}/reset/")
    confirmed_device(supervisor)  # the new phone, enrolled elsewhere
    assert client.get("/")["Location"].startswith(VERIFY)


@pytest.mark.parametrize("role", ["clerk", "supervisor"])
def test_only_an_administrator_resets(client, request, role, administrator):
    confirmed_device(administrator)
    client.force_login(request.getfixturevalue(role))
    assert client.post(f"/akun/2fa/petugas/{administrator.pk}/reset/").status_code == 403
    assert TOTPDevice.objects.filter(user=administrator).exists()
    assert not AccessLog.objects.filter(action=AccessLog.Action.STAFF_CHANGE).exists()


def test_administrator_of_another_kabupaten_gets_404(client, administrator, supervisor):
    confirmed_device(supervisor)
    trenggalek = staff_assign_role(
        user=UserFactory(username="admin.trenggalek"),
        role=Role.ADMINISTRATOR,
        office=clerk_of_another_kabupaten().office,
        by=None,
    )
    client.force_login(trenggalek)
    assert client.post(f"/akun/2fa/petugas/{supervisor.pk}/reset/").status_code == 404
    assert list(client.get(ACCOUNT).context["devices"]) == []
    assert TOTPDevice.objects.filter(user=supervisor).exists()


def test_nobody_resets_their_own_device(client, administrator, frozen_now):
    """A reset is another person's act: whoever lost their phone cannot pass the code page anyway, and a verified
    session left open must not let anyone swap the phone."""
    device = confirmed_device(administrator)
    password_login(client, administrator)
    client.post(VERIFY, {"token": code_of(device)})
    assert list(client.get(ACCOUNT).context["devices"]) == []
    assert client.post(f"/akun/2fa/petugas/{administrator.pk}/reset/").status_code == 404
    assert TOTPDevice.objects.filter(user=administrator).exists()


def test_platform_superuser_resets_any_account(client, supervisor, ponorogo):
    confirmed_device(supervisor)
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    assert client.post(f"/akun/2fa/petugas/{supervisor.pk}/reset/").status_code == 302
    assert not TOTPDevice.objects.filter(user=supervisor).exists()


def test_turning_mfa_required_on_catches_sessions_already_open(client, supervisor, clerk, settings):
    """A session remembers "no device needed" only for roles that never need one."""
    client.force_login(supervisor)
    assert client.get("/").status_code == 200
    settings.MFA_REQUIRED = True
    assert client.get("/")["Location"].startswith(ENROL)

    settings.MFA_REQUIRED = False
    client.force_login(clerk)
    assert client.get("/").status_code == 200
    clerk.role = Role.SUPERVISOR  # promoted while signed in
    clerk.save(update_fields=["role"])
    settings.MFA_REQUIRED = True
    assert client.get("/")["Location"].startswith(ENROL)
