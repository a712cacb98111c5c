"""Staff accounts in the app (registry/staff.py, registry/staff_views.py): an office's administrator adds,
edits, deactivates and reactivates accounts, sets passwords and lifts lockouts within its kabupaten; every
change is a STAFF_CHANGE row of the access log; nobody acts on their own role, office or activity; a peer
administrator's password and superusers are out of reach."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.models import AccessLog, Office, Role, User
from registry.roles import staff_assign_role
from registry.staff import (
    StaffError,
    staff_active_set,
    staff_password_generate,
    staff_password_problem,
    staff_update,
    staff_visible_to,
)
from registry.staff_views import ONCE_SESSION_KEY
from tests.conftest import KEC_A, PASSWORD
from tests.factories import UserFactory
from tests.other_office import clerk_of_another_kabupaten

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Kunci-Loket-2027"


def signs_in(username: str, password: str) -> User | None:
    """The account the login form would accept for these credentials (the lockout aside), or None."""
    account = User.objects.filter(username=username).first()
    return account if account and account.is_active and account.check_password(password) else None


def staff_rows() -> list[AccessLog]:
    return list(AccessLog.objects.filter(action=AccessLog.Action.STAFF_CHANGE).order_by("seq"))


def details() -> list[str]:
    return [str(row.detail) for row in staff_rows()]


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def uptd_office(ponorogo) -> Office:
    return Office.objects.get(region_id=KEC_A)


# --- the list ----------------------------------------------------------------------------------------------


def test_list_shows_the_kabupaten_accounts_with_their_state(admin_client, clerk, uptd_a, supervisor, settings):
    TOTPDevice.objects.create(user=supervisor, name="x", confirmed=True)
    AccessAttempt.objects.create(
        username=clerk.username,
        ip_address="10.0.0.1",
        user_agent="x",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        attempt_time=timezone.now(),
    )
    response = admin_client.get(reverse("registry:staff_list"))
    assert response.status_code == 200
    page = {account.username: account for account in response.context["page"]}
    assert {"petugas", "uptd.slahung", "kabid", "admin"} <= set(page)
    assert page["kabid"].has_mfa and not page["petugas"].has_mfa
    assert page["petugas"].locked_out and not page["kabid"].locked_out
    assert page["uptd.slahung"].office.region_id == KEC_A
    body = response.content.decode()
    assert "Operator UPTD" in body and 'data-testid="locked-out"' in body


def test_list_filters_by_role_status_and_name(admin_client, clerk, uptd_a, supervisor):
    User.objects.filter(pk=clerk.pk).update(is_active=False)
    by_role = admin_client.get(reverse("registry:staff_list"), {"role": Role.UPTD_OPERATOR})
    assert [a.username for a in by_role.context["page"]] == ["uptd.slahung"]
    inactive = admin_client.get(reverse("registry:staff_list"), {"status": "inactive"})
    assert [a.username for a in inactive.context["page"]] == ["petugas"]
    by_name = admin_client.get(reverse("registry:staff_list"), {"q": "kabi"})
    assert [a.username for a in by_name.context["page"]] == ["kabid"]


def test_superusers_and_other_kabupaten_are_invisible(admin_client, administrator, clerk, ponorogo):
    platform = User.objects.create_superuser("root", password=PASSWORD)
    attached = UserFactory(username="super.kantor", is_superuser=True)
    staff_assign_role(user=attached, role=Role.CLERK, office=ponorogo, by=None)
    other = clerk_of_another_kabupaten()
    visible = set(staff_visible_to(administrator).values_list("username", flat=True))
    assert "petugas" in visible
    assert not visible & {platform.username, attached.username, other.username}
    response = admin_client.get(reverse("registry:staff_list"))
    assert b"super.kantor" not in response.content and b"petugas.trenggalek" not in response.content
    for account in (platform, attached, other):
        assert admin_client.get(reverse("registry:staff_edit", args=[account.pk])).status_code == 404
        assert admin_client.post(reverse("registry:staff_deactivate", args=[account.pk])).status_code == 404
        assert admin_client.post(reverse("registry:staff_password_reset", args=[account.pk]), {}).status_code == 404
    assert User.objects.get(pk=other.pk).is_active
    assert staff_rows() == []


@pytest.mark.parametrize("role", ["clerk", "uptd_a", "supervisor"])
def test_other_roles_get_403(client, request, role, clerk):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("registry:staff_list")).status_code == 403
    assert client.get(reverse("registry:staff_create")).status_code == 403
    assert client.post(reverse("registry:staff_deactivate", args=[clerk.pk])).status_code == 403
    assert User.objects.get(pk=clerk.pk).is_active


# --- adding an account -------------------------------------------------------------------------------------


def test_add_a_clerk_with_a_chosen_password(admin_client, administrator, ponorogo):
    response = admin_client.post(
        reverse("registry:staff_create"),
        {
            "username": "loket3",
            "first_name": "Rina",
            "last_name": "Wati",
            "email": "rina@example.org",
            "role": Role.CLERK,
            "office": ponorogo.pk,
            "password_mode": "set",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    account = User.objects.get(username="loket3")
    assert response.status_code == 302 and response["Location"] == reverse("registry:staff_edit", args=[account.pk])
    assert (account.role, account.office_id, account.is_staff) == (Role.CLERK, ponorogo.pk, False)
    assert account.groups.filter(name="Petugas").exists()
    assert signs_in("loket3", NEW_PASSWORD) == account
    [row] = staff_rows()
    assert row.user_id == administrator.pk and "loket3" in str(row.detail) and "Petugas" in str(row.detail)
    assert ONCE_SESSION_KEY not in admin_client.session  # a typed password is not shown back


def test_add_with_a_generated_password_shows_it_once(admin_client, uptd_office):
    response = admin_client.post(
        reverse("registry:staff_create"),
        {
            "username": "uptd.baru",
            "first_name": "Andi",
            "role": Role.UPTD_OPERATOR,
            "office": uptd_office.pk,
            "password_mode": "generate",
        },
    )
    account = User.objects.get(username="uptd.baru")
    page = admin_client.get(response["Location"])
    shown = page.context["shown_password"]
    assert shown and len(shown) >= 12
    assert signs_in("uptd.baru", shown) == account
    assert shown in page.content.decode()
    again = admin_client.get(response["Location"])
    assert again.context["shown_password"] is None and shown not in again.content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": "petugas"}, "username"),  # taken
        ({"username": "PETUGAS"}, "username"),  # taken, whatever the case
        ({"username": "spasi di nama"}, "username"),
        ({"role": Role.UPTD_OPERATOR}, "office"),  # a UPTD operator at the Disdukcapil
        ({"password1": "123", "password2": "123"}, "password1"),
        ({"password2": "Lain-Lagi-2027"}, "password2"),
        ({"password1": "", "password2": ""}, "password1"),
    ],
)
def test_add_refuses_bad_input_beside_the_field(admin_client, clerk, ponorogo, changes, field):
    data = {
        "username": "baru",
        "first_name": "Baru",
        "role": Role.CLERK,
        "office": ponorogo.pk,
        "password_mode": "set",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    } | changes
    before = User.objects.count()
    response = admin_client.post(reverse("registry:staff_create"), data)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert User.objects.count() == before and staff_rows() == []


def test_add_refuses_an_office_of_another_kabupaten(admin_client):
    other = clerk_of_another_kabupaten()
    response = admin_client.post(
        reverse("registry:staff_create"),
        {
            "username": "x1",
            "first_name": "X",
            "role": Role.CLERK,
            "office": other.office_id,
            "password_mode": "generate",
        },
    )
    assert response.context["form"].errors["office"]
    assert not User.objects.filter(username="x1").exists()


# --- editing, role and office ------------------------------------------------------------------------------


def test_change_role_and_office_writes_one_row(admin_client, administrator, clerk, uptd_office):
    response = admin_client.post(
        reverse("registry:staff_edit", args=[clerk.pk]),
        {"first_name": "Petugas", "last_name": "", "email": "", "role": Role.UPTD_OPERATOR, "office": uptd_office.pk},
    )
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert (clerk.role, clerk.office_id) == (Role.UPTD_OPERATOR, uptd_office.pk)
    [row] = staff_rows()
    assert "peran Petugas → Operator UPTD; kantor Disdukcapil" in str(row.detail)


def test_change_name_is_logged_without_a_role_row(admin_client, clerk, ponorogo):
    admin_client.post(
        reverse("registry:staff_edit", args=[clerk.pk]),
        {"first_name": "Siti", "last_name": "Rahma", "email": "", "role": Role.CLERK, "office": ponorogo.pk},
    )
    clerk.refresh_from_db()
    assert (clerk.first_name, clerk.last_name) == ("Siti", "Rahma")
    [row] = staff_rows()
    labels = [str(User._meta.get_field(name).verbose_name) for name in ("first_name", "last_name")]
    assert all(label in str(row.detail) for label in labels)
    assert "email" not in str(row.detail)


def test_cannot_change_own_role_or_office(admin_client, administrator, uptd_office, ponorogo):
    # The form shows them disabled: a posted value is ignored and the stored one kept.
    admin_client.post(
        reverse("registry:staff_edit", args=[administrator.pk]),
        {"first_name": "Admin", "last_name": "", "email": "", "role": Role.CLERK, "office": uptd_office.pk},
    )
    administrator.refresh_from_db()
    assert (administrator.role, administrator.office_id) == (Role.ADMINISTRATOR, ponorogo.pk)
    assert not any("→" in detail for detail in details())


# --- deactivate / reactivate -------------------------------------------------------------------------------


def test_deactivate_and_reactivate(admin_client, administrator, clerk):
    response = admin_client.post(reverse("registry:staff_deactivate", args=[clerk.pk]))
    assert response.status_code == 302
    assert not User.objects.get(pk=clerk.pk).is_active
    assert signs_in("petugas", PASSWORD) is None
    admin_client.post(reverse("registry:staff_reactivate", args=[clerk.pk]))
    assert User.objects.get(pk=clerk.pk).is_active
    assert [d.split(") ")[-1] for d in details()] == ["dinonaktifkan", "diaktifkan kembali"]
    assert all(row.user_id == administrator.pk for row in staff_rows())


def test_a_deactivated_account_loses_its_open_session(admin_client, clerk):
    clerk_browser = Client()
    clerk_browser.force_login(clerk)
    assert clerk_browser.get(reverse("registry:resident_list")).status_code == 200
    admin_client.post(reverse("registry:staff_deactivate", args=[clerk.pk]))
    response = clerk_browser.get(reverse("registry:resident_list"))
    assert response.status_code == 302 and "/masuk/" in response["Location"]


def test_deactivating_twice_changes_nothing_more(admin_client, administrator, clerk):
    staff_active_set(by=administrator, account_id=clerk.pk, active=False, client_address=None)
    with pytest.raises(StaffError):
        staff_active_set(by=administrator, account_id=clerk.pk, active=False, client_address=None)
    assert len(staff_rows()) == 1


def test_cannot_deactivate_self(admin_client, administrator):
    response = admin_client.post(reverse("registry:staff_deactivate", args=[administrator.pk]), follow=True)
    assert User.objects.get(pk=administrator.pk).is_active
    assert "sendiri" in response.content.decode()
    assert staff_rows() == []


# --- passwords and lockouts --------------------------------------------------------------------------------


def test_reset_a_clerks_password(admin_client, clerk, settings):
    AccessAttempt.objects.create(
        username=clerk.username,
        ip_address="10.0.0.1",
        user_agent="x",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        attempt_time=timezone.now(),
    )
    response = admin_client.post(
        reverse("registry:staff_password_reset", args=[clerk.pk]),
        {"password_mode": "set", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=clerk.pk).check_password(NEW_PASSWORD)
    assert not AccessAttempt.objects.filter(username=clerk.username).exists()
    assert details() == [f"Kata sandi diganti: akun petugas (#{clerk.pk})"]


def test_peer_administrators_password_is_refused(admin_client, ponorogo):
    peer = staff_assign_role(user=UserFactory(username="admin2"), role=Role.ADMINISTRATOR, office=ponorogo, by=None)
    page = admin_client.get(reverse("registry:staff_password_reset", args=[peer.pk]))
    assert page.context["problem"] and b"staff-password-form" not in page.content
    response = admin_client.post(
        reverse("registry:staff_password_reset", args=[peer.pk]),
        {"password_mode": "set", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 403
    assert User.objects.get(pk=peer.pk).check_password(PASSWORD)
    assert staff_rows() == []


def test_a_peer_administrator_cannot_be_demoted_to_reach_their_password(admin_client, administrator, ponorogo):
    """Demote, reset, promote back: the peer's password would be the administrator's after all. A peer
    administrator's role and office are the platform's to change, like their password."""
    peer = staff_assign_role(user=UserFactory(username="admin2"), role=Role.ADMINISTRATOR, office=ponorogo, by=None)
    page = admin_client.get(reverse("registry:staff_edit", args=[peer.pk]))
    assert page.context["form"].fields["role"].disabled and page.context["form"].fields["office"].disabled
    admin_client.post(
        reverse("registry:staff_edit", args=[peer.pk]),
        {"first_name": "Admin", "last_name": "Dua", "email": "", "role": Role.CLERK, "office": ponorogo.pk},
    )
    peer.refresh_from_db()
    assert (peer.role, peer.first_name) == (Role.ADMINISTRATOR, "Admin")  # the name is still theirs to edit
    with pytest.raises(StaffError):
        staff_update(
            by=administrator, account_id=peer.pk, first_name="Admin", last_name="Dua", email="",
            role=Role.CLERK, office=ponorogo, client_address=None,
        )  # fmt: skip
    peer.refresh_from_db()
    assert peer.role == Role.ADMINISTRATOR
    assert not any("→" in detail for detail in details())
    assert staff_password_problem(by=administrator, account=peer)


def test_own_password_is_not_reset_here(admin_client, administrator):
    response = admin_client.post(
        reverse("registry:staff_password_reset", args=[administrator.pk]),
        {"password_mode": "generate"},
    )
    assert response.status_code == 403
    assert User.objects.get(pk=administrator.pk).check_password(PASSWORD)


def test_weak_password_is_a_field_error(admin_client, clerk):
    response = admin_client.post(
        reverse("registry:staff_password_reset", args=[clerk.pk]),
        {"password_mode": "set", "password1": "12345678901", "password2": "12345678901"},
    )
    assert response.status_code == 400 and response.context["form"].errors["password1"]
    assert User.objects.get(pk=clerk.pk).check_password(PASSWORD)


def test_unlock_lifts_the_lockout(admin_client, clerk, settings):
    AccessAttempt.objects.create(
        username=clerk.username,
        ip_address="10.0.0.1",
        user_agent="x",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        attempt_time=timezone.now(),
    )
    admin_client.post(reverse("registry:staff_unlock", args=[clerk.pk]))
    assert not AccessAttempt.objects.filter(username=clerk.username).exists()
    assert details() == [f"Kunci masuk dibuka: akun petugas (#{clerk.pk})"]


def test_generated_passwords_pass_the_validators():
    for _ in range(20):
        validate_password(staff_password_generate())  # raises when refused


def test_home_attention_links_list_exactly_those_accounts(admin_client, clerk, supervisor, uptd_a, settings):
    """The administrator's home links here with ?perhatian=...: the list shows the accounts it counted."""
    User.objects.filter(pk__in=[clerk.pk, supervisor.pk]).update(last_login=timezone.now())
    AccessAttempt.objects.create(
        username=clerk.username,
        ip_address="10.0.0.1",
        user_agent="x",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        attempt_time=timezone.now(),
    )

    def listed(attention: str) -> set[str]:
        response = admin_client.get(reverse("registry:staff_list"), {"perhatian": attention})
        return {account.username for account in response.context["page"]}

    assert listed("terkunci") == {"petugas"}
    assert listed("tanpa-2fa") == {"kabid", "admin"}
    assert listed("belum-masuk") == {"uptd.slahung"}  # the administrator has just signed in


