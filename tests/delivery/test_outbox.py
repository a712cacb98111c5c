"""The outbox worker (delivery/outbox.py): outcomes by error class, backoff and the attempts cap, the lease, quiet
hours, WhatsApp's 24-hour window, the switch to SMS, the rate limit and the sweep. A fake gateway stands in for
the providers; "now" is frozen (tests/dates.py) and every instant is built from it."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import httpx
import pytest
from django.db import connection

from delivery import outbox, tasks
from messaging.gateways import GatewayError, Outgoing, SendResult
from messaging.models import Contact, MessageTemplate, Notification, OfficeNumber
from registry import clock
from tests.dates import FROZEN_TODAY, at

N = Notification.Status
TEXT = "Permohonan KTP-el 001 atas nama SITI sudah kami terima.\nKami kabari lagi.\n\nLayanan adminduk GRATIS."


class FakeGateway:
    """Answers sends from a script (an exception is raised, a SendResult returned; success when the script is
    exhausted) and records every call; usable as `gateway_for` (it is its own gateway on every channel)."""

    def __init__(self, *script: object, on_send=None) -> None:
        self.script = list(script)
        self.calls: list[Outgoing] = []
        self.channels: list[str] = []
        self.on_send = on_send
        self.lock = threading.Lock()

    def __call__(self, channel: str) -> FakeGateway:
        self.channels.append(channel)
        return self

    def send(self, outgoing: Outgoing) -> SendResult:
        with self.lock:
            self.calls.append(outgoing)
            answer = self.script.pop(0) if self.script else None
            count = len(self.calls)
        if self.on_send:
            self.on_send(outgoing)
        if isinstance(answer, BaseException):
            raise answer
        return answer or SendResult(provider_message_id=f"wamid.{outgoing.reference}.{count}")


@pytest.fixture(autouse=True)
def outbox_settings(settings):
    """The documented defaults, whatever the environment says; no rate limit unless a test asks for one."""
    settings.MESSAGE_MAX_ATTEMPTS = 8
    settings.MESSAGE_BACKOFF_BASE_SECONDS = 30.0
    settings.MESSAGE_BACKOFF_MAX_SECONDS = 3600.0
    settings.MESSAGE_LEASE_SECONDS = 150
    settings.MESSAGE_QUEUED_STALE_SECONDS = 300
    settings.QUIET_HOURS_START = "21:00"
    settings.QUIET_HOURS_END = "06:00"
    settings.WHATSAPP_UPDATE_TEMPLATE = "pemberitahuan_layanan"
    settings.WHATSAPP_UPDATE_TEMPLATE_LANGUAGE = "id"
    settings.WHATSAPP_RATE_PER_SECOND = 0
    return settings


@pytest.fixture
def numbers(ponorogo, frozen_now):
    """The office's WhatsApp number for updates and its SMS centre (at the frozen "now", a Monday 09:00)."""
    whatsapp = OfficeNumber.objects.create(
        office=ponorogo, channel="whatsapp", number="6281100000001", phone_number_id="10001", sends_updates=True
    )
    sms = OfficeNumber.objects.create(office=ponorogo, channel="sms", number="6281100000002", sends_updates=True)
    return whatsapp, sms


def contact_make(*, phone: str | None = "6281234567890", user_id: str | None = None, wrote_ago=None, **fields):
    last = clock.now() - wrote_ago if wrote_ago is not None else None
    return Contact.objects.create(phone=phone, user_id=user_id, whatsapp="yes", last_whatsapp_at=last, **fields)


def message_make(*, office, contact=None, channel="whatsapp", is_reply=False, sender=None, **fields) -> Notification:
    recipient = fields.pop("recipient", contact.phone if contact is not None and contact.phone else "")
    return Notification.objects.create(
        office=office,
        contact=contact,
        channel=channel,
        recipient=recipient or "",
        sender_number=sender,
        template=fields.pop("template", "request_received"),
        text=fields.pop("text", TEXT),
        is_reply=is_reply,
        **fields,
    )


