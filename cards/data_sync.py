"""SINKRONISASI: data synchronisation requests.

A resident whose NIK another agency does not recognise (BPJS, a bank, Prakerja, social aid: the purpose,
"keperluan") sends `#SINKRONISASI#NIK#Nomor KK#Keperluan` or comes to the counter. The office checks the record,
may ask for documents, then marks it synchronised with the central database or refuses it; the resident (the
contact who asked, else the number noted, else the matched resident's own number) is told at each step, by a
message row written in the same transaction as the change.

One open request per NIK and office (a database constraint as well): a resend raises DataSyncDuplicate carrying
the first request, which keeps its place in the line (the list is worked oldest first by `received_at`).

Personal data: matching a NIK and KK to a resident is a lookup; when a staff member records a request the match
they are shown is an access-log LOOKUP row (hit or miss, never the numbers). A request that arrived by message
was matched by the system, not looked up by staff.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cards.models import Channel, DataSyncRequest
from cards.workflow import CardRequestError
from messaging.messages import notification_write
from messaging.models import Contact, Notification
from messaging.system_text import system_text
from registry import clock
from registry.importer.columns import PhoneChecker
from registry.models import AccessLog, Office, Resident, User
from registry.nik import normalize_number
from registry.regions import kk_check, nik_check

Status = DataSyncRequest.Status


class DataSyncInvalid(CardRequestError):
    """What is wrong with a request, per field (`nik`, `kk_number`, `purpose`, `phone`, `channel`), in
    Indonesian; str() joins them with the field's name."""

    LABELS = {"nik": "NIK", "kk_number": "KK", "purpose": "Keperluan", "phone": "Nomor", "channel": "Saluran"}

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(" ".join(f"{self.LABELS.get(f, f)}: {m}" for f, ms in errors.items() for m in ms))


class DataSyncDuplicate(CardRequestError):
    """The NIK already has an open request at this office: `existing` is that first request."""

    def __init__(self, existing: DataSyncRequest) -> None:
        self.existing = existing
        super().__init__(
            _(
                "NIK ini sudah punya permohonan sinkronisasi yang masih diproses: %(reference)s, diterima "
                "%(received)s. Permohonan pertama tetap pada urutannya."
            )
            % {"reference": existing.reference, "received": _day(existing)}
        )


class DataSyncStale(CardRequestError):
    """The request changed since the page was shown (another clerk acted first)."""


def _day(sync: DataSyncRequest) -> str:
    return formats.date_format(sync.received_at.astimezone(clock.zone_of(sync.office)).date(), "j F Y")


def data_sync_lookup_detail(sync: DataSyncRequest) -> str:
    """The access-log detail of the NIK+KK match behind a request: which request and whether the pair matched a
    resident, never the numbers themselves."""
    if sync.resident_id is None:
        return system_text(
            gettext_noop("SINKRONISASI #%(id)d: NIK dan KK tidak cocok dengan penduduk mana pun"), id=sync.pk
        )
    return system_text(gettext_noop("SINKRONISASI #%(id)d: NIK dan KK cocok dengan data penduduk"), id=sync.pk)


def _matched_resident(office: Office, nik: str, kk_number: str) -> Resident | None:
    """The resident of the office's kabupaten whose NIK and KK number both agree, or None."""
    return (
        Resident.objects.filter(kecamatan__code__startswith=f"{office.region_id}.")
        .filter(nik=nik, family__kk_number=kk_number)
        .first()
    )


def data_sync_validate(
    *, nik: str, kk_number: str, purpose: str, channel: str, phone: str = ""
) -> tuple[str, str, str, str]:
    """(NIK, KK number, purpose, phone) cleaned, or DataSyncInvalid with every problem by field."""
    errors: dict[str, list[str]] = {}
    parsed_nik, parsed_kk = nik_check(nik), kk_check(kk_number)
    if parsed_nik.errors:
        errors["nik"] = list(parsed_nik.errors)
    if parsed_kk.errors:
        errors["kk_number"] = list(parsed_kk.errors)
    purpose = " ".join(purpose.split())[:300]
    if not purpose:
        errors["purpose"] = [_("Keperluan harus diisi (mis. BPJS, bank, Prakerja, bansos).")]
    if channel not in Channel.values:
        errors["channel"] = [_("Saluran tidak dikenal.")]
    number = ""
    if phone.strip():
        number, phone_error = PhoneChecker().check(normalize_number(phone))
        if phone_error:
            errors["phone"] = [phone_error]
    if errors:
        raise DataSyncInvalid(errors)
    return parsed_nik.number, parsed_kk.number, purpose, number


