"""Route 2: printed cards waiting at the office, the longest stored first, with their days since printed and
stored; handed over in person from the request page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cards import services as card_services
from cards.models import CardRequest, CardRequestEvent, Handover
from cards.workflow import card_move_as
from registry import clock
from tests.conftest import DESA_B
from tests.factories import CardRequestFactory, ResidentFactory
from tests.other_office import clerk_of_another_kabupaten

S = CardRequest.Status


def _stored(clerk, time_machine, *, printed_days_ago: int, stored_days_ago: int, **kwargs) -> CardRequest:
    """A route-2 card printed and stored some days before now (the clock is moved back for each step)."""
    now = clock.now()
    card_request = CardRequestFactory(printed=True, collect=True, **kwargs)
    CardRequestEvent.objects.create(
        card_request=card_request, at=now - timedelta(days=printed_days_ago), action="status",
        from_status=S.READY_TO_PRINT, to_status=S.PRINTED,
    )  # fmt: skip
    time_machine.move_to(now - timedelta(days=stored_days_ago), tick=False)
    card_move_as(clerk, card_request_id=card_request.pk, to_status=S.READY_FOR_PICKUP, expected_status=S.PRINTED)
    time_machine.move_to(now, tick=False)
    return card_request


def test_pickup_list_shows_the_longest_waiting_first_with_their_days(client, clerk, frozen_now, time_machine):
    recent = _stored(clerk, time_machine, printed_days_ago=3, stored_days_ago=2)
    oldest = _stored(clerk, time_machine, printed_days_ago=45, stored_days_ago=40)
    CardRequestFactory(printed=True, collect=True)  # printed, not stored yet
    CardRequestFactory(sent_to_uptd=True)
    client.force_login(clerk)
    page = client.get("/pengambilan/").content.decode()
    assert page.index(oldest.number) < page.index(recent.number)
    assert oldest.resident.masked_nik in page and oldest.resident.nik not in page
    rows = client.get("/pengambilan/").context["rows"]
    assert [(r.card_request.pk, r.days_since_printed, r.days_stored) for r in rows] == [
        (oldest.pk, 45, 40),
        (recent.pk, 3, 2),
    ]


def test_pickup_list_filters_by_days_stored_and_kecamatan(client, clerk, frozen_now, time_machine):
    old = _stored(clerk, time_machine, printed_days_ago=31, stored_days_ago=30)
    new = _stored(clerk, time_machine, printed_days_ago=2, stored_days_ago=1)
    elsewhere = _stored(
        clerk, time_machine, printed_days_ago=60, stored_days_ago=60, resident=ResidentFactory(desa_id=DESA_B)
    )
    client.force_login(clerk)

    def shown(query: str) -> set[int]:
        return {r.card_request.pk for r in client.get(f"/pengambilan/?{query}").context["rows"]}

    assert shown("") == {old.pk, new.pk, elsewhere.pk}
    assert shown("min_days=30") == {old.pk, elsewhere.pk}
    assert shown("kecamatan=35.02.01") == {old.pk, new.pk}
    assert shown("kecamatan=35.02.01&min_days=30") == {old.pk}
    assert shown("min_days=-1") == {old.pk, new.pk, elsewhere.pk}  # an invalid filter filters nothing


def test_pickup_list_is_scoped_and_for_clerks(client, clerk, uptd_a, frozen_now, time_machine):
    stored = _stored(clerk, time_machine, printed_days_ago=1, stored_days_ago=1)
    client.force_login(clerk_of_another_kabupaten())
    assert stored.number not in client.get("/pengambilan/").content.decode()
    client.force_login(uptd_a)
    assert client.get("/pengambilan/").status_code == 403
    client.logout()
    assert client.get("/pengambilan/").status_code == 302


def test_pickup_list_query_count_does_not_grow_with_rows(client, clerk, frozen_now, time_machine):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/pengambilan/").status_code == 200
        return len(captured.captured_queries)

    _stored(clerk, time_machine, printed_days_ago=2, stored_days_ago=1)
    client.force_login(clerk)
    few = count()
    for days in range(3, 9):
        _stored(clerk, time_machine, printed_days_ago=days, stored_days_ago=days - 1)
    assert count() == few


def test_a_stored_card_is_handed_over_in_person_only(clerk, frozen_now, time_machine):
    stored = _stored(clerk, time_machine, printed_days_ago=5, stored_days_ago=4, kind="hilang")
    with pytest.raises(card_services.CardRequestError, match="sidik jari"):
        card_services.card_request_transition(
            card_request_id=stored.pk, to_status=S.HANDED_OVER, by=clerk, expected_status=S.READY_FOR_PICKUP
        )
    card_services.card_request_transition(
        card_request_id=stored.pk,
        to_status=S.HANDED_OVER,
        by=clerk,
        expected_status=S.READY_FOR_PICKUP,
        handover_confirmed=True,
    )
    handover = Handover.objects.get(card_request=stored)
    assert (handover.method, handover.fingerprint_verified, handover.activated) == ("in_person", True, True)
