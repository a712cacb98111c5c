"""The counter's print list (route 1): `{% load printing %}{% counter_print_panel %}` on the counter page."""

from __future__ import annotations

from django import template

from queueing.printing import blank_stock_of, counter_print_rows

register = template.Library()


@register.inclusion_tag("queueing/_counter_print.html", takes_context=True)
def counter_print_panel(context: template.Context) -> dict:
    """Today's checked-in residents of the user's office, with "Cetak" for those whose card is still to print
    and "Serahkan"/"Gagal cetak" for those just printed."""
    request = context["request"]
    office = request.user.office
    if office is None:
        return {"print_rows": [], "print_stock": 0, "can_print": False}
    return {
        "print_rows": counter_print_rows(office=office),
        "print_stock": blank_stock_of(office),
        "can_print": request.user.has_perm("queueing.change_printbatch"),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
