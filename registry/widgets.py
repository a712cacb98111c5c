"""One date input for the whole app: it shows and accepts DD-MM-YYYY whatever the browser's language.

A browser's own `<input type="date">` follows the operating system's locale (12/01/2026 on an English
Windows PC for the 1st of December), while every page prints 01-12-2026: a clerk booking on 01/12 versus
12/01 picks the wrong month. The input is therefore a text field in the app's order; static/js/datepicker.js
adds the calendar (a date picker from the npm registry, Indonesian month names) on top of it.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

DATE_FORMAT = "%d-%m-%Y"
# Day first in every spelling a clerk types; ISO last (links and the picker's own value).
DATE_INPUT_FORMATS = ["%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%d %m %Y", "%Y-%m-%d"]


class DateInput(forms.DateInput):
    """A text input in DD-MM-YYYY with the picker's hook (data-datepicker)."""

    input_type = "text"

    def __init__(self, attrs: dict | None = None) -> None:
        defaults = {
            "placeholder": _("hh-bb-tttt"),
            "inputmode": "numeric",
            "autocomplete": "off",
            "data-datepicker": "",
            "class": "form-control",
        }
        defaults.update(attrs or {})
        super().__init__(attrs=defaults, format=DATE_FORMAT)


class DateField(forms.DateField):
    """A date typed or picked as DD-MM-YYYY (slashes and dots too); an unreadable one is a field error
    that names the format."""

    widget = DateInput
    default_error_messages = {"invalid": _("Tulis tanggal sebagai hari-bulan-tahun, misalnya 05-01-2027.")}

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("input_formats", DATE_INPUT_FORMATS)
        super().__init__(**kwargs)


class DateFilter(django_filters.DateFilter):
    """A list filter's date (django-filter): the same DD-MM-YYYY field, whatever the browser's language."""

    field_class = DateField
