"""The demo's card requests are made through the services: every stage is represented and consistent."""

from __future__ import annotations

from cards.models import CardRequest, NumberLinkRequest, Route
from delivery.demo import demo_card_requests_create, demo_service_calendar_create
from messaging.models import Notification
from queueing import printing
from queueing.models import BlankMovement, Booking
from registry.demo import demo_accounts_create, residents_generate
from tests.dates import FROZEN_TODAY, SATURDAY, at, next_weekday


def test_demo_card_requests_cover_the_stages(ponorogo, settings, tmp_path, frozen_now):
    settings.MEDIA_ROOT = tmp_path
    demo_accounts_create(password="demo-sandi-123")
    demo_service_calendar_create()
    residents_generate(count=1500, seed=7)
    created = demo_card_requests_create(seed=7)
    assert created == CardRequest.objects.count() >= 40
    statuses = set(CardRequest.objects.values_list("status", flat=True))
    assert {"received", "verifying", "incomplete", "ready_to_print", "printed"} <= statuses
    assert CardRequest.objects.filter(is_urgent=True).count() == 1
    assert CardRequest.objects.needing_recording().count() == 3
    printed = CardRequest.objects.filter(status="printed")
    assert printed.count() == printed.filter(pickup_office__kind="uptd", route=Route.UPTD).count() == 3
    assert not Booking.objects.filter(card_request__in=printed).exists()  # a batch gives nobody a day to come
    # The ledger matches the printed cards: one receipt, one print line per card, the rest in stock.
    office = ponorogo
    assert BlankMovement.objects.filter(office=office, kind=BlankMovement.Kind.RECEIPT).count() == 1
    assert BlankMovement.objects.filter(office=office, kind=BlankMovement.Kind.PRINT).count() == 3
    assert printing.blank_stock_of(office) == 40 - 3
    assert NumberLinkRequest.objects.count() == 2
    assert Notification.objects.filter(template="request_incomplete").count() == 4
    assert demo_card_requests_create(seed=7) == 0  # idempotent


def test_on_a_closed_day_the_demo_prints_nothing(ponorogo, settings, tmp_path, time_machine):
    settings.MEDIA_ROOT = tmp_path
    time_machine.move_to(at(next_weekday(FROZEN_TODAY, SATURDAY), 9), tick=False)
    demo_accounts_create(password="demo-sandi-123")
    demo_service_calendar_create()
    residents_generate(count=1500, seed=7)
    assert demo_card_requests_create(seed=7) >= 40
    assert not CardRequest.objects.filter(status="printed").exists()
    assert CardRequest.objects.filter(status="ready_to_print", route=Route.UPTD).count() == 3
    assert printing.blank_stock_of(ponorogo) == 40
