"""Browser journey at the counter: walk-in numbers up to the cap, then the refusal; an invited resident
checked in by the token of the invitation's QR."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from cards import services as card_services
from cards.models import CardRequest
from queueing import appointments, invitations
from tests.e2e.navigation import nav_go
from tests.e2e.test_resident_journeys import login
from tests.factories import open_calendar

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_counter_issues_numbers_up_to_the_cap_and_checks_in_by_token(
    page: Page, live_server, clerk, resident_a, screenshot, frozen_today
):
    office = clerk.office
    today = frozen_today  # a Monday, 09:00 WIB: the office is open
    open_calendar(office, print_capacity=10, whatsapp=5, walk_in=2, invitation=3)
    card_request = card_services.card_request_create(resident=resident_a, kind="rusak", by=clerk, channel="whatsapp")
    CardRequest.objects.filter(pk=card_request.pk).update(status="ready_to_print")
    # Invited last Wednesday for today, three working days ahead (the daily job's work).
    (booking,) = invitations.invitations_send(office=office, day=today, by=clerk, today=today - timedelta(days=5))
    assert booking.channel == "invitation"
    token = appointments.booking_token(booking)

    login(page, live_server.url, "petugas")
    nav_go(page, "Loket")
    expect(page.get_by_test_id("walk-in-left")).to_have_text("2")
    for label in ("A-001", "A-002"):
        page.get_by_test_id("issue-ticket").click()
        expect(page.get_by_test_id("ticket-number")).to_have_text(label)
        expect(page.locator("[data-testid=ticket] svg")).to_be_visible()
        page.go_back()
        page.reload()
    expect(page.get_by_test_id("walk-in-left")).to_have_text("0")
    page.get_by_test_id("issue-ticket").click()
    expect(page.get_by_role("alert")).to_contain_text("sudah habis (2)")

    page.get_by_test_id("call-next").click()
    expect(page.get_by_role("alert")).to_contain_text("Panggil nomor A-001")

    page.get_by_label("Pindai QR undangan/jadwal, atau ketik NIK").fill(token)
    page.get_by_test_id("check-in-submit").click()
    expect(page.get_by_role("alert")).to_contain_text(f"SITI AMINAH hadir: nomor antrean {booking.number}")
    screenshot("counter")
    page.get_by_label("Pindai QR undangan/jadwal, atau ketik NIK").fill(token)
    page.get_by_test_id("check-in-submit").click()
    expect(page.get_by_role("alert")).to_contain_text("Sudah tercatat hadir pada")
