"""Creating the offices of a kabupaten/kota: its Disdukcapil and one UPTD per kecamatan."""

from __future__ import annotations

from django.db import transaction

from registry.models import Office, Region, time_zone_of_region


class OfficeError(ValueError):
    pass


def offices_create_for_kabupaten(*, kabupaten_code: str) -> tuple[Office, list[Office]]:
    """One Disdukcapil for the kabupaten/kota and one UPTD per kecamatan; edited offices stay as edited."""
    try:
        kabupaten = Region.objects.get(code=kabupaten_code, level=Region.Level.KABUPATEN)
    except Region.DoesNotExist as exc:
        raise OfficeError(f"Kabupaten/kota {kabupaten_code} tidak ada di tabel wilayah.") from exc
    with transaction.atomic():
        head, _ = Office.objects.get_or_create(
            region=kabupaten,
            defaults={
                "kind": Office.Kind.DISDUKCAPIL,
                "name": f"Disdukcapil {kabupaten.name}",
                "time_zone": time_zone_of_region(kabupaten.code),
            },
        )
        branches = []
        for kecamatan in Region.objects.filter(parent=kabupaten).order_by("code"):
            label = "Distrik" if kecamatan.kind == Region.Kind.DISTRIK else "Kecamatan"
            branch, _ = Office.objects.get_or_create(
                region=kecamatan,
                defaults={
                    "kind": Office.Kind.UPTD,
                    "parent": head,
                    "name": f"UPTD Dukcapil {label} {kecamatan.name}",
                    "time_zone": time_zone_of_region(kecamatan.code),
                },
            )
            branches.append(branch)
    return head, branches
