"""The request page's Pos COD panel, contributed by delivery (the page belongs to cards, below delivery):
`{% load shipment %}{% shipment_panel cr %}`."""

from __future__ import annotations

from django import template

from delivery.shipment_views import shipment_context

register = template.Library()


@register.inclusion_tag("delivery/_shipment_panel.html", takes_context=True)
def shipment_panel(context: template.Context, card_request) -> dict:
    request = context["request"]
    panel = shipment_context(request.user, card_request)
    if context.get("ship_form_bound") is not None:
        # A refused tracking number (delivery.shipment_views.shipment_create): as typed, its error beside it.
        panel["ship_form"] = context["ship_form_bound"]
    return {
        **panel,
        "cr": card_request,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
