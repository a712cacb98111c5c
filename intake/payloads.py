"""A tolerant reader of WhatsApp Cloud API webhook payloads (`entry[].changes[].value`), as they arrive in 2026.

Real traffic carries keys the documentation does not (`contacts[].country_code`, `messages[].from_logical_id`)
and lacks keys older payloads always had (a username-only sender has no `from` and no `wa_id`; status
callbacks come with a lean `contacts:[{"wa_id"}]` and no profile). So nothing here indexes a dict: every
value is read with a default, unknown keys are ignored, a missing optional key is an empty string, and a
value of the wrong type counts as missing. Only a body that is not a JSON object is refused
(`PayloadUnreadable`).

Errors come at three levels and each is kept: the change (`value.errors`), the message (`messages[].errors`,
e.g. 131051 unsupported type) and the status (`statuses[].errors`, the reason a message failed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from messaging.contacts import is_user_id, phone_normalized

# InboundMessage.Kind values, by Cloud API message type.
KIND_BY_TYPE = {
    "text": "text",
    "image": "image",
    "document": "document",
    "audio": "audio",
    "voice": "audio",
    "interactive": "interactive",
    "button": "interactive",
    "system": "system",
}
MEDIA_TYPES = ("image", "document", "audio", "voice", "video", "sticker")
DOWNLOADED_KINDS = frozenset({"image", "document", "audio"})
MAX_TEXT = 4096  # WhatsApp's own limit for a text message


class PayloadUnreadable(ValueError):
    """The body is not a JSON object: nothing in it can be read."""


@dataclass(frozen=True)
class ProviderError:
    code: int | None
    title: str
    details: str = ""

    def summary(self) -> str:
        text = " ".join(part for part in (str(self.code) if self.code is not None else "", self.title) if part)
        return f"{text}: {self.details}" if self.details and self.details != self.title else text


@dataclass(frozen=True)
class WaContact:
    wa_id: str = ""
    user_id: str = ""
    parent_user_id: str = ""
    name: str = ""
    username: str = ""


@dataclass(frozen=True)
class WaMedia:
    id: str = ""
    mime_type: str = ""
    sha256: str = ""
    filename: str = ""
    caption: str = ""
    # Newer webhooks carry a ready download URL (valid for minutes; still needs the Bearer token).
    url: str = ""


@dataclass(frozen=True)
class WaSystem:
    type: str = ""
    body: str = ""
    wa_id: str = ""  # user_changed_number: the new number
    user_id: str = ""  # user_changed_user_id: the new BSUID
    previous_user_id: str = ""
    parent_user_id: str = ""
    previous_parent_user_id: str = ""


@dataclass(frozen=True)
class WaMessage:
    id: str
    type: str
    kind: str  # an InboundMessage.Kind value
    timestamp: datetime | None
    phone: str  # the sender's number ('' for a username-only sender)
    user_id: str  # the sender's BSUID ('' before BSUIDs, or when only a number came)
    parent_user_id: str = ""
    text: str = ""
    media: WaMedia | None = None
    system: WaSystem | None = None
    errors: tuple[ProviderError, ...] = ()
    reply_id: str = ""  # the id of the button or list row chosen, or a quick reply's payload
    context_id: str = ""  # the message this one answers
    forwarded: bool = False


@dataclass(frozen=True)
class WaStatus:
    id: str
    status: str
    timestamp: datetime | None
    recipient_phone: str = ""
    recipient_user_id: str = ""
    errors: tuple[ProviderError, ...] = ()


@dataclass(frozen=True)
class WaChange:
    field: str
    phone_number_id: str = ""
    display_phone_number: str = ""
    contacts: tuple[WaContact, ...] = ()
    messages: tuple[WaMessage, ...] = ()
    statuses: tuple[WaStatus, ...] = ()
    errors: tuple[ProviderError, ...] = ()

    def contact_of(self, message: WaMessage) -> WaContact | None:
        """The `contacts[]` entry of the message's sender (matched by BSUID or number), or None."""
        for contact in self.contacts:
            if message.user_id and message.user_id in (contact.user_id, contact.wa_id):
                return contact
            if message.phone and message.phone == phone_normalized(contact.wa_id) and not is_user_id(contact.wa_id):
                return contact
        return None