@pytest.fixture
def in_window(frozen_now, ponorogo, numbers):
    """A message to a contact who wrote an hour ago (free text allowed)."""
    contact = contact_make(wrote_ago=timedelta(hours=1))
    return message_make(office=ponorogo, contact=contact)


def reloaded(row: Notification) -> Notification:
    row.refresh_from_db()
    return row


# --- outcomes ------------------------------------------------------------------------------------------------


def test_a_sent_message_is_recorded_with_the_provider_id_and_its_lease_released(in_window, frozen_now):
    gateway = FakeGateway()

    outcome = outbox.deliver(in_window.pk, gateway_for=gateway)

    row = reloaded(in_window)
    assert outcome.result == "sent"
    assert (row.status, row.sent_at, row.attempts, row.locked_until) == (N.SENT, frozen_now, 1, None)
    assert row.provider_message_id == f"wamid.{row.pk}.1"
    sent = gateway.calls[0]
    assert (sent.channel, sent.to_phone, sent.text, sent.template_name) == ("whatsapp", "6281234567890", TEXT, "")
    assert sent.sender_phone_number_id == "10001"  # the office's number for updates, by its Cloud API id
    assert sent.reference == str(row.pk)  # biz_opaque_callback_data: status callbacks can reconcile a duplicate
    # A second delivery of the same id (the broker redelivered it) sends nothing.
    assert outbox.deliver(in_window.pk, gateway_for=gateway).result == "skipped"
    assert len(gateway.calls) == 1


def test_a_send_teaches_the_contact_its_whatsapp_user_id(in_window):
    outbox.deliver(in_window.pk, gateway_for=FakeGateway(SendResult("wamid.X", user_id="ID.1502abc")))

    assert Contact.objects.get(pk=in_window.contact_id).user_id == "ID.1502abc"


def test_a_provider_id_already_on_another_row_still_records_the_send(in_window, ponorogo):
    other = message_make(office=ponorogo, contact=in_window.contact, provider_message_id="wamid.SAME", status=N.SENT)

    outcome = outbox.deliver(in_window.pk, gateway_for=FakeGateway(SendResult("wamid.SAME")))

    row = reloaded(in_window)
    assert outcome.result == "sent"
    assert (row.status, row.provider_message_id, row.locked_until) == (N.SENT, None, None)
    assert "ganda" in row.last_error
    assert reloaded(other).provider_message_id == "wamid.SAME"


def test_a_server_error_is_retried_with_growing_backoff_then_dead_after_the_cap(in_window, settings, time_machine):
    settings.MESSAGE_MAX_ATTEMPTS = 3
    gateway = FakeGateway(*[GatewayError("HTTP 500", "retry", code=500)] * 3)

    first = outbox.deliver(in_window.pk, gateway_for=gateway)
    row = reloaded(in_window)
    assert (first.result, row.status, row.attempts) == ("retry", N.PENDING, 1)
    assert "500" in row.last_error and row.locked_until is None
    waited = row.next_attempt_at - clock.now()
    assert timedelta(seconds=15) <= waited <= timedelta(seconds=30)  # base 30 s, jitter in its upper half
    # Not due yet: another delivery of the id does nothing.
    assert outbox.deliver(in_window.pk, gateway_for=gateway).result == "skipped"

    time_machine.move_to(row.next_attempt_at, tick=False)
    assert outbox.deliver(in_window.pk, gateway_for=gateway).result == "retry"
    row = reloaded(in_window)
    assert timedelta(seconds=30) <= row.next_attempt_at - clock.now() <= timedelta(seconds=60)  # doubled

    time_machine.move_to(row.next_attempt_at, tick=False)
    assert outbox.deliver(in_window.pk, gateway_for=gateway).result == "dead"
    row = reloaded(in_window)
    assert (row.status, row.attempts, row.next_attempt_at) == (N.DEAD, 3, None)
    assert len(gateway.calls) == 3


