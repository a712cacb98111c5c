"""How long a message to a resident keeps its text (UU PDP 27/2022 art. 43-44: personal data is erased once its
purpose is served). A message's text names the resident, their request and their appointment, and its number
is theirs; once it was sent (delivered, read), or given up (failed, dead, no number), it has served its purpose.
The row itself stays, without them: the counts per request, template and status (and that a message went out)
remain true.

This app sits below the clock (registry/clock.py): the caller passes "now".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from messaging.models import Notification

BATCH = 1000
SENT_STATUSES = (Notification.Status.SENT, Notification.Status.DELIVERED, Notification.Status.READ)
GIVEN_UP_STATUSES = (Notification.Status.FAILED, Notification.Status.DEAD, Notification.Status.NO_CONTACT)


def notifications_purge(*, now: datetime) -> int:
    """Blank the text, number and last error of messages sent (delivered, read), or given up (failed, dead, no
    number), more than MESSAGE_RETENTION_DAYS before `now`. Invariant: a message still waiting to be sent
    (pending) is never touched. Idempotent; returns how many messages were blanked."""
    cutoff = now - timedelta(days=settings.MESSAGE_RETENTION_DAYS)
    # A delivered or read message was sent (a status callback without a send time: its creation counts).
    sent = Q(status__in=SENT_STATUSES) & (Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True, created_at__lt=cutoff))
    done = sent | Q(status__in=GIVEN_UP_STATUSES, created_at__lt=cutoff)
    expired = Notification.objects.filter(done).exclude(text="", recipient="", last_error="")
    blanked = 0
    while ids := list(expired.order_by("pk").values_list("pk", flat=True)[:BATCH]):
        blanked += expired.filter(pk__in=ids).update(text="", recipient="", last_error="")
    return blanked
