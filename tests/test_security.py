from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import override_settings

from registry.middleware import LAST_SEEN_KEY

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "kata-sandi-uji-123"


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
