"""The inbox in a browser (issue 13, "A browser test: a clerk answers an inbox thread and attaches its photo to the
request"): a resident whose hilang request lacks the police letter sends its photo by WhatsApp; the clerk opens
the inbox, sees the thread waiting, claims it, answers it, attaches the photo to the request in one click, and
the request page shows the attachment.

Set-up goes through the services and the test helpers of tests/intake; the clock is frozen at FROZEN_NOW
(time-machine is process-wide, so the live server reads the same "now")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from cards import services
from cards.models import Attachment
from messaging.models import Notification
from tests.documents import JPEG
from tests.e2e.navigation import nav_go
from tests.e2e.test_resident_journeys import login
from tests.factories import ResidentFactory
from tests.intake.inbox_rows import arrive, office_number, sender

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clerk_claims_answers_and_attaches_the_photo_to_the_request(
    page: Page, live_server, settings, tmp_path, frozen_now, ponorogo, clerk, screenshot
):
    settings.MEDIA_ROOT = tmp_path
    resident = ResidentFactory(full_name="SUPARMI", whatsapp="6281234567890")
    request = services.card_request_create(resident=resident, kind="hilang", by=None, channel="whatsapp")
    contact = sender(at=frozen_now - timedelta(minutes=42), phone=resident.whatsapp, resident=resident, name="Suparmi")
    number = office_number(ponorogo)
    arrive(number, contact, at=frozen_now - timedelta(minutes=42), text="Ini surat kehilangan dari Polsek, Pak.")
    photo = arrive(number, contact, at=frozen_now - timedelta(minutes=41), kind="image", media=JPEG)

    login(page, live_server.url, "petugas")
    nav_go(page, "Kotak pesan")
    expect(page.get_by_test_id("oldest-waiting")).to_contain_text("42 menit")
    row = page.get_by_test_id("thread-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("SUPARMI")
    screenshot("inbox_list")

    row.get_by_test_id("open-thread").click()
    expect(page.get_by_test_id("media-link")).to_be_visible()
    page.get_by_test_id("claim-thread").click()
    expect(page.get_by_test_id("claimed-by")).to_contain_text("Petugas")

    expect(page.get_by_test_id("answer-mode")).to_contain_text("Dalam jendela 24 jam WhatsApp")
    page.get_by_label("Jawaban").fill("Terima kasih, Bu. Suratnya kami lampirkan ke permohonan.")
    page.get_by_test_id("send-answer").click()
    expect(page.get_by_test_id("thread-waiting")).to_have_text("Sudah dijawab")
    expect(page.get_by_test_id("message-out-text").last).to_contain_text("Suratnya kami lampirkan")

    page.get_by_test_id(f"attach-{request.pk}").click()
    attached = page.get_by_test_id("attached")
    expect(attached).to_contain_text(f"Dilampirkan ke permohonan {request.number}")
    expect(page.get_by_test_id(f"attach-{request.pk}")).to_have_count(0)
    screenshot("inbox_thread")

    attached.get_by_role("link", name=request.number).click()
    expect(page.get_by_test_id("requirements")).to_contain_text(f"foto.jpg (pesan #{photo.pk})")
    attachment = Attachment.objects.get(card_request=request)
    assert attachment.requirement.code == "surat-kehilangan"
    reply = Notification.objects.get(is_reply=True)
    assert (reply.contact, reply.sender_number) == (contact, number)
