"""Linking a WhatsApp/SMS sender to a resident: a deliberate clerk action (from the inbox thread), never a side
effect of a message. SINKRONISASI is something else (cards/data_sync.py).

The link decides where the resident's messages go, so a wrong link would send their card news to a stranger:
only a clerk or supervisor of the resident's kabupaten may make it, it is written in the resident's history and
the access log, and the number that stops receiving the resident's messages is told (someone who did not ask
for the change learns of it and can call the office)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cards.workflow import CardRequestError
from messaging.messages import notification_write
from messaging.models import Contact
from messaging.system_text import system_text, system_text_join
from registry.models import AccessLog, Office, Resident, ResidentChange, User


def contact_link_resident(*, contact_id: int, resident_id: int, by: User, client_address: str = "") -> None:
    """Make `contact` the resident's: Contact.resident is set (other contacts linked to the resident are
    unlinked) and, when the contact has a phone number, it becomes the resident's WhatsApp number.

    Invariants: only a staff member who may change residents and sees this resident (a clerk or supervisor of
    the resident's kabupaten; not a UPTD operator); a ResidentChange row with what changed and an access-log
    row (LOOKUP: the contact is matched to a resident) in the same transaction; the previous number and every
    unlinked contact receive "number_moved", the new contact "number_linked". Linking what is already linked
    changes nothing and tells nobody."""
    if not by.has_perm("registry.change_resident") or by.office_id is None:
        raise CardRequestError(_("Anda tidak berwenang menghubungkan nomor dengan penduduk."))
    with transaction.atomic():
        resident = Resident.objects.visible_to(by).select_for_update(of=("self",)).filter(pk=resident_id).first()
        if resident is None:
            raise CardRequestError(_("Penduduk tidak ditemukan di wilayah kerja Anda."))
        contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
        if contact is None:
            raise CardRequestError(_("Kontak tidak ditemukan."))
        others = list(Contact.objects.select_for_update().filter(resident=resident).exclude(pk=contact.pk))
        old_number = resident.whatsapp
        new_number = contact.phone or ""
        number_changes = bool(new_number) and new_number != old_number
        if contact.resident_id == resident.pk and not others and not number_changes:
            return
        office = _office_of(resident) or by.office.head_office
        values = {"office": office, "office_name": office.name}

        # Who stops receiving the resident's messages: the previous number (when the number changes) and the
        # contacts linked before. One message per address.
        told: set[str] = {new_number} if new_number else set()
        if number_changes and old_number:
            moved_contact = next((c for c in others if c.phone == old_number), None)
            notification_write(
                resident=resident, template="number_moved", recipient=old_number, contact=moved_contact, **values
            )
            told.add(old_number)
        for other in others:
            if other.phone and other.phone in told:
                continue
            notification_write(resident=resident, template="number_moved", contact=other, **values)
            if other.phone:
                told.add(other.phone)

        if others:
            Contact.objects.filter(pk__in=[c.pk for c in others]).update(resident=None)
        if contact.resident_id != resident.pk:
            contact.resident = resident
            contact.save(update_fields=["resident"])
        changes: dict[str, list] = {"contact": [[c.pk for c in others] or None, contact.pk]}
        if number_changes:
            resident.whatsapp = new_number
            resident.save(update_fields=["whatsapp", "updated_at"])
            changes["whatsapp"] = [old_number, new_number]
        ResidentChange.objects.create(resident=resident, changes=changes)
        AccessLog.objects.append(
            user=by,
            action=AccessLog.Action.LOOKUP,
            resident=resident,
            ip_address=client_address or None,
            detail=_link_detail(contact=contact, number_changes=number_changes, unlinked=len(others)),
        )
        notification_write(resident=resident, template="number_linked", contact=contact, **values)


def _office_of(resident: Resident) -> Office | None:
    """The resident's Disdukcapil (the office of the kabupaten their kecamatan is in)."""
    return Office.objects.filter(kind=Office.Kind.DISDUKCAPIL, region_id=resident.kecamatan_id[:5]).first()


def _link_detail(*, contact: Contact, number_changes: bool, unlinked: int) -> str:
    """The access-log detail: which contact, whether the number changed, how many contacts lost the link;
    never a number."""
    detail = system_text(gettext_noop("Kontak #%(id)d dihubungkan dengan penduduk"), id=contact.pk)
    return system_text_join(
        [
            detail,
            system_text(gettext_noop("; nomor WhatsApp penduduk diganti")) if number_changes else "",
            system_text(gettext_noop("; %(n)d kontak lain dilepas"), n=unlinked) if unlinked else "",
        ],
        "",
    )
