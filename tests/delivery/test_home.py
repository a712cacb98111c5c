"""The home page per role: today's figures match hand-counted rows (rows out of scope and closed rows do not
count), each figure's link opens the list showing exactly those rows, and the page costs the same number of
queries with 1 and with 30 rows of each kind."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from cards.models import CardRequest
from delivery.home import home_sections
from intake.models import Thread
from queueing.calendar import service_day_get
from queueing.counter import counter_day
from queueing.models import BlankMovement, BlankStock, Booking, CallStatus, ServiceDay, WalkInTicket
from registry import clock
from registry.models import Office
from registry.offices import offices_create_for_kabupaten
from registry.regions import region_codes, regions_load
from tests.conftest import DESA_A, DESA_B
from tests.dates import TUESDAY, next_weekday
from tests.factories import CardRequestFactory, NotificationFactory, ResidentFactory, open_calendar
from tests.intake.inbox_rows import arrive, office_number, sender

PACITAN_DESA = "35.01.01.2001"
S = CardRequest.Status


@pytest.fixture
def pacitan(ponorogo):
    """Another kabupaten: nothing of it is in a Ponorogo account's scope."""
    regions_load(within="35.01")
    region_codes.cache_clear()
    head, _branches = offices_create_for_kabupaten(kabupaten_code="35.01")
    yield head
    region_codes.cache_clear()


def _request(desa: str, **traits) -> CardRequest:
    return CardRequestFactory(resident=ResidentFactory(desa_id=desa), **traits)


def _figures(user) -> dict[str, tuple[int | None, str]]:
    """{(section key, figure key): (value, url)} of the user's home page."""
    return {(s.key, f.key): (f.value, f.url) for s in home_sections(user=user) for f in s.figures}


