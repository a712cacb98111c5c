"""Card-request workflow: the transitions table, guards, role limits, notifications, concurrency."""

from __future__ import annotations

import threading
from itertools import product

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from cards import dispatch, recording, services, workflow
from cards.models import (
    Actor,
    Attachment,
    CardRequest,
    CardRequestEvent,
    HealthChecklist,
    Requirement,
    UrgentStatus,
)
from cards.services import CardRequestError, StaleCardRequest
from messaging.models import Notification
from registry.models import Office, ResidentChange
from tests.documents import PDF, PNG

S = CardRequest.Status


def pdf(name="surat.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def hilang(clerk, resident_a):
    return services.card_request_create(resident=resident_a, kind="hilang", by=clerk, channel="walk_in")


def _at(card_request: CardRequest, status: str) -> CardRequest:
    """Put a request in a status directly (the table test checks each move from there)."""
    CardRequest.objects.filter(pk=card_request.pk).update(status=status)
    card_request.refresh_from_db()
    return card_request


def _targets(source: str, actor: str | None = None) -> set[str]:
    return {
        t for (f, t), actors in CardRequest.TRANSITIONS.items() if f == source and (actor is None or actor in actors)
    }


def test_transitions_table_matches_the_issue():
    assert _targets(S.RECEIVED) == {S.VERIFYING, S.REJECTED, S.CANCELLED}
    assert _targets(S.INCOMPLETE) == {S.VERIFYING, S.REJECTED, S.CANCELLED}
    assert _targets(S.PRINTED) == {
        S.READY_FOR_PICKUP,
        S.SHIPPED,
        S.SENT_TO_UPTD,
        S.HANDED_OVER,
        S.REJECTED,
        S.CANCELLED,
    }
    for closed in CardRequest.CLOSED_STATUSES:
        assert _targets(closed) == set()
    # Only a booking schedules, only printing prints, only a dispatch sends to a UPTD, only a shipment ships.
    assert {actors for (f, t), actors in CardRequest.TRANSITIONS.items() if t == S.SCHEDULED} == {
        frozenset({Actor.BOOKING})
    }
    assert {actors for (f, t), actors in CardRequest.TRANSITIONS.items() if t == S.PRINTED} == {
        frozenset({Actor.PRINTING})
    }
    assert CardRequest.TRANSITIONS[(S.PRINTED, S.SENT_TO_UPTD)] == {Actor.DISPATCH}
    assert CardRequest.TRANSITIONS[(S.PRINTED, S.SHIPPED)] == {Actor.SHIPMENT}
    assert CardRequest.TRANSITIONS[(S.SHIPPED, S.HANDED_OVER)] == {Actor.SHIPMENT}
    # Nothing goes back to scheduled or printed from later on: a printed card can never become a no-show.
    assert (S.PRINTED, S.READY_TO_PRINT) not in CardRequest.TRANSITIONS
    assert (S.PRINTED, S.SCHEDULED) not in CardRequest.TRANSITIONS


def test_open_statuses_of_the_database_constraint_match_the_model():
    constraint = next(c for c in CardRequest._meta.constraints if c.name == "cardrequest_one_open_per_resident_kind")
    assert set(dict(constraint.condition.children)["status__in"]) == set(CardRequest.OPEN_STATUSES)


# Every (from, to) pair, as a clerk with every guard satisfied: allowed exactly when the table says so.
# sent_to_uptd is only reached through a dispatch and left by the UPTD, and scheduled only through a booking
# (tests/queueing); their moves are covered there and below.
CLERK_PAIRS = [(a, b) for a, b in product(S.values, S.values) if a != b and S.SENT_TO_UPTD not in (a, b)]


def test_scheduled_is_reached_only_by_booking(clerk, resident_a):
    card_request = services.card_request_create(resident=resident_a, kind="rusak", by=clerk, channel="walk_in")
    _at(card_request, S.READY_TO_PRINT)
    with pytest.raises(CardRequestError, match="formulir jadwal, undangan atau nomor antrean"):
        services.card_request_transition(
            card_request_id=card_request.pk, to_status=S.SCHEDULED, by=clerk, expected_status=S.READY_TO_PRINT
        )


@pytest.mark.parametrize(("source", "target"), CLERK_PAIRS)
def test_every_pair_of_the_transitions_table(source, target, clerk, resident_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    card_request = services.card_request_create(resident=resident_a, kind="rusak", by=clerk, channel="walk_in")
    ktp_lama = Requirement.objects.get(kind="rusak", code="ktp-lama")
    services.requirement_tick(card_request_id=card_request.pk, requirement_id=ktp_lama.pk, by=clerk)
    _at(card_request, source)
    events_before = card_request.events.count()
    allowed = CardRequest.can_move(source, target, Actor.CLERK) and not (
        source == S.PRINTED and target == S.HANDED_OVER and card_request.route != "counter"
    )
    call = {
        "card_request_id": card_request.pk,
        "to_status": target,
        "by": clerk,
        "expected_status": source,
        "note": "alasan",
        "missing_items": ["surat kehilangan"],
        "handover_confirmed": True,
    }
    if allowed:
        services.card_request_transition(**call)
        card_request.refresh_from_db()
        assert card_request.status == target
        event = card_request.events.last()
        assert (event.from_status, event.to_status, event.by) == (source, target, clerk)
    else:
        with pytest.raises(CardRequestError):
            services.card_request_transition(**call)
        card_request.refresh_from_db()
        assert card_request.status == source
        assert card_request.events.count() == events_before


def test_clerk_cannot_send_to_uptd_by_hand_and_uptd_moves_are_limited(clerk, uptd_a, resident_a):
    card_request = services.card_request_create(resident=resident_a, kind="pemula", by=uptd_a)
    _at(card_request, S.PRINTED)
    with pytest.raises(CardRequestError, match="kiriman"):
        services.card_request_transition(
            card_request_id=card_request.pk, to_status=S.SENT_TO_UPTD, by=clerk, expected_status=S.PRINTED
        )
    with pytest.raises(CardRequestError, match="bukan untuk rute ini"):
        services.card_request_transition(
            card_request_id=card_request.pk, to_status=S.READY_FOR_PICKUP, by=clerk, expected_status=S.PRINTED
        )
    _at(card_request, S.RECEIVED)
    with pytest.raises(CardRequestError, match="Operator UPTD"):
        services.card_request_transition(
            card_request_id=card_request.pk, to_status=S.VERIFYING, by=uptd_a, expected_status=S.RECEIVED
        )
    services.card_request_transition(
        card_request_id=card_request.pk, to_status=S.CANCELLED, by=uptd_a, expected_status=S.RECEIVED, note="salah"
    )
    assert CardRequest.objects.get(pk=card_request.pk).status == S.CANCELLED


def test_uptd_operator_cannot_cancel_a_request_it_did_not_submit(hilang, uptd_a):
    with pytest.raises(CardRequestError, match="diajukannya sendiri"):
        services.card_request_transition(
            card_request_id=hilang.pk, to_status=S.CANCELLED, by=uptd_a, expected_status=S.RECEIVED, note="x"
        )


def test_guards_reason_missing_list_documents_recording_handover(clerk, resident_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    hilang = services.card_request_create(resident=resident_a, kind="hilang", by=clerk, channel="whatsapp")
    move = {"card_request_id": hilang.pk, "by": clerk}
    with pytest.raises(CardRequestError, match="alasan"):
        services.card_request_transition(**move, to_status=S.REJECTED, expected_status=S.RECEIVED)
    services.card_request_transition(**move, to_status=S.VERIFYING, expected_status=S.RECEIVED)
    with pytest.raises(CardRequestError, match="kurang"):
        services.card_request_transition(**move, to_status=S.INCOMPLETE, expected_status=S.VERIFYING)
    with pytest.raises(CardRequestError, match="kehilangan"):
        services.card_request_transition(**move, to_status=S.READY_TO_PRINT, expected_status=S.VERIFYING)
    services.attachment_add(
        card_request=hilang, upload=pdf(), by=clerk, requirement=Requirement.objects.get(kind="hilang")
    )
    services.card_request_transition(**move, to_status=S.READY_TO_PRINT, expected_status=S.VERIFYING)

    resident_a.biometric_recorded = False
    resident_a.save()
    pemula = services.card_request_create(resident=resident_a, kind="pemula", by=clerk, channel="walk_in")
    _at(pemula, S.VERIFYING)
    with pytest.raises(CardRequestError, match="perekaman"):
        services.card_request_transition(
            card_request_id=pemula.pk, by=clerk, to_status=S.READY_TO_PRINT, expected_status=S.VERIFYING
        )

    rusak = services.card_request_create(resident=resident_a, kind="rusak", by=clerk, channel="walk_in")
    _at(rusak, S.READY_FOR_PICKUP)
    handover = {
        "card_request_id": rusak.pk,
        "by": clerk,
        "to_status": S.HANDED_OVER,
        "expected_status": S.READY_FOR_PICKUP,
    }
    with pytest.raises(CardRequestError, match="KTP-el lama"):
        services.card_request_transition(**handover, handover_confirmed=True)
    services.requirement_tick(
        card_request_id=rusak.pk, requirement_id=Requirement.objects.get(kind="rusak").pk, by=clerk
    )
    with pytest.raises(CardRequestError, match="sidik jari"):
        services.card_request_transition(**handover)
    services.card_request_transition(**handover, handover_confirmed=True)
    assert CardRequest.objects.get(pk=rusak.pk).status == S.HANDED_OVER


def test_one_open_request_per_resident_and_kind(clerk, resident_a, hilang):
    with pytest.raises(CardRequestError, match=hilang.number):
        services.card_request_create(resident=resident_a, kind="hilang", by=clerk, channel="walk_in")
    # The database refuses it too, whatever the code does.
    with pytest.raises(IntegrityError), transaction.atomic():
        CardRequest.objects.create(
            resident=resident_a,
            kecamatan_id=resident_a.kecamatan_id,
            office=hilang.office,
            pickup_office=hilang.office,
            kind="hilang",
            channel="sms",
            submitted_by_kind="resident",
        )
    # Another kind is fine, and once closed the same kind may be asked again.
    services.card_request_create(resident=resident_a, kind="rusak", by=clerk, channel="walk_in")
    services.card_request_transition(
        card_request_id=hilang.pk, to_status=S.CANCELLED, by=clerk, expected_status=S.RECEIVED, note="dobel"
    )
    services.card_request_create(resident=resident_a, kind="hilang", by=clerk, channel="walk_in")


def test_uptd_operator_cannot_submit_for_another_kecamatan(uptd_b, resident_a):
    with pytest.raises(CardRequestError, match="wilayah"):
        services.card_request_create(resident=resident_a, kind="pemula", by=uptd_b)
    assert not CardRequest.objects.exists()


def test_uptd_submission_is_picked_up_at_the_uptd(uptd_a, resident_a):
    card_request = services.card_request_create(
        resident=resident_a, kind="hilang", by=uptd_a, note="lansia, tidak bisa WhatsApp"
    )
    assert card_request.channel == "uptd"
    assert card_request.submitted_by_kind == "uptd_operator"
    assert card_request.pickup_office == uptd_a.office
    assert card_request.office == uptd_a.office.parent


def test_incomplete_writes_its_message_in_the_same_transaction(clerk, hilang):
    resident = hilang.resident
    resident.whatsapp = "6281234567890"
    resident.save()
    services.card_request_transition(
        card_request_id=hilang.pk, to_status=S.VERIFYING, by=clerk, expected_status=S.RECEIVED
    )
    services.card_request_transition(
        card_request_id=hilang.pk,
        to_status=S.INCOMPLETE,
        by=clerk,
        expected_status=S.VERIFYING,
        missing_items=["Surat kehilangan dari kepolisian", "Foto KK"],
    )
    message = Notification.objects.get(card_request=hilang, template="request_incomplete")
    assert message.status == Notification.Status.PENDING
    assert message.recipient == "6281234567890"
    assert "- Surat kehilangan dari kepolisian\n- Foto KK" in message.text
    assert hilang.number in message.text
    assert CardRequest.objects.get(pk=hilang.pk).missing_items == ["Surat kehilangan dari kepolisian", "Foto KK"]


def test_no_notification_when_the_transition_does_not_commit(clerk, hilang, monkeypatch):
    _at(hilang, S.VERIFYING)
    before = Notification.objects.count()

    def broken_event(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(workflow, "_write_message", broken_event)
    with pytest.raises(RuntimeError):
        services.card_request_transition(
            card_request_id=hilang.pk,
            to_status=S.INCOMPLETE,
            by=clerk,
            expected_status=S.VERIFYING,
            missing_items=["KK"],
        )
    assert Notification.objects.count() == before
    assert CardRequest.objects.get(pk=hilang.pk).status == S.VERIFYING


def test_a_resident_without_a_number_gets_a_no_contact_row(clerk, hilang):
    assert hilang.resident.whatsapp == ""
    message = Notification.objects.get(card_request=hilang, template="request_received")
    assert message.status == Notification.Status.NO_CONTACT


def test_stale_status_gets_a_clear_message(clerk, supervisor, hilang):
    services.card_request_transition(
        card_request_id=hilang.pk, to_status=S.VERIFYING, by=supervisor, expected_status=S.RECEIVED
    )
    with pytest.raises(StaleCardRequest, match="Kabid"):
        services.card_request_transition(
            card_request_id=hilang.pk, to_status=S.VERIFYING, by=clerk, expected_status=S.RECEIVED
        )


@pytest.mark.postgres_only  # row locks with real threads
@pytest.mark.django_db(transaction=True)
def test_two_clerks_move_the_same_request_at_once(ponorogo, clerk, supervisor, resident_a):
    resident_a.whatsapp = "6281234567890"
    resident_a.save()
    card_request = services.card_request_create(resident=resident_a, kind="hilang", by=clerk, channel="walk_in")
    _at(card_request, S.VERIFYING)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def move(name, user, target):
        barrier.wait()
        try:
            services.card_request_transition(
                card_request_id=card_request.pk,
                to_status=target,
                by=user,
                expected_status=S.VERIFYING,
                note="batal",
                missing_items=["Surat kehilangan"],
            )
            results[name] = "ok"
        except CardRequestError as exc:
            results[name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=move, args=("a", clerk, S.INCOMPLETE)),
        threading.Thread(target=move, args=("b", supervisor, S.REJECTED)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sorted(results.values(), key=lambda r: r != "ok")
    assert outcomes[0] == "ok"
    assert isinstance(outcomes[1], StaleCardRequest)
    card_request.refresh_from_db()
    winner = S.INCOMPLETE if results["a"] == "ok" else S.REJECTED
    assert card_request.status == winner
    # Exactly one status event and one message after the creation ones: nothing half-written by the loser.
    assert card_request.events.filter(action=CardRequestEvent.Action.STATUS).count() == 1
    assert card_request.notifications.exclude(template="request_received").count() == 1


# --- attachments ----------------------------------------------------------------------------------------


def test_an_executable_renamed_pdf_is_refused(clerk, hilang, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    elf = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
    mz = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
    for content in (elf, mz, b"<html><script>alert(1)</script></html>"):
        with pytest.raises(CardRequestError, match="bukan PDF"):
            services.attachment_add(card_request=hilang, upload=pdf("surat-polisi.pdf", content), by=clerk)
    assert not Attachment.objects.exists()
    assert not list(tmp_path.rglob("*.*"))


def test_attachment_limits_and_storage(clerk, hilang, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    too_big = pdf(content=PDF + b"0" * (5 * 1024 * 1024))
    with pytest.raises(CardRequestError, match="5 MB"):
        services.attachment_add(card_request=hilang, upload=too_big, by=clerk)
    png = services.attachment_add(
        card_request=hilang, upload=SimpleUploadedFile("foto.jpg", PNG, content_type="image/jpeg"), by=clerk
    )
    assert png.content_type == "image/png"  # from the content, not the name or the browser's claim
    assert png.file.name.startswith("lampiran/") and "foto" not in png.file.name
    stored = (tmp_path / png.file.name).read_bytes()
    assert stored.startswith(b"\x89PNG") and png.size == len(stored)  # the re-encoded image (cards/uploads.py)
    assert len(png.sha256) == 64
    assert hilang.events.filter(action=CardRequestEvent.Action.ATTACHMENT).exists()


# --- urgent priority ------------------------------------------------------------------------------------


def test_urgent_needs_proof_and_a_supervisor_and_sorts_first(
    clerk, supervisor, resident_a, resident_b, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    older = services.card_request_create(resident=resident_b, kind="rusak", by=clerk, channel="walk_in")
    urgent = services.card_request_create(
        resident=resident_a, kind="rusak", by=clerk, channel="walk_in", urgent_reason="travel", urgent_note="umrah"
    )
    assert urgent.urgent_status == UrgentStatus.REQUESTED and not urgent.is_urgent
    with pytest.raises(CardRequestError, match="kepala bidang"):
        services.card_request_urgent_decide(card_request_id=urgent.pk, approve=True, by=clerk)
    with pytest.raises(CardRequestError, match="Bukti"):
        services.card_request_urgent_decide(card_request_id=urgent.pk, approve=True, by=supervisor)
    services.attachment_add(card_request=urgent, upload=pdf("tiket.pdf"), by=clerk, purpose="urgent_proof")
    assert list(CardRequest.objects.in_work_order()) == [older, urgent]
    services.card_request_urgent_decide(card_request_id=urgent.pk, approve=True, by=supervisor)
    assert list(CardRequest.objects.in_work_order()) == [urgent, older]
    assert Notification.objects.filter(card_request=urgent, template="urgent_approved").exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        CardRequest.objects.filter(pk=older.pk).update(is_urgent=True)


def test_other_urgent_reason_needs_a_note(clerk, resident_a):
    with pytest.raises(CardRequestError, match="lainnya"):
        services.card_request_create(resident=resident_a, kind="rusak", by=clerk, channel="sms", urgent_reason="other")


# --- biometric recording --------------------------------------------------------------------------------


def test_recording_marks_the_resident_and_leaves_history(clerk, resident_a):
    resident_a.biometric_recorded = False
    resident_a.save()
    pemula = services.card_request_create(resident=resident_a, kind="pemula", by=clerk, channel="walk_in")
    assert list(CardRequest.objects.needing_recording()) == [pemula]
    recording.biometric_record(resident_id=resident_a.pk, by=clerk, card_request_id=pemula.pk)
    resident_a.refresh_from_db()
    assert resident_a.biometric_recorded
    assert ResidentChange.objects.get(resident=resident_a).changes == {"biometric_recorded": [False, True]}
    assert not CardRequest.objects.needing_recording().exists()
    with pytest.raises(CardRequestError, match="sudah perekaman"):
        recording.biometric_record(resident_id=resident_a.pk, by=clerk, card_request_id=pemula.pk)


def test_recording_in_a_health_emergency_needs_urgency_and_the_full_protocol(
    clerk, supervisor, uptd_a, resident_a, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    Office.objects.filter(pk=clerk.office_id).update(health_emergency=True)
    resident_a.biometric_recorded = False
    resident_a.save()
    pemula = services.card_request_create(resident=resident_a, kind="pemula", by=uptd_a)
    uptd_a.office.refresh_from_db()
    uptd_a.office.parent.refresh_from_db()
    assert uptd_a.office.in_health_emergency  # the UPTD follows its Disdukcapil
    with pytest.raises(CardRequestError, match="mendesak"):
        recording.biometric_record(resident_id=resident_a.pk, by=uptd_a, card_request_id=pemula.pk)
    services.card_request_urgent_ask(card_request_id=pemula.pk, reason="medical", note="operasi", by=uptd_a)
    services.attachment_add(card_request=pemula, upload=pdf("dokter.pdf"), by=uptd_a, purpose="urgent_proof")
    services.card_request_urgent_decide(card_request_id=pemula.pk, approve=True, by=supervisor)
    almost = [c for c in HealthChecklist.values if c != "hands_washed"]
    with pytest.raises(CardRequestError, match="cuci tangan|mencuci tangan"):
        recording.biometric_record(resident_id=resident_a.pk, by=uptd_a, card_request_id=pemula.pk, checklist=almost)
    done = recording.biometric_record(
        resident_id=resident_a.pk, by=uptd_a, card_request_id=pemula.pk, checklist=HealthChecklist.values
    )
    assert done.during_emergency and sorted(done.checklist) == sorted(HealthChecklist.values)


# --- dispatch to a UPTD ---------------------------------------------------------------------------------


def test_dispatch_receive_and_handover_at_the_uptd(clerk, uptd_a, uptd_b, resident_a, resident_b):
    mine = services.card_request_create(resident=resident_a, kind="pemula", by=uptd_a)
    office_pickup = services.card_request_create(resident=resident_b, kind="pemula", by=clerk, channel="walk_in")
    _at(mine, S.PRINTED)
    _at(office_pickup, S.PRINTED)
    batch, refused = dispatch.dispatch_create(
        uptd=uptd_a.office, card_request_ids=[mine.pk, office_pickup.pk], by=clerk
    )
    assert [pk for pk, _reason in refused] == [office_pickup.pk]
    mine.refresh_from_db()
    assert mine.status == S.SENT_TO_UPTD
    item = batch.items.get()
    handover = {
        "card_request_id": mine.pk,
        "to_status": S.HANDED_OVER,
        "expected_status": S.SENT_TO_UPTD,
        "handover_confirmed": True,
    }
    with pytest.raises(CardRequestError, match="diterima di UPTD"):
        services.card_request_transition(**handover, by=uptd_a)
    with pytest.raises(CardRequestError, match="bukan untuk UPTD Anda"):
        dispatch.dispatch_item_receive(item_id=item.pk, by=uptd_b)
    dispatch.dispatch_item_receive(item_id=item.pk, by=uptd_a)
    with pytest.raises(CardRequestError, match="sudah dikonfirmasi"):
        dispatch.dispatch_item_receive(item_id=item.pk, by=uptd_a)
    assert Notification.objects.filter(card_request=mine, template="request_at_uptd").count() == 1
    with pytest.raises(CardRequestError, match="UPTD atau kurir"):
        services.card_request_transition(**handover, by=clerk)
    services.card_request_transition(**handover, by=uptd_a)
    assert CardRequest.objects.get(pk=mine.pk).status == S.HANDED_OVER


# --- bulk actions ---------------------------------------------------------------------------------------


def test_bulk_actions_report_each_refused_row(clerk, resident_a, resident_b, uptd_b):
    first = services.card_request_create(resident=resident_a, kind="rusak", by=clerk, channel="walk_in")
    second = services.card_request_create(resident=resident_b, kind="rusak", by=clerk, channel="walk_in")
    _at(second, S.PRINTED)
    outcome = services.card_requests_bulk_transition(ids=[first.pk, second.pk, 999999], action="verify", by=clerk)
    assert [c.pk for c in outcome.done] == [first.pk]
    refused = {pk: reason for pk, _number, reason in outcome.refused}
    assert set(refused) == {second.pk, 999999}
    assert "Sudah dicetak" in refused[second.pk]
    assert CardRequest.objects.get(pk=second.pk).status == S.PRINTED
    # Out of scope rows are refused as not found, and stay as they were.
    outcome = services.card_requests_bulk_transition(ids=[first.pk], action="cancel", by=uptd_b, note="x")
    assert outcome.done == [] and CardRequest.objects.get(pk=first.pk).status == S.VERIFYING
