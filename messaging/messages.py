"""The texts residents receive, in Bahasa Indonesia (residents are written to in Indonesian whatever the
staff member's UI language), and the two writers of the outbox: `notification_write` (a message the office
starts: an update about a request, a reminder) and `reply_write` (an answer to something a contact has just
sent). Each stores one row in the caller's transaction and, once that transaction commits, hands the row's id
to the delivery worker; a periodic sweep hands over what never reached the broker.

Who a message goes to: the resident's WhatsApp number (as a Contact, so replies and status callbacks find the
thread), else a contact a clerk linked to the resident (a username-only WhatsApp user has no number, only a
BSUID), by SMS when the contact is known to have no WhatsApp. Without any address the row is kept as
`no_contact`, so the request page shows that nobody could be told.

Which words: the office's own wording (MessageTemplate, edited by administrators), else the built-in text
below; both are rendered with the same named values, and an office text that does not render (a misspelt
`{placeholder}`) never loses the message: the built-in text is used instead. Every text ends with FOOTER.

This app is the lowest layer: it imports no project app (registry's Office is reached through foreign keys or
`apps.get_model`) and reads no clock.
"""

from __future__ import annotations

import logging
import re
import string
import time
from dataclasses import dataclass

from celery import current_app
from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import translation

from messaging.models import Contact, MessageTemplate, Notification, OfficeNumber
from messaging.reminder_texts import REMINDER_TEMPLATES
from messaging.replies import REPLY_TEMPLATES
from messaging.sync_texts import SYNC_TEMPLATES

logger = logging.getLogger(__name__)

FOOTER = "Layanan adminduk GRATIS, tidak dipungut biaya."

