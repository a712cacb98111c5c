"""Biometric recording (photo, fingerprints, iris), needed once before a first card, and the centre's answer
on it: print-ready (PRR) or a duplicate record for a clerk to resolve. Pemula cards are printed only on PRR."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cards.models import BiometricRecording, CardRequest, CardRequestEvent, CentralStatus, HealthChecklist
from cards.workflow import CardRequestError
from messaging.system_text import system_text, system_text_join
from registry import clock
from registry.models import Resident, ResidentChange, User


def biometric_record(
    *, resident_id: int, by: User, card_request_id: int | None = None, checklist: Iterable[str] = ()
) -> BiometricRecording:
    """Record a resident's biometrics once. Invariant: during a health emergency of the office, only for an
    approved urgent request and with every item of the health protocol ticked."""
    ticked = sorted(set(checklist) & set(HealthChecklist.values))
    office = by.office
    emergency = office.in_health_emergency
    with transaction.atomic():
        resident = Resident.objects.select_for_update().get(pk=resident_id)
        if not Resident.objects.visible_to(by).filter(pk=resident_id).exists():
            raise CardRequestError(_("Penduduk ini di luar wilayah kerja Anda."))
        if resident.biometric_recorded:
            raise CardRequestError(_("Penduduk ini sudah perekaman biometrik."))
        if not resident.may_record_on(clock.today(office)):
            raise CardRequestError(_("Perekaman KTP-el mulai umur 16 tahun (atau bagi yang sudah/pernah kawin)."))
        card_request = None
        if card_request_id is not None:
            card_request = CardRequest.objects.filter(pk=card_request_id, resident_id=resident_id).first()
        if emergency:
            if card_request is None or not card_request.is_urgent:
                raise CardRequestError(
                    _("Selama keadaan darurat kesehatan, perekaman hanya untuk permohonan mendesak yang disetujui.")
                )
            if missing := [c.label for c in HealthChecklist if c.value not in ticked]:
                raise CardRequestError(
                    _("Protokol kesehatan belum lengkap: %(items)s.") % {"items": "; ".join(str(m) for m in missing)}
                )
        recording = BiometricRecording.objects.create(
            resident=resident,
            card_request=card_request,
            office=office,
            recorded_by=by,
            during_emergency=emergency,
            checklist=ticked,
        )
        resident.biometric_recorded = True
        resident.save(update_fields=["biometric_recorded", "updated_at"])
        ResidentChange.objects.create(resident=resident, changes={"biometric_recorded": [False, True]})
        if card_request is not None:
            CardRequestEvent.objects.create(
                card_request=card_request,
                by=by,
                action=CardRequestEvent.Action.BIOMETRICS,
                note=system_text_join(
                    [
                        system_text(gettext_noop("Perekaman di %(office)s"), office=office.name),
                        system_text(gettext_noop("(protokol kesehatan lengkap)")) if emergency else "",
                    ]
                ),
            )
    return recording


def central_answer_record(*, recording_id: int, answer: str, by: User, note: str = "") -> BiometricRecording:
    """A clerk records the centre's answer on a recording (until the central sync records it itself), once:
    PRR lets a pemula card be printed, a duplicate record stops it until resolved."""
    answer = CentralStatus(answer)
    if answer == CentralStatus.PENDING:
        raise CardRequestError(_("Pilih jawaban pusat: PRR atau rekaman ganda."))
    if not by.has_perm("cards.verify_cardrequest"):
        raise CardRequestError(_("Anda tidak berwenang mencatat jawaban pusat."))
    with transaction.atomic():
        recording = BiometricRecording.objects.select_for_update().get(pk=recording_id)
        if not Resident.objects.visible_to(by).filter(pk=recording.resident_id).exists():
            raise CardRequestError(_("Penduduk ini di luar wilayah kerja Anda."))
        if recording.central_status != CentralStatus.PENDING:
            raise CardRequestError(
                _("Jawaban pusat sudah dicatat: %(answer)s.") % {"answer": recording.get_central_status_display()}
            )
        recording.central_status = answer
        recording.central_decided_by = by
        recording.central_decided_at = clock.now()
        recording.save(update_fields=["central_status", "central_decided_by", "central_decided_at"])
        for card_request in CardRequest.objects.open().filter(resident_id=recording.resident_id):
            CardRequestEvent.objects.create(
                card_request=card_request,
                by=by,
                action=CardRequestEvent.Action.CENTRAL,
                note=system_text_join([answer.label, note.strip()], ". "),
            )
    return recording
