"""Replies to what residents send by WhatsApp and SMS (confirmation, the right format, status answers,
"already registered"), in Bahasa Indonesia. Administrators can reword each per office (MessageTemplate)."""

from __future__ import annotations

REPLY_TEMPLATES: dict[str, str] = {}
