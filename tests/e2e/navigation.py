"""Browser helpers for the grouped menu (templates/base.html): an entry may sit in a group's dropdown, and
the office, 2FA, language and logout sit in the user menu at the right."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page


def _named(label: str) -> re.Pattern:
    return re.compile(rf"^\s*{re.escape(label)}\s*$")


def nav_entry(page: Page, label: str) -> Locator:
    """The menu entry named `label` (exactly), shown or inside a closed dropdown."""
    return page.locator("#mainnav").locator("a.nav-link, a.dropdown-item").filter(has_text=_named(label))


def nav_go(page: Page, label: str) -> None:
    """Open the page of the menu entry `label`: open its group's dropdown first when the entry sits in one."""
    entry = nav_entry(page, label)
    if not entry.is_visible():
        inside = page.locator("a.dropdown-item").filter(has_text=_named(label))
        page.locator("#mainnav li.dropdown").filter(has=inside).locator(".dropdown-toggle").click()
    entry.click()


def user_menu_open(page: Page) -> Locator:
    """Open the user menu (office and role, 2FA, language, logout) and return it."""
    page.get_by_test_id("user-menu-toggle").click()
    menu = page.get_by_test_id("user-menu").locator(".dropdown-menu")
    menu.wait_for(state="visible")
    return menu


def logout(page: Page) -> None:
    user_menu_open(page).get_by_role("button", name="Keluar").click()
