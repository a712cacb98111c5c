"""Browser journeys of two routes, clicked through the pages as the clerk and the UPTD operator work them
(tests/journeys/test_route_journeys.py walks the same routes through the services).

- Route 1 at the counter: a walk-in number, called, tied to the resident's request by NIK, the card printed
  from the counter's print list and handed over in person.
- Route 3 through the UPTD: submitted by the UPTD operator, verified, printed in a batch, dispatched to the
  UPTD, received there card by card and handed over there.

Set-up goes through the services and factories; the clock is frozen at FROZEN_NOW (Monday 09:00 WIB) by
time-machine, which is process-wide, so the live server's thread reads the same "now". The clock does not
tick: a login session never reaches SESSION_IDLE_TIMEOUT, and the one move of the clock (route 3, the next
working day) is followed by a new login. No NIK may appear in any URL the browser asks for.
"""

from __future__ import annotations

import re

import pytest
from django.db.models import Sum
from playwright.sync_api import Page, expect

from cards import services
from cards.models import CardRequest, Route
from queueing import printing
from queueing.models import BlankMovement, BlankStock, WalkInTicket
from registry.models import Office
from tests.dates import at, working_day_after
from tests.e2e.navigation import nav_go
from tests.e2e.test_resident_journeys import login
from tests.factories import ResidentFactory, open_calendar

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = CardRequest.Status
NUMBER = "6281234567890"
BLANKS = 5


@pytest.fixture
def stocked(ponorogo, supervisor, frozen_today) -> Office:
    """Ponorogo open Monday to Friday (walk-in places today) with five blank cards received today."""
    open_calendar(ponorogo, print_capacity=10, whatsapp=4, walk_in=3, invitation=2)
    printing.blanks_receive(
        office=ponorogo, quantity=BLANKS, reference="SKB-1", received_on=frozen_today, by=supervisor
    )
    return ponorogo


@pytest.fixture
def visited(page: Page) -> list[str]:
    """Every URL the browser asks for (pages, form posts, redirects, assets), and every page it lands on."""
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.on("framenavigated", lambda frame: urls.append(frame.url) if frame == page.main_frame else None)
    return urls


def _ledger(office: Office) -> tuple[int, dict[str, int]]:
    stock = BlankStock.objects.get(office=office).quantity
    lines = dict(BlankMovement.objects.filter(office=office).values_list("kind").annotate(n=Sum("quantity")).order_by())
    return stock, lines


def _print_lines(office: Office) -> int:
    return BlankMovement.objects.filter(office=office, kind=BlankMovement.Kind.PRINT).count()


def _timeline(page: Page):
    """The action line of each timeline entry ("Diterima → Sedang diverifikasi", "Persyaratan dicentang"),
    oldest first."""
    return page.get_by_test_id("timeline").locator("li > div:nth-child(2)")


def _status_is(page: Page, label: str) -> None:
    expect(page.get_by_test_id("status")).to_have_text(label)


def _hand_over(page: Page, *, by: str) -> None:
    """On the request page: tick the old card (rusak), then the in-person handover with fingerprint and
    activation."""
    page.get_by_test_id("tick-ktp-lama").click()
    expect(page.get_by_test_id("tick-ktp-lama")).to_have_count(0)
    expect(page.get_by_test_id("requirements")).to_contain_text(f"KTP-el lama diserahkan ({by},")
    handover = page.locator("details[data-target='handed_over']")
    if handover.get_attribute("open") is None:  # another forward move may be the one shown open
        handover.locator("summary").click()
    handover.get_by_label("Pemilik kartu hadir sendiri; sidik jari cocok dan kartu sudah diaktivasi").check()
    handover.get_by_test_id("to-handed_over").click()
    _status_is(page, "Sudah diserahkan")


def _no_nik_in(urls: list[str], nik: str) -> None:
    assert urls, "no URL was recorded"
    leaked = [url for url in urls if nik in url]
    assert leaked == []


# --- route 1: at the counter -------------------------------------------------------------------------------


