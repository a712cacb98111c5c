"""The office settings page's forms (registry/office_views.py): the letterhead, the signatory, and the service
settings a Disdukcapil's administrator used to change in the Django admin. A UPTD has its own name, address,
contacts and head; its government and agency lines, logo and service settings are its Disdukcapil's."""

from __future__ import annotations

from django import forms
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from registry.images import ImageRefused, image_format_of, image_reencode
from registry.models import Office
from registry.uploads import MB, UploadTooLarge

LOGO_MAX_BYTES = 2 * MB
# A logo prints about 20 mm wide: 600 px is 760 dpi, sharp on any printer, and keeps every letter's PDF small.
LOGO_MAX_SIDE = 600

_CONTACT_FIELDS = ["name", "address", "phone", "email", "website"]
_SIGNATORY_FIELDS = ["head_name", "head_title", "head_nip"]


def logo_cleaned(upload: UploadedFile) -> ContentFile:
    """The logo's pixels re-encoded (PNG or JPEG, at most LOGO_MAX_SIDE px), or ValidationError naming why not:
    too large, not an image (whatever its name says), or an image that does not decode."""
    if isinstance(upload, UploadTooLarge):
        raise forms.ValidationError(upload.message)
    if upload.size > LOGO_MAX_BYTES:
        raise forms.ValidationError(gettext("Logo terlalu besar, maksimal %(mb)d MB.") % {"mb": LOGO_MAX_BYTES // MB})
    upload.seek(0)
    data = upload.read(LOGO_MAX_BYTES + 1)
    image_format = image_format_of(data)
    if image_format is None:
        raise forms.ValidationError(gettext("Logo harus berupa gambar PNG, JPEG atau WebP."))
    try:
        image = image_reencode(data, image_format, max_side=LOGO_MAX_SIDE)
    except ImageRefused as exc:
        raise forms.ValidationError(str(exc)) from exc
    extension = "png" if image.content_type == "image/png" else "jpg"
    return ContentFile(image.content, name=f"logo.{extension}")


class _OfficeSettingsForm(forms.ModelForm):
    website = forms.URLField(label=_("situs web"), max_length=120, required=False, assume_scheme="https")
    # Typed as printed under a signature ("19700101 199503 1 002") or as 18 digits; the model's validator checks
    # the digits once the spaces are gone (clean_head_nip).
    head_nip = forms.CharField(
        label=_("NIP kepala"), max_length=24, required=False, help_text=_("18 angka; spasi boleh, seperti tercetak.")
    )

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_head_nip(self) -> str:
        # Typed as printed ("19700101 199503 1 002"): the spaces are the printer's, the digits the NIP.
        return "".join(self.cleaned_data.get("head_nip", "").split())

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("head_nip") and not cleaned.get("head_name"):
            self.add_error("head_name", gettext("Tulis nama kepala yang NIP-nya diisi."))
        return cleaned


class HeadOfficeSettingsForm(_OfficeSettingsForm):
    """A Disdukcapil office: the whole letterhead and its service settings."""

    class Meta:
        model = Office
        fields = [
            "government_line",
            "agency_line",
            *_CONTACT_FIELDS,
            *_SIGNATORY_FIELDS,
            "logo",
            "message_route",
            "invitation_lead_days",
            "cod_fee",
            "ration_blanks",
            "health_emergency",
        ]
        widgets = {"logo": forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"})}
        help_texts = {
            "logo": _("PNG, JPEG atau WebP, paling besar 2 MB; dicetak selebar kira-kira 2 cm di kiri kop."),
            "health_emergency": _(
                "Selama berlaku, perekaman biometrik hanya untuk permohonan mendesak yang disetujui, dengan "
                "protokol kesehatan. Berlaku juga untuk semua UPTD."
            ),
        }

    def clean_government_line(self) -> str:
        return self.cleaned_data["government_line"].strip().upper()

    def clean_agency_line(self) -> str:
        return self.cleaned_data["agency_line"].strip().upper()

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if isinstance(logo, UploadedFile):
            return logo_cleaned(logo)
        return logo


class UptdSettingsForm(_OfficeSettingsForm):
    """A UPTD: its own name, address, contacts and head (its letters carry its Disdukcapil's lines and logo)."""

    class Meta:
        model = Office
        fields = [*_CONTACT_FIELDS, *_SIGNATORY_FIELDS]
        help_texts = {
            "head_name": _("Kosong: surat UPTD ditandatangani kepala Disdukcapil."),
        }


def office_settings_form_class(office: Office) -> type[_OfficeSettingsForm]:
    return HeadOfficeSettingsForm if office.kind == Office.Kind.DISDUKCAPIL else UptdSettingsForm
