"""The provider-facing endpoints: the WhatsApp Cloud API webhook and the SMS gateway's inbound endpoint.

Both are public (no login, no CSRF: the provider authenticates each POST) and fast: the body is checked
(HMAC signature or token), stored as one row, and answered at once; a Celery task parses and acts on it after
the commit (intake/processing.py; the views only wake it: intake/tasks.py). No parsing, no other query, no
broker round trip, and nothing of the body in a log line. With neither session nor language cookie, the
middleware in front of them reads nothing from the database.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from functools import cache

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from intake.models import Source, WebhookPayload
from intake.sms import FORM, sms_accepted, sms_body_for_storage, sms_form_fields, sms_shape, sms_token_valid
from intake.tasks import payloads_wake
from registry import clock

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_CHALLENGE = 200


def whatsapp_signature_valid(body: bytes, header: str) -> bool:
    """Whether `header` is "sha256=" + the hex HMAC-SHA256 of the raw body with WHATSAPP_APP_SECRET (compared
    in constant time). Always False while the secret is unset."""
    secret = settings.WHATSAPP_APP_SECRET
    if not secret or not header:
        return False
    expected = "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("latin-1", "replace"))


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    """GET: Meta's verification handshake. POST: a signed payload, stored and answered 200 at once."""
    if request.method == "GET":
        return _whatsapp_verify(request)
    body = _body(request)
    if isinstance(body, HttpResponse):
        return body
    if not whatsapp_signature_valid(body, request.headers.get(SIGNATURE_HEADER, "")):
        logger.warning("WhatsApp webhook: POST refused, signature missing or wrong (%d bytes)", len(body))
        return HttpResponseForbidden()
    payload_store(source=Source.WHATSAPP, body=_text(body), content_type=request.content_type or "")
    transaction.on_commit(payloads_wake)
    return HttpResponse("OK", content_type="text/plain")


def _whatsapp_verify(request: HttpRequest) -> HttpResponse:
    """hub.mode=subscribe with our verify token: the challenge back as the body. Anything else: 403."""
    expected = settings.WHATSAPP_VERIFY_TOKEN
    offered = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if (
        expected
        and request.GET.get("hub.mode") == "subscribe"
        and hmac.compare_digest(offered.encode("utf-8", "replace"), expected.encode("utf-8"))
        and 0 < len(challenge) <= MAX_CHALLENGE
    ):
        return HttpResponse(challenge, content_type="text/plain")
    return HttpResponseForbidden()


@csrf_exempt
@login_not_required
@require_POST
def sms_inbound(request: HttpRequest) -> HttpResponse:
    """An SMS a resident sent, posted by the gateway (form or JSON) with its token: stored, answered at once
    in the shape the gateway expects ("000" for the form, {"ok": true} for JSON)."""
    body = _body(request)
    if isinstance(body, HttpResponse):
        return body
    shape = sms_shape(request.content_type or "")
    form = sms_form_fields(body) if shape == FORM else {}
    if not sms_token_valid(request, form):
        logger.warning("SMS inbound: POST refused, token missing or wrong (%d bytes)", len(body))
        return HttpResponseForbidden()
    payload_store(source=Source.SMS, body=_text(sms_body_for_storage(body, shape)), content_type=shape)
    transaction.on_commit(payloads_wake)
    return sms_accepted(shape)


_STORED = ("source", "body", "content_type", "status", "attempts", "error", "received_at")


@cache
def _insert_sql() -> str:
    meta = WebhookPayload._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in _STORED)
    placeholders = ", ".join(["%s"] * len(_STORED))
    # Identifiers from the model, quoted; every value is bound.
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608


def payload_store(*, source: str, body: str, content_type: str) -> None:
    """Store a payload as it arrived, pending: one INSERT and nothing else.

    The webhook's hot path, so one plain statement (0.1 ms of CPU) rather than `objects.create()` (0.5 ms:
    the model's defaults, signals and SQL compiled on every call), nor RETURNING an id nobody reads. The
    table and column names come from the model; the other columns are nullable."""
    values = [
        source,
        body,
        content_type[:100],
        WebhookPayload.Status.PENDING.value,
        0,
        "",
        connection.ops.adapt_datetimefield_value(clock.now()),
    ]
    # No `SELECT 1` first: Django checks a persistent connection before the first query of every request
    # (CONN_HEALTH_CHECKS), a second round trip that costs the webhook a tenth of its throughput. Here a
    # connection that died makes this POST fail (the provider sends it again) and Django closes it at the
    # end of the request, as it does without the check.
    connection.health_check_done = True
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(), values)


def _body(request: HttpRequest) -> bytes | HttpResponse:
    """The raw body, or 413 when it is larger than WEBHOOK_MAX_BODY_BYTES (refused before reading when the
    Content-Length says so)."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        return HttpResponse(status=400)
    if int(declared) > limit:
        return HttpResponse(status=413)
    body = request.body
    if len(body) > limit:
        return HttpResponse(status=413)
    return body


def _text(body: bytes | str) -> str:
    """The body as text for the database (PostgreSQL text holds no NUL)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return text.replace("\x00", "\ufffd")
