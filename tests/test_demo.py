"""The demo's card requests are made through the services: every stage is represented and consistent."""

from __future__ import annotations

from cards.models import CardRequest, NumberLinkRequest
from delivery.demo import demo_card_requests_create, demo_service_calendar_create
from messaging.models import Notification
from queueing.models import Booking
from registry.demo import demo_accounts_create, residents_generate


def test_demo_card_requests_cover_the_stages(ponorogo, settings, tmp_path):
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
    assert CardRequest.objects.filter(status="printed", pickup_office__kind="uptd").count() == 3
    assert NumberLinkRequest.objects.count() == 2
    assert Booking.objects.filter(channel="uptd").count() == 3
    assert Notification.objects.filter(template="request_incomplete").count() == 4
    assert demo_card_requests_create(seed=7) == 0  # idempotent
