"""Blank stock: receipts and spoilage keep a ledger, the stock never goes below zero, and two batches printed
at the same moment never take more blanks or print places than there are."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from cards.models import CardRequest
from queueing import errors, printing
from queueing.models import BlankMovement, BlankStock, PrintBatch, ServiceDay
from tests.factories import CardRequestFactory, open_calendar


def test_receipts_and_spoilage_keep_a_ledger(clerk, frozen_today):
    printing.blanks_receive(
        office=clerk.office, quantity=10_000, reference="KIRIMAN-1", received_on=frozen_today, by=clerk
    )
    printing.blanks_spoil(office=clerk.office, quantity=3, reason="gagal cetak", by=clerk)
    assert BlankStock.objects.get(office=clerk.office).quantity == 9_997
    assert list(BlankMovement.objects.order_by("id").values_list("kind", "quantity")) == [
        ("receipt", 10_000),
        ("spoilage", -3),
    ]
    with pytest.raises(errors.StockShort, match="hanya 9997"):
        printing.blanks_spoil(office=clerk.office, quantity=10_000, reason="x", by=clerk)
    assert BlankMovement.objects.count() == 2


def test_receipts_and_spoilage_need_a_quantity_and_a_reference(clerk, frozen_today):
    with pytest.raises(errors.QueueingError, match="lebih dari nol"):
        printing.blanks_receive(office=clerk.office, quantity=0, reference="K", received_on=frozen_today, by=clerk)
    with pytest.raises(errors.QueueingError, match="referensi"):
        printing.blanks_receive(office=clerk.office, quantity=5, reference=" ", received_on=frozen_today, by=clerk)
    with pytest.raises(errors.QueueingError, match="alasan"):
        printing.blanks_spoil(office=clerk.office, quantity=1, reason="", by=clerk)
    assert not BlankMovement.objects.exists()


def test_the_database_refuses_negative_stock(clerk, frozen_today):
    printing.blanks_receive(office=clerk.office, quantity=1, reference="K", received_on=frozen_today, by=clerk)
    with pytest.raises(IntegrityError), transaction.atomic():
        BlankStock.objects.filter(office=clerk.office).update(quantity=-1)


def test_a_uptd_clerk_receives_into_the_kabupaten_stock(clerk, uptd_a, frozen_today):
    printing.blanks_receive(office=uptd_a.office, quantity=4, reference="K", received_on=frozen_today, by=clerk)
    assert BlankStock.objects.get().office == clerk.office


def _two_batches(clerk, day, *, cards: int = 3) -> tuple[PrintBatch, PrintBatch]:
    """Two drafts of the same day made at the same moment (each saw the other's cards as free)."""
    batches = []
    for _ in range(2):
        requests = [CardRequestFactory(ready=True, collect=True) for _ in range(cards)]
        batch = PrintBatch.objects.create(office=clerk.office, date=day, created_by=clerk)
        batch.card_requests.set([r.pk for r in requests])
        batches.append(batch)
    return batches[0], batches[1]


def _print_both_at_once(clerk, batches) -> dict[int, str]:
    barrier = threading.Barrier(len(batches))
    outcomes: dict[int, str] = {}

    def run(batch):
        barrier.wait()
        try:
            printing.print_batch_print(batch_id=batch.pk, by=clerk)
            outcomes[batch.pk] = "printed"
        except errors.StockShort:
            outcomes[batch.pk] = "short of blanks"
        except errors.QueueingError:
            outcomes[batch.pk] = "short of places"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_never_take_more_blanks_than_there_are(ponorogo, clerk, frozen_today):
    open_calendar(clerk.office, print_capacity=50)
    batches = _two_batches(clerk, frozen_today)
    printing.blanks_receive(office=clerk.office, quantity=4, reference="K", received_on=frozen_today, by=clerk)

    outcomes = _print_both_at_once(clerk, batches)

    assert sorted(outcomes.values()) == ["printed", "short of blanks"]
    assert BlankStock.objects.get(office=clerk.office).quantity == 1
    assert BlankMovement.objects.filter(kind="print").count() == 3
    assert CardRequest.objects.filter(status="printed").count() == 3


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_never_take_more_print_places_than_are_left(ponorogo, clerk, frozen_today):
    open_calendar(clerk.office, print_capacity=5)
    batches = _two_batches(clerk, frozen_today)
    printing.blanks_receive(office=clerk.office, quantity=100, reference="K", received_on=frozen_today, by=clerk)

    outcomes = _print_both_at_once(clerk, batches)

    assert sorted(outcomes.values()) == ["printed", "short of places"]
    assert ServiceDay.objects.get(office=clerk.office, date=frozen_today).batch_printed == 3
    assert BlankStock.objects.get(office=clerk.office).quantity == 97
    assert CardRequest.objects.filter(status="printed").count() == 3
