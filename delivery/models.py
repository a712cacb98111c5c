from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """When a Celery worker last ran the periodic heartbeat task (one row per worker host)."""

    hostname = models.CharField(_("host"), max_length=150, unique=True)
    last_seen = models.DateTimeField(_("terakhir aktif"), default=timezone.now)
    beats = models.PositiveBigIntegerField(_("jumlah detak"), default=0)

    class Meta:
        verbose_name = _("detak worker")
        verbose_name_plural = _("detak worker")

    def __str__(self) -> str:
        return f"{self.hostname} {self.last_seen:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def latest_seen(cls) -> datetime | None:
        return cls.objects.aggregate(latest=models.Max("last_seen"))["latest"]


class Suket(models.Model):
    """Surat Keterangan: the temporary certificate, as valid as the card, issued to a recorded resident while
    no blank card is available. Its QR leads to a public page that says whether it is genuine and valid."""

    VALIDITY_DAYS = 180

    card_request = models.ForeignKey(
        "cards.CardRequest", verbose_name=_("permohonan"), on_delete=models.PROTECT, related_name="sukets"
    )
    resident = models.ForeignKey(
        "registry.Resident", verbose_name=_("penduduk"), on_delete=models.PROTECT, related_name="sukets"
    )
    office = models.ForeignKey("registry.Office", verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("diterbitkan"), default=timezone.now)
    issued_by = models.ForeignKey(
        "registry.User", verbose_name=_("diterbitkan oleh"), on_delete=models.PROTECT, related_name="+"
    )
    valid_until = models.DateField(_("berlaku sampai"))
    # Set when the card is handed over (or the request closes): the suket is no longer valid.
    ended_at = models.DateTimeField(_("berakhir"), null=True, blank=True)
    verify_code = models.CharField(_("kode verifikasi"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("surat keterangan (suket)")
        verbose_name_plural = _("surat keterangan (suket)")
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["card_request"], condition=models.Q(ended_at__isnull=True), name="suket_one_valid_per_request"
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"SKT-{self.pk:06d}"

    def is_valid_on(self, day) -> bool:
        return self.ended_at is None and day <= self.valid_until
