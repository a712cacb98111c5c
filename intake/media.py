"""Residents' photos, documents and voice notes, downloaded from the WhatsApp Graph API as soon as they arrive:
a media id from a webhook expires after 7 days and the download URL after about 5 minutes, so a KK scan is
fetched by a Celery task at once, not when a clerk opens the thread.

The download is two steps, both with the Bearer token: `GET {graph}/{version}/{media_id}` gives `url`, then
`GET url` gives the bytes (newer webhooks carry the url already: it is tried first). One shared httpx.Client
per process. A download larger than its limit is cut off and refused.

What is kept is checked like an upload (cards.uploads.attachment_clean): images are re-encoded without
metadata, PDFs are rewritten by pypdf, anything that only pretends to be one is refused. A voice note is kept
as sent when it really is audio and at most INBOUND_AUDIO_MAX_MB. The file gets a random name under
MEDIA_ROOT and is never served by URL (MEDIA_ROOT is private).

A refusal is final: `media_error` says why, for the clerk, and the sender is told (template
"reply_media_refused"). A temporary failure (network, 429, 5xx, a token
the Graph API refuses) is written as `RETRYING + reason` and tried again by the task and the sweep.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import urlsplit

import filetype
import httpx
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from cards.uploads import AttachmentRefused, attachment_clean, attachment_max_bytes
from intake.models import InboundMessage
from intake.payloads import media_url
from messaging.messages import reply_write
from registry import clock
from registry.uploads import MB

FETCHED_KINDS = ("image", "document", "audio")
MEDIA_ID_VALIDITY = timedelta(days=7)
RETRYING = "Dicoba lagi: "
CHUNK = 64 * 1024
# Where a media download URL may point: the Bearer token goes with the request, so only to Meta's own hosts
# (the Graph API's, and the media CDN: lookaside.fbsbx.com), over HTTPS. A URL elsewhere is never fetched.
MEDIA_HOST_SUFFIXES = (".fbsbx.com", ".facebook.com", ".whatsapp.net", ".fbcdn.net")

_client: httpx.Client | None = None
_client_lock = threading.Lock()


class MediaTemporaryError(Exception):
    """The download failed in a way that may pass (network, rate limit, server error, token)."""


class MediaRefused(Exception):
    """The media will not be kept (gone, too large, not what it claims to be); the message says why."""


class MediaGone(MediaRefused):
    """The Graph API answered 4xx: the id or the URL is no longer valid."""


def graph_client() -> httpx.Client:
    """The process's one Graph API client (connections and TLS sessions are reused)."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0), follow_redirects=True)
    return _client


