"""The NIK mask hides what the rest of a page could complete (issue 12): a UPTD operator rebuilt every full NIK
of a list page from the old mask (3502********0001: head and serial) and the birth date, kecamatan and sex
shown beside it; then, with the new mask, every NIK of the resident's page from the birth date shown there (the
serial is small), without an access-log row. Pages show an age; the birth date is in the audited reveal.

The attacker below reads only what a page shows and is given more than it shows: the kecamatan (digits 5-6)
and the sex (+40 on the day) for free, and it is told which of its hints is the true one. A NIK serial
counts from 0001 per kecamatan, birth date and sex, so real serials are small: it tries the first
SERIAL_GUESSES. A NIK counts as rebuilt when fewer than MIN_CANDIDATES numbers remain.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape
from pypdf import PdfReader

from delivery.services import suket_issue
from queueing import invitations
from registry.models import WAJIB_KTP_AGE, AccessLog, Resident, mask_number
from registry.nik import make_kk, make_nik
from registry.tables import AccessLogTable
from tests.conftest import DESA_A, KEC_A
from tests.dates import THURSDAY, next_weekday
from tests.factories import CardRequestFactory, FamilyFactory, ResidentFactory, appointment_for, open_calendar

SERIAL_GUESSES = 10
MIN_CANDIDATES = 1000
CENTURY_DAYS = 100 * 366

_MASKED = re.compile(r"(?<![0-9*])[0-9*]{4}(?: ?[0-9*]{4}){3}(?![0-9*])")
_DMY = re.compile(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b")
_YMD = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTHS = (
    "januari februari maret april mei juni juli agustus september oktober november desember".split(),
    "january february march april may june july august september october november december".split(),
)
_D_MONTH_Y = re.compile(r"\b(\d{1,2}) ([A-Za-z]+) (\d{4})\b")
_AGE = re.compile(r"\b(\d{1,3}) ?(?:tahun|th|thn|years?)\b", re.IGNORECASE)
_ROW = re.compile(r"<tr\b.*?</tr>", re.DOTALL | re.IGNORECASE)


@dataclass
class Shown:
    """What a page tells about one resident: digit positions of masked numbers, dates, ages, full numbers."""

    digits: dict[int, str] = field(default_factory=dict)
    dates: set[date] = field(default_factory=set)
    ages: set[int] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)

    def add(self, other: Shown) -> None:
        self.digits |= other.digits
        self.dates |= other.dates
        self.ages |= other.ages
        self.numbers |= other.numbers


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def read_shown(text: str) -> Shown:
    """Everything in `text` (HTML, attributes included, or PDF text) an attacker could use."""
    shown = Shown()
    for match in _MASKED.finditer(text):
        number = match.group().replace(" ", "")
        if "*" not in number:
            shown.numbers.add(number)
            continue
        shown.digits |= {i: c for i, c in enumerate(number) if c != "*"}
    found = [_date_or_none(int(y), int(m), int(d)) for d, m, y in _DMY.findall(text)]
    found += [_date_or_none(int(y), int(m), int(d)) for y, m, d in _YMD.findall(text)]
    for d, month_name, y in _D_MONTH_Y.findall(text):
        for months in _MONTHS:
            if month_name.lower() in months:
                found.append(_date_or_none(int(y), months.index(month_name.lower()) + 1, int(d)))
    shown.dates = {d for d in found if d}
    shown.ages = {int(a) for a in _AGE.findall(text)}
    return shown


def _age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _years_before(day: date, years: int) -> date | None:
    return _date_or_none(day.year - years, day.month, day.day)


def _date_digits(born: date, sex: str) -> str:
    return f"{born.day + (40 if sex == 'P' else 0):02d}{born:%m%y}"


def candidates_left(shown: Shown, *, nik: str, sex: str, today: date) -> int:
    """How many NIKs are left for the best-informed attacker who reads `shown` (1 = rebuilt)."""
    if nik in shown.numbers:
        return 1

    def fits(part: str, start: int) -> bool:
        return all(shown.digits.get(start + i, c) == c for i, c in enumerate(part))

    if not fits(nik[:4], 0) or not fits(nik[4:6], 4):  # the page contradicts the number: not about it
        return MIN_CANDIDATES * 10
    # Digits 7-12: the smallest hint (a date shown, a date shown as the 17th birthday "wajib KTP from", an age
    # shown, or any birth date in a century) that still holds the true one.
    century = [today - timedelta(days=n) for n in range(CENTURY_DAYS)]
    hints = [[d] for d in shown.dates]
    hints += [[born] for d in shown.dates if (born := _years_before(d, WAJIB_KTP_AGE))]
    hints += [[d for d in century if _age_on(d, today) == age] for age in shown.ages]
    hints.append(century)
    date_counts = []
    for births in hints:
        parts = {_date_digits(born, sex) for born in births}
        parts = {p for p in parts if fits(p, 6)}
        if nik[6:12] in parts:
            date_counts.append(len(parts))
    serials = {f"{n:04d}" for n in range(1, SERIAL_GUESSES + 1)} | ({nik[12:]} if fits(nik[12:], 12) else set())
    serial_count = len({s for s in serials if fits(s, 12)})
    return min(date_counts) * serial_count


def rows_naming(html: str, resident: Resident) -> list[str]:
    name = escape(resident.full_name)
    return [row for row in _ROW.findall(html) if name in row]


@pytest.fixture
def residents(ponorogo, frozen_today) -> list[Resident]:
    """Seven residents of kecamatan A with real-world (small) serials, men and women, each with a request; the
    last is 16, so her pages tell from when she is wajib KTP (her 17th birthday)."""
    people = []
    for n, (years, days, sex) in enumerate([(17, 3, "L"), (23, 40, "P"), (34, 100, "L"), (45, 200, "P"),
                                            (61, 300, "L"), (80, 5, "P"), (16, 100, "P")]):  # fmt: skip
        born = frozen_today.replace(year=frozen_today.year - years) - timedelta(days=days)
        resident = ResidentFactory(
            desa_id=DESA_A, full_name=f"WARGA UJI MASKER {n}", birth_date=born, sex=sex, serial=1 + n % 3
        )
        CardRequestFactory(resident=resident)
        people.append(resident)
    return people


def _pages_of_a_uptd_operator(client, uptd_a) -> dict[str, str]:
    client.force_login(uptd_a)
    pages = {
        "resident_list": client.get(reverse("registry:resident_list")),
        "cardrequest_list": client.get(reverse("cards:cardrequest_list") + "?antrean=semua"),
    }
    assert all(page.status_code == 200 for page in pages.values())
    return {key: page.content.decode() for key, page in pages.items()}


@pytest.mark.parametrize("page_key", ["resident_list", "cardrequest_list"])
def test_no_nik_can_be_rebuilt_from_one_list_page(client, uptd_a, residents, frozen_today, page_key):
    html = _pages_of_a_uptd_operator(client, uptd_a)[page_key]
    for resident in residents:
        rows = rows_naming(html, resident)
        assert rows, f"{resident.full_name} is not listed on {page_key}"
        shown = read_shown(" ".join(rows))
        assert shown.digits, "the row shows no masked NIK"
        left = candidates_left(shown, nik=resident.nik, sex=resident.sex, today=frozen_today)
        assert left >= MIN_CANDIDATES, f"{page_key}: {resident.full_name}'s NIK is one of {left}"


def test_no_nik_can_be_rebuilt_by_joining_the_list_pages_on_the_name(client, uptd_a, residents, frozen_today):
    pages = _pages_of_a_uptd_operator(client, uptd_a)
    for resident in residents:
        shown = Shown()
        for html in pages.values():
            shown.add(read_shown(" ".join(rows_naming(html, resident))))
        left = candidates_left(shown, nik=resident.nik, sex=resident.sex, today=frozen_today)
        assert left >= MIN_CANDIDATES, f"{resident.full_name}'s NIK is one of {left}"
        assert resident.nik not in pages["resident_list"] + pages["cardrequest_list"]


def test_the_resident_list_shows_an_age_and_no_birth_date(client, uptd_a, residents, frozen_today):
    html = _pages_of_a_uptd_operator(client, uptd_a)["resident_list"]
    for resident in residents:
        shown = read_shown(" ".join(rows_naming(html, resident)))
        assert resident.birth_date not in shown.dates
        assert shown.ages == {resident.age_on(frozen_today)}


def _one_resident_pages(client, resident: Resident) -> dict[str, str]:
    """The pages about one resident that show the masked NIK, before any reveal."""
    card_request = resident.card_requests.get()
    pages = {
        "resident_detail": client.get(reverse("registry:resident_detail", args=[resident.pk])),
        "cardrequest_detail": client.get(reverse("cards:cardrequest_detail", args=[card_request.pk])),
    }
    assert all(page.status_code == 200 for page in pages.values())
    return {key: page.content.decode() for key, page in pages.items()}


@pytest.mark.parametrize("page_key", ["resident_detail", "cardrequest_detail"])
@pytest.mark.parametrize("user_key", ["uptd_a", "clerk"])
def test_no_nik_can_be_rebuilt_from_one_residents_page(request, client, residents, frozen_today, page_key, user_key):
    """The whole page, not a row: the birth date (or the 17th birthday) beside the masked NIK rebuilt it."""
    client.force_login(request.getfixturevalue(user_key))
    for resident in residents:
        html = _one_resident_pages(client, resident)[page_key]
        shown = read_shown(html)
        assert resident.masked_nik in html and resident.nik not in html
        assert resident.birth_date not in shown.dates
        left = candidates_left(shown, nik=resident.nik, sex=resident.sex, today=frozen_today)
        assert left >= MIN_CANDIDATES, f"{page_key}: {resident.full_name}'s NIK is one of {left}"
    assert not AccessLog.objects.exists()  # reading the pages is no reveal


def test_no_nik_can_be_rebuilt_by_joining_a_residents_pages(client, uptd_a, residents, frozen_today):
    client.force_login(uptd_a)
    for resident in residents:
        shown = Shown()
        for html in _one_resident_pages(client, resident).values():
            shown.add(read_shown(html))
        assert candidates_left(shown, nik=resident.nik, sex=resident.sex, today=frozen_today) >= MIN_CANDIDATES


def test_the_resident_page_shows_the_age_and_the_reveal_the_birth_date(client, clerk, residents, frozen_today):
    minor = residents[-1]
    client.force_login(clerk)
    html = client.get(reverse("registry:resident_detail", args=[minor.pk])).content.decode()
    assert f"{minor.age_on(frozen_today)} tahun" in html
    assert f"{minor.wajib_ktp_from():%d-%m-%Y}" not in html
    url = reverse("registry:resident_reveal_nik", args=[minor.pk])
    for headers in ({"HTTP_HX_REQUEST": "true"}, {}):
        revealed = client.post(url, **headers).content.decode()
        assert minor.nik in revealed
        assert f"{minor.birth_date:%d-%m-%Y}" in revealed and f"{minor.wajib_ktp_from():%d-%m-%Y}" in revealed
    rows = AccessLog.objects.filter(action=AccessLog.Action.REVEAL_NIK, resident=minor, user=clerk)
    assert rows.count() == 2


def test_the_attacker_reads_a_17th_birthday_as_a_birth_date(residents, frozen_today):
    """The card request page said "wajib KTP mulai <17th birthday>": the birth date, 17 years later."""
    minor = residents[-1]
    old_row = f"<dd>{minor.masked_nik}</dd><dd>mulai {minor.wajib_ktp_from():%d-%m-%Y}</dd>"
    left = candidates_left(read_shown(old_row), nik=minor.nik, sex=minor.sex, today=frozen_today)
    assert left <= SERIAL_GUESSES


def test_the_attacker_rebuilds_a_row_shown_the_old_way(residents, frozen_today):
    """The check above can fail: the old mask beside a birth date leaves exactly one number, the right one."""
    for resident in residents:
        old_row = (
            f"<tr><td>{resident.nik[:4]}********{resident.nik[-4:]}</td><td>{resident.full_name}</td>"
            f"<td>{resident.sex}</td><td>{resident.birth_date:%d-%m-%Y}</td><td>Slahung</td></tr>"
        )
        assert candidates_left(read_shown(old_row), nik=resident.nik, sex=resident.sex, today=frozen_today) == 1
        # Hiding only the serial is not enough while the birth date stays beside it.
        new_mask_with_date = old_row.replace(f"{resident.nik[:4]}********{resident.nik[-4:]}", resident.masked_nik)
        left = candidates_left(read_shown(new_mask_with_date), nik=resident.nik, sex=resident.sex, today=frozen_today)
        assert left <= SERIAL_GUESSES


def test_the_family_table_of_a_resident_page_shows_ages_and_masks_the_members(client, uptd_a, ponorogo, frozen_today):
    family = FamilyFactory(desa_id=DESA_A)
    head = ResidentFactory(desa_id=DESA_A, full_name="KEPALA KELUARGA", family=family, serial=1)
    child = ResidentFactory(
        desa_id=DESA_A,
        full_name="ANAK KELUARGA",
        family=family,
        serial=2,
        sex="P",
        birth_date=frozen_today.replace(year=frozen_today.year - 12) - timedelta(days=20),
    )
    client.force_login(uptd_a)
    html = client.get(reverse("registry:resident_detail", args=[head.pk])).content.decode()
    row = " ".join(rows_naming(html, child))
    assert child.masked_nik in row and child.birth_date not in read_shown(row).dates
    assert "12 tahun" in row
    assert candidates_left(read_shown(row), nik=child.nik, sex=child.sex, today=frozen_today) >= MIN_CANDIDATES
    # The resident's own page shows an age too: the birth date is inside the audited reveal, with the full NIK.
    assert head.birth_date not in read_shown(html).dates
    assert head.nik not in html and child.nik not in html and family.kk_number not in html
    shown = read_shown(html)
    assert all(i < 4 for i in shown.digits), "a masked number on the page shows more than the kabupaten head"


# --- the mask itself ------------------------------------------------------------------------------------


def test_the_mask_keeps_only_the_kabupaten_head_of_a_nik():
    nik = make_nik(kecamatan_code="35.02.01", birth_date=date(1990, 5, 12), sex="P", serial=1)
    assert nik == "3502015205900001"
    assert mask_number(nik) == "3502************"


def test_a_kk_number_is_masked_the_same_way():
    kk = make_kk(kecamatan_code=KEC_A, registered_on=date(2015, 3, 9), serial=7)
    assert mask_number(kk) == kk[:4] + "*" * 12


@pytest.mark.parametrize("number", ["3502011203900001", "9999999999999999", "3502019999990042"])
def test_the_mask_is_sixteen_characters_and_hides_digits_five_to_sixteen(number):
    masked = mask_number(number)
    assert len(masked) == 16 and masked[:4] == number[:4] and set(masked[4:]) == {"*"}


def test_two_residents_of_one_kabupaten_share_one_mask():
    """Nothing of the kecamatan, date or serial leaks: every NIK of a kabupaten looks the same."""
    one = make_nik(kecamatan_code="35.02.01", birth_date=date(1990, 5, 12), sex="L", serial=1)
    other = make_nik(kecamatan_code="35.02.21", birth_date=date(2001, 1, 30), sex="P", serial=9)
    assert mask_number(one) == mask_number(other)


@pytest.mark.parametrize("number", ["", "3502", "350201120390000", "35020112039000011", "3502-0112-0390-0001"])
def test_a_number_that_is_not_sixteen_characters_is_masked_whole(number):
    assert mask_number(number) == "*" * len(number)


# --- paper and the public suket page ---------------------------------------------------------------------


def test_the_public_suket_page_shows_no_birth_date_and_no_serial(client, clerk, frozen_now):
    resident = ResidentFactory(desa_id=DESA_A, full_name="PEMEGANG SUKET", serial=3)
    card_request = CardRequestFactory(ready=True, collect=True, kind="rusak", resident=resident)
    suket = suket_issue(card_request_id=card_request.pk, by=clerk)  # the office has no blank left
    client.logout()
    html = client.get(reverse("delivery:suket_verify", args=[suket.verify_code])).content.decode()
    assert "PEMEGANG SUKET" in html and resident.masked_nik in html
    assert resident.nik not in html and f"*{resident.nik[-4:]}" not in html
    shown = read_shown(html)
    assert resident.birth_date not in shown.dates and not shown.ages
    assert all(i < 4 for i in shown.digits)


def test_the_invitation_letters_pdf_shows_no_birth_date_and_no_serial(client, clerk, frozen_today):
    open_calendar(clerk.office, print_capacity=10, whatsapp=5, walk_in=3, invitation=5)
    invited = [
        CardRequestFactory(
            ready=True,
            resident=ResidentFactory(desa_id=DESA_A, full_name=f"UNDANGAN {n}", serial=n, whatsapp="6281234567890"),
        ).resident
        for n in (1, 2)
    ]
    day = next_weekday(frozen_today, THURSDAY)
    invitations.invitations_send(office=clerk.office, day=day, by=clerk)
    client.force_login(clerk)
    response = client.get(reverse("queueing:invitation_letters") + f"?day={day.isoformat()}")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for resident in invited:
        assert resident.full_name in text and resident.nik not in text
        assert f"*{resident.nik[-4:]}" not in text
        shown = read_shown(text)
        assert resident.birth_date not in shown.dates
        assert candidates_left(shown, nik=resident.nik, sex=resident.sex, today=frozen_today) >= MIN_CANDIDATES
    assert text.count(invited[0].masked_nik) >= 2  # the desa's cover list and each letter


def test_access_log_rows_written_with_the_old_mask_are_shown_with_the_new_one():
    """The log is append-only, so rows from before the fix keep `3502********0001` in their text."""
    table = AccessLogTable([])
    shown = table.render_detail("Pencarian NIK/KK 3502********0001; Cari penduduk 3502********0042")
    assert shown == "Pencarian NIK/KK 3502************; Cari penduduk 3502************"
    assert table.render_detail("Surat undangan PRM-0001 (PDF)") == "Surat undangan PRM-0001 (PDF)"


# Templates that may render a full number: the audited reveal, and the suket (the holder's own paper, which
# stands in for the KTP-el; its download writes an access-log row).
FULL_NUMBER_TEMPLATES = {"registry/_nik_revealed.html", "delivery/suket.html"}
_NUMBER_IN_TEMPLATE = re.compile(r"\{\{[^}]*\.(?:nik|kk_number)\b(?!\.(?:label|id_for_label|value|errors))[^}]*\}\}")


def test_only_the_reveal_and_the_suket_render_a_number_unmasked():
    """Every other template shows `masked_nik` / `masked_kk` (one mask) and never a slice of the number."""
    root = settings.BASE_DIR / "templates"
    found = {
        str(path.relative_to(root))
        for path in root.rglob("*.html")
        if path.parts[len(root.parts)] != "admin" and _NUMBER_IN_TEMPLATE.search(path.read_text(encoding="utf-8"))
    }
    assert found == FULL_NUMBER_TEMPLATES


# --- the pages issue 14 added: a day's expected list, the suket register, the access log -------------------


@pytest.fixture
def booked_and_holders(clerk, ponorogo, frozen_today) -> tuple[date, list[Resident], list[Resident]]:
    """Residents of kecamatan A expected on a coming Thursday (the UPTD channel, so kecamatan A's operator reads
    them too), and others holding a suket; the same real-world birth dates and small serials as `residents`."""
    open_calendar(clerk.office, print_capacity=20, whatsapp=5, walk_in=5, invitation=5, uptd=5)
    day = next_weekday(frozen_today, THURSDAY, after=True)
    booked, holders = [], []
    for n, (years, days, sex) in enumerate([(17, 3, "L"), (45, 200, "P"), (80, 5, "P")]):
        born = frozen_today.replace(year=frozen_today.year - years) - timedelta(days=days)
        resident = ResidentFactory(desa_id=DESA_A, full_name=f"WARGA HARI {n}", birth_date=born, sex=sex, serial=1 + n)
        appointment_for(CardRequestFactory(ready=True, resident=resident), day=day, channel="uptd")
        booked.append(resident)
        holder = ResidentFactory(
            desa_id=DESA_A, full_name=f"PEMEGANG REGISTER {n}", birth_date=born, sex=sex, serial=4 + n
        )
        card_request = CardRequestFactory(ready=True, collect=True, kind="rusak", resident=holder)
        suket_issue(card_request_id=card_request.pk, by=clerk)
        holders.append(holder)
    return day, booked, holders


def _assert_not_rebuilt(html: str, people: list[Resident], today: date, page_key: str, *, masked: bool = True) -> None:
    for resident in people:
        rows = rows_naming(html, resident)
        assert rows, f"{resident.full_name} is not listed on {page_key}"
        shown = read_shown(" ".join(rows))
        assert resident.nik not in html and (resident.masked_nik in " ".join(rows) or not masked)
        assert resident.birth_date not in read_shown(html).dates
        left = candidates_left(shown, nik=resident.nik, sex=resident.sex, today=today)
        assert left >= MIN_CANDIDATES, f"{page_key}: {resident.full_name}'s NIK is one of {left}"


@pytest.mark.parametrize("user_key", ["uptd_a", "clerk"])
def test_no_nik_can_be_rebuilt_from_the_day_list_or_the_suket_register(
    request, client, booked_and_holders, frozen_today, user_key
):
    day, booked, holders = booked_and_holders
    client.force_login(request.getfixturevalue(user_key))
    pages = {
        "day_expected": (client.get(reverse("queueing:day_expected", args=[day])), booked),
        "suket_register": (client.get(reverse("delivery:suket_register")), holders),
    }
    for page_key, (response, people) in pages.items():
        assert response.status_code == 200
        _assert_not_rebuilt(response.content.decode(), people, frozen_today, page_key)


def test_no_nik_can_be_rebuilt_from_the_access_log(client, clerk, supervisor, booked_and_holders, frozen_today):
    """Each resident's page revealed once (rows naming them), then the supervisor reads the log, filtered by
    one of them too."""
    _day, booked, holders = booked_and_holders
    client.force_login(clerk)
    for resident in booked + holders:
        assert client.post(reverse("registry:resident_reveal_nik", args=[resident.pk])).status_code == 200
    client.force_login(supervisor)
    html = client.get(reverse("registry:accesslog_list")).content.decode()
    _assert_not_rebuilt(html, booked + holders, frozen_today, "accesslog_list", masked=False)  # a row names them
    one = booked[0]
    filtered = client.get(reverse("registry:accesslog_list") + f"?penduduk={one.pk}").content.decode()
    _assert_not_rebuilt(filtered, [one], frozen_today, "accesslog_list?penduduk", masked=False)
    assert one.masked_nik in filtered  # the filter's heading names the resident with the masked NIK
