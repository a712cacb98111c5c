"""The translation catalogues are complete and compile, and the English one is actually used at runtime."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy, gettext_noop, trans_real

from cards.services import card_request_urgent_ask
from messaging.system_text import system_text
from queueing.models import BlankMovement
from queueing.printing import blanks_receive, blanks_spoil
from registry.importer.engine import outside_reason
from registry.models import AccessLog, ImportRowError, Office, Region, ResidentImport, User
from tests.factories import CardRequestFactory, FamilyFactory, ResidentFactory, appointment_for, open_calendar
from tests.intake.inbox_rows import arrive, office_number, sender, thread_of

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


# --- nothing left untranslated: the catalogue covers the code, and English pages show no Indonesian --------

MAKEMESSAGES_IGNORE = ["node_modules", "var", ".venv", "bench", ".git", "locale", "static", "media"]


def _msgids(path: Path) -> set[tuple[str | None, str]]:
    """The (msgctxt, msgid) pairs of a .po file's current (not obsolete) entries."""
    result = subprocess.run([_tool("msgcat"), "--no-wrap", str(path)], check=True, capture_output=True, text=True)
    ids: set[tuple[str | None, str]] = set()
    parts: dict[str, str] = {}
    key = None
    for line in result.stdout.splitlines():
        if line.startswith(("msgctxt ", "msgid ", "msgid_plural ", "msgstr")):
            key, _, value = line.partition(" ")
            if key == "msgctxt":
                parts = {}
            if key in ("msgctxt", "msgid", "msgid_plural"):
                parts[key] = ast.literal_eval(value)
        elif line.startswith('"') and key in ("msgctxt", "msgid", "msgid_plural"):
            parts[key] += ast.literal_eval(line)
        if key is not None and key.startswith("msgstr") and parts:
            if parts.get("msgid"):  # the header has an empty msgid
                ids.add((parts.get("msgctxt"), parts["msgid"]))
            parts = {}
    return ids


