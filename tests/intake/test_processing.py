"""Processing stored WhatsApp payloads (intake.processing.payload_process): every documented 2026 shape read,
each message stored once and handed to message_act once, statuses applied in any order, errors at three levels
kept, and a failure that stays visible and is retried.

`intake.actions.message_act` is replaced by a recorder here (its own behaviour is tested in test_actions.py);
tests/intake/test_processing_replays.py runs the real one."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from intake import processing, tasks
from intake.models import InboundMessage, Thread, WebhookPayload
from messaging.models import Contact, Notification
from registry import clock
from tests.intake.webhook_kit import (
    A_NEW_PHONE,
    A_NEW_USER_ID,
    A_PARENT_USER_ID,
    A_PHONE,
    A_USER_ID,
    B_USER_ID,
    PHONE_NUMBER_ID,
    payload,
    value_of,
    webhook_settings_fixture,  # noqa: F401
    whatsapp_number_fixture,  # noqa: F401
    with_message_id,
)

Kind = InboundMessage.Kind
pytestmark = pytest.mark.usefixtures("webhook_settings", "frozen_now")


@pytest.fixture
def acted(monkeypatch) -> list[str]:
    """message_act replaced by a recorder: the provider ids it was called for, in order. Like the real one, it
    gives each message an outcome."""
    calls: list[str] = []

    def record(message: InboundMessage) -> None:
        calls.append(message.provider_message_id)
        message.outcome = InboundMessage.Outcome.INBOX
        message.save(update_fields=["outcome"])

    monkeypatch.setattr(processing, "message_act", record)
    return calls


def process(document: dict | str, *, received_at=None) -> WebhookPayload:
    body = document if isinstance(document, str) else json.dumps(document)
    row = WebhookPayload.objects.create(source="whatsapp", body=body, received_at=received_at or clock.now())
    processing.payload_process(row.pk)
    row.refresh_from_db()
    return row


def only_message() -> InboundMessage:
    return InboundMessage.objects.select_related("contact", "thread", "office").get()


# --- senders ---------------------------------------------------------------------------------------------------


def test_a_text_with_bsuid_and_phone_makes_one_message_its_contact_and_thread(whatsapp_number, acted, frozen_now):
    row = process(payload("text_bsuid_phone"))
    assert row.status == WebhookPayload.Status.PROCESSED
    assert row.attempts == 1
    message = only_message()
    assert message.kind == Kind.TEXT
    assert message.text == "#SITI AMINAH#3502014107900001#besok"
    assert message.office == whatsapp_number.office
    assert message.office_number == whatsapp_number
    assert message.sent_at == frozen_now
    assert message.payload_id == row.pk
    contact = message.contact
    assert (contact.user_id, contact.phone, contact.parent_user_id) == (A_USER_ID, A_PHONE, A_PARENT_USER_ID)
    assert (contact.username, contact.profile_name) == ("siti.aminah", "Siti Aminah")
    assert contact.whatsapp == Contact.WhatsApp.YES
    assert contact.last_whatsapp_at == frozen_now
    assert message.thread == Thread.objects.get(office=whatsapp_number.office, contact=contact)
    assert acted == [message.provider_message_id]


def test_a_username_only_sender_without_number_is_a_contact_of_its_own(whatsapp_number, acted):
    process(payload("text_username_only"))
    message = only_message()
    assert message.contact.user_id == B_USER_ID
    assert message.contact.phone is None
    assert message.contact.username == "budi_s"
    assert message.text == "ktp saya sudah jadi belum"
    assert len(acted) == 1


def test_a_bsuid_in_the_from_field_is_not_taken_for_a_phone_number(whatsapp_number, acted):
    process(payload("text_bsuid_in_from"))
    contact = only_message().contact
    assert (contact.user_id, contact.phone) == (B_USER_ID, None)


def test_a_known_number_gets_its_bsuid_from_the_first_message(whatsapp_number, acted):
    known = Contact.objects.create(phone=A_PHONE)  # an SMS sender, or a resident's number written to before
    process(payload("text_bsuid_phone"))
    known.refresh_from_db()
    assert only_message().contact == known
    assert known.user_id == A_USER_ID
    assert Contact.objects.count() == 1


def test_the_24_hour_window_follows_the_latest_message_never_an_older_one(whatsapp_number, acted, frozen_now):
    process(payload("text_bsuid_phone"))
    older = with_message_id(payload("text_bsuid_phone", at=frozen_now - timedelta(hours=30)), "wamid.OLDER1")
    process(older)
    assert Contact.objects.get(user_id=A_USER_ID).last_whatsapp_at == frozen_now
    later = frozen_now + timedelta(hours=2)
    process(with_message_id(payload("text_bsuid_phone", at=later), "wamid.LATER1"), received_at=later)
    assert Contact.objects.get(user_id=A_USER_ID).last_whatsapp_at == later


def test_a_timestamp_after_the_arrival_counts_as_the_arrival(whatsapp_number, acted, frozen_now):
    process(payload("text_bsuid_phone", at=frozen_now + timedelta(days=3)))
    message = only_message()
    assert message.sent_at == frozen_now
    assert message.contact.last_whatsapp_at == frozen_now


# --- kinds ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "text", "media_id"),
    [
        ("image", Kind.IMAGE, "KK saya", "1240091186543201"),
        ("image_with_url", Kind.IMAGE, "KK saya", "1240091186543202"),
        ("document", Kind.DOCUMENT, "surat kehilangan", "1240091186543203"),
        ("audio", Kind.AUDIO, "", "1240091186543204"),
        ("interactive_button_reply", Kind.INTERACTIVE, "Ya, datang", ""),
        ("interactive_list_reply", Kind.INTERACTIVE, "KTP hilang", ""),
        ("interactive_nfm_reply", Kind.INTERACTIVE, '{"flow_token": "booking-7", "tanggal": "2027-09-08"}', ""),
        ("quick_reply_button", Kind.INTERACTIVE, "Cek status", ""),
        ("unsupported", Kind.OTHER, "", ""),
    ],
)
def test_each_kind_is_read_with_its_text_and_media(whatsapp_number, acted, name, kind, text, media_id):
    row = process(payload(name))
    assert row.status == WebhookPayload.Status.PROCESSED, row.error
    message = only_message()
    assert (message.kind, message.text, message.media_id) == (kind, text, media_id)
    assert acted == [message.provider_message_id]


def test_media_keep_their_type_and_file_name_and_are_queued_for_download(whatsapp_number, acted):
    row = WebhookPayload.objects.create(source="whatsapp", body=json.dumps(payload("document")))
    result = processing.payload_process(row.pk)
    message = only_message()
    assert (message.media_type, message.media_name) == ("application/pdf", "surat-kehilangan.pdf")
    assert not message.media_file
    assert result.media_message_ids == [message.pk]


def test_an_unsupported_message_is_stored_with_its_error(whatsapp_number, acted):
    process(payload("unsupported"))
    message = only_message()
    assert message.kind == Kind.OTHER
    assert message.error == "131051 Message type unknown: Message type is currently not supported."


def test_unknown_fields_and_wrong_types_are_ignored(whatsapp_number, acted):
    document = payload("text_bsuid_phone")
    document["entry"][0]["changes"][0]["new_top_level"] = {"x": 1}
    value = value_of(document)
    value["brand_new_list"] = [1, 2]
    value["contacts"].append("not an object")
    value["contacts"][0]["profile"] = "not an object either"
    value["messages"][0]["context"] = ["a list where an object was"]
    value["messages"][0]["referral"] = {"source_url": "https://example.invalid", "ctwa_clid": "abc"}
    value["statuses"] = {"not": "a list"}
    row = process(document)
    assert row.status == WebhookPayload.Status.PROCESSED, row.error
    message = only_message()
    assert message.text.startswith("#SITI AMINAH#")
    assert message.contact.profile_name == ""  # the profile was unreadable; the rest was not


def test_a_text_that_is_not_an_object_is_an_empty_text_not_a_crash(whatsapp_number, acted):
    document = payload("text_bsuid_phone")
    value_of(document)["messages"][0]["text"] = "not an object"
    assert process(document).status == WebhookPayload.Status.PROCESSED
    assert only_message().text == ""


# --- several messages, duplicates, replays ---------------------------------------------------------------------


def test_several_messages_in_one_post_the_same_id_twice_stored_once(whatsapp_number, acted):
    row = process(payload("several_messages"))
    assert row.status == WebhookPayload.Status.PROCESSED, row.error
    messages = list(InboundMessage.objects.order_by("provider_message_id"))
    assert [m.provider_message_id for m in messages] == [
        "wamid.SEVERAL0000000000001",
        "wamid.SEVERAL0000000000002",
        "wamid.SEVERAL0000000000003",
    ]
    assert acted == ["wamid.SEVERAL0000000000001", "wamid.SEVERAL0000000000002"]  # not the reaction
    reaction = messages[2]
    assert (reaction.kind, reaction.text, reaction.outcome) == (
        Kind.OTHER,
        "\U0001f44d",
        InboundMessage.Outcome.IGNORED,
    )
    assert {m.contact.user_id for m in messages} == {A_USER_ID, B_USER_ID}


def test_a_message_replayed_in_later_posts_is_stored_and_acted_on_once(whatsapp_number, acted):
    document = payload("text_bsuid_phone")
    rows = [process(document) for _ in range(5)]
    assert {row.status for row in rows} == {WebhookPayload.Status.PROCESSED}
    assert InboundMessage.objects.count() == 1
    assert len(acted) == 1
    assert InboundMessage.objects.get().payload_id == rows[0].pk  # the first arrival is kept


def test_processing_a_processed_payload_again_does_nothing(whatsapp_number, acted):
    row = process(payload("text_bsuid_phone"))
    assert processing.payload_process(row.pk) is None
    row.refresh_from_db()
    assert row.attempts == 1
    assert len(acted) == 1


# --- errors at the change level --------------------------------------------------------------------------------


def test_a_change_level_error_is_noted_on_the_processed_payload(whatsapp_number, acted):
    row = process(payload("change_errors"))
    assert row.status == WebhookPayload.Status.PROCESSED
    assert "0 We were unable to authenticate the app user" in row.error
    assert not InboundMessage.objects.exists()


def test_other_webhook_fields_are_noted_and_ignored(whatsapp_number, acted):
    document = payload("text_bsuid_phone")
    document["entry"][0]["changes"][0]["field"] = "message_template_status_update"
    row = process(document)
    assert row.status == WebhookPayload.Status.PROCESSED
    assert "message_template_status_update" in row.error
    assert not InboundMessage.objects.exists()


# --- statuses --------------------------------------------------------------------------------------------------


def _outbound(provider_id: str = "wamid.OUTBOUND000000000000001", **fields) -> Notification:
    return Notification.objects.create(
        channel="whatsapp",
        recipient=A_PHONE,
        template="reply_inbox_received",
        text="Pesan Anda sudah kami terima.",
        status=Notification.Status.SENT,
        provider_message_id=provider_id,
        sent_at=clock.now() - timedelta(minutes=1),
        **fields,
    )


def test_a_read_without_a_delivered_is_read_and_a_late_delivered_keeps_it_read(whatsapp_number, acted, frozen_now):
    outbound = _outbound()
    process(payload("status_read"))
    outbound.refresh_from_db()
    assert outbound.status == Notification.Status.READ
    assert outbound.read_at == frozen_now
    process(payload("status_delivered", at=frozen_now + timedelta(minutes=5)))
    process(payload("status_sent", at=frozen_now + timedelta(minutes=6)))
    outbound.refresh_from_db()
    assert outbound.status == Notification.Status.READ
    assert outbound.read_at == frozen_now


def test_a_failed_status_with_lean_contacts_records_the_reason(whatsapp_number, acted):
    outbound = _outbound()
    row = process(payload("status_failed"))
    assert row.status == WebhookPayload.Status.PROCESSED, row.error
    outbound.refresh_from_db()
    assert outbound.status == Notification.Status.FAILED
    assert outbound.last_error.startswith("131026 Message undeliverable")


@pytest.mark.parametrize(
    "order",
    [
        ("status_sent", "status_delivered", "status_read"),
        ("status_read", "status_sent", "status_delivered"),
        ("status_delivered", "status_read", "status_sent"),
        ("status_read", "status_failed"),
    ],
)
def test_statuses_in_any_order_end_read(whatsapp_number, acted, order):
    outbound = _outbound()
    for name in order:
        process(payload(name))
    outbound.refresh_from_db()
    assert outbound.status == Notification.Status.READ


def test_a_status_for_a_message_not_ours_changes_nothing(whatsapp_number, acted):
    outbound = _outbound("wamid.SOMEONE-ELSES")
    row = process(payload("status_read"))
    assert row.status == WebhookPayload.Status.PROCESSED
    outbound.refresh_from_db()
    assert outbound.status == Notification.Status.SENT


def test_a_status_teaches_the_bsuid_of_a_number_we_write_to(whatsapp_number, acted):
    contact = Contact.objects.create(phone=A_PHONE)
    _outbound(contact=contact)
    process(payload("status_read"))
    contact.refresh_from_db()
    assert contact.user_id == A_USER_ID


def test_statuses_are_applied_even_for_a_number_not_registered(acted, ponorogo):
    outbound = _outbound()
    row = process(payload("status_read"))
    assert row.status == WebhookPayload.Status.PROCESSED
    outbound.refresh_from_db()
    assert outbound.status == Notification.Status.READ


# --- system messages -------------------------------------------------------------------------------------------


def test_user_changed_user_id_moves_the_identity_and_a_replay_is_harmless(whatsapp_number, acted):
    process(payload("text_bsuid_phone"))
    contact = Contact.objects.get(user_id=A_USER_ID)
    first = process(payload("system_user_changed_user_id"))
    assert first.status == WebhookPayload.Status.PROCESSED, first.error
    contact.refresh_from_db()
    assert contact.user_id == A_NEW_USER_ID
    assert contact.phone == A_PHONE
    # Replayed in a later POST: nothing moves, nothing doubles.
    replay = process(payload("system_user_changed_user_id"))
    assert replay.status == WebhookPayload.Status.PROCESSED
    contact.refresh_from_db()
    assert contact.user_id == A_NEW_USER_ID
    assert InboundMessage.objects.filter(kind=Kind.SYSTEM).count() == 1
    system = InboundMessage.objects.get(kind=Kind.SYSTEM)
    assert (system.contact, system.thread, system.outcome) == (contact, None, InboundMessage.Outcome.IGNORED)
    assert len(acted) == 1  # the text; a system message is not acted on


def test_after_user_changed_user_id_the_new_id_writes_as_the_same_contact(whatsapp_number, acted):
    process(payload("text_bsuid_phone"))
    process(payload("system_user_changed_user_id"))
    document = with_message_id(payload("text_username_only"), "wamid.FROMNEWID")
    value = value_of(document)
    value["messages"][0]["from_user_id"] = A_NEW_USER_ID
    value["contacts"][0]["user_id"] = A_NEW_USER_ID
    process(document)
    message = InboundMessage.objects.get(provider_message_id="wamid.FROMNEWID")
    assert message.contact.phone == A_PHONE
    assert Contact.objects.count() == 1
    assert Thread.objects.count() == 1


def test_user_changed_user_id_for_an_unknown_sender_is_noted(whatsapp_number, acted):
    row = process(payload("system_user_changed_user_id"))
    assert row.status == WebhookPayload.Status.PROCESSED
    assert "user_changed_user_id" in row.error
    assert not Contact.objects.exists()


def test_user_changed_number_moves_the_number_without_merging_anyone(whatsapp_number, acted):
    process(payload("text_bsuid_phone"))
    holder = Contact.objects.create(phone=A_NEW_PHONE, user_id="ID.5500000000000000001")  # the number's old owner
    row = process(payload("system_user_changed_number"))
    assert row.status == WebhookPayload.Status.PROCESSED, row.error
    contact = Contact.objects.get(user_id=A_USER_ID)
    holder.refresh_from_db()
    assert contact.phone == A_NEW_PHONE
    assert holder.phone is None
    assert Contact.objects.count() == 2
    process(payload("system_user_changed_number"))
    assert Contact.objects.get(user_id=A_USER_ID).phone == A_NEW_PHONE


# --- failures --------------------------------------------------------------------------------------------------


def test_an_unknown_phone_number_id_fails_visibly_and_is_retried_once_registered(ponorogo, acted, whatsapp_number):
    whatsapp_number.phone_number_id = "999"
    whatsapp_number.save()
    row = process(payload("text_bsuid_phone"))
    assert row.status == WebhookPayload.Status.FAILED
    assert PHONE_NUMBER_ID in row.error
    assert not InboundMessage.objects.exists()
    whatsapp_number.phone_number_id = PHONE_NUMBER_ID
    whatsapp_number.save()
    processing.payload_process(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error) == (WebhookPayload.Status.PROCESSED, 2, "")
    assert InboundMessage.objects.count() == 1


def test_an_unreadable_body_fails_with_a_summary_and_stays(whatsapp_number, acted):
    row = process("{not json")
    assert row.status == WebhookPayload.Status.FAILED
    assert "PayloadUnreadable" in row.error
    assert WebhookPayload.objects.filter(pk=row.pk).exists()


def test_a_failing_action_keeps_the_message_and_the_next_run_acts_again(whatsapp_number, monkeypatch, acted):
    def broken(message):
        message.outcome = "booked"  # what it did before raising is undone
        message.save(update_fields=["outcome"])
        raise RuntimeError("quota table locked")

    recorder = processing.message_act
    monkeypatch.setattr(processing, "message_act", broken)
    row = process(payload("text_bsuid_phone"))
    assert row.status == WebhookPayload.Status.FAILED
    assert "RuntimeError: quota table locked" in row.error
    assert row.attempts == 1
    message = only_message()
    assert message.outcome == ""
    assert message.error.startswith(processing.ACT_FAILED)

    monkeypatch.setattr(processing, "message_act", recorder)
    processing.payload_process(row.pk)
    row.refresh_from_db()
    message.refresh_from_db()
    assert (row.status, row.attempts) == (WebhookPayload.Status.PROCESSED, 2)
    assert (message.outcome, message.error) == (InboundMessage.Outcome.INBOX, "")
    assert len(acted) == 1


def test_after_the_last_attempt_the_message_waits_for_a_clerk(whatsapp_number, monkeypatch, settings, acted):
    settings.WEBHOOK_MAX_ATTEMPTS = 2

    def broken(message):
        raise RuntimeError("still broken")

    monkeypatch.setattr(processing, "message_act", broken)
    row = process(payload("text_bsuid_phone"))
    assert only_message().thread.waiting_since is None
    processing.payload_process(row.pk)
    row.refresh_from_db()
    message = only_message()
    assert (row.status, row.attempts) == (WebhookPayload.Status.FAILED, 2)
    assert message.outcome == InboundMessage.Outcome.INBOX
    assert message.thread.waiting_since == message.received_at


def test_a_poison_message_does_not_block_its_siblings(whatsapp_number, monkeypatch, acted):
    recorder = processing.message_act

    def poison_for_one(message):
        if message.provider_message_id == "wamid.SEVERAL0000000000001":
            raise ValueError("poison")
        recorder(message)

    monkeypatch.setattr(processing, "message_act", poison_for_one)
    row = process(payload("several_messages"))
    assert row.status == WebhookPayload.Status.FAILED
    assert "wamid.SEVERAL0000000000001" in row.error
    assert acted == ["wamid.SEVERAL0000000000002"]
    assert InboundMessage.objects.count() == 3


def test_a_message_that_cannot_be_stored_is_recorded_and_the_others_are_stored(whatsapp_number, acted):
    document = payload("several_messages")
    del value_of(document)["messages"][1]["from_user_id"]  # a sender with neither number nor BSUID
    row = process(document)
    assert row.status == WebhookPayload.Status.FAILED
    assert "wamid.SEVERAL0000000000002" in row.error
    assert set(InboundMessage.objects.values_list("provider_message_id", flat=True)) == {
        "wamid.SEVERAL0000000000001",
        "wamid.SEVERAL0000000000003",
    }


# --- draining: each pending payload taken by one worker ----------------------------------------------------------


def _pending(document: dict, *, received_at) -> int:
    return WebhookPayload.objects.create(source="whatsapp", body=json.dumps(document), received_at=received_at).pk


def test_a_drain_processes_every_pending_payload_oldest_first(whatsapp_number, acted, frozen_now):
    for minutes, message_id in ((1, "wamid.SECOND"), (2, "wamid.FIRST"), (0, "wamid.THIRD")):
        _pending(
            with_message_id(payload("text_bsuid_phone"), message_id),
            received_at=frozen_now - timedelta(minutes=minutes),
        )
    assert tasks.process_pending() == 3
    assert acted == ["wamid.FIRST", "wamid.SECOND", "wamid.THIRD"]
    assert set(WebhookPayload.objects.values_list("status", flat=True)) == {WebhookPayload.Status.PROCESSED}
    assert tasks.process_pending() == 0


def test_a_claimed_payload_is_no_other_workers_until_its_lease_ends(db, frozen_now):
    ids = [_pending({}, received_at=frozen_now - timedelta(seconds=3 - i)) for i in range(3)]
    assert processing.payloads_claim(now=frozen_now, limit=2) == ids[:2]
    assert processing.payloads_claim(now=frozen_now, limit=2) == ids[2:]
    assert processing.payloads_claim(now=frozen_now + timedelta(minutes=1), limit=5) == []
    later = frozen_now + processing.CLAIM_LEASE + timedelta(seconds=1)
    assert processing.payloads_claim(now=later, limit=5) == ids  # their worker died: taken again


# --- the sweep -------------------------------------------------------------------------------------------------


@pytest.fixture
def swept(monkeypatch) -> dict[str, list[int]]:
    sent: dict[str, list[int]] = {"payloads": [], "media": []}
    monkeypatch.setattr(tasks.process_payload, "apply_async", lambda args, **kw: sent["payloads"].append(args[0]))
    monkeypatch.setattr(tasks.media_fetch, "apply_async", lambda args, **kw: sent["media"].append(args[0]))
    return sent


def test_the_sweep_sends_what_the_broker_never_got_and_failures_after_their_wait(db, swept, settings, frozen_now):
    def payload_row(status, *, age, attempts=0, last=None):
        return WebhookPayload.objects.create(
            source="whatsapp",
            body="{}",
            status=status,
            attempts=attempts,
            received_at=frozen_now - age,
            processed_at=None if last is None else frozen_now - last,
        ).pk

    P, F = WebhookPayload.Status.PENDING, WebhookPayload.Status.FAILED
    lost = payload_row(P, age=timedelta(minutes=5))
    fresh = payload_row(P, age=timedelta(seconds=5))
    payload_row(P, age=timedelta(minutes=5), last=timedelta(minutes=1))  # a drain is on it
    abandoned = payload_row(P, age=timedelta(minutes=9), last=timedelta(minutes=8))  # its drain died
    failed_waited = payload_row(F, age=timedelta(hours=1), attempts=2, last=timedelta(minutes=5))
    payload_row(F, age=timedelta(hours=1), attempts=2, last=timedelta(minutes=3))  # waits 4 minutes
    payload_row(F, age=timedelta(hours=1), attempts=settings.WEBHOOK_MAX_ATTEMPTS, last=timedelta(hours=1))
    payload_row(WebhookPayload.Status.PROCESSED, age=timedelta(hours=1), attempts=1, last=timedelta(hours=1))
    assert tasks.payload_sweep() == {"payloads": 3, "media": 0}
    assert sorted(swept["payloads"]) == sorted([lost, abandoned, failed_waited])
    assert fresh not in swept["payloads"]


def test_the_sweep_retries_media_not_downloaded_while_the_id_is_valid(whatsapp_number, swept, frozen_now, acted):
    process(payload("image"))
    message = only_message()

    def moved(**fields):
        InboundMessage.objects.filter(pk=message.pk).update(**fields)
        swept["media"].clear()
        tasks.payload_sweep()
        return list(swept["media"])

    assert moved(received_at=frozen_now - timedelta(seconds=30)) == []  # its own task is on it
    assert moved(received_at=frozen_now - timedelta(hours=1)) == [message.pk]
    assert moved(media_error="Dicoba lagi: Graph API sedang tidak tersedia (HTTP 503).") == [message.pk]
    assert moved(media_error="Berkas terlalu besar, maksimal 5 MB.") == []  # refused: final
    assert moved(media_error="", received_at=frozen_now - timedelta(days=8)) == []  # the id has expired
