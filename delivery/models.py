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
