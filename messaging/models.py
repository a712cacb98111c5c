"""The outbox: every message to a resident is a row here, written in the same transaction as the change it
reports. Celery only delivers what this table holds, so a gateway or broker outage delays a message and loses
none. The lowest layer of the project: every app may write a message, this app imports none of them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
        FAILED = "failed", _("Gagal")
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
    template = models.CharField(_("templat"), max_length=40)
    text = models.TextField(_("isi pesan"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=0)
    next_attempt_at = models.DateTimeField(_("percobaan berikutnya"), null=True, blank=True)
    last_error = models.CharField(_("galat terakhir"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)
    sent_at = models.DateTimeField(_("terkirim"), null=True, blank=True)

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
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.resident_id} ({self.get_status_display()})"