TEMPLATES: dict[str, str] = {
    "request_received": (
        "Permohonan KTP-el {kind} atas nama {name} sudah kami terima dengan nomor {number}. "
        "Kami kabari lagi setelah diverifikasi."
    ),
    "request_incomplete": (
        "Permohonan KTP-el {number} atas nama {name} BELUM LENGKAP. Mohon kirimkan:\n{missing}\n"
        "Balas pesan ini dengan foto/PDF dokumennya."
    ),
    "ready_counter": (
        "Permohonan KTP-el {number} atas nama {name} sudah lengkap. Kartu dicetak saat Anda datang ke {office}: "
        "tunggu jadwal atau undangan dari kami, atau ambil nomor antrean datang langsung."
    ),
    "ready_collect": (
        "Permohonan KTP-el {number} atas nama {name} sudah lengkap dan masuk daftar cetak. Kami kabari begitu kartu "
        "jadi dan dapat diambil di {place}; tidak perlu datang sebelum itu."
    ),
    "ready_uptd": (
        "Permohonan KTP-el {number} atas nama {name} sudah lengkap. Kartu dicetak lalu dikirim ke {place}; kami "
        "kabari begitu kartu tiba di sana. Tidak perlu datang ke kantor kabupaten."
    ),
    "ready_post": (
        "Permohonan KTP-el {number} atas nama {name} sudah lengkap. Kartu dicetak lalu dikirim lewat Pos Indonesia "
        "(bayar di tempat Rp {fee}, ongkos kurir saja)."
    ),
    "ready_waits_wajib_ktp": (
        "Permohonan KTP-el {number} atas nama {name} sudah lengkap. Kartu dicetak mulai ulang tahun Anda yang "
        "ke-17, saat Anda wajib KTP; kami kabari lagi menjelang hari itu."
    ),
    "route_changed": (
        "Cara penerimaan KTP-el {number} atas nama {name} diubah menjadi: {route} ({place}). Kami kabari langkah "
        "berikutnya."
    ),
    "request_returned_by_post": (
        "KTP-el {number} atas nama {name} tidak dapat diantar Pos dan sudah kembali ke {place}. Silakan ambil "
        "SENDIRI di sana (verifikasi sidik jari dan aktivasi)."
    ),
    "request_delivered": "KTP-el {number} atas nama {name} sudah diterima lewat Pos Indonesia. Terima kasih.",
    "request_ready_for_pickup": (
        "KTP-el {number} atas nama {name} sudah jadi dan dapat diambil SENDIRI di {place} mulai {ready_from} "
        "pada jam layanan (verifikasi sidik jari dan aktivasi). Bawa KTP lama bila ada."
    ),
    "booking_confirmed": (
        "Permohonan KTP-el {number} atas nama {name} dijadwalkan pada {day} di {office}, nomor antrean {queue}. "
        "Datang sesuai tanggal; bawa bukti pesan ini."
    ),
    "invitation": (
        "UNDANGAN: KTP-el {number} atas nama {name} siap dicetak. Silakan datang SENDIRI ke {office} pada {day}, "
        "nomor antrean {queue}. Tunjukkan pesan ini atau surat undangan (kode QR). Undangan berlaku hanya pada "
        "tanggal itu."
    ),
    "no_show_reinvited": (
        "Anda tidak hadir pada jadwal KTP-el {number} atas nama {name}. Kami undang sekali lagi pada {day} di "
        "{office}, nomor antrean {queue}."
    ),
    "no_show_returned": (
        "Anda tidak hadir pada jadwal KTP-el {number} atas nama {name}. Permohonan tetap tersimpan; balas pesan "
        "ini untuk meminta jadwal baru."
    ),
    "booking_cancelled_closed": (
        "Layanan pada {day} ditutup ({reason}). Jadwal KTP-el {number} atas nama {name} dibatalkan dan belum ada "
        "hari pengganti; kami kabari lagi begitu ada jadwal."
    ),
    "suket_issued": (
        "Blangko KTP-el sedang habis. Untuk permohonan {number} atas nama {name} diterbitkan Surat Keterangan "
        "{suket} yang berlaku sama dengan KTP-el sampai {until}. KTP-el dicetak lebih dulu begitu blangko datang."
    ),
    "request_shipped": (
        "KTP-el {number} atas nama {name} sudah dikirim lewat Pos Indonesia, nomor resi {tracking}. Siapkan Rp {fee} "
        "untuk kurir (bayar di tempat); serahkan KTP lama kepada kurir bila diminta."
    ),
    "request_at_uptd": (
        "KTP-el {number} atas nama {name} sudah tiba di {place}. Silakan ambil sendiri di sana "
        "untuk verifikasi sidik jari dan aktivasi."
    ),
    "request_handed_over": "KTP-el {number} atas nama {name} sudah diserahkan. Terima kasih.",
    "request_rejected": "Permohonan KTP-el {number} atas nama {name} ditolak. Alasan: {reason}",
    "request_cancelled": "Permohonan KTP-el {number} atas nama {name} dibatalkan. Alasan: {reason}",
    "urgent_approved": "Permohonan KTP-el {number} atas nama {name} disetujui sebagai PRIORITAS MENDESAK.",
    "urgent_refused": (
        "Permohonan prioritas mendesak untuk KTP-el {number} atas nama {name} tidak disetujui: {reason}. "
        "Permohonan tetap diproses sesuai antrean."
    ),
    "number_link_confirmed": (
        "Nomor WhatsApp ini sudah terhubung dengan data kependudukan atas nama {name}. "
        "Pesan layanan KTP-el akan dikirim ke nomor ini."
    ),
    "number_link_refused": "Permohonan SINKRONISASI nomor WhatsApp tidak dapat diproses: {reason}",
    "booking_cancelled": (
        "Jadwal kedatangan KTP-el {number} atas nama {name} pada {day} dibatalkan: {reason}. Permohonan tetap "
        "tersimpan; kami kabari jadwal berikutnya."
    ),
    "booking_moved": (
        "Jadwal kedatangan KTP-el {number} atas nama {name} dipindah ke {day} di {office}, nomor antrean {queue}. "
        "Jadwal ini MENGGANTIKAN jadwal {old_day}."
    ),
    "booking_moved_closed": (
        "Layanan di {office} pada {old_day} ditutup ({reason}). Jadwal KTP-el {number} atas nama {name} dipindah ke "
        "{day}, nomor antrean {queue}. Jadwal ini MENGGANTIKAN jadwal {old_day}; datang pada tanggal yang baru."
    ),
    "no_show_requeued": (
        "Anda tidak hadir pada jadwal KTP-el {number} atas nama {name} tanggal {day}. Permohonan tetap tersimpan "
        "dan masuk antrean lagi dari belakang; kami kirim jadwal baru."
    ),
    "appointment_unserved": (
        "KTP-el {number} atas nama {name} belum dapat dicetak pada {day}. Permohonan tetap di antrean; kami kirim "
        "jadwal baru."
    ),
    "request_stored_for_pickup": (
        "KTP-el {number} atas nama {name} sudah dicetak dan dapat diambil SENDIRI di {place} mulai {day} "
        "(verifikasi sidik jari dan aktivasi). Bawa KTP lama bila ada."
    ),
}


