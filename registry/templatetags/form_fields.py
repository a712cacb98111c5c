"""Form rendering for templates/_form.html and templates/_field.html: a field's widget with Bootstrap's classes.

Django (5.2) already marks a field with errors `aria-invalid="true"` and points `aria-describedby` at
`<id>_helptext` and `<id>_error`; the include writes the elements with those ids, so a screen reader reads the
error with the field, and this tag adds the classes (`is-invalid` makes Bootstrap draw the field red).
"""

from __future__ import annotations

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.safestring import SafeString

register = template.Library()

CHOICE_WIDGETS = (forms.RadioSelect, forms.CheckboxSelectMultiple)


@register.filter
def field_kind(field: BoundField) -> str:
    """How _field.html lays the field out: "hidden", "checkbox" (label after the box), "choices" (a list of
    radios or boxes under a legend) or "input" (label above)."""
    widget = field.field.widget
    if widget.is_hidden:
        return "hidden"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, CHOICE_WIDGETS):
        return "choices"
    return "input"


@register.simple_tag
def field_widget(field: BoundField, size: str = "") -> SafeString:
    """The field's widget with Bootstrap's class for its kind (form-control, form-select, form-check-input),
    `-sm` when size is "sm", and `is-invalid` when the bound form found an error in it."""
    widget = field.field.widget
    if isinstance(widget, (forms.CheckboxInput, *CHOICE_WIDGETS)):
        base = "form-check-input"
    elif isinstance(widget, forms.Select):
        base = "form-select" + (" form-select-sm" if size == "sm" else "")
    else:
        base = "form-control" + (" form-control-sm" if size == "sm" else "")
    classes = [c for c in (widget.attrs.get("class") or "").split() if c not in ("form-control", "form-select")]
    classes = [*base.split(), *classes]
    if field.errors:
        classes.append("is-invalid")
    return field.as_widget(attrs={"class": " ".join(dict.fromkeys(classes))})
