from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from registry.models import Family, Office, Region, Resident
from tests.factories import FamilyFactory, ResidentFactory, UserFactory


def test_uptd_operator_sees_only_own_kecamatan(uptd_a, resident_a, resident_b):
    assert list(Resident.objects.visible_to(uptd_a)) == [resident_a]


def test_kabupaten_staff_see_every_kecamatan_of_their_kabupaten(clerk, resident_a, resident_b):
    assert set(Resident.objects.visible_to(clerk)) == {resident_a, resident_b}


def test_kabupaten_staff_do_not_see_another_kabupaten(clerk, resident_a):
    from registry.regions import regions_load

    regions_load(within="35.19")  # Kabupaten Madiun
    outsider = ResidentFactory(desa_id="35.19.01.2001")
    visible = set(Resident.objects.visible_to(clerk))
    assert resident_a in visible
    assert outsider not in visible


def test_families_and_offices_and_regions_are_scoped(uptd_a, ponorogo):
    own = FamilyFactory(desa_id="35.02.01.2003")
    other = FamilyFactory(desa_id="35.02.02.2001")
    assert list(Family.objects.visible_to(uptd_a)) == [own]
    assert other not in Family.objects.visible_to(uptd_a)
    assert list(Office.objects.visible_to(uptd_a).values_list("region_id", flat=True)) == ["35.02.01"]
    desa = Region.objects.visible_to(uptd_a).filter(level=4)
    assert desa.exists()
    assert all(code.startswith("35.02.01.") for code in desa.values_list("code", flat=True))


def test_anonymous_and_officeless_accounts_see_nothing(db, resident_a):
    assert not Resident.objects.visible_to(AnonymousUser()).exists()
    assert not Resident.objects.visible_to(UserFactory()).exists()


def test_inactive_staff_see_nothing(uptd_a, resident_a):
    uptd_a.is_active = False
    assert not Resident.objects.visible_to(uptd_a).exists()


def test_platform_superuser_without_office_sees_everything(resident_a, resident_b):
    root = UserFactory(is_superuser=True, is_staff=True)
    assert Resident.objects.visible_to(root).count() == 2


@pytest.mark.parametrize("role", ["clerk", "uptd_a"])
def test_kecamatan_filter_choices_stay_in_scope(request, role, ponorogo):
    from registry.filters import kecamatan_choices_for

    user = request.getfixturevalue(role)
    codes = list(kecamatan_choices_for(user).values_list("code", flat=True))
    assert codes == ["35.02.01"] if role == "uptd_a" else len(codes) == 21
