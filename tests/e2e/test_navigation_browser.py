"""The top bar on office screens (1024×768 and 1366×768): every role's bar is one line, nothing is cut off, the
user menu (office, 2FA, language, logout) is reachable and works; the home figures open their lists."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.navigation import nav_go, user_menu_open
from tests.factories import CardRequestFactory, ResidentFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "kata-sandi-uji-123"
VIEWPORTS = [(1024, 768), (1366, 768)]
ROLES = ["clerk", "uptd_a", "supervisor", "administrator", "platform"]

# Where each top-level element of the bar sits, measured in the page.
BAR_GEOMETRY = """() => {
  const nav = document.querySelector('[data-testid=navbar]');
  const parts = [nav.querySelector('.navbar-brand'), ...nav.querySelectorAll('#mainnav > ul > li')];
  const boxes = parts.map(e => e.getBoundingClientRect());
  const link = nav.querySelector('#mainnav .nav-link').getBoundingClientRect();
  return {
    centres: boxes.map(b => b.top + b.height / 2),
    rights: boxes.map(b => b.right),
    barHeight: nav.getBoundingClientRect().height,
    linkHeight: link.height,
    scrollWidth: document.documentElement.scrollWidth,
    width: window.innerWidth,
    toggler: getComputedStyle(nav.querySelector('.navbar-toggler')).display,
  };
}"""


@pytest.fixture
def platform(ponorogo):
    """A platform superuser: no office, every permission (the longest menu)."""
    return UserFactory(username="platform", is_superuser=True, is_staff=True)


def login(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/masuk/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(f"{base_url}/")


@pytest.mark.parametrize("width,height", VIEWPORTS, ids=["1024", "1366"])
@pytest.mark.parametrize("role", ROLES)
def test_every_roles_bar_is_one_line_and_the_user_menu_works(page: Page, live_server, request, role, width, height):
    user = request.getfixturevalue(role)
    page.set_viewport_size({"width": width, "height": height})
    login(page, live_server.url, user.username)

    bar = page.evaluate(BAR_GEOMETRY)
    assert bar["toggler"] == "none"  # the menu is laid out, not folded behind the burger button
    assert max(bar["centres"]) - min(bar["centres"]) <= 4, bar  # brand, groups and user menu on one row
    assert bar["barHeight"] < 2 * bar["linkHeight"], bar  # a single row of links high
    assert max(bar["rights"]) <= bar["width"], bar  # nothing cut off at the right
    assert bar["scrollWidth"] <= bar["width"], bar  # the page does not scroll sideways

    menu = user_menu_open(page)
    expect(menu.get_by_test_id("office")).to_be_visible()
    expect(menu.get_by_test_id("account-mfa")).to_be_visible()
    menu.get_by_role("button", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{live_server.url}/")

    menu = user_menu_open(page)
    menu.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/masuk/"))
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/masuk/"))  # signed out for real


def test_the_group_of_the_current_page_is_marked(page: Page, live_server, supervisor):
    page.set_viewport_size({"width": 1024, "height": 768})
    login(page, live_server.url, supervisor.username)
    nav_go(page, "Log akses")
    data = page.locator("#mainnav li[data-nav-group=data] > .nav-link")
    expect(data).to_have_class(re.compile(r"\bactive\b"))
    expect(page.locator("#mainnav li[data-nav-group=layanan] > .nav-link")).not_to_have_class(re.compile(r"\bactive\b"))
    nav_go(page, "Permohonan")
    expect(page.locator("#mainnav li[data-nav-group=layanan] > .nav-link")).to_have_class(re.compile(r"\bactive\b"))
    expect(data).not_to_have_class(re.compile(r"\bactive\b"))


def test_clerks_home_figures_open_the_lists_with_exactly_their_rows(page: Page, live_server, clerk, screenshot):
    for _ in range(3):
        CardRequestFactory(resident=ResidentFactory(desa_id="35.02.01.2001"), received=True)
    CardRequestFactory(resident=ResidentFactory(desa_id="35.02.02.2001"), verifying=True)
    for _ in range(2):
        CardRequestFactory(resident=ResidentFactory(desa_id="35.02.01.2001"), incomplete=True)
    CardRequestFactory(resident=ResidentFactory(desa_id="35.02.01.2001"), handed_over=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, live_server.url, clerk.username)
    screenshot("home-clerk")

    for key, count, queue in [("verify", 4, "verifikasi"), ("incomplete", 2, "belum-lengkap")]:
        expect(page.get_by_test_id(f"figure-{key}-value")).to_have_text(str(count))
        page.get_by_test_id(f"figure-{key}").click()
        expect(page).to_have_url(re.compile(rf"antrean={queue}"))
        expect(page.locator("#request-table tbody tr[data-id]")).to_have_count(count)
        page.go_back()
    page.get_by_test_id("figure-inbox").click()
    expect(page).to_have_url(re.compile(r"tampil=menunggu"))
