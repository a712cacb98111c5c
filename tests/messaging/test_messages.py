"""The outbox writers (messaging/messages.py): who a message goes to and on which channel, the office's wording
and number, idempotency by dedupe key, UPTD submissions told to the UPTD, replies, and the hand-over to the
delivery worker once the transaction commits."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.db import connection, transaction

from messaging import messages
from messaging.messages import FOOTER, notification_write, phone_international, reply_write, template_text
from messaging.models import Contact, MessageTemplate, Notification, OfficeNumber
from registry.models import Office
from tests.factories import CardRequestFactory, ResidentFactory

N = Notification.Status
NUMBER = "6281234567890"


class Broker:
    """Stands in for celery's current_app: records the tasks sent, or fails like a broker that is down."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[tuple[str, list]] = []

    def send_task(self, name: str, args: list, **options) -> None:
        if self.fail:
            raise ConnectionRefusedError("redis://127.0.0.1:6379 refused")
        self.sent.append((name, args))


@pytest.fixture(autouse=True)
def broker(monkeypatch) -> Broker:
    fake = Broker()
    monkeypatch.setattr(messages, "current_app", fake)
    monkeypatch.setattr(messages, "_broker_paused_until", 0.0)
    return fake


@pytest.fixture
def head(ponorogo) -> Office:
    return ponorogo


@pytest.fixture
def uptd(ponorogo) -> Office:
    return Office.objects.get(region_id="35.02.01")  # Slahung, resident_a's kecamatan


def _received(resident, **extra) -> Notification:
    values = {"kind": "rusak", "number": "PKTP-000001", **extra}
    return notification_write(resident=resident, template="request_received", **values)


# --- address and channel ----------------------------------------------------------------------------------------


def test_a_resident_with_a_number_is_written_to_by_whatsapp_through_one_contact(resident_a, head):
    resident_a.whatsapp = NUMBER
    first = _received(resident_a)
    second = _received(resident_a)
    assert (first.channel, first.recipient, first.status) == ("whatsapp", NUMBER, N.PENDING)
    assert first.contact.phone == NUMBER and second.contact_id == first.contact_id
    assert Contact.objects.count() == 1
    assert first.office == head  # the resident's Disdukcapil, from the kecamatan
    assert first.text.startswith("Permohonan KTP-el rusak atas nama SITI AMINAH") and first.text.endswith(FOOTER)


def test_a_number_known_to_have_no_whatsapp_gets_sms(resident_a, head):
    Contact.objects.create(phone=NUMBER, whatsapp=Contact.WhatsApp.NO)
    resident_a.whatsapp = NUMBER
    row = _received(resident_a)
    assert (row.channel, row.recipient, row.status) == ("sms", NUMBER, N.PENDING)


def test_a_username_only_contact_linked_to_the_resident_is_written_to_by_its_user_id(resident_a, head):
    linked = Contact.objects.create(user_id="ID.1502778899", username="siti.aminah", resident=resident_a)
    row = _received(resident_a)
    assert (row.channel, row.recipient, row.contact, row.status) == ("whatsapp", "", linked, N.PENDING)


def test_a_linked_contact_without_whatsapp_gets_sms_at_its_number(resident_a, head):
    Contact.objects.create(user_id="ID.old", resident=resident_a)  # older, wrote never
    sms = Contact.objects.create(phone="6285700001111", whatsapp=Contact.WhatsApp.NO, resident=resident_a)
    sms.last_sms_at = sms.created_at
    sms.save(update_fields=["last_sms_at"])
    row = _received(resident_a)
    assert (row.channel, row.recipient, row.contact) == ("sms", "6285700001111", sms)


def test_without_any_address_the_row_says_nobody_could_be_told(
    resident_a, head, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        row = _received(resident_a)
    assert (row.status, row.recipient, row.contact, row.sender_number) == (N.NO_CONTACT, "", None, None)
    assert broker.sent == []  # nothing to deliver


def test_a_number_given_by_the_caller_is_written_in_the_international_form(resident_a, head):
    row = notification_write(resident=None, template="number_link_refused", recipient="0812-3456 7890", reason="x")
    assert (row.recipient, row.contact.phone, row.status) == (NUMBER, NUMBER, N.PENDING)
    assert notification_write(resident=resident_a, template="number_link_refused", recipient="", reason="x").status == (
        N.NO_CONTACT
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("081234567890", NUMBER), ("+62 812-3456-7890", NUMBER), ("6281234567890", NUMBER), ("81234567890", NUMBER),
     ("(0352) 481234", "62352481234"), ("", "")],
)  # fmt: skip
def test_phone_international(raw, expected):
    assert phone_international(raw) == expected


