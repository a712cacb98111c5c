"""The inbox of the demo (`make run`): the demo office's WhatsApp number and SMS centre, and a few messages as
residents send them, stored as webhook payloads and processed by the real processing (intake/processing.py),
so the parser, the actions, the auto-replies and the threads are the real ones.

What the clerk finds: a question waiting three hours whose sender wrote again (the thread keeps its place), a
DISDUKCAPIL# question with a NIK (masked in the list), the police report of a hilang request sent as a photo
(offered for the request, one click to attach), and an older question already answered. The photo's download
from the Graph API is replaced by a generated image, checked like an upload.

Run after the card requests of the demo (delivery/demo.py): the photo goes to an open hilang request of a
resident with a WhatsApp number. Running it again adds nothing (the provider message ids are known).
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from cards import services
from cards.models import CardRequest
from cards.uploads import attachment_clean
from cards.workflow import missing_documents
from intake import inbox, processing
from intake.models import InboundMessage, Source, WebhookPayload
from messaging.models import OfficeNumber
from registry import clock
from registry.demo import DEMO_KABUPATEN
from registry.models import Office, Resident, Role, User

DEMO_WHATSAPP = {"number": "6285233100100", "phone_number_id": "100000000000001"}
DEMO_SMS_CENTRE = "6285233100200"
FIRST_ID = "wamid.DEMO.INBOX.0001"


def demo_inbox_messages_create(*, office: Office | None = None) -> int:
    """The demo office's numbers and its inbox messages; returns how many messages were stored (0 when the demo
    inbox exists already)."""
    office = office or Office.objects.get(region_id=DEMO_KABUPATEN)
    number = _numbers_create(office)
    if InboundMessage.objects.filter(source=Source.WHATSAPP, provider_message_id=FIRST_ID).exists():
        return 0
    now = clock.now()
    residents = Resident.objects.filter(kecamatan__code__startswith=f"{office.region_id}.").exclude(whatsapp="")
    asker = residents.filter(family__isnull=False).order_by("pk").first()

    # An old question, answered by the clerk two days ago (outside the 24-hour window now).
    darmo = {"phone": "6281233300017", "name": "Pak Darmo"}
    answered = _send(number, at=now - timedelta(days=2, hours=3), message_id="wamid.DEMO.INBOX.0000",
                     text="Kantor Disdukcapil buka hari Sabtu tidak, Pak?", **darmo)  # fmt: skip
    clerk = User.objects.filter(office=office, role=Role.CLERK).order_by("pk").first()
    if answered is not None and clerk is not None and answered.thread_id:
        inbox.thread_answer(
            thread_id=answered.thread_id,
            by=clerk,
            text="Selamat siang, Pak. Hari Sabtu kantor tutup; layanan Senin sampai Jumat pukul 08.00-15.00.",
        )
    stored = [answered]

    # A question waiting for three hours; the sender writes again, and keeps the first message's place.
    warsini = {"phone": "6281233300021", "name": "Warsini"}
    stored.append(_send(number, at=now - timedelta(hours=3, minutes=12), message_id=FIRST_ID, text=(
        "Assalamualaikum, KTP saya hilang waktu banjir kemarin. Syaratnya apa saja ya Pak? Saya belum punya "
        "surat dari polisi."), **warsini))  # fmt: skip
    stored.append(_send(number, at=now - timedelta(minutes=25), message_id="wamid.DEMO.INBOX.0002",
                        text="Pak mohon dibalas, besok saya mau ke kantor.", **warsini))  # fmt: skip

    # A DISDUKCAPIL# question naming a resident's NIK (the list shows it masked).
    if asker is not None:
        text = f"DISDUKCAPIL#{asker.full_name}#{asker.nik}#KTP anak saya umur 17 tahun sudah bisa dicetak belum?"
        stored.append(_send(number, at=now - timedelta(hours=1, minutes=5), message_id="wamid.DEMO.INBOX.0003",
                            text=text, phone="6281233300034", name="Bu Sri"))  # fmt: skip

    # The police report of a hilang request, sent as a photo in the resident's own chat.
    request = _hilang_request_waiting_for_the_letter(office)
    if request is not None:
        sender = {"phone": request.resident.whatsapp, "name": request.resident.full_name.title()}
        stored.append(_send(number, at=now - timedelta(minutes=41), message_id="wamid.DEMO.INBOX.0004",
                            text="Ini surat kehilangan dari Polsek, Pak.", **sender))  # fmt: skip
        photo = _send(number, at=now - timedelta(minutes=40), message_id="wamid.DEMO.INBOX.0005",
                      image_caption="surat kehilangan", **sender)  # fmt: skip
        if photo is not None:
            _photo_downloaded(photo)
        stored.append(photo)
    return sum(message is not None for message in stored)


def _numbers_create(office: Office) -> OfficeNumber:
    number, _created = OfficeNumber.objects.get_or_create(
        channel=OfficeNumber.Channel.WHATSAPP,
        number=DEMO_WHATSAPP["number"],
        defaults={
            "office": office,
            "label": "Layanan KTP-el",
            "phone_number_id": DEMO_WHATSAPP["phone_number_id"],
            "accepts_booking": True,
            "accepts_request": True,
            "accepts_sync": True,
            "accepts_question": True,
            "accepts_status": True,
            "sends_updates": True,
        },
    )
    OfficeNumber.objects.get_or_create(
        channel=OfficeNumber.Channel.SMS,
        number=DEMO_SMS_CENTRE,
        defaults={"office": office, "label": "SMS center", "accepts_question": True, "accepts_status": True},
    )
    return number


def _hilang_request_waiting_for_the_letter(office: Office) -> CardRequest | None:
    """An open hilang request without its police letter, of a resident with a WhatsApp number; one is opened
    (as the resident's own #KTP would) when the demo has none."""
    waiting = (
        CardRequest.objects.filter(office=office, kind="hilang", status__in=["received", "verifying", "incomplete"])
        .exclude(resident__whatsapp="")
        .select_related("resident")
        .order_by("created_at")
    )
    for request in waiting[:20]:
        if missing_documents(request):
            return request
    resident = (
        Resident.objects.filter(kecamatan__code__startswith=f"{office.region_id}.", biometric_recorded=True)
        .exclude(whatsapp="")
        .exclude(card_requests__status__in=CardRequest.OPEN_STATUSES)
        .order_by("pk")
        .first()
    )
    if resident is None:
        return None
    return services.card_request_create(resident=resident, kind="hilang", by=None, channel="whatsapp")


def _send(
    number: OfficeNumber,
    *,
    at: datetime,
    phone: str,
    name: str,
    message_id: str,
    text: str = "",
    image_caption: str | None = None,
) -> InboundMessage | None:
    """One message as the Cloud API posts it, stored as a payload and processed; the stored message."""
    user_id = f"ID.{int(phone):019d}"
    message = {"from": phone, "from_user_id": user_id, "id": message_id, "timestamp": str(int(at.timestamp()))}
    if image_caption is None:
        message |= {"type": "text", "text": {"body": text}}
    else:
        message |= {
            "type": "image",
            "image": {"caption": image_caption, "mime_type": "image/jpeg", "id": f"DEMO{int(at.timestamp())}"},
        }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "DEMO", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": number.number, "phone_number_id": number.phone_number_id},
            "contacts": [{"profile": {"name": name}, "wa_id": phone, "user_id": user_id}],
            "messages": [message],
        }}]}],
    }  # fmt: skip
    payload = WebhookPayload.objects.create(
        source=Source.WHATSAPP, body=json.dumps(body), content_type="application/json", received_at=at
    )
    processing.payload_process(payload.pk)
    return InboundMessage.objects.filter(source=Source.WHATSAPP, provider_message_id=message_id).first()


