"""Forms of the card-request pages. They validate input; the rules of the workflow are in registry/services.py."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cards.models import (
    CardKind,
    CardRequest,
    CentralStatus,
    Channel,
    HealthChecklist,
    Requirement,
    Route,
    UrgentReason,
)
from cards.services import CardRequestError
from cards.uploads import attachment_clean
from registry.regions import nik_check

ACCEPT = "application/pdf,image/jpeg,image/png,image/webp,.pdf,.jpg,.jpeg,.png,.webp"


class DocumentField(forms.FileField):
    """PDF, JPEG, PNG or WebP up to ATTACHMENT_MAX_MB, its type read from the content; an image is
    re-encoded and a PDF checked (cards/uploads.py), and a refusal is this field's error. An upload the
    handler cut off at the limit arrives as registry.uploads.UploadTooLarge and is refused here too."""

    widget = forms.ClearableFileInput(attrs={"accept": ACCEPT})

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload:
            try:
                attachment_clean(upload)
            except CardRequestError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return upload


class NikLookupForm(forms.Form):
    nik = forms.CharField(
        label=_("NIK penduduk"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True, "inputmode": "numeric"}),
    )

    def clean_nik(self) -> str:
        parsed = nik_check(self.cleaned_data["nik"])
        if parsed.errors:
            raise forms.ValidationError(list(parsed.errors))
        return parsed.number


class CardRequestCreateForm(forms.Form):
    """Step two of a new request: the resident is already found (by NIK, within the scope)."""

    resident = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("Jenis permohonan"), choices=CardKind.choices, widget=forms.RadioSelect)
    channel = forms.ChoiceField(
        label=_("Saluran"),
        choices=[c for c in Channel.choices if c[0] != Channel.UPTD],
        initial=Channel.WALK_IN,
    )
    note = forms.CharField(
        label=_("Catatan"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("mis. lansia, tidak bisa WhatsApp")}),
    )
    urgent_reason = forms.ChoiceField(
        label=_("Prioritas mendesak"),
        required=False,
        choices=[("", _("Tidak mendesak")), *UrgentReason.choices],
    )
    urgent_note = forms.CharField(label=_("Keterangan mendesak"), required=False, max_length=500)
    urgent_proof = DocumentField(label=_("Bukti keperluan mendesak (tiket, surat, dsb.)"), required=False)

    def __init__(self, *args, uptd: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if uptd:
            # A UPTD operator always submits through the UPTD channel.
            del self.fields["channel"]
        self.document_requirements = list(
            Requirement.objects.filter(stage=Requirement.Stage.DOCUMENT, is_active=True).order_by("kind", "position")
        )
        for requirement in self.document_requirements:
            self.fields[f"doc_{requirement.pk}"] = DocumentField(
                label=f"{requirement.name} ({requirement.get_kind_display()})",
                required=False,
                help_text=requirement.description,
            )

    def document_fields(self):
        return [(r, self[f"doc_{r.pk}"]) for r in self.document_requirements]

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("urgent_reason") == UrgentReason.OTHER and not cleaned.get("urgent_note", "").strip():
            self.add_error("urgent_note", _("Untuk alasan 'lainnya', tulis keterangannya."))
        kind = cleaned.get("kind")
        for requirement in self.document_requirements:
            if requirement.kind != kind and cleaned.get(f"doc_{requirement.pk}"):
                self.add_error(f"doc_{requirement.pk}", _("Dokumen ini bukan untuk jenis permohonan yang dipilih."))
        return cleaned

    def uploads(self) -> list[tuple[Requirement, object]]:
        return [
            (r, self.cleaned_data[f"doc_{r.pk}"])
            for r in self.document_requirements
            if self.cleaned_data.get(f"doc_{r.pk}")
        ]


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=CardRequest.Status.choices, widget=forms.HiddenInput)
    expected_status = forms.ChoiceField(choices=CardRequest.Status.choices, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Catatan / alasan"), required=False, max_length=500)
    missing_items = forms.CharField(
        label=_("Yang kurang (satu per baris)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    handover_confirmed = forms.BooleanField(
        label=_("Pemilik kartu hadir sendiri; sidik jari cocok dan kartu sudah diaktivasi"), required=False
    )

    def missing_list(self) -> list[str]:
        return [line.strip(" -•\t") for line in self.cleaned_data.get("missing_items", "").splitlines() if line.strip()]


class AttachmentForm(forms.Form):
    file = DocumentField(label=_("Berkas (PDF, JPEG, PNG atau WebP, maks. 5 MB)"))
    requirement = forms.ModelChoiceField(
        label=_("Untuk persyaratan"), queryset=Requirement.objects.none(), required=False, empty_label=_("Lainnya")
    )

    def __init__(self, *args, card_request: CardRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["requirement"].queryset = Requirement.objects.filter(
            kind=card_request.kind, stage=Requirement.Stage.DOCUMENT, is_active=True
        )


class UrgentAskForm(forms.Form):
    reason = forms.ChoiceField(label=_("Alasan"), choices=UrgentReason.choices)
    note = forms.CharField(label=_("Keterangan"), required=False, max_length=500)
    proof = DocumentField(label=_("Bukti (tiket, surat sekolah/kerja, surat dokter)"), required=False)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Setujui")), ("refuse", _("Tolak"))])
    note = forms.CharField(label=_("Catatan / alasan"), required=False, max_length=300)


class BiometricForm(forms.Form):
    checklist = forms.MultipleChoiceField(
        label=_("Protokol kesehatan"),
        choices=HealthChecklist.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class BulkActionForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)
    action = forms.ChoiceField(
        choices=[
            ("verify", _("Mulai verifikasi")),
            ("ready", _("Tandai siap cetak")),
            ("cancel", _("Batalkan")),
        ]
    )
    note = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The ids are checked against the user's scope by the service; here only that they are numbers.
        values = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(v, v) for v in values if str(v).isdigit()]


# A NIK or KK number typed at the counter: digits, monospaced, never suggested by the browser.
NUMBER_ATTRS = {"autocomplete": "off", "inputmode": "numeric", "class": "nik"}


class DataSyncForm(forms.Form):
    """A SINKRONISASI brought to the counter or by phone; the checks are the service's (cards/data_sync.py)."""

    nik = forms.CharField(label=_("NIK"), max_length=40, widget=forms.TextInput(attrs=NUMBER_ATTRS))
    kk_number = forms.CharField(label=_("Nomor KK"), max_length=40, widget=forms.TextInput(attrs=NUMBER_ATTRS))
    purpose = forms.CharField(
        label=_("Keperluan"),
        max_length=300,
        required=False,  # the service says what is missing, beside the field
        help_text=_("Instansi yang belum mengenali NIK: BPJS, bank, Prakerja, bansos, …"),
    )
    phone = forms.CharField(
        label=_("Nomor untuk dikabari (boleh kosong)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    channel = forms.ChoiceField(
        label=_("Diterima lewat"),
        choices=[(c, Channel(c).label) for c in (Channel.WALK_IN, Channel.WHATSAPP, Channel.SMS)],
        initial=Channel.WALK_IN,
    )


class DataSyncStepForm(forms.Form):
    """One of a clerk's steps on a SINKRONISASI: what to send, a note, or the reason of a refusal."""

    note = forms.CharField(required=False, max_length=500)
    expected_status = forms.CharField(widget=forms.HiddenInput)


class DispatchForm(forms.Form):
    uptd = forms.IntegerField(widget=forms.HiddenInput)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=())
    note = forms.CharField(label=_("Catatan kiriman"), required=False, max_length=300)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        values = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(v, v) for v in values if str(v).isdigit()]


class RouteForm(forms.Form):
    route = forms.ChoiceField(label=_("Rute kartu"), choices=Route.choices)
    expected_route = forms.ChoiceField(choices=Route.choices, widget=forms.HiddenInput)


class CentralAnswerForm(forms.Form):
    recording = forms.IntegerField(widget=forms.HiddenInput)
    answer = forms.ChoiceField(
        choices=[(CentralStatus.PRR, CentralStatus.PRR.label), (CentralStatus.DUPLICATE, CentralStatus.DUPLICATE.label)]
    )
    note = forms.CharField(label=_("Catatan"), required=False, max_length=300)
