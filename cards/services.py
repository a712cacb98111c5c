"""Workflows over card requests: create, move through the transitions table, attach documents, tick handover
requirements, urgent priority, biometric recording, dispatch to a UPTD, SINKRONISASI.

Every state change has one shape: a short transaction, the row re-read with select_for_update, the source
status checked against the one the clerk saw (two clerks on one request: the second gets a clear message),
save(update_fields=...), a timeline event, and the resident's notification in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import filetype
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.models import (
    Attachment,
    BiometricRecording,
    CardKind,
    CardRequest,
    CardRequestEvent,
    Channel,
    DispatchBatch,
    DispatchItem,
    HealthChecklist,
    NumberLinkRequest,
    Requirement,
    RequirementCheck,
    Submitter,
    UrgentReason,
    UrgentStatus,
)
from messaging.messages import notification_write
from registry.importer.columns import PhoneChecker
from registry.models import Office, Resident, ResidentChange, Role, User
from registry.nik import normalize_number, parse_kk, parse_nik

Status = CardRequest.Status


class CardRequestError(Exception):
    """A refused action on a card request; the message is for the clerk, in their language."""


class StaleCardRequest(CardRequestError):
    """Somebody else changed the request since the clerk loaded the page."""


# --- who may do what ------------------------------------------------------------------------------------

# A UPTD operator submits and follows up; the processing is the kabupaten office's. These are their moves.
UPTD_MOVES = {
    (Status.INCOMPLETE, Status.VERIFYING),  # the missing documents are now uploaded: back to verification
    (Status.RECEIVED, Status.CANCELLED),
    (Status.VERIFYING, Status.CANCELLED),
    (Status.INCOMPLETE, Status.CANCELLED),
    (Status.SENT_TO_UPTD, Status.HANDED_OVER),
}


def _check_actor(user: User | None, card_request: CardRequest, source: str, target: str) -> None:
    if user is None:
        return  # the resident, by message (intake), or a system job
    if user.role == Role.UPTD_OPERATOR:
        if (source, target) not in UPTD_MOVES:
            raise CardRequestError(_("Operator UPTD tidak dapat memindahkan permohonan ke status ini."))
        if target == Status.CANCELLED and card_request.submitted_by_id != user.pk:
            raise CardRequestError(_("Operator UPTD hanya dapat membatalkan permohonan yang diajukannya sendiri."))
        if target == Status.HANDED_OVER and card_request.pickup_office_id != user.office_id:
            raise CardRequestError(_("Kartu ini tidak dikirim ke UPTD Anda."))
        return
    if not user.has_perm("cards.verify_cardrequest"):
        raise CardRequestError(_("Anda tidak berwenang memproses permohonan."))
    if target == Status.SENT_TO_UPTD:
        raise CardRequestError(_("Kartu dikirim ke UPTD lewat halaman kiriman, supaya UPTD dapat mengonfirmasi."))
    if target == Status.SCHEDULED:
        raise CardRequestError(_("Jadwalkan lewat formulir jadwal: hari dan nomor antrean diambil dari kuota."))
    if source == Status.SENT_TO_UPTD:
        raise CardRequestError(_("Kartu ini sudah di UPTD: penyerahan dilakukan oleh operator UPTD."))


def _check_route(card_request: CardRequest, target: str) -> None:
    if target == Status.READY_FOR_PICKUP and card_request.pickup_office.kind == Office.Kind.UPTD:
        raise CardRequestError(
            _("Kartu ini diambil di %(place)s: kirim lewat kiriman ke UPTD.") % {"place": card_request.pickup_office}
        )


def card_request_moves_for(user: User, card_request: CardRequest) -> list[str]:
    """The moves the request page offers this user: the table's next statuses that pass the same who-and-where
    checks as the transition (the other guards depend on what the form sends)."""
    moves = []
    for target in card_request.next_statuses():
        try:
            _check_actor(user, card_request, card_request.status, target)
            _check_route(card_request, target)
        except CardRequestError:
            continue
        moves.append(target)
    return moves


def _event(card_request: CardRequest, *, by: User | None, action: str, note: str = "", **kw) -> CardRequestEvent:
    return CardRequestEvent.objects.create(card_request=card_request, by=by, action=action, note=note, **kw)


def _locked(card_request_id: int) -> CardRequest:
    return (
        CardRequest.objects.select_for_update(of=("self",))
        .select_related("resident", "pickup_office")
        .get(pk=card_request_id)
    )


# --- creating a request ---------------------------------------------------------------------------------


def card_request_create(
    *,
    resident: Resident,
    kind: str,
    by: User | None,
    channel: str | None = None,
    note: str = "",
    urgent_reason: str = "",
    urgent_note: str = "",
) -> CardRequest:
    """Open a request for a resident. Invariant: at most one open request per resident and kind (also a
    database constraint, which is what decides when two are submitted at the same moment)."""
    kind = CardKind(kind)
    if by is None:
        submitter, office = Submitter.RESIDENT, _head_office_of(resident)
        pickup = office
    elif by.role == Role.UPTD_OPERATOR:
        submitter, office, pickup = Submitter.UPTD_OPERATOR, by.office.head_office, by.office
        channel = Channel.UPTD
    else:
        submitter, office = Submitter.CLERK, by.office.head_office
        pickup = office
    if by is not None and not Resident.objects.visible_to(by).filter(pk=resident.pk).exists():
        raise CardRequestError(_("Penduduk ini di luar wilayah kerja Anda."))
    if channel is None:
        raise CardRequestError(_("Pilih saluran permohonan."))
    if urgent_reason == UrgentReason.OTHER and not urgent_note.strip():
        raise CardRequestError(_("Untuk alasan mendesak 'lainnya', tulis keterangannya."))
    existing = CardRequest.objects.open().filter(resident=resident, kind=kind).first()
    if existing:
        raise CardRequestError(
            _("Sudah ada permohonan %(kind)s yang masih berjalan untuk penduduk ini: %(number)s (%(status)s).")
            % {"kind": kind.label, "number": existing.number, "status": existing.get_status_display()}
        )
    try:
        with transaction.atomic():
            card_request = CardRequest.objects.create(
                resident=resident,
                kecamatan_id=resident.kecamatan_id,
                office=office,
                pickup_office=pickup,
                kind=kind,
                channel=Channel(channel),
                submitted_by_kind=submitter,
                submitted_by=by,
                note=note.strip(),
                urgent_status=UrgentStatus.REQUESTED if urgent_reason else UrgentStatus.NONE,
                urgent_reason=urgent_reason,
                urgent_note=urgent_note.strip(),
            )
            _event(card_request, by=by, action=CardRequestEvent.Action.CREATED, to_status=Status.RECEIVED, note=note)
            if urgent_reason:
                _event(
                    card_request,
                    by=by,
                    action=CardRequestEvent.Action.URGENT_REQUESTED,
                    note=f"{UrgentReason(urgent_reason).label}. {urgent_note}".strip(". "),
                )
            notification_write(
                resident=resident,
                card_request=card_request,
                template="request_received",
                kind=kind.label.lower(),
                number=card_request.number,
            )
    except IntegrityError as exc:
        raise CardRequestError(
            _("Permohonan %(kind)s untuk penduduk ini baru saja dibuat oleh petugas lain.") % {"kind": kind.label}
        ) from exc
    return card_request


def _head_office_of(resident: Resident) -> Office:
    return Office.objects.get(region_id=resident.kecamatan_id.rsplit(".", 1)[0])


# --- moving a request -----------------------------------------------------------------------------------


def _requirements_unmet(card_request: CardRequest, stage: str, met_ids: Iterable[int]) -> list[Requirement]:
    met = set(met_ids)
    active = Requirement.objects.filter(kind=card_request.kind, stage=stage, is_active=True)
    return [r for r in active if r.pk not in met]


def _missing_documents(card_request: CardRequest) -> list[Requirement]:
    attached = card_request.attachments.exclude(requirement=None).values_list("requirement_id", flat=True)
    return _requirements_unmet(card_request, Requirement.Stage.DOCUMENT, attached)


def _unticked_handover(card_request: CardRequest) -> list[Requirement]:
    ticked = card_request.requirement_checks.values_list("requirement_id", flat=True)
    return _requirements_unmet(card_request, Requirement.Stage.HANDOVER, ticked)


def _check_guards(
    card_request: CardRequest, target: str, *, note: str, missing_items: list[str], handover_confirmed: bool
) -> None:
    if target in CardRequest.NEEDS_REASON and not note.strip():
        raise CardRequestError(_("Tulis alasannya; penduduk akan menerimanya dalam pesan."))
    if target == Status.INCOMPLETE and not missing_items:
        raise CardRequestError(_("Sebutkan apa saja yang kurang; daftar itu dikirim ke penduduk."))
    if target == Status.READY_TO_PRINT:
        if missing := _missing_documents(card_request):
            raise CardRequestError(
                _("Dokumen persyaratan belum diunggah: %(names)s.") % {"names": ", ".join(r.name for r in missing)}
            )
        if card_request.kind == CardKind.PEMULA and not card_request.resident.biometric_recorded:
            raise CardRequestError(_("Penduduk belum perekaman biometrik; catat perekaman dulu."))
    if target == Status.HANDED_OVER:
        if unticked := _unticked_handover(card_request):
            raise CardRequestError(
                _("Belum dicentang: %(names)s. Penyerahan ditolak.") % {"names": ", ".join(r.name for r in unticked)}
            )
        if card_request.status == Status.SENT_TO_UPTD:
            item = DispatchItem.objects.filter(card_request=card_request).first()
            if item is None or item.received_at is None:
                raise CardRequestError(_("Konfirmasi dulu bahwa kartu ini sudah diterima di UPTD."))
        if not handover_confirmed:
            raise CardRequestError(
                _("Kartu hanya diserahkan kepada pemiliknya sendiri: centang verifikasi sidik jari dan aktivasi.")
            )


_MESSAGES = {
    Status.INCOMPLETE: "request_incomplete",
    Status.READY_TO_PRINT: "request_ready_to_print",
    Status.READY_FOR_PICKUP: "request_ready_for_pickup",
    Status.SHIPPED: "request_shipped",
    Status.HANDED_OVER: "request_handed_over",
    Status.REJECTED: "request_rejected",
    Status.CANCELLED: "request_cancelled",
}


def card_request_transition(
    *,
    card_request_id: int,
    to_status: str,
    by: User | None,
    expected_status: str | None,
    note: str = "",
    missing_items: Iterable[str] = (),
    handover_confirmed: bool = False,
) -> CardRequest:
    """Move a request along the transitions table.

    Invariants: only moves in CardRequest.TRANSITIONS; the status is the one the clerk saw
    (`expected_status`; None only for bulk actions, which re-check each row under the lock); the event and
    the resident's message are written in the same transaction as the new status, or not at all.
    """
    target = Status(to_status)
    missing = [item.strip() for item in missing_items if item and item.strip()]
    with transaction.atomic():
        card_request = _locked(card_request_id)
        source = card_request.status
        if expected_status is not None and source != expected_status:
            last = card_request.events.filter(action=CardRequestEvent.Action.STATUS).select_related("by").last()
            who = (last.by.get_full_name() or last.by.username) if last and last.by else _("pihak lain")
            raise StaleCardRequest(
                _("Permohonan %(number)s baru saja diubah oleh %(who)s menjadi '%(status)s'. Halaman dimuat ulang.")
                % {"number": card_request.number, "who": who, "status": card_request.get_status_display()}
            )
        if not CardRequest.can_move(source, target):
            raise CardRequestError(
                _("Permohonan %(number)s berstatus '%(source)s' dan tidak dapat diubah menjadi '%(target)s'.")
                % {"number": card_request.number, "source": Status(source).label, "target": target.label}
            )
        _check_actor(by, card_request, source, target)
        _check_route(card_request, target)
        _check_guards(card_request, target, note=note, missing_items=missing, handover_confirmed=handover_confirmed)

        card_request.status = target
        card_request.status_changed_at = timezone.now()
        fields = ["status", "status_changed_at", "updated_at"]
        if target == Status.INCOMPLETE:
            card_request.missing_items = missing
            fields.append("missing_items")
        elif source == Status.INCOMPLETE:
            card_request.missing_items = []
            fields.append("missing_items")
        if target in CardRequest.NEEDS_REASON:
            card_request.status_reason = note.strip()
            fields.append("status_reason")
        card_request.save(update_fields=fields)
        if target in CardRequest.CLOSED_STATUSES:
            from delivery.services import sukets_end_for

            sukets_end_for(card_request_id=card_request.pk)

        event_note = note.strip()
        if missing:
            event_note = "\n".join([event_note, *(f"- {m}" for m in missing)]).strip()
        _event(
            card_request,
            by=by,
            action=CardRequestEvent.Action.STATUS,
            from_status=source,
            to_status=target,
            note=event_note,
        )
        if template := _MESSAGES.get(target):
            notification_write(
                resident=card_request.resident,
                card_request=card_request,
                template=template,
                number=card_request.number,
                missing="\n".join(f"- {m}" for m in missing),
                reason=note.strip(),
                place=card_request.pickup_office.name,
            )
    return card_request


@dataclass
class BulkOutcome:
    done: list[CardRequest]
    refused: list[tuple[int, str, str]]  # (id, number, reason)


BULK_ACTIONS = {
    "verify": Status.VERIFYING,
    "ready": Status.READY_TO_PRINT,
    "cancel": Status.CANCELLED,
}


def card_requests_bulk_transition(*, ids: Iterable[int], action: str, by: User, note: str = "") -> BulkOutcome:
    """Apply one queue action to many requests. Each row is its own transaction: a refused row changes
    nothing and is reported with its reason; the others go through."""
    target = BULK_ACTIONS[action]
    outcome = BulkOutcome(done=[], refused=[])
    ids = sorted(set(ids))
    visible = set(CardRequest.objects.visible_to(by).filter(pk__in=ids).values_list("pk", flat=True))
    for pk in ids:
        if pk not in visible:
            outcome.refused.append((pk, f"#{pk}", _("tidak ditemukan di wilayah Anda")))
            continue
        try:
            outcome.done.append(
                card_request_transition(card_request_id=pk, to_status=target, by=by, expected_status=None, note=note)
            )
        except CardRequestError as exc:
            outcome.refused.append((pk, f"PKTP-{pk:06d}", str(exc)))
    return outcome


# --- documents and handover requirements ----------------------------------------------------------------


def attachment_content_type(upload: UploadedFile) -> str:
    """The upload's real type, read from its content (a renamed executable is not a PDF). Raises
    CardRequestError for anything but PDF, JPEG or PNG, or above 5 MB."""
    if upload.size > Attachment.MAX_BYTES:
        raise CardRequestError(_("Berkas terlalu besar: paling banyak 5 MB."))
    if upload.size == 0:
        raise CardRequestError(_("Berkas kosong."))
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    mime = kind.mime if kind else None
    if mime not in Attachment.CONTENT_TYPES:
        raise CardRequestError(
            _("Isi berkas bukan PDF, JPEG atau PNG (nama berkas tidak menentukan jenisnya). Unggah dokumen yang benar.")
        )
    return mime


def attachment_add(
    *,
    card_request: CardRequest,
    upload: UploadedFile,
    by: User,
    requirement: Requirement | None = None,
    purpose: str = Attachment.Purpose.REQUIREMENT,
) -> Attachment:
    """Store a document for a request under a random name outside any public URL; its type is checked
    from the content."""
    if not card_request.is_open:
        raise CardRequestError(_("Permohonan sudah ditutup; lampiran tidak dapat ditambahkan."))
    if requirement is not None and requirement.kind != card_request.kind:
        raise CardRequestError(_("Persyaratan itu bukan untuk jenis permohonan ini."))
    content_type = attachment_content_type(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        attachment = Attachment(
            card_request=card_request,
            requirement=requirement,
            purpose=purpose,
            original_name=(upload.name or "berkas")[-255:],
            content_type=content_type,
            size=upload.size,
            sha256=digest.hexdigest(),
            uploaded_by=by,
        )
        attachment.file.save(upload.name or "berkas", upload, save=False)
        try:
            attachment.save()
            label = requirement.name if requirement else Attachment.Purpose(purpose).label
            _event(
                card_request,
                by=by,
                action=CardRequestEvent.Action.ATTACHMENT,
                note=f"{label}: {attachment.original_name}",
            )
        except Exception:
            attachment.file.delete(save=False)
            raise
    return attachment


def requirement_tick(*, card_request_id: int, requirement_id: int, by: User) -> RequirementCheck:
    """Record that a handover requirement is met (the old card is collected)."""
    with transaction.atomic():
        card_request = _locked(card_request_id)
        requirement = Requirement.objects.filter(
            pk=requirement_id, kind=card_request.kind, stage=Requirement.Stage.HANDOVER
        ).first()
        if requirement is None:
            raise CardRequestError(_("Persyaratan itu bukan untuk jenis permohonan ini."))
        if not card_request.is_open:
            raise CardRequestError(_("Permohonan sudah ditutup."))
        check, created = RequirementCheck.objects.get_or_create(
            card_request=card_request, requirement=requirement, defaults={"checked_by": by}
        )
        if created:
            _event(card_request, by=by, action=CardRequestEvent.Action.REQUIREMENT, note=requirement.name)
    return check


# --- urgent priority ------------------------------------------------------------------------------------


def card_request_urgent_ask(*, card_request_id: int, reason: str, note: str, by: User) -> CardRequest:
    """Ask for urgent priority (travel, study or work at sea abroad, medical, other with a note)."""
    reason = UrgentReason(reason)
    if reason == UrgentReason.OTHER and not note.strip():
        raise CardRequestError(_("Untuk alasan mendesak 'lainnya', tulis keterangannya."))
    with transaction.atomic():
        card_request = _locked(card_request_id)
        if not card_request.is_open:
            raise CardRequestError(_("Permohonan sudah ditutup."))
        if card_request.urgent_status in (UrgentStatus.REQUESTED, UrgentStatus.APPROVED):
            raise CardRequestError(_("Prioritas mendesak sudah diajukan untuk permohonan ini."))
        card_request.urgent_status = UrgentStatus.REQUESTED
        card_request.urgent_reason = reason
        card_request.urgent_note = note.strip()
        card_request.save(update_fields=["urgent_status", "urgent_reason", "urgent_note", "updated_at"])
        _event(
            card_request,
            by=by,
            action=CardRequestEvent.Action.URGENT_REQUESTED,
            note=f"{reason.label}. {note.strip()}".strip(". "),
        )
    return card_request


def card_request_urgent_decide(*, card_request_id: int, approve: bool, by: User, note: str = "") -> CardRequest:
    """A supervisor approves or refuses urgent priority. Invariant: `is_urgent` is true only when approved
    (a database check), and approval needs the proof on file."""
    if not by.has_perm("cards.approve_urgent_cardrequest"):
        raise CardRequestError(_("Hanya kepala bidang yang dapat memutuskan prioritas mendesak."))
    with transaction.atomic():
        card_request = _locked(card_request_id)
        if card_request.urgent_status != UrgentStatus.REQUESTED:
            raise CardRequestError(_("Tidak ada pengajuan prioritas mendesak yang menunggu keputusan."))
        if not card_request.is_open:
            raise CardRequestError(_("Permohonan sudah ditutup."))
        if approve and not card_request.attachments.filter(purpose=Attachment.Purpose.URGENT_PROOF).exists():
            raise CardRequestError(_("Bukti keperluan mendesak belum diunggah."))
        if not approve and not note.strip():
            raise CardRequestError(_("Tulis alasan penolakan; penduduk akan menerimanya dalam pesan."))
        card_request.urgent_status = UrgentStatus.APPROVED if approve else UrgentStatus.REFUSED
        card_request.is_urgent = approve
        card_request.urgent_decided_by = by
        card_request.urgent_decided_at = timezone.now()
        card_request.save(
            update_fields=["urgent_status", "is_urgent", "urgent_decided_by", "urgent_decided_at", "updated_at"]
        )
        action = CardRequestEvent.Action.URGENT_APPROVED if approve else CardRequestEvent.Action.URGENT_REFUSED
        _event(card_request, by=by, action=action, note=note.strip())
        notification_write(
            resident=card_request.resident,
            card_request=card_request,
            template="urgent_approved" if approve else "urgent_refused",
            number=card_request.number,
            reason=note.strip(),
        )
    return card_request


# --- biometric recording --------------------------------------------------------------------------------


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
            _event(
                card_request,
                by=by,
                action=CardRequestEvent.Action.BIOMETRICS,
                note=_("Perekaman di %(office)s") % {"office": office.name}
                + (" " + _("(protokol kesehatan lengkap)") if emergency else ""),
            )
    return recording


# --- dispatch to a UPTD ---------------------------------------------------------------------------------


def dispatch_create(
    *, uptd: Office, card_request_ids: Iterable[int], by: User, note: str = ""
) -> tuple[DispatchBatch | None, list[tuple[int, str]]]:
    """Send printed cards of UPTD submissions to their UPTD. Each card must be printed and picked up there;
    the others are reported and left as they were."""
    if not by.has_perm("cards.dispatch_cardrequest"):
        raise CardRequestError(_("Anda tidak berwenang mengirim kartu."))
    refused: list[tuple[int, str]] = []
    with transaction.atomic():
        rows = list(
            CardRequest.objects.visible_to(by)
            .select_for_update(of=("self",))
            .filter(pk__in=set(card_request_ids))
            .order_by("pk")
        )
        accepted = []
        for card_request in rows:
            if card_request.status != Status.PRINTED:
                refused.append(
                    (
                        card_request.pk,
                        _("%(number)s belum dicetak (%(status)s)")
                        % {"number": card_request.number, "status": card_request.get_status_display()},
                    )
                )
            elif card_request.pickup_office_id != uptd.pk:
                refused.append(
                    (
                        card_request.pk,
                        _("%(number)s tidak diambil di %(uptd)s") % {"number": card_request.number, "uptd": uptd.name},
                    )
                )
            else:
                accepted.append(card_request)
        if not accepted:
            return None, refused
        batch = DispatchBatch.objects.create(office=by.office.head_office, uptd=uptd, created_by=by, note=note.strip())
        now = timezone.now()
        for card_request in accepted:
            DispatchItem.objects.create(batch=batch, card_request=card_request)
            card_request.status = Status.SENT_TO_UPTD
            card_request.status_changed_at = now
            card_request.save(update_fields=["status", "status_changed_at", "updated_at"])
            _event(
                card_request,
                by=by,
                action=CardRequestEvent.Action.DISPATCH,
                from_status=Status.PRINTED,
                to_status=Status.SENT_TO_UPTD,
                note=batch.number,
            )
    return batch, refused


def dispatch_item_receive(*, item_id: int, by: User) -> DispatchItem:
    """The UPTD confirms one card arrived (compare-and-set: confirmed once), and the resident is told to
    come and collect it in person."""
    with transaction.atomic():
        item = (
            DispatchItem.objects.select_for_update()
            .select_related("batch__uptd", "card_request__resident")
            .get(pk=item_id)
        )
        if item.batch.uptd_id != by.office_id:
            raise CardRequestError(_("Kiriman ini bukan untuk UPTD Anda."))
        if item.received_at is not None:
            raise CardRequestError(
                _("Kartu ini sudah dikonfirmasi diterima pada %(at)s.")
                % {"at": timezone.localtime(item.received_at).strftime("%d-%m-%Y %H:%M")}
            )
        item.received_at = timezone.now()
        item.received_by = by
        item.save(update_fields=["received_at", "received_by"])
        card_request = item.card_request
        _event(card_request, by=by, action=CardRequestEvent.Action.RECEIVED_AT_UPTD, note=item.batch.number)
        notification_write(
            resident=card_request.resident,
            card_request=card_request,
            template="request_at_uptd",
            number=card_request.number,
            place=item.batch.uptd.name,
        )
    return item


# --- SINKRONISASI ---------------------------------------------------------------------------------------


def number_link_create(
    *, office: Office, phone: str, nik: str, kk_number: str, purpose: str, channel: str, by: User | None
) -> NumberLinkRequest:
    """Record a SINKRONISASI request (link this WhatsApp number to my NIK/KK). The resident is matched when
    both the NIK and the KK number agree; the clerk decides."""
    whatsapp, phone_error = PhoneChecker().check(normalize_number(phone))
    errors = []
    if phone_error:
        errors.append(_("Nomor WhatsApp: %(error)s") % {"error": phone_error})
    parsed_nik, parsed_kk = parse_nik(nik), parse_kk(kk_number)
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
        link.decided_at = timezone.now()
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