# --- the office's words and number --------------------------------------------------------------------------------


def test_the_offices_wording_is_used_with_the_same_values(resident_a, head):
    MessageTemplate.objects.create(office=head, code="request_received", text="Yth. {name}: {number} diterima.")
    row = _received(resident_a)
    assert row.text == f"Yth. SITI AMINAH: PKTP-000001 diterima.\n\n{FOOTER}"


@pytest.mark.parametrize("broken", ["Yth. {nama}: {number}", "Yth. {name.__class__}", "Yth. {0}", "Yth. {name"])
def test_a_broken_office_wording_falls_back_to_the_built_in_text(resident_a, head, broken, caplog):
    MessageTemplate.objects.create(office=head, code="request_received", text=broken)
    with caplog.at_level(logging.WARNING, logger="messaging.messages"):
        row = _received(resident_a)
    assert row.text.startswith("Permohonan KTP-el rusak atas nama SITI AMINAH sudah kami terima")
    assert "request_received" in caplog.text and "SITI" not in caplog.text


def test_template_text_is_the_offices_else_its_disdukcapils_else_the_built_in(head, uptd):
    built_in = messages.TEMPLATES["request_received"]
    assert template_text("request_received", office_id=uptd.pk) == built_in
    MessageTemplate.objects.create(office=head, code="request_received", text="kabupaten")
    assert template_text("request_received", office_id=uptd.pk) == "kabupaten"
    MessageTemplate.objects.create(office=uptd, code="request_received", text="kecamatan")
    assert template_text("request_received", office_id=uptd.pk) == "kecamatan"
    assert template_text("request_received", office_id=None) == built_in
    with pytest.raises(KeyError):
        template_text("no_such_message", office_id=head.pk)


def test_the_message_goes_from_the_offices_active_number_that_sends_updates(resident_a, head):
    OfficeNumber.objects.create(office=head, channel="whatsapp", number="6281100000001", sends_updates=False)
    OfficeNumber.objects.create(
        office=head, channel="whatsapp", number="6281100000002", sends_updates=True, is_active=False
    )
    updates = OfficeNumber.objects.create(office=head, channel="whatsapp", number="6281100000003", sends_updates=True)
    sms = OfficeNumber.objects.create(office=head, channel="sms", number="6281100000004", sends_updates=True)
    resident_a.whatsapp = NUMBER
    assert _received(resident_a).sender_number == updates
    Contact.objects.filter(phone=NUMBER).update(whatsapp=Contact.WhatsApp.NO)
    assert _received(resident_a).sender_number == sms
    resident_b = ResidentFactory(whatsapp="6281299999999")
    OfficeNumber.objects.update(sends_updates=False)
    assert _received(resident_b).sender_number is None  # the gateway's default number


def test_an_office_given_as_text_only_fills_the_placeholder(resident_a, head):
    resident_a.whatsapp = NUMBER
    row = notification_write(
        resident=resident_a, template="booking_confirmed", office="UPTD Slahung", number="PKTP-1", day="1-1", queue=3
    )
    assert "di UPTD Slahung, nomor antrean 3" in row.text and row.office == head


# --- dedupe key -------------------------------------------------------------------------------------------------------


def test_a_second_write_with_the_same_key_returns_the_first_row(
    resident_a, head, broker, django_capture_on_commit_callbacks
):
    resident_a.whatsapp = NUMBER
    with django_capture_on_commit_callbacks(execute=True):
        first = _received(resident_a, dedupe_key="reminder:1:appointment:2027-09-07")
        again = _received(resident_a, dedupe_key="reminder:1:appointment:2027-09-07", number="PKTP-999999")
    assert again.pk == first.pk and "PKTP-000001" in again.text
    assert Notification.objects.filter(dedupe_key="reminder:1:appointment:2027-09-07").count() == 1
    assert broker.sent == [(messages.DELIVER_TASK, [first.pk])]


