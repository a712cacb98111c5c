"""The request page's suket panel, contributed by delivery (the page belongs to cards, below delivery)."""

from __future__ import annotations

from django import template

from delivery.views import suket_context

register = template.Library()


@register.inclusion_tag("delivery/_suket_panel.html", takes_context=True)
def suket_panel(context: template.Context, card_request) -> dict:
    request = context["request"]
    return {
        **suket_context(request.user, card_request),
        "cr": card_request,
        "perms": context.get("perms"),
        "csrf_token": context.get("csrf_token"),
    }
