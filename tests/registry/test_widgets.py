"""registry/widgets.py: one date input that shows and accepts DD-MM-YYYY whatever the browser's language, and
templates/_form.html / _field.html: a form's errors beside their fields."""

from __future__ import annotations

from datetime import date

import pytest
from django import forms
from django.template.loader import render_to_string
from django.utils import translation

from cards.tables import CardRequestFilter
from queueing.printing_views import PrintDayForm, ReceiptForm, StoreForm
from queueing.views import BookForm, CloseDayForm, InvitationDayForm, InviteForm
from registry.forms import ResidentForm
from registry.widgets import DateField, DateFilter, DateInput


class DayForm(forms.Form):
    day = DateField(label="Tanggal")


class BookingLikeForm(forms.Form):
    reason = forms.CharField(label="Alasan", max_length=20, help_text="Dikirim ke penduduk.")
    day = DateField(label="Tanggal")
    urgent = forms.BooleanField(label="Mendesak", required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == "tutup":
            raise forms.ValidationError("Kantor tutup hari itu.")
        return cleaned


@pytest.mark.parametrize("typed", ["05-01-2027", "5-1-2027", "5/1/2027", "05/01/2027", "05.01.2027", "5 1 2027"])
def test_a_day_typed_day_first_is_read_day_first(typed):
    form = DayForm(data={"day": typed})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == date(2027, 1, 5)


def test_an_iso_day_from_a_link_is_accepted():
    form = DayForm(data={"day": "2027-01-05"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == date(2027, 1, 5)


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_month_first_spelling_of_an_english_browser_is_not_read_month_first(language):
    # 01/05/2027 is the 1st of May here, never the 5th of January, whatever the page's language.
    with translation.override(language):
        form = DayForm(data={"day": "01/05/2027"})

        assert form.is_valid(), form.errors
        assert form.cleaned_data["day"] == date(2027, 5, 1)


@pytest.mark.parametrize("typed", ["31-02-2027", "2027/13/01", "besok", "05-01-27x"])
def test_an_impossible_day_is_a_field_error_in_indonesian_naming_the_format(typed):
    with translation.override("id"):
        form = DayForm(data={"day": typed})

        assert not form.is_valid()
        assert form.errors["day"] == ["Tulis tanggal sebagai hari-bulan-tahun, misalnya 05-01-2027."]


def test_a_day_is_rendered_as_dd_mm_yyyy_with_the_pickers_hook_and_never_as_a_browser_date_input():
    html = DayForm(initial={"day": date(2027, 1, 5)})["day"].as_widget()

    assert 'value="05-01-2027"' in html
    assert 'type="text"' in html
    assert "data-datepicker" in html
    assert 'type="date"' not in html


def test_a_refused_day_is_shown_again_as_typed():
    html = DayForm(data={"day": "31-02-2027"})["day"].as_widget()

    assert 'value="31-02-2027"' in html


def test_the_list_filter_reads_and_shows_the_same_format():
    field = DateFilter(field_name="appointment_day", widget=DateInput()).field

    assert field.clean("05-01-2027") == date(2027, 1, 5)
    with pytest.raises(forms.ValidationError):
        field.clean("31-02-2027")


def test_every_date_field_of_the_app_is_the_dd_mm_yyyy_field():
    fields = [
        ReceiptForm.base_fields["received_on"],
        PrintDayForm.base_fields["day"],
        StoreForm.base_fields["from_day"],
        BookForm.base_fields["wish"],
        InviteForm.base_fields["day"],
        CloseDayForm.base_fields["day"],
        InvitationDayForm.base_fields["day"],
        CardRequestFilter.base_filters["appointment_day"].field,
        ResidentForm.base_fields["birth_date"],
    ]
    for field in fields:
        assert isinstance(field, DateField), field
        assert isinstance(field.widget, DateInput), field


# --- templates/_form.html and _field.html -----------------------------------------------------------------


def _input_tag(html: str, element_id: str) -> str:
    at = html.index(f'id="{element_id}"')
    return html[html.rindex("<input", 0, at) : html.index(">", at) + 1]


def test_an_error_is_rendered_right_after_its_field_and_the_field_points_at_it():
    form = BookingLikeForm(data={"reason": "pindah", "day": "31-02-2027"})
    assert not form.is_valid()

    html = render_to_string("_form.html", {"form": form})

    widget_at = html.index('id="id_day"')
    error_at = html.index('id="id_day_error"')
    next_field_at = html.index('id="id_urgent"')
    assert widget_at < error_at < next_field_at  # beside the day, before the next field
    day_input = _input_tag(html, "id_day")
    assert "is-invalid" in day_input
    assert 'aria-invalid="true"' in day_input
    assert 'aria-describedby="id_day_error"' in day_input
    assert "Tulis tanggal sebagai hari-bulan-tahun" in html[error_at:next_field_at]
    assert 'value="31-02-2027"' in day_input


def test_a_valid_field_is_not_marked_and_its_help_text_is_described():
    form = BookingLikeForm(data={"reason": "pindah", "day": "31-02-2027"})
    form.is_valid()

    html = render_to_string("_form.html", {"form": form})

    reason_input = _input_tag(html, "id_reason")
    assert "is-invalid" not in reason_input
    assert 'aria-describedby="id_reason_helptext"' in reason_input
    assert 'id="id_reason_helptext"' in html
    assert 'id="id_reason_error"' not in html


def test_the_forms_own_error_is_at_the_top_and_a_checkbox_gets_its_own_class():
    form = BookingLikeForm(data={"reason": "tutup", "day": "05-01-2027"})
    assert not form.is_valid()

    html = render_to_string("_form.html", {"form": form, "size": "sm"})

    assert html.index("Kantor tutup hari itu.") < html.index('id="id_reason"')
    assert 'data-testid="form-errors"' in html
    assert 'class="form-check-input"' in html
    assert "form-control form-control-sm" in html
