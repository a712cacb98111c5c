"""Printing pages beyond the role matrix: the blank page, a batch's page and sheet, printing and storing a
batch, printing one card at the counter, misprints; out of scope answers 404, the NIK is masked."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from cards.models import CardRequest
from queueing import printing
from queueing.models import BlankMovement, Booking, PrintBatch
from registry.models import AccessLog
from tests.factories import CardRequestFactory, appointment_for, open_calendar
from tests.other_office import clerk_of_another_kabupaten

S = CardRequest.Status


@pytest.fixture
def stocked(clerk, frozen_today):
    open_calendar(clerk.office, print_capacity=50)
    printing.blanks_receive(office=clerk.office, quantity=20, reference="SKB", received_on=frozen_today, by=clerk)


@pytest.fixture
def batch(clerk, stocked, frozen_today):
    CardRequestFactory(ready=True, collect=True)
    CardRequestFactory(ready=True, uptd=True)
    return printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk)


def _texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_blank_page_shows_stock_places_left_and_batches(client, clerk, batch):
    client.force_login(clerk)
    page = client.get("/blangko/").content.decode()
    assert 'data-testid="stock">20<' in page
    assert "Tempat cetak tersisa hari ini: 50 dari 50" in page
    assert batch.number in page and f"/blangko/batch/{batch.pk}/" in page


def test_creating_a_batch_opens_its_page(client, clerk, stocked, frozen_today):
    CardRequestFactory(ready=True, post=True)
    client.force_login(clerk)
    response = client.post("/blangko/cetak/", {"day": frozen_today.isoformat()})
    batch = PrintBatch.objects.get()
    assert response["Location"] == f"/blangko/batch/{batch.pk}/"
    response = client.post("/blangko/cetak/", {"day": frozen_today.isoformat()})
    assert response["Location"] == "/blangko/" and any("Tidak ada permohonan" in t for t in _texts(response))


def test_batch_page_lists_its_cards_with_a_masked_nik(client, clerk, batch):
    client.force_login(clerk)
    page = client.get(f"/blangko/batch/{batch.pk}/").content.decode()
    for card_request in batch.card_requests.select_related("resident__desa"):
        assert card_request.number in page and card_request.resident.full_name in page
        assert card_request.resident.masked_nik in page and card_request.resident.nik not in page
        assert card_request.resident.desa.name in page and card_request.get_route_display() in page
    assert 'data-testid="batch-print"' in page and 'data-testid="batch-store"' not in page


def test_batch_page_query_count_does_not_grow_with_its_cards(client, clerk, batch):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/blangko/batch/{batch.pk}/").status_code == 200
        return len(captured.captured_queries)

    client.force_login(clerk)
    few = count()
    batch.card_requests.add(*[CardRequestFactory(ready=True, post=True) for _ in range(6)])
    assert count() == few


def test_batch_sheet_is_a_logged_pdf_without_full_niks(client, clerk, batch):
    client.force_login(clerk)
    response = client.get(f"/blangko/batch/{batch.pk}/lembar.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    log = AccessLog.objects.get(action="export")
    assert batch.number in log.detail


def test_batch_pages_of_another_office_answer_404(client, batch):
    client.force_login(clerk_of_another_kabupaten())
    assert client.get(f"/blangko/batch/{batch.pk}/").status_code == 404
    assert client.get(f"/blangko/batch/{batch.pk}/lembar.pdf").status_code == 404
    assert client.post(f"/blangko/cetak/{batch.pk}/").status_code == 404
    assert client.post(f"/blangko/batch/{batch.pk}/simpan/", {"from_day": "2030-01-01"}).status_code == 404
    assert PrintBatch.objects.get(pk=batch.pk).status == "draft"


def test_print_then_store_from_the_batch_page(client, clerk, batch, frozen_today):
    client.force_login(clerk)
    response = client.post(f"/blangko/cetak/{batch.pk}/")
    assert response["Location"] == f"/blangko/batch/{batch.pk}/"
    assert set(batch.card_requests.values_list("status", flat=True)) == {S.PRINTED}
    page = client.get(f"/blangko/batch/{batch.pk}/").content.decode()
    assert 'data-testid="batch-print"' not in page and 'data-testid="batch-store"' in page

    response = client.post(f"/blangko/batch/{batch.pk}/simpan/", {"from_day": "31-02-2027"})
    assert response.status_code == 400  # the batch page again, the error beside the day, nothing stored
    page = response.content.decode()
    assert 'id="id_from_day_error"' in page and "hari-bulan-tahun" in page
    assert set(batch.card_requests.values_list("status", flat=True)) == {S.PRINTED}
    response = client.post(f"/blangko/batch/{batch.pk}/simpan/", {"from_day": frozen_today.strftime("%d-%m-%Y")})
    assert any("1 kartu disimpan" in t for t in _texts(response))
    assert sorted(batch.card_requests.values_list("route", "status")) == [
        ("collect", S.READY_FOR_PICKUP),
        ("uptd", S.PRINTED),
    ]


def test_counter_print_and_misprint_from_the_counter_panel(client, clerk, stocked, frozen_today, rf):
    card_request = CardRequestFactory(ready=True, counter=True)
    booking = appointment_for(card_request, day=frozen_today, by=clerk)
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CHECKED_IN, checked_in_at=booking.created_at)
    request = rf.get("/loket/")
    request.user = clerk
    panel = Template("{% load printing %}{% counter_print_panel %}").render(Context({"request": request}))
    assert card_request.resident.masked_nik in panel and 'data-testid="counter-print-button"' in panel
    assert card_request.resident.nik not in panel

    client.force_login(clerk)
    response = client.post(f"/permohonan/{card_request.pk}/cetak/", {"next": "/loket/"})
    assert response["Location"] == "/loket/"
    assert CardRequest.objects.get(pk=card_request.pk).status == S.PRINTED
    response = client.post(f"/permohonan/{card_request.pk}/gagal-cetak/", {"reason": ""})
    assert any("alasan" in t for t in _texts(response))
    response = client.post(f"/permohonan/{card_request.pk}/gagal-cetak/", {"reason": "warna pudar"})
    assert response["Location"] == f"/permohonan/{card_request.pk}/"
    assert list(BlankMovement.objects.filter(card_request=card_request).values_list("kind", flat=True)) == [
        "spoilage",
        "print",
    ]  # newest first
    panel = Template("{% load printing %}{% counter_print_panel %}").render(Context({"request": request}))
    assert 'data-testid="counter-print-button"' not in panel and "Serahkan" in panel


def test_counter_print_refuses_another_office_and_foreign_next_urls(client, clerk, stocked, frozen_today):
    card_request = CardRequestFactory(ready=True, counter=True)
    appointment_for(card_request, day=frozen_today, by=clerk)
    client.force_login(clerk)
    response = client.post(f"/permohonan/{card_request.pk}/cetak/", {"next": "https://contoh.example/"})
    assert response["Location"] == "/loket/"
    assert any("belum tercatat hadir" in t for t in _texts(response))
    client.force_login(clerk_of_another_kabupaten())
    assert client.post(f"/permohonan/{card_request.pk}/cetak/").status_code == 404
    assert client.post(f"/permohonan/{card_request.pk}/gagal-cetak/", {"reason": "x"}).status_code == 404
    assert CardRequest.objects.get(pk=card_request.pk).status == S.SCHEDULED


def test_uptd_operators_do_not_print(client, uptd_a, batch):
    client.force_login(uptd_a)
    assert client.get(f"/blangko/batch/{batch.pk}/").status_code == 403
    assert client.post(f"/blangko/cetak/{batch.pk}/").status_code == 403
    assert client.post(f"/blangko/batch/{batch.pk}/simpan/").status_code == 403
