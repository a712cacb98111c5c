"""Browser: a supervisor changes next Monday's walk-in quota in the app and the calendar shows the new figure;
the day's list shows the expected residents with masked NIKs and prints without the navigation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cards.models import CardRequest
from queueing.models import QuotaChange, ServiceDay
from tests.dates import MONDAY, next_weekday
from tests.e2e.test_resident_journeys import login
from tests.factories import CardRequestFactory, ResidentFactory, appointment_for, open_calendar

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _walk_in_quota(page: Page, day) -> str:
    cell = page.get_by_test_id(f"day-{day.isoformat()}")
    return cell.locator("[data-channel=walk_in] [data-testid=quota]").inner_text()


def test_supervisor_changes_next_mondays_walk_in_quota_and_prints_the_day_list(
    page: Page, live_server, supervisor, frozen_today, screenshot
):
    office = supervisor.office
    open_calendar(office, print_capacity=300, whatsapp=200, walk_in=100)
    monday = next_weekday(frozen_today, MONDAY, after=True)
    residents = [ResidentFactory(full_name=name) for name in ("SRI WAHYUNI", "AGUS PRASETYO")]
    for resident in residents:
        appointment_for(CardRequestFactory(ready=True, resident=resident), day=monday)
    assert CardRequest.objects.filter(status="scheduled").count() == 2

    login(page, live_server.url, "kabid")
    page.goto(f"{live_server.url}/kalender/")
    expect(page.get_by_test_id("calendar")).to_be_visible()
    assert _walk_in_quota(page, monday) == "100"
    screenshot("coming-days")

    page.get_by_test_id("quota-settings-link").click()
    pick = page.get_by_test_id("day-pick")
    pick.locator("input[name=day]").fill(monday.strftime("%d-%m-%Y"))
    pick.get_by_role("button", name="Buka").click()
    form = page.get_by_test_id("day-quota-form")
    expect(form.locator("input[name=walk_in]")).to_have_value("100")
    form.locator("input[name=walk_in]").fill("120")
    form.get_by_role("button", name="Simpan kuota tanggal ini").click()
    expect(page.get_by_role("alert").first).to_contain_text(f"Kuota {monday.strftime('%d-%m-%Y')} disimpan")
    expect(page.get_by_test_id("history-row").first).to_contain_text("Kuota datang langsung")
    assert ServiceDay.objects.get(office=office, date=monday).cap_walk_in == 120
    assert QuotaChange.objects.get().new_value == "120"
    screenshot("quota-settings")

    page.goto(f"{live_server.url}/kalender/")
    assert _walk_in_quota(page, monday) == "120"

    page.get_by_test_id(f"day-{monday.isoformat()}").get_by_test_id("day-link").click()
    rows = page.get_by_test_id("expected-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("expected")).to_contain_text("SRI WAHYUNI")
    expect(page.get_by_test_id("expected")).to_contain_text("AGUS PRASETYO")
    for resident in residents:
        expect(page.get_by_test_id("expected")).to_contain_text(resident.masked_nik)
        expect(page.get_by_test_id("expected")).not_to_contain_text(resident.nik)
    expect(page.get_by_test_id("total-all")).to_have_text("2")
    nav = page.locator("nav.app-navbar")
    expect(nav).to_be_visible()
    screenshot("day-expected")

    page.emulate_media(media="print")
    expect(nav).to_be_hidden()
    expect(page.get_by_test_id("print")).to_be_hidden()
    expect(page.get_by_test_id("expected")).to_be_visible()
    expect(page.get_by_test_id("day-heading")).to_contain_text(office.name)
    expect(page.get_by_test_id("day-heading")).to_contain_text(monday.strftime("%d-%m-%Y"))
