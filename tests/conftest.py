"""Role fixtures in the healthchecks alice/bob/charlie spirit: a clerk and a supervisor of Kabupaten
Ponorogo, UPTD operators of two kecamatan (Slahung = A, Ngrayun = B), and residents in each."""

from __future__ import annotations

import os

import pytest

from registry.models import Office, Role
from registry.offices import offices_create_for_kabupaten
from registry.regions import region_codes, regions_load
from registry.roles import staff_assign_role
from tests.factories import FamilyFactory, ResidentFactory, UserFactory

PASSWORD = "kata-sandi-uji-123"
KEC_A = "35.02.01"  # Slahung
KEC_B = "35.02.02"  # Ngrayun
DESA_A = "35.02.01.2001"
DESA_B = "35.02.02.2001"


def pytest_collection_modifyitems(config, items):
    if os.path.exists("/usr/bin/chromium"):
        return
    skip = pytest.mark.skip(reason="Debian's chromium (/usr/bin/chromium) is not installed")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 costs ~0.2 s per account on these machines and the role fixtures make several per test; the
    suite hashes with MD5 (production keeps Django's default)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ponorogo(db):
    """Kabupaten Ponorogo's regions (with its province) and its offices."""
    regions_load(within="35.02")
    region_codes.cache_clear()
    head, _ = offices_create_for_kabupaten(kabupaten_code="35.02")
    yield head
    region_codes.cache_clear()


def _staff(username: str, role: Role, region_code: str):
    user = UserFactory(username=username, first_name=username.title())
    return staff_assign_role(user=user, role=role, office=Office.objects.get(region_id=region_code))


@pytest.fixture
def clerk(ponorogo):
    return _staff("petugas", Role.CLERK, "35.02")


@pytest.fixture
def supervisor(ponorogo):
    return _staff("kabid", Role.SUPERVISOR, "35.02")


@pytest.fixture
def administrator(ponorogo):
    return _staff("admin", Role.ADMINISTRATOR, "35.02")


@pytest.fixture
def uptd_a(ponorogo):
    return _staff("uptd.slahung", Role.UPTD_OPERATOR, KEC_A)


@pytest.fixture
def uptd_b(ponorogo):
    return _staff("uptd.ngrayun", Role.UPTD_OPERATOR, KEC_B)


@pytest.fixture
def resident_a(ponorogo):
    family = FamilyFactory(desa_id=DESA_A)
    resident = ResidentFactory(desa_id=DESA_A, full_name="SITI AMINAH", family=family)
    family.head = resident
    family.save(update_fields=["head"])
    return resident


@pytest.fixture
def resident_b(ponorogo):
    return ResidentFactory(desa_id=DESA_B, full_name="BUDI SANTOSO")
