"""The gateways a message leaves by: the WhatsApp Cloud API ("cloud"), one HTTP SMS gateway ("http"), and for
a machine without either the embedded default "file" (appends each message as a JSON line to
MESSAGE_GATEWAY_FILE, the demo's outbox) or "console" (a log line without personal data).

MESSAGE_GATEWAY_WHATSAPP and MESSAGE_GATEWAY_SMS name the gateway of each channel (or the dotted path of a
class with `send(outgoing) -> SendResult`, e.g. a benchmark's fake). A gateway sends one message and says
what became of it: a SendResult, or a GatewayError whose `kind` tells the delivery worker what to do:
- "throttled": wait (`retry_after` seconds when the provider said) and try again;
- "retry": a temporary failure (5xx, timeout, connection refused): try again later;
- "not_whatsapp": the number has no WhatsApp: send it by SMS;
- "permanent": trying again will not help (bad number, outside the 24-hour window, refused template).

The error classes follow Courier's (nyaruka/courier handlers/meta/whatsapp/api.go) for the Cloud API.
A timeout after the request left may mean the provider did send it; it is retried all the same (the Cloud API
has no idempotency key), which is the one way a message can arrive twice.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import uuid
from dataclasses import dataclass, field
from typing import Protocol

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

THROTTLED = "throttled"
RETRY = "retry"
PERMANENT = "permanent"
NOT_WHATSAPP = "not_whatsapp"

# Cloud API error codes (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
# Rate limits: 4 app, 80007 account, 130429 throughput, 131048 spam rate, 131056 pair rate, 133016 register.
THROTTLED_CODES = frozenset({4, 80007, 130429, 131048, 131056, 133016})
# Temporary: 2 service overloaded, 131016 service unavailable, 131053 media upload, 133004 server unavailable.
RETRY_CODES = frozenset({2, 131016, 131053, 133004})
# Undeliverable: in practice a number without WhatsApp.
NOT_WHATSAPP_CODES = frozenset({131026})


@dataclass(frozen=True)
class Outgoing:
    """One message to send. WhatsApp: to `to_phone`, else to `to_user_id` (the BSUID of a username-only
    user); from `sender_phone_number_id` (the Cloud API id of the office's number; empty: the default
    number). A template (`template_name`, `template_language`, `params` filling its body) instead of `text`
    outside the 24-hour window. SMS: `to_phone`, from `sender_number` (empty: the gateway's default).
    `reference` is the outbox row's id (the console and file gateways name it; never personal data)."""

    channel: str
    to_phone: str = ""
    to_user_id: str = ""
    sender_phone_number_id: str = ""
    sender_number: str = ""
    text: str = ""
    template_name: str = ""
    template_language: str = "id"
    params: tuple[str, ...] = field(default_factory=tuple)
    reference: str = ""


@dataclass(frozen=True)
class SendResult:
    """The provider's id of the sent message (status callbacks name it) and, when the Cloud API told, the
    BSUID of the number it was sent to."""

    provider_message_id: str
    user_id: str = ""


class GatewayError(Exception):
    """A message the gateway did not take; `kind` is one of THROTTLED, RETRY, PERMANENT, NOT_WHATSAPP. The
    message names the provider's code and title, never the recipient or the text."""

    def __init__(self, message: str, kind: str, code: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.code = code
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message


class Gateway(Protocol):
    def send(self, outgoing: Outgoing) -> SendResult: ...


# --- one HTTP client per process ------------------------------------------------------------------------------

_client_lock = threading.Lock()
_client: httpx.Client | None = None
_client_pid = 0


def http_client() -> httpx.Client:
    """The process's shared client (connections are reused: a new TLS handshake per message costs ~70 ms).
    A forked worker makes its own rather than share its parent's sockets."""
    global _client, _client_pid
    with _client_lock:
        if _client is None or _client_pid != os.getpid():
            _client = httpx.Client(
                timeout=settings.MESSAGE_GATEWAY_TIMEOUT_SECONDS,
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            )
            _client_pid = os.getpid()
        return _client


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(settings.MESSAGE_GATEWAY_TIMEOUT_SECONDS)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _post(url: str, *, token: str, body: dict, provider: str) -> httpx.Response:
    """POST `body` as JSON; a transport failure (timeout, refused, reset) is a RETRY GatewayError."""
    try:
        return http_client().post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=_timeout())
    except httpx.TimeoutException as exc:
        raise GatewayError(f"{provider}: timeout ({type(exc).__name__})", RETRY) from exc
    except httpx.TransportError as exc:
        raise GatewayError(f"{provider}: connection failed ({type(exc).__name__})", RETRY) from exc


def _json(response: httpx.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# --- WhatsApp Cloud API ---------------------------------------------------------------------------------------


def cloud_error_kind(http_status: int, code: int | None) -> str:
    """What a Cloud API error means for the worker (module docstring)."""
    if http_status == 429 or code in THROTTLED_CODES:
        return THROTTLED
    if code in NOT_WHATSAPP_CODES:
        return NOT_WHATSAPP
    if code in RETRY_CODES or http_status >= 500:
        return RETRY
    return PERMANENT


def cloud_message_body(outgoing: Outgoing) -> dict:
    """The JSON of POST /{phone_number_id}/messages: `to` a phone number, else top-level `recipient` a BSUID;
    a text, or a template whose body parameters are `params`."""
    body: dict = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    if outgoing.to_phone:
        body["to"] = outgoing.to_phone
    elif outgoing.to_user_id:
        body["recipient"] = outgoing.to_user_id
    else:
        raise GatewayError("whatsapp: no phone number and no WhatsApp user id", PERMANENT)
    if outgoing.template_name:
        template: dict = {"name": outgoing.template_name, "language": {"code": outgoing.template_language or "id"}}
        if outgoing.params:
            parameters = [{"type": "text", "text": str(value)} for value in outgoing.params]
            template["components"] = [{"type": "body", "parameters": parameters}]
        body["type"] = "template"
        body["template"] = template
    else:
        body["type"] = "text"
        body["text"] = {"preview_url": False, "body": outgoing.text}
    if outgoing.reference:
        # Echoed in the status callbacks: a send whose recording a crashed worker never wrote can be traced.
        body["biz_opaque_callback_data"] = str(outgoing.reference)
    return body


class CloudApiGateway:
    """WhatsApp Business Cloud API (Graph API `{WHATSAPP_GRAPH_URL}/{WHATSAPP_GRAPH_VERSION}/{number id}/
    messages`, Bearer WHATSAPP_ACCESS_TOKEN)."""

    def send(self, outgoing: Outgoing) -> SendResult:
        number_id = outgoing.sender_phone_number_id or settings.WHATSAPP_PHONE_NUMBER_ID
        if not number_id or not settings.WHATSAPP_ACCESS_TOKEN:
            raise GatewayError("whatsapp: no sending number id or no access token configured", PERMANENT)
        url = f"{settings.WHATSAPP_GRAPH_URL.rstrip('/')}/{settings.WHATSAPP_GRAPH_VERSION}/{number_id}/messages"
        response = _post(
            url, token=settings.WHATSAPP_ACCESS_TOKEN, body=cloud_message_body(outgoing), provider="whatsapp"
        )
        data = _json(response)
        if response.is_success:
            messages = data.get("messages") or [{}]
            message_id = str(messages[0].get("id") or "")
            if not message_id:
                # Taken, perhaps sent: not retried (a second copy is worse than a message marked failed).
                raise GatewayError(f"whatsapp: HTTP {response.status_code} without a message id", PERMANENT)
            contacts = data.get("contacts") or [{}]
            return SendResult(provider_message_id=message_id, user_id=str(contacts[0].get("user_id") or ""))
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        code = error.get("code")
        code = code if isinstance(code, int) else None
        title = str(error.get("error_user_title") or error.get("message") or error.get("type") or "")[:150]
        raise GatewayError(
            f"whatsapp: HTTP {response.status_code} code {code}: {title}".rstrip(": "),
            cloud_error_kind(response.status_code, code),
            code=code,
            retry_after=_retry_after(response),
        )


# --- one HTTP SMS gateway -------------------------------------------------------------------------------------


class HttpSmsGateway:
    """An HTTP SMS gateway: POST SMS_GATEWAY_URL with `{"to", "text", "sender"}` as JSON and Bearer
    SMS_GATEWAY_TOKEN; it answers `{"id": ...}`. 429 is throttled, 5xx and transport failures are retried,
    other answers are permanent."""

    def send(self, outgoing: Outgoing) -> SendResult:
        if not settings.SMS_GATEWAY_URL:
            raise GatewayError("sms: SMS_GATEWAY_URL is not configured", PERMANENT)
        if not outgoing.to_phone:
            raise GatewayError("sms: no phone number", PERMANENT)
        body = {
            "to": outgoing.to_phone,
            "text": outgoing.text,
            "sender": outgoing.sender_number or settings.SMS_GATEWAY_SENDER,
        }
        response = _post(settings.SMS_GATEWAY_URL, token=settings.SMS_GATEWAY_TOKEN, body=body, provider="sms")
        data = _json(response)
        if response.is_success:
            message_id = str(data.get("id") or "")
            if not message_id:
                raise GatewayError(f"sms: HTTP {response.status_code} without a message id", PERMANENT)
            return SendResult(provider_message_id=message_id)
        code = data.get("code")
        code = code if isinstance(code, int) else None
        if response.status_code == 429:
            kind = THROTTLED
        elif response.status_code >= 500:
            kind = RETRY
        else:
            kind = PERMANENT
        reason = str(data.get("error") or data.get("message") or "")[:150]
        raise GatewayError(
            f"sms: HTTP {response.status_code}: {reason}".rstrip(": "),
            kind,
            code=code,
            retry_after=_retry_after(response),
        )


# --- embedded defaults ----------------------------------------------------------------------------------------


class FileGateway:
    """Appends each message as one JSON line to MESSAGE_GATEWAY_FILE (the embedded demo's outbox: it holds
    the full number and text, like the database beside it). Lines from concurrent workers never interleave."""

    def send(self, outgoing: Outgoing) -> SendResult:
        message_id = f"file-{uuid.uuid4().hex}"
        line = {
            "id": message_id,
            "reference": outgoing.reference,
            "channel": outgoing.channel,
            "to": outgoing.to_phone,
            "to_user_id": outgoing.to_user_id,
            "from": outgoing.sender_number or outgoing.sender_phone_number_id,
            "text": outgoing.text,
            "template": outgoing.template_name,
            "template_language": outgoing.template_language if outgoing.template_name else "",
            "params": list(outgoing.params),
        }
        path = settings.MESSAGE_GATEWAY_FILE
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a", encoding="utf-8") as out:
                fcntl.flock(out, fcntl.LOCK_EX)
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise GatewayError(f"file: cannot write the outbox file ({exc.strerror})", RETRY) from exc
        return SendResult(provider_message_id=message_id)


class ConsoleGateway:
    """Logs that a message went, without its number or text (personal data)."""

    def send(self, outgoing: Outgoing) -> SendResult:
        message_id = f"console-{uuid.uuid4().hex}"
        logger.info(
            "message %s (outbox row %s) sent by the console gateway: channel=%s template=%s",
            message_id,
            outgoing.reference or "-",
            outgoing.channel,
            outgoing.template_name or "-",
        )
        return SendResult(provider_message_id=message_id)


_BUILT_IN = {"cloud": CloudApiGateway, "http": HttpSmsGateway, "file": FileGateway, "console": ConsoleGateway}
_CHANNEL_GATEWAYS = {"whatsapp": {"cloud", "file", "console"}, "sms": {"http", "file", "console"}}
_gateways: dict[str, Gateway] = {}


def gateway_for(channel: str) -> Gateway:
    """The gateway configured for "whatsapp" (MESSAGE_GATEWAY_WHATSAPP) or "sms" (MESSAGE_GATEWAY_SMS)."""
    setting = {"whatsapp": "MESSAGE_GATEWAY_WHATSAPP", "sms": "MESSAGE_GATEWAY_SMS"}.get(channel)
    if setting is None:
        raise ValueError(f"no gateway for channel {channel!r}")
    name = getattr(settings, setting)
    if name in _BUILT_IN and name not in _CHANNEL_GATEWAYS[channel]:
        raise ImproperlyConfigured(f"{setting}={name!r}: not a {channel} gateway")
    if name not in _BUILT_IN and "." not in name:
        raise ImproperlyConfigured(f"{setting}={name!r}: one of {sorted(_CHANNEL_GATEWAYS[channel])} or a dotted path")
    gateway = _gateways.get(name)
    if gateway is None:
        gateway = _BUILT_IN[name]() if name in _BUILT_IN else import_string(name)()
        _gateways[name] = gateway
    return gateway
