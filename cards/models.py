"""e-KTP card requests and what hangs off them: the workflow (one transitions table beside the status choices),
the timeline, requirements per kind and their attachments, biometric recording, dispatch of centrally printed
cards to a UPTD, and SINKRONISASI (linking a WhatsApp number to a NIK/KK).

The tables keep the names they had when these models were part of registry (`db_table`). A card request's
status has one owner, cards/workflow.py; the rules about one row (which transitions exist, and who may take
each) are here.
"""

from __future__ import annotations

import secrets
from pathlib import PurePath

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.models import Office, Region, Resident, User, mask_number
from registry.scoping import ScopedQuerySet


class CardKind(models.TextChoices):
    PEMULA = "pemula", _("Pemula")
    HILANG = "hilang", _("Hilang")
    RUSAK = "rusak", _("Rusak")
    UBAH_DATA = "ubah_data", _("Ubah data")


class Channel(models.TextChoices):
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")
    WALK_IN = "walk_in", _("Datang langsung")
    UPTD = "uptd", _("UPTD kecamatan")
    OUTREACH = "outreach", _("Jemput bola")


class Submitter(models.TextChoices):
    RESIDENT = "resident", _("Penduduk (lewat pesan)")
    CLERK = "clerk", _("Petugas")
    UPTD_OPERATOR = "uptd_operator", _("Operator UPTD atas nama penduduk")


class UrgentReason(models.TextChoices):
    TRAVEL = "travel", _("Perjalanan ke luar negeri")
    STUDY = "study", _("Studi ke luar negeri")
    SEAFARER = "seafarer", _("Bekerja di kapal/laut")
    MEDICAL = "medical", _("Keperluan medis")
    OTHER = "other", _("Lainnya")


class UrgentStatus(models.TextChoices):
    NONE = "", _("Tidak mendesak")
    REQUESTED = "requested", _("Menunggu persetujuan")
    APPROVED = "approved", _("Disetujui")
    REFUSED = "refused", _("Ditolak")


class CardRequestQuerySet(ScopedQuerySet):
    scope_field = "kecamatan__code"
    scope_level = Region.Level.KECAMATAN

    def open(self) -> CardRequestQuerySet:
        return self.filter(status__in=CardRequest.OPEN_STATUSES)

    def in_work_order(self) -> CardRequestQuerySet:
        """Approved urgent requests first, then the oldest: the order every queue is worked in."""
        return self.order_by("-is_urgent", "created_at", "id")

    def needing_recording(self) -> CardRequestQuerySet:
        return self.open().filter(kind=CardKind.PEMULA, resident__biometric_recorded=False)


