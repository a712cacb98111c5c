"""What registry announces to the apps above it, which it may not import (cards follows a resident's moves).

`residents_moved` is sent with `resident_ids` (and `by`, the staff account or None) when residents' kecamatan
changed, inside the transaction that changed it: a receiver's writes commit or roll back with the move, so
nothing that follows a resident's kecamatan is ever left behind. It is sent from the two places a resident's
kecamatan changes: any `Resident.save()` (the resident form, the admin; see the pre/post-save hooks below,
connected in RegistryConfig.ready()) and the importer's set-based merge (registry/importer/engine.py).
"""

from __future__ import annotations

from django.dispatch import Signal

from registry.models import Resident

residents_moved = Signal()


def resident_kecamatan_before_save(sender, instance: Resident, update_fields=None, **kwargs) -> None:
    """Remember the stored kecamatan of a resident about to be saved (one indexed read), so the save can
    tell whether it moved them."""
    instance._kecamatan_stored = None
    if instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not {"kecamatan", "kecamatan_id", "desa", "desa_id"} & set(update_fields):
        return
    instance._kecamatan_stored = Resident.objects.filter(pk=instance.pk).values_list("kecamatan_id", flat=True).first()


def resident_moved_after_save(sender, instance: Resident, created: bool, **kwargs) -> None:
    stored = getattr(instance, "_kecamatan_stored", None)
    instance._kecamatan_stored = None
    if not created and stored is not None and stored != instance.kecamatan_id:
        residents_moved.send(sender=Resident, resident_ids=[instance.pk], by=None)