def inbound_media_fetch(message_id: int) -> str:
    """Download, check and attach one message's media. Idempotent: a message with its file, without media,
    or refused before is left alone. Raises MediaTemporaryError (after writing it on the message) when a
    later try may work; returns what happened otherwise."""
    message = (
        InboundMessage.objects.select_related("payload", "contact", "office", "office_number")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return "missing"
    if message.media_file:
        return "done"
    if not message.media_id or message.kind not in FETCHED_KINDS:
        return "no media"
    if message.media_error and not message.media_error.startswith(RETRYING):
        return "refused"
    if message.received_at < clock.now() - MEDIA_ID_VALIDITY:
        _media_error(message, _("Berkas tidak dapat diunduh lagi: ID media WhatsApp sudah kedaluwarsa (7 hari)."))
        return "expired"
    try:
        data = _download(message)
        content, content_type = _checked(message, data)
    except MediaTemporaryError as exc:
        _media_error(message, f"{RETRYING}{exc}")
        raise
    except MediaRefused as exc:
        _refuse(message, str(exc))
        return "refused"
    return _store(message, content, content_type)


def _media_error(message: InboundMessage, text: str) -> None:
    InboundMessage.objects.filter(pk=message.pk, media_file="").update(media_error=text[:300])


def _refuse(message: InboundMessage, reason: str) -> None:
    """Record the refusal (once) and tell the sender why, from the number they wrote to, so they can send
    the document again as a photo or a PDF."""
    with transaction.atomic():
        refused = (
            InboundMessage.objects.filter(pk=message.pk, media_file="")
            .filter(Q(media_error="") | Q(media_error__startswith=RETRYING))
            .update(media_error=reason[:300])
        )
        if refused:
            reply_write(
                contact=message.contact,
                office_number=message.office_number,
                office=message.office,
                template="reply_media_refused",
                reason=reason,
            )


def _limit(message: InboundMessage) -> int:
    if message.kind == InboundMessage.Kind.AUDIO:
        return settings.INBOUND_AUDIO_MAX_MB * MB
    return attachment_max_bytes()


def _too_large(limit: int) -> MediaRefused:
    return MediaRefused(_("Berkas terlalu besar, maksimal %(mb)d MB.") % {"mb": max(limit // MB, 1)})


def _headers() -> dict[str, str]:
    token = settings.WHATSAPP_ACCESS_TOKEN
    if not token:
        raise MediaTemporaryError(_("WHATSAPP_ACCESS_TOKEN belum diatur."))
    return {"Authorization": f"Bearer {token}"}


def _raise_for(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    if status in (401, 403):
        raise MediaTemporaryError(_("Graph API menolak akses (HTTP %(status)d); periksa token.") % {"status": status})
    if status == 429 or status >= 500:
        raise MediaTemporaryError(_("Graph API sedang tidak tersedia (HTTP %(status)d).") % {"status": status})
    raise MediaGone(_("Berkas tidak ada lagi di WhatsApp (HTTP %(status)d).") % {"status": status})


def media_url_trusted(url: str) -> bool:
    """Whether the token may be sent to `url`: HTTPS, on the Graph API's host or one of Meta's media hosts."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        graph_host = (urlsplit(settings.WHATSAPP_GRAPH_URL).hostname or "").lower()
    except ValueError:
        return False
    if parts.scheme != "https" or not host or parts.username or parts.password:
        return False
    return host == graph_host or host.endswith(MEDIA_HOST_SUFFIXES)


def _download(message: InboundMessage) -> bytes:
    headers = _headers()
    limit = _limit(message)
    ready = media_url(message.payload.body, message.provider_message_id) if message.payload_id else ""
    if ready and media_url_trusted(ready):
        try:
            return _bytes(ready, headers=headers, limit=limit)
        except (MediaGone, MediaTemporaryError):
            pass  # the webhook's URL lives only minutes: ask the Graph API for a fresh one
    url = f"{settings.WHATSAPP_GRAPH_URL.rstrip('/')}/{settings.WHATSAPP_GRAPH_VERSION}/{message.media_id}"
    try:
        response = graph_client().get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise MediaTemporaryError(_("Graph API tidak terjangkau (%(error)s).") % {"error": type(exc).__name__}) from exc
    _raise_for(response)
    try:
        described = response.json()
    except ValueError as exc:
        raise MediaTemporaryError(_("Jawaban Graph API tidak terbaca.")) from exc
    download = described.get("url") if isinstance(described, dict) else None
    if not isinstance(download, str) or not download.startswith("https://"):
        raise MediaTemporaryError(_("Jawaban Graph API tanpa alamat unduhan."))
    if not media_url_trusted(download):
        raise MediaTemporaryError(_("Alamat unduhan dari Graph API bukan milik WhatsApp; tidak diunduh."))
    size = described.get("file_size")
    if isinstance(size, int) and size > limit:
        raise _too_large(limit)
    return _bytes(download, headers=headers, limit=limit)


def _bytes(url: str, *, headers: dict[str, str], limit: int) -> bytes:
    """The body at `url`, cut off (and refused) past `limit` bytes."""
    try:
        with graph_client().stream("GET", url, headers=headers) as response:
            _raise_for(response)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(limit)
            chunks: list[bytes] = []
            received = 0
            for chunk in response.iter_bytes(CHUNK):
                received += len(chunk)
                if received > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise MediaTemporaryError(_("Unduhan terputus (%(error)s).") % {"error": type(exc).__name__}) from exc
    data = b"".join(chunks)
    if not data:
        raise MediaRefused(_("Berkas kosong."))
    return data


def _checked(message: InboundMessage, data: bytes) -> tuple[bytes, str]:
    """The bytes to keep and their type: images and PDFs exactly as uploads are kept; audio as sent."""
    if message.kind == InboundMessage.Kind.AUDIO:
        kind = filetype.guess(data[:8192])
        if kind is None or not kind.mime.startswith("audio/"):
            raise MediaRefused(_("Isi berkas bukan rekaman suara (jenis berkas tidak cocok)."))
        return data, kind.mime
    try:
        cleaned = attachment_clean(SimpleUploadedFile("whatsapp-media", data))
    except AttachmentRefused as exc:
        raise MediaRefused(str(exc)) from exc
    return cleaned.content, cleaned.content_type


def _store(message: InboundMessage, content: bytes, content_type: str) -> str:
    """Save under a random name; when another worker attached a file meanwhile, this one is deleted."""
    message.media_file.save("whatsapp-media", ContentFile(content), save=False)
    name = message.media_file.name
    attached = InboundMessage.objects.filter(pk=message.pk, media_file="").update(
        media_file=name, media_type=content_type, media_error=""
    )
    if not attached:
        message.media_file.storage.delete(name)
        return "done"
    return "stored"
