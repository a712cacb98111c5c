"""Blank stock and print batches: the stock never goes below zero, a batch takes one blank per card."""

from __future__ import annotations

import threading
from datetime import date, time, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from cards import services as card_services
from cards.models import CardRequest
from queueing import appointments, errors, printing
from queueing.models import BlankMovement, BlankStock, OpeningHours, PrintBatch, QuotaDefault
from tests.factories import ResidentFactory

DAY = date(2026, 11, 24)


def _scheduled(clerk, n, day=DAY):
    office = clerk.office
    OpeningHours.objects.get_or_create(
        office=office, weekday=day.weekday(), defaults={"opens_at": time(8), "closes_at": time(15)}
    )
    QuotaDefault.objects.get_or_create(
        office=office, weekday=day.weekday(), defaults={"print_capacity": 50, "whatsapp": 50}
    )
    requests = []
    for _ in range(n):
        card_request = card_services.card_request_create(
            resident=ResidentFactory(), kind="rusak", by=clerk, channel="whatsapp"
        )
        CardRequest.objects.filter(pk=card_request.pk).update(status="ready_to_print")
        appointments.booking_book(
            card_request_id=card_request.pk, channel="whatsapp", by=clerk, wish=day, today=day - timedelta(days=1)
        )
        requests.append(card_request)
    return requests


def test_receipts_and_spoilage_keep_a_ledger(clerk):
    printing.blanks_receive(office=clerk.office, quantity=10_000, reference="KIRIMAN-1", received_on=DAY, by=clerk)
    printing.blanks_spoil(office=clerk.office, quantity=3, reason="gagal cetak", by=clerk)
    assert BlankStock.objects.get(office=clerk.office).quantity == 9_997
    assert list(BlankMovement.objects.order_by("id").values_list("kind", "quantity")) == [
        ("receipt", 10_000),
        ("spoilage", -3),
    ]
    with pytest.raises(errors.StockShort, match="hanya 9997"):
        printing.blanks_spoil(office=clerk.office, quantity=10_000, reason="x", by=clerk)


def test_the_database_refuses_negative_stock(clerk):
    printing.blanks_receive(office=clerk.office, quantity=1, reference="K", received_on=DAY, by=clerk)
    with pytest.raises(IntegrityError), transaction.atomic():
        BlankStock.objects.filter(office=clerk.office).update(quantity=-1)


def test_print_batch_takes_one_blank_per_card(clerk):
    requests = _scheduled(clerk, 3)
    printing.blanks_receive(office=clerk.office, quantity=5, reference="K", received_on=DAY, by=clerk)
    batch = printing.print_batch_create(office=clerk.office, day=DAY, by=clerk)
    assert batch.card_requests.count() == 3
    printing.print_batch_print(batch_id=batch.pk, by=clerk)
    assert BlankStock.objects.get(office=clerk.office).quantity == 2
    assert set(CardRequest.objects.filter(pk__in=[r.pk for r in requests]).values_list("status", flat=True)) == {
        "printed"
    }
    assert BlankMovement.objects.get(kind="print").quantity == -3
    with pytest.raises(errors.QueueingError, match="sudah dicetak"):
        printing.print_batch_print(batch_id=batch.pk, by=clerk)


def test_print_batch_is_refused_whole_when_blanks_are_short(clerk):
    requests = _scheduled(clerk, 3)
    printing.blanks_receive(office=clerk.office, quantity=2, reference="K", received_on=DAY, by=clerk)
    batch = printing.print_batch_create(office=clerk.office, day=DAY, by=clerk)
    with pytest.raises(errors.StockShort, match="tersedia 2, perlu 3"):
        printing.print_batch_print(batch_id=batch.pk, by=clerk)
    assert BlankStock.objects.get(office=clerk.office).quantity == 2
    assert PrintBatch.objects.get(pk=batch.pk).status == "draft"
    assert set(CardRequest.objects.filter(pk__in=[r.pk for r in requests]).values_list("status", flat=True)) == {
        "scheduled"
    }


@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_never_take_more_blanks_than_there_are(ponorogo, clerk):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    first_day = _scheduled(clerk, 3)
    batch_a = printing.print_batch_create(office=clerk.office, day=DAY, by=clerk)
    next_week = DAY + timedelta(days=7)
    _scheduled(clerk, 3, day=next_week)
    batch_b = printing.print_batch_create(office=clerk.office, day=next_week, by=clerk)
    printing.blanks_receive(office=clerk.office, quantity=4, reference="K", received_on=DAY, by=clerk)
    barrier = threading.Barrier(2)
    outcomes = {}

    def run(batch):
        barrier.wait()
        try:
            printing.print_batch_print(batch_id=batch.pk, by=clerk)
            outcomes[batch.pk] = "printed"
        except errors.StockShort:
            outcomes[batch.pk] = "short"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(b,)) for b in (batch_a, batch_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["printed", "short"]
    assert BlankStock.objects.get(office=clerk.office).quantity == 1
    assert len(first_day) == 3


def test_blank_pages_receive_and_print_a_batch(client, clerk, supervisor):
    requests = _scheduled(clerk, 2)
    client.force_login(supervisor)
    client.post("/blangko/terima/", {"quantity": "10000", "reference": "SKB-2026/11", "received_on": "2026-11-20"})
    client.post("/blangko/rusak/", {"quantity": "1", "reason": "cacat chip"})
    client.force_login(clerk)
    page = client.get("/blangko/").content.decode()
    assert "9,999" in page or "9.999" in page
    assert (
        client.post("/blangko/terima/", {"quantity": "5", "reference": "x", "received_on": "2026-11-20"}).status_code
        == 403
    )
    client.post("/blangko/cetak/", {"day": DAY.isoformat()})
    batch = PrintBatch.objects.get()
    client.post(f"/blangko/cetak/{batch.pk}/")
    assert BlankStock.objects.get(office=clerk.office).quantity == 9_997
    assert set(CardRequest.objects.filter(pk__in=[r.pk for r in requests]).values_list("status", flat=True)) == {
        "printed"
    }