# For a request a UPTD operator submitted (an elderly resident who cannot use WhatsApp), what is missing and
# the card's arrival go to the UPTD, not to the resident: the template `uptd_<code>` is the UPTD's text for
# `<code>`, and its existence is what routes a message there (reminders may add their own `uptd_` variants).
UPTD_PREFIX = "uptd_"
TEMPLATES.update(
    {
        "uptd_request_incomplete": (
            "Permohonan KTP-el {number} untuk {name} yang diajukan lewat UPTD BELUM LENGKAP. Mohon lengkapi:\n"
            "{missing}\nBalas pesan ini dengan foto/PDF dokumennya, atau unggah di halaman permohonan."
        ),
        "uptd_request_at_uptd": (
            "KTP-el {number} untuk {name} sudah tiba di {place}. Mohon kabari yang bersangkutan untuk datang "
            "SENDIRI ke {place} guna verifikasi sidik jari dan aktivasi."
        ),
        "uptd_request_ready_for_pickup": (
            "KTP-el {number} untuk {name} sudah jadi dan dapat diambil SENDIRI oleh yang bersangkutan di {place} "
            "mulai {ready_from} pada jam layanan (verifikasi sidik jari dan aktivasi). Mohon kabari yang "
            "bersangkutan."
        ),
        "uptd_request_stored_for_pickup": (
            "KTP-el {number} untuk {name} sudah dicetak dan dapat diambil SENDIRI oleh yang bersangkutan di {place} "
            "mulai {day} (verifikasi sidik jari dan aktivasi). Mohon kabari yang bersangkutan."
        ),
    }
)

# A clerk's own words from the inbox (reply_write(text=...)).
INBOX_ANSWER = "inbox_answer"

TEMPLATES.update(REPLY_TEMPLATES)
TEMPLATES.update(REMINDER_TEMPLATES)
TEMPLATES.update(SYNC_TEMPLATES)

DELIVER_TASK = "delivery.tasks.deliver_notification"
# A broker that refused a message is not asked again by this process for this long: a transaction that wrote
# a hundred messages while Redis is down must not wait a hundred connection attempts (the sweep sends them).
BROKER_PAUSE_SECONDS = 5.0
_PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
_broker_paused_until = 0.0


# --- words ----------------------------------------------------------------------------------------------------


class _NamedOnly(string.Formatter):
    """str.format for texts administrators write: `{name}` only, never `{0}`, `{name.attr}` or `{name[0]}`
    (those reach into Python objects)."""

    def get_field(self, field_name: str, args, kwargs) -> tuple[object, str]:
        if not field_name.isidentifier():
            raise KeyError(field_name)
        return kwargs[field_name], field_name


_FORMATTER = _NamedOnly()


def render_message(template: str, **values: object) -> str:
    """The built-in text of `template` with `values`, and the footer."""
    with translation.override("id"):
        body = TEMPLATES[template].format(**{k: str(v) for k, v in values.items()})
    return f"{body}\n\n{FOOTER}"


