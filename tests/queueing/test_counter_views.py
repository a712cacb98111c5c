"""Counter and booking pages: permissions beyond the matrix, NIK check-in audited, booking from the request page."""

from __future__ import annotations

from datetime import time

from django.contrib.messages import get_messages

from cards import services as card_services
from cards.models import CardRequest
from queueing.models import Booking, OpeningHours, QuotaDefault
from registry.models import AccessLog


def _open_every_day(office):
    for weekday in range(7):
        OpeningHours.objects.create(office=office, weekday=weekday, opens_at=time(8), closes_at=time(15))
        QuotaDefault.objects.create(office=office, weekday=weekday, print_capacity=5, whatsapp=5, walk_in=2)


def test_request_page_books_a_ready_request_and_shows_its_qr(client, clerk, resident_a):
    _open_every_day(clerk.office)
    card_request = card_services.card_request_create(resident=resident_a, kind="rusak", by=clerk, channel="sms")
    CardRequest.objects.filter(pk=card_request.pk).update(status="ready_to_print")
    client.force_login(clerk)
    page = client.get(f"/permohonan/{card_request.pk}/").content.decode()
    assert 'data-testid="book-form"' in page and 'data-testid="to-scheduled"' not in page
    response = client.post(f"/permohonan/{card_request.pk}/jadwal/", {"channel": "whatsapp"})
    booking = Booking.objects.get()
    assert response.status_code == 302 and booking.number == 1
    page = client.get(f"/permohonan/{card_request.pk}/").content.decode()
    assert 'data-testid="booking-day"' in page and "<svg" in page
    client.post(f"/permohonan/{card_request.pk}/jadwal/batal/", {"reason": "sakit"})
    assert Booking.objects.get().status == "cancelled"
    assert CardRequest.objects.get(pk=card_request.pk).status == "ready_to_print"


def test_check_in_by_nik_is_audited_and_never_echoes_the_nik(client, clerk, resident_a):
    client.force_login(clerk)
    response = client.post("/loket/hadir/", {"code": resident_a.nik})
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Tidak ada jadwal" in t for t in texts)
    log = AccessLog.objects.get(action="search_nik")
    assert resident_a.nik not in log.detail and resident_a.masked_nik in log.detail


def test_uptd_operator_has_no_counter(client, uptd_a):
    client.force_login(uptd_a)
    assert client.get("/loket/").status_code == 403
    assert b"/loket/" not in client.get("/").content
