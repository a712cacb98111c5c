"""Printed happens only by printing: one card at the counter for a resident checked in today, or a batch for
routes 2-4 up to the print places left; either takes one blank per card in the same transaction, or nothing.
Misprints, storing route-2 cards, the release hook, and the ledger that always matches."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from cards.models import CardRequest, CardRequestEvent
from cards.workflow import card_move_as, card_request_route_set
from delivery.services import suket_issue
from messaging.models import Notification
from queueing import errors, printing
from queueing.calendar import service_day_get
from queueing.models import BlankMovement, BlankStock, Booking, PrintBatch, ServiceDay
from registry import clock
from tests.factories import CardRequestFactory, ResidentFactory, appointment_for, open_calendar

S = CardRequest.Status


def _receive(clerk, quantity: int, today: date) -> None:
    # Each delivery has its own reference (a reference is received once per office).
    reference = f"SKB-{BlankMovement.objects.filter(kind='receipt').count() + 1}"
    printing.blanks_receive(office=clerk.office, quantity=quantity, reference=reference, received_on=today, by=clerk)


def _stock(office) -> int:
    return BlankStock.objects.get(office=office).quantity


def _checked_in(clerk, day: date, **kwargs) -> CardRequest:
    """A route-1 request with an appointment today, checked in (set-up: the check-in has its own tests)."""
    card_request = CardRequestFactory(ready=True, counter=True, **kwargs)
    booking = appointment_for(card_request, day=day, by=clerk)
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CHECKED_IN, checked_in_at=booking.created_at)
    return card_request


def _statuses(requests) -> list[str]:
    by_pk = dict(CardRequest.objects.filter(pk__in=[r.pk for r in requests]).values_list("pk", "status"))
    return [by_pk[r.pk] for r in requests]


def _print_lines(card_request) -> list[tuple[str, int]]:
    return list(BlankMovement.objects.filter(card_request=card_request).order_by("id").values_list("kind", "quantity"))


# --- route 1: the counter -------------------------------------------------------------------------------


def test_counter_print_takes_one_blank_for_a_checked_in_resident(clerk, frozen_today):
    open_calendar(clerk.office)
    card_request = _checked_in(clerk, frozen_today)
    _receive(clerk, 3, frozen_today)
    messages_before = Notification.objects.count()

    printing.counter_print(card_request_id=card_request.pk, by=clerk)

    assert _statuses([card_request]) == [S.PRINTED]
    assert _stock(clerk.office) == 2
    assert _print_lines(card_request) == [("print", -1)]
    event = CardRequestEvent.objects.filter(card_request=card_request, to_status=S.PRINTED).get()
    assert event.from_status == S.SCHEDULED and event.by == clerk
    assert Notification.objects.count() == messages_before  # the resident is at the counter
    # The place was the appointment's: printing at the counter takes no batch place.
    assert service_day_get(office=clerk.office, day=frozen_today).batch_printed == 0


def test_counter_print_is_refused_before_check_in_and_without_a_blank(clerk, frozen_today):
    open_calendar(clerk.office)
    waiting = CardRequestFactory(ready=True, counter=True)
    appointment_for(waiting, day=frozen_today, by=clerk)
    _receive(clerk, 1, frozen_today)
    with pytest.raises(errors.QueueingError, match="belum tercatat hadir"):
        printing.counter_print(card_request_id=waiting.pk, by=clerk)

    arrived = _checked_in(clerk, frozen_today)
    printing.blanks_spoil(office=clerk.office, quantity=1, reason="chip rusak", by=clerk)
    with pytest.raises(errors.StockShort, match="Blangko habis"):
        printing.counter_print(card_request_id=arrived.pk, by=clerk)
    # Refused whole: no status, no event, no ledger line.
    assert _statuses([waiting, arrived]) == [S.SCHEDULED, S.SCHEDULED]
    assert not CardRequestEvent.objects.filter(card_request=arrived, to_status=S.PRINTED).exists()
    assert _print_lines(arrived) == []


def test_counter_print_is_only_for_route_one(clerk, frozen_today):
    _receive(clerk, 1, frozen_today)
    collect = CardRequestFactory(ready=True, collect=True)
    with pytest.raises(errors.QueueingError, match="rute loket"):
        printing.counter_print(card_request_id=collect.pk, by=clerk)


# --- misprints ------------------------------------------------------------------------------------------


def test_misprint_spoils_the_blank_with_its_reason_and_prints_again(clerk, frozen_today):
    open_calendar(clerk.office)
    card_request = _checked_in(clerk, frozen_today)
    _receive(clerk, 2, frozen_today)
    printing.counter_print(card_request_id=card_request.pk, by=clerk)

    printing.print_misprint(card_request_id=card_request.pk, reason="foto bergeser", by=clerk)

    assert _stock(clerk.office) == 0  # two blanks left the cupboard for one card
    assert _print_lines(card_request) == [("print", -1), ("spoilage", -1)]
    spoiled = BlankMovement.objects.get(card_request=card_request, kind="spoilage")
    assert "foto bergeser" in spoiled.reference
    notes = list(
        CardRequestEvent.objects.filter(card_request=card_request, action="misprint").values_list("note", flat=True)
    )
    assert notes == ["Blangko rusak (gagal cetak): foto bergeser", "Dicetak ulang pada blangko baru"]
    assert _statuses([card_request]) == [S.PRINTED]

    with pytest.raises(errors.StockShort, match="tidak dapat dicetak ulang"):
        printing.print_misprint(card_request_id=card_request.pk, reason="lagi", by=clerk)
    assert CardRequestEvent.objects.filter(card_request=card_request, action="misprint").count() == 2


def test_misprint_needs_a_printed_card_and_a_reason(clerk, frozen_today):
    _receive(clerk, 5, frozen_today)
    ready = CardRequestFactory(ready=True, collect=True)
    with pytest.raises(errors.QueueingError, match="alasan"):
        printing.print_misprint(card_request_id=ready.pk, reason=" ", by=clerk)
    with pytest.raises(errors.QueueingError, match="baru dicetak"):
        printing.print_misprint(card_request_id=ready.pk, reason="x", by=clerk)
    assert _stock(clerk.office) == 5


# --- routes 2-4: batches --------------------------------------------------------------------------------


def test_batch_takes_routes_two_to_four_suket_and_urgent_first_and_skips_who_must_wait(clerk, frozen_today):
    open_calendar(clerk.office, print_capacity=20)
    now = clock.now()
    oldest = CardRequestFactory(ready=True, uptd=True, queued_at=now - timedelta(days=9))
    older = CardRequestFactory(ready=True, post=True, queued_at=now - timedelta(days=8))
    urgent = CardRequestFactory(ready=True, collect=True, urgent=True, queued_at=now - timedelta(days=1))
    holder = CardRequestFactory(ready=True, collect=True, queued_at=now)
    suket_issue(card_request_id=holder.pk, by=clerk)  # no blank yet: a suket; its holder prints first
    counter = CardRequestFactory(ready=True, counter=True, queued_at=now - timedelta(days=30))
    sixteen = ResidentFactory(birth_date=frozen_today.replace(year=frozen_today.year - 16))
    too_young = CardRequestFactory(
        ready=True, collect=True, kind="pemula", resident=sixteen, queued_at=now - timedelta(days=20)
    )
    verifying = CardRequestFactory(verifying=True, collect=True, queued_at=now - timedelta(days=30))
    _receive(clerk, 100, frozen_today)

    batch = printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk)

    chosen = [c.pk for c in printing.print_batch_candidates(office=clerk.office, day=frozen_today)]
    assert chosen == []  # every candidate is now held by the draft
    assert set(batch.card_requests.values_list("pk", flat=True)) == {holder.pk, urgent.pk, oldest.pk, older.pk}
    assert counter.pk not in batch.card_requests.values_list("pk", flat=True)
    assert too_young.pk not in batch.card_requests.values_list("pk", flat=True)
    assert verifying.pk not in batch.card_requests.values_list("pk", flat=True)
    # The order a batch is filled in, when places are short:
    PrintBatch.objects.all().delete()
    ordered = [c.pk for c in printing.print_batch_candidates(office=clerk.office, day=frozen_today)]
    assert ordered == [holder.pk, urgent.pk, oldest.pk, older.pk]
    # Nobody in a batch is given a day to come.
    assert not Notification.objects.filter(template__in=["invitation", "booking_confirmed"]).exists()


def test_batch_is_filled_up_to_the_print_places_left_and_the_blanks(clerk, frozen_today):
    open_calendar(clerk.office, print_capacity=4, whatsapp=4)
    appointment_for(CardRequestFactory(ready=True, counter=True), day=frozen_today, by=clerk)  # one place taken
    waiting = [CardRequestFactory(ready=True, collect=True) for _ in range(5)]
    _receive(clerk, 10, frozen_today)
    batch = printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk)
    assert batch.card_requests.count() == 3  # 4 places − 1 appointment
    assert list(batch.card_requests.order_by("pk").values_list("pk", flat=True)) == [r.pk for r in waiting[:3]]

    printing.blanks_spoil(office=clerk.office, quantity=9, reason="kedaluwarsa", by=clerk)
    PrintBatch.objects.all().delete()
    assert printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk).card_requests.count() == 1


def test_printing_a_batch_takes_one_blank_and_one_place_per_card_and_one_ledger_line_each(clerk, frozen_today):
    open_calendar(clerk.office, print_capacity=10)
    requests = [CardRequestFactory(ready=True, collect=True), CardRequestFactory(ready=True, uptd=True)]
    requests.append(CardRequestFactory(ready=True, post=True))
    _receive(clerk, 5, frozen_today)
    batch = printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk)
    messages_before = Notification.objects.count()

    printing.print_batch_print(batch_id=batch.pk, by=clerk)

    assert _statuses(requests) == [S.PRINTED] * 3
    assert _stock(clerk.office) == 2
    assert ServiceDay.objects.get(office=clerk.office, date=frozen_today).batch_printed == 3
    lines = BlankMovement.objects.filter(kind="print", print_batch=batch)
    assert sorted(lines.values_list("card_request_id", flat=True)) == sorted(r.pk for r in requests)
    assert set(lines.values_list("quantity", flat=True)) == {-1}
    assert Notification.objects.count() == messages_before  # each route tells the resident at its next step
    batch.refresh_from_db()
    assert batch.status == "printed" and batch.printed_by == clerk
    with pytest.raises(errors.QueueingError, match="sudah dicetak"):
        printing.print_batch_print(batch_id=batch.pk, by=clerk)


def test_a_batch_is_refused_whole_when_blanks_are_short(clerk, frozen_today):
    open_calendar(clerk.office)
    requests = [CardRequestFactory(ready=True, collect=True) for _ in range(3)]
    _receive(clerk, 3, frozen_today)
    batch = printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk)
    printing.blanks_spoil(office=clerk.office, quantity=1, reason="retak", by=clerk)
    with pytest.raises(errors.StockShort, match="tersedia 2, perlu 3"):
        printing.print_batch_print(batch_id=batch.pk, by=clerk)
    _assert_nothing_printed(clerk, batch, requests, stock=2)


def test_a_batch_is_refused_whole_when_the_print_places_were_taken_meanwhile(clerk, frozen_today):
    open_calendar(clerk.office, print_capacity=3, whatsapp=3)
    requests = [CardRequestFactory(ready=True, collect=True) for _ in range(3)]
    _receive(clerk, 10, frozen_today)
    batch = printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk)
    appointment_for(CardRequestFactory(ready=True, counter=True), day=frozen_today, by=clerk)
    with pytest.raises(errors.QueueingError, match="tinggal 2, batch berisi 3"):
        printing.print_batch_print(batch_id=batch.pk, by=clerk)
    _assert_nothing_printed(clerk, batch, requests, stock=10)


def test_a_batch_is_refused_whole_when_a_card_moved_meanwhile(clerk, frozen_today):
    open_calendar(clerk.office)
    requests = [CardRequestFactory(ready=True, collect=True) for _ in range(3)]
    _receive(clerk, 10, frozen_today)
    batch = printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk)
    # Another batch printed one of its cards first (two drafts made at the same moment).
    other = PrintBatch.objects.create(office=clerk.office, date=frozen_today, created_by=clerk)
    other.card_requests.set([requests[1].pk])
    printing.print_batch_print(batch_id=other.pk, by=clerk)
    with pytest.raises(errors.QueueingError, match=f"{requests[1].number} berubah"):
        printing.print_batch_print(batch_id=batch.pk, by=clerk)
    _assert_nothing_printed(clerk, batch, [requests[0], requests[2]], stock=9)


def _assert_nothing_printed(clerk, batch, requests, *, stock):
    assert _statuses(requests) == [S.READY_TO_PRINT] * len(requests)
    assert _stock(clerk.office) == stock
    assert not BlankMovement.objects.filter(print_batch=batch).exists()
    assert PrintBatch.objects.get(pk=batch.pk).status == "draft"
    assert not CardRequestEvent.objects.filter(card_request__in=requests, to_status=S.PRINTED).exists()


def test_a_batch_is_printed_on_its_day(clerk, frozen_today, time_machine):
    open_calendar(clerk.office)
    CardRequestFactory(ready=True, collect=True)
    _receive(clerk, 10, frozen_today)
    tomorrow = frozen_today + timedelta(days=1)
    batch = printing.print_batch_create(office=clerk.office, day=tomorrow, by=clerk)
    with pytest.raises(errors.QueueingError, match="cetak pada hari itu"):
        printing.print_batch_print(batch_id=batch.pk, by=clerk)
    with pytest.raises(errors.QueueingError, match="hari ini atau hari yang akan datang"):
        printing.print_batch_create(office=clerk.office, day=frozen_today - timedelta(days=1), by=clerk)
    time_machine.shift(timedelta(days=1))
    printing.print_batch_print(batch_id=batch.pk, by=clerk)
    assert PrintBatch.objects.get(pk=batch.pk).status == "printed"


def test_the_database_refuses_batch_and_appointments_above_the_print_capacity(clerk, frozen_today):
    day = service_day_get(office=clerk.office, day=frozen_today)
    ServiceDay.objects.filter(pk=day.pk).update(print_capacity=2, cap_whatsapp=2, booked_whatsapp=1, booked_total=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceDay.objects.filter(pk=day.pk).update(batch_printed=2)


# --- route 2: stored, the resident told -----------------------------------------------------------------


def test_storing_a_printed_batch_tells_route_two_residents_where_and_from_when(clerk, frozen_today):
    open_calendar(clerk.office)
    collect = CardRequestFactory(ready=True, collect=True)
    uptd = CardRequestFactory(ready=True, uptd=True)
    _receive(clerk, 5, frozen_today)
    batch = printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk)
    with pytest.raises(errors.QueueingError, match="belum dicetak"):
        printing.print_batch_store(batch_id=batch.pk, by=clerk, from_day=frozen_today)
    batch = printing.print_batch_print(batch_id=batch.pk, by=clerk)
    assert printing.print_batch_to_store(batch) == [collect.pk]

    from_day = frozen_today + timedelta(days=1)
    outcome = printing.print_batch_store(batch_id=batch.pk, by=clerk, from_day=from_day)

    assert [c.pk for c in outcome.stored] == [collect.pk] and outcome.refused == []
    assert _statuses([collect, uptd]) == [S.READY_FOR_PICKUP, S.PRINTED]
    message = Notification.objects.get(card_request=collect, template="request_stored_for_pickup")
    assert clerk.office.name in message.text and from_day.strftime("%d-%m-%Y") in message.text
    event = CardRequestEvent.objects.get(card_request=collect, to_status=S.READY_FOR_PICKUP)
    assert event.by == clerk and batch.number in event.note
    assert printing.print_batch_store(batch_id=batch.pk, by=clerk, from_day=from_day).stored == []


def test_a_uptd_operator_cannot_store_cards(clerk, uptd_a, frozen_today):
    open_calendar(clerk.office)
    CardRequestFactory(ready=True, collect=True)
    _receive(clerk, 5, frozen_today)
    batch = printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk)
    printing.print_batch_print(batch_id=batch.pk, by=clerk)
    with pytest.raises(errors.QueueingError, match="petugas kabupaten"):
        printing.print_batch_store(batch_id=batch.pk, by=uptd_a, from_day=frozen_today)


# --- what a closing request held ------------------------------------------------------------------------


def test_a_cancelled_request_or_one_moved_to_the_counter_leaves_the_draft_batch(clerk, frozen_today):
    open_calendar(clerk.office)
    cancelled, to_counter, stays = (CardRequestFactory(ready=True, collect=True) for _ in range(3))
    _receive(clerk, 5, frozen_today)
    batch = printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk)
    card_move_as(clerk, card_request_id=cancelled.pk, to_status=S.CANCELLED, expected_status=S.READY_TO_PRINT, note="x")
    card_request_route_set(card_request_id=to_counter.pk, route="counter", by=clerk, expected_route="collect")
    assert list(batch.card_requests.values_list("pk", flat=True)) == [stays.pk]
    printing.print_batch_print(batch_id=batch.pk, by=clerk)
    assert _stock(clerk.office) == 4


# --- the ledger always matches --------------------------------------------------------------------------


def test_the_ledger_matches_the_stock_and_the_printed_cards_after_a_mixed_day(clerk, supervisor, frozen_today):
    open_calendar(clerk.office, print_capacity=10, whatsapp=5)
    _receive(supervisor, 20, frozen_today)
    at_counter = [_checked_in(clerk, frozen_today) for _ in range(2)]
    for card_request in at_counter:
        printing.counter_print(card_request_id=card_request.pk, by=clerk)
    printing.print_misprint(card_request_id=at_counter[0].pk, reason="tinta luntur", by=clerk)
    batched = [CardRequestFactory(ready=True, collect=True) for _ in range(3)]
    batched.append(CardRequestFactory(ready=True, post=True))
    batch = printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk)
    printing.print_batch_print(batch_id=batch.pk, by=clerk)
    printing.print_misprint(card_request_id=batched[3].pk, reason="chip gagal", by=clerk)
    printing.blanks_spoil(office=clerk.office, quantity=2, reason="tergores", by=supervisor)
    _receive(supervisor, 5, frozen_today)
    with pytest.raises(errors.StockShort):
        printing.blanks_spoil(office=clerk.office, quantity=100, reason="x", by=supervisor)

    ledger = BlankMovement.objects.filter(office=clerk.office)
    totals = {kind: ledger.filter(kind=kind).aggregate(n=Sum("quantity"))["n"] or 0 for kind in BlankMovement.Kind}
    stock = _stock(clerk.office)
    assert stock == totals["receipt"] + totals["spoilage"] + totals["print"] == 25 - 2 - 2 - 6
    printed_cards = CardRequestEvent.objects.filter(action="status", to_status=S.PRINTED).count()
    assert ledger.filter(kind="print").count() == printed_cards == 6
    assert set(ledger.filter(kind="print").values_list("quantity", flat=True)) == {-1}
    assert ServiceDay.objects.get(office=clerk.office, date=frozen_today).batch_printed == 4