def test_a_key_written_first_by_another_transaction_leaves_the_callers_transaction_usable(resident_a, head):
    """The insert runs under a savepoint: on PostgreSQL, a unique violation without one aborts the caller's
    whole transaction."""
    resident_a.whatsapp = NUMBER
    with transaction.atomic():
        theirs = Notification.objects.create(
            resident=resident_a, channel="whatsapp", template="request_received", text="t", dedupe_key="k1"
        )
        mine = Notification(
            resident=resident_a, channel="whatsapp", template="request_received", text="mine", dedupe_key="k1"
        )
        assert messages._insert(mine).pk == theirs.pk
        assert Notification.objects.filter(dedupe_key="k1").count() == 1  # the transaction still answers


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_transactions_writing_the_same_key_at_once_write_one_row(ponorogo):
    resident = ResidentFactory(whatsapp=NUMBER)
    first_inserted, done = threading.Event(), threading.Event()
    results: dict[str, int] = {}

    def writer(name: str, hold: bool) -> None:
        try:
            with transaction.atomic():
                row = _received(resident, dedupe_key="race")
                results[name] = row.pk
                if hold:  # keep the first insert uncommitted until the other writer waits on it
                    first_inserted.set()
                    assert done.wait(20)
                Notification.objects.filter(pk=row.pk).exists()  # the transaction is alive after the race
        finally:
            connection.close()

    holder = threading.Thread(target=writer, args=("first", True))
    holder.start()
    assert first_inserted.wait(20)
    other = threading.Thread(target=writer, args=("second", False))
    other.start()
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:  # wait until the second insert is blocked on the first one's key
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                break
            time.sleep(0.01)
    done.set()
    holder.join(20)
    other.join(20)
    assert results["first"] == results["second"]
    assert Notification.objects.filter(dedupe_key="race").count() == 1


# --- UPTD submissions ------------------------------------------------------------------------------------------------


@pytest.fixture
def uptd_request(resident_a, uptd):
    resident_a.whatsapp = NUMBER
    resident_a.save(update_fields=["whatsapp"])
    uptd.phone = "0813-5555-0001"
    uptd.save(update_fields=["phone"])
    return CardRequestFactory(resident=resident_a, uptd=True, incomplete=True)


def test_what_is_missing_from_a_uptd_submission_goes_to_the_uptd_naming_the_resident(uptd_request, uptd):
    row = notification_write(
        resident=uptd_request.resident, card_request=uptd_request, template="request_incomplete",
        number=uptd_request.number, missing="- Kartu Keluarga",
    )  # fmt: skip
    assert (row.office, row.recipient, row.contact.phone) == (uptd, "6281355550001", "6281355550001")
    assert row.template == "request_incomplete" and row.resident == uptd_request.resident
    assert "untuk SITI AMINAH" in row.text and "- Kartu Keluarga" in row.text


def test_the_cards_arrival_goes_to_the_uptd_but_other_news_to_the_resident(uptd_request, uptd):
    arrived = notification_write(
        resident=uptd_request.resident, card_request=uptd_request, template="request_at_uptd",
        number=uptd_request.number, place=uptd.name,
    )  # fmt: skip
    assert arrived.recipient == "6281355550001" and f"untuk SITI AMINAH sudah tiba di {uptd.name}" in arrived.text
    rejected = notification_write(
        resident=uptd_request.resident, card_request=uptd_request, template="request_rejected",
        number=uptd_request.number, reason="data tidak cocok",
    )  # fmt: skip
    assert rejected.recipient == NUMBER


def test_a_uptd_without_a_number_leaves_the_message_with_the_resident(uptd_request, uptd):
    Office.objects.filter(pk=uptd.pk).update(phone="")
    uptd_request.pickup_office.refresh_from_db()
    row = notification_write(
        resident=uptd_request.resident, card_request=uptd_request, template="request_at_uptd",
        number=uptd_request.number, place=uptd.name,
    )  # fmt: skip
    assert row.recipient == NUMBER and "atas nama SITI AMINAH" in row.text