# --- the owner chooses their own password --------------------------------------------------------------------


def test_after_a_reset_the_owner_must_choose_a_password_first(admin_client, clerk):
    admin_client.post(
        reverse("registry:staff_password_reset", args=[clerk.pk]),
        {"password_mode": "set", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert User.objects.get(pk=clerk.pk).password_change_required
    owner = Client()
    owner.force_login(User.objects.get(pk=clerk.pk))
    response = owner.get(reverse("registry:resident_list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:password_change") + "?next=%2Fpenduduk%2F"
    assert owner.post(reverse("registry:resident_reveal_nik", args=[1])).status_code == 302  # no way around it

    wrong_old = owner.post(
        reverse("registry:password_change"),
        {"old_password": "salah", "new_password1": "Pilihan-Sendiri-9", "new_password2": "Pilihan-Sendiri-9"},
    )
    assert wrong_old.status_code == 400 and wrong_old.context["form"].errors["old_password"]
    done = owner.post(
        reverse("registry:password_change"),
        {
            "old_password": NEW_PASSWORD,
            "new_password1": "Pilihan-Sendiri-9",
            "new_password2": "Pilihan-Sendiri-9",
            "next": "/penduduk/",
        },
    )
    assert done.status_code == 302 and done["Location"] == "/penduduk/"
    account = User.objects.get(pk=clerk.pk)
    assert not account.password_change_required and account.check_password("Pilihan-Sendiri-9")
    assert owner.get(reverse("registry:resident_list")).status_code == 200  # still signed in


def test_a_new_account_must_choose_its_password(admin_client, ponorogo):
    admin_client.post(
        reverse("registry:staff_create"),
        {"username": "baru2", "first_name": "B", "role": "clerk", "office": ponorogo.pk, "password_mode": "generate"},
    )
    assert User.objects.get(username="baru2").password_change_required


def test_the_list_costs_the_same_queries_for_3_or_30_accounts(admin_client, ponorogo):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(reverse("registry:staff_list")).status_code == 200
        return len(captured)

    for _ in range(2):
        staff_assign_role(user=UserFactory(), role=Role.CLERK, office=ponorogo, by=None)
    few = queries_for_list()
    for _ in range(27):
        staff_assign_role(user=UserFactory(), role=Role.CLERK, office=ponorogo, by=None)
    assert queries_for_list() == few


def test_own_page_offers_no_deactivation_and_a_peers_page_no_password(admin_client, administrator, ponorogo):
    own = admin_client.get(reverse("registry:staff_edit", args=[administrator.pk]))
    assert own.context["is_self"] and own.context["form"].fields["role"].disabled
    assert b'data-testid="staff-deactivate"' not in own.content
    peer = staff_assign_role(user=UserFactory(username="admin2"), role=Role.ADMINISTRATOR, office=ponorogo, by=None)
    page = admin_client.get(reverse("registry:staff_edit", args=[peer.pk]))
    assert b'data-testid="password-problem"' in page.content and b'data-testid="staff-password"' not in page.content
    assert b'data-testid="staff-deactivate"' in page.content
