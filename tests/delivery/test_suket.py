"""Suket: issued only while no blank is left, to a recorded resident, one valid per request; verifiable by
its QR page; ended when the card is handed over; its holders are printed first."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from cards import services as card_services
from cards.models import CardRequest, Requirement
from delivery.models import Suket
from delivery.services import DeliveryError, suket_issue
from messaging.models import Notification
from queueing import invitations, printing
from queueing.models import OpeningHours, QuotaDefault
from registry.models import AccessLog
from tests.factories import ResidentFactory


def _ready(clerk, **resident):
    card_request = card_services.card_request_create(
        resident=ResidentFactory(**resident), kind="rusak", by=clerk, channel="whatsapp"
    )
    CardRequest.objects.filter(pk=card_request.pk).update(status="ready_to_print")
    return card_request


def test_suket_only_without_blanks_for_a_recorded_resident_once(clerk):
    card_request = _ready(clerk)
    printing.blanks_receive(office=clerk.office, quantity=1, reference="K", received_on=date.today(), by=clerk)
    with pytest.raises(DeliveryError, match="Masih ada 1 blangko"):
        suket_issue(card_request_id=card_request.pk, by=clerk)
    printing.blanks_spoil(office=clerk.office, quantity=1, reason="rusak", by=clerk)
    suket = suket_issue(card_request_id=card_request.pk, by=clerk)
    assert suket.valid_until == date.today() + timedelta(days=Suket.VALIDITY_DAYS)
    assert Notification.objects.filter(card_request=card_request, template="suket_issued").exists()
    with pytest.raises(DeliveryError, match="sudah punya suket"):
        suket_issue(card_request_id=card_request.pk, by=clerk)
    unrecorded = _ready(clerk, biometric_recorded=False)
    with pytest.raises(DeliveryError, match="perekaman"):
        suket_issue(card_request_id=unrecorded.pk, by=clerk)


def test_verify_page_says_genuine_valid_then_ended_at_handover(client, clerk):
    card_request = _ready(clerk)
    suket = suket_issue(card_request_id=card_request.pk, by=clerk)
    page = client.get(f"/suket/cek/{suket.verify_code}/").content.decode()
    assert "ASLI dan BERLAKU" in page and card_request.resident.masked_nik in page
    assert card_request.resident.nik not in page
    assert client.get("/suket/cek/tidak-ada/").status_code == 404
    CardRequest.objects.filter(pk=card_request.pk).update(status="ready_for_pickup")
    # A rusak card is handed over once the old card is collected (ticked).
    card_services.requirement_tick(
        card_request_id=card_request.pk, requirement_id=Requirement.objects.get(kind="rusak").pk, by=clerk
    )
    card_services.card_request_transition(
        card_request_id=card_request.pk,
        to_status="handed_over",
        by=clerk,
        expected_status="ready_for_pickup",
        handover_confirmed=True,
    )
    assert "sudah tidak berlaku" in client.get(f"/suket/cek/{suket.verify_code}/").content.decode()


def test_suket_pdf_is_logged(client, clerk):
    card_request = _ready(clerk)
    suket = suket_issue(card_request_id=card_request.pk, by=clerk)
    client.force_login(clerk)
    response = client.get(f"/suket/{suket.pk}/surat.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert AccessLog.objects.filter(action="export", resident=card_request.resident).count() == 1


def test_suket_holders_are_printed_first(clerk):
    office = clerk.office
    day = date(2026, 11, 24)
    OpeningHours.objects.create(office=office, weekday=day.weekday(), opens_at=time(8), closes_at=time(15))
    QuotaDefault.objects.create(office=office, weekday=day.weekday(), print_capacity=5, invitation=5)
    older = _ready(clerk)
    holder = _ready(clerk)
    suket_issue(card_request_id=holder.pk, by=clerk)
    invited = invitations.invitations_send(office=office, day=day, by=clerk, today=day - timedelta(days=1))
    assert [b.card_request_id for b in invited] == [holder.pk, older.pk]
