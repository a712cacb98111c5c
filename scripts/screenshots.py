"""Screenshots of the real pages for the README, from a running `make run` (demo data).

.venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000]
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ARGS = ["--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


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
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