def test_route_1_walk_in_called_tied_by_nik_printed_at_the_counter_and_handed_over(
    page: Page, live_server, stocked, clerk, visited
):
    office = stocked
    resident = ResidentFactory(full_name="SUPARMI", whatsapp=NUMBER)
    # Asked by WhatsApp last week, verified and ready to print; today the resident walks in.
    request = services.card_request_create(resident=resident, kind="rusak", by=None, channel="whatsapp")
    assert request.route == Route.COUNTER
    for target, expected in ((S.VERIFYING, S.RECEIVED), (S.READY_TO_PRINT, S.VERIFYING)):
        services.card_request_transition(
            card_request_id=request.pk, to_status=target, by=clerk, expected_status=expected
        )

    login(page, live_server.url, "petugas")
    nav_go(page, "Loket")
    expect(page.get_by_test_id("walk-in-left")).to_have_text("3")
    expect(page.get_by_test_id("counter-stock")).to_have_text(str(BLANKS))

    # A walk-in number, printed for the resident.
    page.get_by_test_id("issue-ticket").click()
    expect(page.get_by_test_id("ticket-number")).to_have_text("A-001")
    page.get_by_role("link", name="Kembali ke loket").click()
    expect(page.get_by_test_id("walk-in-left")).to_have_text("2")
    expect(page.get_by_test_id("queue-next")).to_contain_text("A-001")

    # Called, and tied to the resident's request by NIK.
    page.get_by_test_id("call-next").click()
    expect(page.get_by_role("alert")).to_contain_text("Panggil nomor A-001 ke Loket 1")
    ticket = WalkInTicket.objects.get()
    called = page.get_by_test_id(f"called-t-{ticket.pk}")
    expect(called).to_contain_text("A-001")
    serve = called.get_by_test_id("serve-form")
    serve.get_by_label("NIK penduduk").fill(resident.nik)
    serve.get_by_role("button", name="Layani hari ini").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Nomor A-001: {request.number} dilayani hari ini")
    expect(page.get_by_test_id(f"called-t-{ticket.pk}")).to_contain_text("SUPARMI")
    expect(page.get_by_test_id("serve-form")).to_have_count(0)

    # Printed from the counter's print list while the resident waits: one blank.
    print_row = page.get_by_test_id("counter-print").locator("tbody tr", has_text="SUPARMI")
    expect(print_row).to_contain_text(resident.masked_nik)
    expect(print_row).to_contain_text("Terjadwal")
    print_row.get_by_test_id("counter-print-button").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Kartu {request.number} dicetak")
    expect(page.get_by_test_id("counter-stock")).to_have_text(str(BLANKS - 1))
    print_row = page.get_by_test_id("counter-print").locator("tbody tr", has_text="SUPARMI")
    expect(print_row).to_contain_text("Sudah dicetak")
    expect(print_row.get_by_test_id("counter-print-button")).to_have_count(0)

    # Handed over in person, from the request page.
    print_row.get_by_role("link", name="Serahkan").click()
    expect(page).to_have_url(f"{live_server.url}/permohonan/{request.pk}/")
    _status_is(page, "Sudah dicetak")
    expect(page.get_by_test_id("route")).to_have_text("Cetak di loket, ditunggu")
    _hand_over(page, by="petugas")
    expect(_timeline(page)).to_have_text([
        "Permohonan dibuat",
        "Diterima → Sedang diverifikasi",
        "Sedang diverifikasi → Siap cetak",
        "Nomor antrean datang langsung",
        "Siap cetak → Terjadwal",
        "Terjadwal → Sudah dicetak",
        "Persyaratan dicentang",
        "Sudah dicetak → Sudah diserahkan",
    ])  # fmt: skip
    expect(page.get_by_test_id("timeline")).to_contain_text("Dicetak di loket, nomor antrean")
    expect(page.get_by_test_id("notification").last).to_contain_text("sudah diserahkan")

    # Back at the counter: the call ends served, and the day's list shows it.
    nav_go(page, "Loket")
    expect(page).to_have_url(f"{live_server.url}/loket/")
    expect(page.get_by_test_id("day-list")).to_be_visible()  # parsed after the called entries above it
    called = page.get_by_test_id(f"called-t-{ticket.pk}")
    if called.count():  # printing may already have ended the call (served), depending on the counter's rule
        called.get_by_role("button", name="Selesai dilayani").click()
        expect(page.get_by_role("alert")).to_contain_text("A-001: Selesai dilayani")
    day_row = page.get_by_test_id("day-list").locator("tbody tr", has_text="A-001")
    expect(day_row).to_have_attribute("data-state", "served")
    expect(day_row).to_contain_text("SUPARMI")
    expect(day_row).to_contain_text(request.number)
    expect(day_row).to_contain_text("Selesai dilayani")
    expect(page.get_by_test_id("count-served")).to_have_text("Selesai dilayani: 1")
    expect(page.get_by_test_id("count-called")).to_have_text("Dipanggil: 0")
    expect(page.get_by_test_id("counter-print")).not_to_contain_text("SUPARMI")  # handed over: off the list

    request.refresh_from_db()
    assert request.status == S.HANDED_OVER
    assert (request.handover.method, request.handover.fingerprint_verified, request.handover.activated) == (
        "in_person", True, True,
    )  # fmt: skip
    assert _ledger(office) == (BLANKS - 1, {"receipt": BLANKS, "print": -1})
    assert _print_lines(office) == 1
    _no_nik_in(visited, resident.nik)