def _office_chain(office) -> list[int]:
    """The office and, for a UPTD, its Disdukcapil: an office without its own wording or number uses its
    parent's."""
    if office is None:
        return []
    return [pk for pk in (office.pk, office.parent_id) if pk]


def _override(code: str, chain: list[int]) -> str | None:
    if not chain:
        return None
    texts = dict(MessageTemplate.objects.filter(office_id__in=chain, code=code).values_list("office_id", "text"))
    return next((texts[pk] for pk in chain if texts.get(pk)), None)


def template_text(code: str, *, office_id: int | None) -> str:
    """The office's wording of `code` (its own, else its Disdukcapil's), else the built-in text (KeyError for
    a code that is neither). Without the footer; placeholders not filled in."""
    chain = []
    if office_id:
        parent_id = (
            apps.get_model("registry", "Office")
            ._default_manager.filter(pk=office_id)
            .values_list("parent_id", flat=True)
            .first()
        )
        chain = [pk for pk in (office_id, parent_id) if pk]
    override = _override(code, chain)
    return override if override is not None else TEMPLATES[code]


def _render(code: str, *, chain: list[int], values: dict[str, object]) -> str:
    """The office's text for `code` rendered with `values`, else the built-in one; and the footer."""
    with translation.override("id"):
        strings = {k: str(v) for k, v in values.items()}
    override = _override(code, chain)
    if override is not None:
        try:
            return f"{_FORMATTER.format(override, **strings)}\n\n{FOOTER}"
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
            # The office's text is broken (a placeholder this message does not have, a stray brace): the
            # message still goes, in the built-in words. No values in the log line: they are personal data.
            logger.warning(
                "message template %s of office %s does not render (%s); built-in text used",
                code,
                chain[0],
                type(exc).__name__,
            )
    return f"{TEMPLATES[code].format(**strings)}\n\n{FOOTER}"


# --- addresses ------------------------------------------------------------------------------------------------

_NOT_DIGIT = re.compile(r"\D")


def phone_international(raw: str | None) -> str:
    """An Indonesian number as the gateways want it: digits only, 62 instead of a leading 0 or +62 ("0812-3456
    7890" -> "6281234567890"). Empty for empty input."""
    digits = _NOT_DIGIT.sub("", raw or "")
    if not digits:
        return ""
    if digits.startswith("0"):
        return "62" + digits.lstrip("0")
    if digits.startswith("62"):
        return digits
    return "62" + digits if digits.startswith("8") else digits


def _contact_for_phone(phone: str) -> Contact:
    """The contact with this number, created when there is none yet (safe against a concurrent insert of the
    same number: the loser of the race reads the winner's row)."""
    found = Contact.objects.filter(phone=phone).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Contact.objects.create(phone=phone)
    except IntegrityError:
        return Contact.objects.get(phone=phone)


@dataclass(frozen=True)
class _Address:
    channel: str
    recipient: str  # the phone number; "" for a username-only WhatsApp user (the contact's BSUID is used)
    contact: Contact | None

    @property
    def reachable(self) -> bool:
        if self.recipient:
            return True
        return self.channel == Notification.Channel.WHATSAPP and bool(self.contact and self.contact.user_id)


def _address_of(contact: Contact | None, phone: str = "") -> _Address:
    """WhatsApp unless the contact is known to have none (then SMS to its number)."""
    phone = (contact.phone if contact is not None else "") or phone
    if contact is not None and contact.whatsapp == Contact.WhatsApp.NO and phone:
        return _Address(Notification.Channel.SMS, phone, contact)
    return _Address(Notification.Channel.WHATSAPP, phone, contact)


