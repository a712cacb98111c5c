"""Inbox threads: one per office and contact. Every inbound message joins its thread; a message nobody has
answered sets `waiting_since` once (its arrival), so a resend never moves a resident to the back."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q
from django.db.models.functions import Greatest

from intake.models import Thread
from messaging.models import Contact
from registry.models import Office


def thread_for(*, office: Office, contact: Contact, at: datetime) -> Thread:
    """The office's thread with this contact (created on the first message), its last message time moved on."""
    thread, created = Thread.objects.get_or_create(
        office=office, contact=contact, defaults={"last_message_at": at, "resident_id": contact.resident_id}
    )
    if not created:
        Thread.objects.filter(pk=thread.pk).update(last_message_at=Greatest(F("last_message_at"), at))
    return thread


def thread_wait(thread: Thread, *, since: datetime) -> None:
    """A message in the thread needs a clerk: the thread waits from the oldest such message's arrival."""
    Thread.objects.filter(pk=thread.pk).filter(Q(waiting_since__isnull=True) | Q(waiting_since__gt=since)).update(
        waiting_since=since
    )


def thread_answered(thread: Thread) -> None:
    """A clerk answered: nothing in the thread waits any more."""
    Thread.objects.filter(pk=thread.pk).update(waiting_since=None)