def test_backoff_is_capped():
    assert 1800 <= outbox.backoff_seconds(30) <= 3600
    assert 1800 <= outbox.backoff_seconds(30_000) <= 3600


def test_a_429_waits_at_least_the_retry_after(in_window, frozen_now):
    gateway = FakeGateway(GatewayError("rate limited", "throttled", code=130429, retry_after=600))

    assert outbox.deliver(in_window.pk, gateway_for=gateway).result == "retry"

    row = reloaded(in_window)
    assert row.attempts == 1
    assert row.next_attempt_at >= frozen_now + timedelta(seconds=600)
    assert row.last_error.startswith("throttled 130429")


def test_a_timeout_is_retried(in_window):
    gateway = FakeGateway(httpx.ReadTimeout("timed out"))

    assert outbox.deliver(in_window.pk, gateway_for=gateway).result == "retry"

    row = reloaded(in_window)
    assert (row.status, row.attempts) == (N.PENDING, 1)
    assert "ReadTimeout" in row.last_error


def test_a_permanent_error_is_dead_at_once(in_window):
    gateway = FakeGateway(GatewayError("Re-engagement message", "permanent", code=131047))

    assert outbox.deliver(in_window.pk, gateway_for=gateway).result == "dead"

    row = reloaded(in_window)
    assert (row.status, row.attempts) == (N.DEAD, 1)
    assert "131047" in row.last_error


def test_a_number_without_whatsapp_switches_to_sms_and_goes_at_once(in_window, numbers):
    _whatsapp, sms = numbers
    gateway = FakeGateway(GatewayError("Message undeliverable", "not_whatsapp", code=131026))

    switched = outbox.deliver(in_window.pk, gateway_for=gateway)
    row = reloaded(in_window)
    assert (switched.result, switched.retry_in) == ("switched", 0.0)
    assert (row.channel, row.sender_number_id, row.status) == ("sms", sms.pk, N.PENDING)
    assert Contact.objects.get(pk=row.contact_id).whatsapp == Contact.WhatsApp.NO

    assert outbox.deliver(in_window.pk, gateway_for=gateway).result == "sent"
    assert gateway.channels == ["whatsapp", "sms"]
    assert (gateway.calls[1].to_phone, gateway.calls[1].sender_number) == ("6281234567890", "6281100000002")
    assert reloaded(in_window).status == N.SENT


def test_the_task_sends_the_sms_at_once_after_the_switch(in_window, monkeypatch, settings):
    gateway = FakeGateway(GatewayError("Message undeliverable", "not_whatsapp", code=131026))
    monkeypatch.setattr(outbox.gateways, "gateway_for", gateway)
    monkeypatch.setattr(tasks.deliver_notification.app.conf, "task_always_eager", True)

    tasks.deliver_notification(in_window.pk)

    assert gateway.channels == ["whatsapp", "sms"]
    assert reloaded(in_window).status == N.SENT


CLOUD_ANSWERS = {
    "ok": httpx.Response(200, json={"messages": [{"id": "wamid.OK"}], "contacts": [{"user_id": "ID.9"}]}),
    "500": httpx.Response(500, json={"error": {"message": "Internal", "code": 1}}),
    "429": httpx.Response(
        429, json={"error": {"message": "Throughput", "code": 130429}}, headers={"Retry-After": "90"}
    ),
    "131047": httpx.Response(400, json={"error": {"message": "Re-engagement message", "code": 131047}}),
    "131026": httpx.Response(400, json={"error": {"message": "Message undeliverable", "code": 131026}}),
}