def _photo_downloaded(message: InboundMessage) -> None:
    """What the media download would have stored: the photo, checked like an upload."""
    cleaned = attachment_clean(SimpleUploadedFile("surat.jpg", _police_letter_photo()))
    message.media_file.save("whatsapp-media", ContentFile(cleaned.content), save=False)
    InboundMessage.objects.filter(pk=message.pk, media_file="").update(
        media_file=message.media_file.name, media_type=cleaned.content_type, media_name="surat-kehilangan.jpg"
    )


def _police_letter_photo() -> bytes:
    """A photographed letter: a slightly grey page with a heading and lines of text."""
    image = Image.new("RGB", (600, 800), (236, 234, 228))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 560, 760), fill=(252, 252, 250), outline=(90, 90, 90), width=2)
    for y, line in enumerate(
        [
            "KEPOLISIAN NEGARA REPUBLIK INDONESIA",
            "RESOR PONOROGO - SEKTOR SLAHUNG",
            "",
            "SURAT TANDA PENERIMAAN LAPORAN KEHILANGAN",
            "",
            "Telah kehilangan: KTP-el",
            "Waktu: saat banjir, minggu lalu",
            "",
            "Demikian surat ini dibuat untuk keperluan",
            "pengurusan KTP-el pengganti.",
        ]
    ):
        draw.text((80, 90 + 32 * y), line, fill=(30, 30, 30))
    draw.ellipse((380, 560, 520, 700), outline=(40, 60, 160), width=3)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()
