"""Shared fixtures.

Roles, in the healthchecks alice/bob/charlie spirit: a clerk and a supervisor of Kabupaten Ponorogo, UPTD
operators of two kecamatan (Slahung = A, Ngrayun = B), and residents in each.

Time. The code reads the clock only through `registry.clock`; tests never depend on the day they run.
- `frozen_now`: stops the clock at FROZEN_NOW (tests/dates.py: Monday 6 September 2027, 09:00 WIB, in a
  stretch without holidays) and returns it. Build every date from it: `FROZEN_TODAY`,
  `next_weekday(FROZEN_TODAY, FRIDAY)`, `working_day_after(FROZEN_TODAY, 3)`, `at(day, 23, 30, zone=WIT)`.
  `frozen_today` is its date.
- Move the clock within a test through time-machine's own fixture, which `frozen_now` shares:
  `time_machine.move_to(at(working_day_after(FROZEN_TODAY), 16), tick=False)` or
  `time_machine.shift(timedelta(days=1))`. `time_machine.travel(...)` as a context manager works too.
  A login session ends after 30 idle minutes (SESSION_IDLE_TIMEOUT): after moving the clock further, log in
  again (`client.force_login(user)`).
- Never `date(2026, 11, 23)` for a day that reaches a view or a service reading the clock.
- The clock-shifted run: with TEST_CLOCK_SHIFT_DAYS=N in the environment the whole session runs N days
  ahead of the real clock (ticking), so a hard-coded date that only works "for now" fails the day it is
  written. `make test` runs the non-browser suite a second time with N=400. Tests that set their own time
  (above) are unaffected: time-machine travels are nested. The report header names the run's clock.

Databases. `@pytest.mark.postgres_only` marks a test that needs PostgreSQL (row locks with real threads, the
bulk import path); it is skipped on SQLite, and `make test`'s SQLite run deselects it.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.conf import settings as django_settings
from django.conf import settings as settings_module
from django.utils import translation

from config.celery import app as celery_app
from registry.models import Office, Role
from registry.offices import offices_create_for_kabupaten
from registry.regions import region_codes, regions_load
from registry.roles import staff_assign_role
from tests.access_log import access_log_empty
from tests.dates import FROZEN_NOW
from tests.factories import FamilyFactory, ResidentFactory, UserFactory

PASSWORD = "kata-sandi-uji-123"
KEC_A = "35.02.01"  # Slahung
KEC_B = "35.02.02"  # Ngrayun
DESA_A = "35.02.01.2001"
DESA_B = "35.02.02.2001"


CLOCK_SHIFT_DAYS = int(os.environ.get("TEST_CLOCK_SHIFT_DAYS") or 0)
_clock_shift: time_machine.travel | None = None


def pytest_configure(config):
    """Start the session's clock shift before collection, so module-level dates are shifted too. A float
    destination (a timestamp) leaves the process's TZ as Django set it."""
    global _clock_shift
    if CLOCK_SHIFT_DAYS and _clock_shift is None:
        _clock_shift = time_machine.travel(time.time() + CLOCK_SHIFT_DAYS * 86_400, tick=True)
        _clock_shift.start()


def pytest_unconfigure(config):
    global _clock_shift
    if _clock_shift is not None:
        _clock_shift.stop()
        _clock_shift = None


def pytest_report_header(config):
    if CLOCK_SHIFT_DAYS:
        shifted = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"clock: SHIFTED {CLOCK_SHIFT_DAYS} days ahead (TEST_CLOCK_SHIFT_DAYS), now {shifted}"
    return "clock: real (set TEST_CLOCK_SHIFT_DAYS=N to run N days ahead)"