@pytest.mark.parametrize(
    ("answer", "result", "status"),
    [
        ("ok", "sent", N.SENT),
        ("500", "retry", N.PENDING),
        ("429", "retry", N.PENDING),
        ("timeout", "retry", N.PENDING),
        ("131047", "dead", N.DEAD),
        ("131026", "switched", N.PENDING),
    ],
)
def test_the_cloud_api_gateways_answers_lead_to_the_outcomes(in_window, settings, respx_mock, answer, result, status):
    """Through the real Cloud API gateway (messaging/gateways.py), its HTTP answers mocked."""
    settings.MESSAGE_GATEWAY_WHATSAPP = "cloud"
    settings.WHATSAPP_ACCESS_TOKEN = "token"
    settings.WHATSAPP_GRAPH_URL = "https://graph.example"
    settings.WHATSAPP_GRAPH_VERSION = "v24.0"
    route = respx_mock.post("https://graph.example/v24.0/10001/messages")
    if answer == "timeout":
        route.side_effect = httpx.ConnectTimeout("timed out")
    else:
        route.return_value = CLOUD_ANSWERS[answer]

    outcome = outbox.deliver(in_window.pk)

    row = reloaded(in_window)
    assert (outcome.result, row.status) == (result, status)
    if answer == "429":
        assert outcome.retry_in >= 90
    if answer == "ok":
        assert row.provider_message_id == "wamid.OK"
        assert Contact.objects.get(pk=row.contact_id).user_id == "ID.9"
    if answer == "131026":
        assert row.channel == "sms"


def test_a_worker_that_lost_its_lease_does_not_overwrite(in_window, frozen_now):
    other_lease = frozen_now + timedelta(minutes=7)

    def taken_over(outgoing):  # the lease expired during the call and another worker took the row
        Notification.objects.filter(pk=in_window.pk).update(locked_until=other_lease)

    outcome = outbox.deliver(in_window.pk, gateway_for=FakeGateway(on_send=taken_over))

    row = reloaded(in_window)
    assert outcome.result == "lease_lost"
    assert (row.status, row.locked_until, row.attempts, row.provider_message_id) == (N.PENDING, other_lease, 0, None)


def test_a_failure_after_a_lost_lease_is_not_recorded_either(in_window, frozen_now):
    def taken_over(outgoing):
        Notification.objects.filter(pk=in_window.pk).update(locked_until=frozen_now + timedelta(minutes=7))

    gateway = FakeGateway(GatewayError("x", "permanent", code=131047), on_send=taken_over)

    assert outbox.deliver(in_window.pk, gateway_for=gateway).result == "lease_lost"
    assert reloaded(in_window).status == N.PENDING


def test_a_killed_workers_row_is_taken_again_after_its_lease(in_window, frozen_now, time_machine):
    Notification.objects.filter(pk=in_window.pk).update(locked_until=frozen_now + timedelta(seconds=150))
    gateway = FakeGateway()

    assert outbox.deliver(in_window.pk, gateway_for=gateway).result == "skipped"
    time_machine.move_to(frozen_now + timedelta(seconds=151), tick=False)
    assert outbox.deliver(in_window.pk, gateway_for=gateway).result == "sent"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_row_send_it_once(ponorogo, numbers, frozen_now):
    contact = contact_make(wrote_ago=timedelta(hours=1))
    row = message_make(office=ponorogo, contact=contact)
    finished: list[str] = []
    one_done = threading.Event()

    def hold_until_the_other_is_done(outgoing):
        # The sender waits for the other worker to finish: had both claimed the row, both would be here.
        one_done.wait(timeout=10)

    gateway = FakeGateway(on_send=hold_until_the_other_is_done)
    start = threading.Barrier(2)

    def worker():
        try:
            start.wait()
            finished.append(outbox.deliver(row.pk, gateway_for=gateway).result)
        finally:
            one_done.set()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(finished) == ["sent", "skipped"]
    assert len(gateway.calls) == 1
    assert Notification.objects.get(pk=row.pk).status == N.SENT


# --- quiet hours -----------------------------------------------------------------------------------------------


