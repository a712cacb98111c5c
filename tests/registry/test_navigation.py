"""The grouped menu (registry/context_processors.py): each role's entries with the same permission checks as
before, grouped; the current page's entry and group marked; a page not built yet left out."""

from __future__ import annotations

import pytest
from django.urls import reverse

from registry import context_processors
from registry.context_processors import navigation_groups
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _menu(user, path: str = "/") -> dict[str, list[str]]:
    return {group.key: [item.key for item in group.items] for group in navigation_groups(user, path=path)}


def test_clerk_menu_has_the_counter_and_no_access_log_import_or_admin(clerk):
    menu = _menu(clerk)
    assert menu["layanan"][:3] == ["cardrequest_list", "thread_list", "counter"]
    assert "datasync_list" in menu["layanan"]
    assert {"blanks", "pickup_list", "shipment_list", "dispatch_list", "outbox_list"} <= set(menu["cetak"])
    assert menu["data"] == ["resident_list"]
    assert "admin" not in menu


def test_uptd_operator_menu_follows_its_permissions(uptd_a):
    menu = _menu(uptd_a)
    assert "counter" not in menu["layanan"] and "datasync_list" not in menu["layanan"]
    assert "dispatch_list" in menu["cetak"] and "blanks" not in menu["cetak"]
    assert "import_list" not in menu["data"] and "accesslog_list" not in menu["data"]


def test_supervisor_has_import_and_access_log_and_the_administrator_the_admin_site(supervisor, administrator):
    assert {"import_list", "accesslog_list"} <= set(_menu(supervisor)["data"])
    assert "admin" not in _menu(supervisor).get("admin", [])
    assert "index" in _menu(administrator)["admin"]  # admin:index


def test_an_account_without_permissions_gets_no_groups(ponorogo):
    assert navigation_groups(UserFactory(), path="/") == []


def test_the_entry_with_the_longest_matching_address_and_its_group_are_current(clerk):
    detail = reverse("cards:cardrequest_detail", args=[1])
    groups = navigation_groups(clerk, path=detail)
    active = [(group.key, item.key) for group in groups for item in group.items if item.active]
    assert active == [("layanan", "cardrequest_list")]
    assert [group.key for group in groups if group.active] == ["layanan"]
    # Home marks nothing in the groups (Beranda is its own link).
    assert not any(group.active for group in navigation_groups(clerk, path="/"))


def test_every_menu_entry_is_a_page():
    """The menu names only pages that exist: a renamed or removed page fails here, not in a clerk's browser."""
    names = [name for _key, _label, _icon, entries in context_processors.MENU for name, *_rest in entries]
    assert len(names) == len(set(names))
    for name in names:
        assert reverse(name).startswith("/")


def _menu_of_entries(entries, user) -> list[str]:
    return [name.rsplit(":", 1)[-1] for name, _label, _icon, test in entries if context_processors._allowed(user, test)]


def test_the_page_shows_the_groups_as_dropdowns_and_the_user_menu(client, supervisor):
    client.force_login(supervisor)
    html = client.get(reverse("registry:resident_list")).content.decode()
    assert 'id="mainnav"' in html
    assert 'data-nav-group="data"' in html and "dropdown-toggle active" in html
    assert 'data-testid="user-menu"' in html and 'data-testid="logout"' in html
    assert html.index('data-testid="office"') > html.index('data-testid="user-menu"')


@pytest.mark.parametrize("role", ["clerk", "uptd_a", "supervisor", "administrator"])
def test_every_entry_a_role_is_shown_opens_for_that_role(client, request, role):
    """The menu's permission tests are the pages' own gates: no entry leads to a 403."""
    user = request.getfixturevalue(role)
    client.force_login(user)
    for group in navigation_groups(user, path="/"):
        for item in group.items:
            assert client.get(item.url).status_code == 200, (role, item.key)


def test_a_supervisor_is_not_offered_the_staff_pages_it_may_not_open(supervisor, administrator):
    assert "staff_list" not in _menu(supervisor).get("admin", [])
    assert "staff_list" in _menu(administrator)["admin"]