def test_makemessages_adds_nothing_missing_from_the_english_catalogue(tmp_path, settings):
    """makemessages run on the code now (into a copy of the catalogue) finds no msgid that the committed English
    catalogue lacks: every string marked for translation, system texts (gettext_noop) included, is in it."""
    _tool("xgettext")
    base = Path(settings.BASE_DIR)
    copy = tmp_path / "project"

    def ignored(directory: str, names: list[str]) -> list[str]:
        if Path(directory) == base:
            return [n for n in names if n in MAKEMESSAGES_IGNORE or n.startswith(".")]
        return [n for n in names if n in MAKEMESSAGES_IGNORE or n == "__pycache__"]

    shutil.copytree(base, copy, ignore=ignored)
    (copy / "locale" / "en" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(EN_PO, copy / "locale" / "en" / "LC_MESSAGES" / "django.po")
    settings.LOCALE_PATHS = [copy / "locale"]
    cwd = os.getcwd()
    os.chdir(copy)
    try:
        call_command(
            "makemessages",
            locale=["en"],
            ignore_patterns=[p for p in MAKEMESSAGES_IGNORE if p != "locale"],
            no_obsolete=True,
            verbosity=0,
        )
    finally:
        os.chdir(cwd)
    missing = _msgids(copy / "locale" / "en" / "LC_MESSAGES" / "django.po") - _msgids(EN_PO)
    listed = "\n".join(sorted(msgid for _context, msgid in missing))
    assert not missing, f"msgids missing from locale/en/LC_MESSAGES/django.po (run makemessages, translate):\n{listed}"


# Common Indonesian words that never appear in English UI text. Proper names (people, places, offices) are
# taken out of the page before the check: the fixtures below use English-neutral names for what they create.
INDONESIAN_STOP_WORDS = frozenset(
    """dan yang belum sudah permohonan penduduk untuk dengan tidak diterima tanggal atau dari pada oleh akan
    sedang hari ini itu tahun baru lama kartu cetak dicetak pesan antrean petugas menunggu diserahkan ditolak
    dibatalkan jadwal semua lihat simpan cari baris berkas keterangan alasan nomor hadir lewat datang
    perekaman dikirim diubah kembali ulang tersedia blangko ekspor masuk keluar""".split()
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


class _VisibleText(HTMLParser):
    """The text a reader sees: text nodes outside script/style/template, and titles, placeholders and labels.
    An element marked with another language (`lang="id"`: a message as sent to a resident) is left out."""

    SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
    HIDDEN_TAGS = ("script", "style", "template")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skipping: list[list] = []  # [tag, nesting] of the element being left out
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            if tag == self.skipping[-1][0]:
                self.skipping[-1][1] += 1
            return
        lang = dict(attrs).get("lang") or ""
        if tag in self.HIDDEN_TAGS or (lang and tag != "html" and not lang.startswith("en")):
            self.skipping.append([tag, 1])
            return
        self.parts.extend(value for name, value in attrs if name in self.SHOWN_ATTRIBUTES and value)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag == self.skipping[-1][0]:
            self.skipping[-1][1] -= 1
            if not self.skipping[-1][1]:
                self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def indonesian_words(html: str, *, proper_names: Iterable[str] = ()) -> list[str]:
    """Stop-list words on the page's visible text, each with a little context; proper names taken out first."""
    parser = _VisibleText()
    parser.feed(html)
    text = " ".join(" ".join(parser.parts).split())
    for name in sorted({n for n in proper_names if n}, key=len, reverse=True):
        text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
    found = []
    for match in _WORD.finditer(text):
        if match.group().lower() in INDONESIAN_STOP_WORDS:
            found.append(f"{match.group()!r} in …{text[max(0, match.start() - 40) : match.end() + 40]}…")
    return found


@pytest.fixture
def english_pages(
    client, compiled_en_catalogue, ponorogo, clerk, supervisor, administrator, uptd_a, frozen_now, frozen_today
):
    """A working office with a little of everything, written by the real services where the texts are the
    system's (timeline notes, ledger references, import reasons, access-log details); people and places have
    English-neutral names. Returns (client with the English switch on, proper names to ignore)."""
    resident = ResidentFactory(
        full_name="ALPHA BRAVO", birth_place="METRO", address="Block 7", family=FamilyFactory(address="Block 7")
    )
    open_calendar(clerk.office, weekdays=range(7))
    card_request = CardRequestFactory(resident=resident, ready=True, counter=True)
    card_request_urgent_ask(card_request_id=card_request.pk, reason="travel", note="", by=clerk)
    appointment_for(card_request, day=frozen_today + timedelta(days=1), by=clerk)
    CardRequestFactory(resident=ResidentFactory(full_name="CHARLIE DELTA", address="Block 8"), verifying=True)

    blanks_receive(office=clerk.office, quantity=20, reference="SKB 471/001", received_on=frozen_today, by=supervisor)
    blanks_spoil(office=clerk.office, quantity=1, reason="torn", by=supervisor)
    BlankMovement.objects.create(
        office=clerk.office, kind=BlankMovement.Kind.PRINT, quantity=-1, card_request=card_request,
        created_by=clerk, received_on=frozen_today,
        reference=system_text(gettext_noop("Cetak di loket, nomor antrean %(number)d"), number=1),
    )  # fmt: skip

    job = ResidentImport.objects.create(
        office=supervisor.office, created_by=supervisor, file_name="siak.csv", status="done", rows_refused=3
    )
    for row, reason in enumerate(
        [
            outside_reason(),
            system_text(gettext_noop("kode %(what)s %(code)s tidak dikenal"), what=gettext_lazy("desa"), code="9"),
            system_text(
                gettext_noop(
                    "NIK ganda dalam berkas: ada di %(rows)s baris (pertama di baris %(first)s); "
                    "semua baris ini ditolak."
                ),
                rows=2,
                first=3,
            ),
        ],
        start=2,
    ):
        ImportRowError.objects.create(
            resident_import=job, row_number=row, column_name="KODE_DESA", value="9", reason=reason
        )

    AccessLog.objects.append(
        user=clerk, action=AccessLog.Action.SEARCH_NIK, resident=resident,
        detail=system_text(gettext_noop("Pencarian NIK/KK %(masked)s"), masked=resident.masked_nik),
    )  # fmt: skip
    AccessLog.objects.append(
        user=supervisor, action=AccessLog.Action.REVEAL_NIK, resident=resident,
        detail=system_text(gettext_noop("NIK dan nomor KK ditampilkan di halaman penduduk")),
    )  # fmt: skip

    # The inbox: a resident's question (shown as written, marked lang="id") waiting for an answer.
    contact = sender(at=frozen_now - timedelta(hours=1), name="ECHO FOXTROT")
    question = arrive(
        office_number(clerk.office), contact, at=frozen_now - timedelta(hours=1), text="Kapan kartu saya sudah jadi?"
    )

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    names = [
        resident.full_name, "CHARLIE DELTA", "METRO", "Block 7", "Block 8", "SKB 471/001",
        *Office.objects.values_list("name", flat=True), *Region.objects.values_list("name", flat=True),
        *User.objects.values_list("username", flat=True), card_request.number, "ECHO FOXTROT",
    ]  # fmt: skip
    return client, names, {"card_request": card_request, "job": job, "thread": thread_of(question)}


def _english_page_checks(user, path: str, client, names) -> list[str]:
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, f"{path} as {user.username}: {response.status_code}"
    assert response.headers.get("Content-Language") == "en"
    return [f"{path} ({user.role}): {word}" for word in indonesian_words(response.content.decode(), proper_names=names)]


@pytest.mark.django_db
def test_pages_in_english_show_no_indonesian(english_pages, clerk, supervisor, administrator, uptd_a):
    """Home per role, the request list and a request page whose timeline the system wrote, the import report,
    the blank ledger, the access log and the inbox, read with the English switch on: no common Indonesian word
    on the visible text."""
    client, names, made = english_pages
    pages = [
        (clerk, reverse("home")),
        (uptd_a, reverse("home")),
        (supervisor, reverse("home")),
        (administrator, reverse("home")),
        (clerk, reverse("cards:cardrequest_list")),
        (clerk, reverse("cards:cardrequest_detail", args=[made["card_request"].pk])),
        (supervisor, reverse("registry:import_detail", args=[made["job"].pk])),
        (supervisor, reverse("queueing:blanks")),
        (supervisor, reverse("registry:accesslog_list")),
        (clerk, reverse("intake:thread_list")),
        (clerk, reverse("intake:thread_detail", args=[made["thread"].pk])),
    ]
    found = [problem for user, path in pages for problem in _english_page_checks(user, path, client, names)]
    assert not found, "Indonesian on English pages:\n" + "\n".join(found)


def test_the_stop_list_check_finds_indonesian_and_ignores_names():
    html = (
        '<p title="Cari penduduk">Request of <b>Wahyu dan Sri</b></p><script>var tidak = 1;</script>'
        '<div lang="id">Pesan <div>untuk</div> penduduk</div><p>Sent</p>'
    )
    assert len(indonesian_words(html)) == 3  # "Cari", "penduduk" (a title) and "dan"; not the resident's message
    assert indonesian_words(html, proper_names=["Wahyu dan Sri", "Cari penduduk"]) == []
