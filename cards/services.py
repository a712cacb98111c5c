"""Card requests, before the workflow moves them: opening a request (its route, who may have a card),
documents and handover requirements, urgent priority, bulk queue actions, and following a resident who moves
kecamatan. Status moves go through cards/workflow.py, the one owner of a card's status.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cards.models import (
    Attachment,
    CardKind,
    CardRequest,
    CardRequestEvent,
    Channel,
    Requirement,
    RequirementCheck,
    Route,
    Submitter,
    UrgentReason,
    UrgentStatus,
)
from cards.uploads import attachment_clean
from cards.workflow import (
    CardRequestError,
    HandoverInfo,
    StaleCardRequest,
    card_move_as,
    card_request_locked,
    card_request_moves_for,
    route_for,
)
from messaging.messages import notification_write
from messaging.system_text import system_text, system_text_join
from registry import clock
from registry.models import Office, Region, Resident, ResidentChange, Role, User

__all__ = ["CardRequestError", "StaleCardRequest", "card_request_moves_for"]

Status = CardRequest.Status


def _event(card_request: CardRequest, *, by: User | None, action: str, note: str = "", **kw) -> CardRequestEvent:
    return CardRequestEvent.objects.create(card_request=card_request, by=by, action=action, note=note, **kw)


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
    tell_resident: bool = True,
) -> CardRequest:
    """Open a request for a resident. Invariant: at most one open request per resident and kind (also a
    database constraint, which is what decides when two are submitted at the same moment).

    `tell_resident=False` when the caller answers the resident itself in the same transaction (a request sent
    by message from the resident's own address gets one reply, not a receipt and a reply)."""
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
    today = clock.today(office)
    if kind == CardKind.PEMULA and not resident.may_record_on(today):
        raise CardRequestError(
            _(
                "%(name)s belum dapat mengajukan KTP-el pemula: perekaman mulai umur 16 tahun dan kartu dicetak "
                "setelah wajib KTP (17 tahun atau sudah/pernah kawin)."
            )
            % {"name": resident.full_name}
        )
    existing = CardRequest.objects.open().filter(resident=resident, kind=kind).first()
    if existing:
        raise CardRequestError(
            _("Sudah ada permohonan %(kind)s yang masih berjalan untuk penduduk ini: %(number)s (%(status)s).")
            % {"kind": kind.label, "number": existing.number, "status": existing.get_status_display()}
        )
    try:
        with transaction.atomic():
            route = route_for(channel=channel, submitted_by_uptd=submitter == Submitter.UPTD_OPERATOR, office=office)
            card_request = CardRequest.objects.create(
                resident=resident,
                kecamatan_id=resident.kecamatan_id,
                office=office,
                pickup_office=pickup,
                route=route,
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
            if kind != CardKind.PEMULA and not resident.biometric_recorded:
                _recorded_before(resident, card_request=card_request, by=by)
            if urgent_reason:
                _event(
                    card_request,
                    by=by,
                    action=CardRequestEvent.Action.URGENT_REQUESTED,
                    note=system_text_join([UrgentReason(urgent_reason).label, urgent_note.strip()], ". "),
                )
            if tell_resident:
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


def _recorded_before(resident: Resident, *, card_request: CardRequest, by: User | None) -> None:
    """A resident asking for a lost, damaged or changed card had a card, so was recorded: the register is
    corrected (with a history row) instead of refusing them a suket or a print."""
    Resident.objects.filter(pk=resident.pk).update(biometric_recorded=True)
    resident.biometric_recorded = True
    ResidentChange.objects.create(resident=resident, changes={"biometric_recorded": [False, True]})
    _event(
        card_request,
        by=by,
        action=CardRequestEvent.Action.BIOMETRICS,
        note=system_text(gettext_noop("Sudah pernah perekaman (kartu lama ada): data perekaman dibetulkan")),
    )


def _head_office_of(resident: Resident) -> Office:
    return Office.objects.get(region_id=resident.kecamatan_id.rsplit(".", 1)[0])


def card_request_transition(
    *,
    card_request_id: int,
    to_status: str,
    by: User,
    expected_status: str | None,
    note: str = "",
    missing_items: Iterable[str] = (),
    handover_confirmed: bool = False,
) -> CardRequest:
    """A staff member's move from the request page or a queue: the workflow's move as their role, with the
    in-person handover attestation (fingerprint checked, card activated) when they tick it."""
    return card_move_as(
        by,
        card_request_id=card_request_id,
        to_status=to_status,
        expected_status=expected_status,
        note=note,
        missing_items=missing_items,
        handover=HandoverInfo(fingerprint_verified=handover_confirmed, activated=handover_confirmed),
    )


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


def attachment_add(
    *,
    card_request: CardRequest,
    upload: UploadedFile,
    by: User,
    requirement: Requirement | None = None,
    purpose: str = Attachment.Purpose.REQUIREMENT,
) -> Attachment:
    """Store a document for a request under a random name outside any public URL. Invariant: what is stored
    is what cards.uploads.attachment_clean made of the upload (an image re-encoded without metadata, a PDF
    checked for polyglots and active content), never the bytes as sent."""
    if not card_request.is_open:
        raise CardRequestError(_("Permohonan sudah ditutup; lampiran tidak dapat ditambahkan."))
    if requirement is not None and requirement.kind != card_request.kind:
        raise CardRequestError(_("Persyaratan itu bukan untuk jenis permohonan ini."))
    cleaned = attachment_clean(upload)
    with transaction.atomic():
        attachment = Attachment(
            card_request=card_request,
            requirement=requirement,
            purpose=purpose,
            original_name=(upload.name or "berkas")[-255:],
            content_type=cleaned.content_type,
            size=len(cleaned.content),
            sha256=hashlib.sha256(cleaned.content).hexdigest(),
            uploaded_by=by,
        )
        attachment.file.save(upload.name or "berkas", ContentFile(cleaned.content), save=False)
        try:
            attachment.save()
            label = requirement.name if requirement else Attachment.Purpose(purpose).label
            _event(
                card_request,
                by=by,
                action=CardRequestEvent.Action.ATTACHMENT,
                note=system_text_join([label, attachment.original_name], ": "),
            )
        except Exception:
            attachment.file.delete(save=False)
            raise
    return attachment


def requirement_tick(*, card_request_id: int, requirement_id: int, by: User) -> RequirementCheck:
    """Record that a handover requirement is met (the old card is collected)."""
    with transaction.atomic():
        card_request = card_request_locked(card_request_id)
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
        card_request = card_request_locked(card_request_id)
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
            note=system_text_join([reason.label, note.strip()], ". "),
        )
    return card_request


def card_request_urgent_decide(*, card_request_id: int, approve: bool, by: User, note: str = "") -> CardRequest:
    """A supervisor approves or refuses urgent priority. Invariant: `is_urgent` is true only when approved
    (a database check), and approval needs the proof on file."""
    if not by.has_perm("cards.approve_urgent_cardrequest"):
        raise CardRequestError(_("Hanya kepala bidang yang dapat memutuskan prioritas mendesak."))
    with transaction.atomic():
        card_request = card_request_locked(card_request_id)
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
        card_request.urgent_decided_at = clock.now()
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


# --- a resident who moves kecamatan ---------------------------------------------------------------------

# A printed card is somewhere: at the printing office (printed, ready for pickup), with Pos (shipped, returned to
# the printing office if undelivered) or at a UPTD (sent there).
_CARD_AT_UPTD = frozenset({Status.SENT_TO_UPTD})
_FOLLOW_BATCH = 2000


def card_requests_follow_residents(*, resident_ids: Iterable[int], by: User | None = None) -> list[int]:
    """Give the open requests of residents who moved their resident's current kecamatan (the scope column:
    the new UPTD, and the new kabupaten if the move crossed one, see them; the old ones no longer do), each
    with a timeline note; returns the ids of the requests moved. Run inside the transaction that moved the
    residents (registry.signals.residents_moved), so a request never lags behind its resident.

    Invariant: an open request's kecamatan is its resident's, except while its card lies where the new
    kecamatan's offices cannot reach it: a route-3 card sent to a UPTD stays with that UPTD until it is handed
    over there, and a printed card stays with the kabupaten that printed it when the resident moved to
    another kabupaten. Closed requests (handed over, rejected, cancelled) stay where they were served. A
    route-3 request not yet sent is collected at the new kecamatan's UPTD. The status is never touched (the
    workflow owns it); the rows are locked, then updated set-based, one UPDATE per new kecamatan.
    """
    ids = sorted(set(resident_ids))
    moved: list[int] = []
    with transaction.atomic():
        for start in range(0, len(ids), _FOLLOW_BATCH):
            moved += _requests_follow(ids[start : start + _FOLLOW_BATCH], by=by)
    return moved


def _requests_follow(resident_ids: list[int], *, by: User | None) -> list[int]:
    same_kabupaten_as_printer = Q(resident__kecamatan__code__startswith=Concat(F("office__region_id"), Value(".")))
    rows = list(
        CardRequest.objects.open()
        .filter(resident_id__in=resident_ids)
        .exclude(status__in=_CARD_AT_UPTD)
        .exclude(kecamatan_id=F("resident__kecamatan_id"))
        .filter(Q(status__in=CardRequest.BEFORE_PRINTING) | same_kabupaten_as_printer)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "kecamatan_id", "resident__kecamatan_id", "route")
    )
    if not rows:
        return []
    now = clock.now()
    by_kecamatan: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for pk, old, new, route in rows:
        by_kecamatan[new].append((pk, old, route))
    uptds = {
        region_id: (pk, name)
        for region_id, pk, name in Office.objects.filter(kind=Office.Kind.UPTD, region_id__in=by_kecamatan).values_list(
            "region_id", "pk", "name"
        )
    }
    names = dict(
        Region.objects.filter(code__in={*by_kecamatan, *(old for _pk, old, _new, _route in rows)}).values_list(
            "code", "name"
        )
    )
    events = []
    for new, group in by_kecamatan.items():
        CardRequest.objects.filter(pk__in=[pk for pk, _old, _route in group]).update(kecamatan_id=new, updated_at=now)
        uptd = uptds.get(new)
        collected_at_uptd = [pk for pk, _old, route in group if route == Route.UPTD]
        if collected_at_uptd and uptd is not None:
            CardRequest.objects.filter(pk__in=collected_at_uptd).update(pickup_office_id=uptd[0])
        for pk, old, route in group:
            note = system_text(
                gettext_noop("Penduduk pindah dari Kecamatan %(old)s ke Kecamatan %(new)s; permohonan ikut pindah."),
                old=names.get(old, old),
                new=names.get(new, new),
            )
            if route == Route.UPTD and uptd is not None:
                note = system_text_join([note, system_text(gettext_noop("Kartu diambil di %(uptd)s."), uptd=uptd[1])])
            events.append(
                CardRequestEvent(
                    card_request_id=pk, at=now, by=by, action=CardRequestEvent.Action.RESIDENT_MOVED, note=note
                )
            )
    CardRequestEvent.objects.bulk_create(events)
    return [pk for pk, _old, _new, _route in rows]


def residents_moved_received(sender, *, resident_ids: Iterable[int], by: User | None = None, **kwargs) -> None:
    """registry.signals.residents_moved's receiver (connected in CardsConfig.ready())."""
    card_requests_follow_residents(resident_ids=resident_ids, by=by)
