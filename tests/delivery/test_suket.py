"""Suket: issued to a recorded resident waiting for a card while the office has no blank for them (none left,
or what is left is reserved by rationing for pemula and approved urgent requests); one valid per request;
verifiable by its QR page; ended when the request closes (handed over, cancelled); its holders print first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cards import recording
from cards import services as card_services
from cards.models import CardRequest, Requirement
from cards.workflow import card_move_as
from delivery.models import Suket
from delivery.services import DeliveryError, blanks_for, suket_issue, suket_problem
from messaging.models import Notification
from queueing import printing
from queueing.models import BlankMovement
from registry import clock
from registry.models import AccessLog, Office
from tests.factories import CardRequestFactory, ResidentFactory, open_calendar

S = CardRequest.Status


@pytest.fixture
def stock(clerk, frozen_today):
    """Set the office's blank stock through the ledger (receipt, then spoilage down to the wanted figure)."""

    def set_to(quantity: int) -> None:
        have = printing.blank_stock_of(clerk.office)
        if quantity > have:
            reference = f"K-{BlankMovement.objects.filter(kind='receipt').count() + 1}"  # one receipt per delivery
            printing.blanks_receive(
                office=clerk.office, quantity=quantity - have, reference=reference, received_on=frozen_today, by=clerk
            )
        elif quantity < have:
            printing.blanks_spoil(office=clerk.office, quantity=have - quantity, reason="rusak", by=clerk)

    return set_to


def _waiting(kind: str = "rusak", **kwargs) -> CardRequest:
    return CardRequestFactory(ready=True, collect=True, kind=kind, **kwargs)


def test_with_no_blank_left_a_recorded_resident_gets_one_suket(clerk, stock, frozen_today):
    card_request = _waiting()
    stock(1)
    with pytest.raises(DeliveryError, match="Masih ada 1 blangko"):
        suket_issue(card_request_id=card_request.pk, by=clerk)
    stock(0)

    suket = suket_issue(card_request_id=card_request.pk, by=clerk)

    assert suket.valid_until == frozen_today + timedelta(days=Suket.VALIDITY_DAYS)
    message = Notification.objects.get(card_request=card_request, template="suket_issued")
    assert suket.number in message.text
    with pytest.raises(DeliveryError, match="sudah punya suket"):
        suket_issue(card_request_id=card_request.pk, by=clerk)
    assert Suket.objects.filter(card_request=card_request).count() == 1


def test_blanks_reserved_by_rationing_leave_a_rusak_resident_a_suket(clerk, ponorogo, stock):
    rusak = _waiting("rusak")
    _waiting("pemula")
    CardRequestFactory(verifying=True, kind="hilang", urgent=True)
    stock(2)  # two blanks, both reserved: one for the pemula, one for the approved urgent request
    assert blanks_for(rusak) == (2, 2)
    assert suket_problem(rusak) is None
    suket_issue(card_request_id=rusak.pk, by=clerk)

    another = _waiting("ubah_data")
    stock(3)  # one blank above the reserved ones: that one is for this resident
    assert "Masih ada 1 blangko" in suket_problem(another)
    Office.objects.filter(pk=ponorogo.pk).update(ration_blanks=False)
    another.office.refresh_from_db()
    stock(2)
    assert blanks_for(another) == (2, 0)
    assert "Masih ada 2 blangko" in suket_problem(another)


def test_the_reserved_pemula_themselves_are_not_refused_by_their_own_reservation(clerk, stock):
    pemula = _waiting("pemula")
    _waiting("pemula")
    stock(1)
    assert blanks_for(pemula) == (1, 0)
    assert "Masih ada 1 blangko" in suket_problem(pemula)


