"""How long a request's attachments are kept (UU PDP 27/2022 art. 43-44). A police loss report, a supporting
document or a proof of urgency serves the request; once the request is closed (handed over, rejected,
cancelled: a closed request never reopens), it is kept ATTACHMENT_RETENTION_DAYS for questions and objections,
then the file and its row are deleted. The request and its timeline stay: the timeline is the office's record
of the service (it still says which document was uploaded, by whom and when) and is not purged.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from cards.models import Attachment, CardRequest

BATCH = 500


def attachments_purge(*, now: datetime) -> int:
    """Delete the attachments (file, then row) of requests closed more than ATTACHMENT_RETENTION_DAYS before
    `now`. Invariant: an open request's attachment is never touched (the selection and each delete both ask for
    a closed request). The file goes first: if the row's delete then fails, the next run finds the row again
    and finishes; the reverse order could leave a file nobody knows of. Idempotent; returns the rows deleted."""
    cutoff = now - timedelta(days=settings.ATTACHMENT_RETENTION_DAYS)
    expired = Attachment.objects.filter(
        card_request__status__in=CardRequest.CLOSED_STATUSES, card_request__status_changed_at__lt=cutoff
    )
    storage = Attachment._meta.get_field("file").storage
    deleted = 0
    while rows := list(expired.order_by("pk").values_list("pk", "file")[:BATCH]):
        for pk, name in rows:
            if name:
                storage.delete(name)  # a file already gone is no error
            deleted += expired.filter(pk=pk).delete()[0]
    return deleted
