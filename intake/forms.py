"""Forms of the inbox pages. They validate input; the rules are in intake/inbox.py."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from intake.inbox import ANSWER_MAX_CHARS
from registry.regions import nik_check


class AnswerForm(forms.Form):
    text = forms.CharField(
        label=_("Jawaban"),
        max_length=ANSWER_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    seen_up_to = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class AttachForm(forms.Form):
    card_request = forms.IntegerField(widget=forms.HiddenInput)
    requirement = forms.IntegerField(required=False)


class NikInput(forms.TextInput):
    """A NIK field that never writes a NIK back into a page: a refused one comes back empty, its error beside
    the field, and is typed again."""

    def format_value(self, value) -> None:
        return None


class LinkResidentForm(forms.Form):
    """The NIK of the resident the sender is: posted, never in a URL."""

    nik = forms.CharField(
        label=_("NIK penduduk"),
        max_length=40,
        widget=NikInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def clean_nik(self) -> str:
        parsed = nik_check(self.cleaned_data["nik"])
        if parsed.errors:
            raise forms.ValidationError(list(parsed.errors))
        return parsed.number
