"""Creating the offices of a kabupaten/kota: its Disdukcapil and one UPTD per kecamatan."""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils.translation import gettext as _

from registry.models import Office, Region, User, time_zone_of_region


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


def office_settings_update(*, office_id: int, values: dict[str, object], by: User) -> list[str]:
    """Change an office's settings (letterhead, signatory, service settings) from the app's settings page.
    Returns the fields changed.

    Invariants: only an office of `by`'s scope; only the named fields change, on the row locked while they
    do; the change is a row of the office's history (the admin's LogEntry, naming the fields and who); a
    replaced or removed logo's file is deleted once the change is committed, never before."""
    with transaction.atomic():
        office = Office.objects.visible_to(by).select_for_update(of=("self",)).filter(pk=office_id).first()
        if office is None:
            raise OfficeError(_("Kantor itu tidak ada di wilayah Anda."))
        old_logo = office.logo.name if office.logo else ""
        for name, value in values.items():
            setattr(office, name, "" if name == "logo" and value is False else value)
        if not values:
            return []
        office.save(update_fields=list(values))
        LogEntry.objects.log_actions(
            user_id=by.pk,
            queryset=[office],
            action_flag=CHANGE,
            change_message=[
                {"changed": {"fields": [str(Office._meta.get_field(name).verbose_name) for name in values]}}
            ],
            single_object=True,
        )
        new_logo = office.logo.name if office.logo else ""
        if old_logo and old_logo != new_logo:
            storage = office.logo.storage
            transaction.on_commit(lambda: storage.delete(old_logo))
    return list(values)
