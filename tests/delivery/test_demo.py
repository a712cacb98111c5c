"""The demo of `make run` (delivery/demo.py): each route in several stages, every stage reached through the
services, and a blank ledger that matches the printed cards."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db.models import Sum

from cards.models import CardRequest, CardRequestEvent, DataSyncRequest, Route
from delivery import demo as demo_module
from delivery.demo import (
    LATE_BLANKS,
    PRINTED_OR_LATER,
    DemoError,
    blank_ledger_problems,
    demo_card_requests_create,
    demo_service_calendar_create,
)
from delivery.models import Shipment, Suket
from delivery.services import blanks_for
from messaging.models import Notification
from queueing.invitations import invitation_first_day
from queueing.models import BlankMovement, BlankStock, Booking, CallStatus, ServiceDay, WalkInTicket
from registry.demo import demo_accounts_create, residents_generate
from tests.dates import FROZEN_TODAY, SATURDAY, at, next_weekday

S = CardRequest.Status


def _seed(settings, tmp_path) -> int:
    settings.MEDIA_ROOT = tmp_path
    demo_accounts_create(password="demo-sandi-123")
    demo_service_calendar_create()
    residents_generate(count=1500, seed=7)
    return demo_card_requests_create(seed=7)


@pytest.fixture
def demo(ponorogo, frozen_now, settings, tmp_path) -> int:
    return _seed(settings, tmp_path)


def _stages() -> dict[str, set[str]]:
    stages = defaultdict(set)
    for route, status in CardRequest.objects.values_list("route", "status"):
        stages[route].add(status)
    return stages


def test_every_route_appears_in_several_stages(demo):
    assert demo == CardRequest.objects.count() >= 60
    stages = _stages()
    assert all(len(stages[route]) >= 2 for route in Route.values)
    assert {S.RECEIVED, S.VERIFYING, S.INCOMPLETE, S.READY_TO_PRINT, S.SCHEDULED, S.PRINTED, S.HANDED_OVER} <= stages[
        Route.COUNTER
    ]
    assert {S.RECEIVED, S.VERIFYING, S.READY_TO_PRINT, S.READY_FOR_PICKUP, S.HANDED_OVER} <= stages[Route.COLLECT]
    assert {S.RECEIVED, S.VERIFYING, S.PRINTED, S.SENT_TO_UPTD, S.HANDED_OVER} <= stages[Route.UPTD]
    assert {S.READY_TO_PRINT, S.PRINTED, S.SHIPPED, S.HANDED_OVER} <= stages[Route.POST]
    # Route 3: both UPTDs submitted, some cards confirmed at the UPTD and not handed over yet.
    uptd = CardRequest.objects.filter(route=Route.UPTD)
    assert uptd.values("pickup_office").distinct().count() == 2
    assert uptd.filter(status=S.SENT_TO_UPTD, dispatch_item__received_at__isnull=False).count() == 2
    assert uptd.filter(status=S.SENT_TO_UPTD, dispatch_item__received_at__isnull=True).count() == 2
    # SINKRONISASI in every state, the residents told of each step.
    syncs = DataSyncRequest.objects.all()
    assert sorted(syncs.values_list("status", flat=True)) == sorted(
        ["received", "received", "documents_requested", "synchronised", "refused"]
    )
    assert syncs.filter(status="received", resident__isnull=True).count() == 1  # the KK does not match
    assert {n.template for n in Notification.objects.filter(template__startswith="data_sync_")} == {
        "data_sync_documents", "data_sync_synchronised", "data_sync_refused",
    }  # fmt: skip
    assert demo_card_requests_create(seed=7) == 0  # does nothing once requests exist


def test_the_blank_ledger_matches_the_printed_cards(demo, ponorogo):
    lines = BlankMovement.objects.filter(office=ponorogo)
    by_kind = dict(lines.values_list("kind").annotate(n=Sum("quantity")).order_by())
    stock = BlankStock.objects.get(office=ponorogo).quantity
    assert stock == by_kind["receipt"] + by_kind["spoilage"] + by_kind["print"] == LATE_BLANKS
    printed = CardRequest.objects.filter(status__in=PRINTED_OR_LATER)
    assert lines.filter(kind="print").count() == printed.count() == 5 + 19
    for card_request in printed:
        assert card_request.blank_movements.filter(kind="print").count() == 1
    # Spoilage: one blank faulty on arrival (no card), and the misprint, naming its reprinted card.
    misprinted = set(CardRequestEvent.objects.filter(action="misprint").values_list("card_request_id", flat=True))
    assert len(misprinted) == 1
    assert set(lines.filter(kind="spoilage", card_request__isnull=False).values_list("card_request_id", flat=True)) == (
        misprinted
    )
    assert lines.filter(kind="spoilage", card_request__isnull=True).count() == 1
    assert CardRequest.objects.get(pk=misprinted.pop()).status in PRINTED_OR_LATER
    assert blank_ledger_problems(ponorogo) == []


def test_the_ledger_check_finds_a_print_without_its_line(demo, ponorogo):
    line = BlankMovement.objects.filter(kind="print").first()
    line.delete()
    problems = blank_ledger_problems(ponorogo)
    assert any("PRINT lines for" in p for p in problems)
    assert any(line.card_request.number in p for p in problems)


def test_route_1_appointments_and_the_counter_day(demo, ponorogo, frozen_today):
    for card_request in CardRequest.objects.filter(status=S.SCHEDULED):
        assert card_request.bookings.filter(status__in=["booked", "checked_in"]).count() == 1
    assert not Booking.objects.filter(status="no_show").exists()  # nothing in the past
    booked = Booking.objects.filter(status="booked")
    assert booked.filter(channel="whatsapp").count() == 4 and all(b.date > frozen_today for b in booked)
    assert set(booked.filter(channel="invitation").values_list("date", flat=True)) == {
        invitation_first_day(office=ponorogo, today=frozen_today)
    }
    assert booked.filter(channel="invitation").count() == 4
    # The resident booked for another day who came today: that appointment was given back.
    assert Booking.objects.filter(channel="whatsapp", status="moved").count() == 1
    today = Booking.objects.filter(date=frozen_today)
    assert today.filter(channel="walk_in", status="checked_in").count() == 7
    tickets = WalkInTicket.objects.filter(day__date=frozen_today)
    assert tickets.count() == 11
    assert tickets.filter(status=CallStatus.SERVED, card_request__status=S.HANDED_OVER).count() == 4
    assert tickets.filter(status=CallStatus.WAITING, card_request__isnull=True).count() == 2
    assert tickets.filter(status=CallStatus.CALLED, card_request__isnull=True).count() == 1
    assert tickets.filter(card_request__status=S.VERIFYING).count() == 1
    day = ServiceDay.objects.get(office=ponorogo, date=frozen_today)
    assert (day.booked_walk_in, day.batch_printed) == (11, 19)
    assert CardRequest.objects.filter(route=Route.COUNTER, status=S.PRINTED).count() == 1


def test_routes_3_and_4_tell_the_resident_the_right_place(demo, ponorogo):
    for card_request in CardRequest.objects.filter(route=Route.UPTD).select_related("pickup_office"):
        for text in card_request.notifications.values_list("text", flat=True):
            assert ponorogo.name not in text
    assert list(Shipment.objects.order_by("status").values_list("status", flat=True)) == [
        "delivered", "failed", "shipped", "shipped",
    ]  # fmt: skip
    failed = Shipment.objects.get(status="failed").card_request
    assert (failed.status, failed.route) == (S.READY_FOR_PICKUP, Route.COLLECT)
    delivered = Shipment.objects.get(status="delivered")
    assert delivered.old_card_collected and delivered.card_request.handover.method == "by_post"


def test_pemula_and_a_suket_while_blanks_are_rationed(demo, frozen_today):
    pemula = CardRequest.objects.filter(kind="pemula")
    assert pemula.filter(status=S.RECEIVED, resident__biometric_recorded=False).count() == 2
    waiting_prr = pemula.get(status=S.VERIFYING)
    assert waiting_prr.resident.biometric_recordings.get().central_status == "pending"
    ready = pemula.filter(status=S.READY_TO_PRINT)
    assert sorted(r.resident.biometric_recordings.get().central_status for r in ready) == ["prr", "prr"]
    assert [r.notifications.filter(template="ready_waits_wajib_ktp").exists() for r in ready.order_by("id")] == [
        False,
        True,
    ]
    sixteen = ready.order_by("id").last().resident
    assert sixteen.age_on(frozen_today) == 16 and sixteen.wajib_ktp_from() > frozen_today
    sukets = Suket.objects.filter(ended_at__isnull=True)
    assert sukets.count() == 2
    for suket in sukets:
        stock, reserved = blanks_for(suket.card_request)
        assert 0 < stock <= reserved  # blanks in stock, but kept for pemula and approved urgent requests
        assert suket.card_request.kind == "rusak" and not suket.card_request.is_urgent


def test_on_a_weekend_the_demo_opens_today_as_an_extra_service_day(ponorogo, time_machine, settings, tmp_path):
    saturday = next_weekday(FROZEN_TODAY, SATURDAY)
    time_machine.move_to(at(saturday, 10), tick=False)
    assert _seed(settings, tmp_path) > 0
    day = ServiceDay.objects.get(office=ponorogo, date=saturday)
    assert day.is_open and day.batch_printed == 19
    assert WalkInTicket.objects.filter(day=day).count() == 11
    assert Booking.objects.filter(status="booked", date__lte=saturday).count() == 0
    assert blank_ledger_problems(ponorogo) == []


def test_a_demo_that_breaks_the_ledger_raises_and_leaves_nothing(ponorogo, frozen_now, settings, tmp_path, monkeypatch):
    monkeypatch.setattr(demo_module, "blank_ledger_problems", lambda office: ["stock 3 != receipts 4"])
    with pytest.raises(DemoError, match="stock 3 != receipts 4"):
        _seed(settings, tmp_path)
    assert not CardRequest.objects.exists()
    assert not BlankMovement.objects.exists()
