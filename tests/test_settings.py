"""The settings' defaults are production-safe: DEBUG off, and without DJANGO_SECRET_KEY a key generated for
this installation under VAR_DIR, never one published in the repository."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The key config/settings.py used to fall back to; a check-in QR token was forged offline with it.
PUBLISHED_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"
REPORT = (
    "import json, config.settings as s;"
    "print(json.dumps({'debug': s.DEBUG, 'key': s.SECRET_KEY, 'hosts': s.ALLOWED_HOSTS}))"
)

# Each test starts a fresh Python process (settings are read at import): `slow`, so not in the shifted-clock run.
pytestmark = pytest.mark.slow


def _settings_in_a_fresh_process(var_dir: Path, **extra: str) -> subprocess.CompletedProcess:
    """Import config.settings in a new process with no DJANGO_DEBUG and no DJANGO_SECRET_KEY (as `env -u`),
    `var_dir` as VAR_DIR and `extra` on top."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(VAR_DIR=str(var_dir), **extra)
    return subprocess.run(
        [sys.executable, "-c", REPORT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _settings(var_dir: Path, **extra: str) -> dict:
    result = _settings_in_a_fresh_process(var_dir, **extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_variables_debug_is_off_and_the_key_is_generated_under_var_dir(tmp_path):
    var_dir = tmp_path / "var"
    first = _settings(var_dir)

    assert first["debug"] is False
    assert first["hosts"] == []
    assert first["key"] != PUBLISHED_KEY and len(first["key"]) >= 50
    key_file = var_dir / "secret_key"
    assert key_file.read_text().strip() == first["key"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in var_dir.iterdir() if p.name.startswith(".secret_key")] == []  # no temporary left
    # The next start reads the same key (sessions and signed QR tokens survive a restart) ...
    assert _settings(var_dir)["key"] == first["key"]
    # ... and another installation has its own.
    assert _settings(tmp_path / "other")["key"] != first["key"]


def test_make_run_turns_debug_on_explicitly():
    script = (ROOT / "scripts" / "run.sh").read_text()
    assert "export DJANGO_DEBUG=True" in script


@pytest.mark.parametrize("key", [PUBLISHED_KEY, "", "too-short-0123456789"])
def test_a_secret_key_that_is_set_must_be_a_real_one_even_in_debug(tmp_path, key):
    result = _settings_in_a_fresh_process(tmp_path, DJANGO_DEBUG="True", DJANGO_SECRET_KEY=key)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_a_real_secret_key_from_the_environment_wins_over_the_file(tmp_path):
    key = "k" * 20 + "-a-real-production-secret-" + "z" * 20
    assert _settings(tmp_path, DJANGO_SECRET_KEY=key)["key"] == key
    assert not (tmp_path / "secret_key").exists()


def test_the_old_proxy_setting_of_django_axes_is_refused_for_the_one_proxy_count(tmp_path):
    result = _settings_in_a_fresh_process(tmp_path, AXES_PROXY_COUNT="1")
    assert result.returncode != 0
    assert "DJANGO_TRUSTED_PROXY_COUNT" in result.stderr
