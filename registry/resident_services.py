"""Changes staff make to a resident's own record, each with its history row (ResidentChange)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from registry.models import MaritalStatus, Resident, ResidentChange, User


class ResidentError(Exception):
    """A refused change to a resident; the message is for the clerk, in their language."""


def resident_marital_status_set(*, resident_id: int, status: str, by: User) -> ResidentChange | None:
    """Set the resident's marital status ("" = unknown) and return the history row, or None when the
    status was already that.

    Invariant: the stored status never changes without a ResidentChange {"marital_status": [old, new]}
    written in the same transaction, and only staff allowed to change residents change it, within their
    scope. The row is re-read under lock, so two clerks changing it at once each record the value they
    really replaced.
    """
    if not by.has_perm("registry.change_resident"):
        raise ResidentError(_("Anda tidak berwenang mengubah data penduduk."))
    if status and status not in MaritalStatus.values:
        raise ResidentError(_("Status perkawinan tidak dikenal."))
    with transaction.atomic():
        resident = (
            Resident.objects.visible_to(by)
            .select_for_update()
            .only("id", "kecamatan_id", "marital_status")
            .filter(pk=resident_id)
            .first()
        )
        if resident is None:
            raise ResidentError(_("Penduduk tidak ditemukan di wilayah Anda."))
        old = resident.marital_status
        if old == status:
            return None
        resident.marital_status = status
        resident.save(update_fields=["marital_status", "updated_at"])
        return ResidentChange.objects.create(resident=resident, changes={"marital_status": [old, status]})
