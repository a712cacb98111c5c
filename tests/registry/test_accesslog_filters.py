"""The access log's filters (staff member, resident, action, date range), its keyset pages and its export; a
resident is found by a POSTed NIK (logged, never in a URL); check-ins by NIK are logged with the resident found."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from registry.models import AccessLog, Sex
from registry.nik import make_nik
from tests.dates import at
from tests.other_office import clerk_of_another_kabupaten
from tests.registry.exported import exported

SEARCH, REVEAL, EXPORT = AccessLog.Action.SEARCH_NIK, AccessLog.Action.REVEAL_NIK, AccessLog.Action.EXPORT


def _ids(response) -> list[int]:
    return [row.record.pk for row in response.context["table"].rows]


@pytest.fixture
def logged(clerk, supervisor, resident_a, resident_b, frozen_today, time_machine):
    """Rows over three days: the clerk searched A on day -2, revealed B on day -1; the supervisor exported today."""
    rows = {}
    time_machine.move_to(at(frozen_today - timedelta(days=2), 10), tick=False)
    rows["search_a"] = AccessLog.objects.append(user=clerk, action=SEARCH, resident=resident_a, detail="cari")
    time_machine.move_to(at(frozen_today - timedelta(days=1), 10), tick=False)
    rows["reveal_b"] = AccessLog.objects.append(user=clerk, action=REVEAL, resident=resident_b, detail="buka")
    time_machine.move_to(at(frozen_today, 9), tick=False)
    rows["export"] = AccessLog.objects.append(user=supervisor, action=EXPORT, detail="ekspor")
    return rows


def test_filters_by_staff_member_action_and_date_range(client, supervisor, clerk, logged, frozen_today):
    client.force_login(supervisor)

    assert _ids(client.get("/audit/akses/", {"staff": clerk.pk})) == [logged["reveal_b"].pk, logged["search_a"].pk]
    assert _ids(client.get("/audit/akses/", {"action": "export"})) == [logged["export"].pk]
    day = (frozen_today - timedelta(days=1)).strftime("%d-%m-%Y")
    assert _ids(client.get("/audit/akses/", {"date_from": day, "date_to": day})) == [logged["reveal_b"].pk]
    since = (frozen_today - timedelta(days=1)).strftime("%d-%m-%Y")
    assert _ids(client.get("/audit/akses/", {"date_from": since})) == [logged["export"].pk, logged["reveal_b"].pk]


def test_an_unreadable_date_is_a_field_error_and_shows_no_rows(client, supervisor, logged):
    client.force_login(supervisor)
    response = client.get("/audit/akses/", {"date_from": "31-02-2027"})
    assert response.status_code == 200 and _ids(response) == []
    assert "Tulis tanggal sebagai hari-bulan-tahun" in response.content.decode()


def test_a_resident_is_found_by_a_posted_nik_and_the_search_is_logged(client, supervisor, resident_a, logged):
    client.force_login(supervisor)

    response = client.post("/audit/akses/?action=search_nik", {"nik": resident_a.nik})

    assert response.status_code == 302
    assert resident_a.nik not in response["Location"]
    assert f"penduduk={resident_a.pk}" in response["Location"] and "action=search_nik" in response["Location"]
    search = AccessLog.objects.latest("seq")
    assert (search.action, search.resident_id, search.user_id) == (SEARCH, resident_a.pk, supervisor.pk)
    assert resident_a.nik not in search.detail
    page = client.get(response["Location"])
    assert _ids(page) == [search.pk, logged["search_a"].pk]
    assert resident_a.masked_nik in page.content.decode() and resident_a.nik not in page.content.decode()


def test_an_unknown_nik_is_a_field_error_logged_without_a_resident(client, supervisor, logged):
    client.force_login(supervisor)
    unknown = make_nik(kecamatan_code="35.02.01", birth_date=date(1990, 5, 12), sex=Sex.MALE, serial=9999)

    response = client.post("/audit/akses/", {"nik": unknown})

    assert response.status_code == 200
    assert "NIK itu tidak ada di data penduduk wilayah Anda." in response.content.decode()
    assert unknown not in response.content.decode()
    search = AccessLog.objects.latest("seq")
    assert (search.action, search.resident_id) == (SEARCH, None)


def test_a_resident_of_another_kabupaten_cannot_be_picked(client, supervisor, logged, ponorogo):
    other_clerk = clerk_of_another_kabupaten()
    client.force_login(supervisor)
    response = client.get("/audit/akses/", {"staff": other_clerk.pk})
    assert _ids(response) == [] and response.context["form"].errors


def test_keyset_pages_of_25(client, supervisor, clerk, resident_a, frozen_now):
    rows = [AccessLog.objects.append(user=clerk, action=SEARCH, resident=resident_a, detail=str(n)) for n in range(26)]
    client.force_login(supervisor)

    first = client.get("/audit/akses/", {"staff": clerk.pk})
    assert _ids(first) == [row.pk for row in reversed(rows[1:])]
    cursor = first.context["next_cursor"]
    second = client.get("/audit/akses/", {"staff": clerk.pk, "after": cursor})
    assert _ids(second) == [rows[0].pk] and second.context["next_cursor"] is None


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_has_exactly_the_filtered_rows_and_is_logged(client, supervisor, clerk, resident_a, logged, fmt):
    client.force_login(supervisor)

    response = client.get(f"/audit/akses/ekspor.{fmt}", {"staff": clerk.pk, "action": "search_nik"})

    table = exported(response, fmt)
    assert len(table) == 2 and table[1][1] == "petugas" and table[1][3] == "SITI AMINAH"
    assert table[1][4] == resident_a.masked_nik
    export = AccessLog.objects.latest("seq")
    assert (export.action, export.resident_id, export.user_id) == (EXPORT, None, supervisor.pk)
    assert "1 baris" in export.detail and "Petugas: petugas" in export.detail


def test_an_export_with_an_unreadable_filter_goes_back_and_exports_nothing(client, supervisor, logged):
    client.force_login(supervisor)
    before = AccessLog.objects.count()
    response = client.get("/audit/akses/ekspor.csv", {"date_to": "kemarin"})
    assert response.status_code == 302 and response["Location"].startswith("/audit/akses/?")
    assert AccessLog.objects.count() == before


def test_a_check_in_by_nik_is_logged_with_the_resident_found_or_none(client, clerk, resident_a, frozen_now):
    client.force_login(clerk)
    unknown = make_nik(kecamatan_code="35.02.01", birth_date=resident_a.birth_date, sex=Sex.MALE, serial=9998)

    client.post("/loket/hadir/", {"code": resident_a.nik})
    client.post("/loket/hadir/", {"code": unknown})

    found, missing = AccessLog.objects.filter(action=SEARCH).order_by("seq")
    assert (found.resident_id, missing.resident_id) == (resident_a.pk, None)
    assert resident_a.nik not in found.detail and unknown not in missing.detail


def test_the_resident_page_links_to_the_residents_access_rows(client, supervisor, clerk, resident_a, logged):
    client.force_login(supervisor)
    page = client.get(f"/penduduk/{resident_a.pk}/").content.decode()
    assert f'href="/audit/akses/?penduduk={resident_a.pk}"' in page
    assert _ids(client.get("/audit/akses/", {"penduduk": resident_a.pk})) == [logged["search_a"].pk]
    client.force_login(clerk)
    assert 'data-testid="resident-accesslog"' not in client.get(f"/penduduk/{resident_a.pk}/").content.decode()
