"""The request page's appointment panel, and a request's current appointment for other apps' templates: the
pages belong to cards, which sits below queueing, so queueing contributes through template tags instead of
cards importing it."""

from __future__ import annotations

from django import template

from queueing.models import Booking
from queueing.views import appointment_of as _appointment_of
from queueing.views import booking_context

register = template.Library()


@register.inclusion_tag("queueing/_appointment_panel.html", takes_context=True)
def appointment_panel(context: template.Context, card_request) -> dict:
    request = context["request"]
    panel = booking_context(request.user, card_request)
    if panel["book_form"] is not None and context.get("book_form_bound") is not None:
        # The booking form came back refused (queueing.views.booking_create): show what was typed and why.
        panel["book_form"] = context["book_form_bound"]
    return {
        **panel,
        "cr": card_request,
        "perms": context.get("perms"),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def appointment_of(card_request) -> Booking | None:
    """`{% appointment_of cr as booking %}`: the request's current appointment (day, number, channel,
    status), or None."""
    return _appointment_of(card_request)