def _address_for(*, resident, recipient: str | None, contact: Contact | None) -> _Address:
    """The contact given; else the number given; else the resident's WhatsApp number; else the contact a
    clerk linked to the resident that wrote last."""
    if contact is not None:
        return _address_of(contact)
    if recipient is None and resident is not None and not resident.whatsapp:
        linked = (
            Contact.objects.filter(resident=resident)
            .order_by(F("last_whatsapp_at").desc(nulls_last=True), F("last_sms_at").desc(nulls_last=True), "-pk")
            .first()
        )
        return _address_of(linked)
    phone = phone_international(recipient if recipient is not None else getattr(resident, "whatsapp", ""))
    if not phone:
        return _Address(Notification.Channel.WHATSAPP, "", None)
    return _address_of(_contact_for_phone(phone), phone)


def _head_office_id(resident) -> int | None:
    """The resident's Disdukcapil: the office of the kabupaten the resident's kecamatan is in."""
    if resident is None or not resident.kecamatan_id:
        return None
    return (
        apps.get_model("registry", "Office")
        ._default_manager.filter(kind="disdukcapil", region_id=resident.kecamatan_id[:5])
        .values_list("pk", flat=True)
        .first()
    )


def _uptd_of(card_request, template: str):
    """The UPTD that is told instead of the resident, with its number; None when the message goes to the
    resident (not a UPTD submission, not a message for the UPTD, or a UPTD without a number: then the
    resident is told as before rather than nobody)."""
    if (
        card_request is None
        or card_request.submitted_by_kind != "uptd_operator"
        or UPTD_PREFIX + template not in TEMPLATES
    ):
        return None
    office = card_request.pickup_office
    if office.kind != "uptd":  # the route was changed after submission: the kecamatan's UPTD
        office = (
            apps.get_model("registry", "Office")
            ._default_manager.filter(kind="uptd", region_id=card_request.kecamatan_id)
            .first()
        )
    phone = phone_international(office.phone) if office is not None else ""
    return (office, phone) if phone else None


def _sender_number(chain: list[int], channel: str) -> OfficeNumber | None:
    """The office's active number that sends updates on this channel (its own, else its Disdukcapil's);
    None: the gateway's default number."""
    if not chain:
        return None
    numbers = OfficeNumber.objects.filter(
        office_id__in=chain, channel=channel, sends_updates=True, is_active=True
    ).order_by("pk")
    by_office: dict[int, OfficeNumber] = {}
    for number in numbers:
        by_office.setdefault(number.office_id, number)
    return next((by_office[pk] for pk in chain if pk in by_office), None)


# --- the writers ----------------------------------------------------------------------------------------------


def notification_write(
    *,
    resident,
    template: str,
    card_request=None,
    recipient: str | None = None,
    contact: Contact | None = None,
    office=None,
    dedupe_key: str | None = None,
    name: str = "",
    **values: object,
) -> Notification:
    """Store a message the office starts (call inside the transaction of the change it reports); it is handed
    to the delivery worker when that transaction commits.

    Goes to `contact`, else `recipient` (a number), else the resident's address (module docstring); for a
    request a UPTD operator submitted, what is missing and the card's arrival go to the UPTD instead (the
    `uptd_` templates). Worded by `office` (default: the request's office, else the resident's Disdukcapil)
    and sent from its number that sends updates; its name fills `{office}` unless a value is given. A string
    `office` is only the text's `{office}` (how the callers written before the sending office pass it).
    Invariant: with `dedupe_key`, one row per key: a second write returns the first row and writes nothing.
    """
    if dedupe_key:
        first = Notification.objects.filter(dedupe_key=dedupe_key).first()
        if first is not None:
            return first
    if isinstance(office, str):  # callers from before the sending office: the text's {office}
        values["office"], office = office, None
    elif office is not None:
        values.setdefault("office", office.name)
    values["name"] = name or (resident.full_name if resident is not None else "")
    code = template
    uptd = _uptd_of(card_request, template) if recipient is None and contact is None else None
    if uptd is not None:
        office, phone = uptd
        code = UPTD_PREFIX + template
        address = _address_of(_contact_for_phone(phone), phone)
        office_id, chain = office.pk, _office_chain(office)
    else:
        address = _address_for(resident=resident, recipient=recipient, contact=contact)
        if office is None and card_request is not None:
            office = card_request.office
        if office is not None:
            office_id, chain = office.pk, _office_chain(office)
        else:
            office_id = _head_office_id(resident)
            chain = [office_id] if office_id else []
    row = Notification(
        resident=resident,
        card_request=card_request,
        channel=address.channel,
        recipient=address.recipient,
        contact=address.contact,
        office_id=office_id,
        sender_number=_sender_number(chain, address.channel) if address.reachable else None,
        template=template,
        text=_render(code, chain=chain, values=values),
        status=Notification.Status.PENDING if address.reachable else Notification.Status.NO_CONTACT,
        dedupe_key=dedupe_key or None,
    )
    return _insert(row)


