"""Routes chosen at creation and changed by a clerk until printing; who may have a card (wajib KTP, recording,
PRR); one NIK check with the region table at every entry point."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cards import data_sync, recording, services, workflow
from cards.models import Actor, CardRequest, CardRequestEvent, CentralStatus, Route
from cards.workflow import CardRequestError
from messaging.models import Notification
from registry.models import MaritalStatus, Office, ResidentChange
from tests.dates import FROZEN_NOW
from tests.factories import CardRequestFactory, ResidentFactory

S = CardRequest.Status
JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = FROZEN_NOW  # Monday 09:00 WIB (tests/dates.py); everything below is relative to it
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _years_ago(years: int, *, days: int = 0) -> date:
    born = TODAY.replace(year=TODAY.year - years)
    return born if not days else date.fromordinal(born.toordinal() + days)


# --- routes -----------------------------------------------------------------------------------------------


def test_route_follows_channel_submitter_and_office_setting(clerk, uptd_a, resident_a, resident_b, ponorogo):
    walk_in = services.card_request_create(resident=resident_a, kind="rusak", by=clerk, channel="walk_in")
    assert walk_in.route == Route.COUNTER and walk_in.pickup_office == ponorogo
    by_uptd = services.card_request_create(resident=resident_a, kind="hilang", by=uptd_a)
    assert by_uptd.route == Route.UPTD and by_uptd.pickup_office == uptd_a.office
    Office.objects.filter(pk=ponorogo.pk).update(message_route=Route.POST)
    by_message = services.card_request_create(resident=resident_b, kind="rusak", by=None, channel="whatsapp")
    assert by_message.route == Route.POST


def test_clerk_changes_the_route_until_printed_and_leaving_route_1_releases_nothing_it_does_not_hold(
    clerk, uptd_a, resident_a
):
    card_request = services.card_request_create(resident=resident_a, kind="rusak", by=clerk, channel="walk_in")
    moved = workflow.card_request_route_set(
        card_request_id=card_request.pk, route=Route.UPTD, by=clerk, expected_route=Route.COUNTER
    )
    assert (moved.route, moved.pickup_office) == (Route.UPTD, uptd_a.office)
    route_event = CardRequestEvent.objects.get(card_request=card_request, action=CardRequestEvent.Action.ROUTE)
    assert route_event.by == clerk
    message = Notification.objects.get(card_request=card_request, template="route_changed")
    assert uptd_a.office.name in message.text and "Kabupaten" not in message.text
    # Another clerk working from the old page is told, and nothing changes.
    with pytest.raises(workflow.StaleCardRequest):
        workflow.card_request_route_set(
            card_request_id=card_request.pk, route=Route.POST, by=clerk, expected_route=Route.COUNTER
        )
    with pytest.raises(CardRequestError, match="petugas kabupaten"):
        workflow.card_request_route_set(
            card_request_id=card_request.pk, route=Route.POST, by=uptd_a, expected_route=Route.UPTD
        )
    CardRequest.objects.filter(pk=card_request.pk).update(status=S.PRINTED)
    with pytest.raises(CardRequestError, match="sudah dicetak"):
        workflow.card_request_route_set(
            card_request_id=card_request.pk, route=Route.POST, by=clerk, expected_route=Route.UPTD
        )
    assert CardRequest.objects.get(pk=card_request.pk).route == Route.UPTD


def test_ready_to_print_message_names_the_uptd_for_route_3(clerk, uptd_a, resident_a):
    card_request = services.card_request_create(resident=resident_a, kind="rusak", by=uptd_a)
    CardRequest.objects.filter(pk=card_request.pk).update(status=S.VERIFYING)
    services.card_request_transition(
        card_request_id=card_request.pk, to_status=S.READY_TO_PRINT, by=clerk, expected_status=S.VERIFYING
    )
    message = Notification.objects.get(card_request=card_request, template="ready_uptd")
    assert uptd_a.office.name in message.text
    assert "Disdukcapil Kabupaten" not in message.text


def test_processes_cannot_take_each_others_edges(resident_a, ponorogo):
    card_request = CardRequestFactory(resident=resident_a, ready=True, collect=True)
    with pytest.raises(CardRequestError, match="bukan untuk rute ini"):
        workflow.card_move(
            card_request_id=card_request.pk, to_status=S.SCHEDULED, actor=Actor.BOOKING, by=None,
            expected_status=S.READY_TO_PRINT,
        )  # fmt: skip
    with pytest.raises(CardRequestError):
        workflow.card_move(
            card_request_id=card_request.pk, to_status=S.PRINTED, actor=Actor.BOOKING, by=None,
            expected_status=S.READY_TO_PRINT,
        )  # fmt: skip
    workflow.card_move(
        card_request_id=card_request.pk, to_status=S.PRINTED, actor=Actor.PRINTING, by=None,
        expected_status=S.READY_TO_PRINT, message=None,
    )  # fmt: skip
    assert CardRequest.objects.get(pk=card_request.pk).status == S.PRINTED
    # A compare-and-set that matches nothing writes nothing.
    events = CardRequestEvent.objects.filter(card_request=card_request).count()
    with pytest.raises(workflow.StaleCardRequest):
        workflow.card_move(
            card_request_id=card_request.pk, to_status=S.PRINTED, actor=Actor.PRINTING, by=None,
            expected_status=S.READY_TO_PRINT,
        )  # fmt: skip
    assert CardRequestEvent.objects.filter(card_request=card_request).count() == events


def test_a_post_delivery_closes_without_attestation_and_an_in_person_handover_needs_it(resident_a, clerk):
    shipped = CardRequestFactory(resident=resident_a, shipped=True)
    with pytest.raises(CardRequestError, match="lewat Pos"):
        workflow.card_move(
            card_request_id=shipped.pk, to_status=S.HANDED_OVER, actor=Actor.SHIPMENT, by=None,
            expected_status=S.SHIPPED,
        )  # fmt: skip
    workflow.card_move(
        card_request_id=shipped.pk, to_status=S.HANDED_OVER, actor=Actor.SHIPMENT, by=None,
        expected_status=S.SHIPPED, handover=workflow.HandoverInfo(method="by_post"),
    )  # fmt: skip
    shipped.refresh_from_db()
    assert shipped.status == S.HANDED_OVER
    assert (shipped.handover.method, shipped.handover.fingerprint_verified) == ("by_post", False)
    assert Notification.objects.get(card_request=shipped).template == "request_delivered"
    printed = CardRequestFactory(resident=ResidentFactory(), kind="hilang", printed=True, counter=True)
    with pytest.raises(CardRequestError, match="pemiliknya sendiri"):
        services.card_request_transition(
            card_request_id=printed.pk, to_status=S.HANDED_OVER, by=clerk, expected_status=S.PRINTED
        )
    services.card_request_transition(
        card_request_id=printed.pk, to_status=S.HANDED_OVER, by=clerk, expected_status=S.PRINTED,
        handover_confirmed=True,
    )  # fmt: skip
    printed.refresh_from_db()
    assert (printed.handover.method, printed.handover.activated, printed.handover.by) == ("in_person", True, clerk)


def test_a_returned_shipment_goes_to_route_2_at_the_printing_office(resident_a, ponorogo):
    shipped = CardRequestFactory(resident=resident_a, shipped=True)
    workflow.card_move(
        card_request_id=shipped.pk, to_status=S.READY_FOR_PICKUP, actor=Actor.SHIPMENT, by=None,
        expected_status=S.SHIPPED,
    )  # fmt: skip
    shipped.refresh_from_db()
    assert (shipped.status, shipped.route, shipped.pickup_office) == (S.READY_FOR_PICKUP, Route.COLLECT, ponorogo)
    assert Notification.objects.get(card_request=shipped).template == "request_returned_by_post"


# --- who may have a card --------------------------------------------------------------------------------


def test_pemula_for_a_child_is_refused_with_the_reason(clerk, ponorogo):
    child = ResidentFactory(birth_date=_years_ago(4), biometric_recorded=False)
    with pytest.raises(CardRequestError, match="16 tahun"):
        services.card_request_create(resident=child, kind="pemula", by=clerk, channel="walk_in")
    assert not CardRequest.objects.filter(resident=child).exists()
    married_15 = ResidentFactory(birth_date=_years_ago(15), marital_status=MaritalStatus.MARRIED)
    assert services.card_request_create(resident=married_15, kind="pemula", by=clerk, channel="walk_in").pk


def test_a_16_year_old_records_now_and_is_printed_from_their_17th_birthday(clerk, ponorogo):
    sixteen = ResidentFactory(birth_date=_years_ago(17, days=30), biometric_recorded=False)
    card_request = services.card_request_create(resident=sixteen, kind="pemula", by=clerk, channel="walk_in")
    recording.biometric_record(resident_id=sixteen.pk, by=clerk, card_request_id=card_request.pk)
    rec = sixteen.biometric_recordings.get()
    CardRequest.objects.filter(pk=card_request.pk).update(status=S.VERIFYING)
    with pytest.raises(CardRequestError, match="PRR"):
        services.card_request_transition(
            card_request_id=card_request.pk, to_status=S.READY_TO_PRINT, by=clerk, expected_status=S.VERIFYING
        )
    recording.central_answer_record(recording_id=rec.pk, answer=CentralStatus.PRR, by=clerk)
    services.card_request_transition(
        card_request_id=card_request.pk, to_status=S.READY_TO_PRINT, by=clerk, expected_status=S.VERIFYING
    )
    message = Notification.objects.get(card_request=card_request, template="ready_waits_wajib_ktp")
    birthday = sixteen.wajib_ktp_from()
    # The message says when without the date: the request page shows it beside a masked NIK.
    assert "ulang tahun Anda yang ke-17" in message.text and birthday.strftime("%d-%m-%Y") not in message.text
    card_request.refresh_from_db()
    assert "wajib KTP" in workflow.print_ready_problem(card_request, on=TODAY)
    assert workflow.print_ready_problem(card_request, on=birthday) is None


def test_a_duplicate_record_stops_printing_until_resolved(clerk, ponorogo):
    resident = ResidentFactory(birth_date=_years_ago(20), biometric_recorded=False)
    card_request = services.card_request_create(resident=resident, kind="pemula", by=clerk, channel="walk_in")
    recording.biometric_record(resident_id=resident.pk, by=clerk, card_request_id=card_request.pk)
    rec = resident.biometric_recordings.get()
    recording.central_answer_record(recording_id=rec.pk, answer=CentralStatus.DUPLICATE, by=clerk, note="NIK ganda")
    with pytest.raises(CardRequestError, match="sudah dicatat"):
        recording.central_answer_record(recording_id=rec.pk, answer=CentralStatus.PRR, by=clerk)
    card_request.refresh_from_db()
    assert "rekaman ganda" in workflow.print_ready_problem(card_request, on=TODAY)
    assert CardRequestEvent.objects.filter(card_request=card_request, action="central").count() == 1


def test_a_resident_asking_for_a_damaged_card_was_recorded_before(clerk, ponorogo):
    """The 63-year-old of the issue: imported as not recorded, refused a suket. Their card existed."""
    elder = ResidentFactory(birth_date=_years_ago(63), biometric_recorded=False)
    card_request = services.card_request_create(resident=elder, kind="rusak", by=clerk, channel="walk_in")
    elder.refresh_from_db()
    assert elder.biometric_recorded
    assert ResidentChange.objects.get(resident=elder).changes == {"biometric_recorded": [False, True]}
    assert card_request.events.filter(action="biometrics").exists()


def test_every_entry_point_checks_the_nik_against_the_region_table(clerk, ponorogo, client):
    """Province 00 does not exist: the NIK lookup of the request form and SINKRONISASI refuse it."""
    bogus = "0001011203900001"
    client.force_login(clerk)
    response = client.post("/permohonan/baru/", {"nik": bogus})
    assert "provinsi" in response.content.decode().lower()
    with pytest.raises(CardRequestError, match="(?i)provinsi"):
        data_sync.data_sync_open(
            office=clerk.office, nik=bogus, kk_number="3502011503150001", purpose="BPJS", channel="whatsapp", by=clerk
        )


# --- the request page -------------------------------------------------------------------------------------


def test_request_page_shows_route_and_next_actions_and_changes_the_route(clerk, resident_a, client, uptd_a):
    card_request = services.card_request_create(resident=resident_a, kind="rusak", by=clerk, channel="walk_in")
    client.force_login(clerk)
    page = client.get(f"/permohonan/{card_request.pk}/").content.decode()
    summary = page[page.index('data-testid="summary"') :]
    assert str(Route.COUNTER.label) in summary[:2000]
    assert 'data-testid="to-verifying"' in summary
    assert 'data-testid="route-form"' in summary
    response = client.post(
        f"/permohonan/{card_request.pk}/rute/", {"route": Route.UPTD, "expected_route": Route.COUNTER}
    )
    assert response.status_code == 302
    assert CardRequest.objects.get(pk=card_request.pk).route == Route.UPTD
    # A UPTD operator sees the route but cannot change it.
    client.force_login(uptd_a)
    page = client.get(f"/permohonan/{card_request.pk}/").content.decode()
    assert 'data-testid="route-form"' not in page and str(Route.UPTD.label) in page


def test_the_recording_page_records_any_unrecorded_resident_by_nik(clerk, uptd_b, ponorogo, client):
    from registry.models import AccessLog

    adult = ResidentFactory(birth_date=_years_ago(30), biometric_recorded=False)
    child = ResidentFactory(birth_date=_years_ago(12), biometric_recorded=False)
    client.force_login(clerk)
    client.post("/permohonan/perekaman/", {"nik": adult.nik})
    adult.refresh_from_db()
    assert adult.biometric_recorded
    assert adult.biometric_recordings.get().central_status == CentralStatus.PENDING
    assert AccessLog.objects.filter(resident=adult, action="search_nik").exists()
    response = client.post("/permohonan/perekaman/", {"nik": child.nik}, follow=True)
    assert "16 tahun" in response.content.decode()
    child.refresh_from_db()
    assert not child.biometric_recorded
    page = client.get("/permohonan/perekaman/").content.decode()
    assert adult.masked_nik in page and adult.nik not in page
    # Kecamatan A's resident is not found by kecamatan B's operator, and stays as it was.
    other = ResidentFactory(birth_date=_years_ago(30), biometric_recorded=False)
    client.force_login(uptd_b)
    response = client.post("/permohonan/perekaman/", {"nik": other.nik}, follow=True)
    assert "tidak ditemukan" in response.content.decode()
    other.refresh_from_db()
    assert not other.biometric_recorded