def _page(client, user, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _queue_ids(client, user, url: str) -> set[int]:
    """The request ids the work queue shows at `url`."""
    html = _page(client, user, url)
    table = html[html.index('id="request-table"') :]
    return {int(pk) for pk in re.findall(r'<tr[^>]*data-id="(\d+)"', table)}


@pytest.fixture
def requests_world(ponorogo, pacitan):
    """Requests in every stage in Ponorogo (kecamatan A and B), closed ones, and Pacitan's (out of scope)."""
    rows = {
        "received_a": _request(DESA_A, received=True),
        "verifying_b": _request(DESA_B, verifying=True),
        "urgent_a": _request(DESA_A, verifying=True, urgent_status="requested", urgent_reason="travel"),
        "incomplete_a": _request(DESA_A, incomplete=True),
        "incomplete_b": _request(
            DESA_B, status=S.INCOMPLETE, missing_items=["Surat kehilangan dari kepolisian", "Kartu Keluarga asli"]
        ),
        "ready_a": _request(DESA_A, ready=True),
        "printed_b": _request(DESA_B, printed=True),
        "sent_a": _request(DESA_A, sent_to_uptd=True),
        "sent_b": _request(DESA_B, sent_to_uptd=True),
        "pickup_a": _request(DESA_A, ready_for_pickup=True, collect=True),
    }
    # Closed: never counted, whatever they were.
    _request(DESA_A, handed_over=True)
    _request(DESA_A, status=S.REJECTED, urgent_status="requested", urgent_reason="travel")
    _request(DESA_B, status=S.CANCELLED)
    # Another kabupaten's.
    _request(PACITAN_DESA, received=True)
    _request(PACITAN_DESA, incomplete=True)
    _request(PACITAN_DESA, verifying=True, urgent_status="requested", urgent_reason="travel")
    _request(PACITAN_DESA, sent_to_uptd=True)
    return rows


def _ids(rows, *keys) -> set[int]:
    return {rows[key].pk for key in keys}


# --- clerk ------------------------------------------------------------------------------------------------


def test_clerk_figures_match_the_requests_and_each_link_shows_exactly_them(client, clerk, requests_world):
    rows = requests_world
    figures = _figures(clerk)
    expected = {
        "verify": _ids(rows, "received_a", "verifying_b", "urgent_a"),
        "incomplete": _ids(rows, "incomplete_a", "incomplete_b"),
    }
    for key, ids in expected.items():
        value, url = figures[("work", key)]
        assert value == len(ids), key
        assert _queue_ids(client, clerk, url) == ids, key
    # A clerk decides no urgency and follows no stages.
    assert ("work", "urgent") not in figures
    assert not any(section == "stages" for section, _key in figures)


def test_clerk_sees_what_incomplete_requests_still_miss_most_often_first(clerk, requests_world):
    work = next(section for section in home_sections(user=clerk) if section.key == "work")
    assert work.details == [("Surat kehilangan dari kepolisian", 2), ("Kartu Keluarga asli", 1)]


def test_clerk_sees_todays_arrivals_as_the_counter_counts_them(client, clerk, ponorogo, frozen_today):
    open_calendar(ponorogo)
    today = service_day_get(office=ponorogo, day=frozen_today)
    tomorrow = service_day_get(office=ponorogo, day=frozen_today + timedelta(days=1))
    now = today_at = clock.now()
    B = Booking.Status

    def book(day, number, status, **extra):
        card_request = _request(DESA_A, scheduled=True)
        return Booking.objects.create(
            card_request=card_request, day=day, office=ponorogo, date=day.date, channel="whatsapp", number=number,
            status=status, **extra,
        )  # fmt: skip

    not_come = book(today, 1, B.BOOKED)
    book(today, 2, B.CHECKED_IN, checked_in_at=now, call_status=CallStatus.WAITING)
    book(today, 3, B.CHECKED_IN, checked_in_at=now, call_status=CallStatus.SERVED)
    book(today, 4, B.NO_SHOW)
    book(today, 5, B.CANCELLED)  # not expected any more
    book(tomorrow, 1, B.BOOKED)  # another day
    WalkInTicket.objects.create(day=today, number=1, status=CallStatus.WAITING, issued_at=today_at)
    WalkInTicket.objects.create(day=today, number=2, status=CallStatus.SERVED, issued_at=today_at)
    WalkInTicket.objects.create(day=tomorrow, number=1, status=CallStatus.WAITING, issued_at=today_at)

    figures = _figures(clerk)
    assert figures[("arrivals", "expected")][0] == 4
    assert figures[("arrivals", "arrived")][0] == 4  # two checked in, two walk-in numbers
    assert figures[("arrivals", "served")][0] == 2
    arrivals = next(section for section in home_sections(user=clerk) if section.key == "arrivals")
    assert arrivals.figures[0].note == "1 belum datang"
    # The counter's own day list counts the same rows.
    counts = counter_day(office=ponorogo).counts
    assert counts["arrived"] == 4
    assert counts[CallStatus.SERVED] == 2
    assert counts["expected"] == 1
    html = _page(client, clerk, figures[("arrivals", "expected")][1])
    assert not_come.card_request.resident.full_name in html


def test_clerk_sees_unanswered_threads_and_the_oldest_ones_age(client, clerk, ponorogo, pacitan, frozen_now):
    number = office_number(ponorogo)
    oldest = arrive(number, sender(at=frozen_now), at=frozen_now - timedelta(hours=3, minutes=5), text="halo")
    newer = arrive(number, sender(at=frozen_now), at=frozen_now - timedelta(minutes=10), text="tanya")
    answered = arrive(number, sender(at=frozen_now), at=frozen_now - timedelta(days=2), text="ok", waits=False)
    elsewhere = arrive(office_number(pacitan), sender(at=frozen_now), at=frozen_now - timedelta(days=5), text="x")

    value, url = _figures(clerk)[("messages", "inbox")]
    assert value == 2
    messages = next(section for section in home_sections(user=clerk) if section.key == "messages")
    assert messages.figures[0].note == "pesan terlama menunggu 3 jam 5 menit"
    html = _page(client, clerk, url)
    shown = {int(pk) for pk in re.findall(r'data-thread="(\d+)"', html)}
    assert shown == {oldest.thread_id, newer.thread_id}
    assert answered.thread_id not in shown and elsewhere.thread_id not in shown
    assert Thread.objects.count() == 4


# --- UPTD operator ----------------------------------------------------------------------------------------


def test_uptd_operator_follows_its_kecamatan_by_stage_and_the_cards_to_hand_over(client, uptd_a, requests_world):
    rows = requests_world
    figures = _figures(uptd_a)
    stages = {
        "stage-verifikasi": _ids(rows, "received_a", "urgent_a"),
        "stage-belum-lengkap": _ids(rows, "incomplete_a"),
        "stage-siap-cetak": _ids(rows, "ready_a"),
        "stage-terjadwal": set(),
        "stage-dicetak": set(),
        "stage-penyerahan": _ids(rows, "sent_a", "pickup_a"),
        "stage-semua": _ids(rows, "received_a", "urgent_a", "incomplete_a", "ready_a", "sent_a", "pickup_a"),
    }
    for key, ids in stages.items():
        value, url = figures[("stages", key)]
        assert value == len(ids), key
        assert _queue_ids(client, uptd_a, url) == ids, key
    value, url = figures[("uptd", "handover")]
    assert value == 1
    assert _queue_ids(client, uptd_a, url) == _ids(rows, "sent_a")
    value, url = figures[("uptd", "incomplete")]
    assert value == 1
    assert _queue_ids(client, uptd_a, url) == _ids(rows, "incomplete_a")
    uptd = next(section for section in home_sections(user=uptd_a) if section.key == "uptd")
    assert uptd.figures[0].note == "1 belum dikonfirmasi diterima (Kiriman UPTD)"  # no dispatch confirmed it
    assert uptd.details == [("Surat kehilangan dari kepolisian", 1)]  # kecamatan B's missing KK is not its
    # No counter, no blanks, no office settings for a UPTD operator.
    assert {section for section, _key in figures} == {"uptd", "stages", "messages"}


# --- supervisor -------------------------------------------------------------------------------------------


def test_supervisor_sees_the_office_urgent_requests_dead_messages_and_sync(client, supervisor, requests_world, pacitan):
    rows = requests_world
    figures = _figures(supervisor)
    value, url = figures[("work", "urgent")]
    assert value == 1
    assert _queue_ids(client, supervisor, url) == _ids(rows, "urgent_a")
    value, url = figures[("stages", "stage-penyerahan")]
    assert value == 3
    assert _queue_ids(client, supervisor, url) == _ids(rows, "sent_a", "sent_b", "pickup_a")

    dead = [NotificationFactory(status="dead", resident=ResidentFactory(desa_id=DESA_A)) for _ in range(2)]
    NotificationFactory(status="failed", resident=ResidentFactory(desa_id=DESA_A))
    NotificationFactory(status="sent", resident=ResidentFactory(desa_id=DESA_B))
    NotificationFactory(status="dead", resident=ResidentFactory(desa_id=PACITAN_DESA), office=pacitan)
    value, url = _figures(supervisor)[("messages", "dead")]
    assert value == 2
    html = _page(client, supervisor, url)
    shown = {int(pk) for pk in re.findall(r'name="notification" value="(\d+)" data-testid="resend-one"', html)}
    assert shown == {row.pk for row in dead}


def test_supervisor_sees_blanks_in_stock_and_how_long_they_last(client, supervisor, ponorogo, frozen_now):
    BlankStock.objects.update_or_create(office=ponorogo, defaults={"quantity": 140})
    for days_ago in (1, 13):
        BlankMovement.objects.create(
            office=ponorogo, kind="print", quantity=-14, reference="cetak", created_by=supervisor,
            created_at=frozen_now - timedelta(days=days_ago),
        )  # fmt: skip
    BlankMovement.objects.create(
        office=ponorogo, kind="print", quantity=-50, reference="lama", created_by=supervisor,
        created_at=frozen_now - timedelta(days=15),
    )  # fmt: skip
    figures = _figures(supervisor)
    assert figures[("blanks", "stock")][0] == 140
    assert figures[("blanks", "days")][0] == 70  # 28 cards in 14 days: 2 a day
    html = _page(client, supervisor, figures[("blanks", "stock")][1])
    assert "140" in html


def test_a_clerk_has_no_blanks_section(clerk):
    assert "blanks" not in {section.key for section in home_sections(user=clerk)}


# --- administrator ----------------------------------------------------------------------------------------


def test_administrator_sees_staff_and_offices_needing_attention(
    client, administrator, clerk, supervisor, uptd_a, settings, frozen_now
):
    supervisor.last_login = frozen_now
    supervisor.save(update_fields=["last_login"])
    uptd_a.last_login = frozen_now
    uptd_a.save(update_fields=["last_login"])
    administrator.last_login = frozen_now
    administrator.save(update_fields=["last_login"])
    TOTPDevice.objects.create(user=supervisor, name="x", confirmed=True)
    AccessAttempt.objects.create(
        username=clerk.username, ip_address="10.0.0.1", user_agent="t",
        failures_since_start=settings.AXES_FAILURE_LIMIT, attempt_time=frozen_now,
    )  # fmt: skip
    AccessAttempt.objects.create(
        username=uptd_a.username, ip_address="10.0.0.1", user_agent="t", failures_since_start=1,
        attempt_time=frozen_now,
    )  # fmt: skip
    ponorogo = administrator.office
    # Every letterhead part filled in but the logo: the Disdukcapil counts (its UPTDs print under it).
    Office.objects.filter(region__code__startswith="35.02").update(
        government_line="PEMERINTAH KABUPATEN PONOROGO", address="Jl. Soekarno-Hatta 1", phone="0352481",
        head_name="Drs. Kepala Dinas", head_nip="197001011995031002",
    )  # fmt: skip
    open_calendar(ponorogo, weekdays=range(4))
    open_calendar(ponorogo, weekdays=[4], print_capacity=0)  # Friday open without a print quota

    figures = _figures(administrator)
    assert figures[("admin", "never-signed-in")][0] == 1  # the clerk
    assert figures[("admin", "locked-out")][0] == 1  # the clerk again; uptd_a failed once only
    assert figures[("admin", "without-2fa")][0] == 1  # the administrator; the supervisor has a device
    assert figures[("admin", "staff")][0] == 4
    assert figures[("admin", "without-hours")][0] == 0
    assert figures[("admin", "without-quota")][0] == 1
    # Every weekday with a quota, but a coming Tuesday set open with no print places: still counted.
    open_calendar(ponorogo, weekdays=[4])
    assert _figures(administrator)[("admin", "without-quota")][0] == 0
    tuesday = service_day_get(office=ponorogo, day=next_weekday(frozen_now.date(), TUESDAY))
    ServiceDay.objects.filter(pk=tuesday.pk).update(print_capacity=0)
    assert _figures(administrator)[("admin", "without-quota")][0] == 1
    ServiceDay.objects.filter(pk=tuesday.pk).update(is_open=False)  # closed that day: nothing to fix
    assert _figures(administrator)[("admin", "without-quota")][0] == 0
    assert figures[("admin", "without-number")][0] == 1
    for key, usernames in [
        ("never-signed-in", {clerk.username}),
        ("locked-out", {clerk.username}),
        ("without-2fa", {administrator.username}),
        ("staff", {clerk.username, supervisor.username, uptd_a.username, administrator.username}),
    ]:
        html = _page(client, administrator, figures[("admin", key)][1])
        assert set(re.findall(r'data-username="([^"]+)"', html)) == usernames, key
    assert figures[("admin", "letterhead")][0] == 1  # the Disdukcapil without a logo
    Office.objects.filter(pk=ponorogo.pk).update(logo="kop/logo.png")
    assert _figures(administrator)[("admin", "letterhead")][0] == 0


def test_supervisor_has_no_staff_section(supervisor):
    assert "admin" not in {section.key for section in home_sections(user=supervisor)}


# --- the page ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["clerk", "uptd_a", "supervisor", "administrator"])
def test_home_page_renders_every_figure_as_a_link(client, request, role, requests_world):
    user = request.getfixturevalue(role)
    html = _page(client, user, reverse("home"))
    for section in home_sections(user=user):
        for figure in section.figures:
            assert f'href="{figure.url.replace("&", "&amp;")}" data-testid="figure-{figure.key}"' in html


def _rows(office, user, *, start: int, count: int) -> None:
    """`count` rows of every kind the home page counts (open, closed, today's, out of today), numbered from
    `start`."""
    today = service_day_get(office=office, day=clock.today(office))
    number = office_number(office)
    for n in range(start, start + count):
        for desa in (DESA_A, DESA_B):
            _request(desa, received=True)
            _request(desa, incomplete=True, missing_items=[f"Dokumen {n}"])
            _request(desa, sent_to_uptd=True)
            _request(desa, handed_over=True)
        scheduled = _request(DESA_A, scheduled=True)
        Booking.objects.create(
            card_request=scheduled, day=today, office=office, date=today.date, channel="whatsapp", number=n
        )
        WalkInTicket.objects.create(day=today, number=n)
        arrive(number, sender(at=clock.now()), at=clock.now() - timedelta(minutes=n), text="halo")
        NotificationFactory(status="dead", resident=ResidentFactory(desa_id=DESA_A))
        BlankMovement.objects.create(office=office, kind="print", quantity=-1, reference=f"c{n}", created_by=user)


@pytest.mark.parametrize("role", ["clerk", "uptd_a", "supervisor", "administrator"])
def test_home_takes_the_same_number_of_queries_with_1_and_with_30_rows(
    client, request, role, ponorogo, django_assert_num_queries, frozen_now
):
    user = request.getfixturevalue(role)
    open_calendar(ponorogo)
    BlankStock.objects.update_or_create(office=ponorogo, defaults={"quantity": 500})
    client.force_login(user)
    _rows(ponorogo, user, start=1, count=1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("home")).status_code == 200
    _rows(ponorogo, user, start=2, count=29)
    with django_assert_num_queries(len(small)):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    # The figures did grow: the page read the 30 rows, not a cached answer.
    if role != "uptd_a":
        assert _figures(user)[("messages", "inbox")][0] == 30
