"""The printing office's exports: a print batch's cards, the blank ledger over a date range (with the stock
after each line), and a day's expected appointments; each scoped, masked, and logged once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from queueing import printing
from queueing.models import PrintBatch
from registry.models import AccessLog
from tests.dates import at
from tests.factories import CardRequestFactory, ResidentFactory, appointment_for, open_calendar
from tests.other_office import clerk_of_another_kabupaten
from tests.registry.exported import content_of, exported


@pytest.fixture
def batch(clerk, frozen_today):
    cards = [
        CardRequestFactory(ready=True, collect=True, resident=ResidentFactory(full_name=name))
        for name in ("+628123 PALSU", "BUDI")
    ]
    made = PrintBatch.objects.create(office=clerk.office, date=frozen_today, created_by=clerk)
    made.card_requests.set(cards)
    return made, cards


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_print_batch_export_has_its_cards_masked_and_is_logged(client, clerk, batch, fmt):
    made, cards = batch
    client.force_login(clerk)

    response = client.get(f"/blangko/batch/{made.pk}/ekspor.{fmt}")

    table = exported(response, fmt)
    assert {row[1] for row in table[1:]} == {card.number for card in cards}
    assert "'+628123 PALSU" in {row[2] for row in table[1:]}
    assert {row[3] for row in table[1:]} == {card.resident.masked_nik for card in cards}
    assert [row[0] for row in table[1:]] == (["1", "2"] if fmt == "csv" else [1, 2])
    log = AccessLog.objects.get()
    assert made.number in log.detail and "2 baris" in log.detail
    assert f"batch-cetak-{made.pk}-disdukcapil" in response["Content-Disposition"]


def test_a_batch_of_another_office_is_404(client, batch, ponorogo):
    made, _cards = batch
    client.force_login(clerk_of_another_kabupaten())
    assert client.get(f"/blangko/batch/{made.pk}/ekspor.csv").status_code == 404
    assert not AccessLog.objects.exists()


@pytest.fixture
def ledger(clerk, supervisor, frozen_today, time_machine):
    """Receipts and spoilage over three days: +100 on day -2, -3 on day -1, +50 today."""
    office = clerk.office
    time_machine.move_to(at(frozen_today - timedelta(days=2), 10), tick=False)
    printing.blanks_receive(office=office, quantity=100, reference="=KIRIM-1", received_on=frozen_today, by=supervisor)
    time_machine.move_to(at(frozen_today - timedelta(days=1), 10), tick=False)
    printing.blanks_spoil(office=office, quantity=3, reason="rusak", by=supervisor)
    time_machine.move_to(at(frozen_today, 10), tick=False)
    printing.blanks_receive(office=office, quantity=50, reference="KIRIM-2", received_on=frozen_today, by=supervisor)


def test_the_ledger_export_keeps_the_range_and_counts_the_stock_on(client, clerk, ledger, frozen_today):
    client.force_login(clerk)
    since = (frozen_today - timedelta(days=1)).strftime("%d-%m-%Y")

    table = exported(client.get("/blangko/mutasi/ekspor.xlsx", {"date_from": since}), "xlsx")

    assert [(row[3], row[4]) for row in table[1:]] == [(-3, 97), (50, 147)]  # numbers, and the stock after each
    everything = exported(client.get("/blangko/mutasi/ekspor.csv"), "csv")
    assert [row[5] for row in everything[1:]] == ["'=KIRIM-1", "rusak", "KIRIM-2"]
    details = list(AccessLog.objects.order_by("seq").values_list("detail", flat=True))
    assert "Saldo awal: 100" in details[0] and "2 baris" in details[0] and "3 baris" in details[1]


def test_an_impossible_ledger_range_shows_the_error_beside_the_field(client, clerk, ledger, frozen_today):
    client.force_login(clerk)
    response = client.get(
        "/blangko/mutasi/ekspor.csv",
        {"date_from": frozen_today.strftime("%d-%m-%Y"), "date_to": (frozen_today - timedelta(1)).strftime("%d-%m-%Y")},
    )
    assert response.status_code == 400
    assert "Tanggal akhir tidak boleh sebelum tanggal awal." in response.content.decode()
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_days_export_has_who_is_expected_by_queue_number(client, clerk, frozen_today, fmt):
    open_calendar(clerk.office, uptd=10)
    day = frozen_today + timedelta(days=1)
    in_a = appointment_for(CardRequestFactory(ready=True), day=day)
    in_b = appointment_for(CardRequestFactory(ready=True, resident=ResidentFactory(desa_id="35.02.02.2001")), day=day)
    client.force_login(clerk)

    response = client.get(f"/kalender/{day.isoformat()}/ekspor.{fmt}")

    table = exported(response, fmt)
    assert [row[8] for row in table[1:]] == [in_a.card_request.number, in_b.card_request.number]
    residents = [in_a.card_request.resident, in_b.card_request.resident]
    assert [row[2] for row in table[1:]] == [resident.masked_nik for resident in residents]
    data = content_of(client.get(f"/kalender/{day.isoformat()}/ekspor.csv")).decode("utf-8-sig")
    assert in_a.card_request.resident.nik not in data
    assert AccessLog.objects.filter(action="export").count() == 2
