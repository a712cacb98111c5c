"""One journey per route, from the resident's request to the card in their hands, through the real services.

Each asserts the whole timeline, every message (its template and addressee), the blank ledger and the day's
counters, and runs the day-end job in between (a card that is not a route-1 appointment never becomes a
no-show). The clock is frozen at FROZEN_NOW (Monday 09:00 WIB) and moved with time-machine.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum

from cards import dispatch, services, workflow
from cards.models import CardRequest, CardRequestEvent, Requirement, Route
from delivery import shipments
from queueing import appointments, counter, printing
from queueing.models import BlankMovement, BlankStock, Booking, ServiceDay, WalkInTicket
from queueing.tasks import close_office_days
from registry.models import Office
from tests.dates import at, working_day_after
from tests.documents import PDF
from tests.factories import ResidentFactory, open_calendar

S = CardRequest.Status
A = CardRequestEvent.Action
NUMBER = "6281234567890"


@pytest.fixture
def office(ponorogo, frozen_now):
    open_calendar(ponorogo, print_capacity=10, whatsapp=4, walk_in=3, invitation=2)
    return ponorogo


@pytest.fixture
def stocked(office, supervisor, frozen_today):
    printing.blanks_receive(office=office, quantity=5, reference="SKB-1", received_on=frozen_today, by=supervisor)
    return office


def _timeline(card_request: CardRequest) -> list[tuple]:
    """(action, from, to) of every event, oldest first; status events carry their statuses."""
    return [
        (e.action, e.from_status, e.to_status) if e.action == A.STATUS else (e.action,)
        for e in card_request.events.order_by("at", "id")
    ]


def _messages(card_request: CardRequest) -> list[tuple[str, str]]:
    return list(card_request.notifications.order_by("created_at", "id").values_list("template", "recipient"))


def _ledger(office: Office) -> tuple[int, dict[str, int]]:
    stock = BlankStock.objects.get(office=office).quantity
    lines = dict(BlankMovement.objects.filter(office=office).values_list("kind").annotate(n=Sum("quantity")).order_by())
    return stock, lines


def _verify_and_ready(card_request: CardRequest, clerk) -> None:
    for target, expected in ((S.VERIFYING, S.RECEIVED), (S.READY_TO_PRINT, S.VERIFYING)):
        services.card_request_transition(
            card_request_id=card_request.pk, to_status=target, by=clerk, expected_status=expected
        )


def _tick_old_card(card_request: CardRequest, user) -> None:
    old_card = Requirement.objects.get(kind=card_request.kind, stage="handover")
    services.requirement_tick(card_request_id=card_request.pk, requirement_id=old_card.pk, by=user)


def _run_day_end(time_machine, office: Office, day) -> None:
    """The evening job of `day`: 20:00 at the office, after its closing time."""
    time_machine.move_to(at(day, 20), tick=False)
    close_office_days(office.pk)


# --- route 1: at the counter -------------------------------------------------------------------------------


def test_route_1_booked_by_message_printed_while_waiting_and_handed_over(stocked, clerk, time_machine, frozen_today):
    office = stocked
    resident = ResidentFactory(whatsapp=NUMBER)
    request = services.card_request_create(resident=resident, kind="rusak", by=None, channel="whatsapp")
    assert request.route == Route.COUNTER
    _verify_and_ready(request, clerk)
    tomorrow = working_day_after(frozen_today)
    booking = appointments.booking_book(card_request_id=request.pk, channel="whatsapp", by=None, wish=tomorrow)
    day = ServiceDay.objects.get(office=office, date=tomorrow)
    assert (day.booked_whatsapp, day.booked_total, booking.number) == (1, 1, 1)

    _run_day_end(time_machine, office, frozen_today)  # today's evening: tomorrow's appointment is untouched
    assert Booking.objects.get(pk=booking.pk).status == "booked"

    time_machine.move_to(at(tomorrow, 8, 30), tick=False)
    appointments.booking_check_in(office=office, by=clerk, token=appointments.booking_token(booking))
    called = counter.call_next(office=office, counter="Loket 1", by=clerk)
    assert called.pk == booking.pk
    printing.counter_print(card_request_id=request.pk, by=clerk)
    _tick_old_card(request, clerk)
    services.card_request_transition(
        card_request_id=request.pk, to_status=S.HANDED_OVER, by=clerk, expected_status=S.PRINTED,
        handover_confirmed=True,
    )  # fmt: skip

    _run_day_end(time_machine, office, tomorrow)
    request.refresh_from_db()
    assert request.status == S.HANDED_OVER
    assert (request.handover.method, request.handover.fingerprint_verified, request.handover.activated) == (
        "in_person", True, True,
    )  # fmt: skip
    assert _timeline(request) == [
        (A.CREATED,),
        (A.STATUS, S.RECEIVED, S.VERIFYING),
        (A.STATUS, S.VERIFYING, S.READY_TO_PRINT),
        (A.STATUS, S.READY_TO_PRINT, S.SCHEDULED),
        (A.CHECKED_IN,),
        (A.STATUS, S.SCHEDULED, S.PRINTED),
        (A.REQUIREMENT,),
        (A.STATUS, S.PRINTED, S.HANDED_OVER),
    ]
    assert _messages(request) == [
        ("request_received", NUMBER),
        ("ready_counter", NUMBER),
        ("booking_confirmed", NUMBER),
        ("request_handed_over", NUMBER),
    ]
    assert not Booking.objects.filter(card_request=request, status="no_show").exists()
    assert _ledger(office) == (4, {"receipt": 5, "print": -1})
    day.refresh_from_db()
    assert (day.booked_whatsapp, day.booked_total, day.batch_printed) == (1, 1, 0)


def test_route_1_walk_in_number_tied_to_a_request_at_the_counter(stocked, clerk, frozen_today):
    office = stocked
    resident = ResidentFactory(whatsapp=NUMBER)
    ticket = counter.ticket_issue(office=office, by=clerk)
    assert ticket.number == 1
    called = counter.call_next(office=office, counter="Loket 2", by=clerk)
    assert called.pk == ticket.pk and isinstance(called, WalkInTicket)
    request = services.card_request_create(resident=resident, kind="hilang", by=clerk, channel="walk_in")
    services.attachment_add(
        card_request=request,
        upload=SimpleUploadedFile("polisi.pdf", PDF, content_type="application/pdf"),
        by=clerk,
        requirement=Requirement.objects.get(kind="hilang", stage="document"),
    )
    _verify_and_ready(request, clerk)
    booking = counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=request.pk, office=office, by=clerk)
    assert (booking.date, booking.channel, booking.status) == (frozen_today, "walk_in", "checked_in")
    printing.counter_print(card_request_id=request.pk, by=clerk)
    services.card_request_transition(
        card_request_id=request.pk, to_status=S.HANDED_OVER, by=clerk, expected_status=S.PRINTED,
        handover_confirmed=True,
    )  # fmt: skip
    request.refresh_from_db()
    ticket.refresh_from_db()
    assert request.status == S.HANDED_OVER and ticket.card_request_id == request.pk
    day = ServiceDay.objects.get(office=office, date=frozen_today)
    # The number took the walk-in place; serving it took no second one.
    assert (day.booked_walk_in, day.booked_total, day.last_ticket) == (1, 1, 1)
    # The resident is at the counter: no appointment message, only what the request itself says.
    assert _messages(request) == [
        ("request_received", NUMBER),
        ("ready_counter", NUMBER),
        ("request_handed_over", NUMBER),
    ]
    assert _ledger(office) == (4, {"receipt": 5, "print": -1})


def test_route_1_no_show_goes_to_the_back_of_the_line_and_waits_after_two(office, clerk, time_machine, frozen_today):
    resident = ResidentFactory(whatsapp=NUMBER)
    request = services.card_request_create(resident=resident, kind="rusak", by=None, channel="whatsapp")
    _verify_and_ready(request, clerk)
    queued = CardRequest.objects.get(pk=request.pk).queued_at
    day = frozen_today
    for attempt in (1, 2):
        booked_on, day = day, working_day_after(day)
        time_machine.move_to(at(booked_on, 21), tick=False)
        appointments.booking_book(card_request_id=request.pk, channel="whatsapp", by=None, wish=day)
        _run_day_end(time_machine, office, day)
        request.refresh_from_db()
        assert (request.status, request.no_shows) == (S.READY_TO_PRINT, attempt)
        assert request.queued_at > queued
        queued = request.queued_at
        assert Booking.objects.get(card_request=request, date=day).status == "no_show"
    assert _timeline(request)[-1] == (A.STATUS, S.SCHEDULED, S.READY_TO_PRINT)
    templates = [t for t, _r in _messages(request)]
    assert templates.count("booking_confirmed") == 2
    assert sum(t.startswith("no_show") for t in templates) == 2
    # After two no-shows the request is not invited again until the resident asks.
    from queueing.invitations import invitation_candidates

    assert request.pk not in set(invitation_candidates(office=office).values_list("pk", flat=True))


# --- route 2: printed ahead, collected later ------------------------------------------------------------------


def test_route_2_printed_in_a_batch_stored_and_collected(stocked, clerk, time_machine, frozen_today):
    office = stocked
    resident = ResidentFactory(whatsapp=NUMBER)
    request = services.card_request_create(resident=resident, kind="rusak", by=clerk, channel="outreach")
    assert request.route == Route.COLLECT
    _verify_and_ready(request, clerk)
    batch = printing.print_batch_create(office=office, day=frozen_today, by=clerk)
    printing.print_batch_print(batch_id=batch.pk, by=clerk)
    printing.print_batch_store(batch_id=batch.pk, by=clerk, from_day=frozen_today)
    _run_day_end(time_machine, office, frozen_today)
    request.refresh_from_db()
    assert request.status == S.READY_FOR_PICKUP  # not an appointment: never a no-show

    later = working_day_after(frozen_today, 3)
    time_machine.move_to(at(later, 10), tick=False)
    _tick_old_card(request, clerk)
    services.card_request_transition(
        card_request_id=request.pk, to_status=S.HANDED_OVER, by=clerk, expected_status=S.READY_FOR_PICKUP,
        handover_confirmed=True,
    )  # fmt: skip
    request.refresh_from_db()
    assert request.handover.method == "in_person"
    assert _timeline(request) == [
        (A.CREATED,),
        (A.STATUS, S.RECEIVED, S.VERIFYING),
        (A.STATUS, S.VERIFYING, S.READY_TO_PRINT),
        (A.STATUS, S.READY_TO_PRINT, S.PRINTED),
        (A.STATUS, S.PRINTED, S.READY_FOR_PICKUP),
        (A.REQUIREMENT,),
        (A.STATUS, S.READY_FOR_PICKUP, S.HANDED_OVER),
    ]
    templates = [t for t, recipient in _messages(request) if recipient == NUMBER]
    assert templates[:2] == ["request_received", "ready_collect"]
    assert templates[-1] == "request_handed_over"
    assert len(templates) == 4 and "booking_confirmed" not in templates and "invitation" not in templates
    assert _ledger(office) == (4, {"receipt": 5, "print": -1})
    day = ServiceDay.objects.get(office=office, date=frozen_today)
    assert (day.booked_total, day.batch_printed) == (0, 1)
    assert not Booking.objects.filter(card_request=request).exists()


# --- route 3: through the UPTD ---------------------------------------------------------------------------------


def test_route_3_uptd_submission_batch_dispatch_and_handover_at_the_uptd(
    stocked, clerk, uptd_a, resident_a, time_machine, frozen_today
):
    office = stocked
    resident_a.whatsapp = NUMBER
    resident_a.save(update_fields=["whatsapp"])
    request = services.card_request_create(
        resident=resident_a, kind="rusak", by=uptd_a, note="lansia, tidak bisa WhatsApp"
    )
    assert (request.route, request.pickup_office) == (Route.UPTD, uptd_a.office)
    _verify_and_ready(request, clerk)
    batch = printing.print_batch_create(office=office, day=frozen_today, by=clerk)
    printing.print_batch_print(batch_id=batch.pk, by=clerk)
    sent, refused = dispatch.dispatch_create(uptd=uptd_a.office, card_request_ids=[request.pk], by=clerk)
    assert refused == []
    _run_day_end(time_machine, office, frozen_today)
    arrival = working_day_after(frozen_today)
    time_machine.move_to(at(arrival, 9), tick=False)
    dispatch.dispatch_item_receive(item_id=sent.items.get().pk, by=uptd_a)
    _tick_old_card(request, uptd_a)
    services.card_request_transition(
        card_request_id=request.pk, to_status=S.HANDED_OVER, by=uptd_a, expected_status=S.SENT_TO_UPTD,
        handover_confirmed=True,
    )  # fmt: skip
    request.refresh_from_db()
    assert (request.status, request.handover.office) == (S.HANDED_OVER, uptd_a.office)
    assert _timeline(request) == [
        (A.CREATED,),
        (A.STATUS, S.RECEIVED, S.VERIFYING),
        (A.STATUS, S.VERIFYING, S.READY_TO_PRINT),
        (A.STATUS, S.READY_TO_PRINT, S.PRINTED),
        (A.STATUS, S.PRINTED, S.SENT_TO_UPTD),
        (A.RECEIVED_AT_UPTD,),
        (A.REQUIREMENT,),
        (A.STATUS, S.SENT_TO_UPTD, S.HANDED_OVER),
    ]
    assert _messages(request) == [
        ("request_received", NUMBER),
        ("ready_uptd", NUMBER),
        ("request_at_uptd", NUMBER),
        ("request_handed_over", NUMBER),
    ]
    for text in request.notifications.values_list("text", flat=True):
        assert "Disdukcapil Kabupaten" not in text  # never sent to the kabupaten office
    assert uptd_a.office.name in request.notifications.get(template="request_at_uptd").text
    assert not Booking.objects.filter(card_request=request).exists()
    assert _ledger(office) == (4, {"receipt": 5, "print": -1})


# --- route 4: by post ------------------------------------------------------------------------------------------


def test_route_4_shipped_cash_on_delivery_and_delivered_by_the_courier(
    stocked, clerk, ponorogo, time_machine, frozen_today, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    office = stocked
    Office.objects.filter(pk=office.pk).update(message_route=Route.POST)
    resident = ResidentFactory(whatsapp=NUMBER)
    request = services.card_request_create(resident=resident, kind="ubah_data", by=None, channel="whatsapp")
    assert request.route == Route.POST
    for requirement in Requirement.objects.filter(kind="ubah_data", stage="document", is_active=True):
        services.attachment_add(
            card_request=request,
            upload=SimpleUploadedFile("dok.pdf", PDF, content_type="application/pdf"),
            by=clerk,
            requirement=requirement,
        )
    _verify_and_ready(request, clerk)
    batch = printing.print_batch_create(office=office, day=frozen_today, by=clerk)
    printing.print_batch_print(batch_id=batch.pk, by=clerk)
    shipment = shipments.shipment_create(card_request_id=request.pk, tracking_number="RB123456789ID", by=clerk)
    assert shipment.cod_fee == 9000
    _run_day_end(time_machine, office, frozen_today)
    time_machine.move_to(at(working_day_after(frozen_today, 2), 11), tick=False)
    shipments.shipment_delivered(shipment_id=shipment.pk, by=clerk, old_card_collected=True)
    request.refresh_from_db()
    assert request.status == S.HANDED_OVER
    assert (request.handover.method, request.handover.fingerprint_verified, request.handover.activated) == (
        "by_post", False, False,
    )  # fmt: skip
    timeline = _timeline(request)
    assert timeline[0] == (A.CREATED,)
    assert [t for t in timeline if t[0] == A.STATUS] == [
        (A.STATUS, S.RECEIVED, S.VERIFYING),
        (A.STATUS, S.VERIFYING, S.READY_TO_PRINT),
        (A.STATUS, S.READY_TO_PRINT, S.PRINTED),
        (A.STATUS, S.PRINTED, S.SHIPPED),
        (A.STATUS, S.SHIPPED, S.HANDED_OVER),
    ]
    assert _messages(request) == [
        ("request_received", NUMBER),
        ("ready_post", NUMBER),
        ("request_shipped", NUMBER),
        ("request_delivered", NUMBER),
    ]
    shipped_text = request.notifications.get(template="request_shipped").text
    assert "RB123456789ID" in shipped_text and "9.000" in shipped_text
    assert _ledger(office) == (4, {"receipt": 5, "print": -1})


def test_route_4_failed_delivery_returns_the_card_to_route_2(stocked, clerk, frozen_today):
    office = stocked
    Office.objects.filter(pk=office.pk).update(message_route=Route.POST)
    request = services.card_request_create(
        resident=ResidentFactory(whatsapp=NUMBER), kind="hilang", by=None, channel="whatsapp"
    )
    CardRequest.objects.filter(pk=request.pk).update(status=S.READY_TO_PRINT)
    batch = printing.print_batch_create(office=office, day=frozen_today, by=clerk)
    printing.print_batch_print(batch_id=batch.pk, by=clerk)
    shipment = shipments.shipment_create(card_request_id=request.pk, tracking_number="RB000000001ID", by=clerk)
    shipments.shipment_failed(shipment_id=shipment.pk, outcome="returned", reason="alamat tidak ditemukan", by=clerk)
    request.refresh_from_db()
    assert (request.status, request.route, request.pickup_office) == (S.READY_FOR_PICKUP, Route.COLLECT, office)
    assert _messages(request)[-1] == ("request_returned_by_post", NUMBER)


# --- closing a request gives back what it held ----------------------------------------------------------------


def test_cancelling_a_scheduled_request_frees_its_place_and_it_never_becomes_a_no_show(
    office, clerk, time_machine, frozen_today
):
    request = services.card_request_create(
        resident=ResidentFactory(whatsapp=NUMBER), kind="rusak", by=None, channel="whatsapp"
    )
    _verify_and_ready(request, clerk)
    day = working_day_after(frozen_today)
    booking = appointments.booking_book(card_request_id=request.pk, channel="whatsapp", by=None, wish=day)
    services.card_request_transition(
        card_request_id=request.pk, to_status=S.CANCELLED, by=clerk, expected_status=S.SCHEDULED,
        note="pindah domisili",
    )  # fmt: skip
    service_day = ServiceDay.objects.get(office=office, date=day)
    assert (service_day.booked_whatsapp, service_day.booked_total) == (0, 0)
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"
    _run_day_end(time_machine, office, day)
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"
    assert not CardRequestEvent.objects.filter(card_request=request, action=A.NO_SHOW).exists()
    assert CardRequest.objects.get(pk=request.pk).status == S.CANCELLED
    assert [t for t, _r in _messages(request)][-1] == "request_cancelled"


def test_workflow_is_the_only_writer_of_a_status(office):
    """A guard against regressions beside tests/test_architecture.py: the release hooks are registered."""
    names = {hook.__name__ for hook in workflow._release_hooks}
    assert {"holdings_release", "print_batches_release", "sukets_release"} <= names
