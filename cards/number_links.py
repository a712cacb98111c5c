"""SINKRONISASI: a resident asks to link a WhatsApp number to their NIK/KK, for a stated purpose (BPJS, a bank,
Prakerja, social aid); a clerk checks and confirms or refuses."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from cards.models import NumberLinkRequest
from cards.workflow import CardRequestError
from messaging.messages import notification_write
from registry import clock
from registry.importer.columns import PhoneChecker
from registry.models import Office, Resident, ResidentChange, User
from registry.nik import normalize_number
from registry.regions import kk_check, nik_check


def number_link_create(
    *, office: Office, phone: str, nik: str, kk_number: str, purpose: str, channel: str, by: User | None
) -> NumberLinkRequest:
    """Record a SINKRONISASI request (link this WhatsApp number to my NIK/KK). The resident is matched when
    both the NIK and the KK number agree; the clerk decides."""
    whatsapp, phone_error = PhoneChecker().check(normalize_number(phone))
    errors = []
    if phone_error:
        errors.append(_("Nomor WhatsApp: %(error)s") % {"error": phone_error})
    parsed_nik, parsed_kk = nik_check(nik), kk_check(kk_number)
    errors += [f"NIK: {e}" for e in parsed_nik.errors] + [f"KK: {e}" for e in parsed_kk.errors]
    if not purpose.strip():
        errors.append(_("Keperluan harus diisi."))
    if errors:
        raise CardRequestError(" ".join(errors))
    resident = (
        Resident.objects.filter(kecamatan__code__startswith=f"{office.head_office.region_id}.")
        .filter(nik=parsed_nik.number, family__kk_number=parsed_kk.number)
        .first()
    )
    return NumberLinkRequest.objects.create(
        office=office.head_office,
        phone=whatsapp,
        nik=parsed_nik.number,
        kk_number=parsed_kk.number,
        purpose=purpose.strip()[:300],
        channel=channel,
        resident=resident,
        recorded_by=by,
    )


def number_link_lookup_detail(link: NumberLinkRequest) -> str:
    """The access-log detail of the NIK+KK match behind a SINKRONISASI request: which request and whether the
    pair matched a resident, never the numbers themselves."""
    if link.resident_id is None:
        return _("SINKRONISASI #%(id)d: NIK dan KK tidak cocok dengan penduduk mana pun") % {"id": link.pk}
    return _("SINKRONISASI #%(id)d: NIK dan KK cocok dengan data penduduk") % {"id": link.pk}


def number_link_decide(*, link_id: int, confirm: bool, by: User, note: str = "") -> NumberLinkRequest:
    """Confirm (the number becomes the resident's WhatsApp number, with a history entry) or refuse, once."""
    with transaction.atomic():
        link = NumberLinkRequest.objects.select_for_update().get(pk=link_id)
        if link.status != NumberLinkRequest.Status.RECEIVED:
            raise CardRequestError(_("Permohonan ini sudah diputuskan."))
        if confirm and link.resident_id is None:
            raise CardRequestError(_("NIK dan nomor KK tidak cocok dengan data penduduk: tidak dapat dikonfirmasi."))
        if not confirm and not note.strip():
            raise CardRequestError(_("Tulis alasan penolakan; pengirim akan menerimanya dalam pesan."))
        link.status = NumberLinkRequest.Status.CONFIRMED if confirm else NumberLinkRequest.Status.REFUSED
        link.decided_by = by
        link.decided_at = clock.now()
        link.decision_note = note.strip()[:300]
        link.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if confirm:
            resident = Resident.objects.select_for_update().get(pk=link.resident_id)
            old = resident.whatsapp
            if old != link.phone:
                resident.whatsapp = link.phone
                resident.save(update_fields=["whatsapp", "updated_at"])
                ResidentChange.objects.create(resident=resident, changes={"whatsapp": [old, link.phone]})
            notification_write(resident=resident, template="number_link_confirmed")
        else:
            notification_write(
                resident=link.resident, template="number_link_refused", recipient=link.phone, reason=note.strip()
            )
    return link
