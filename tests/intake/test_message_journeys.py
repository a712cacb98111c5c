"""A resident's way from a WhatsApp message to the card in their hands, driven through the signed webhook: each
POST is stored by the view, then processed as the Celery task does (intake.processing.payload_process), and the
clerk's steps go through the same services the pages call. Every message the resident gets is asserted, with
its addressee. Then the provider's retries: one message id posted 50 times books once and answers once.

The clock is frozen at FROZEN_NOW (Monday 09:00 WIB) and moved with time-machine; the Graph API's media download
is answered by respx.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
import respx

from cards import services
from cards.models import CardRequest, Requirement
from delivery.reminders import office_reminders_send
from intake import inbox, media, processing
from intake.models import InboundMessage, WebhookPayload
from messaging.models import Contact, Notification
from queueing import appointments, counter, printing
from queueing.models import Booking, ServiceDay
from registry.models import Resident
from tests.dates import at, working_day_after
from tests.documents import JPEG
from tests.factories import CardRequestFactory, open_calendar
from tests.intake.webhook_kit import (
    A_PHONE,
    A_USER_ID,
    payload,
    post_signed,
    value_of,
    webhook_settings_fixture,  # noqa: F401
    whatsapp_number_fixture,  # noqa: F401
    with_message_id,
)

S = CardRequest.Status
pytestmark = pytest.mark.usefixtures("webhook_settings")
MEDIA_ID = "1240091186543201"  # the image payload's media id
GRAPH = "https://graph.facebook.com/v24.0"
DOWNLOAD = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1240091186543201"


@pytest.fixture
def office(ponorogo, whatsapp_number, supervisor, frozen_today):
    open_calendar(ponorogo, print_capacity=10, whatsapp=4, walk_in=3, invitation=2)
    printing.blanks_receive(office=ponorogo, quantity=5, reference="SKB-J1", received_on=frozen_today, by=supervisor)
    return ponorogo


@pytest.fixture
def siti(resident_a) -> Resident:
    """SITI AMINAH, whose registered WhatsApp number is the one the payloads come from."""
    Resident.objects.filter(pk=resident_a.pk).update(whatsapp=A_PHONE)
    resident_a.refresh_from_db()
    return resident_a


def deliver(client, document: dict) -> WebhookPayload:
    """The webhook's POST (signed as Meta signs), then the processing the task runs after the commit."""
    response = post_signed(client, document)
    assert response.status_code == 200
    stored = WebhookPayload.objects.order_by("-pk").first()
    processing.payload_process(stored.pk)
    stored.refresh_from_db()
    assert stored.status == WebhookPayload.Status.PROCESSED, stored.error
    return stored


def text_message(message_id: str, text: str, *, sent: datetime) -> dict:
    return with_message_id(payload("text_bsuid_phone", at=sent), message_id, text=text)


def message(message_id: str) -> InboundMessage:
    return InboundMessage.objects.select_related("reply", "card_request").get(provider_message_id=message_id)


def outbox(contact: Contact) -> list[tuple[str, str, bool]]:
    """(template, number, is reply) of every message written to the contact, oldest first."""
    return list(
        Notification.objects.filter(contact=contact).order_by("pk").values_list("template", "recipient", "is_reply")
    )


