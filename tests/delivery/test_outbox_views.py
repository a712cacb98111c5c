"""Pesan gagal terkirim (delivery/outbox_views.py): dead and failed messages in scope, counts, "Kirim ulang" one
or many, scope for UPTD operators, the request's timeline."""

from __future__ import annotations

import pytest

from cards import services
from cards.models import CardRequestEvent
from delivery import outbox, tasks
from messaging.models import Contact, Notification
from registry.models import Office
from tests.conftest import KEC_B

N = Notification.Status
LIST = "/pesan-keluar/gagal/"
RESEND = "/pesan-keluar/kirim-ulang/"


@pytest.fixture
def handed_over(monkeypatch) -> list[list[int]]:
    """What the view hands to the broker (recorded instead of sent)."""
    calls: list[list[int]] = []
    monkeypatch.setattr(tasks, "notifications_enqueue", lambda ids: calls.append(list(ids)) or True)
    return calls


def dead_message(*, resident=None, office=None, card_request=None, status=N.DEAD, phone="6281234567890", **fields):
    contact, _ = Contact.objects.get_or_create(phone=phone)
    return Notification.objects.create(
        resident=resident,
        office=office,
        card_request=card_request,
        contact=contact,
        channel="whatsapp",
        recipient=phone,
        template=fields.pop("template", "request_received"),
        text="Permohonan KTP-el sudah kami terima.",
        status=status,
        attempts=fields.pop("attempts", 8),
        last_error=fields.pop("last_error", "retry 500: whatsapp: HTTP 500"),
        **fields,
    )


@pytest.fixture
def in_a(resident_a, ponorogo):
    """A dead message to a resident of kecamatan A from the kabupaten office."""
    return dead_message(resident=resident_a, office=ponorogo)


def test_clerk_sees_dead_and_failed_messages_masked_with_counts(client, clerk, in_a, resident_b, ponorogo):
    failed = dead_message(resident=resident_b, office=ponorogo, status=N.FAILED, phone="6289999888777")
    dead_message(resident=resident_b, office=ponorogo, status=N.SENT, phone="6281111222333")
    dead_message(resident=resident_b, office=ponorogo, status=N.PENDING, phone="6281111222444")
    client.force_login(clerk)

    response = client.get(LIST)

    page = response.content.decode()
    assert response.status_code == 200
    assert [row.pk for row, _address in response.context["rows"]] == [failed.pk, in_a.pk]
    assert response.context["counts"] == {"pending": 1, "dead": 1, "failed": 1}
    assert "6281****890" in page and "6281234567890" not in page  # the number is masked
    assert "retry 500" in page


def test_the_list_filters_by_status(client, clerk, in_a, resident_b, ponorogo):
    dead_message(resident=resident_b, office=ponorogo, status=N.FAILED, phone="6289999888777")
    client.force_login(clerk)

    response = client.get(LIST, {"status": "dead"})

    assert [row.pk for row, _address in response.context["rows"]] == [in_a.pk]


def test_the_list_costs_the_same_queries_for_many_rows(
    client, clerk, resident_a, ponorogo, django_assert_max_num_queries
):
    for n in range(30):
        dead_message(resident=resident_a, office=ponorogo, phone=f"62812000000{n:02d}")
    client.force_login(clerk)
    client.get(LIST)  # sessions, permissions cached

    with django_assert_max_num_queries(12):
        response = client.get(LIST)

    assert len(response.context["rows"]) == 30


def test_uptd_operator_sees_only_their_kecamatan(client, uptd_a, uptd_b, in_a):
    client.force_login(uptd_b)
    assert client.get(LIST).context["rows"] == []
    assert client.get(LIST).context["counts"]["dead"] == 0

    client.force_login(uptd_a)
    assert [row.pk for row, _address in client.get(LIST).context["rows"]] == [in_a.pk]