def data_sync_open(
    *,
    office: Office,
    nik: str,
    kk_number: str,
    purpose: str,
    channel: str,
    contact: Contact | None = None,
    by: User | None = None,
    phone: str = "",
    client_address: str | None = None,
) -> DataSyncRequest:
    """Open a SINKRONISASI request at the office's Disdukcapil (a UPTD's goes to its kabupaten).

    `by=None`: the resident sent it (`contact` is the sender, told of each step); a staff member recording one
    brought in person or by phone passes `by` (and may note a `phone` to tell). Invariants: the NIK and KK pass
    the region-table checks and a purpose is given (DataSyncInvalid, per field); one open request per NIK and
    office: a second raises DataSyncDuplicate(first) and changes nothing, so the first keeps its place. The
    resident is matched when both the NIK and the KK number agree; a staff member's match is a LOOKUP row of
    the access log (hit or miss), written in the same transaction."""
    if by is not None and not by.has_perm("cards.add_datasyncrequest"):
        raise CardRequestError(_("Anda tidak berwenang mencatat permohonan sinkronisasi."))
    nik, kk_number, purpose, phone = data_sync_validate(
        nik=nik, kk_number=kk_number, purpose=purpose, channel=channel, phone=phone
    )
    head = office.head_office
    if by is not None and not Office.objects.visible_to(by).filter(pk=head.pk).exists():
        raise CardRequestError(_("Kantor ini di luar wilayah kerja Anda."))
    if contact is not None and not phone:
        phone = contact.phone or ""
    open_requests = DataSyncRequest.objects.filter(office=head, nik=nik, status__in=DataSyncRequest.OPEN_STATUSES)
    matched = _matched_resident(head, nik, kk_number)
    with transaction.atomic():
        first = open_requests.select_for_update().first()
        if first is not None and first.resident_id is None and matched is not None:
            # Whoever opened the first knew the NIK but not the KK: it does not hold the NIK's place against
            # the resident's own request. It is closed (its sender is told) and the matched one opens.
            _superseded(first)
            first = None
        if first is None:
            try:
                with transaction.atomic():
                    sync = DataSyncRequest.objects.create(
                        office=head,
                        nik=nik,
                        kk_number=kk_number,
                        purpose=purpose,
                        channel=channel,
                        contact=contact,
                        phone=phone,
                        resident=matched,
                        recorded_by=by,
                        received_at=clock.now(),
                    )
            except IntegrityError:
                # The same NIK was opened at the same moment by another message (the partial unique
                # constraint): that one is the first.
                first = open_requests.first()
                if first is None:
                    raise
            else:
                if by is not None:
                    AccessLog.objects.append(
                        user=by,
                        action=AccessLog.Action.LOOKUP,
                        resident_id=sync.resident_id,
                        ip_address=client_address or None,
                        detail=data_sync_lookup_detail(sync),
                    )
                return sync
    if by is not None:
        # The staff member is shown which request holds the NIK (and through it the match): a lookup too.
        AccessLog.objects.append(
            user=by,
            action=AccessLog.Action.LOOKUP,
            resident_id=first.resident_id,
            ip_address=client_address or None,
            detail=system_text(gettext_noop("SINKRONISASI: NIK sudah punya permohonan terbuka #%(id)d"), id=first.pk),
        )
    raise DataSyncDuplicate(first)


def _superseded(sync: DataSyncRequest) -> None:
    """Close an open request whose NIK and KK matched no resident, because a request whose pair matches came
    in for the same NIK (the sender of the first is told, with the reason)."""
    reason = system_text(
        gettext_noop(
            "NIK dan nomor KK tidak cocok dengan data penduduk; permohonan dengan data yang cocok sudah diterima."
        )
    )
    _decide(sync, Status.REFUSED, by=None, note=reason, template="data_sync_refused", reason=reason)


# --- a clerk's steps ------------------------------------------------------------------------------------------


def data_sync_moves_for(sync: DataSyncRequest, user: User) -> set[str]:
    """The steps the page offers this user on this request: exactly those the services below would take."""
    if not user.has_perm("cards.decide_datasyncrequest"):
        return set()
    moves = set(DataSyncRequest.TRANSITIONS.get(sync.status, ()))
    if sync.resident_id is None:
        moves.discard(Status.SYNCHRONISED)
    return moves


