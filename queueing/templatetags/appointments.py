"""The request page's appointment panel: the page belongs to cards, which sits below queueing, so queueing
contributes its panel through a template tag instead of cards importing it."""

from __future__ import annotations

from django import template

from queueing.views import booking_context

register = template.Library()


@register.inclusion_tag("queueing/_appointment_panel.html", takes_context=True)
def appointment_panel(context: template.Context, card_request) -> dict:
    request = context["request"]
    return {
        **booking_context(request.user, card_request),
        "cr": card_request,
        "perms": context.get("perms"),
        "csrf_token": context.get("csrf_token"),
    }