def test_a_uptd_sees_its_own_offices_messages(client, uptd_b, ponorogo):
    """A message from the UPTD itself (to its operator's contact, with no resident) is in its scope."""
    uptd_office = Office.objects.get(region_id=KEC_B)
    own = dead_message(office=uptd_office)
    client.force_login(uptd_b)

    assert [row.pk for row, _address in client.get(LIST).context["rows"]] == [own.pk]


def test_uptd_operator_of_another_kecamatan_cannot_resend(client, uptd_b, in_a, handed_over):
    client.force_login(uptd_b)

    response = client.post(RESEND, {"notification": [in_a.pk]})

    assert response.status_code == 302
    in_a.refresh_from_db()
    assert (in_a.status, in_a.attempts) == (N.DEAD, 8)
    assert handed_over == []


def test_resend_one_puts_it_back_in_the_outbox_and_hands_it_over(client, clerk, in_a, handed_over, frozen_now):
    client.force_login(clerk)

    response = client.post(RESEND, {"notification": [in_a.pk], "query": "status=dead&page=1"})

    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?status=dead&page=1"
    in_a.refresh_from_db()
    assert (in_a.status, in_a.attempts, in_a.next_attempt_at, in_a.last_error) == (N.PENDING, 0, frozen_now, "")
    assert handed_over == [[in_a.pk]]


def test_resend_many_takes_only_dead_or_failed_rows_in_scope(
    client, uptd_a, resident_a, resident_b, ponorogo, handed_over
):
    dead = dead_message(resident=resident_a, office=ponorogo)
    failed = dead_message(resident=resident_a, office=ponorogo, status=N.FAILED, phone="6281999000111")
    sent = dead_message(resident=resident_a, office=ponorogo, status=N.SENT, phone="6281999000222")
    elsewhere = dead_message(resident=resident_b, office=Office.objects.get(region_id=KEC_B), phone="6281999000333")
    client.force_login(uptd_a)

    client.post(RESEND, {"notification": [dead.pk, failed.pk, sent.pk, elsewhere.pk]})

    assert handed_over == [sorted([dead.pk, failed.pk])]
    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert (statuses[dead.pk], statuses[failed.pk]) == (N.PENDING, N.PENDING)
    assert (statuses[sent.pk], statuses[elsewhere.pk]) == (N.SENT, N.DEAD)


def test_a_resend_is_a_line_in_the_requests_timeline(client, clerk, uptd_a, resident_a, ponorogo, handed_over):
    card_request = services.card_request_create(resident=resident_a, kind="hilang", by=uptd_a)
    row = dead_message(resident=resident_a, office=ponorogo, card_request=card_request)
    client.force_login(clerk)

    client.post(RESEND, {"notification": [row.pk]})

    event = CardRequestEvent.objects.filter(card_request=card_request, action=outbox.MESSAGE_RESENT).get()
    assert event.by == clerk
    assert "request_received" in event.note


def test_a_second_resend_of_the_same_row_takes_nothing(clerk, in_a):
    assert outbox.notifications_resend(ids=[in_a.pk], by=clerk) == [in_a.pk]
    assert outbox.notifications_resend(ids=[in_a.pk], by=clerk) == []


def test_the_resend_hands_rows_to_the_worker_which_sends_them(clerk, in_a, monkeypatch, frozen_now):
    """The whole way: resend, hand over (executed here), sent by the gateway."""
    from tests.delivery.test_outbox import FakeGateway

    gateway = FakeGateway()
    monkeypatch.setattr(outbox.gateways, "gateway_for", gateway)
    monkeypatch.setattr(tasks.deliver_notification.app.conf, "task_always_eager", True)
    Contact.objects.filter(pk=in_a.contact_id).update(last_whatsapp_at=frozen_now)

    taken = outbox.notifications_resend(ids=[in_a.pk], by=clerk)
    tasks.notifications_enqueue(taken)

    in_a.refresh_from_db()
    assert in_a.status == N.SENT
    assert [call.reference for call in gateway.calls] == [str(in_a.pk)]


def test_the_nav_links_the_page_for_uptd_operators(client, uptd_a):
    client.force_login(uptd_a)

    assert LIST.encode() in client.get("/").content
