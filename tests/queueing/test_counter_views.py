"""The counter's and the booking panel's pages: anonymous, out of scope, wrong method and the happy path of each;
NIKs typed at the counter are audited and never echoed; the day list's query budget does not grow with its
rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cards.models import CardRequest
from queueing import appointments, counter, invitations
from queueing.models import Booking, CallStatus, ServiceDay, WalkInTicket
from registry.models import AccessLog, Office, Region
from tests.dates import THURSDAY, at, next_weekday
from tests.factories import CardRequestFactory, ResidentFactory, open_calendar

S = CardRequest.Status


@pytest.fixture
def office(clerk, frozen_now):
    open_calendar(clerk.office, print_capacity=10, whatsapp=4, walk_in=3, invitation=2)
    return clerk.office


def _texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _other_office_ticket():
    """A walk-in number of another kabupaten's office."""
    Region.objects.get_or_create(
        code="35.01", defaults={"level": 2, "kind": "kabupaten", "parent_id": "35", "name": "PACITAN", "decree": "-"}
    )
    foreign = Office.objects.create(kind="disdukcapil", region_id="35.01", name="Disdukcapil Pacitan")
    open_calendar(foreign, print_capacity=5, walk_in=5)
    return counter.ticket_issue(office=foreign, by=None)


POSTS = [
    "/loket/tiket/",
    "/loket/panggil/",
    "/loket/panggilan/selesai/",
    "/loket/hadir/",
    "/loket/hadir/hari-ini/",
    "/loket/undangan/",
    "/loket/tutup/",
]
GETS = ["/loket/", "/loket/undangan/daftar/", "/loket/undangan/surat.pdf"]


@pytest.mark.parametrize("path", POSTS + GETS)
def test_anonymous_is_sent_to_log_in(client, office, path):
    response = client.post(path) if path in POSTS else client.get(path)
    assert response.status_code == 302 and "/masuk/" in response["Location"]


@pytest.mark.parametrize("path", POSTS + GETS)
def test_a_uptd_operator_has_no_counter(client, uptd_a, office, path):
    client.force_login(uptd_a)
    response = client.post(path) if path in POSTS else client.get(path)
    assert response.status_code == 403


@pytest.mark.parametrize("path", POSTS)
def test_posts_refuse_get(client, clerk, office, path):
    client.force_login(clerk)
    assert client.get(path).status_code == 405


@pytest.mark.parametrize("path", GETS)
def test_pages_refuse_delete(client, clerk, office, path):
    client.force_login(clerk)
    assert client.delete(path).status_code == 405


def test_another_offices_ticket_is_not_found(client, clerk, office):
    foreign = _other_office_ticket()
    client.force_login(clerk)
    assert client.post(f"/loket/tiket/{foreign.pk}/layani/", {"nik": ""}).status_code == 404
    assert client.get(f"/loket/tiket/{foreign.pk}/").status_code == 404
    assert client.get(f"/loket/tiket/{foreign.pk}/layani/").status_code == 405


def test_the_counter_page_lists_the_day_with_masked_niks_in_a_fixed_number_of_queries(
    client, clerk, office, frozen_today, time_machine
):
    client.force_login(clerk)

    def add_rows(n):
        for _ in range(n):
            card_request = CardRequestFactory(ready=True)
            ticket = counter.ticket_issue(office=office, by=clerk)
            counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=card_request.pk, office=office, by=clerk)

    add_rows(1)
    client.get("/loket/")  # warm the session and the day row
    with CaptureQueriesContext(connection) as few:
        page = client.get("/loket/")
    add_rows(2)
    with CaptureQueriesContext(connection) as more:
        page = client.get("/loket/")
    assert page.status_code == 200
    assert len(more) == len(few)
    body = page.content.decode()
    resident = CardRequest.objects.first().resident
    assert resident.masked_nik in body and resident.nik not in body
    assert 'data-testid="count-waiting"' in body and "A-003" in body


def test_call_next_then_served(client, clerk, office):
    ticket = counter.ticket_issue(office=office, by=clerk)
    client.force_login(clerk)
    response = client.post("/loket/panggil/", {"counter": "Loket 2"})
    assert response.status_code == 302 and "Panggil nomor A-001 ke Loket 2." in _texts(response)
    assert 'data-testid="serve-form"' in client.get("/loket/").content.decode()
    response = client.post("/loket/panggilan/selesai/", {"entry": f"t-{ticket.pk}", "outcome": "absent"})
    ticket.refresh_from_db()
    assert response.status_code == 302 and ticket.status == CallStatus.ABSENT
    response = client.post("/loket/panggilan/selesai/", {"entry": f"t-{ticket.pk}", "outcome": "served"})
    assert any("sudah selesai" in t for t in _texts(response))


