"""`{{ value|system_text }}`: a system-written text (messaging/system_text.py) in the reader's language."""

from __future__ import annotations

from typing import Any

from django import template

from messaging.system_text import render_system_text

register = template.Library()


@register.filter(name="system_text")
def system_text_filter(value: Any) -> str:
    """The value rendered in the active language; plain text as it is (autoescaped by the template)."""
    return render_system_text(value)
