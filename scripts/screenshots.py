"""Screenshots of the real pages for the README, from a running `make run` (demo data).

.venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000]

One run writes every PNG under docs/screenshots/ that the README shows, as the demo accounts (registry/demo.py,
password demo-ektp-2026) see them: the clerk "petugas", the supervisor "kabid", the administrator "admin" and the
UPTD operator "uptd.slahung". The pages are reached through their own labels, test ids and the menu
(tests/e2e/navigation.py), so a small layout change does not break the run. Some steps change the demo data as a
user would (a walk-in number, a blank-card receipt, a coming day's walk-in quota, an import): run it on a fresh
demo. Supervisors and administrators sign in without a code because the demo runs with DJANGO_DEBUG (MFA_REQUIRED
off); the supervisor's authenticator enrolment is the last page, so no later sign-in owes a code.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Error, Page, sync_playwright

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
ARGS = ["--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
# The demo accounts' password (settings.DEMO_PASSWORD: the environment may set another one).
PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-ektp-2026")
SCREEN = {"width": 1366, "height": 768}


def _navigation():
    """The browser tests' menu helpers (tests/e2e/navigation.py: nav_go, user_menu_open, logout)."""
    spec = importlib.util.spec_from_file_location("e2e_navigation", ROOT / "tests" / "e2e" / "navigation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nav = _navigation()


def _spoiled_sample() -> str:
    """docs/samples/contoh-ekspor-siak.csv with an impossible date, a short NIK and a repeated NIK."""
    rows = list(csv.reader((OUT.parent / "samples" / "contoh-ekspor-siak.csv").open(encoding="utf-8")))
    rows[3][4] = "31-02-1990"
    rows[6][0] = rows[6][0][:11]
    rows[9][0] = rows[8][0]
    path = Path(tempfile.gettempdir()) / "ekspor-siak-ponorogo.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return str(path)


def _shot(page: Page, name: str, *, full_page: bool = False) -> None:
    page.screenshot(path=OUT / f"{name}.png", full_page=full_page)
    print(f"  {name}.png")


def _login(page: Page, username: str) -> None:
    page.goto(f"{BASE}/masuk/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{BASE}/")


def _switch(page: Page, username: str) -> None:
    """Sign out through the user menu, then in as `username`."""
    nav.logout(page)
    page.wait_for_url(f"{BASE}/masuk/**")
    _login(page, username)


def _group_open(page: Page, label: str) -> None:
    """Open the menu group named `label` (its dropdown), leaving it open for the screenshot."""
    group = page.locator("#mainnav li.dropdown").filter(has=page.locator(".dropdown-toggle", has_text=label))
    group.locator(".dropdown-toggle").click()
    group.locator(".dropdown-menu").wait_for(state="visible")


def _busiest_day(page: Page) -> str:
    """The ISO date of the coming day (after today) in the calendar with the most places taken, the first of
    equals: a day whose residents are still expected."""
    best, best_taken = "", -1
    for cell in page.locator("[data-testid=calendar] td.planning-day:not(.is-past):not(.is-today)").all():
        total = cell.get_by_test_id("day-total")
        if not total.count():
            continue
        taken = int(total.locator("strong").first.inner_text())
        if taken > best_taken:
            best, best_taken = cell.get_attribute("data-day"), taken
    return best


def clerk(page: Page) -> None:
    page.goto(f"{BASE}/masuk/")
    _shot(page, "login")
    _login(page, "petugas")
    _shot(page, "home")

    # The top bar on a 1024 px screen: the groups on one line, the user menu open.
    page.set_viewport_size({"width": 1024, "height": 768})
    page.reload()
    nav.user_menu_open(page)
    _shot(page, "navigation-1024")
    page.set_viewport_size(SCREEN)

    nav.nav_go(page, "Penduduk")
    page.get_by_label("Kecamatan").select_option(label="Slahung")
    page.get_by_label("Kelompok umur").select_option(value="60-")
    page.get_by_role("button", name="Cari").click()
    page.wait_for_selector("#resident-table")
    _shot(page, "resident-list")
    page.locator("#resident-table tbody a").first.click()
    page.get_by_test_id("reveal-nik").click()
    page.get_by_test_id("nik-revealed").wait_for()
    _shot(page, "resident-detail")
    page.go_back()
    page.locator("#resident-table tbody a").nth(1).click()
    page.get_by_test_id("reveal-nik").click()
    page.get_by_test_id("nik-revealed").wait_for()

    # The clerk's work queue, and a request waiting for the resident's documents.
    page.goto(f"{BASE}/permohonan/?antrean=semua")
    page.wait_for_selector("#request-table")
    _shot(page, "request-queue")

    # The date picker of a date filter (every date field uses it: DD-MM-YYYY, Indonesian months).
    page.get_by_test_id("request-filter").get_by_label("Hari jadwal").click()
    page.locator(".datepicker.active").wait_for(state="visible")
    _shot(page, "date-picker")
    page.keyboard.press("Escape")

    page.goto(f"{BASE}/permohonan/?antrean=belum-lengkap")
    page.locator("#request-table tbody a").first.click()
    page.get_by_test_id("timeline").wait_for()
    _shot(page, "request-detail")

    # The WhatsApp/SMS inbox: the thread waiting longest first, then the thread whose photo is the police
    # report of a hilang request (one click attaches it).
    nav.nav_go(page, "Kotak pesan")
    page.get_by_test_id("oldest-waiting").wait_for()
    _shot(page, "inbox")
    page.goto(f"{BASE}/kotak-pesan/?tampil=semua")
    page.locator("[data-testid=thread-row]", has=page.get_by_text("Gambar")).first.get_by_test_id("open-thread").click()
    page.get_by_test_id("conversation").wait_for()
    _shot(page, "inbox-thread", full_page=True)

    # Data-synchronisation requests (#SINKRONISASI): oldest first, with the age of the oldest.
    nav.nav_go(page, "Sinkronisasi data")
    _shot(page, "data-sync")

    # The counter: one walk-in number printed, then back to the counter.
    nav.nav_go(page, "Loket")
    page.get_by_test_id("issue-ticket").click()
    page.get_by_test_id("ticket-number").wait_for()
    page.goto(f"{BASE}/loket/")
    page.get_by_test_id("call-next").click()
    page.get_by_test_id("walk-in").wait_for()
    _shot(page, "counter")


def supervisor(page: Page) -> None:
    _switch(page, "kabid")
    _group_open(page, "Cetak & kiriman")
    _shot(page, "home-supervisor")
    page.keyboard.press("Escape")

    # Blank cards, after a delivery of 12,000 (Ngawi's second batch, seed 004) is recorded.
    nav.nav_go(page, "Blangko & cetak")
    page.locator("[data-testid=receipt-form] input[name=quantity]").fill("12000")
    page.locator("[data-testid=receipt-form] input[name=reference]").fill("BLANGKO/2026/11")
    page.locator("[data-testid=receipt-form] button[type=submit]").click()
    page.get_by_test_id("stock").wait_for()
    _shot(page, "blanks")

    # The coming days, who is expected on the busiest of them, and that day's walk-in quota raised by 20.
    nav.nav_go(page, "Hari-hari mendatang")
    page.get_by_test_id("calendar").wait_for()
    _shot(page, "coming-days")
    day = _busiest_day(page)
    page.get_by_test_id(f"day-{day}").get_by_test_id("day-link").click()
    page.get_by_test_id("expected").wait_for()
    _shot(page, "day-expected")

    nav.nav_go(page, "Hari-hari mendatang")
    page.locator("[data-testid=calendar] [data-testid=day-quota-link]").first.click()
    form = page.get_by_test_id("day-quota-form")
    walk_in = form.locator("input[name=walk_in]")
    walk_in.fill(str(int(walk_in.input_value() or 0) + 20))
    form.get_by_role("button", name="Simpan kuota tanggal ini").click()
    page.get_by_test_id("history-row").first.wait_for()
    _shot(page, "quota-settings")


def uptd(page: Page) -> None:
    # A UPTD operator starts a hilang request for an elderly resident of Slahung, after its home.
    _switch(page, "uptd.slahung")
    _shot(page, "home-uptd")
    nav.nav_go(page, "Penduduk")
    page.locator("#resident-table tbody a").nth(7).click()
    page.get_by_test_id("reveal-nik").click()
    page.get_by_test_id("nik-revealed").wait_for()
    page.get_by_role("link", name="Buat permohonan").click()
    page.get_by_role("radio", name="Hilang").check()
    page.get_by_label("Catatan").fill("lansia, tidak bisa WhatsApp")
    _shot(page, "request-create")


def administrator(page: Page) -> None:
    _switch(page, "admin")
    _shot(page, "home-administrator")
    nav.nav_go(page, "Petugas")
    page.get_by_test_id("staff-table").wait_for()
    _shot(page, "staff-list")

    # The add form filled in (not saved): a clerk with a password the administrator chooses.
    page.get_by_test_id("staff-add").click()
    form = page.get_by_test_id("staff-create-form")
    form.get_by_label("Nama pengguna").fill("loket.rina")
    form.get_by_label("Nama depan").fill("Rina")
    form.get_by_label("Nama belakang").fill("Wulandari")
    form.get_by_label("Peran").select_option(label="Petugas")
    form.get_by_label("Kantor").select_option(index=1)
    form.get_by_label("Kata sandi awal").select_option(label="Saya tentukan sendiri")
    form.get_by_label("Kata sandi baru").fill("Loket-Pagi-2027")
    form.get_by_label("Ulangi kata sandi").fill("Loket-Pagi-2027")
    page.evaluate("window.scrollTo(0, 0)")
    _shot(page, "staff-create")

    nav.nav_go(page, "Kantor & kop surat")
    page.get_by_test_id("letterhead-preview").wait_for()
    _shot(page, "office-settings")


def supervisor_data(page: Page) -> None:
    # A supervisor imports the sample export with three rows spoiled; the real Celery worker runs it.
    _switch(page, "kabid")
    nav.nav_go(page, "Impor data")
    page.get_by_label("Berkas ekspor SIAK (CSV atau XLSX)").set_input_files(_spoiled_sample())
    page.get_by_test_id("import-submit").click()
    page.get_by_test_id("error-preview").wait_for(timeout=60_000)
    _shot(page, "import-detail")
    nav.nav_go(page, "Impor data")
    page.locator("details summary").click()
    _shot(page, "import-list")

    # The certificates (suket) issued, and the access log filtered on one action (the NIK reveals above).
    nav.nav_go(page, "Register suket")
    page.get_by_test_id("sukets").wait_for()
    _shot(page, "suket-register")
    nav.nav_go(page, "Log akses")
    filters = page.get_by_test_id("accesslog-filter")
    filters.get_by_label("Tindakan").select_option(label="Membuka NIK lengkap")
    filters.get_by_role("button", name="Saring").click()
    page.wait_for_url(re.compile(r"[?&]action=reveal_nik"))
    _shot(page, "access-log")

    # The supervisor enrols an authenticator app (optional in the demo, required in production).
    nav.user_menu_open(page).get_by_test_id("account-mfa").click()
    page.get_by_test_id("mfa-enrol").click()
    page.get_by_test_id("mfa-qr").wait_for()
    _shot(page, "mfa-enrol")


def _wait_for_server(page: Page, seconds: int = 60) -> None:
    """runserver takes a few seconds to answer after it starts (system checks): wait for /healthz."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            page.request.get(f"{BASE}/healthz")
            return
        except Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport=SCREEN, locale="id-ID")
        page.set_default_timeout(15_000)
        _wait_for_server(page)
        for part in (clerk, supervisor, uptd, administrator, supervisor_data):
            part(page)
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
