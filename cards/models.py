"""e-KTP card requests and what hangs off them: the workflow (one transitions table beside the status choices),
the timeline, requirements per kind and their attachments, biometric recording, dispatch of centrally printed
cards to a UPTD, and SINKRONISASI (data synchronisation requests).

The tables keep the names they had when these models were part of registry (`db_table`). A card request's
status has one owner, cards/workflow.py; the rules about one row (which transitions exist, and who may take
each) are here.
"""

from __future__ import annotations

import secrets
from pathlib import PurePath

from django.db import models
from django.db.models import F, FilteredRelation, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from messaging.system_text import SystemTextField, SystemTextTextField
from registry import clock
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


class Route(models.TextChoices):
    """How the card reaches the resident (DESIGN.md, "four routes")."""

    COUNTER = "counter", _("Cetak di loket, ditunggu")
    COLLECT = "collect", _("Dicetak dulu, diambil kemudian")
    UPTD = "uptd", _("Lewat UPTD kecamatan")
    POST = "post", _("Dikirim Pos (COD)")


class Actor(models.TextChoices):
    """Who or which process takes a step of the workflow."""

    CLERK = "clerk", _("Petugas")
    UPTD_OPERATOR = "uptd_operator", _("Operator UPTD")
    RESIDENT = "resident", _("Penduduk (lewat pesan)")
    BOOKING = "booking", _("Penjadwalan")
    PRINTING = "printing", _("Pencetakan")
    DISPATCH = "dispatch", _("Kiriman ke UPTD")
    SHIPMENT = "shipment", _("Pengiriman Pos")
    SYSTEM = "system", _("Tugas harian")


class CardRequestQuerySet(ScopedQuerySet):
    scope_field = "kecamatan__code"
    scope_level = Region.Level.KECAMATAN

    def open(self) -> CardRequestQuerySet:
        return self.filter(status__in=CardRequest.OPEN_STATUSES)

    def in_work_order(self) -> CardRequestQuerySet:
        """Approved urgent requests first, then the oldest: the order every queue is worked in."""
        return self.order_by("-is_urgent", "queued_at", "id")

    def with_appointment(self) -> CardRequestQuerySet:
        """Each request's active arrival appointment (route 1), as `appointment_day` and `appointment_number`.
        Read through the reverse relation queueing's Booking declares (queueing sits above cards)."""
        return self.annotate(
            active_booking=FilteredRelation("bookings", condition=Q(bookings__status__in=["booked", "checked_in"])),
            appointment_day=F("active_booking__date"),
            appointment_number=F("active_booking__number"),
        )

    def needing_recording(self) -> CardRequestQuerySet:
        return self.open().filter(resident__biometric_recorded=False)


