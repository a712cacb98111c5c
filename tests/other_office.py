"""A clerk of another kabupaten (Trenggalek), for "out of scope answers 404" tests."""

from __future__ import annotations

from registry.models import Office, Region, Role, User
from registry.roles import staff_assign_role
from tests.factories import UserFactory


def clerk_of_another_kabupaten() -> User:
    Region.objects.get_or_create(
        code="35.03", defaults={"level": 2, "kind": "kabupaten", "parent_id": "35", "name": "TRENGGALEK", "decree": "x"}
    )
    office, _created = Office.objects.get_or_create(
        region_id="35.03", defaults={"kind": "disdukcapil", "name": "Disdukcapil Kabupaten Trenggalek"}
    )
    return staff_assign_role(user=UserFactory(username="petugas.trenggalek"), role=Role.CLERK, office=office, by=None)
