from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import AccessLog
from tests.factories import ResidentFactory


def test_detail_shows_the_family_with_masked_niks(client, clerk, resident_a):
    child = ResidentFactory(
        desa_id=resident_a.desa_id, family=resident_a.family, full_name="ANAK AMINAH", relation_to_head="anak"
    )
    client.force_login(clerk)
    html = client.get(f"/penduduk/{resident_a.pk}/").content.decode()
    assert "ANAK AMINAH" in html
    assert child.masked_nik in html
    assert resident_a.nik not in html
    assert child.nik not in html
    assert resident_a.family.kk_number not in html


def test_reveal_shows_the_full_nik_and_records_who_when_and_where(client, clerk, resident_a):
    client.force_login(clerk)
    response = client.post(f"/penduduk/{resident_a.pk}/nik/", headers={"HX-Request": "true"}, REMOTE_ADDR="10.1.2.3")
    html = response.content.decode()
    assert resident_a.nik in html
    assert resident_a.family.kk_number in html
    log = AccessLog.objects.get()
    assert (log.user, log.resident, log.action, log.ip_address) == (
        clerk,
        resident_a,
        AccessLog.Action.REVEAL_NIK,
        "10.1.2.3",
    )


def test_reveal_without_htmx_renders_the_page_with_the_nik(client, clerk, resident_a):
    client.force_login(clerk)
    html = client.post(f"/penduduk/{resident_a.pk}/nik/").content.decode()
    assert resident_a.nik in html
    assert "SITI AMINAH" in html
    assert AccessLog.objects.count() == 1


def test_uptd_operator_of_another_kecamatan_gets_404_and_no_log(client, uptd_b, resident_a):
    client.force_login(uptd_b)
    assert client.get(f"/penduduk/{resident_a.pk}/").status_code == 404
    assert client.post(f"/penduduk/{resident_a.pk}/nik/").status_code == 404
    assert not AccessLog.objects.exists()


def test_nik_that_disagrees_with_the_record_is_a_visible_warning(client, clerk, resident_a):
    resident_a.birth_date = resident_a.birth_date.replace(day=3 if resident_a.birth_date.day != 3 else 4)
    resident_a.sex = "P"
    resident_a.save(update_fields=["birth_date", "sex"])
    client.force_login(clerk)
    response = client.get(f"/penduduk/{resident_a.pk}/")
    warnings = response.context["nik_warnings"]
    assert len(warnings) == 2
    assert 'data-testid="nik-warnings"' in response.content.decode()


def test_consistent_record_shows_no_warning(client, clerk, resident_a):
    client.force_login(clerk)
    response = client.get(f"/penduduk/{resident_a.pk}/")
    assert response.context["nik_warnings"] == []


def test_detail_query_budget_does_not_grow_with_family_size(client, clerk, resident_a):
    client.force_login(clerk)
    client.get(f"/penduduk/{resident_a.pk}/")  # warm-up: the first request after login also stores the session
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            client.get(f"/penduduk/{resident_a.pk}/")
        counts.append(len(queries))
        ResidentFactory.create_batch(8, desa_id=resident_a.desa_id, family=resident_a.family)
    assert counts[0] == counts[1] <= 10, counts


def test_accesslog_lists_only_rows_in_scope(client, supervisor, clerk, resident_a):
    client.force_login(clerk)
    client.post(f"/penduduk/{resident_a.pk}/nik/")
    client.force_login(supervisor)
    html = client.get("/audit/akses/").content.decode()
    assert "SITI AMINAH" in html
    assert "petugas" in html


def test_access_log_rows_cannot_be_changed_or_deleted(client, clerk, resident_a):
    from django.db import DatabaseError, transaction

    client.force_login(clerk)
    client.post(f"/penduduk/{resident_a.pk}/nik/")
    log = AccessLog.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=log.pk).update(detail="dihapus")
    with pytest.raises(DatabaseError), transaction.atomic():
        log.delete()
    assert AccessLog.objects.get().detail == log.detail
