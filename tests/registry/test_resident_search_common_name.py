"""A common given name that sorts late: the search lists exactly the matching residents of the scope, in name
order, page by page (keyset, no OFFSET), whether a page comes from the short walk near the cursor or from the
name's own index further on."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import DESA_B
from tests.factories import ResidentFactory

LIST = reverse("registry:resident_list")
PAGE = 4


@pytest.fixture
def common_name(ponorogo, monkeypatch):
    """Many names before W without the text, then WAHYUNI... (dense), a few with it inside a name, one in another
    kecamatan. The walk near the cursor is 12 rows, so both ways of finding a page are used."""
    monkeypatch.setattr("registry.views.PAGE_SIZE", PAGE)
    monkeypatch.setattr("registry.pagination.SEARCH_WINDOW", 12)
    for n in range(40):
        ResidentFactory(full_name=f"ADI NUGROHO {n:03d}")
    inside = [ResidentFactory(full_name=f"SRI WAHYUNINGSIH {n}") for n in range(3)]
    inside.append(ResidentFactory(full_name="DWI WAHYUNI"))
    for n in range(30):
        ResidentFactory(full_name=f"TEGUH SANTOSO {n:03d}")
    same = [ResidentFactory(full_name=f"WAHYUNI {'SUHARTO' if n % 2 else 'LESTARI'} {n:02d}") for n in range(14)]
    same.append(ResidentFactory(full_name="WAHYUNI LESTARI 03"))  # the same name twice: the id breaks the tie
    ResidentFactory(full_name="WAHYUNI NGRAYUN", desa_id=DESA_B)
    for n in range(20):
        ResidentFactory(full_name=f"YUSUF HAKIM {n:03d}")
    return sorted(inside + same, key=lambda r: (r.full_name, r.pk))


def _pages(client, url: str, direction: str) -> tuple[list[list[int]], str]:
    pages = []
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        assert not [q["sql"] for q in queries.captured_queries if " OFFSET " in q["sql"].upper()]
        page = response.context["page"]
        pages.append([r.pk for r in page.rows])
        cursor = page.next_cursor if direction == "after" else page.previous_cursor
        if cursor is None:
            return pages, url
        url = f"{LIST}?s={response.context['token']}&{direction}={cursor}"


def test_a_common_name_pages_forward_and_back_in_name_order(client, uptd_a, common_name):
    client.force_login(uptd_a)  # Slahung: the resident in Ngrayun is outside the scope
    location = client.post(LIST, {"q": "wahyuni"})["Location"]

    forward, last = _pages(client, location, "after")

    assert [pk for page in forward for pk in page] == [r.pk for r in common_name]
    assert all(len(page) == PAGE for page in forward[:-1])
    backward, _first = _pages(client, last, "before")
    assert backward[::-1] == forward


def test_the_kabupaten_sees_the_other_kecamatan_too_and_a_full_name_narrows(client, clerk, common_name):
    client.force_login(clerk)
    location = client.post(LIST, {"q": "wahyuni"})["Location"]
    forward, _last = _pages(client, location, "after")
    names = [n for page in forward for n in page]
    assert len(names) == len(common_name) + 1

    location = client.post(LIST, {"q": "wahyuni suharto"})["Location"]
    forward, _last = _pages(client, location, "after")
    expected = [r.pk for r in common_name if r.full_name.startswith("WAHYUNI SUHARTO")]
    assert [pk for page in forward for pk in page] == expected


def test_a_name_nobody_has_gives_an_empty_page(client, clerk, common_name):
    client.force_login(clerk)
    location = client.post(LIST, {"q": "zulkarnaen"})["Location"]
    response = client.get(location)
    assert response.context["page"].rows == []
    assert not response.context["page"].has_next


def test_the_results_of_a_nik_search_do_not_carry_the_nik(client, clerk, ponorogo):
    resident = ResidentFactory(full_name="SITI AMINAH")
    client.force_login(clerk)
    location = client.post(LIST, {"q": resident.nik})["Location"]

    html = client.get(location).content.decode()

    assert "SITI AMINAH" in html
    assert resident.nik not in html  # the search box is left empty rather than echo the full NIK
