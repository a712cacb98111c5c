"""The demo's inbox (intake/demo.py): messages through the real webhook processing, waiting in the order the
page promises, the photo offered for the hilang request; a second run adds nothing."""

from __future__ import annotations

from datetime import timedelta

from intake import inbox
from intake.demo import demo_inbox_messages_create
from intake.models import InboundMessage, Thread
from messaging.models import OfficeNumber
from tests.factories import ResidentFactory


def test_the_demo_inbox_has_waiting_threads_a_photo_for_a_request_and_an_answered_one(
    settings, tmp_path, frozen_now, ponorogo, clerk, resident_a
):
    settings.MEDIA_ROOT = tmp_path
    resident_a.whatsapp = "6281299990001"
    resident_a.save(update_fields=["whatsapp"])
    ResidentFactory(whatsapp="6281299990002", full_name="SUKARMI")

    assert demo_inbox_messages_create() == 6
    assert OfficeNumber.objects.filter(office=ponorogo).count() == 2
    waiting = list(Thread.objects.filter(waiting_since__isnull=False).order_by("waiting_since"))
    assert [t.waiting_since for t in waiting] == [
        frozen_now - timedelta(hours=3, minutes=12),  # the resend 25 minutes ago kept its place
        frozen_now - timedelta(hours=1, minutes=5),
        frozen_now - timedelta(minutes=41),
    ]
    photo = InboundMessage.objects.get(kind="image")
    assert photo.media_file and photo.media_type == "image/jpeg"
    assert photo.card_request is not None and photo.card_request.kind == "hilang"
    assert inbox.may_attach(photo)
    answered = Thread.objects.get(waiting_since__isnull=True)
    assert answered.claimed_by == clerk

    assert demo_inbox_messages_create() == 0
    assert InboundMessage.objects.count() == 6