def test_whatsapp_request_document_booking_reminder_check_in_and_handover(
    client, office, siti, clerk, time_machine, frozen_today
):
    monday = frozen_today
    wednesday = working_day_after(monday, 2)
    hilang = f"#KTP#{siti.nik}#{siti.family.kk_number}#Siti Aminah#Slahung#Slahung#Hilang"

    # Monday 09:00: the request, by WhatsApp.
    deliver(client, text_message("wamid.J-KTP", hilang, sent=at(monday, 9)))
    opened = message("wamid.J-KTP")
    request = opened.card_request
    assert (opened.intent, opened.outcome) == ("request", "request_opened")
    assert (request.status, request.route, request.channel, request.kind) == (
        S.RECEIVED,
        "counter",
        "whatsapp",
        "hilang",
    )
    assert "kepolisian" in opened.reply.text and request.number in opened.reply.text
    contact = opened.contact
    assert (contact.user_id, contact.phone) == (A_USER_ID, A_PHONE)

    # 09:05: the police report as a photo in the same chat: to the inbox, offered for the request, downloaded.
    time_machine.move_to(at(monday, 9, 5), tick=False)
    image = payload("image", at=at(monday, 9, 5))
    deliver(client, image)
    photo = message(value_of(image)["messages"][0]["id"])
    assert (photo.intent, photo.outcome, photo.card_request) == ("media", "inbox", request)
    assert photo.thread.waiting_since is not None
    with respx.mock(assert_all_called=False) as graph:
        graph.get(f"{GRAPH}/{MEDIA_ID}").respond(json={"url": DOWNLOAD, "mime_type": "image/jpeg"})
        graph.get(DOWNLOAD).mock(return_value=httpx.Response(200, content=JPEG, headers={"Content-Type": "image/jpeg"}))
        assert media.inbound_media_fetch(photo.pk) == "stored"

    # The clerk: verification, the photo attached in one click, ready to print.
    police = Requirement.objects.get(kind="hilang", code="surat-kehilangan")
    services.card_request_transition(
        card_request_id=request.pk, to_status=S.VERIFYING, by=clerk, expected_status=S.RECEIVED
    )
    inbox.message_attach(message_id=photo.pk, card_request_id=request.pk, requirement_id=police.pk, by=clerk)
    services.card_request_transition(
        card_request_id=request.pk, to_status=S.READY_TO_PRINT, by=clerk, expected_status=S.VERIFYING
    )

    # 10:00: the resident books Wednesday by WhatsApp, then asks for the status.
    time_machine.move_to(at(monday, 10), tick=False)
    booking_text = f"#siti aminah#{siti.nik}#{wednesday.strftime('%d/%m/%Y')}"
    deliver(client, text_message("wamid.J-BOOK", booking_text, sent=at(monday, 10)))
    booked = message("wamid.J-BOOK")
    booking = Booking.objects.get(card_request=request)
    assert (booked.outcome, booking.date, booking.number, booking.channel) == ("booked", wednesday, 1, "whatsapp")
    assert wednesday.strftime("%d-%m-%Y") in booked.reply.text and "nomor antrean 1" in booked.reply.text
    deliver(client, text_message("wamid.J-STATUS", f"#STATUS#{siti.nik}", sent=at(monday, 10, 5)))
    assert f"dijadwalkan pada {wednesday:%d-%m-%Y}" in message("wamid.J-STATUS").reply.text

    # Tuesday morning: the reminder for tomorrow's appointment.
    time_machine.move_to(at(working_day_after(monday), 8, 30), tick=False)
    assert office_reminders_send(office=office)["reminder_appointment"] == 1

    # Wednesday: check-in with the QR token, called, printed at the counter, handed over in person.
    time_machine.move_to(at(wednesday, 8, 30), tick=False)
    appointments.booking_check_in(office=office, by=clerk, token=appointments.booking_token(booking))
    assert counter.call_next(office=office, counter="Loket 1", by=clerk).pk == booking.pk
    printing.counter_print(card_request_id=request.pk, by=clerk)
    services.card_request_transition(
        card_request_id=request.pk, to_status=S.HANDED_OVER, by=clerk, expected_status=S.PRINTED,
        handover_confirmed=True,
    )  # fmt: skip

    request.refresh_from_db()
    assert request.status == S.HANDED_OVER
    assert request.attachments.get().requirement == police
    # Every message, to the number the resident wrote from: one per step, no second confirmation.
    assert outbox(contact) == [
        ("reply_request_opened", A_PHONE, True),
        ("reply_media_received", A_PHONE, True),
        ("ready_counter", A_PHONE, False),
        ("reply_booking_confirmed", A_PHONE, True),
        ("reply_status", A_PHONE, True),
        ("reminder_appointment", A_PHONE, False),
        ("request_handed_over", A_PHONE, False),
    ]
    assert not Notification.objects.exclude(contact=contact).exists()
    whatsapp_number = opened.office_number
    assert set(Notification.objects.filter(is_reply=True).values_list("sender_number", flat=True)) == {
        whatsapp_number.pk
    }
    assert not InboundMessage.objects.filter(outcome="").exists()


def test_one_message_id_posted_50_times_is_one_message_one_booking_one_reply(client, office, siti, frozen_today):
    request = CardRequestFactory(resident=siti, ready=True, kind="rusak")
    day = working_day_after(frozen_today)
    document = text_message("wamid.REPLAYED", f"#Siti Aminah#{siti.nik}#{day:%d/%m/%Y}", sent=at(frozen_today, 9))
    for _attempt in range(50):
        deliver(client, document)
    assert WebhookPayload.objects.filter(status=WebhookPayload.Status.PROCESSED).count() == 50
    only = InboundMessage.objects.get()
    assert (only.provider_message_id, only.outcome, only.card_request_id) == ("wamid.REPLAYED", "booked", request.pk)
    booking = Booking.objects.get()
    assert (booking.card_request_id, booking.date, booking.number) == (request.pk, day, 1)
    assert ServiceDay.objects.get(office=office, date=day).booked_whatsapp == 1
    assert list(Notification.objects.values_list("template", flat=True)) == ["reply_booking_confirmed"]


def test_the_same_request_under_a_new_message_id_keeps_the_first_place(client, office, siti, frozen_today):
    text = f"#KTP#{siti.nik}#{siti.family.kk_number}#Siti Aminah#Slahung#Slahung#Rusak"
    deliver(client, text_message("wamid.FIRST", text, sent=at(frozen_today, 9)))
    first = message("wamid.FIRST").card_request
    later = at(frozen_today, 9) + timedelta(hours=2)
    deliver(client, text_message("wamid.AGAIN", text.upper(), sent=later))
    again = message("wamid.AGAIN")
    assert (again.outcome, again.card_request_id) == ("duplicate", first.pk)
    assert first.number in again.reply.text and "urutan Anda tetap" in again.reply.text
    assert CardRequest.objects.get().queued_at == first.queued_at
