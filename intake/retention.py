"""How long what residents sent keeps its content (UU PDP 27/2022 art. 43-44). A webhook payload's body and a
message's text and file hold NIKs, names and documents; once the message was acted on (or its payload given
up) and MESSAGE_RETENTION_DAYS have passed, they have served their purpose. The rows stay without them, so the
threads, the counts and the links to requests remain true. A document attached to a request is a copy under
the request (cards), purged with it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from intake.models import InboundMessage, WebhookPayload

BATCH = 500


def inbound_purge(*, now: datetime) -> int:
    """Blank the bodies of processed or failed payloads, and the texts and files of messages, received more than
    MESSAGE_RETENTION_DAYS before `now`. Invariant: a payload still waiting to be processed is never touched.
    Idempotent; returns how many payloads and messages were blanked."""
    cutoff = now - timedelta(days=settings.MESSAGE_RETENTION_DAYS)
    payloads = WebhookPayload.objects.filter(
        received_at__lt=cutoff, status__in=(WebhookPayload.Status.PROCESSED, WebhookPayload.Status.FAILED)
    ).exclude(body="", error="")
    blanked = 0
    while ids := list(payloads.order_by("pk").values_list("pk", flat=True)[:BATCH]):
        blanked += WebhookPayload.objects.filter(pk__in=ids).update(body="", error="")
    messages = InboundMessage.objects.filter(received_at__lt=cutoff).exclude(
        Q(text="") & Q(media_file="") & Q(media_name="") & Q(error="")
    )
    while batch := list(messages.order_by("pk")[:BATCH]):
        for message in batch:
            if message.media_file:
                message.media_file.delete(save=False)
        blanked += InboundMessage.objects.filter(pk__in=[m.pk for m in batch]).update(
            text="", media_file="", media_name="", error=""
        )
    return blanked