def test_a_reminder_written_at_22_waits_until_06_office_time(ponorogo, numbers, frozen_now, time_machine):
    time_machine.move_to(at(FROZEN_TODAY, 22), tick=False)
    contact = contact_make(wrote_ago=timedelta(hours=1))
    reminder = message_make(office=ponorogo, contact=contact, template="appointment_reminder")
    gateway = FakeGateway()

    assert outbox.deliver(reminder.pk, gateway_for=gateway).result == "waiting"
    row = reloaded(reminder)
    morning = at(FROZEN_TODAY + timedelta(days=1), 6)
    assert (row.status, row.next_attempt_at, row.attempts, gateway.calls) == (N.PENDING, morning, 0, [])

    # At 05:59 the sweep leaves it; at 06:00 it hands it out and it goes.
    time_machine.move_to(morning - timedelta(minutes=1), tick=False)
    assert reminder.pk not in outbox.due_take(now=clock.now(), limit=100, queued_before=clock.now())
    time_machine.move_to(morning, tick=False)
    assert reminder.pk in outbox.due_take(now=clock.now(), limit=100, queued_before=clock.now())
    assert outbox.deliver(reminder.pk, gateway_for=gateway).result == "sent"


def test_a_message_written_after_midnight_waits_until_06_the_same_day(ponorogo, numbers, time_machine):
    time_machine.move_to(at(FROZEN_TODAY, 2, 30), tick=False)
    reminder = message_make(office=ponorogo, contact=contact_make(wrote_ago=timedelta(hours=1)))

    outbox.deliver(reminder.pk, gateway_for=FakeGateway())

    assert reloaded(reminder).next_attempt_at == at(FROZEN_TODAY, 6)


def test_a_reply_at_22_goes_at_once(ponorogo, numbers, time_machine):
    time_machine.move_to(at(FROZEN_TODAY, 22), tick=False)
    contact = contact_make(wrote_ago=timedelta(minutes=1))
    reply = message_make(office=ponorogo, contact=contact, is_reply=True, template="booking_confirmed")

    assert outbox.deliver(reply.pk, gateway_for=FakeGateway()).result == "sent"


def test_quiet_hours_follow_the_offices_own_time_zone(ponorogo, numbers, time_machine):
    """19:30 in Jakarta is 21:30 in Jayapura: a WIT office is in its quiet hours, a WIB one is not."""
    ponorogo.time_zone = "Asia/Jayapura"
    time_machine.move_to(at(FROZEN_TODAY, 19, 30), tick=False)  # 21:30 WIT
    until = outbox.quiet_until(ponorogo, now=clock.now())
    assert until is not None and until.astimezone(clock.zone_of(ponorogo)).hour == 6
    ponorogo.time_zone = "Asia/Jakarta"  # 19:30 WIB: not quiet
    assert outbox.quiet_until(ponorogo, now=clock.now()) is None


# --- WhatsApp's 24-hour window ----------------------------------------------------------------------------


def test_inside_the_window_the_text_goes_as_it_is(in_window):
    gateway = FakeGateway()

    outbox.deliver(in_window.pk, gateway_for=gateway)

    assert (gateway.calls[0].text, gateway.calls[0].template_name, gateway.calls[0].params) == (TEXT, "", ())


def test_outside_the_window_the_approved_template_carries_the_text(ponorogo, numbers, frozen_now):
    contact = contact_make(wrote_ago=timedelta(hours=25))
    row = message_make(office=ponorogo, contact=contact)
    gateway = FakeGateway()

    assert outbox.deliver(row.pk, gateway_for=gateway).result == "sent"

    sent = gateway.calls[0]
    assert (sent.template_name, sent.template_language) == ("pemberitahuan_layanan", "id")
    # One body parameter: the text on one line (a template parameter holds no newline).
    assert sent.params == (" ".join(TEXT.split()),)
    assert "\n" not in sent.params[0]


def test_outside_the_window_the_offices_own_template_for_the_code_wins(ponorogo, numbers):
    MessageTemplate.objects.create(
        office=ponorogo, code="request_received", text="…", wa_template_name="permohonan_diterima"
    )
    row = message_make(office=ponorogo, contact=contact_make())  # never wrote: no window
    gateway = FakeGateway()

    outbox.deliver(row.pk, gateway_for=gateway)

    assert gateway.calls[0].template_name == "permohonan_diterima"


