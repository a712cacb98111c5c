import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from registry.models import AccessLog, Resident


class ResidentTable(tables.Table):
    nik = tables.Column(verbose_name=_("NIK"), accessor="masked_nik", attrs={"td": {"class": "font-monospace"}})
    full_name = tables.Column(verbose_name=_("Nama lengkap"))
    sex = tables.Column(verbose_name=_("L/P"))
    birth_date = tables.DateColumn(verbose_name=_("Tanggal lahir"), format="d-m-Y")
    rt_rw = tables.Column(verbose_name=_("RT/RW"), accessor="rt", empty_values=())
    desa = tables.Column(verbose_name=_("Desa/kelurahan"), accessor="desa__name")
    kecamatan = tables.Column(verbose_name=_("Kecamatan"), accessor="kecamatan__name")
    biometric_recorded = tables.BooleanColumn(verbose_name=_("Perekaman"))

    class Meta:
        model = Resident
        fields = ("nik", "full_name", "sex", "birth_date", "rt_rw", "desa", "kecamatan", "biometric_recorded")
        orderable = False
        empty_text = _("Tidak ada penduduk yang cocok.")
        attrs = {"class": "table table-sm table-hover align-middle", "id": "resident-table"}

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