def test_serving_a_called_walk_in_by_nik_is_audited_and_schedules_today(client, clerk, office, frozen_today):
    card_request = CardRequestFactory(ready=True)
    nik = card_request.resident.nik
    ticket = counter.ticket_issue(office=office, by=clerk)
    counter.call_next(office=office, counter="L1", by=clerk)
    client.force_login(clerk)
    response = client.post(f"/loket/tiket/{ticket.pk}/layani/", {"nik": nik})
    assert response.status_code == 302
    booking = Booking.objects.get(card_request=card_request)
    assert (booking.date, booking.ticket_id) == (frozen_today, ticket.pk)
    assert CardRequest.objects.get(pk=card_request.pk).status == S.SCHEDULED
    log = AccessLog.objects.get(action="search_nik")
    assert log.resident_id == card_request.resident_id and nik not in log.detail and "A-001" in log.detail
    assert all(nik not in t for t in _texts(response))


def test_a_walk_in_without_a_request_gets_one_created_at_the_counter(client, clerk, office):
    resident = ResidentFactory(desa_id="35.02.01.2001")
    ticket = counter.ticket_issue(office=office, by=clerk)
    counter.call_next(office=office, counter="L1", by=clerk)
    client.force_login(clerk)
    response = client.post(f"/loket/tiket/{ticket.pk}/layani/", {"nik": resident.nik})
    assert any("pilih jenis permohonan" in t for t in _texts(response))
    assert not CardRequest.objects.exists()
    response = client.post(f"/loket/tiket/{ticket.pk}/layani/", {"nik": resident.nik, "kind": "rusak"})
    card_request = CardRequest.objects.get(resident=resident)
    assert (card_request.channel, card_request.route, card_request.status) == ("walk_in", "counter", S.RECEIVED)
    ticket.refresh_from_db()
    assert ticket.card_request_id == card_request.pk and not Booking.objects.exists()
    assert any("verifikasi dulu" in t for t in _texts(response))


def test_a_nik_that_fails_the_check_is_refused_without_a_lookup(client, clerk, office):
    ticket = counter.ticket_issue(office=office, by=clerk)
    client.force_login(clerk)
    response = client.post(f"/loket/tiket/{ticket.pk}/layani/", {"nik": "0000000000000000"})
    assert response.status_code == 302 and _texts(response)
    assert not AccessLog.objects.exists()


def test_check_in_on_the_wrong_day_offers_todays_walk_in_places(client, clerk, office, frozen_today, time_machine):
    thursday = next_weekday(frozen_today, THURSDAY)
    card_request = CardRequestFactory(ready=True)
    booking = appointments.booking_book(card_request_id=card_request.pk, channel="whatsapp", by=None, wish=thursday)
    client.force_login(clerk)
    response = client.post("/loket/hadir/", {"code": card_request.resident.nik})
    (text,) = _texts(response)
    assert thursday.strftime("%d-%m-%Y") in text and "Masih ada 3 tempat datang langsung" in text
    assert card_request.resident.nik not in text
    assert AccessLog.objects.get(action="search_nik").resident_id == card_request.resident_id
    page = client.get("/loket/").content.decode()
    assert 'data-testid="serve-today"' in page
    response = client.post("/loket/hadir/hari-ini/", {"booking": booking.pk})
    ticket = WalkInTicket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/loket/tiket/{ticket.pk}/"
    assert Booking.objects.get(pk=booking.pk).status == "moved"
    assert ServiceDay.objects.get(date=thursday).booked_total == 0


def test_check_in_on_the_wrong_day_without_walk_in_places_tells_the_day(client, clerk, office, frozen_today):
    thursday = next_weekday(frozen_today, THURSDAY)
    card_request = CardRequestFactory(ready=True)
    booking = appointments.booking_book(card_request_id=card_request.pk, channel="whatsapp", by=None, wish=thursday)
    for _ in range(3):
        counter.ticket_issue(office=office, by=clerk)
    client.force_login(clerk)
    response = client.post("/loket/hadir/", {"code": appointments.booking_token(booking)})
    (text,) = _texts(response)
    assert "datang pada tanggal itu" in text and thursday.strftime("%d-%m-%Y") in text
    assert 'data-testid="serve-today"' not in client.get("/loket/").content.decode()


