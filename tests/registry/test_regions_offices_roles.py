from __future__ import annotations

import pytest
from django.core.management import call_command

from registry.models import Office, Region, Role
from registry.offices import offices_create_for_kabupaten
from registry.regions import DECREE, EXPECTED_COUNTS, regions_load
from registry.roles import RoleError, staff_assign_role
from tests.factories import UserFactory


@pytest.mark.django_db
def test_load_regions_loads_the_whole_decree_idempotently():
    first = regions_load()
    assert first.counts == EXPECTED_COUNTS == {1: 38, 2: 514, 3: 7285, 4: 83762}
    assert not first.skipped
    again = regions_load()
    assert again.skipped
    assert Region.objects.count() == 91_599
    slahung = Region.objects.get(code="35.02.01")
    assert (slahung.name, slahung.level, slahung.parent_id, slahung.decree) == ("Slahung", 3, "35.02", DECREE)
    assert Region.objects.get(code="35.02.01.2001").postal_code == "63463"
    # Forced re-load upserts in place: same rows, no duplicates.
    regions_load(force=True)
    assert Region.objects.count() == 91_599


@pytest.mark.django_db
def test_load_regions_command_reports_counts(capsys):
    call_command("load_regions")
    out = capsys.readouterr().out
    assert "7,285 kecamatan" in out and "83,762 desa/kelurahan" in out


def test_create_offices_makes_one_uptd_per_kecamatan_and_is_idempotent(ponorogo):
    head = ponorogo
    assert head.kind == Office.Kind.DISDUKCAPIL
    assert head.branches.count() == 21
    head.name = "Dispendukcapil Ponorogo"
    head.save(update_fields=["name"])
    again, branches = offices_create_for_kabupaten(kabupaten_code="35.02")
    assert again.name == "Dispendukcapil Ponorogo"  # edits kept
    assert Office.objects.count() == 22
    assert {b.region.parent_id for b in branches} == {"35.02"}


def test_staff_role_gives_the_role_group_and_permissions(ponorogo):
    user = UserFactory()
    staff_assign_role(user=user, role=Role.SUPERVISOR, office=ponorogo, by=None)
    user = type(user).objects.get(pk=user.pk)
    assert user.has_perm("registry.view_accesslog")
    assert not user.is_staff
    staff_assign_role(user=user, role=Role.CLERK, office=ponorogo, by=None)
    user = type(user).objects.get(pk=user.pk)
    assert not user.has_perm("registry.view_accesslog")
    assert user.groups.count() == 1


def test_uptd_operator_must_sit_in_a_uptd(ponorogo):
    with pytest.raises(RoleError):
        staff_assign_role(user=UserFactory(), role=Role.UPTD_OPERATOR, office=ponorogo, by=None)
    with pytest.raises(RoleError):
        staff_assign_role(user=UserFactory(), role=Role.CLERK, office=Office.objects.get(region_id="35.02.01"), by=None)


def test_administrator_gets_the_admin_site(ponorogo):
    user = staff_assign_role(user=UserFactory(), role=Role.ADMINISTRATOR, office=ponorogo, by=None)
    assert user.is_staff
