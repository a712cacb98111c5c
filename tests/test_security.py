from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import override_settings

from registry.middleware import LAST_SEEN_KEY, POLL_HEADER
from registry.models import AccessLog, ResidentImport
from registry.web import client_ip
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "kata-sandi-uji-123"


@pytest.mark.slow  # starts manage.py in a fresh process
def test_production_settings_pass_check_deploy_without_warnings(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},  # set by the browser tests
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": "p" * 20 + "-random-production-secret-" + "k" * 20,
        "DJANGO_ALLOWED_HOSTS": "ektp.example.go.id",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow  # starts manage.py in a fresh process
def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {**os.environ, "DJANGO_DEBUG": "False", "DJANGO_SECRET_KEY": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_login_page_is_indonesian_even_for_an_english_browser_and_english_on_request(client, db):
    response = client.get("/masuk/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response["Content-Language"] == "id"
    assert 'lang="id"' in response.content.decode()
    client.post("/bahasa/", {"language": "en", "next": "/masuk/"})
    response = client.get("/masuk/")
    assert response["Content-Language"] == "en"
    assert 'lang="en"' in response.content.decode()


def test_clerk_logs_in_and_lands_on_home(client, clerk):
    response = client.post("/masuk/", {"username": "petugas", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "Disdukcapil Kabupaten Ponorogo" in response.content.decode()


def test_failed_logins_are_throttled_per_user_and_address(client, clerk):
    for _ in range(5):
        client.post("/masuk/", {"username": "petugas", "password": "salah"}, REMOTE_ADDR="10.0.0.5")
    locked = client.post("/masuk/", {"username": "petugas", "password": PASSWORD}, REMOTE_ADDR="10.0.0.5")
    assert locked.status_code == 429
    # The same user from another address, and another user from the locked address, still get in.
    other_address = client.post("/masuk/", {"username": "petugas", "password": PASSWORD}, REMOTE_ADDR="10.0.0.6")
    assert other_address.status_code == 302


@override_settings(SESSION_IDLE_TIMEOUT=60)
def test_session_ends_after_the_idle_timeout(client, clerk):
    client.force_login(clerk)
    assert client.get("/").status_code == 200
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - 61
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and "/masuk/" in response["Location"]
    assert client.get("/").status_code == 302  # logged out for good


@override_settings(SESSION_IDLE_TIMEOUT=60)
def test_activity_within_the_timeout_keeps_the_session(client, clerk):
    client.force_login(clerk)
    client.get("/")
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - 30
    session.save()
    assert client.get("/").status_code == 200


def test_idle_timeout_is_thirty_minutes_by_default(settings):
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    assert settings.SESSION_COOKIE_AGE == 30 * 60


@pytest.mark.parametrize("path", ["/", "/penduduk/"])
def test_pages_send_a_content_security_policy(client, clerk, path):
    client.force_login(clerk)
    response = client.get(path)
    assert "script-src 'self'" in response["Content-Security-Policy"]


# --- the client's address behind the reverse proxy: one helper for the access log and the lockout ----------

PROXY = "10.0.0.1"  # the reverse proxy, the direct peer of the app
CLIENT = "203.0.113.7"  # the staff PC, as the proxy saw it
FORGED = "198.51.100.66"  # what the client wrote into its own X-Forwarded-For


def _through_the_proxy() -> dict:
    """Request headers as nginx passes them on: the client's own X-Forwarded-For with the address nginx saw
    appended."""
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"{FORGED}, {CLIENT}"}


def test_behind_one_proxy_the_access_log_and_the_lockout_record_the_client_address(client, settings, clerk, resident_a):
    settings.TRUSTED_PROXY_COUNT = 1
    client.post("/masuk/", {"username": "petugas", "password": "salah"}, **_through_the_proxy())
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [CLIENT]

    client.force_login(clerk)
    client.post(f"/penduduk/{resident_a.pk}/nik/", headers={"HX-Request": "true"}, **_through_the_proxy())
    assert list(AccessLog.objects.values_list("ip_address", flat=True)) == [CLIENT]


def test_behind_one_proxy_a_lockout_holds_the_client_not_the_whole_office_behind_the_proxy(client, settings, clerk):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        client.post("/masuk/", {"username": "petugas", "password": "salah"}, **_through_the_proxy())
    locked = client.post("/masuk/", {"username": "petugas", "password": PASSWORD}, **_through_the_proxy())
    assert locked.status_code == 429
    # Another PC behind the same proxy (and forging the locked PC's address on the left) still gets in.
    other_pc = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"{CLIENT}, 203.0.113.8"}
    assert client.post("/masuk/", {"username": "petugas", "password": PASSWORD}, **other_pc).status_code == 302


def test_client_ip_reads_only_the_entries_the_trusted_proxies_appended(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{FORGED}, {CLIENT}, 10.0.0.2")
    assert client_ip(request) == CLIENT
    # Fewer entries than proxies, or a non-address where the client's should be: the direct peer, never a guess.
    assert client_ip(rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="10.0.0.2")) == PROXY
    assert client_ip(rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="<script>, 10.0.0.2")) == PROXY
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == PROXY


# --- lockout per account and per address -----------------------------------------------------------------


def _guess_wrong(client, usernames: list[str], times: int, address: str) -> None:
    for username in usernames:
        for _ in range(times):
            client.post("/masuk/", {"username": username, "password": "salah"}, REMOTE_ADDR=address)


@pytest.fixture
def six_accounts(clerk, supervisor, administrator, uptd_a, uptd_b) -> list[str]:
    return [user.username for user in (clerk, supervisor, administrator, uptd_a, uptd_b, UserFactory())]


def test_guesses_spread_over_accounts_lock_the_address(client, six_accounts):
    _guess_wrong(client, six_accounts, 4, "10.0.0.5")  # 24 guesses, never 5 on one account

    locked = client.post("/masuk/", {"username": "petugas", "password": PASSWORD}, REMOTE_ADDR="10.0.0.5")
    assert locked.status_code == 429
    other_address = client.post("/masuk/", {"username": "petugas", "password": PASSWORD}, REMOTE_ADDR="10.0.0.6")
    assert other_address.status_code == 302


def test_an_office_sharing_one_address_is_not_locked_by_a_few_typos(client, six_accounts):
    _guess_wrong(client, six_accounts[:4], 4, "10.0.0.5")  # 16 typos over four colleagues, under 20
    response = client.post("/masuk/", {"username": "petugas", "password": PASSWORD}, REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 302


def test_the_address_limit_is_a_setting(client, settings, six_accounts):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 8
    _guess_wrong(client, six_accounts[:4], 2, "10.0.0.5")
    response = client.post("/masuk/", {"username": "petugas", "password": PASSWORD}, REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 429


# --- htmx polling is not activity ------------------------------------------------------------------------


def test_a_session_that_only_polls_ends_at_the_idle_timeout(client, supervisor, frozen_now, time_machine):
    job = ResidentImport.objects.create(office=supervisor.office, created_by=supervisor, file_name="siak.csv")
    client.force_login(supervisor)
    page = client.get(f"/penduduk/impor/{job.pk}/").content.decode()
    # The progress card polls, and says so in the headers it sends.
    polling = re.search(r"<[^>]*hx-trigger=\"every [^>]*>", page).group(0)
    poll_headers = json.loads(re.search(r"hx-headers='([^']*)'", polling).group(1))
    poll_headers["HX-Request"] = "true"

    for seconds in range(30, 30 * 60 + 1, 30):  # the page left open for 30 minutes, polled twice a minute
        time_machine.move_to(frozen_now + timedelta(seconds=seconds), tick=False)
        assert client.get(f"/penduduk/impor/{job.pk}/", headers=poll_headers).status_code == 200

    time_machine.move_to(frozen_now + timedelta(minutes=31), tick=False)
    response = client.get("/")
    assert response.status_code == 302 and "/masuk/" in response["Location"]


def test_a_poll_after_the_idle_timeout_sends_the_whole_tab_to_the_login(client, clerk, frozen_now, time_machine):
    client.force_login(clerk)
    client.get("/")
    poll = {"HX-Request": "true", POLL_HEADER: "1"}
    for minutes in range(1, 31):  # polls keep the session row alive, not the staff member's session
        time_machine.move_to(frozen_now + timedelta(minutes=minutes), tick=False)
        assert client.get("/", headers=poll).status_code == 200
    time_machine.move_to(frozen_now + timedelta(minutes=31), tick=False)
    response = client.get("/", headers=poll)
    # Not a 302 that htmx would follow and swap the login page into the polled card.
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/masuk/")
    assert client.get("/").status_code == 302  # logged out


def test_a_real_request_keeps_the_session_alive(client, clerk, frozen_now, time_machine):
    client.force_login(clerk)
    client.get("/")
    time_machine.move_to(frozen_now + timedelta(minutes=20), tick=False)
    assert client.get("/").status_code == 200
    time_machine.move_to(frozen_now + timedelta(minutes=45), tick=False)  # 25 idle minutes
    assert client.get("/").status_code == 200


def test_every_polling_element_marks_its_requests_as_polls():
    templates = ROOT / "templates"
    polling_tags = [
        (path.relative_to(templates), tag)
        for path in templates.rglob("*.html")
        for tag in re.findall(r"<[^>]*hx-trigger=\"[^\"]*every [^>]*>", path.read_text())
    ]
    assert polling_tags, "no polling element found: the scan is broken"
    unmarked = [str(path) for path, tag in polling_tags if POLL_HEADER not in tag]
    assert not unmarked, f'polling without hx-headers=\'{{"{POLL_HEADER}": "1"}}\': {unmarked}'
