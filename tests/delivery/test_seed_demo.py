"""seed_demo: only in DEBUG (the demo logins share a published password), and it never touches an account that
already exists."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from registry.models import Office, Region, Resident, Role, User
from registry.roles import staff_assign_role
from tests.conftest import KEC_A, PASSWORD
from tests.factories import UserFactory


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_refuses_outside_debug_and_writes_nothing(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=True"):
        _seed("--residents", "0")
    assert not User.objects.exists()
    assert not Region.objects.exists()
    assert not Office.objects.exists()
    assert not Resident.objects.exists()


def test_seed_demo_never_touches_an_existing_account(settings, ponorogo, resident_a):
    settings.DEBUG = True
    # A real account that happens to use a demo username: an operator of UPTD Slahung with their own password.
    admin = staff_assign_role(
        user=UserFactory(username="admin", first_name="Sri"),
        role=Role.UPTD_OPERATOR,
        office=Office.objects.get(region_id=KEC_A),
        by=None,
    )
    before = User.objects.values().get(pk=admin.pk)

    output = _seed("--if-empty")

    assert User.objects.values().get(pk=admin.pk) == before  # password, role, office, name: all as they were
    admin.refresh_from_db()
    assert admin.check_password(PASSWORD) and not admin.check_password(settings.DEMO_PASSWORD)
    assert "sudah ada" in output
    # The free demo usernames were created, with the demo password.
    clerk = User.objects.get(username="petugas")
    assert clerk.role == Role.CLERK and clerk.check_password(settings.DEMO_PASSWORD)
    # A second run changes nothing either, the accounts it made itself included.
    clerk.set_password("an-own-password-123")
    clerk.save(update_fields=["password"])
    _seed("--if-empty")
    assert User.objects.get(username="petugas").check_password("an-own-password-123")
    assert User.objects.values().get(pk=admin.pk) == before
