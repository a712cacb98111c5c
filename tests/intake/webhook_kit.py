"""What the webhook tests share: the Cloud API payloads in tests/intake/payloads/ (written from the documented
2026 shapes: BSUIDs, username-only senders, lean status contacts, errors at three levels, unknown fields), signed
the way Meta signs them, and the office number they are addressed to.

Every payload's timestamps are FROZEN_NOW (unix 1820196000); `payload(name, at=...)` moves them. The fixtures
are imported by their function names (`whatsapp_number_fixture`) and used by their fixture names."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from intake import webhooks
from intake.models import WebhookPayload
from messaging.models import OfficeNumber

PAYLOADS = Path(__file__).parent / "payloads"
APP_SECRET = "uji-rahasia-aplikasi-meta-7f3a9c"
VERIFY_TOKEN = "uji-token-verifikasi-2f81"
SMS_TOKEN = "uji-token-sms-gateway-5d20"
PHONE_NUMBER_ID = "109876543210001"
OFFICE_DISPLAY_NUMBER = "6281130001000"
SMS_CENTRE = "6281130002000"
# The senders in the payloads.
A_PHONE = "6281234567890"
A_USER_ID = "ID.1502739184265530117"
A_PARENT_USER_ID = "ID.ENT.9081273400112"
A_NEW_USER_ID = "ID.7700223344556677889"
A_NEW_PHONE = "6285712345678"
B_USER_ID = "ID.8800112233445566778"
URL = "/webhook/whatsapp/"
SMS_URL = "/webhook/sms/"


def payload(name: str, *, at: datetime | None = None) -> dict[str, Any]:
    """One of the JSON payloads, its timestamps moved to `at` when given."""
    document = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    if at is not None:
        _timestamps_set(document, str(int(at.timestamp())))
    return document


def _timestamps_set(node: Any, value: str) -> None:
    if isinstance(node, dict):
        for key, item in node.items():
            if key == "timestamp":
                node[key] = value
            else:
                _timestamps_set(item, value)
    elif isinstance(node, list):
        for item in node:
            _timestamps_set(item, value)


def value_of(document: dict) -> dict:
    """The first change's `value` (to edit a payload in a test)."""
    return document["entry"][0]["changes"][0]["value"]


def with_message_id(document: dict, message_id: str, *, text: str | None = None) -> dict:
    """A copy of a one-message payload with another message id (and text)."""
    document = copy.deepcopy(document)
    message = value_of(document)["messages"][0]
    message["id"] = message_id
    if text is not None:
        message["text"] = {"body": text}
    return document


def body_of(document: dict | bytes | str) -> bytes:
    if isinstance(document, bytes):
        return document
    if isinstance(document, str):
        return document.encode()
    return json.dumps(document, ensure_ascii=False).encode()


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_signed(client, document: dict | bytes | str, *, header: str | None = None):
    """POST a payload as Meta does: JSON body, X-Hub-Signature-256 over its exact bytes."""
    body = body_of(document)
    headers = {} if header == "" else {"X-Hub-Signature-256": header or signature(body)}
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def stored(source: str = "whatsapp") -> list[WebhookPayload]:
    return list(WebhookPayload.objects.filter(source=source).order_by("pk"))


@pytest.fixture(name="webhook_settings")
def webhook_settings_fixture(settings, tmp_path):
    settings.WHATSAPP_APP_SECRET = APP_SECRET
    settings.WHATSAPP_VERIFY_TOKEN = VERIFY_TOKEN
    settings.SMS_INBOUND_TOKEN = SMS_TOKEN
    settings.WHATSAPP_ACCESS_TOKEN = "uji-token-graph"
    settings.WHATSAPP_GRAPH_URL = "https://graph.facebook.com"
    settings.WHATSAPP_GRAPH_VERSION = "v24.0"
    settings.MEDIA_ROOT = tmp_path
    return settings


@pytest.fixture(name="woken")
def woken_fixture(monkeypatch) -> list[int]:
    """The views' wake-ups of the processing, recorded instead of made (one entry per committed POST)."""
    calls: list[int] = []
    monkeypatch.setattr(webhooks, "payloads_wake", lambda: calls.append(len(calls) + 1))
    return calls


@pytest.fixture(name="whatsapp_number")
def whatsapp_number_fixture(ponorogo) -> OfficeNumber:
    """Ponorogo's WhatsApp number the payloads are addressed to (metadata.phone_number_id)."""
    return OfficeNumber.objects.create(
        office=ponorogo,
        channel=OfficeNumber.Channel.WHATSAPP,
        number=OFFICE_DISPLAY_NUMBER,
        phone_number_id=PHONE_NUMBER_ID,
        accepts_booking=True,
        accepts_request=True,
        accepts_question=True,
        sends_updates=True,
    )


@pytest.fixture(name="sms_centre")
def sms_centre_fixture(ponorogo) -> OfficeNumber:
    return OfficeNumber.objects.create(
        office=ponorogo, channel=OfficeNumber.Channel.SMS, number=SMS_CENTRE, accepts_question=True
    )
