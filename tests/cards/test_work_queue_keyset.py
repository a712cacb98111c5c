"""The work queue's keyset pages: every tab, walked forward and back, lists each of its rows exactly once in work
order (approved urgent first, then the oldest), with filters; no SQL OFFSET; the tabs' counts, the closed tab
capped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cards import tables
from cards.models import CardRequest
from cards.tables import QUEUE_KEYS, queue_condition
from tests.conftest import DESA_B
from tests.factories import CardRequestFactory, ResidentFactory

PAGE = 3
STATUSES = [
    "received", "verifying", "incomplete", "ready_to_print", "scheduled", "printed", "ready_for_pickup",
    "shipped", "sent_to_uptd", "handed_over", "rejected", "cancelled",
]  # fmt: skip


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr("cards.views.PER_PAGE", PAGE)


@pytest.fixture
def queue_rows(ponorogo, frozen_now):
    """Two requests per status in Slahung and one in Ngrayun, received on different days; some share the same
    instant (the id breaks the tie), some are approved urgent, some wait for urgent approval."""
    rows = []
    for n, status in enumerate(STATUSES * 2 + STATUSES):
        resident = ResidentFactory() if n < 2 * len(STATUSES) else ResidentFactory(desa_id=DESA_B)
        extra = {}
        if n % 5 == 0:
            extra = {"urgent_status": "approved", "urgent_reason": "travel", "is_urgent": True}
        elif n % 7 == 0:
            extra = {"urgent_status": "requested", "urgent_reason": "travel"}
        at = frozen_now - timedelta(days=(n * 7) % 11, hours=n % 3)
        rows.append(
            CardRequestFactory(
                resident=resident,
                status=status,
                kind="hilang" if n % 2 else "rusak",
                queued_at=at,
                created_at=at,
                **extra,
            )
        )
    return rows


def _expected(user, queue: str, **filters) -> list[int]:
    rows = CardRequest.objects.visible_to(user).filter(queue_condition(queue)).filter(**filters)
    return sorted(rows.values_list("id", flat=True), key=lambda pk: _work_key(rows.model.objects.get(pk=pk)))


def _work_key(row: CardRequest):
    return (not row.is_urgent, row.queued_at, row.pk)


def _walk(client, url: str) -> tuple[list[int], list[list[int]], str]:
    """Follow the next links from `url`; the ids seen, page by page, and the last page's URL."""
    pages, seen = [], []
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        assert not [q["sql"] for q in queries.captured_queries if " OFFSET " in q["sql"].upper()]
        ids = [row.pk for row in response.context["page"].rows]
        pages.append(ids)
        seen += ids
        if not response.context["next_url"]:
            return seen, pages, url
        assert len(ids) == PAGE
        url = reverse("cards:cardrequest_list") + response.context["next_url"]


def _walk_back(client, url: str) -> list[list[int]]:
    pages = []
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert not [q["sql"] for q in queries.captured_queries if " OFFSET " in q["sql"].upper()]
        pages.append([row.pk for row in response.context["page"].rows])
        if not response.context["previous_url"]:
            return pages[::-1]
        url = reverse("cards:cardrequest_list") + response.context["previous_url"]


@pytest.mark.parametrize("queue", QUEUE_KEYS)
def test_every_tab_pages_forward_and_back_in_work_order(client, clerk, queue_rows, small_pages, queue):
    client.force_login(clerk)
    expected = _expected(clerk, queue)
    assert expected, "every tab has rows in this data"

    seen, pages, last = _walk(client, f"{reverse('cards:cardrequest_list')}?antrean={queue}")

    assert seen == expected  # each row exactly once, in work order
    assert _walk_back(client, last) == pages  # the previous links give back the same pages


@pytest.mark.parametrize("queue", ["semua", "selesai", "verifikasi"])
def test_a_uptd_pages_through_its_kecamatan_only(client, uptd_a, queue_rows, small_pages, queue):
    client.force_login(uptd_a)
    expected = _expected(uptd_a, queue)
    assert expected and all(CardRequest.objects.get(pk=pk).kecamatan_id == "35.02.01" for pk in expected)
    assert len(expected) < CardRequest.objects.filter(queue_condition(queue)).count()

    seen, pages, last = _walk(client, f"{reverse('cards:cardrequest_list')}?antrean={queue}")

    assert seen == expected
    assert _walk_back(client, last) == pages


@pytest.mark.parametrize("queue", ["semua", "selesai"])
def test_a_filter_travels_with_the_cursor(client, clerk, queue_rows, small_pages, queue):
    client.force_login(clerk)
    expected = _expected(clerk, queue, kind="hilang")
    assert expected and len(expected) > PAGE

    seen, pages, last = _walk(client, f"{reverse('cards:cardrequest_list')}?antrean={queue}&kind=hilang")

    assert seen == expected
    assert "kind=hilang" in last and "after=" in last
    assert _walk_back(client, last) == pages


def test_a_cursor_outside_the_scope_starts_at_the_first_page(client, uptd_a, queue_rows, small_pages):
    outside = next(r for r in queue_rows if r.kecamatan_id != "35.02.01" and r.status == "received")
    client.force_login(uptd_a)

    response = client.get(f"{reverse('cards:cardrequest_list')}?antrean=semua&after={outside.pk}")

    assert [row.pk for row in response.context["page"].rows] == _expected(uptd_a, "semua")[:PAGE]


def test_tab_counts_are_right_and_the_closed_tab_is_capped(client, clerk, uptd_a, queue_rows, monkeypatch):
    client.force_login(clerk)
    response = client.get(reverse("cards:cardrequest_list"))
    counts = {key: figure for key, _label, figure in response.context["tabs"]}
    for key in QUEUE_KEYS:
        assert counts[key] == str(CardRequest.objects.filter(queue_condition(key)).count()), key
    assert counts["selesai"] == "9"

    monkeypatch.setattr(tables, "CLOSED_COUNT_CAP", 8)
    response = client.get(reverse("cards:cardrequest_list"))
    counts = {key: figure for key, _label, figure in response.context["tabs"]}
    assert counts["selesai"] == "lebih dari 8"
    assert counts["semua"] == "27"  # open tabs are never capped
    assert "lebih dari 8" in response.content.decode()

    client.force_login(uptd_a)
    response = client.get(reverse("cards:cardrequest_list"))
    counts = {key: figure for key, _label, figure in response.context["tabs"]}
    assert counts["selesai"] == "6"  # Slahung's own closed requests: under the cap
    assert counts["semua"] == "18"


def test_the_counts_read_only_open_rows_and_at_most_the_cap_of_closed_ones(clerk, queue_rows):
    with CaptureQueriesContext(connection) as queries:
        counts = tables.queue_counts(CardRequest.objects.visible_to(clerk))
    assert counts["semua"] == 27 and counts["selesai"] == 9
    open_query, closed_query = (q["sql"] for q in queries.captured_queries)
    assert "'handed_over'" not in open_query and "'received'" in open_query
    assert f"LIMIT {tables.CLOSED_COUNT_CAP + 1}" in closed_query


def test_the_export_buttons_carry_the_tab_and_filters_without_the_cursor(client, clerk, queue_rows, small_pages):
    client.force_login(clerk)
    first = _expected(clerk, "semua")[0]

    response = client.get(f"{reverse('cards:cardrequest_list')}?antrean=semua&kind=hilang&after={first}")

    assert response.context["export_query"] == "antrean=semua&kind=hilang"
    html = response.content.decode()
    if "request-export" in html:  # the export URL is added by the exports part of the product
        assert reverse("cards:cardrequest_export", args=["csv"]) + "?antrean=semua&amp;kind=hilang" in html
