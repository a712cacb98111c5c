"""What residents send: the raw webhook payloads as they arrived (kept until processed, and after a failure),
each message once (the provider's id is unique), and the inbox threads a clerk answers. The office's WhatsApp
and SMS desk sits above the card pipeline: every action a message takes goes through cards and queueing."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging.models import Contact, Notification, OfficeNumber
from registry.models import Office, Resident, User


class Source(models.TextChoices):
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")


class WebhookPayload(models.Model):
    """One POST as it arrived (after its signature or token was checked): processed by a Celery task, and kept
    and visible when processing fails."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Menunggu diproses")
        PROCESSED = "processed", _("Diproses")
        FAILED = "failed", _("Gagal diproses")

    source = models.CharField(_("sumber"), max_length=10, choices=Source.choices)
    body = models.TextField(_("isi mentah"))
    content_type = models.CharField(_("jenis isi"), max_length=100, blank=True)
    # The SMS centre the gateway posted for (WhatsApp payloads name their number inside).
    office_number = models.ForeignKey(
        OfficeNumber, verbose_name=_("nomor"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=0)
    error = models.TextField(_("galat"), blank=True)
    received_at = models.DateTimeField(_("diterima"), default=timezone.now)
    processed_at = models.DateTimeField(_("diproses"), null=True, blank=True)

    class Meta:
        verbose_name = _("kiriman webhook")
        verbose_name_plural = _("kiriman webhook")
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["status", "received_at"], name="payload_status_at")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} #{self.pk} ({self.get_status_display()})"


class Thread(models.Model):
    """An inbox conversation: one per office and contact. `waiting_since` is the arrival of the oldest message
    nobody has answered yet (a resend does not move it: "dibalas dari bawah" must not punish a resend)."""

    office = models.ForeignKey(Office, verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(Contact, verbose_name=_("kontak"), on_delete=models.PROTECT, related_name="threads")
    resident = models.ForeignKey(
        Resident, verbose_name=_("penduduk"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_by = models.ForeignKey(
        User, verbose_name=_("ditangani oleh"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(_("diambil"), null=True, blank=True)
    waiting_since = models.DateTimeField(_("menunggu jawaban sejak"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("pesan terakhir"), default=timezone.now)
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)

    class Meta:
        verbose_name = _("percakapan")
        verbose_name_plural = _("percakapan")
        ordering = [models.F("waiting_since").asc(nulls_last=True), "-last_message_at"]
        constraints = [models.UniqueConstraint(fields=["office", "contact"], name="thread_office_contact_unique")]
        indexes = [models.Index(fields=["office", "waiting_since"], name="thread_office_waiting")]

    def __str__(self) -> str:
        return f"{self.contact} @ {self.office_id}"


def media_path(instance: InboundMessage, filename: str) -> str:
    """A random name under MEDIA_ROOT (never served by URL)."""
    return f"inbound/{secrets.token_hex(16)}"


class InboundMessage(models.Model):
    """One message a resident sent, once: the provider's message id is unique (providers retry for days)."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Teks")
        IMAGE = "image", _("Gambar")
        DOCUMENT = "document", _("Dokumen")
        AUDIO = "audio", _("Suara")
        INTERACTIVE = "interactive", _("Balasan tombol")
        SYSTEM = "system", _("Pesan sistem")
        OTHER = "other", _("Lainnya")

    class Intent(models.TextChoices):
        BOOKING = "booking", _("Pendaftaran jadwal cetak")
        REQUEST = "request", _("Permohonan KTP-el")
        SYNC = "sync", _("Sinkronisasi data")
        STATUS = "status", _("Cek status")
        QUESTION = "question", _("Pertanyaan")
        MEDIA = "media", _("Dokumen atau foto")
        UNKNOWN = "unknown", _("Tidak dipahami")
        NONE = "", _("Belum diproses")

    class Outcome(models.TextChoices):
        PENDING = "", _("Belum diproses")
        BOOKED = "booked", _("Dijadwalkan")
        REQUEST_OPENED = "request_opened", _("Permohonan dibuat")
        SYNC_OPENED = "sync_opened", _("Sinkronisasi dibuat")
        DUPLICATE = "duplicate", _("Kiriman ulang: dirujuk ke yang pertama")
        STATUS_ANSWERED = "status_answered", _("Status dijawab")
        STATUS_REFUSED = "status_refused", _("Status tidak dijawab ke nomor lain")
        FORMAT_REPLY = "format_reply", _("Dibalas dengan format yang benar")
        REFUSED = "refused", _("Ditolak dengan alasan")
        INBOX = "inbox", _("Masuk kotak pesan")
        IGNORED = "ignored", _("Diabaikan")

    source = models.CharField(_("sumber"), max_length=10, choices=Source.choices)
    provider_message_id = models.CharField(_("ID pesan penyedia"), max_length=200)
    payload = models.ForeignKey(
        WebhookPayload, verbose_name=_("kiriman"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    office_number = models.ForeignKey(
        OfficeNumber, verbose_name=_("nomor tujuan"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    office = models.ForeignKey(Office, verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(Contact, verbose_name=_("pengirim"), on_delete=models.PROTECT, related_name="inbound")
    thread = models.ForeignKey(
        Thread, verbose_name=_("percakapan"), null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    kind = models.CharField(_("jenis"), max_length=12, choices=Kind.choices, default=Kind.TEXT)
    text = models.TextField(_("isi"), blank=True)
    sent_at = models.DateTimeField(_("dikirim penduduk"))
    received_at = models.DateTimeField(_("diterima"), default=timezone.now)
    # Media: the provider's id (expires in 7 days), then the file, checked like an upload.
    media_id = models.CharField(_("ID media"), max_length=200, blank=True)
    media_file = models.FileField(_("berkas"), upload_to=media_path, max_length=200, blank=True)
    media_type = models.CharField(_("jenis berkas"), max_length=60, blank=True)
    media_name = models.CharField(_("nama berkas"), max_length=255, blank=True)
    media_error = models.CharField(_("galat berkas"), max_length=300, blank=True)
    intent = models.CharField(_("maksud"), max_length=10, choices=Intent.choices, blank=True, default="")
    outcome = models.CharField(_("hasil"), max_length=16, choices=Outcome.choices, blank=True, default="")
    # The request or booking the message acted on, and the reply it got.
    card_request = models.ForeignKey(
        "cards.CardRequest",
        verbose_name=_("permohonan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reply = models.ForeignKey(
        Notification, verbose_name=_("balasan"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(_("dijawab"), null=True, blank=True)
    error = models.TextField(_("galat"), blank=True)

    class Meta:
        verbose_name = _("pesan masuk")
        verbose_name_plural = _("pesan masuk")
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "provider_message_id"], name="inbound_provider_id_unique"),
        ]
        indexes = [
            models.Index(fields=["contact", "sent_at"], name="inbound_contact_at"),
            models.Index(fields=["card_request"], name="inbound_card_request", condition=Q(card_request__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.provider_message_id[:20]}"