class CardRequest(models.Model):
    """One request for an e-KTP card, from receipt to the card in the resident's hands."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Diterima")
        VERIFYING = "verifying", _("Diverifikasi")
        INCOMPLETE = "incomplete", _("Belum lengkap")
        READY_TO_PRINT = "ready_to_print", _("Siap cetak")
        SCHEDULED = "scheduled", _("Terjadwal")
        PRINTED = "printed", _("Sudah dicetak")
        READY_FOR_PICKUP = "ready_for_pickup", _("Siap diambil")
        SHIPPED = "shipped", _("Dikirim lewat Pos")
        SENT_TO_UPTD = "sent_to_uptd", _("Dikirim ke UPTD")
        HANDED_OVER = "handed_over", _("Sudah diserahkan")
        REJECTED = "rejected", _("Ditolak")
        CANCELLED = "cancelled", _("Dibatalkan")

    S = Status
    CLOSED_STATUSES = frozenset({S.HANDED_OVER, S.REJECTED, S.CANCELLED})
    OPEN_STATUSES = frozenset(set(S) - CLOSED_STATUSES)
    # The workflow: from → the statuses it may move to. Rejected and cancelled are reachable from every open
    # status (with a reason); closed statuses lead nowhere.
    TRANSITIONS: dict[str, frozenset[str]] = {
        S.RECEIVED: frozenset({S.VERIFYING}),
        S.VERIFYING: frozenset({S.INCOMPLETE, S.READY_TO_PRINT}),
        S.INCOMPLETE: frozenset({S.VERIFYING}),
        S.READY_TO_PRINT: frozenset({S.SCHEDULED}),
        S.SCHEDULED: frozenset({S.PRINTED}),
        S.PRINTED: frozenset({S.READY_FOR_PICKUP, S.SHIPPED, S.SENT_TO_UPTD}),
        S.READY_FOR_PICKUP: frozenset({S.HANDED_OVER}),
        S.SHIPPED: frozenset({S.HANDED_OVER}),
        S.SENT_TO_UPTD: frozenset({S.HANDED_OVER}),
        S.HANDED_OVER: frozenset(),
        S.REJECTED: frozenset(),
        S.CANCELLED: frozenset(),
    }
    for _open in OPEN_STATUSES:
        TRANSITIONS[_open] = TRANSITIONS[_open] | {S.REJECTED, S.CANCELLED}
    del _open
    # Moves that need a reason in the note.
    NEEDS_REASON = frozenset({S.REJECTED, S.CANCELLED})

    resident = models.ForeignKey(
        Resident, verbose_name=_("penduduk"), on_delete=models.PROTECT, related_name="card_requests"
    )
    # The resident's kecamatan when the request was made: the scope column (a UPTD sees its own kecamatan's).
    # Every status change rewrites each index of this table (the status is indexed), so none is kept that
    # another covers: cardrequest_kec_queue starts with the kecamatan.
    kecamatan = models.ForeignKey(
        Region, verbose_name=_("kecamatan"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    office = models.ForeignKey(
        Office, verbose_name=_("kantor pencetak"), on_delete=models.PROTECT, related_name="card_requests"
    )
    pickup_office = models.ForeignKey(
        Office, verbose_name=_("tempat pengambilan"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("jenis permohonan"), max_length=10, choices=CardKind.choices)
    channel = models.CharField(_("saluran"), max_length=10, choices=Channel.choices)
    submitted_by_kind = models.CharField(_("diajukan oleh"), max_length=14, choices=Submitter.choices)
    submitted_by = models.ForeignKey(
        User, verbose_name=_("petugas pengaju"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RECEIVED)
    note = models.TextField(_("catatan"), blank=True)
    missing_items = models.JSONField(_("kekurangan"), default=list, blank=True)
    status_reason = models.CharField(_("alasan"), max_length=500, blank=True)
    urgent_status = models.CharField(
        _("status mendesak"), max_length=10, choices=UrgentStatus.choices, default=UrgentStatus.NONE, blank=True
    )
    urgent_reason = models.CharField(_("alasan mendesak"), max_length=10, choices=UrgentReason.choices, blank=True)
    urgent_note = models.CharField(_("keterangan mendesak"), max_length=500, blank=True)
    urgent_decided_by = models.ForeignKey(
        User,
        verbose_name=_("diputuskan oleh"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # never searched by; a staff account is never deleted (PROTECT)
    )
    urgent_decided_at = models.DateTimeField(_("diputuskan"), null=True, blank=True)
    # True exactly when a supervisor approved the urgency: the first sort key of every queue.
    is_urgent = models.BooleanField(_("mendesak"), default=False)
    created_at = models.DateTimeField(_("diterima"), default=timezone.now)
    updated_at = models.DateTimeField(_("diubah"), auto_now=True)
    status_changed_at = models.DateTimeField(_("status berubah"), default=timezone.now)

    objects = CardRequestQuerySet.as_manager()

    class Meta:
        db_table = "registry_cardrequest"
        verbose_name = _("permohonan e-KTP")
        verbose_name_plural = _("permohonan e-KTP")
        ordering = ["-is_urgent", "created_at", "id"]
        indexes = [
            models.Index(fields=["status", "-is_urgent", "created_at", "id"], name="cardrequest_queue"),
            models.Index(fields=["kecamatan", "status", "-is_urgent", "created_at"], name="cardrequest_kec_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "kind"],
                condition=Q(
                    status__in=[
                        "received",
                        "verifying",
                        "incomplete",
                        "ready_to_print",
                        "scheduled",
                        "printed",
                        "ready_for_pickup",
                        "shipped",
                        "sent_to_uptd",
                    ]
                ),  # fmt: skip
                name="cardrequest_one_open_per_resident_kind",
            ),
            models.CheckConstraint(
                condition=Q(is_urgent=False) | Q(urgent_status="approved"), name="cardrequest_urgent_is_approved"
            ),
        ]
        permissions = [
            ("verify_cardrequest", _("Boleh memverifikasi dan memproses permohonan e-KTP")),
            ("approve_urgent_cardrequest", _("Boleh menyetujui permohonan mendesak")),
            ("record_biometrics", _("Boleh mencatat perekaman biometrik")),
            ("dispatch_cardrequest", _("Boleh mengirim kartu ke UPTD")),
            ("receive_cardrequest", _("Boleh menerima kiriman kartu di UPTD")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} · {self.resident.full_name}"

    @classmethod
    def can_move(cls, source: str, target: str) -> bool:
        return target in cls.TRANSITIONS.get(source, frozenset())

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def number(self) -> str:
        """The reference staff and residents quote: PKTP-000123."""
        return f"PKTP-{self.pk:06d}"

    @property
    def submitted_by_uptd(self) -> bool:
        return self.submitted_by_kind == Submitter.UPTD_OPERATOR

    def next_statuses(self) -> list[str]:
        order = list(self.Status)
        return sorted(self.TRANSITIONS[self.status], key=order.index)


class CardRequestEvent(models.Model):
    """One line of a request's timeline: who did what, when, with which note. Append-only."""

    class Action(models.TextChoices):
        CREATED = "created", _("Permohonan dibuat")
        STATUS = "status", _("Status diubah")
        ATTACHMENT = "attachment", _("Lampiran diunggah")
        REQUIREMENT = "requirement", _("Persyaratan dicentang")
        URGENT_REQUESTED = "urgent_requested", _("Prioritas mendesak diajukan")
        URGENT_APPROVED = "urgent_approved", _("Prioritas mendesak disetujui")
        URGENT_REFUSED = "urgent_refused", _("Prioritas mendesak ditolak")
        BIOMETRICS = "biometrics", _("Perekaman biometrik")
        DISPATCH = "dispatch", _("Kiriman ke UPTD")
        RECEIVED_AT_UPTD = "received_at_uptd", _("Diterima di UPTD")
        CHECKED_IN = "checked_in", _("Hadir di kantor")
        SUKET = "suket", _("Surat keterangan diterbitkan")
        OVER_CAPACITY = "over_capacity", _("Kapasitas cetak dilampaui (mendesak)")

    # cardrequestevent_request_at (card_request, at) serves the foreign key too.
    card_request = models.ForeignKey(CardRequest, on_delete=models.CASCADE, related_name="events", db_index=False)
    at = models.DateTimeField(_("waktu"), default=timezone.now)
    by = models.ForeignKey(
        User, verbose_name=_("oleh"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("tindakan"), max_length=20, choices=Action.choices)
    from_status = models.CharField(_("dari"), max_length=16, choices=CardRequest.Status.choices, blank=True)
    to_status = models.CharField(_("ke"), max_length=16, choices=CardRequest.Status.choices, blank=True)
    note = models.TextField(_("catatan"), blank=True)

    class Meta:
        db_table = "registry_cardrequestevent"
        verbose_name = _("riwayat permohonan")
        verbose_name_plural = _("riwayat permohonan")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["card_request", "at"], name="cardrequestevent_request_at")]

    def __str__(self) -> str:
        return f"{self.card_request_id} {self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


