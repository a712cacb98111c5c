"""The translation catalogues are complete and compile, and the English one is actually used at runtime."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import trans_real

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
PO_FILES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/django.po"))
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
EN_MO = EN_PO.with_suffix(".mo")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} (GNU gettext) is not installed")
    return path


def _po_ids(path: Path) -> str:
    return str(path.relative_to(LOCALE_DIR))


@pytest.fixture(scope="session")
def compiled_en_catalogue():
    """The English .mo is git-ignored: build it from the .po when it is missing or older, then reload catalogues."""
    if not EN_MO.exists() or EN_MO.stat().st_mtime < EN_PO.stat().st_mtime:
        subprocess.run([_tool("msgfmt"), "-o", str(EN_MO), str(EN_PO)], check=True, capture_output=True, text=True)
        # Catalogues (and "does a catalogue exist") looked up before the .mo existed are cached per process.
        trans_real._translations = {}
        trans_real._default = None
        for cached in ("translation_catalog_exists", "check_for_language"):
            getattr(getattr(trans_real, cached, None), "cache_clear", lambda: None)()
    return EN_MO


def test_catalogues_exist():
    assert EN_PO in PO_FILES


@pytest.mark.parametrize("po", PO_FILES, ids=_po_ids)
@pytest.mark.parametrize("option", ["--untranslated", "--only-fuzzy"])
def test_no_untranslated_or_fuzzy_entries(po, option):
    msgattrib = _tool("msgattrib")
    result = subprocess.run([msgattrib, option, str(po)], check=True, capture_output=True, text=True)
    assert result.stdout == "", f"{po} has entries matching {option}:\n{result.stdout}"


@pytest.mark.parametrize("po", PO_FILES, ids=_po_ids)
def test_catalogue_compiles_with_format_checks(po):
    msgfmt = _tool("msgfmt")
    result = subprocess.run(
        [msgfmt, "--check", "-o", "/dev/null", str(po)], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("msgid", "english"),
    [
        ("Penduduk", "Residents"),  # navigation label (registry/context_processors.py)
        ("Masuk", "Log in"),  # login page title and button (templates/registration/login.html)
        ("Keluar", "Log out"),  # logout button (templates/base.html)
        ("Kepala bidang", "Head of division (supervisor)"),  # role label
    ],
)
def test_english_catalogue_is_used(compiled_en_catalogue, msgid, english):
    with translation.override("en"):
        assert translation.gettext(msgid) == english
    with translation.override("id"):
        assert translation.gettext(msgid) == msgid


def test_english_plural_forms(compiled_en_catalogue):
    msgid = "%(n)s baris ditampilkan"
    with translation.override("en"):
        assert translation.ngettext(msgid, msgid, 1) % {"n": 1} == "1 row shown"
        assert translation.ngettext(msgid, msgid, 20) % {"n": 20} == "20 rows shown"