def pytest_collection_modifyitems(config, items):
    no_browser = pytest.mark.skip(reason="Debian's chromium (/usr/bin/chromium) is not installed")
    has_browser = os.path.exists("/usr/bin/chromium")
    not_postgres = pytest.mark.skip(reason="needs PostgreSQL (postgres_only); this run is on SQLite")
    on_postgres = django_settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    for item in items:
        if "browser" in item.keywords and not has_browser:
            item.add_marker(no_browser)
        if "postgres_only" in item.keywords and not on_postgres:
            item.add_marker(not_postgres)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 costs ~0.2 s per account on these machines and the role fixtures make several per test; the
    suite hashes with MD5 (production keeps Django's default)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def celery_as_configured():
    """Every test starts with the Celery app as the settings say (eager in make test): a test that points it at
    a broker of its own (tests/delivery/test_outbox_redis.py) must not leave a later test publishing there."""
    app = celery_app
    app.conf.task_always_eager = settings_module.CELERY_TASK_ALWAYS_EAGER
    app.conf.broker_url = settings_module.CELERY_BROKER_URL
    yield


@pytest.fixture(autouse=True)
def office_language():
    """Every test starts in the office language. A request with the English switch activates English for the
    test's thread (registry.middleware.LanguageMiddleware, as on a server), and texts read from the database
    follow the active language (messaging/system_text.py): one test must not leave it to the next."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def mfa_optional(settings):
    """Tests sign supervisors and administrators in with `client.force_login`, which has no second factor: the
    suite runs with MFA_REQUIRED off (whatever DJANGO_DEBUG says); tests/registry/test_mfa.py turns it on.
    An account with a confirmed device is still asked for its code either way."""
    settings.MFA_REQUIRED = False


@pytest.fixture(autouse=True)
def access_log_emptied_before_flush(request):
    """A transactional test ends with Django's flush (TRUNCATE / DELETE of every table), which the access log
    refuses while it has rows (registry/migrations/0017): its rows are removed first, triggers off, as the
    owning role can. Requesting transactional_db here makes this teardown run before the flush."""
    marker = request.node.get_closest_marker("django_db")
    marked = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    if not (marked or {"transactional_db", "live_server"} & set(request.fixturenames)):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    access_log_empty()


@pytest.fixture
def frozen_now(time_machine) -> datetime:
    """Stop the clock at FROZEN_NOW (Monday 09:00 WIB) for this test; move it with `time_machine`."""
    time_machine.move_to(FROZEN_NOW, tick=False)
    return FROZEN_NOW


@pytest.fixture
def frozen_today(frozen_now) -> date:
    """FROZEN_NOW's date (a Monday), with the clock stopped there."""
    return frozen_now.date()


@pytest.fixture
def ponorogo(db):
    """Kabupaten Ponorogo's regions (with its province) and its offices."""
    regions_load(within="35.02")
    region_codes.cache_clear()
    head, _ = offices_create_for_kabupaten(kabupaten_code="35.02")
    yield head
    region_codes.cache_clear()


def _staff(username: str, role: Role, region_code: str):
    user = UserFactory(username=username, first_name=username.title())
    return staff_assign_role(user=user, role=role, office=Office.objects.get(region_id=region_code), by=None)


@pytest.fixture
def clerk(ponorogo):
    return _staff("petugas", Role.CLERK, "35.02")


@pytest.fixture
def supervisor(ponorogo):
    return _staff("kabid", Role.SUPERVISOR, "35.02")


@pytest.fixture
def administrator(ponorogo):
    return _staff("admin", Role.ADMINISTRATOR, "35.02")


@pytest.fixture
def uptd_a(ponorogo):
    return _staff("uptd.slahung", Role.UPTD_OPERATOR, KEC_A)


@pytest.fixture
def uptd_b(ponorogo):
    return _staff("uptd.ngrayun", Role.UPTD_OPERATOR, KEC_B)


@pytest.fixture
def resident_a(ponorogo):
    family = FamilyFactory(desa_id=DESA_A)
    resident = ResidentFactory(desa_id=DESA_A, full_name="SITI AMINAH", family=family)
    family.head = resident
    family.save(update_fields=["head"])
    return resident


@pytest.fixture
def resident_b(ponorogo):
    return ResidentFactory(desa_id=DESA_B, full_name="BUDI SANTOSO")