class Requirement(models.Model):
    """What a kind of request needs: a document uploaded before printing, or something done at handover
    (the old card collected). Administrators edit these in the admin."""

    class Stage(models.TextChoices):
        DOCUMENT = "document", _("Dokumen sebelum cetak")
        HANDOVER = "handover", _("Saat penyerahan kartu")

    kind = models.CharField(_("jenis permohonan"), max_length=10, choices=CardKind.choices)
    code = models.SlugField(_("kode"), max_length=40)
    name = models.CharField(_("nama"), max_length=150)
    description = models.CharField(_("keterangan"), max_length=300, blank=True)
    stage = models.CharField(_("tahap"), max_length=10, choices=Stage.choices)
    is_active = models.BooleanField(_("berlaku"), default=True)
    position = models.PositiveSmallIntegerField(_("urutan"), default=0)

    class Meta:
        db_table = "registry_requirement"
        verbose_name = _("persyaratan")
        verbose_name_plural = _("persyaratan")
        ordering = ["kind", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="requirement_kind_code")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class RequirementCheck(models.Model):
    """A handover requirement ticked by the clerk (old card collected)."""

    card_request = models.ForeignKey(CardRequest, on_delete=models.CASCADE, related_name="requirement_checks")
    requirement = models.ForeignKey(Requirement, on_delete=models.PROTECT, related_name="+")
    checked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "registry_requirementcheck"
        verbose_name = _("persyaratan terpenuhi")
        verbose_name_plural = _("persyaratan terpenuhi")
        constraints = [
            models.UniqueConstraint(fields=["card_request", "requirement"], name="requirementcheck_once"),
        ]

    def __str__(self) -> str:
        return f"{self.card_request_id}: {self.requirement_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """A random name under MEDIA_ROOT (never served by URL): the resident's file name is kept only as data."""
    suffix = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(instance.content_type, "")
    now = timezone.now()
    return str(PurePath("lampiran", f"{now:%Y}", f"{now:%m}", secrets.token_hex(16) + suffix))


