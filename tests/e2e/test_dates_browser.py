"""Browser tests of the one date input (registry/widgets.py DateInput + static/js/datepicker.js): a clerk in an
English browser types a day-first date and gets that day, not the month-first reading; the calendar popup
shows Indonesian month names on an Indonesian page and English ones on an English page; a refused date comes
back beside its field, as typed."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from cards.models import CardRequest
from queueing.models import Booking
from tests.e2e.navigation import user_menu_open
from tests.e2e.test_resident_journeys import login
from tests.factories import CardRequestFactory, open_calendar

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INDONESIAN_DAYS = ["Sn", "Sl", "Rb", "Km", "Jm", "Sb", "Mg"]
INDONESIAN_MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
                     "Oktober", "November", "Desember"]  # fmt: skip
ENGLISH_DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]


def ambiguous_day_after(today: date) -> date:
    """The first weekday after `today` whose day-first and month-first readings are two different real days
    (07-09 is 7 September, or 9 July when read month first): a wrong reading cannot pass unnoticed."""
    day = today + timedelta(days=1)
    while day.weekday() >= 5 or day.day > 12 or day.day == day.month:
        day += timedelta(days=1)
    return day


@pytest.fixture
def ready_request(resident_a, clerk) -> CardRequest:
    open_calendar(clerk.office)
    return CardRequestFactory(resident=resident_a, ready=True, counter=True)


@pytest.fixture(params=["en-US", "id-ID"])
def browser_page(request, browser: Browser):
    """A page of a browser whose own language is en-US (dates 9/7/2027 month first) or id-ID."""
    context = browser.new_context(locale=request.param, viewport={"width": 1366, "height": 768})
    yield context.new_page()
    context.close()


def test_a_clerk_types_a_day_first_date_and_books_that_day_whatever_the_browsers_language(
    browser_page: Page, live_server, clerk, ready_request, frozen_today
):
    page = browser_page
    day = ambiguous_day_after(frozen_today)
    typed = day.strftime("%d-%m-%Y")
    login(page, live_server.url, "petugas")
    page.goto(f"{live_server.url}/permohonan/{ready_request.pk}/")

    wish = page.locator("#id_wish")
    expect(wish).to_have_attribute("type", "text")  # never the browser's own locale-bound date input
    expect(wish).to_have_attribute("placeholder", "hh-bb-tttt")
    wish.click()
    wish.press_sequentially(typed)
    page.keyboard.press("Tab")
    expect(wish).to_have_value(typed)  # what the clerk typed stays
    # The calendar read it day first: opened again, it shows that month (in Indonesian) with that day chosen.
    wish.click()
    picker = page.locator(".datepicker.active")
    expect(picker.locator(".view-switch")).to_have_text(f"{INDONESIAN_MONTHS[day.month - 1]} {day.year}")
    expect(picker.locator(".datepicker-cell.selected")).to_have_text(str(day.day))
    page.get_by_test_id("book").click()

    expect(page.get_by_test_id("booking-day")).to_contain_text(typed)
    booking = Booking.objects.get(card_request=ready_request)
    assert booking.date == day


def test_the_calendar_speaks_the_pages_language(browser_page: Page, live_server, clerk, ready_request, frozen_today):
    page = browser_page
    day = ambiguous_day_after(frozen_today)
    login(page, live_server.url, "petugas")
    page.goto(f"{live_server.url}/permohonan/{ready_request.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "id")  # the app's language, not the browser's

    page.locator("#id_wish").fill(day.strftime("%d-%m-%Y"))
    page.keyboard.press("Tab")
    page.locator("#id_wish").click()
    picker = page.locator(".datepicker.active")
    expect(picker).to_be_visible()
    assert picker.locator(".days-of-week .dow").all_inner_texts() == INDONESIAN_DAYS
    # Day first: 07-09-2027 opens September 2027 (month first it would be July).
    expect(picker.locator(".view-switch")).to_have_text(f"{INDONESIAN_MONTHS[day.month - 1]} {day.year}")
    picker.locator(".view-switch").click()  # the months of the year
    expect(picker.locator(".datepicker-cell.month").nth(4)).to_have_text("Mei")
    expect(picker.locator(".datepicker-cell.month").nth(7)).to_have_text("Agt")
    page.keyboard.press("Escape")

    user_menu_open(page).get_by_role("button", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("#id_wish").fill(day.strftime("%d-%m-%Y"))
    page.keyboard.press("Tab")
    page.locator("#id_wish").click()
    picker = page.locator(".datepicker.active")
    expect(picker).to_be_visible()
    assert picker.locator(".days-of-week .dow").all_inner_texts() == ENGLISH_DAYS
    expect(picker.locator(".view-switch")).to_have_text(f"{day:%B} {day.year}")
    picker.locator(".view-switch").click()
    expect(picker.locator(".datepicker-cell.month").nth(7)).to_have_text("Aug")


def test_a_date_that_does_not_exist_comes_back_beside_its_field_as_typed(
    page: Page, live_server, clerk, ready_request, frozen_today
):
    login(page, live_server.url, "petugas")
    page.goto(f"{live_server.url}/permohonan/{ready_request.pk}/")
    impossible = f"31-02-{frozen_today.year + 1}"

    page.locator("#id_wish").fill(impossible)
    page.get_by_test_id("book").click()

    wish = page.locator("#id_wish")
    expect(wish).to_have_value(impossible)  # neither replaced by the calendar nor lost
    expect(wish).to_have_class(re.compile(r"\bis-invalid\b"))
    error = page.locator("#id_wish_error")
    expect(error).to_have_text("Tulis tanggal sebagai hari-bulan-tahun, misalnya 05-01-2027.")
    # Beside the field: in the field's own block, right after the input, and the input points at it.
    assert page.evaluate(
        """() => {
            const input = document.getElementById("id_wish");
            const error = document.getElementById("id_wish_error");
            return input.closest("[data-field]") === error.closest("[data-field]")
                && Boolean(input.compareDocumentPosition(error) & Node.DOCUMENT_POSITION_FOLLOWING);
        }"""
    )
    expect(wish).to_have_attribute("aria-describedby", "id_wish_error")
    assert not Booking.objects.filter(card_request=ready_request).exists()
