"""Rows of the inbox for tests: an office number, a sender, and messages that arrive in a thread as the webhook
processing leaves them (the message row, its thread, and the thread waiting when a clerk is needed)."""

from __future__ import annotations

import itertools
from datetime import datetime

from django.core.files.base import ContentFile

from intake.models import InboundMessage, Thread
from intake.threads import thread_for, thread_wait
from messaging.models import Contact, OfficeNumber
from registry.models import Office

_serials = itertools.count(1)


def office_number(office: Office, *, channel: str = "whatsapp", number: str = "") -> OfficeNumber:
    serial = next(_serials)
    return OfficeNumber.objects.create(
        office=office,
        channel=channel,
        number=number or f"62811000{serial:05d}",
        phone_number_id=f"10{serial:05d}" if channel == "whatsapp" else "",
        label="Layanan KTP",
        accepts_question=True,
        accepts_request=True,
    )


def sender(*, at: datetime | None, phone: str = "", resident=None, whatsapp: str = "yes", name: str = "") -> Contact:
    """A sender who last wrote at `at` (the contact of `phone` when the outbox already made one for it)."""
    serial = next(_serials)
    contact, _created = Contact.objects.update_or_create(
        phone=phone or f"62812{serial:08d}",
        defaults={
            "user_id": f"ID.{serial:012d}" if whatsapp == "yes" else None,
            "profile_name": name,
            "whatsapp": whatsapp,
            "last_whatsapp_at": at if whatsapp == "yes" else None,
            "last_sms_at": at if whatsapp != "yes" else None,
            "resident": resident,
        },
    )
    return contact


def arrive(
    number: OfficeNumber,
    contact: Contact,
    *,
    at: datetime,
    text: str = "",
    kind: str = InboundMessage.Kind.TEXT,
    media: bytes | None = None,
    media_type: str = "image/jpeg",
    media_name: str = "foto.jpg",
    waits: bool = True,
    card_request=None,
) -> InboundMessage:
    """One message from `contact` to `number` at `at`, in its thread; the thread waits from it when `waits`."""
    thread = thread_for(office=number.office, contact=contact, at=at)
    message = InboundMessage(
        source=number.channel,
        provider_message_id=f"wamid.{next(_serials):010d}",
        office=number.office,
        office_number=number,
        contact=contact,
        thread=thread,
        kind=kind,
        text=text,
        sent_at=at,
        received_at=at,
        intent=InboundMessage.Intent.QUESTION if kind == InboundMessage.Kind.TEXT else InboundMessage.Intent.MEDIA,
        outcome=InboundMessage.Outcome.INBOX if waits else InboundMessage.Outcome.IGNORED,
        card_request=card_request,
    )
    if media is not None:
        message.media_type, message.media_name = media_type, media_name
        message.media_file.save(media_name, ContentFile(media), save=False)
    message.save()
    if waits:
        thread_wait(thread, since=at)
    return message


def thread_of(message: InboundMessage) -> Thread:
    return Thread.objects.select_related("claimed_by").get(pk=message.thread_id)
