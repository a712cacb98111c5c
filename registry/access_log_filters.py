"""The access log as a supervisor reads it: the rows in their scope, filtered by staff member, resident, action
and date range, for the page and its export alike.

The resident filter carries the resident's id, never a NIK: a NIK typed to find the resident is POSTed, looked
up within the scope (and that search is itself logged), and the page is then opened with `?penduduk=<id>`.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry import clock
from registry.models import AccessLog, Office, Resident, User
from registry.widgets import DateField


def access_log_visible_to(user: User) -> QuerySet[AccessLog]:
    """Reads of one resident in the user's scope, and rows without a resident (exports, staff changes) made by
    staff of offices in scope."""
    return AccessLog.objects.filter(
        Q(resident__in=Resident.objects.visible_to(user))
        | Q(resident__isnull=True, user__office__in=Office.objects.visible_to(user))
    )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name()
        return f"{obj.username} ({name})" if name else obj.username


class ResidentIdField(forms.ModelChoiceField):
    """A resident chosen by id (a hidden field): the page shows their name and masked NIK."""

    widget = forms.HiddenInput


class AccessLogFilterForm(forms.Form):
    staff = StaffChoiceField(
        label=gettext_lazy("Petugas"), queryset=User.objects.none(), required=False, empty_label=gettext_lazy("Semua")
    )
    action = forms.ChoiceField(
        label=gettext_lazy("Tindakan"),
        choices=[("", gettext_lazy("Semua tindakan")), *AccessLog.Action.choices],
        required=False,
    )
    date_from = DateField(label=gettext_lazy("Dari tanggal"), required=False)
    date_to = DateField(label=gettext_lazy("Sampai tanggal"), required=False)
    penduduk = ResidentIdField(label=gettext_lazy("Penduduk"), queryset=Resident.objects.none(), required=False)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["staff"].queryset = User.objects.filter(office__in=Office.objects.visible_to(user)).order_by(
            "username"
        )
        self.fields["penduduk"].queryset = Resident.objects.visible_to(user)
        self.fields["penduduk"].error_messages["invalid_choice"] = _("Penduduk itu tidak ada di wilayah Anda.")

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("Tanggal akhir tidak boleh sebelum tanggal awal."))
        return cleaned


def access_log_filtered(*, user: User, filters: dict) -> QuerySet[AccessLog]:
    """The rows in scope matching the cleaned filters of AccessLogFilterForm, newest first; days are the
    user's office's local days, both ends included."""
    logs = access_log_visible_to(user).select_related("user", "resident")
    zone = clock.zone_of(user.office)
    if staff := filters.get("staff"):
        logs = logs.filter(user=staff)
    if action := filters.get("action"):
        logs = logs.filter(action=action)
    if resident := filters.get("penduduk"):
        logs = logs.filter(resident=resident)
    if start := filters.get("date_from"):
        logs = logs.filter(at__gte=datetime.combine(start, time.min, tzinfo=zone))
    if end := filters.get("date_to"):
        logs = logs.filter(at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))
    return logs.order_by("-id")


class ResidentFindForm(forms.Form):
    """A NIK typed to find the resident whose access rows to show (POSTed: never in a URL)."""

    nik = forms.CharField(label=gettext_lazy("NIK penduduk"), max_length=24)