# --- route 3: through the UPTD -----------------------------------------------------------------------------


def test_route_3_uptd_submits_clerk_prints_in_a_batch_dispatches_and_the_uptd_hands_over(
    page: Page, live_server, stocked, clerk, uptd_a, resident_a, time_machine, frozen_today, visited
):
    office = stocked
    resident_a.whatsapp = NUMBER
    resident_a.save(update_fields=["whatsapp"])
    uptd_name = uptd_a.office.name

    # The UPTD operator of Slahung submits for an elderly resident.
    login(page, live_server.url, "uptd.slahung")
    page.goto(f"{live_server.url}/permohonan/baru/")
    page.get_by_label("NIK penduduk").fill(resident_a.nik)
    page.get_by_role("button", name="Cari").click()
    expect(page.get_by_test_id("found-resident")).to_contain_text("SITI AMINAH")
    page.get_by_role("radio", name="Rusak").check()
    page.get_by_label("Catatan").fill("lansia")
    page.get_by_test_id("submit-request").click()
    _status_is(page, "Diterima")
    request = CardRequest.objects.get(resident=resident_a)
    expect(page).to_have_url(f"{live_server.url}/permohonan/{request.pk}/")
    expect(page.get_by_test_id("route")).to_have_text("Lewat UPTD kecamatan")
    expect(page.get_by_test_id("summary")).to_contain_text(uptd_name)
    expect(page.get_by_test_id("note")).to_have_text("lansia")

    # The clerk verifies it and marks it ready to print.
    page.context.clear_cookies()
    login(page, live_server.url, "petugas")
    nav_go(page, "Permohonan")
    page.locator("#request-table tbody tr", has_text="SITI AMINAH").get_by_role("link", name=request.number).click()
    expect(page.get_by_test_id("route")).to_have_text("Lewat UPTD kecamatan")
    page.get_by_test_id("to-verifying").click()
    _status_is(page, "Sedang diverifikasi")
    page.get_by_test_id("to-ready_to_print").click()
    _status_is(page, "Siap cetak")
    # A batch route is never given an appointment.
    expect(page.get_by_test_id("booking")).to_contain_text("tidak memakai jadwal kedatangan")
    expect(page.get_by_test_id("book-form")).to_have_count(0)

    # A print batch for today, on the blank-card page; its page lists the card; printed.
    nav_go(page, "Blangko & cetak")
    expect(page.get_by_test_id("stock")).to_have_text(str(BLANKS))
    batch_form = page.get_by_test_id("batch-form")
    expect(batch_form.get_by_label("Tanggal cetak")).to_have_value(frozen_today.strftime("%d-%m-%Y"))
    batch_form.get_by_role("button", name="Buat batch cetak").click()
    expect(page.get_by_role("alert")).to_contain_text("berisi 1 kartu")
    card_row = page.get_by_test_id("batch-cards").locator("tbody tr", has_text="SITI AMINAH")
    expect(card_row).to_contain_text(resident_a.masked_nik)
    expect(card_row).to_contain_text("Lewat UPTD kecamatan")
    expect(card_row).to_contain_text(uptd_name)
    expect(page.get_by_test_id("batch-status")).to_have_text("Daftar cetak")
    page.get_by_test_id("batch-print").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("Sudah dicetak")
    expect(card_row).to_contain_text("Sudah dicetak")
    assert _ledger(office) == (BLANKS - 1, {"receipt": BLANKS, "print": -1})
    card_row.get_by_role("link", name=request.number).click()
    _status_is(page, "Sudah dicetak")
    # Not handed over nor stored at the kabupaten office: dispatch to the UPTD moves it on.
    expect(page.locator("details[data-target='handed_over'], details[data-target='ready_for_pickup']")).to_have_count(0)

    # Dispatched to UPTD Slahung.
    nav_go(page, "Kiriman UPTD")
    dispatch_form = page.get_by_test_id("dispatch-form").filter(has_text=uptd_name)
    expect(dispatch_form).to_contain_text(request.number)
    dispatch_form.get_by_role("button", name="Kirim ke UPTD").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"Kiriman \S+ dibuat"))
    items = page.get_by_test_id("dispatch-items")
    expect(items).to_contain_text("Dikirim ke UPTD")
    expect(page.get_by_test_id(f"receive-{request.pk}")).to_have_count(0)  # only the UPTD confirms receipt
    items.get_by_role("link", name=request.number).click()
    _status_is(page, "Dikirim ke UPTD")
    expect(page.get_by_test_id("dispatch-item")).to_contain_text("belum dikonfirmasi diterima di UPTD")

    # The next working day at the UPTD: the card is received, then handed over there.
    arrival = working_day_after(frozen_today)
    time_machine.move_to(at(arrival, 9), tick=False)
    page.context.clear_cookies()
    login(page, live_server.url, "uptd.slahung")
    nav_go(page, "Kiriman UPTD")
    expect(page).to_have_url(f"{live_server.url}/kiriman/")
    batches = page.get_by_test_id("batches")
    expect(batches.locator("tbody tr").first).to_contain_text(uptd_name)
    batches.locator("tbody tr").first.get_by_role("link").first.click()
    page.get_by_test_id(f"receive-{request.pk}").click()
    expect(page.get_by_role("alert")).to_contain_text(f"{request.number} diterima")
    expect(page.get_by_test_id("dispatch-items")).to_contain_text("uptd.slahung")
    page.get_by_test_id("dispatch-items").get_by_role("link", name=request.number).click()
    _status_is(page, "Dikirim ke UPTD")
    expect(page.get_by_test_id("route")).to_have_text("Lewat UPTD kecamatan")
    expect(page.get_by_test_id("dispatch-item")).to_contain_text(f"diterima di UPTD {arrival:%d-%m-%Y} 09:00")
    _hand_over(page, by="uptd.slahung")

    expect(_timeline(page)).to_have_text([
        "Permohonan dibuat",
        "Diterima → Sedang diverifikasi",
        "Sedang diverifikasi → Siap cetak",
        "Siap cetak → Sudah dicetak",
        "Sudah dicetak → Dikirim ke UPTD",
        "Diterima di UPTD",
        "Persyaratan dicentang",
        "Dikirim ke UPTD → Sudah diserahkan",
    ])  # fmt: skip
    notifications = page.get_by_test_id("notification")
    expect(notifications).to_have_count(4)
    for text in notifications.all_inner_texts():
        assert "Disdukcapil Kabupaten" not in text
    expect(notifications.filter(has_text="sudah tiba di")).to_contain_text(uptd_name)
    expect(notifications.last).to_contain_text("sudah diserahkan")

    request.refresh_from_db()
    assert (request.status, request.handover.office, request.handover.method) == (
        S.HANDED_OVER, uptd_a.office, "in_person",
    )  # fmt: skip
    assert _ledger(office) == (BLANKS - 1, {"receipt": BLANKS, "print": -1})
    assert _print_lines(office) == 1
    _no_nik_in(visited, resident_a.nik)