def test_a_freshly_recorded_pemula_without_a_blank_gets_a_suket(clerk, stock, frozen_today):
    resident = ResidentFactory(biometric_recorded=False, birth_date=frozen_today.replace(year=frozen_today.year - 18))
    pemula = card_services.card_request_create(resident=resident, kind="pemula", by=clerk, channel="walk_in")
    card_move_as(clerk, card_request_id=pemula.pk, to_status=S.VERIFYING, expected_status=S.RECEIVED)
    stock(0)
    with pytest.raises(DeliveryError, match="belum perekaman"):
        suket_issue(card_request_id=pemula.pk, by=clerk)

    recording.biometric_record(resident_id=resident.pk, by=clerk, card_request_id=pemula.pk)

    suket = suket_issue(card_request_id=pemula.pk, by=clerk)  # the centre's PRR is not needed for a suket
    assert suket.resident == resident


def test_a_rusak_request_marks_an_unrecorded_resident_recorded_so_a_suket_is_possible(clerk, stock):
    resident = ResidentFactory(biometric_recorded=False)
    rusak = card_services.card_request_create(resident=resident, kind="rusak", by=clerk, channel="walk_in")
    card_move_as(clerk, card_request_id=rusak.pk, to_status=S.VERIFYING, expected_status=S.RECEIVED)
    stock(0)
    assert suket_issue(card_request_id=rusak.pk, by=clerk).resident == resident


def test_no_suket_before_verification_nor_after_printing(clerk, stock):
    stock(0)
    for card_request in (CardRequestFactory(received=True), CardRequestFactory(printed=True, collect=True)):
        with pytest.raises(DeliveryError, match="sudah diverifikasi dan menunggu cetak"):
            suket_issue(card_request_id=card_request.pk, by=clerk)
    assert not Suket.objects.exists()


def test_a_suket_ends_when_the_card_is_handed_over(client, clerk, stock):
    card_request = _waiting("rusak")
    stock(0)
    suket = suket_issue(card_request_id=card_request.pk, by=clerk)
    CardRequest.objects.filter(pk=card_request.pk).update(status=S.READY_FOR_PICKUP)  # printed and stored
    page = client.get(f"/suket/cek/{suket.verify_code}/").content.decode()
    assert "ASLI dan BERLAKU" in page and card_request.resident.masked_nik in page
    assert card_request.resident.nik not in page
    assert client.get("/suket/cek/tidak-ada/").status_code == 404
    card_services.requirement_tick(
        card_request_id=card_request.pk, requirement_id=Requirement.objects.get(kind="rusak").pk, by=clerk
    )

    card_services.card_request_transition(
        card_request_id=card_request.pk,
        to_status=S.HANDED_OVER,
        by=clerk,
        expected_status=S.READY_FOR_PICKUP,
        handover_confirmed=True,
    )

    suket.refresh_from_db()
    assert suket.ended_at is not None
    assert "sudah tidak berlaku" in client.get(f"/suket/cek/{suket.verify_code}/").content.decode()


def test_a_suket_ends_when_the_request_is_cancelled_and_a_new_request_may_get_one(clerk, stock):
    card_request = _waiting()
    stock(0)
    suket = suket_issue(card_request_id=card_request.pk, by=clerk)
    card_move_as(
        clerk, card_request_id=card_request.pk, to_status=S.CANCELLED, expected_status=S.READY_TO_PRINT, note="pindah"
    )
    suket.refresh_from_db()
    assert suket.ended_at is not None
    again = _waiting(resident=card_request.resident)
    assert suket_issue(card_request_id=again.pk, by=clerk).ended_at is None


def test_suket_pdf_is_logged(client, clerk, stock):
    card_request = _waiting()
    stock(0)
    suket = suket_issue(card_request_id=card_request.pk, by=clerk)
    client.force_login(clerk)
    response = client.get(f"/suket/{suket.pk}/surat.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert AccessLog.objects.filter(action="export", resident=card_request.resident).count() == 1


def test_suket_holders_are_printed_first_when_blanks_arrive(clerk, stock, frozen_today):
    open_calendar(clerk.office, print_capacity=1)
    older = _waiting(queued_at=clock.now() - timedelta(days=30))
    holder = _waiting()
    stock(0)
    suket_issue(card_request_id=holder.pk, by=clerk)
    stock(5)
    batch = printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk)
    assert list(batch.card_requests.values_list("pk", flat=True)) == [holder.pk]
    assert older.pk not in batch.card_requests.values_list("pk", flat=True)
