"""Reminders by beat (delivery/reminders.py): hourly, fanned out per printing office once its local morning
has come (WIB, WITA and WIT offices each at their own hour). Idempotent: every hour after that finds what it
wrote already and writes only what became due (a card that reached its 7th day, a booking made yesterday)."""

from __future__ import annotations

import logging

from celery import shared_task

from delivery import reminders
from registry.models import Office

logger = logging.getLogger(__name__)


@shared_task
def send_reminders() -> int:
    """Fan out: one `send_office_reminders` per printing office whose local time has passed the reminders'
    hour. Returns how many offices."""
    office_ids = reminders.offices_due()
    for office_id in office_ids:
        send_office_reminders.delay(office_id)
    return len(office_ids)


@shared_task(soft_time_limit=10 * 60, time_limit=11 * 60)
def send_office_reminders(office_id: int) -> dict[str, int]:
    """Write the reminders due at one office today (its local date); returns the new ones per kind (counts
    only, no personal data in the log)."""
    office = Office.objects.get(pk=office_id)
    written = reminders.office_reminders_send(office=office)
    if any(written.values()):
        logger.info("reminders office=%s %s", office_id, written)
    return written