def reply_write(
    *,
    contact: Contact,
    office_number: OfficeNumber | None,
    office,
    template: str = "",
    text: str | None = None,
    resident=None,
    card_request=None,
    **values: object,
) -> Notification:
    """Store a reply to something `contact` has just sent (inside the transaction that handled it); it is
    handed to the delivery worker when that transaction commits and, being a reply, goes at once (no quiet
    hours). It goes from `office_number` (the number the contact wrote to) on its channel, to the contact's
    number, or to its BSUID for a username-only WhatsApp user.

    `template` renders a template in the office's wording (module docstring); `text` sends a clerk's own
    words instead (template code "inbox_answer").
    """
    if text is None and not template:
        raise ValueError("reply_write needs a template or a text")
    if office_number is not None:
        address = _Address(office_number.channel, contact.phone or "", contact)
    else:
        address = _address_of(contact)
    chain = _office_chain(office)
    if office is not None:
        values.setdefault("office", office.name)
    if text is not None:
        template, body = INBOX_ANSWER, f"{text.strip()}\n\n{FOOTER}"
    else:
        values.setdefault("name", resident.full_name if resident is not None else contact.profile_name)
        body = _render(template, chain=chain, values=values)
    row = Notification(
        resident=resident,
        card_request=card_request,
        channel=address.channel,
        recipient=address.recipient,
        contact=contact,
        office=office,
        sender_number=office_number,
        template=template,
        text=body,
        status=Notification.Status.PENDING if address.reachable else Notification.Status.NO_CONTACT,
        is_reply=True,
    )
    return _insert(row)


def _insert(row: Notification) -> Notification:
    """Insert the row and schedule its delivery on commit. A row with a dedupe key is inserted under a
    savepoint: when a concurrent transaction wrote the same key first, the caller's transaction carries on
    with that row."""
    if row.dedupe_key:
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            return Notification.objects.get(dedupe_key=row.dedupe_key)
    else:
        row.save(force_insert=True)
    if row.status == Notification.Status.PENDING:
        row_id = row.pk
        transaction.on_commit(lambda: notification_enqueue(row_id))
    return row


# --- handing rows to the worker -------------------------------------------------------------------------------


def notification_enqueue(notification_id: int) -> bool:
    """Hand a committed row's id to the delivery worker; True when the broker took it (the row's `queued_at`
    is then set). A broker that is down is logged and otherwise ignored: the row stays pending with no
    `queued_at`, and the periodic sweep hands it over later.

    `queued_at` is the row's own time: this app reads no clock, and the caller's transaction commits
    right after the row was written."""
    global _broker_paused_until
    if time.monotonic() < _broker_paused_until:
        return False
    try:
        current_app.send_task(DELIVER_TASK, args=[notification_id], retry=True, retry_policy=_PUBLISH_RETRY)
    except Exception as exc:  # any broker or connection error: the sweep is the fallback
        _broker_paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.warning(
            "notification %s not handed to the broker (%s); the sweep will", notification_id, type(exc).__name__
        )
        return False
    Notification.objects.filter(pk=notification_id, queued_at__isnull=True).update(queued_at=F("created_at"))
    return True