def test_outside_the_window_without_a_template_a_number_gets_sms(ponorogo, numbers, settings):
    settings.WHATSAPP_UPDATE_TEMPLATE = ""
    row = message_make(office=ponorogo, contact=contact_make(wrote_ago=timedelta(days=3)))
    gateway = FakeGateway()

    assert outbox.deliver(row.pk, gateway_for=gateway).result == "sent"

    assert gateway.channels == ["sms"]
    assert (gateway.calls[0].text, gateway.calls[0].sender_number) == (TEXT, "6281100000002")
    assert reloaded(row).channel == "sms"


def test_outside_the_window_without_a_template_or_a_number_it_is_dead_with_the_reason(ponorogo, numbers, settings):
    settings.WHATSAPP_UPDATE_TEMPLATE = ""
    username_only = contact_make(phone=None, user_id="ID.77", username="siti", wrote_ago=timedelta(days=2))
    row = message_make(office=ponorogo, contact=username_only)
    gateway = FakeGateway()

    assert outbox.deliver(row.pk, gateway_for=gateway).result == "dead"

    row = reloaded(row)
    assert gateway.calls == []
    assert "24 jam" in row.last_error and "SMS" in row.last_error


def test_a_username_only_contact_in_the_window_is_sent_to_its_user_id(ponorogo, numbers):
    username_only = contact_make(phone=None, user_id="ID.77", username="siti", wrote_ago=timedelta(minutes=5))
    row = message_make(office=ponorogo, contact=username_only, is_reply=True)
    gateway = FakeGateway()

    assert outbox.deliver(row.pk, gateway_for=gateway).result == "sent"

    assert (gateway.calls[0].to_phone, gateway.calls[0].to_user_id) == ("", "ID.77")


def test_a_contact_known_without_whatsapp_goes_by_sms(ponorogo, numbers):
    contact = contact_make(wrote_ago=timedelta(hours=1))
    Contact.objects.filter(pk=contact.pk).update(whatsapp="no")
    row = message_make(office=ponorogo, contact=Contact.objects.get(pk=contact.pk))
    gateway = FakeGateway()

    outbox.deliver(row.pk, gateway_for=gateway)

    assert gateway.channels == ["sms"]


# --- the rate limit --------------------------------------------------------------------------------------------

REDIS_URL = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (TEST_REDIS_URL, set by make test)")
def test_over_the_rate_limit_a_message_waits_without_an_attempt(ponorogo, numbers, settings, frozen_now):
    import redis

    settings.CELERY_BROKER_URL = REDIS_URL
    settings.WHATSAPP_RATE_PER_SECOND = 0.001  # one token, the next in 1,000 s
    OfficeNumber.objects.filter(channel="whatsapp").update(phone_number_id=f"rate-{os.getpid()}")
    redis.Redis.from_url(REDIS_URL).delete(f"outbox:rate:whatsapp:rate-{os.getpid()}")
    contact = contact_make(wrote_ago=timedelta(hours=1))
    first, second = (message_make(office=ponorogo, contact=contact) for _ in range(2))
    gateway = FakeGateway()

    assert outbox.deliver(first.pk, gateway_for=gateway).result == "sent"
    limited = outbox.deliver(second.pk, gateway_for=gateway)

    row = reloaded(second)
    assert limited.result == "rate_limited" and limited.retry_in > 1
    assert (row.status, row.attempts, row.locked_until) == (N.PENDING, 0, None)
    assert row.next_attempt_at > frozen_now
    assert len(gateway.calls) == 1


