from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from registry.models import AccessLog, MaritalStatus, ResidentChange
from registry.resident_services import ResidentError, resident_marital_status_set
from tests.conftest import DESA_A
from tests.dates import at
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
    html = response.content.decode()
    # The page says there is something to check; the details (the NIK's date digits, the birth date) are in the
    # audited reveal.
    assert 'data-testid="nik-warnings"' in html and "(2 hal)" in html
    assert f"{resident_a.birth_date:%d-%m-%Y}" not in html and warnings[0] not in html
    revealed = client.post(f"/penduduk/{resident_a.pk}/nik/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="nik-warning-details"' in revealed
    assert all(escape(warning) in revealed for warning in warnings)


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


# -- marital status: shown on the page, changed by clerks with a history row -------------------------------

MARITAL_URL = "/penduduk/{}/status-perkawinan/"


def test_page_shows_the_marital_status_and_the_form_to_clerks(client, clerk, resident_a):
    resident_a.marital_status = MaritalStatus.WIDOWED
    resident_a.save(update_fields=["marital_status"])
    client.force_login(clerk)
    html = client.get(f"/penduduk/{resident_a.pk}/").content.decode()
    assert "Cerai mati" in html
    assert 'data-testid="marital-status-form"' in html


def test_uptd_operator_sees_the_status_but_no_form(client, uptd_a, resident_a):
    client.force_login(uptd_a)
    html = client.get(f"/penduduk/{resident_a.pk}/").content.decode()
    assert "Tidak diketahui" in html
    assert 'data-testid="marital-status-form"' not in html


def test_page_tells_from_when_a_minor_is_wajib_ktp(client, clerk, ponorogo, frozen_today, time_machine):
    seventeenth_birthday = frozen_today + timedelta(days=1)
    born = seventeenth_birthday.replace(year=seventeenth_birthday.year - 17)
    minor = ResidentFactory(desa_id=DESA_A, birth_date=born)
    client.force_login(clerk)
    response = client.get(f"/penduduk/{minor.pk}/")
    assert response.context["wajib_ktp"] is False
    html = response.content.decode()
    # The 17th birthday is the birth date 17 years on: the page says "from the 17th birthday", the audited
    # reveal gives the day.
    assert "ulang tahun ke-17" in html and f"{seventeenth_birthday:%d-%m-%Y}" not in html
    revealed = client.post(f"/penduduk/{minor.pk}/nik/", HTTP_HX_REQUEST="true").content.decode()
    assert f"wajib KTP mulai {seventeenth_birthday:%d-%m-%Y}" in revealed
    time_machine.move_to(at(seventeenth_birthday, 9), tick=False)
    client.force_login(clerk)  # the session ended while the clock moved a day
    assert client.get(f"/penduduk/{minor.pk}/").context["wajib_ktp"] is True


def test_clerk_sets_the_marital_status_and_the_history_keeps_old_and_new(client, clerk, resident_a):
    client.force_login(clerk)
    response = client.post(MARITAL_URL.format(resident_a.pk), {"marital_status": "kawin"})
    assert response.status_code == 302
    assert response["Location"] == f"/penduduk/{resident_a.pk}/"
    resident_a.refresh_from_db()
    assert resident_a.marital_status == MaritalStatus.MARRIED
    (change,) = ResidentChange.objects.filter(resident=resident_a)
    assert change.changes == {"marital_status": ["", "kawin"]}
    assert change.resident_import is None
    assert "Kawin" in client.get(response["Location"]).content.decode()


def test_setting_the_same_status_again_writes_no_history(client, clerk, resident_a):
    client.force_login(clerk)
    client.post(MARITAL_URL.format(resident_a.pk), {"marital_status": "cerai_hidup"})
    client.post(MARITAL_URL.format(resident_a.pk), {"marital_status": "cerai_hidup"})
    assert ResidentChange.objects.filter(resident=resident_a).count() == 1


def test_unknown_value_or_missing_field_changes_nothing(client, clerk, resident_a):
    resident_a.marital_status = MaritalStatus.MARRIED
    resident_a.save(update_fields=["marital_status"])
    client.force_login(clerk)
    assert client.post(MARITAL_URL.format(resident_a.pk), {"marital_status": "janda"}).status_code == 302
    assert client.post(MARITAL_URL.format(resident_a.pk), {}).status_code == 302
    resident_a.refresh_from_db()
    assert resident_a.marital_status == MaritalStatus.MARRIED
    assert not ResidentChange.objects.exists()


def test_clerk_may_set_the_status_back_to_unknown(client, clerk, resident_a):
    resident_a.marital_status = MaritalStatus.MARRIED
    resident_a.save(update_fields=["marital_status"])
    client.force_login(clerk)
    client.post(MARITAL_URL.format(resident_a.pk), {"marital_status": ""})
    resident_a.refresh_from_db()
    assert resident_a.marital_status == ""
    assert ResidentChange.objects.get().changes == {"marital_status": ["kawin", ""]}


def test_anonymous_cannot_set_the_marital_status(client, resident_a):
    response = client.post(MARITAL_URL.format(resident_a.pk), {"marital_status": "kawin"})
    assert response.status_code == 302 and "/masuk/" in response["Location"]
    resident_a.refresh_from_db()
    assert resident_a.marital_status == ""


def test_uptd_operator_of_another_kecamatan_gets_404_for_the_marital_status(client, uptd_b, resident_a):
    client.force_login(uptd_b)
    assert client.post(MARITAL_URL.format(resident_a.pk), {"marital_status": "kawin"}).status_code == 404
    resident_a.refresh_from_db()
    assert resident_a.marital_status == ""
    assert not ResidentChange.objects.exists()


def test_uptd_operator_of_the_kecamatan_may_not_change_residents(client, uptd_a, resident_a):
    client.force_login(uptd_a)
    assert client.post(MARITAL_URL.format(resident_a.pk), {"marital_status": "kawin"}).status_code == 403
    assert not ResidentChange.objects.exists()


def test_marital_status_is_changed_by_post_only(client, clerk, resident_a):
    client.force_login(clerk)
    assert client.get(MARITAL_URL.format(resident_a.pk), {"marital_status": "kawin"}).status_code == 405
    resident_a.refresh_from_db()
    assert resident_a.marital_status == ""


def test_service_refuses_staff_without_the_permission_or_the_scope(uptd_a, uptd_b, resident_a):
    with pytest.raises(ResidentError):
        resident_marital_status_set(resident_id=resident_a.pk, status="kawin", by=uptd_a)
    uptd_b.user_permissions.add(Permission.objects.get(codename="change_resident"))
    uptd_b = type(uptd_b).objects.get(pk=uptd_b.pk)  # fresh permission cache
    with pytest.raises(ResidentError, match="wilayah"):
        resident_marital_status_set(resident_id=resident_a.pk, status="kawin", by=uptd_b)
    resident_a.refresh_from_db()
    assert resident_a.marital_status == ""
    assert not ResidentChange.objects.exists()


def test_service_refuses_a_status_that_is_not_a_marital_status(clerk, resident_a):
    with pytest.raises(ResidentError):
        resident_marital_status_set(resident_id=resident_a.pk, status="KAWIN", by=clerk)
