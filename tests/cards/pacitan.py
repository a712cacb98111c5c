"""A clerk of Kabupaten Pacitan (35.01), the kabupaten beside Ponorogo, for "another kabupaten sees nothing"
tests."""

from __future__ import annotations

from registry.models import Office, Region, Role, User
from registry.roles import staff_assign_role
from tests.factories import UserFactory


def pacitan_clerk() -> User:
    Region.objects.get_or_create(
        code="35.01", defaults={"level": 2, "kind": "kabupaten", "parent_id": "35", "name": "PACITAN", "decree": "x"}
    )
    office, _created = Office.objects.get_or_create(
        region_id="35.01", defaults={"kind": "disdukcapil", "name": "Disdukcapil Kabupaten Pacitan"}
    )
    return staff_assign_role(user=UserFactory(username="petugas.pacitan"), role=Role.CLERK, office=office, by=None)