def test_without_a_redis_broker_there_is_no_rate_limit(settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.WHATSAPP_RATE_PER_SECOND = 0.001

    assert outbox.rate_limit_wait("whatsapp:x") == 0.0


def test_a_redis_that_does_not_answer_lets_messages_go(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.WHATSAPP_RATE_PER_SECOND = 80

    assert outbox.rate_limit_wait("whatsapp:x") == 0.0


# --- the sweep ----------------------------------------------------------------------------------------------


def test_the_sweep_takes_what_is_due_and_not_in_the_broker(ponorogo, numbers, frozen_now):
    contact = contact_make(wrote_ago=timedelta(hours=1))
    minute = timedelta(minutes=1)
    never_queued = message_make(office=ponorogo, contact=contact)
    queued_long_ago = message_make(office=ponorogo, contact=contact, queued_at=frozen_now - 10 * minute)
    killed_workers = message_make(
        office=ponorogo, contact=contact, queued_at=frozen_now - minute, locked_until=frozen_now - minute
    )
    due_retry = message_make(office=ponorogo, contact=contact, next_attempt_at=frozen_now - minute, attempts=2)
    just_queued = message_make(office=ponorogo, contact=contact, queued_at=frozen_now - minute)
    leased = message_make(office=ponorogo, contact=contact, locked_until=frozen_now + minute)
    later = message_make(office=ponorogo, contact=contact, next_attempt_at=frozen_now + minute)
    sent = message_make(office=ponorogo, contact=contact, status=N.SENT)
    dead = message_make(office=ponorogo, contact=contact, status=N.DEAD)

    taken = outbox.due_take(now=frozen_now, limit=100, queued_before=frozen_now - 5 * minute)

    assert sorted(taken) == sorted([never_queued.pk, queued_long_ago.pk, killed_workers.pk, due_retry.pk])
    assert {r.pk for r in (just_queued, leased, later, sent, dead)}.isdisjoint(taken)
    assert Notification.objects.get(pk=never_queued.pk).queued_at == frozen_now
    # Taken rows are marked queued: a second sweep (or one running beside it) does not take them again.
    assert outbox.due_take(now=frozen_now, limit=100, queued_before=frozen_now - 5 * minute) == []


@pytest.mark.parametrize(("waiting", "seconds"), [(0, 300), (None, 300), (12, 3600)])
def test_a_queued_row_is_presumed_lost_sooner_when_the_brokers_queue_is_empty(
    waiting, seconds, monkeypatch, frozen_now
):
    """Behind a backlog a row waits longer than a few minutes without being lost: handing it out again every few
    minutes would only fill the queue with duplicates."""
    monkeypatch.setattr(outbox, "broker_queue_length", lambda queue: waiting)

    assert tasks._lost_before(frozen_now) == frozen_now - timedelta(seconds=seconds)


def test_the_sweep_task_delivers_in_batches(ponorogo, numbers, frozen_now, settings, monkeypatch):
    settings.MESSAGE_SWEEP_BATCH = 2
    monkeypatch.setattr(tasks.deliver_notification.app.conf, "task_always_eager", True)
    gateway = FakeGateway()
    monkeypatch.setattr(outbox.gateways, "gateway_for", gateway)
    contact = contact_make(wrote_ago=timedelta(hours=1))
    rows = [message_make(office=ponorogo, contact=contact) for _ in range(5)]

    assert tasks.outbox_sweep() == 5

    assert set(Notification.objects.filter(pk__in=[r.pk for r in rows]).values_list("status", flat=True)) == {N.SENT}
    assert sorted(int(c.reference) for c in gateway.calls) == sorted(r.pk for r in rows)


def test_a_sweep_that_cannot_reach_the_broker_fails_and_unmarks_its_rows(ponorogo, numbers, frozen_now, monkeypatch):
    monkeypatch.setattr(tasks.deliver_notification.app.conf, "task_always_eager", False)

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.deliver_notification, "apply_async", broker_down)
    monkeypatch.setattr(tasks.current_app, "producer_or_acquire", _NoProducer)
    row = message_make(office=ponorogo, contact=contact_make(wrote_ago=timedelta(hours=1)))

    with pytest.raises(ConnectionRefusedError):
        tasks.outbox_sweep()

    assert reloaded(row).queued_at is None  # the next sweep takes it again


class _NoProducer:
    def __init__(self, *args, **kwargs) -> None:
        pass

    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None