def _locked(*, sync_id: int, by: User, to: str, expected_status: str | None) -> DataSyncRequest:
    """The request, locked, after the checks every step shares: permission, scope, and the move allowed from
    the status it has now (compare-and-set: a second clerk acting on the same request finds it moved)."""
    if not by.has_perm("cards.decide_datasyncrequest"):
        raise CardRequestError(_("Anda tidak berwenang memproses sinkronisasi data."))
    sync = (
        DataSyncRequest.objects.visible_to(by)
        .select_for_update(of=("self",))
        .select_related("office", "resident", "contact")
        .filter(pk=sync_id)
        .first()
    )
    if sync is None:
        raise CardRequestError(_("Permohonan sinkronisasi tidak ditemukan."))
    if expected_status is not None and sync.status != expected_status:
        raise DataSyncStale(
            _("Permohonan ini sudah diubah (sekarang: %(status)s); muat ulang halaman.")
            % {"status": sync.get_status_display()}
        )
    if not sync.may_move_to(to):
        raise DataSyncStale(_("Permohonan ini sudah diproses (%(status)s).") % {"status": sync.get_status_display()})
    return sync


def _tell(sync: DataSyncRequest, template: str, **values: object) -> Notification:
    """The message about this request: to the contact who asked, else the number noted, else the matched
    resident's own address (notification_write decides the channel and the sending number)."""
    return notification_write(
        resident=sync.resident,
        template=template,
        contact=sync.contact,
        recipient=(sync.phone or None) if sync.contact is None else None,
        office=sync.office,
        reference=sync.reference,
        purpose=sync.purpose,
        nik=sync.masked_nik,
        office_name=sync.office.name,
        **values,
    )


def data_sync_request_documents(
    *, sync_id: int, by: User, note: str, expected_status: str | None = None
) -> DataSyncRequest:
    """Ask the resident for documents (a KK photo, a marriage certificate, …): the request waits for them and
    the resident is told what to send, replying in the same chat (the reply lands in the inbox thread).
    Asking again while waiting is allowed (what came was not enough)."""
    note = note.strip()[:500]
    if not note:
        raise CardRequestError(_("Tulis dokumen yang diminta; penduduk menerimanya dalam pesan."))
    with transaction.atomic():
        sync = _locked(sync_id=sync_id, by=by, to=Status.DOCUMENTS_REQUESTED, expected_status=expected_status)
        sync.status = Status.DOCUMENTS_REQUESTED
        sync.documents_note = note
        sync.documents_requested_at = clock.now()
        sync.documents_requested_by = by
        sync.save(update_fields=["status", "documents_note", "documents_requested_at", "documents_requested_by"])
        _tell(sync, "data_sync_documents", note=note)
    return sync


def data_sync_mark_synchronised(
    *, sync_id: int, by: User, note: str = "", expected_status: str | None = None
) -> DataSyncRequest:
    """The clerk checked the record and synchronised it; the resident is told to try the agency again.

    The synchronisation itself is done today by the clerk in the central application (SIAK): this records it
    and tells the resident. The app's own push to the central database comes with the central-sync issue; it
    will hang off this step (a row first, delivered by a task), not replace it. Invariant: only a request whose
    NIK and KK matched a resident of the kabupaten (there is no record here to synchronise otherwise)."""
    with transaction.atomic():
        sync = _locked(sync_id=sync_id, by=by, to=Status.SYNCHRONISED, expected_status=expected_status)
        if sync.resident_id is None:
            raise CardRequestError(
                _(
                    "NIK dan nomor KK tidak cocok dengan data penduduk: tidak dapat disinkronkan. Minta dokumen "
                    "atau tolak."
                )
            )
        _decide(sync, Status.SYNCHRONISED, by=by, note=note.strip()[:300], template="data_sync_synchronised")
    return sync


def _decide(sync: DataSyncRequest, status: str, *, by: User | None, note: str, template: str, **values: object) -> None:
    """Close a locked request with its decision (who, when, the note) and tell the resident, in the caller's
    transaction."""
    sync.status = status
    sync.decided_by = by
    sync.decided_at = clock.now()
    sync.note = note
    sync.save(update_fields=["status", "decided_by", "decided_at", "note"])
    _tell(sync, template, **values)


def data_sync_refuse(*, sync_id: int, by: User, reason: str, expected_status: str | None = None) -> DataSyncRequest:
    """Refuse the request with a reason, which the resident receives."""
    reason = reason.strip()[:300]
    if not reason:
        raise CardRequestError(_("Tulis alasan penolakan; penduduk menerimanya dalam pesan."))
    with transaction.atomic():
        sync = _locked(sync_id=sync_id, by=by, to=Status.REFUSED, expected_status=expected_status)
        _decide(sync, Status.REFUSED, by=by, note=reason, template="data_sync_refused", reason=reason)
    return sync
