"""Screenshots of the real pages for the README, from a running `make run` (demo data).

.venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000]
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ARGS = ["--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


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


def _login(page, username: str) -> None:
    page.goto(f"{BASE}/masuk/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill("demo-ektp-2026")
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{BASE}/")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{BASE}/masuk/")
        page.screenshot(path=OUT / "login.png")
        page.get_by_label("Nama pengguna").fill("petugas")
        page.get_by_label("Kata sandi").fill("demo-ektp-2026")
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url(f"{BASE}/")
        page.screenshot(path=OUT / "home.png")
        page.goto(f"{BASE}/penduduk/")
        page.get_by_label("Kecamatan").select_option(label="Slahung")
        page.get_by_label("Kelompok umur").select_option(value="60-")
        page.get_by_role("button", name="Cari").click()
        page.wait_for_selector("#resident-table")
        page.screenshot(path=OUT / "resident-list.png")
        page.locator("#resident-table tbody a").first.click()
        page.get_by_test_id("reveal-nik").click()
        page.get_by_test_id("nik-revealed").wait_for()
        page.screenshot(path=OUT / "resident-detail.png")

        # The clerk's work queue, and a request waiting for the resident's documents.
        page.goto(f"{BASE}/permohonan/?antrean=semua")
        page.wait_for_selector("#request-table")
        page.screenshot(path=OUT / "request-queue.png")
        page.goto(f"{BASE}/permohonan/?antrean=belum-lengkap")
        page.locator("#request-table tbody a").first.click()
        page.get_by_test_id("timeline").wait_for()
        page.screenshot(path=OUT / "request-detail.png")

        # The WhatsApp/SMS inbox: the thread waiting longest first, then the thread whose photo is the police
        # report of a hilang request (one click attaches it).
        page.goto(f"{BASE}/kotak-pesan/")
        page.get_by_test_id("oldest-waiting").wait_for()
        page.screenshot(path=OUT / "inbox.png")
        page.goto(f"{BASE}/kotak-pesan/?tampil=semua")
        page.locator("[data-testid=thread-row]", has=page.get_by_text("Gambar")).first.get_by_test_id(
            "open-thread"
        ).click()
        page.get_by_test_id("conversation").wait_for()
        page.screenshot(path=OUT / "inbox-thread.png", full_page=True)

        # Data-synchronisation requests (#SINKRONISASI): oldest first, with the age of the oldest.
        page.goto(f"{BASE}/sinkronisasi/")
        page.screenshot(path=OUT / "data-sync.png")

        # The counter: one walk-in number printed, then back to the counter.
        page.goto(f"{BASE}/loket/")
        page.get_by_test_id("issue-ticket").click()
        page.get_by_test_id("ticket-number").wait_for()
        page.goto(f"{BASE}/loket/")
        page.get_by_test_id("call-next").click()
        page.get_by_test_id("walk-in").wait_for()
        page.screenshot(path=OUT / "counter.png")

        # Blank cards, after a delivery of 12,000 (Ngawi's second batch, seed 004) is recorded by the supervisor.
        page.get_by_role("button", name="Keluar").click()
        _login(page, "kabid")
        page.goto(f"{BASE}/blangko/")
        page.locator("[data-testid=receipt-form] input[name=quantity]").fill("12000")
        page.locator("[data-testid=receipt-form] input[name=reference]").fill("BLANGKO/2026/11")
        page.locator("[data-testid=receipt-form] button").click()
        page.get_by_test_id("stock").wait_for()
        page.screenshot(path=OUT / "blanks.png")

        # A UPTD operator starts a hilang request for an elderly resident of Slahung.
        page.get_by_role("button", name="Keluar").click()
        _login(page, "uptd.slahung")
        page.goto(f"{BASE}/penduduk/")
        page.locator("#resident-table tbody a").nth(7).click()
        page.get_by_role("link", name="Buat permohonan").click()
        page.get_by_role("radio", name="Hilang").check()
        page.get_by_label("Catatan").fill("lansia, tidak bisa WhatsApp")
        page.screenshot(path=OUT / "request-create.png")

        # A supervisor imports the sample export with three rows spoiled; the real Celery worker runs it.
        page.get_by_role("button", name="Keluar").click()
        _login(page, "kabid")
        page.goto(f"{BASE}/penduduk/impor/")
        page.get_by_label("Berkas ekspor SIAK (CSV atau XLSX)").set_input_files(_spoiled_sample())
        page.get_by_test_id("import-submit").click()
        page.get_by_test_id("error-preview").wait_for(timeout=60_000)
        page.screenshot(path=OUT / "import-detail.png")
        page.goto(f"{BASE}/penduduk/impor/")
        page.locator("details summary").click()
        page.screenshot(path=OUT / "import-list.png")

        # The supervisor enrols an authenticator app (optional in the demo, required in production).
        page.goto(f"{BASE}/akun/2fa/daftar/")
        page.get_by_test_id("mfa-qr").wait_for()
        page.screenshot(path=OUT / "mfa-enrol.png")
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
