"""Resident search: free text (NIK, KK or name) plus kecamatan, desa, sex and age band.

The criteria never travel in a URL: the form is POSTed, kept in the session under an opaque token and
the list page is addressed by that token (`?s=...`).
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from registry import clock
from registry.models import AgeBand, Family, Office, Region, Resident, Sex
from registry.nik import normalize_number
from registry.scoping import scope_code_of


def kecamatan_choices_for(user) -> QuerySet[Region]:
    regions = Region.objects.visible_to(user).filter(level=Region.Level.KECAMATAN)
    if scope_code_of(user) is None:
        # A platform superuser: the kecamatan that have an office, not all 7,285 of the country.
        regions = regions.filter(code__in=Office.objects.values("region_id"))
    return regions.order_by("name")


def desa_choices_for(user, kecamatan_code: str | None) -> QuerySet[Region]:
    regions = Region.objects.visible_to(user).filter(level=Region.Level.DESA)
    if kecamatan_code:
        return regions.filter(parent_id=kecamatan_code).order_by("name")
    scope = scope_code_of(user)
    if scope and scope.count(".") == 2:
        return regions.order_by("name")
    return regions.none()


class ResidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("NIK, nomor KK atau nama"),
        method="filter_text",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True, "placeholder": _("NIK / KK / nama")}),
    )
    kecamatan = django_filters.ModelChoiceFilter(
        label=_("Kecamatan"), queryset=Region.objects.none(), empty_label=_("Semua kecamatan")
    )
    desa = django_filters.ModelChoiceFilter(label=_("Desa/kelurahan"), queryset=Region.objects.none())
    sex = django_filters.ChoiceFilter(label=_("Jenis kelamin"), choices=Sex.choices, empty_label=_("Semua"))
    age_band = django_filters.ChoiceFilter(
        label=_("Kelompok umur"),
        choices=AgeBand.choices,
        method="filter_age_band",
        empty_label=_("Semua umur"),
    )

    class Meta:
        model = Resident
        fields = ["q", "kecamatan", "desa", "sex", "age_band"]

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["kecamatan"].queryset = kecamatan_choices_for(user)
        kecamatan = (self.data or {}).get("kecamatan") or None
        self.filters["desa"].queryset = desa_choices_for(user, kecamatan)
        self.filters["desa"].extra["empty_label"] = _("Semua desa/kelurahan")
        form = self.form
        for name, field in form.fields.items():
            field.widget.attrs.setdefault("class", "form-control" if name == "q" else "form-select")
        form.fields["kecamatan"].label_from_instance = lambda region: region.name
        form.fields["desa"].label_from_instance = lambda region: region.name
        form.fields["kecamatan"].widget.attrs.update(
            {
                "hx-get": reverse("registry:region_desa_options"),
                "hx-target": "#id_desa",
                "hx-trigger": "change",
                "hx-include": "this",
            }
        )

    def is_valid(self) -> bool:
        """The form's checks plus the free text's: digits that cannot be a NIK/KK, or a name too short."""
        valid = super().is_valid()
        if valid:
            try:
                clean_search_text(self.form.cleaned_data.get("q") or "")
            except forms.ValidationError as error:
                self.form.add_error("q", error)
                return False
        return valid

    @property
    def searched_number(self) -> str | None:
        """The 16-digit NIK/KK searched for, if the free text is one (for the access log)."""
        text = (self.form.cleaned_data.get("q") or "") if self.form.is_valid() else ""
        number = normalize_number(text)
        return number if len(number) == 16 and number.isascii() and number.isdigit() else None

    def filter_text(self, queryset: QuerySet[Resident], name: str, value: str) -> QuerySet[Resident]:
        value = value.strip()
        number = normalize_number(value)
        if number and number.isascii() and number.isdigit():
            # A NIK or a KK number (they share a format, so a number may be both). Resolving the family
            # first keeps both halves of the OR on an index: nik (unique) and family_id.
            family_ids = list(Family.objects.filter(kk_number=number).values_list("id", flat=True))
            return queryset.filter(Q(nik=number) | Q(family_id__in=family_ids))
        return queryset.filter(full_name__icontains=value)

    def filter_age_band(self, queryset: QuerySet[Resident], name: str, value: str) -> QuerySet[Resident]:
        born_after, born_before = AgeBand(value).birth_date_range(clock.today(self.user.office))
        if born_after:
            queryset = queryset.filter(birth_date__gte=born_after)
        if born_before:
            queryset = queryset.filter(birth_date__lte=born_before)
        return queryset


def clean_search_text(value: str) -> str:
    """Refuse digit strings that cannot be a NIK or KK, with a message naming the problem."""
    number = normalize_number(value)
    if number and number.isdigit() and len(number) != 16:
        raise forms.ValidationError(
            _("NIK atau nomor KK harus 16 digit; yang dimasukkan %(n)d digit.") % {"n": len(number)}
        )
    if value and len(value.strip()) < 3 and not number.isdigit():
        raise forms.ValidationError(_("Ketik minimal 3 huruf nama."))
    return value
