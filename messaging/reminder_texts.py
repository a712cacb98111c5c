"""Reminders and status updates beat sends (appointment tomorrow, card ready, uncollected, missing
requirements), in Bahasa Indonesia. Administrators can reword each per office (MessageTemplate)."""

from __future__ import annotations

REMINDER_TEMPLATES: dict[str, str] = {}
