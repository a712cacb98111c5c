"""Forms that write residents and families: NIK and KK numbers are validated, never silently accepted."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from registry.models import Family, MaritalStatus, Region, Resident
from registry.nik import compare_nik_with_record, parse_kk, parse_nik
from registry.regions import region_exists


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
