"""The outbox: every message to a resident is a row here, written in the same transaction as the change it
reports. Celery only delivers what this table holds, so a gateway or broker outage delays a message and loses
none. The lowest layer of the project: every app may write a message, this app imports none of them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging.system_text import SystemTextField


class Contact(models.Model):
    """Someone who writes to or is written to by the office: a WhatsApp user (keyed by WhatsApp's
    business-scoped user id, the BSUID, with the phone number optional: a username-only sender has none) or an
    SMS sender (a phone number). One row per person as the office knows them; `resident` is set only by a
    clerk's deliberate link (or when the number is the resident's registered number)."""

    class WhatsApp(models.TextChoices):
        UNKNOWN = "unknown", _("Belum diketahui")
        YES = "yes", _("Ada WhatsApp")
        NO = "no", _("Tanpa WhatsApp (SMS)")

    user_id = models.CharField(_("ID pengguna WhatsApp (BSUID)"), max_length=160, null=True, blank=True)
    parent_user_id = models.CharField(_("BSUID induk"), max_length=160, blank=True)
    phone = models.CharField(_("nomor"), max_length=20, null=True, blank=True)
    username = models.CharField(_("nama pengguna WhatsApp"), max_length=100, blank=True)
    profile_name = models.CharField(_("nama profil"), max_length=150, blank=True)
    whatsapp = models.CharField(_("WhatsApp"), max_length=8, choices=WhatsApp.choices, default=WhatsApp.UNKNOWN)
    resident = models.ForeignKey(
        "registry.Resident",
        verbose_name=_("penduduk"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    # The customer-service window: free text on WhatsApp only within 24 hours of the contact's last message.
    last_whatsapp_at = models.DateTimeField(_("pesan WhatsApp terakhir"), null=True, blank=True)
    last_sms_at = models.DateTimeField(_("SMS terakhir"), null=True, blank=True)
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)

    class Meta:
        verbose_name = _("kontak")
        verbose_name_plural = _("kontak")
        constraints = [
            models.UniqueConstraint(fields=["user_id"], name="contact_user_id_unique"),
            models.UniqueConstraint(fields=["phone"], name="contact_phone_unique"),
        ]

    def __str__(self) -> str:
        return self.address_masked

    @property
    def address_masked(self) -> str:
        """What a page shows of the contact: the username, or the number with its middle hidden."""
        if self.username:
            return f"@{self.username}"
        if self.phone:
            return f"{self.phone[:4]}****{self.phone[-3:]}"
        return f"{(self.user_id or '')[:3]}…"


class OfficeNumber(models.Model):
    """One of an office's WhatsApp numbers or SMS centres and what residents send to it (Magelang: one
    WhatsApp number for #KTP, one for #SINKRONISASI, and an SMS centre). Administrators set them."""

    class Channel(models.TextChoices):
        WHATSAPP = "whatsapp", _("WhatsApp")
        SMS = "sms", _("SMS")

    office = models.ForeignKey(
        "registry.Office", verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="message_numbers"
    )
    channel = models.CharField(_("saluran"), max_length=10, choices=Channel.choices)
    number = models.CharField(_("nomor"), max_length=20, help_text=_("Format 62…, tanpa + dan tanpa 0 di depan."))
    label = models.CharField(_("nama"), max_length=80, blank=True)
    # The Cloud API's id of this number (webhooks name it in metadata.phone_number_id; sends go to it).
    phone_number_id = models.CharField(_("Phone number ID (Cloud API)"), max_length=40, blank=True)
    accepts_booking = models.BooleanField(_("pendaftaran jadwal cetak (#nama#NIK#tanggal)"), default=False)
    accepts_request = models.BooleanField(_("permohonan KTP-el (#KTP#…)"), default=False)
    accepts_sync = models.BooleanField(_("sinkronisasi data (#SINKRONISASI#…)"), default=False)
    accepts_question = models.BooleanField(_("pertanyaan (DISDUKCAPIL#… dan pesan bebas)"), default=False)
    accepts_status = models.BooleanField(_("cek status (#STATUS#NIK)"), default=True)
    # Messages the office starts (updates, reminders) go out from its number marked for them.
    sends_updates = models.BooleanField(_("mengirim kabar dan pengingat"), default=False)
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("nomor layanan pesan")
        verbose_name_plural = _("nomor layanan pesan")
        ordering = ["office", "channel", "number"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "number"], name="office_number_unique"),
            models.UniqueConstraint(
                fields=["phone_number_id"],
                condition=~models.Q(phone_number_id=""),
                name="office_number_phone_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.number} {self.label}".strip()


class MessageTemplate(models.Model):
    """An office's own wording of a message to residents (the built-in text in messaging.messages.TEMPLATES
    is used where there is none), and the name of the WhatsApp-approved template used outside the 24-hour
    window."""

    office = models.ForeignKey(
        "registry.Office", verbose_name=_("kantor"), on_delete=models.CASCADE, related_name="message_templates"
    )
    code = models.CharField(_("kode"), max_length=40)
    text = models.TextField(_("isi"))
    wa_template_name = models.CharField(_("nama templat WhatsApp yang disetujui"), max_length=100, blank=True)
    wa_template_language = models.CharField(_("bahasa templat WhatsApp"), max_length=10, default="id")
    updated_at = models.DateTimeField(_("diubah"), default=timezone.now)
    updated_by = models.ForeignKey(
        "registry.User",
        verbose_name=_("diubah oleh"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("templat pesan")
        verbose_name_plural = _("templat pesan")
        ordering = ["office", "code"]
        constraints = [models.UniqueConstraint(fields=["office", "code"], name="message_template_unique")]

    def __str__(self) -> str:
        return self.code


class NotificationQuerySet(models.QuerySet):
    def pending(self) -> NotificationQuerySet:
        return self.filter(status=Notification.Status.PENDING)


class Notification(models.Model):
    """A message to a resident, written in the same transaction as the change it reports.

    Celery only delivers what this table already holds, so a gateway or broker outage delays a message and
    loses none. Retry state lives on the row.
    """

    class Channel(models.TextChoices):
        WHATSAPP = "whatsapp", _("WhatsApp")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("Menunggu dikirim")
        SENT = "sent", _("Terkirim")
        DELIVERED = "delivered", _("Diterima")
        READ = "read", _("Dibaca")
        FAILED = "failed", _("Gagal")
        DEAD = "dead", _("Gagal, berhenti dicoba")
        NO_CONTACT = "no_contact", _("Tidak ada nomor")

    resident = models.ForeignKey(
        "registry.Resident",
        verbose_name=_("penduduk"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    card_request = models.ForeignKey(
        "cards.CardRequest",
        verbose_name=_("permohonan"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # notification_request_at (card_request, created_at) serves it
    )
    channel = models.CharField(_("saluran"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("nomor tujuan"), max_length=20, blank=True)
    # Who it goes to when there is no phone number (a username-only WhatsApp user), and the thread it is in.
    contact = models.ForeignKey(
        Contact, verbose_name=_("kontak"), null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox"
    )
    office = models.ForeignKey(
        "registry.Office", verbose_name=_("kantor"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The number it goes out from (a reply goes from the number the resident wrote to).
    sender_number = models.ForeignKey(
        OfficeNumber,
        verbose_name=_("dikirim dari"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outbox",
    )
    template = models.CharField(_("templat"), max_length=40)
    text = models.TextField(_("isi pesan"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # A reply to a message the resident has just sent goes at once; what the office starts waits out the
    # quiet hours.
    is_reply = models.BooleanField(_("balasan"), default=False)
    # Reminders and updates are idempotent per (resident, kind, subject, day): the key says which.
    dedupe_key = models.CharField(_("kunci unik"), max_length=120, null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=0)
    next_attempt_at = models.DateTimeField(_("percobaan berikutnya"), null=True, blank=True)
    # A worker holds the row until this instant while it sends (a killed worker's row is taken again after).
    locked_until = models.DateTimeField(_("dikunci sampai"), null=True, blank=True)
    # When it was last handed to the broker; the sweep re-sends rows that never reached it.
    queued_at = models.DateTimeField(_("masuk antrean"), null=True, blank=True)
    last_error = SystemTextField(_("galat terakhir"), max_length=300, blank=True)
    provider_message_id = models.CharField(_("ID pesan penyedia"), max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)
    sent_at = models.DateTimeField(_("terkirim"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("diterima"), null=True, blank=True)
    read_at = models.DateTimeField(_("dibaca"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("pesan ke penduduk")
        verbose_name_plural = _("pesan ke penduduk")
        # The table keeps the name it had when the outbox was part of delivery.
        db_table = "delivery_notification"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["card_request", "created_at"], name="notification_request_at"),
            models.Index(fields=["contact", "created_at"], name="notification_contact_at"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="notification_dedupe_key_unique"),
            models.UniqueConstraint(fields=["provider_message_id"], name="notification_provider_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.resident_id} ({self.get_status_display()})"