# --- reading -----------------------------------------------------------------------------------------------------


def whatsapp_changes(body: str | bytes) -> list[WaChange]:
    """Every `entry[].changes[]` of a Cloud API webhook body, read tolerantly."""
    document = _json_object(body)
    changes = []
    for entry in _list(document.get("entry")):
        for change in _list(_dict(entry).get("changes")):
            changes.append(_change(_dict(change)))
    return changes


def media_url(body: str | bytes, message_id: str) -> str:
    """The ready download URL the webhook carried for one message's media, or ''."""
    try:
        changes = whatsapp_changes(body)
    except PayloadUnreadable:
        return ""
    for change in changes:
        for message in change.messages:
            if message.id == message_id and message.media is not None:
                return message.media.url
    return ""


def _json_object(body: str | bytes) -> dict:
    try:
        document = json.loads(body)
    except (ValueError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
        raise PayloadUnreadable(f"Not JSON: {exc.__class__.__name__}") from exc
    if not isinstance(document, dict):
        raise PayloadUnreadable("Not a JSON object")
    return document


def _change(change: dict) -> WaChange:
    value = _dict(change.get("value"))
    metadata = _dict(value.get("metadata"))
    contacts = tuple(_contact(_dict(c)) for c in _list(value.get("contacts")))
    messages = tuple(m for m in (_message(_dict(m), contacts) for m in _list(value.get("messages"))) if m.id)
    statuses = tuple(s for s in (_status(_dict(s)) for s in _list(value.get("statuses"))) if s.id)
    return WaChange(
        field=_str(change.get("field")),
        phone_number_id=_str(metadata.get("phone_number_id")),
        display_phone_number=_str(metadata.get("display_phone_number")),
        contacts=contacts,
        messages=messages,
        statuses=statuses,
        errors=_errors(value.get("errors")),
    )


def _contact(contact: dict) -> WaContact:
    profile = _dict(contact.get("profile"))
    return WaContact(
        wa_id=_str(contact.get("wa_id")),
        user_id=_str(contact.get("user_id")),
        parent_user_id=_str(contact.get("parent_user_id")),
        name=_str(profile.get("name")),
        username=_str(profile.get("username") or contact.get("username")),
    )


def _sender(message: dict) -> tuple[str, str]:
    """(phone, user_id) of a message's sender: `from` may be a number or, in some payloads, the BSUID itself."""
    sender = _str(message.get("from"))
    user_id = _str(message.get("from_user_id"))
    if is_user_id(sender):
        return "", user_id or sender
    return phone_normalized(sender), user_id


def _message(message: dict, contacts: tuple[WaContact, ...]) -> WaMessage:
    kind_of_message = _str(message.get("type"))
    phone, user_id = _sender(message)
    errors = _errors(message.get("errors"))
    media = _media(message, kind_of_message)
    system = _system(_dict(message.get("system"))) if kind_of_message == "system" else None
    text, reply_id = _text(message, kind_of_message, media)
    kind = KIND_BY_TYPE.get(kind_of_message, "other")
    if errors and kind != "system":
        kind = "other"
    context = _dict(message.get("context"))
    read = WaMessage(
        id=_str(message.get("id")),
        type=kind_of_message,
        kind=kind,
        timestamp=_timestamp(message.get("timestamp")),
        phone=phone,
        user_id=user_id,
        parent_user_id=_str(message.get("from_parent_user_id")),
        text=text[:MAX_TEXT],
        media=media if kind in DOWNLOADED_KINDS else None,
        system=system,
        errors=errors,
        reply_id=reply_id,
        context_id=_str(context.get("id")),
        forwarded=bool(context.get("forwarded") or context.get("frequently_forwarded")),
    )
    # The contacts entry may know what the message left out (a number, a BSUID, a parent BSUID).
    contact = WaChange(field="messages", contacts=contacts).contact_of(read)
    if contact is not None:
        wa_phone = "" if is_user_id(contact.wa_id) else phone_normalized(contact.wa_id)
        read = replace(
            read,
            phone=read.phone or wa_phone,
            user_id=read.user_id or contact.user_id,
            parent_user_id=read.parent_user_id or contact.parent_user_id,
        )
    return read


def _media(message: dict, kind_of_message: str) -> WaMedia | None:
    if kind_of_message not in MEDIA_TYPES:
        return None
    media = _dict(message.get(kind_of_message))
    return WaMedia(
        id=_str(media.get("id")),
        mime_type=_str(media.get("mime_type")),
        sha256=_str(media.get("sha256")),
        filename=_str(media.get("filename")),
        caption=_str(media.get("caption")),
        url=_str(media.get("url")) if _str(media.get("url")).startswith("https://") else "",
    )


def _text(message: dict, kind_of_message: str, media: WaMedia | None) -> tuple[str, str]:
    """The message's text as the resident wrote or chose it, and the id of what they chose."""
    if kind_of_message == "text":
        return _str(_dict(message.get("text")).get("body")), ""
    if media is not None:
        return media.caption, ""
    if kind_of_message == "interactive":
        interactive = _dict(message.get("interactive"))
        chosen_kind = _str(interactive.get("type"))
        chosen = _dict(interactive.get(chosen_kind))
        if chosen_kind == "nfm_reply":  # a Flow's answer: response_json is a string holding JSON
            return _str(chosen.get("response_json")) or _str(chosen.get("body")), _str(chosen.get("name"))
        return _str(chosen.get("title")) or _str(chosen.get("id")), _str(chosen.get("id"))
    if kind_of_message == "button":  # a template's quick-reply button
        button = _dict(message.get("button"))
        return _str(button.get("text")) or _str(button.get("payload")), _str(button.get("payload"))
    if kind_of_message == "system":
        return _str(_dict(message.get("system")).get("body")), ""
    if kind_of_message == "reaction":
        return _str(_dict(message.get("reaction")).get("emoji")), ""
    if kind_of_message == "location":
        place = _dict(message.get("location"))
        parts = [_str(place.get("name")), _str(place.get("address"))]
        if place.get("latitude") is not None and place.get("longitude") is not None:
            parts.append(f"{place.get('latitude')},{place.get('longitude')}")
        return " ".join(p for p in parts if p), ""
    # Unsupported or unknown types: some still carry a text body.
    return _str(_dict(message.get("text")).get("body")), ""


def _system(system: dict) -> WaSystem:
    return WaSystem(
        type=_str(system.get("type")),
        body=_str(system.get("body")),
        wa_id=_str(system.get("wa_id") or system.get("new_wa_id")),
        user_id=_str(system.get("user_id")),
        previous_user_id=_str(system.get("previous_user_id")),
        parent_user_id=_str(system.get("parent_user_id")),
        previous_parent_user_id=_str(system.get("previous_parent_user_id")),
    )


def _status(status: dict) -> WaStatus:
    recipient = _str(status.get("recipient_id"))
    return WaStatus(
        id=_str(status.get("id")),
        status=_str(status.get("status")).lower(),
        timestamp=_timestamp(status.get("timestamp")),
        recipient_phone="" if is_user_id(recipient) else phone_normalized(recipient),
        recipient_user_id=_str(status.get("recipient_user_id")) or (recipient if is_user_id(recipient) else ""),
        errors=_errors(status.get("errors")),
    )


def _errors(value: Any) -> tuple[ProviderError, ...]:
    errors = []
    for item in _list(value):
        error = _dict(item)
        if not error:
            continue
        code = error.get("code")
        try:
            code = int(code) if code is not None and not isinstance(code, bool) else None
        except (TypeError, ValueError):
            code = None
        details = _str(error.get("details")) or _str(_dict(error.get("error_data")).get("details"))
        title = _str(error.get("title")) or _str(error.get("message"))
        errors.append(ProviderError(code=code, title=title[:200], details=details[:300]))
    return tuple(errors)


def _timestamp(value: Any) -> datetime | None:
    """Unix seconds (a string in the Cloud API) as an aware instant; None when missing or absurd."""
    try:
        seconds = int(str(value).strip())
        return datetime.fromtimestamp(seconds, tz=UTC) if 0 < seconds < 32_503_680_000 else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""
