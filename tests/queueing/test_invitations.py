"""Invitations: for a day at least N working days ahead; suket holders and approved urgent first, then the
oldest waiting; route 1 only, not after two no-shows, a pemula only once wajib KTP; up to the quota. The
day's list grouped by desa and its letters as one PDF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.loader import render_to_string

from cards.models import CardRequest
from delivery.models import Suket
from messaging.models import Notification
from queueing import errors, invitations, tasks, views
from queueing.models import Booking, Closure, QuotaDefault
from registry.models import AccessLog, Resident
from tests.conftest import DESA_A, DESA_B
from tests.dates import FRIDAY, THURSDAY, TUESDAY, at, next_weekday
from tests.factories import CardRequestFactory, ResidentFactory, open_calendar

S = CardRequest.Status


@pytest.fixture
def office(clerk, frozen_now):
    """Open Monday to Friday; 2 invitations a day within a print capacity of 10; lead time 3 working days."""
    open_calendar(clerk.office, print_capacity=10, whatsapp=5, walk_in=3, invitation=2)
    return clerk.office


@pytest.fixture
def first_day(frozen_today):
    """Monday + 3 working days: Thursday."""
    return next_weekday(frozen_today, THURSDAY)


def _ready(time_machine, minutes_ago: int, **fields) -> CardRequest:
    """A request ready to print that joined the line `minutes_ago` before now."""
    card_request = CardRequestFactory(ready=True, resident=ResidentFactory(whatsapp="6281234567890"), **fields)
    CardRequest.objects.filter(pk=card_request.pk).update(
        queued_at=card_request.queued_at - timedelta(minutes=minutes_ago)
    )
    return card_request


def test_the_first_day_is_the_lead_time_in_working_days(office, frozen_today, first_day):
    assert invitations.invitation_first_day(office=office) == first_day
    Closure.objects.create(office=None, date=frozen_today + timedelta(days=2), name="Libur", kind="national")
    assert invitations.invitation_first_day(office=office) == next_weekday(frozen_today, FRIDAY)
    office.invitation_lead_days = 5  # Tuesday, Thursday, Friday, Monday, Tuesday (Wednesday closed)
    office.save(update_fields=["invitation_lead_days"])
    assert invitations.invitation_first_day(office=office) == next_weekday(frozen_today, TUESDAY, after=True) + (
        timedelta(days=7)
    )


def test_an_invitation_earlier_than_the_lead_time_is_refused(clerk, office, first_day, time_machine):
    _ready(time_machine, 10)
    with pytest.raises(errors.QueueingError, match="paling cepat"):
        invitations.invitations_send(office=office, day=first_day - timedelta(days=1), by=clerk)
    assert not Booking.objects.exists()


def test_suket_and_urgent_first_then_the_oldest_up_to_the_quota(clerk, office, first_day, time_machine):
    oldest = _ready(time_machine, 300)
    newer = _ready(time_machine, 200)
    urgent = _ready(time_machine, 5, urgent=True)
    with_suket = _ready(time_machine, 1)
    Suket.objects.create(
        card_request=with_suket, resident=with_suket.resident, office=office, issued_by=clerk,
        valid_until=first_day + timedelta(days=180), verify_code="ABC123",
    )  # fmt: skip
    _ready(time_machine, 900, route="uptd")  # its card travels: never invited
    _ready(time_machine, 900, route="post")
    waits = _ready(time_machine, 1000, no_shows=2)  # missed twice: waits until the resident asks
    invited = invitations.invitations_send(office=office, day=first_day, by=clerk)
    assert [b.card_request_id for b in invited] == [with_suket.pk, urgent.pk, oldest.pk]
    assert CardRequest.objects.get(pk=newer.pk).status == S.READY_TO_PRINT
    assert CardRequest.objects.get(pk=waits.pk).status == S.READY_TO_PRINT
    message = Notification.objects.get(card_request=oldest, template="invitation")
    assert "UNDANGAN" in message.text and first_day.strftime("%d-%m-%Y") in message.text
    # The urgent one skipped the quota; the quota (2) is used.
    assert invitations.invitations_send(office=office, day=first_day, by=clerk) == []


def test_a_pemula_is_invited_only_for_a_day_they_are_wajib_ktp(clerk, office, first_day, time_machine):
    from cards.models import BiometricRecording

    resident = ResidentFactory(birth_date=(first_day + timedelta(days=20)).replace(year=first_day.year - 17))
    young = CardRequestFactory(ready=True, kind="pemula", resident=resident)
    BiometricRecording.objects.create(resident=resident, office=office, recorded_by=clerk, central_status="prr")
    adult = _ready(time_machine, 1)
    invited = invitations.invitations_send(office=office, day=first_day, by=clerk)
    assert [b.card_request_id for b in invited] == [adult.pk]
    assert CardRequest.objects.get(pk=young.pk).status == S.READY_TO_PRINT


def test_the_daily_job_invites_for_the_first_day_per_office(office, first_day, time_machine):
    card_request = _ready(time_machine, 10)
    assert tasks.send_invitations.delay().get() == 1
    booking = Booking.objects.get(card_request=card_request)
    assert (booking.date, booking.channel) == (first_day, "invitation")
    assert tasks.send_office_invitations(office.pk) == 0  # idempotent


def test_the_days_invitations_are_grouped_by_desa_and_printed_as_one_pdf(
    clerk, office, first_day, time_machine, client
):
    in_b = CardRequestFactory(ready=True, resident=ResidentFactory(desa_id=DESA_B, full_name="ZAINAL"))
    in_a = CardRequestFactory(ready=True, resident=ResidentFactory(desa_id=DESA_A, full_name="ANI"))
    invitations.invitations_send(office=office, day=first_day, by=clerk)
    invited = list(invitations.invited_for(office=office, day=first_day))
    # By kecamatan, then desa: Ngrayun's (B) before Slahung's (A).
    assert [b.card_request_id for b in invited] == [in_b.pk, in_a.pk]
    groups = views._letters_by_desa(invited)
    assert [g["desa"].pk for g in groups] == [DESA_B, DESA_A]
    html = render_to_string("queueing/booking_letter.html", {"groups": groups, "grouped": True, "today": first_day})
    assert html.count('class="surat" data-desa=') == 2 and html.count("SURAT UNDANGAN PENGAMBILAN") == 2
    assert in_a.resident.nik not in html and in_a.resident.masked_nik in html

    client.force_login(clerk)
    page = client.get(f"/loket/undangan/daftar/?day={first_day.isoformat()}")
    assert page.status_code == 200 and "ANI" in page.content.decode() and "ZAINAL" in page.content.decode()
    response = client.get(f"/loket/undangan/surat.pdf?day={first_day.isoformat()}")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    log = AccessLog.objects.get(action="export")
    assert "2 penduduk" in log.detail and log.user == clerk


def test_one_residents_letter_is_a_pdf_and_its_download_is_logged(client, clerk, office, first_day, time_machine):
    card_request = _ready(time_machine, 1)
    invitations.invitations_send(office=office, day=first_day, by=clerk)
    client.force_login(clerk)
    response = client.get(f"/permohonan/{card_request.pk}/jadwal/surat.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    log = AccessLog.objects.get(action="export")
    assert log.resident_id == card_request.resident_id and card_request.number in log.detail


def test_no_letters_for_a_day_without_invitations(client, clerk, office, first_day):
    client.force_login(clerk)
    response = client.get(f"/loket/undangan/surat.pdf?day={first_day.isoformat()}")
    assert response.status_code == 302 and not AccessLog.objects.filter(action="export").exists()


def test_the_lead_time_is_at_the_offices_own_clock(office, frozen_today, time_machine):
    """Late Monday evening in WIT is already Tuesday: the first day moves with it."""
    office.time_zone = "Asia/Jayapura"
    office.save(update_fields=["time_zone"])
    time_machine.move_to(at(frozen_today, 23, 30), tick=False)  # 01:30 Tuesday WIT
    assert invitations.invitation_first_day(office=office) == next_weekday(frozen_today, FRIDAY)


def test_the_invitations_page_says_who_was_invited_and_who_came(client, clerk, office, first_day, time_machine):
    QuotaDefault.objects.filter(office=office).update(invitation=3)
    invited = {}
    for minutes, name in ((30, "ANI HADIR"), (20, "BUDI ABSEN"), (10, "CICI MENUNGGU")):
        invited[name] = _ready(time_machine, minutes)
        Resident.objects.filter(pk=invited[name].resident_id).update(full_name=name)
    invitations.invitations_send(office=office, day=first_day, by=clerk)
    came = Booking.objects.filter(card_request=invited["ANI HADIR"])
    came.update(status=Booking.Status.CHECKED_IN, checked_in_at=at(first_day, 8))
    Booking.objects.filter(card_request=invited["BUDI ABSEN"]).update(status=Booking.Status.NO_SHOW)
    client.force_login(clerk)
    response = client.get(f"/loket/undangan/daftar/?day={first_day.isoformat()}")
    html = response.content.decode()
    rows = {name: next(r for r in html.split("<tr>") if name in r and 'data-testid="came"' in r) for name in invited}
    assert "Hadir" in rows["ANI HADIR"] and "Tidak hadir" in rows["BUDI ABSEN"]
    assert "Belum datang" in rows["CICI MENUNGGU"]
    waiting = invited["CICI MENUNGGU"]
    assert f'href="/permohonan/{waiting.pk}/jadwal/surat.pdf"' in rows["CICI MENUNGGU"]
    assert 'data-testid="letter"' not in rows["ANI HADIR"]
    assert waiting.resident.masked_nik in rows["CICI MENUNGGU"] and waiting.resident.nik not in html
    run = next(r for r in response.context["runs"] if r["date"] == first_day)
    assert (run["invited"], run["came"], run["missed"], run["expected"]) == (3, 1, 1, 1)