class CardRequest(models.Model):
    """One request for an e-KTP card, from receipt to the card in the resident's hands."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Diterima")
        VERIFYING = "verifying", _("Sedang diverifikasi")
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
    A = Actor
    CLOSED_STATUSES = frozenset({S.HANDED_OVER, S.REJECTED, S.CANCELLED})
    OPEN_STATUSES = frozenset(set(S) - CLOSED_STATUSES)
    # Statuses before the card exists: a route can still change, a request can still be refused.
    BEFORE_PRINTING = frozenset({S.RECEIVED, S.VERIFYING, S.INCOMPLETE, S.READY_TO_PRINT, S.SCHEDULED})

    # The workflow: every edge, and who or which process may take it. cards/workflow.py is the only code that
    # moves a status, and only along an edge listed here for the actor asking.
    TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
        (S.RECEIVED, S.VERIFYING): frozenset({A.CLERK}),
        (S.VERIFYING, S.INCOMPLETE): frozenset({A.CLERK}),
        # The missing documents arrived (uploaded by the UPTD, sent by the resident, or a clerk saw them).
        (S.INCOMPLETE, S.VERIFYING): frozenset({A.CLERK, A.UPTD_OPERATOR, A.RESIDENT}),
        (S.VERIFYING, S.READY_TO_PRINT): frozenset({A.CLERK}),
        # Route 1 only: an arrival appointment taken from a channel quota (booking, invitation, walk-in).
        (S.READY_TO_PRINT, S.SCHEDULED): frozenset({A.BOOKING}),
        # The appointment ended without a card: cancelled, moved, or the resident did not come (day end).
        (S.SCHEDULED, S.READY_TO_PRINT): frozenset({A.BOOKING, A.SYSTEM}),
        # Printed only by printing: routes 2-4 in a batch, route 1 at the counter for a checked-in resident.
        (S.READY_TO_PRINT, S.PRINTED): frozenset({A.PRINTING}),
        (S.SCHEDULED, S.PRINTED): frozenset({A.PRINTING}),
        # Route 1: handed over at the counter right after printing, in person.
        (S.PRINTED, S.HANDED_OVER): frozenset({A.CLERK}),
        # Route 2 (and a route-1 resident who could not wait): stored, the resident told where and from when.
        (S.PRINTED, S.READY_FOR_PICKUP): frozenset({A.CLERK}),
        (S.READY_FOR_PICKUP, S.HANDED_OVER): frozenset({A.CLERK}),
        # Route 3: dispatched to the UPTD, handed over there.
        (S.PRINTED, S.SENT_TO_UPTD): frozenset({A.DISPATCH}),
        (S.SENT_TO_UPTD, S.HANDED_OVER): frozenset({A.UPTD_OPERATOR}),
        # Route 4: shipped by Pos; delivered, or returned to the office (the request goes to route 2).
        (S.PRINTED, S.SHIPPED): frozenset({A.SHIPMENT}),
        (S.SHIPPED, S.HANDED_OVER): frozenset({A.SHIPMENT}),
        (S.SHIPPED, S.READY_FOR_PICKUP): frozenset({A.SHIPMENT}),
    }
    for _open in OPEN_STATUSES:
        # Rejected and cancelled from every open status, with a reason; a UPTD operator may cancel its own
        # submissions before verification ends (workflow checks whose submission it is).
        TRANSITIONS[(_open, S.REJECTED)] = frozenset({A.CLERK})
        TRANSITIONS[(_open, S.CANCELLED)] = frozenset(
            {A.CLERK, A.UPTD_OPERATOR} if _open in (S.RECEIVED, S.VERIFYING, S.INCOMPLETE) else {A.CLERK}
        )
    del _open
    # Moves that need a reason in the note.
    NEEDS_REASON = frozenset({S.REJECTED, S.CANCELLED})

    resident = models.ForeignKey(
        Resident, verbose_name=_("penduduk"), on_delete=models.PROTECT, related_name="card_requests"
    )
    # The scope column (a UPTD sees its own kecamatan's): the resident's current kecamatan while the request is
    # open (cards.services.card_requests_follow_residents), except a card held at a UPTD or printed in another
    # kabupaten; a closed request keeps the kecamatan where it was served.
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
    route = models.CharField(_("rute kartu"), max_length=10, choices=Route.choices, default=Route.COUNTER)
    # Moves to the back of the line (no-show); the work order is created_at unless this is set.
    queued_at = models.DateTimeField(_("masuk antrean"), default=timezone.now)
    no_shows = models.PositiveSmallIntegerField(_("tidak hadir"), default=0)
    note = models.TextField(_("catatan"), blank=True)
    missing_items = models.JSONField(_("kekurangan"), default=list, blank=True)
    status_reason = SystemTextField(_("alasan"), max_length=500, blank=True)
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
        ordering = ["-is_urgent", "queued_at", "id"]
        indexes = [
            models.Index(fields=["status", "-is_urgent", "queued_at", "id"], name="cardrequest_queue"),
            models.Index(fields=["kecamatan", "status", "-is_urgent", "queued_at"], name="cardrequest_kec_queue"),
            # The work queue (cards/tables.py), keyset-paged in work order: the open requests (~2 % of the table)
            # in one small partial index that serves every open tab and their counts (scope, status and urgency
            # are read from the index, never from the table), and the closed ones in their own, read only by
            # the closed tab. See docs/PERFORMANCE.md, "The work queue".
            models.Index(
                fields=["-is_urgent", "queued_at", "id", "kecamatan", "status", "urgent_status"],
                condition=Q(
                    status__in=[
                        "incomplete",
                        "printed",
                        "ready_for_pickup",
                        "ready_to_print",
                        "received",
                        "scheduled",
                        "sent_to_uptd",
                        "shipped",
                        "verifying",
                    ]
                ),
                name="cardrequest_open_work",
            ),
            models.Index(
                fields=["-is_urgent", "queued_at", "id", "kecamatan"],
                condition=Q(status__in=["cancelled", "handed_over", "rejected"]),
                name="cardrequest_closed_work",
            ),
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
    def can_move(cls, source: str, target: str, actor: str | None = None) -> bool:
        actors = cls.TRANSITIONS.get((source, target), frozenset())
        return bool(actors) if actor is None else actor in actors

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

    def next_statuses(self, actor: str | None = None) -> list[str]:
        order = list(self.Status)
        targets = {
            t for (f, t), actors in self.TRANSITIONS.items() if f == self.status and (actor is None or actor in actors)
        }
        return sorted(targets, key=order.index)

    @property
    def is_printed(self) -> bool:
        return self.status not in self.BEFORE_PRINTING and self.status not in (self.S.REJECTED, self.S.CANCELLED)


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
        ROUTE = "route", _("Rute kartu diubah")
        MISPRINT = "misprint", _("Gagal cetak, blangko rusak")
        NO_SHOW = "no_show", _("Tidak hadir pada jadwal")
        CENTRAL = "central", _("Jawaban pusat atas perekaman")
        WALK_IN = "walk_in", _("Nomor antrean datang langsung")
        RESUMED = "resumed", _("Penduduk meminta jadwal lagi")
        SHIPMENT = "shipment", _("Pengiriman Pos")
        RESIDENT_MOVED = "resident_moved", _("Penduduk pindah kecamatan")
        MESSAGE_RESENT = "message_resent", _("Pesan dikirim ulang")

    # cardrequestevent_request_at (card_request, at) serves the foreign key too.
    card_request = models.ForeignKey(CardRequest, on_delete=models.CASCADE, related_name="events", db_index=False)
    at = models.DateTimeField(_("waktu"), default=timezone.now)
    by = models.ForeignKey(
        User, verbose_name=_("oleh"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("tindakan"), max_length=20, choices=Action.choices)
    from_status = models.CharField(_("dari"), max_length=16, choices=CardRequest.Status.choices, blank=True)
    to_status = models.CharField(_("ke"), max_length=16, choices=CardRequest.Status.choices, blank=True)
    note = SystemTextTextField(_("catatan"), blank=True)

    class Meta:
        db_table = "registry_cardrequestevent"
        verbose_name = _("riwayat permohonan")
        verbose_name_plural = _("riwayat permohonan")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["card_request", "at"], name="cardrequestevent_request_at")]

    def __str__(self) -> str:
        return f"{self.card_request_id} {self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


# The requirements seeded by registry/migrations/0010: their names and descriptions are catalogue msgids, so
# pages show them in the reader's language (`|system_text`); an administrator's own wording is shown as typed.
SEEDED_REQUIREMENT_TEXTS = (
    gettext_noop("Surat keterangan kehilangan dari kepolisian"),
    gettext_noop("Surat kehilangan dari Polsek/Polres, difoto atau dipindai."),
    gettext_noop("KTP-el lama diserahkan"),
    gettext_noop("KTP-el yang rusak ditarik saat kartu baru diserahkan."),
    gettext_noop("Dokumen pendukung perubahan data"),
    gettext_noop("Mis. akta, surat nikah/cerai, ijazah, atau KK terbaru sesuai data yang diubah."),
    gettext_noop("KTP-el lama ditarik saat kartu baru diserahkan."),
)


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
    now = clock.now()
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


class CentralStatus(models.TextChoices):
    PENDING = "pending", _("Menunggu jawaban pusat")
    PRR = "prr", _("Siap cetak (PRR)")
    DUPLICATE = "duplicate", _("Rekaman ganda (duplicate record)")


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
    # After recording, the record goes to the centre for deduplication and comes back print-ready (PRR) or
    # as a duplicate for a clerk to resolve. Until the central sync is built, a clerk records that answer.
    central_status = models.CharField(
        _("jawaban pusat"), max_length=10, choices=CentralStatus.choices, default=CentralStatus.PENDING
    )
    central_decided_by = models.ForeignKey(
        User, verbose_name=_("dicatat oleh"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    central_decided_at = models.DateTimeField(_("jawaban dicatat"), null=True, blank=True)

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


class DataSyncQuerySet(ScopedQuerySet):
    scope_field = "office__region__code"

    def open(self) -> DataSyncQuerySet:
        return self.filter(status__in=DataSyncRequest.OPEN_STATUSES)


class DataSyncRequest(models.Model):
    """SINKRONISASI: a resident whose NIK another agency does not recognise (BPJS, a bank, Prakerja, social aid:
    the purpose, "keperluan") asks the office to check their record and synchronise it with the central
    database. A clerk checks it, may ask for documents, then marks it synchronised or refuses it; the resident is
    told at each step. One open request per NIK and office: a resend points to the first, which keeps its place.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", _("Menunggu pemeriksaan")
        DOCUMENTS_REQUESTED = "documents_requested", _("Menunggu dokumen")
        SYNCHRONISED = "synchronised", _("Sudah disinkronkan")
        REFUSED = "refused", _("Ditolak")

    OPEN_STATUSES = frozenset({Status.RECEIVED, Status.DOCUMENTS_REQUESTED})
    # The moves a clerk may make (documents may be asked for again when what came is not enough).
    TRANSITIONS = {
        Status.RECEIVED: frozenset({Status.DOCUMENTS_REQUESTED, Status.SYNCHRONISED, Status.REFUSED}),
        Status.DOCUMENTS_REQUESTED: frozenset({Status.DOCUMENTS_REQUESTED, Status.SYNCHRONISED, Status.REFUSED}),
        Status.SYNCHRONISED: frozenset(),
        Status.REFUSED: frozenset(),
    }

    office = models.ForeignKey(Office, verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="+")
    nik = models.CharField(_("NIK"), max_length=16)
    kk_number = models.CharField(_("nomor KK"), max_length=16)
    purpose = models.CharField(_("keperluan"), max_length=300)
    channel = models.CharField(_("saluran"), max_length=10, choices=Channel.choices, default=Channel.WHATSAPP)
    # Who asked and is told of each step: the WhatsApp/SMS sender, or nobody for a request brought in person
    # (then `phone`, when the clerk noted one, or the matched resident's own number).
    contact = models.ForeignKey(
        "messaging.Contact",
        verbose_name=_("pengirim"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    phone = models.CharField(_("nomor yang dikabari"), max_length=20, blank=True)
    # The resident whose NIK and KK both match, found when the request arrives (None: no such resident).
    resident = models.ForeignKey(
        Resident, verbose_name=_("penduduk"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(_("diterima"), default=timezone.now)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("dicatat oleh"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    documents_note = models.CharField(_("dokumen yang diminta"), max_length=500, blank=True)
    documents_requested_at = models.DateTimeField(_("dokumen diminta"), null=True, blank=True)
    documents_requested_by = models.ForeignKey(
        User, verbose_name=_("dokumen diminta oleh"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        User, verbose_name=_("diputuskan oleh"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("diputuskan"), null=True, blank=True)
    note = SystemTextField(_("catatan keputusan"), max_length=300, blank=True)

    objects = DataSyncQuerySet.as_manager()

    class Meta:
        verbose_name = _("permohonan sinkronisasi data")
        verbose_name_plural = _("permohonan sinkronisasi data")
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["office", "status", "received_at"], name="datasync_office_queue")]
        constraints = [
            # One open request per NIK and office: a resend is pointed to the first (cards/data_sync.py).
            models.UniqueConstraint(
                fields=["office", "nik"],
                condition=Q(status__in=["received", "documents_requested"]),
                name="datasync_one_open_per_nik",
            ),
        ]
        permissions = [("decide_datasyncrequest", _("Boleh memproses sinkronisasi data"))]

    def __str__(self) -> str:
        return f"SINKRONISASI {self.reference} {mask_number(self.nik)}"

    @property
    def reference(self) -> str:
        """The number residents and clerks quote."""
        return f"SNK-{self.pk:06d}" if self.pk else "SNK-"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def may_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())

    @property
    def masked_nik(self) -> str:
        return mask_number(self.nik)

    @property
    def masked_kk(self) -> str:
        return mask_number(self.kk_number)


class Handover(models.Model):
    """How a card reached its owner: in person with fingerprint check and activation (counter, pickup, UPTD),
    or by post, delivered by the courier without either. One per request; written by the workflow with the
    move to handed over."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("Langsung kepada pemilik, sidik jari dan aktivasi")
        BY_POST = "by_post", _("Diantar Pos Indonesia (COD)")

    card_request = models.OneToOneField(CardRequest, on_delete=models.PROTECT, related_name="handover")
    method = models.CharField(_("cara penyerahan"), max_length=10, choices=Method.choices)
    office = models.ForeignKey(Office, verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("waktu"), default=timezone.now)
    by = models.ForeignKey(
        User, verbose_name=_("petugas"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fingerprint_verified = models.BooleanField(_("sidik jari cocok"), default=False)
    activated = models.BooleanField(_("KTP-el diaktivasi"), default=False)
    old_card_collected = models.BooleanField(_("KTP lama ditarik"), default=False)
    note = SystemTextField(_("catatan"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("penyerahan kartu")
        verbose_name_plural = _("penyerahan kartu")
        constraints = [
            models.CheckConstraint(
                condition=Q(method="in_person", fingerprint_verified=True, activated=True)
                | Q(method="by_post", fingerprint_verified=False, activated=False),
                name="handover_in_person_is_verified",
            )
        ]

    def __str__(self) -> str:
        return f"{self.card_request_id} {self.get_method_display()}"
