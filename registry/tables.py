from __future__ import annotations

import re
from datetime import date

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from messaging.system_text import render_system_text
from registry import clock
from registry.models import AccessLog, Resident

# The mask used before issue 12 kept the serial (3502********0001); access-log rows written then still carry it.
_OLD_MASK = re.compile(r"\b([0-9]{4})\*{8}[0-9]{4}\b")


def remask_old_masks(text: str) -> str:
    """`text` with every old mask (3502********0001: head and serial) shown as the one mask, 3502************.
    For what is stored and cannot be rewritten (the append-only access log), wherever it is shown."""
    return _OLD_MASK.sub(lambda m: f"{m.group(1)}{'*' * 12}", text)


class ResidentTable(tables.Table):
    """The resident list. Beside the masked NIK it shows an age, never the birth date: the birth date is digits
    7-12 of the NIK, and with the kecamatan and sex beside it only the (small, guessable) serial would be left."""

    nik = tables.Column(verbose_name=_("NIK"), accessor="masked_nik", attrs={"td": {"class": "font-monospace"}})
    full_name = tables.Column(verbose_name=_("Nama lengkap"))
    sex = tables.Column(verbose_name=_("L/P"))
    age = tables.Column(verbose_name=_("Umur"), accessor="birth_date")
    rt_rw = tables.Column(verbose_name=_("RT/RW"), accessor="rt", empty_values=())
    desa = tables.Column(verbose_name=_("Desa/kelurahan"), accessor="desa__name")
    kecamatan = tables.Column(verbose_name=_("Kecamatan"), accessor="kecamatan__name")
    biometric_recorded = tables.BooleanColumn(verbose_name=_("Perekaman"))

    class Meta:
        model = Resident
        fields = ("nik", "full_name", "sex", "age", "rt_rw", "desa", "kecamatan", "biometric_recorded")
        orderable = False
        empty_text = _("Tidak ada penduduk yang cocok.")
        attrs = {"class": "table table-sm table-hover align-middle", "id": "resident-table"}

    def __init__(self, *args, today: date | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or clock.today()

    def render_age(self, record: Resident) -> str:
        return gettext("%(years)s tahun") % {"years": record.age_on(self.today)}

    def render_full_name(self, value, record):
        return format_html('<a href="{}">{}</a>', reverse("registry:resident_detail", args=[record.pk]), value)

    def render_rt_rw(self, record):
        return f"{record.rt or '-'}/{record.rw or '-'}"


class AccessLogTable(tables.Table):
    at = tables.DateTimeColumn(verbose_name=_("Waktu"), format="d-m-Y H:i:s")
    user = tables.Column(verbose_name=_("Petugas"), accessor="user__username")
    action = tables.Column(verbose_name=_("Tindakan"))
    resident = tables.Column(verbose_name=_("Penduduk"), accessor="resident__full_name")
    ip_address = tables.Column(verbose_name=_("Alamat IP"))
    detail = tables.Column(verbose_name=_("Keterangan"))

    class Meta:
        model = AccessLog
        fields = ("at", "user", "action", "resident", "ip_address", "detail")
        orderable = False
        empty_text = _("Belum ada akses yang tercatat.")

    def render_resident(self, value, record):
        return format_html('<a href="{}">{}</a>', reverse("registry:resident_detail", args=[record.resident_id]), value)

    def render_detail(self, value: str) -> str:
        """In the reader's language (a system text, or an old row equal to a msgid). Rows are append-only, so a
        row written with the old mask is re-masked when shown."""
        return remask_old_masks(render_system_text(value))