def test_check_in_by_token_on_the_day(client, clerk, office, frozen_today, time_machine):
    card_request = CardRequestFactory(ready=True)
    booking = appointments.booking_book(
        card_request_id=card_request.pk, channel="whatsapp", by=None, wish=frozen_today + timedelta(days=1)
    )
    time_machine.move_to(at(frozen_today + timedelta(days=1), 8, 5), tick=False)
    client.force_login(clerk)
    response = client.post("/loket/hadir/", {"code": appointments.booking_token(booking)})
    assert any("hadir: nomor antrean 1" in t for t in _texts(response))
    booking.refresh_from_db()
    assert (booking.status, booking.call_status) == ("checked_in", CallStatus.WAITING)


def test_the_booking_panel_shows_places_left_per_day_and_channel(client, clerk, office, frozen_today):
    card_request = CardRequestFactory(ready=True)
    collect = CardRequestFactory(ready=True, route="collect")
    client.force_login(clerk)
    page = client.get(f"/permohonan/{card_request.pk}/").content.decode()
    assert 'data-testid="book-form"' in page and 'data-testid="places-left"' in page
    assert (frozen_today + timedelta(days=1)).strftime("%d-%m") in page
    page = client.get(f"/permohonan/{collect.pk}/").content.decode()
    assert 'data-testid="book-form"' not in page
    response = client.post(f"/permohonan/{collect.pk}/jadwal/", {"channel": "whatsapp"})
    assert any("tanpa jadwal kedatangan" in t for t in _texts(response))
    response = client.post(f"/permohonan/{card_request.pk}/jadwal/", {"channel": "whatsapp"})
    booking = Booking.objects.get(card_request=card_request)
    assert response.status_code == 302 and booking.date == frozen_today + timedelta(days=1)
    page = client.get(f"/permohonan/{card_request.pk}/").content.decode()
    assert 'data-testid="booking-day"' in page and "<svg" in page
    response = client.post(f"/permohonan/{card_request.pk}/jadwal/batal/", {"reason": ""})
    assert any("alasan" in t.lower() for t in _texts(response))
    client.post(f"/permohonan/{card_request.pk}/jadwal/batal/", {"reason": "sakit"})
    assert Booking.objects.get().status == "cancelled"
    assert CardRequest.objects.get(pk=card_request.pk).status == S.READY_TO_PRINT


def test_booking_pages_are_scoped(client, uptd_b, office, resident_a):
    card_request = CardRequestFactory(ready=True, resident=resident_a)
    client.force_login(uptd_b)
    assert client.post(f"/permohonan/{card_request.pk}/jadwal/", {"channel": "whatsapp"}).status_code in (403, 404)
    assert client.get(f"/permohonan/{card_request.pk}/jadwal/surat.pdf").status_code in (403, 404)
    assert not Booking.objects.exists()


def test_inviting_from_the_counter_shows_the_days_list(client, clerk, office, frozen_today):
    CardRequestFactory(ready=True)
    first = invitations.invitation_first_day(office=office)
    client.force_login(clerk)
    response = client.post("/loket/undangan/", {"day": (first - timedelta(days=1)).isoformat()})
    assert any("paling cepat" in t for t in _texts(response)) and not Booking.objects.exists()
    response = client.post("/loket/undangan/", {"day": first.isoformat()})
    assert response.status_code == 302 and response["Location"].endswith(f"?day={first.isoformat()}")
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="letters-pdf"' in page and Booking.objects.get().channel == "invitation"


def test_closing_a_day_is_for_supervisors(client, clerk, supervisor, office, frozen_today):
    day = frozen_today + timedelta(days=3)
    client.force_login(clerk)
    assert client.post("/loket/tutup/", {"day": day.isoformat(), "reason": "Rapat"}).status_code == 403
    client.force_login(supervisor)
    response = client.post("/loket/tutup/", {"day": day.isoformat(), "reason": "Rapat"})
    assert response.status_code == 302 and any("ditutup" in t for t in _texts(response))
    assert not ServiceDay.objects.get(date=day).is_open
