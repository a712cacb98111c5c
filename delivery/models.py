from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cards.models import CardRequest
from messaging.system_text import SystemTextField


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


class ShipmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> ShipmentQuerySet:
        """Shipments of the requests the user may see (the request's kecamatan is the scope)."""
        from_requests = CardRequest.objects.visible_to(user).values("pk")
        return self.filter(card_request__in=from_requests)


class Shipment(models.Model):
    """Route 4: a printed card shipped by Pos Indonesia cash-on-delivery. The courier's fee is copied from the
    office setting when it ships (the only money a resident ever pays). Delivered closes the request as handed
    over by post; failed or returned brings the card back to the office for collection (route 2)."""

    class Status(models.TextChoices):
        SHIPPED = "shipped", _("Dalam pengiriman")
        DELIVERED = "delivered", _("Diterima")
        FAILED = "failed", _("Gagal diantar, kembali ke kantor")
        RETURNED = "returned", _("Ditolak/dikembalikan, kembali ke kantor")

    card_request = models.ForeignKey(
        "cards.CardRequest", verbose_name=_("permohonan"), on_delete=models.PROTECT, related_name="shipments"
    )
    office = models.ForeignKey("registry.Office", verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="+")
    tracking_number = models.CharField(_("nomor resi"), max_length=40)
    cod_fee = models.PositiveIntegerField(_("ongkos COD (Rp)"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SHIPPED)
    shipped_at = models.DateTimeField(_("dikirim"), default=timezone.now)
    shipped_by = models.ForeignKey(
        "registry.User", verbose_name=_("dikirim oleh"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    closed_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    closed_by = models.ForeignKey(
        "registry.User",
        verbose_name=_("dicatat oleh"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # Rusak and ubah data: the courier collects the old card on delivery.
    old_card_collected = models.BooleanField(_("KTP lama ditarik kurir"), default=False)
    note = SystemTextField(_("catatan"), max_length=300, blank=True)

    objects = ShipmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("kiriman Pos")
        verbose_name_plural = _("kiriman Pos")
        ordering = ["-shipped_at", "-id"]
        indexes = [models.Index(fields=["office", "status", "shipped_at"], name="shipment_office_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["card_request"], condition=models.Q(status="shipped"), name="shipment_one_active_per_request"
            ),
            models.UniqueConstraint(fields=["tracking_number"], name="shipment_tracking_unique"),
            models.CheckConstraint(
                condition=models.Q(status="shipped", closed_at__isnull=True)
                | (~models.Q(status="shipped") & models.Q(closed_at__isnull=False)),
                name="shipment_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_number} ({self.get_status_display()})"

    @property
    def fee_text(self) -> str:
        return f"{self.cod_fee:,}".replace(",", ".")
