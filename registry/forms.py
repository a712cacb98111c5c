"""Forms that write residents, families, offices and staff accounts (the admin's): NIK and KK numbers are
validated, never silently accepted, and never shown whole once stored."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from registry.models import Family, MaritalStatus, Office, Region, Resident, User
from registry.nik import compare_nik_with_record, parse_kk, parse_nik
from registry.regions import region_exists
from registry.roles import role_office_error
from registry.widgets import DateField, DateInput


class ResidentForm(forms.ModelForm):
    """NIK errors are field errors; disagreements between the NIK and the record are kept as warnings."""

    # Longer than 16: a NIK pasted with spaces or dots is accepted and normalised.
    nik = forms.CharField(label=_("NIK"), max_length=40)

    class Meta:
        model = Resident
        fields = (
            "nik", "full_name", "birth_place", "birth_date", "sex", "religion", "address", "rt", "rw", "desa",
            "whatsapp", "family", "relation_to_head", "biometric_recorded",
        )  # fmt: skip
        # The birth date in DD-MM-YYYY like every date of the app (the admin's own widget follows the locale).
        field_classes = {"birth_date": DateField}
        widgets = {"birth_date": DateInput(attrs={"class": "vTextField"})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.nik_warnings: list[str] = []

    def clean_nik(self) -> str:
        parsed = parse_nik(self.cleaned_data["nik"], region_exists=region_exists)
        if parsed.errors:
            raise forms.ValidationError(list(parsed.errors))
        self.nik_warnings = list(parsed.warnings)
        self._parsed_nik = parsed
        return parsed.number

    def clean(self) -> dict:
        cleaned = super().clean()
        desa = cleaned.get("desa")
        if desa is not None and desa.level != Region.Level.DESA:
            self.add_error("desa", _("Pilih desa/kelurahan, bukan wilayah di atasnya."))
        if hasattr(self, "_parsed_nik"):
            self.nik_warnings += compare_nik_with_record(
                self._parsed_nik, birth_date=cleaned.get("birth_date"), sex=cleaned.get("sex")
            )
        return cleaned

    def save(self, commit: bool = True) -> Resident:
        resident = super().save(commit=False)
        resident.kecamatan_id = resident.desa.parent_id  # the scope column follows the desa
        if commit:
            resident.save()
            self.save_m2m()
        return resident


class ResidentChangeForm(ResidentForm):
    """A stored resident: the NIK is no field (shown masked, read-only; the full number only through the
    audited reveal on the resident's page)."""

    nik = None

    class Meta(ResidentForm.Meta):
        fields = tuple(name for name in ResidentForm.Meta.fields if name != "nik")


class FamilyForm(forms.ModelForm):
    kk_number = forms.CharField(label=_("Nomor KK"), max_length=40)

    class Meta:
        model = Family
        fields = ("kk_number", "head", "address", "rt", "rw", "desa")

    def clean_kk_number(self) -> str:
        parsed = parse_kk(self.cleaned_data["kk_number"], region_exists=region_exists)
        if parsed.errors:
            raise forms.ValidationError(list(parsed.errors))
        return parsed.number

    def clean(self) -> dict:
        cleaned = super().clean()
        desa = cleaned.get("desa")
        if desa is not None and desa.level != Region.Level.DESA:
            self.add_error("desa", _("Pilih desa/kelurahan, bukan wilayah di atasnya."))
        return cleaned


class FamilyChangeForm(FamilyForm):
    """A stored family: the KK number is no field (shown masked, read-only)."""

    kk_number = None

    class Meta(FamilyForm.Meta):
        fields = tuple(name for name in FamilyForm.Meta.fields if name != "kk_number")


class OfficeForm(forms.ModelForm):
    """An office sits on the region of its kind: a Disdukcapil on a kabupaten/kota and without a parent, a UPTD
    on a kecamatan of the kabupaten whose Disdukcapil is its parent. Fields the editor may not change (read-only
    in the admin) are not checked again."""

    class Meta:
        model = Office
        fields = (
            "kind", "name", "region", "parent", "address", "phone", "is_active", "time_zone", "message_route",
            "invitation_lead_days", "cod_fee", "ration_blanks", "health_emergency",
        )  # fmt: skip

    def _error(self, field: str, message: str) -> None:
        self.add_error(field if field in self.fields else None, message)

    def clean(self) -> dict:
        cleaned = super().clean()
        if not {"kind", "region", "parent"} & set(self.fields):
            return cleaned

        def value(name: str):
            return cleaned.get(name) if name in self.fields else getattr(self.instance, name, None)

        kind, region, parent = value("kind"), value("region"), value("parent")
        if kind == Office.Kind.UPTD:
            if region is not None and region.level != Region.Level.KECAMATAN:
                self._error("region", _("UPTD ditempatkan di kecamatan."))
            if parent is None:
                self._error("parent", _("UPTD perlu kantor induk (Disdukcapil kabupaten/kota-nya)."))
            elif parent.kind != Office.Kind.DISDUKCAPIL or (
                region is not None and region.parent_id != parent.region_id
            ):
                self._error("parent", _("Kantor induk UPTD adalah Disdukcapil kabupaten/kota tempat kecamatannya."))
        elif kind == Office.Kind.DISDUKCAPIL:
            if region is not None and region.level != Region.Level.KABUPATEN:
                self._error("region", _("Disdukcapil ditempatkan di kabupaten/kota."))
            if parent is not None:
                self._error("parent", _("Disdukcapil tidak punya kantor induk."))
        return cleaned


class _StaffRoleFormMixin:
    """A role needs an office, and the office must fit the role (a UPTD operator at a UPTD)."""

    def clean(self) -> dict:
        cleaned = super().clean()
        if "role" in self.fields and "office" in self.fields:
            role, office = cleaned.get("role"), cleaned.get("office")
            if role and office is None and "office" not in self.errors:
                self.add_error("office", _("Akun dengan peran harus punya kantor."))
            elif role and office is not None and (error := role_office_error(role=role, office=office)):
                self.add_error("role", error)
        return cleaned


class StaffChangeForm(_StaffRoleFormMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


class StaffCreationForm(_StaffRoleFormMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User


class MaritalStatusForm(forms.Form):
    """The resident page's marital-status picker; "" (unknown) is a choice, a missing field is not."""

    marital_status = forms.ChoiceField(
        label=_("Status perkawinan"),
        choices=[("", _("Tidak diketahui")), *MaritalStatus.choices],
        required=False,
    )

    def clean_marital_status(self) -> str:
        if "marital_status" not in self.data:
            raise forms.ValidationError(_("Pilih status perkawinan."))
        return self.cleaned_data["marital_status"]
