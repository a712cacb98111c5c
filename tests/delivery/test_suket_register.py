"""The suket register: every suket with its number, holder (masked NIK), request, validity and state today
(valid, expired, replaced by the card, revoked); filters by state, issue date and number; keyset pages; the
scope (a UPTD operator sees its kecamatan's); its export with the same filters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cards.models import CardRequest
from delivery.register import SuketState
from registry.models import AccessLog
from tests.dates import at
from tests.factories import CardRequestFactory, ResidentFactory, SuketFactory
from tests.registry.exported import content_of, exported

S = CardRequest.Status


def _numbers(response) -> list[str]:
    return [suket.number for suket in response.context["rows"]]


@pytest.fixture
def sukets(clerk, frozen_now, frozen_today):
    """One suket in each state in kecamatan A and one in B, in that order of issue (the register is newest first)."""
    issued = lambda days_ago: at(frozen_today - timedelta(days=days_ago), 10)  # noqa: E731
    revoked = SuketFactory(
        card_request=CardRequestFactory(status=S.CANCELLED), issued_by=clerk, issued_at=issued(40), ended_at=issued(5)
    )
    replaced = SuketFactory(
        card_request=CardRequestFactory(handed_over=True), issued_by=clerk, issued_at=issued(30), ended_at=issued(2)
    )
    expired = SuketFactory(issued_by=clerk, issued_at=issued(200), valid_until=frozen_today - timedelta(days=1))
    valid = SuketFactory(issued_by=clerk, issued_at=issued(1), valid_until=frozen_today)
    in_b = SuketFactory(
        card_request=CardRequestFactory(resident=ResidentFactory(desa_id="35.02.02.2001"), ready=True, collect=True),
        issued_by=clerk,
        issued_at=issued(0),
    )
    return {"revoked": revoked, "replaced": replaced, "expired": expired, "valid": valid, "in_b": in_b}


def test_every_suket_with_its_state_today_newest_first(client, clerk, sukets):
    client.force_login(clerk)

    response = client.get("/suket/")

    rows = response.context["rows"]
    assert [s.number for s in rows] == [sukets[k].number for k in ("in_b", "valid", "expired", "replaced", "revoked")]
    assert {s.pk: s.state for s in rows} == {
        sukets["in_b"].pk: SuketState.VALID,
        sukets["valid"].pk: SuketState.VALID,  # its last day is today: still valid, as its QR page says
        sukets["replaced"].pk: SuketState.REPLACED,
        sukets["revoked"].pk: SuketState.REVOKED,
        sukets["expired"].pk: SuketState.EXPIRED,
    }
    page = response.content.decode()
    for suket in sukets.values():
        assert suket.resident.masked_nik in page and suket.resident.nik not in page
        assert suket.card_request.number in page
    assert "Diganti KTP-el" in page and "Dicabut" in page and "Kedaluwarsa" in page


def test_filters_by_state_issue_date_and_number(client, clerk, sukets, frozen_today):
    client.force_login(clerk)

    assert _numbers(client.get("/suket/", {"state": "replaced"})) == [sukets["replaced"].number]
    assert _numbers(client.get("/suket/", {"state": "expired"})) == [sukets["expired"].number]
    day = (frozen_today - timedelta(days=30)).strftime("%d-%m-%Y")
    assert _numbers(client.get("/suket/", {"issued_from": day, "issued_to": day})) == [sukets["replaced"].number]
    assert _numbers(client.get("/suket/", {"number": sukets["revoked"].number})) == [sukets["revoked"].number]


def test_an_unreadable_filter_is_a_field_error_and_shows_no_rows(client, clerk, sukets):
    client.force_login(clerk)
    response = client.get("/suket/", {"issued_from": "2027-31-12", "number": "abc"})
    page = response.content.decode()
    assert response.status_code == 200 and _numbers(response) == []
    assert "Tulis tanggal sebagai hari-bulan-tahun" in page and "Tulis nomor suket seperti SKT-000123." in page


def test_a_uptd_operator_sees_only_its_kecamatan(client, uptd_a, uptd_b, sukets):
    client.force_login(uptd_a)
    assert sukets["in_b"].number not in _numbers(client.get("/suket/"))
    assert len(_numbers(client.get("/suket/"))) == 4
    client.force_login(uptd_b)
    assert _numbers(client.get("/suket/")) == [sukets["in_b"].number]


def test_keyset_pages_of_50(client, clerk, frozen_now):
    made = [SuketFactory(issued_by=clerk) for _ in range(51)]
    client.force_login(clerk)

    first = client.get("/suket/")
    assert _numbers(first) == [s.number for s in reversed(made[1:])]
    second = client.get("/suket/", {"after": first.context["next_cursor"]})
    assert _numbers(second) == [made[0].number] and second.context["next_cursor"] is None


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_has_the_filtered_rows_masked_and_is_logged(client, uptd_a, sukets, fmt):
    client.force_login(uptd_a)

    response = client.get(f"/suket/ekspor.{fmt}", {"state": "valid"})

    table = exported(response, fmt)
    assert [row[0] for row in table[1:]] == [sukets["valid"].number]
    assert table[1][2] == sukets["valid"].resident.masked_nik and table[1][6] == "Berlaku"
    log = AccessLog.objects.get()
    assert (log.action, log.resident_id) == ("export", None)
    assert "Register suket" in log.detail and "1 baris" in log.detail and "Status: Berlaku" in log.detail


def test_no_full_nik_in_the_csv(client, clerk, sukets):
    client.force_login(clerk)
    data = content_of(client.get("/suket/ekspor.csv")).decode("utf-8-sig")
    for suket in sukets.values():
        assert suket.resident.nik not in data and suket.resident.masked_nik in data


def test_an_export_with_an_unreadable_filter_goes_back_and_exports_nothing(client, clerk, sukets):
    client.force_login(clerk)
    response = client.get("/suket/ekspor.csv", {"issued_to": "besok"})
    assert response.status_code == 302 and response["Location"].startswith("/suket/?")
    assert not AccessLog.objects.exists()
