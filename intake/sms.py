"""What an HTTP SMS gateway posts for a message a resident sent to the office's SMS centre.

Two shapes are read (unknown fields are ignored in both):
- an Indonesian aggregator's form (DartMedia/Hub9 style, as RapidPro's courier reads it), posted as
  application/x-www-form-urlencoded: `original` (the sender), `sendto` (our number), `messageid`, `message`,
  `date` (YYYYmmddHHMMSS, the gateway's local time); the gateway expects the body `000` back;
- JSON: `{"id", "from", "to", "text", "received_at"}` (ISO 8601), answered with `{"ok": true}`.

The gateway authenticates with SMS_INBOUND_TOKEN in `Authorization: Bearer …`, `X-Gateway-Token`, or a `token`
form field; never in the URL (URLs end up in access logs). The token field and any `password` field are
removed before the body is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.dateparse import parse_datetime

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# Fields never stored with the body: our credentials at the gateway.
SECRET_FIELDS = frozenset({"token", "password", "passwd", "pass"})


class SmsUnreadable(ValueError):
    """The stored body is neither shape, or lacks the sender or our number."""


@dataclass(frozen=True)
class SmsMessage:
    id: str
    sender: str
    to: str
    text: str
    # As the gateway gave it: aware (JSON with an offset) or naive (the gateway's local time); None if missing.
    sent_at: datetime | None


def sms_shape(content_type: str) -> str:
    """FORM or JSON, from a Content-Type header (a form when in doubt: what aggregators send)."""
    return JSON if content_type.split(";")[0].strip().lower() == JSON else FORM


def sms_token_valid(request: HttpRequest, form: dict[str, str]) -> bool:
    """Whether the request carries SMS_INBOUND_TOKEN (constant-time compare); always False when it is unset."""
    expected = settings.SMS_INBOUND_TOKEN
    if not expected:
        return False
    authorization = request.headers.get("Authorization", "")
    offered = (
        (authorization[7:].strip() if authorization[:7].lower() == "bearer " else "")
        or request.headers.get("X-Gateway-Token", "")
        or form.get("token", "")
    )
    return hmac.compare_digest(offered.encode("utf-8", "replace"), expected.encode("utf-8"))


def sms_form_fields(body: bytes) -> dict[str, str]:
    """The form's fields (the first value of each), read leniently as UTF-8."""
    return dict(reversed(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))


def sms_body_for_storage(body: bytes, shape: str) -> str:
    """The body as stored: the form without its secret fields; JSON as sent."""
    if shape == FORM:
        fields = [
            (key, value)
            for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            if key.lower() not in SECRET_FIELDS
        ]
        return urlencode(fields)
    return body.decode("utf-8", "replace")


def sms_accepted(shape: str) -> HttpResponse:
    """What the gateway expects back when a message was taken."""
    if shape == JSON:
        return JsonResponse({"ok": True})
    return HttpResponse("000", content_type="text/plain")


def sms_read(body: str, content_type: str) -> SmsMessage:
    """The message in a stored body. Raises SmsUnreadable when it has no sender or no number of ours."""
    if sms_shape(content_type) == JSON:
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise SmsUnreadable("Not JSON") from exc
        if not isinstance(document, dict):
            raise SmsUnreadable("Not a JSON object")
        fields = {key: _text(value) for key, value in document.items()}
        message = SmsMessage(
            id=fields.get("id", ""),
            sender=fields.get("from", ""),
            to=fields.get("to", ""),
            text=fields.get("text", ""),
            sent_at=_iso(fields.get("received_at", "")),
        )
    else:
        fields = dict(reversed(parse_qsl(body, keep_blank_values=True)))
        message = SmsMessage(
            id=fields.get("messageid", "").strip(),
            sender=fields.get("original", "").strip(),
            to=fields.get("sendto", "").strip(),
            text=fields.get("message", ""),
            sent_at=_compact(fields.get("date", "")),
        )
    if not message.sender or not message.to:
        raise SmsUnreadable("No sender or no number of ours")
    if not message.id:
        # Without the gateway's id, the same sender, number, text and time is the same message.
        seed = "\x1f".join((message.sender, message.to, message.text, str(message.sent_at)))
        message = replace(message, id="sha256:" + hashlib.sha256(seed.encode()).hexdigest()[:40])
    return message


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _compact(value: str) -> datetime | None:
    try:
        return datetime.strptime(value.strip(), "%Y%m%d%H%M%S")  # the gateway's local time (naive)
    except ValueError:
        return None


def _iso(value: str) -> datetime | None:
    try:
        return parse_datetime(value.strip())
    except ValueError:
        return None