def test_a_request_the_resident_sent_is_not_routed_to_the_uptd(resident_a, uptd):
    resident_a.whatsapp = NUMBER
    resident_a.save(update_fields=["whatsapp"])
    uptd.phone = "081355550001"
    uptd.save(update_fields=["phone"])
    own = CardRequestFactory(resident=resident_a, incomplete=True)
    row = notification_write(
        resident=resident_a, card_request=own, template="request_incomplete", number="x", missing=""
    )
    assert row.recipient == NUMBER


def test_every_uptd_text_names_the_resident_and_matches_a_resident_text():
    uptd_codes = [code for code in messages.TEMPLATES if code.startswith(messages.UPTD_PREFIX)]
    assert uptd_codes
    for code in uptd_codes:
        assert code.removeprefix(messages.UPTD_PREFIX) in messages.TEMPLATES
        assert "untuk {name}" in messages.TEMPLATES[code]


# --- replies ------------------------------------------------------------------------------------------------------


def test_a_reply_goes_from_the_number_written_to_a_username_only_sender(
    head, broker, django_capture_on_commit_callbacks
):
    number = OfficeNumber.objects.create(
        office=head, channel="whatsapp", number="6281100000009", phone_number_id="1099"
    )
    sender = Contact.objects.create(user_id="ID.77", username="warga77", whatsapp=Contact.WhatsApp.YES)
    with django_capture_on_commit_callbacks(execute=True):
        row = reply_write(contact=sender, office_number=number, office=head, text="Berkas sudah kami terima. ")
    assert (row.is_reply, row.sender_number, row.channel, row.recipient, row.status) == (
        True, number, "whatsapp", "", N.PENDING,
    )  # fmt: skip
    assert row.template == "inbox_answer" and row.text == f"Berkas sudah kami terima.\n\n{FOOTER}"
    assert broker.sent == [(messages.DELIVER_TASK, [row.pk])]


def test_a_reply_by_template_uses_the_offices_wording_and_the_channel_written_to(head):
    number = OfficeNumber.objects.create(office=head, channel="sms", number="6281100000010")
    sender = Contact.objects.create(phone=NUMBER)
    MessageTemplate.objects.create(office=head, code="request_received", text="{office}: {number} diterima")
    row = reply_write(
        contact=sender, office_number=number, office=head, template="request_received", kind="rusak", number="P1"
    )
    assert (row.channel, row.recipient, row.template) == ("sms", NUMBER, "request_received")
    assert row.text.startswith(f"{head.name}: P1 diterima")


def test_a_reply_over_sms_to_a_sender_without_a_number_cannot_go(head):
    number = OfficeNumber.objects.create(office=head, channel="sms", number="6281100000011")
    sender = Contact.objects.create(user_id="ID.88")
    assert reply_write(contact=sender, office_number=number, office=head, text="x").status == N.NO_CONTACT


# --- hand-over to the worker ---------------------------------------------------------------------------------------


def test_the_row_is_handed_to_the_worker_only_once_the_transaction_commits(
    resident_a, head, broker, django_capture_on_commit_callbacks
):
    resident_a.whatsapp = NUMBER
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = _received(resident_a)
    assert broker.sent == [] and Notification.objects.get(pk=row.pk).queued_at is None
    for callback in callbacks:
        callback()
    assert broker.sent == [("delivery.tasks.deliver_notification", [row.pk])]
    row.refresh_from_db()
    assert row.queued_at == row.created_at


def test_a_broker_that_is_down_loses_nothing_and_is_not_asked_again_at_once(
    resident_a, head, broker, django_capture_on_commit_callbacks, caplog
):
    resident_a.whatsapp = NUMBER
    broker.fail = True
    with caplog.at_level(logging.WARNING, logger="messaging.messages"):
        with django_capture_on_commit_callbacks(execute=True):
            first = _received(resident_a)
        broker.fail = False
        with django_capture_on_commit_callbacks(execute=True):
            second = _received(resident_a)
    assert broker.sent == []  # paused after the failure: both wait for the sweep
    assert list(Notification.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", "queued_at")) == [
        (N.PENDING, None),
        (N.PENDING, None),
    ]
    assert "ConnectionRefusedError" in caplog.text and "SITI" not in caplog.text and "6379" not in caplog.text