class Attachment(models.Model):
    """A document for a request: a police loss report, supporting documents, proof of urgency."""

    class Purpose(models.TextChoices):
        REQUIREMENT = "requirement", _("Persyaratan")
        URGENT_PROOF = "urgent_proof", _("Bukti keperluan mendesak")
        OTHER = "other", _("Lainnya")

    MAX_BYTES = 5 * 1024 * 1024
    CONTENT_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}

    card_request = models.ForeignKey(CardRequest, on_delete=models.CASCADE, related_name="attachments")
    requirement = models.ForeignKey(
        Requirement, verbose_name=_("persyaratan"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(_("keperluan"), max_length=12, choices=Purpose.choices, default=Purpose.REQUIREMENT)
    file = models.FileField(_("berkas"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("nama berkas asli"), max_length=255)
    content_type = models.CharField(_("jenis berkas"), max_length=40)
    size = models.PositiveIntegerField(_("ukuran"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        User, verbose_name=_("diunggah oleh"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("diunggah"), default=timezone.now)

    class Meta:
        db_table = "registry_attachment"
        verbose_name = _("lampiran")
        verbose_name_plural = _("lampiran")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=["application/pdf", "image/jpeg", "image/png"]),
                name="attachment_allowed_type",
            ),
            models.CheckConstraint(condition=Q(size__lte=5 * 1024 * 1024), name="attachment_at_most_5mb"),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def type_label(self) -> str:
        return self.CONTENT_TYPES.get(self.content_type, self.content_type)


class HealthChecklist(models.TextChoices):
    """The health protocol for recording during an outbreak (as the Pasar Kemis office applied it, seed 003)."""

    STAFF_TEMPERATURE = "staff_temperature", _("Suhu tubuh petugas diperiksa")
    RESIDENT_TEMPERATURE = "resident_temperature", _("Suhu tubuh pemohon diperiksa")
    DEVICE_DISINFECTED = "device_disinfected", _("Alat perekaman disemprot disinfektan")
    GLOVES_AND_MASKS = "gloves_and_masks", _("Petugas dan pemohon memakai sarung tangan dan masker")
    HANDS_WASHED = "hands_washed", _("Pemohon mencuci tangan dengan sabun atau hand sanitizer")


class BiometricRecording(models.Model):
    """A resident's biometric recording (photo, fingerprints, iris): needed once before a first card."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="biometric_recordings")
    card_request = models.ForeignKey(
        CardRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="biometric_recordings"
    )
    office = models.ForeignKey(Office, verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(User, verbose_name=_("petugas"), on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("waktu perekaman"), default=timezone.now)
    during_emergency = models.BooleanField(_("saat keadaan darurat kesehatan"), default=False)
    checklist = models.JSONField(_("protokol kesehatan"), default=list, blank=True)

    class Meta:
        db_table = "registry_biometricrecording"
        verbose_name = _("perekaman biometrik")
        verbose_name_plural = _("perekaman biometrik")
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.recorded_at:%Y-%m-%d %H:%M}"


class DispatchBatchQuerySet(ScopedQuerySet):
    scope_field = "uptd__region__code"


class DispatchBatch(models.Model):
    """Centrally printed cards travelling from the kabupaten office to one UPTD for handover there."""

    office = models.ForeignKey(Office, verbose_name=_("dikirim dari"), on_delete=models.PROTECT, related_name="+")
    uptd = models.ForeignKey(Office, verbose_name=_("UPTD tujuan"), on_delete=models.PROTECT, related_name="dispatches")
    created_by = models.ForeignKey(User, verbose_name=_("dikirim oleh"), on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(_("dikirim"), default=timezone.now)
    note = models.CharField(_("catatan"), max_length=300, blank=True)

    objects = DispatchBatchQuerySet.as_manager()

    class Meta:
        db_table = "registry_dispatchbatch"
        verbose_name = _("kiriman kartu ke UPTD")
        verbose_name_plural = _("kiriman kartu ke UPTD")
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"{self.number} → {self.uptd}"

    @property
    def number(self) -> str:
        return f"KRM-{self.pk:05d}"


class DispatchItem(models.Model):
    """One card in a dispatch; the UPTD confirms receipt card by card before handing it over."""

    batch = models.ForeignKey(DispatchBatch, on_delete=models.CASCADE, related_name="items")
    card_request = models.OneToOneField(CardRequest, on_delete=models.PROTECT, related_name="dispatch_item")
    received_at = models.DateTimeField(_("diterima"), null=True, blank=True)
    received_by = models.ForeignKey(
        User, verbose_name=_("diterima oleh"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "registry_dispatchitem"
        verbose_name = _("kartu dalam kiriman")
        verbose_name_plural = _("kartu dalam kiriman")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.card_request_id}"


class NumberLinkQuerySet(ScopedQuerySet):
    scope_field = "office__region__code"


class NumberLinkRequest(models.Model):
    """SINKRONISASI: a resident asks to link a WhatsApp number to their NIK/KK, for a stated purpose."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Menunggu pemeriksaan")
        CONFIRMED = "confirmed", _("Dikonfirmasi")
        REFUSED = "refused", _("Ditolak")

    office = models.ForeignKey(Office, verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(_("nomor WhatsApp"), max_length=20)
    nik = models.CharField(_("NIK"), max_length=16)
    kk_number = models.CharField(_("nomor KK"), max_length=16)
    purpose = models.CharField(_("keperluan"), max_length=300)
    channel = models.CharField(_("saluran"), max_length=10, choices=Channel.choices, default=Channel.WHATSAPP)
    # The resident whose NIK and KK both match, found when the request arrives (None: no such resident).
    resident = models.ForeignKey(
        Resident, verbose_name=_("penduduk"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(_("diterima"), default=timezone.now)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("dicatat oleh"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        User, verbose_name=_("diputuskan oleh"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("diputuskan"), null=True, blank=True)
    decision_note = models.CharField(_("catatan keputusan"), max_length=300, blank=True)

    objects = NumberLinkQuerySet.as_manager()

    class Meta:
        db_table = "registry_numberlinkrequest"
        verbose_name = _("permohonan sinkronisasi nomor")
        verbose_name_plural = _("permohonan sinkronisasi nomor")
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["office", "status", "received_at"], name="numberlink_office_queue")]
        permissions = [("decide_numberlinkrequest", _("Boleh memutuskan sinkronisasi nomor WhatsApp"))]

    def __str__(self) -> str:
        return f"SINKRONISASI {mask_number(self.nik)}"

    @property
    def masked_nik(self) -> str:
        return mask_number(self.nik)

    @property
    def masked_kk(self) -> str:
        return mask_number(self.kk_number)
