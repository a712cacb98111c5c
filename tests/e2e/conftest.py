"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against pytest-django's
live server. No browser download is needed."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from cards.models import Requirement

# pytest-django's live_server runs in a thread; sync Playwright runs an event loop in this one.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# The requirements per kind seeded by a data migration (the police letter for hilang, the old card at handover).
SEEDED_REQUIREMENTS = importlib.import_module("registry.migrations.0010_seed_requirements").REQUIREMENTS


@pytest.fixture(autouse=True)
def requirements_seeded(db) -> None:
    """Browser tests are transactional: the first one flushes the tables after it, seeded rows included, so
    every later one would find no requirement to tick or upload. Put the migration's rows back (as seeded)."""
    for kind, code, name, description, stage, position in SEEDED_REQUIREMENTS:
        Requirement.objects.get_or_create(
            kind=kind,
            code=code,
            defaults={"name": name, "description": description, "stage": stage, "position": position},
        )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A 1366×768 office screen.
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768}, "locale": "id-ID"}


@pytest.fixture
def screenshot(page):
    """Save a screenshot for the README when SCREENSHOTS=1 (off by default: CI needs no PNGs)."""

    def take(name: str) -> None:
        if os.environ.get("SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)

    return take
