"""The clerks' work queue: queues (tabs), filters and the table of card requests."""

from __future__ import annotations

from datetime import timedelta

import django_filters
import django_tables2 as tables
from django import forms
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cards.models import CardKind, CardRequest, Channel, Route, UrgentStatus
from registry import clock
from registry.filters import kecamatan_choices_for
from registry.models import Region, Role
from registry.widgets import DateFilter, DateInput

S = CardRequest.Status

# Tabs of the work queue: (key, label, condition).
QUEUES: list[tuple[str, str, Q]] = [
    ("verifikasi", _("Perlu diverifikasi"), Q(status__in=[S.RECEIVED, S.VERIFYING])),
    ("belum-lengkap", _("Belum lengkap"), Q(status=S.INCOMPLETE)),
    (
        "mendesak",
        _("Mendesak menunggu persetujuan"),
        Q(urgent_status=UrgentStatus.REQUESTED, status__in=CardRequest.OPEN_STATUSES),
    ),
    ("siap-cetak", _("Siap cetak"), Q(status=S.READY_TO_PRINT)),
    ("terjadwal", _("Terjadwal di loket"), Q(status=S.SCHEDULED)),
    ("dicetak", _("Dicetak"), Q(status=S.PRINTED)),
    ("penyerahan", _("Menunggu penyerahan"), Q(status__in=[S.READY_FOR_PICKUP, S.SHIPPED, S.SENT_TO_UPTD])),
    ("semua", _("Semua yang berjalan"), Q(status__in=CardRequest.OPEN_STATUSES)),
    ("selesai", _("Selesai/ditutup"), Q(status__in=CardRequest.CLOSED_STATUSES)),
]
QUEUE_KEYS = [key for key, _label, _q in QUEUES]


def default_queue(user) -> str:
    """Where each role starts its day: clerks verify, supervisors decide urgent requests, a UPTD follows its
    submissions."""
    if user.role == Role.UPTD_OPERATOR:
        return "semua"
    if user.role in (Role.SUPERVISOR, Role.ADMINISTRATOR):
        return "mendesak"
    return "verifikasi"


def queue_condition(key: str) -> Q:
    return next(q for k, _label, q in QUEUES if k == key)


# The work order of every tab (CardRequestQuerySet.in_work_order), as the keyset pages read it.
WORK_ORDER = ("-is_urgent", "queued_at", "id")
# The closed tab is history, growing by thousands a month: its count stops here ("lebih dari 1.000").
CLOSED_COUNT_CAP = 1000
CLOSED_QUEUE = "selesai"


def queue_counts(queryset: QuerySet[CardRequest]) -> dict[str, int]:
    """Every tab's count, reading only what it counts: the open tabs in one query over the open requests (the
    partial index cardrequest_open_work holds scope, status and urgency, so the table is not read), the closed
    tab by counting at most CLOSED_COUNT_CAP + 1 rows (a value above the cap means "more than the cap").

    Invariant: an open tab's figure is exactly the number of rows the tab lists (the tab's own condition).
    """
    open_queues = [(key, q) for key, _label, q in QUEUES if key != CLOSED_QUEUE]
    counts = queryset.filter(status__in=CardRequest.OPEN_STATUSES).aggregate(
        **{key.replace("-", "_"): Count("id", filter=q) for key, q in open_queues}
    )
    closed = queryset.filter(queue_condition(CLOSED_QUEUE)).order_by().values("id")[: CLOSED_COUNT_CAP + 1]
    counts[CLOSED_QUEUE] = closed.count()
    return counts


def queue_count_label(key: str, count: int) -> str:
    """A tab's figure as shown: "1.234", or for the closed tab above its cap "lebih dari 1.000"."""
    if key == CLOSED_QUEUE and count > CLOSED_COUNT_CAP:
        return _("lebih dari %(cap)s") % {"cap": intcomma(CLOSED_COUNT_CAP)}
    return intcomma(count)


AGE_CHOICES = [
    ("0-2", _("0–2 hari")),
    ("3-7", _("3–7 hari")),
    ("8-30", _("8–30 hari")),
    ("31-", _("lebih dari 30 hari")),
]


class CardRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=S.choices, empty_label=_("Semua status"))
    kind = django_filters.ChoiceFilter(label=_("Jenis"), choices=CardKind.choices, empty_label=_("Semua jenis"))
    channel = django_filters.ChoiceFilter(label=_("Saluran"), choices=Channel.choices, empty_label=_("Semua saluran"))
    kecamatan = django_filters.ModelChoiceFilter(
        label=_("Kecamatan"), queryset=Region.objects.none(), empty_label=_("Semua kecamatan")
    )
    urgent = django_filters.ChoiceFilter(
        label=_("Mendesak"),
        choices=[("approved", _("Mendesak (disetujui)")), ("requested", _("Menunggu persetujuan"))],
        method="filter_urgent",
        empty_label=_("Semua"),
    )
    age = django_filters.ChoiceFilter(
        label=_("Umur permohonan"), choices=AGE_CHOICES, method="filter_age", empty_label=_("Semua umur")
    )
    route = django_filters.ChoiceFilter(label=_("Rute"), choices=Route.choices, empty_label=_("Semua rute"))
    appointment_day = DateFilter(
        label=_("Hari jadwal"),
        field_name="appointment_day",
        widget=DateInput(attrs={"class": "form-control form-control-sm"}),
    )
    mine = django_filters.ChoiceFilter(
        label=_("Pengaju"),
        choices=[("1", _("Diajukan oleh saya"))],
        method="filter_mine",
        empty_label=_("Siapa saja"),
    )

    class Meta:
        model = CardRequest
        fields = ["status", "kind", "channel", "route", "kecamatan", "urgent", "age", "appointment_day", "mine"]

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["kecamatan"].queryset = kecamatan_choices_for(user)
        for field in self.form.fields.values():
            field.widget.attrs.setdefault(
                "class",
                "form-control form-control-sm"
                if isinstance(field.widget, forms.DateInput)
                else "form-select form-select-sm",
            )
        self.form.fields["kecamatan"].label_from_instance = lambda region: region.name

    def filter_urgent(self, queryset, name, value):
        if value == "approved":
            return queryset.filter(is_urgent=True)
        return queryset.filter(urgent_status=UrgentStatus.REQUESTED)

    def filter_mine(self, queryset, name, value):
        return queryset.filter(submitted_by=self.user)

    def filter_age(self, queryset, name, value):
        low, _sep, high = value.partition("-")
        now = clock.now()
        queryset = queryset.filter(created_at__lte=now - timedelta(days=int(low)))
        if high:
            queryset = queryset.filter(created_at__gt=now - timedelta(days=int(high) + 1))
        return queryset


class CardRequestTable(tables.Table):
    select = tables.CheckBoxColumn(
        accessor="pk", attrs={"th__input": {"data-select-all": "ids"}, "input": {"name": "ids", "form": "bulk-form"}}
    )
    number = tables.Column(verbose_name=_("Nomor"), accessor="pk")
    resident = tables.Column(verbose_name=_("Penduduk"), accessor="resident__full_name")
    nik = tables.Column(
        verbose_name=_("NIK"), accessor="resident__masked_nik", attrs={"td": {"class": "font-monospace"}}
    )
    kind = tables.Column(verbose_name=_("Jenis"))
    channel = tables.Column(verbose_name=_("Saluran"))
    kecamatan = tables.Column(verbose_name=_("Kecamatan"), accessor="kecamatan__name")
    route = tables.Column(verbose_name=_("Rute"))
    status = tables.Column(verbose_name=_("Status"))
    appointment_day = tables.Column(verbose_name=_("Jadwal"), default="")
    created_at = tables.Column(verbose_name=_("Umur permohonan"))

    class Meta:
        model = CardRequest
        fields = (
            "select", "number", "resident", "nik", "kind", "channel", "kecamatan", "route", "status",
            "appointment_day", "created_at",
        )  # fmt: skip
        orderable = False
        empty_text = _("Tidak ada permohonan di antrean ini.")
        attrs = {"class": "table table-sm table-hover align-middle", "id": "request-table"}
        row_attrs = {
            "class": lambda record: "table-warning" if record.is_urgent else "",
            "data-id": lambda record: record.pk,
        }

    def render_number(self, value, record):
        link = format_html('<a href="{}">{}</a>', reverse("cards:cardrequest_detail", args=[record.pk]), record.number)
        if record.is_urgent:
            link = format_html('{} <span class="badge text-bg-danger">{}</span>', link, _("mendesak"))
        elif record.urgent_status == UrgentStatus.REQUESTED:
            link = format_html('{} <span class="badge text-bg-warning">{}</span>', link, _("minta mendesak"))
        return link

    def render_kind(self, record):
        return record.get_kind_display()

    def render_channel(self, record):
        return record.get_channel_display()

    def render_route(self, record):
        return record.get_route_display()

    def render_appointment_day(self, value, record):
        return format_html("{} · {} {}", value.strftime("%d-%m-%Y"), _("no."), record.appointment_number)

    def render_status(self, record):
        return format_html('<span class="badge status-{}">{}</span>', record.status, record.get_status_display())

    def render_created_at(self, value):
        days = (clock.now() - value).days
        return format_html(
            '<span title="{}">{} {}</span>', timezone.localtime(value).strftime("%d-%m-%Y %H:%M"), days, _("hari")
        )
