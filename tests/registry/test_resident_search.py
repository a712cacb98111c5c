from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import AccessLog
from tests.factories import ResidentFactory

LIST = "/penduduk/"


def _search(client, **data):
    response = client.post(LIST, data)
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    return location, client.get(location)


def test_search_by_nik_finds_the_resident_without_nik_in_the_url(client, clerk, resident_a, resident_b):
    client.force_login(clerk)
    location, page = _search(client, q=resident_a.nik)
    assert resident_a.nik not in location
    token = parse_qs(urlparse(location).query)["s"][0]
    assert len(token) >= 12
    table = page.context["table"].as_html(page.wsgi_request)
    assert "SITI AMINAH" in table
    assert "BUDI SANTOSO" not in table
    # Masked in the list: the kabupaten head only.
    assert resident_a.masked_nik in table
    assert resident_a.nik not in table


def test_nik_pasted_with_spaces_and_dots_is_found(client, clerk, resident_a):
    client.force_login(clerk)
    spaced = f"{resident_a.nik[:4]} {resident_a.nik[4:8]}.{resident_a.nik[8:12]} {resident_a.nik[12:]}"
    _, page = _search(client, q=spaced)
    assert "SITI AMINAH" in page.content.decode()


def test_search_by_kk_number_lists_the_family(client, clerk, resident_a):
    client.force_login(clerk)
    _, page = _search(client, q=resident_a.family.kk_number)
    assert "SITI AMINAH" in page.content.decode()


def test_search_by_nik_writes_an_access_log_row(client, clerk, resident_a):
    client.force_login(clerk)
    _search(client, q=resident_a.nik)
    log = AccessLog.objects.get()
    assert log.action == AccessLog.Action.SEARCH_NIK
    assert log.user == clerk
    assert log.resident == resident_a
    assert log.ip_address == "127.0.0.1"
    assert resident_a.nik not in log.detail


def test_name_search_writes_no_access_log(client, clerk, resident_a):
    client.force_login(clerk)
    _, page = _search(client, q="aminah")
    assert "SITI AMINAH" in page.content.decode()
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize(("text", "message"), [("350201120590", "16 digit"), ("35020112059000011", "17 digit")])
def test_a_number_of_the_wrong_length_is_a_field_error(client, clerk, resident_a, text, message):
    client.force_login(clerk)
    response = client.post(LIST, {"q": text})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AccessLog.objects.exists()


def test_uptd_operator_cannot_find_a_resident_of_another_kecamatan(client, uptd_b, resident_a, resident_b):
    client.force_login(uptd_b)
    _, page = _search(client, q=resident_a.nik)
    html = page.content.decode()
    assert "SITI AMINAH" not in html
    _, page = _search(client, q="")
    assert "BUDI SANTOSO" in page.content.decode()


def test_filters_by_kecamatan_sex_and_age_band(client, clerk, resident_a, resident_b):
    ResidentFactory(desa_id="35.02.01.2002", full_name="NENEK LANSIA", sex="P", birth_date=date(1950, 2, 3))
    client.force_login(clerk)
    _, page = _search(client, kecamatan="35.02.01", age_band="60-")
    html = page.content.decode()
    assert "NENEK LANSIA" in html
    assert "SITI AMINAH" not in html and "BUDI SANTOSO" not in html
    _, page = _search(client, sex="L", kecamatan="35.02.02")
    assert "BUDI SANTOSO" in page.content.decode()


def test_an_unknown_search_token_redirects_with_a_message(client, clerk):
    client.force_login(clerk)
    response = client.get(LIST + "?s=bogus-token", follow=True)
    assert "kedaluwarsa" in response.content.decode()


def test_keyset_pages_walk_forward_and_back_without_overlap(client, clerk, ponorogo):
    for n in range(60):
        ResidentFactory(full_name=f"WARGA {n:03d}")
    client.force_login(clerk)
    first = client.get(LIST)
    rows_1 = first.context["page"].rows
    assert [r.full_name for r in rows_1] == [f"WARGA {n:03d}" for n in range(25)]
    second = client.get(LIST + f"?after={first.context['page'].next_cursor}")
    rows_2 = second.context["page"].rows
    assert [r.full_name for r in rows_2] == [f"WARGA {n:03d}" for n in range(25, 50)]
    third = client.get(LIST + f"?after={second.context['page'].next_cursor}")
    assert len(third.context["page"].rows) == 10
    assert not third.context["page"].has_next
    back = client.get(LIST + f"?before={second.context['page'].previous_cursor}")
    assert [r.pk for r in back.context["page"].rows] == [r.pk for r in rows_1]


def test_htmx_page_request_gets_only_the_results_fragment(client, clerk, resident_a):
    client.force_login(clerk)
    response = client.get(LIST, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="results"' in html
    assert '<nav class="navbar' not in html


def test_list_query_budget_does_not_grow_with_rows(client, clerk, ponorogo):
    client.force_login(clerk)
    location = client.post(LIST, {"kecamatan": "35.02.01"})["Location"]
    counts = []
    for new_rows in (10, 90):  # 10 rows shown, then 100 in the table
        ResidentFactory.create_batch(new_rows, desa_id="35.02.01.2002")
        for url in (LIST, location):
            with CaptureQueriesContext(connection) as first_page:
                response = client.get(url)
            cursor = response.context["page"].rows[3].pk
            with CaptureQueriesContext(connection) as later_page:
                client.get(f"{url}{'&' if '?' in url else '?'}after={cursor}")
            counts.append((len(first_page), len(later_page)))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
    assert max(max(pair) for pair in counts) <= 13, counts


def test_desa_options_are_limited_to_the_scope(client, uptd_b):
    client.force_login(uptd_b)
    url = reverse("registry:region_desa_options")
    own = client.get(url, {"kecamatan": "35.02.02"}).content.decode()
    other = client.get(url, {"kecamatan": "35.02.01"}).content.decode()
    assert own.count("<option") > 5
    assert other.count("<option") == 1  # only "all desa"


def test_a_search_token_belongs_to_its_owner(client, clerk, supervisor, resident_a):
    client.force_login(clerk)
    location, _ = _search(client, q=resident_a.nik)
    client.force_login(supervisor)
    response = client.get(location)
    assert response.status_code == 302
    assert response["Location"] == LIST  # the other user's criteria are not applied
    assert "kedaluwarsa" in client.get(LIST).content.decode()


def test_a_concurrent_request_saving_the_session_does_not_lose_the_search(client, clerk, resident_a):
    """htmx loads desa options while the form is posted: the stale session saved last must not drop the search."""
    client.force_login(clerk)
    stale = client.session  # what a slower concurrent request loaded
    location = client.post(LIST, {"q": "aminah"})["Location"]
    stale["last_seen"] = stale.get("last_seen", 0)
    stale.save()  # the slower request finishes and writes its copy of the session
    assert "SITI AMINAH" in client.get(location).content.decode()


def test_old_saved_searches_are_purged(client, clerk, resident_a):
    from datetime import timedelta

    from django.utils import timezone

    from registry.models import SavedSearch
    from registry.tasks import purge_saved_searches

    client.force_login(clerk)
    location, _ = _search(client, q=resident_a.nik)
    SavedSearch.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert purge_saved_searches.delay().get() == 1
    assert not SavedSearch.objects.exists()
    assert "kedaluwarsa" in client.get(location, follow=True).content.decode()
