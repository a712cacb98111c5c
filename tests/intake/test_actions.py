"""What each message does and the reply it gets (intake.actions.message_act), one row of the table per case.

One office (Ponorogo, open Monday to Friday, 10 cards a day of which 4 by message) with three numbers: the main
WhatsApp number (bookings, #KTP, questions, status; sends updates), a WhatsApp number for #SINKRONISASI only,
and an SMS centre (questions and status). The resident is SITI AMINAH (kecamatan A, with a KK), whose WhatsApp
number is registered; the stranger is anyone else. The clock is frozen on a Monday at 09:00.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.db.models import F

from cards.data_sync import data_sync_open
from cards.models import CardRequest, DataSyncRequest, Route
from intake.actions import message_act, names_match
from intake.models import InboundMessage, Thread
from intake.parser import FORMATS
from intake.threads import thread_for
from messaging.models import Contact, Notification, OfficeNumber
from queueing.calendar import service_day_get
from queueing.models import Booking, ServiceDay
from registry import clock
from registry.models import Office, Resident
from tests.dates import SATURDAY, next_weekday, working_day_after
from tests.factories import CardRequestFactory, FamilyFactory, ResidentFactory, appointment_for, open_calendar

OUT = InboundMessage.Outcome
REGISTERED = "6281234500001"  # SITI AMINAH's WhatsApp number, on her record
STRANGER = "6285700000002"
_ids = itertools.count(1)


@dataclass
class World:
    office: Office
    main: OfficeNumber
    sync: OfficeNumber
    sms: OfficeNumber
    resident: Resident
    registered: Contact
    stranger: Contact
    today: date
    made: dict = field(default_factory=dict)  # what a case's set-up made, for its checks

    @property
    def nik(self) -> str:
        return self.resident.nik

    @property
    def kk(self) -> str:
        return self.resident.family.kk_number


@pytest.fixture
def world(ponorogo, resident_a, frozen_today) -> World:
    open_calendar(ponorogo, print_capacity=10, whatsapp=4, walk_in=3, invitation=2)
    Resident.objects.filter(pk=resident_a.pk).update(whatsapp=REGISTERED)
    resident_a.refresh_from_db()

    def number(channel: str, digits: str, **accepts) -> OfficeNumber:
        return OfficeNumber.objects.create(office=ponorogo, channel=channel, number=digits, **accepts)

    return World(
        office=ponorogo,
        main=number(
            "whatsapp",
            "6281100000001",
            accepts_booking=True,
            accepts_request=True,
            accepts_question=True,
            sends_updates=True,
        ),  # fmt: skip
        sync=number("whatsapp", "6281100000002", accepts_sync=True, accepts_status=False),
        sms=number("sms", "6281100000003", accepts_question=True),
        resident=resident_a,
        registered=Contact.objects.create(phone=REGISTERED, user_id="ID.100000000001", whatsapp="yes"),
        stranger=Contact.objects.create(phone=STRANGER, user_id="ID.100000000002", whatsapp="yes"),
        today=frozen_today,
    )


def send(world: World, text: str, *, sender: Contact | None = None, number: OfficeNumber | None = None,
         kind: str = "text") -> InboundMessage:  # fmt: skip
    """A message as the webhook processing leaves it (stored, in its thread), acted on."""
    sender = sender or world.registered
    number = number or world.main
    now = clock.now()
    message = InboundMessage.objects.create(
        source=number.channel,
        provider_message_id=f"wamid.test{next(_ids):08d}",
        office=number.office,
        office_number=number,
        contact=sender,
        thread=thread_for(office=number.office, contact=sender, at=now),
        kind=kind,
        text=text,
        sent_at=now,
        received_at=now,
    )
    message_act(message)
    return InboundMessage.objects.select_related("reply", "card_request", "thread").get(pk=message.pk)


def d(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def ready(world: World, **kw) -> CardRequest:
    """SITI AMINAH's request, ready to print (route 1 unless told)."""
    return CardRequestFactory(resident=world.resident, ready=True, **{"kind": "rusak", **kw})


def booking_text(world: World, day: date, *, name: str = "Siti Aminah") -> str:
    return f"#{name}#{world.nik}#{day.strftime('%d/%m/%Y')}"


def ktp_text(world: World, kind: str, *, nik: str | None = None, kk: str | None = None, name="Siti Aminah") -> str:
    return f"#KTP#{nik or world.nik}#{kk or world.kk}#{name}#Slahung#Slahung#{kind}"


def to_registered(world: World) -> list[str]:
    """Templates of the messages written to SITI AMINAH's registered number that are not replies."""
    return list(
        Notification.objects.filter(recipient=REGISTERED, is_reply=False)
        .order_by("pk")
        .values_list("template", flat=True)
    )


# --- the table -------------------------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    prepare: Callable[[World], InboundMessage]
    outcome: str
    says: tuple[str, ...] = ()  # in the reply (filled from the world: {today+1}, {nik}, …)
    never_says: tuple[str, ...] = ()
    check: Callable[[World, InboundMessage], None] | None = None


def _tomorrow(w: World) -> date:
    return working_day_after(w.today)


def _booked_ok(w: World, m: InboundMessage) -> None:
    booking = Booking.objects.get(card_request=m.card_request)
    assert (booking.date, booking.number, booking.channel) == (_tomorrow(w), 1, "whatsapp")
    assert m.card_request.status == CardRequest.Status.SCHEDULED
    # The sender is the resident: the reply is their one confirmation (the service's own was not written).
    assert to_registered(w) == []
    assert Notification.objects.filter(recipient=REGISTERED).count() == 1


def _full_day(w: World) -> InboundMessage:
    ready(w)
    day = service_day_get(office=w.office, day=_tomorrow(w))
    ServiceDay.objects.filter(pk=day.pk).update(booked_whatsapp=F("cap_whatsapp"), booked_total=F("cap_whatsapp"))
    return send(w, booking_text(w, _tomorrow(w)))


def _already_booked(w: World) -> InboundMessage:
    ready(w)
    w.made["first"] = first = send(w, booking_text(w, _tomorrow(w)))
    assert first.outcome == OUT.BOOKED
    return send(w, booking_text(w, working_day_after(w.today, 3)))  # a resend with another day


def _same_booking(w: World, m: InboundMessage) -> None:
    assert Booking.objects.filter(card_request=m.card_request).count() == 1
    assert m.card_request_id == w.made["first"].card_request_id
    assert ServiceDay.objects.get(office=w.office, date=_tomorrow(w)).booked_total == 1


def _booked_by_stranger(w: World, m: InboundMessage) -> None:
    assert m.reply.recipient == STRANGER
    # The resident's own number is told too (someone booked in their name), once.
    assert to_registered(w) == ["booking_confirmed"]


def _one_request(w: World, m: InboundMessage) -> None:
    request = CardRequest.objects.get(resident=w.resident)
    assert (m.card_request, request.route, request.channel) == (request, Route.COUNTER, "whatsapp")
    # The reply replaces the service's "request received" to the same person: one message.
    assert Notification.objects.filter(recipient=REGISTERED).count() == 1


def _resent_request(w: World) -> InboundMessage:
    w.made["first"] = first = send(w, ktp_text(w, "Hilang"))
    w.made["queued_at"] = first.card_request.queued_at
    return send(w, ktp_text(w, "hilang"))  # the same request under a new message id


def _kept_first(w: World, m: InboundMessage) -> None:
    first = w.made["first"].card_request
    assert CardRequest.objects.filter(resident=w.resident).count() == 1
    assert m.card_request_id == first.pk
    assert CardRequest.objects.get(pk=first.pk).queued_at == w.made["queued_at"]


def _nothing_made(w: World, m: InboundMessage) -> None:
    assert not CardRequest.objects.exists() and not DataSyncRequest.objects.exists()
    assert not Booking.objects.exists()


def _waits_in_inbox(w: World, m: InboundMessage) -> None:
    assert Thread.objects.get(pk=m.thread_id).waiting_since is not None
    assert m.answered_at is None


def _two_free_texts(w: World) -> InboundMessage:
    first = send(w, "selamat pagi pak, mau tanya", sender=w.stranger)
    assert first.reply.template == "reply_inbox_received"
    return send(w, "halo?", sender=w.stranger)


def _status_ahead(w: World) -> InboundMessage:
    """SITI AMINAH's card waits in the print line (route 2) behind one other resident's."""
    other = ResidentFactory(desa_id=w.resident.desa_id)
    CardRequestFactory(resident=other, ready=True, collect=True, queued_at=_now())
    CardRequestFactory(resident=w.resident, ready=True, collect=True, queued_at=_now() + timedelta(minutes=1))
    return send(w, f"#STATUS#{w.nik}")


def _now():
    return clock.now()


def _stranger_status(w: World) -> InboundMessage:
    CardRequestFactory(resident=w.resident, verifying=True)
    return send(w, f"#STATUS#{w.nik}", sender=w.stranger)


def _forwarded(w: World, m: InboundMessage) -> None:
    assert m.reply.recipient == STRANGER and m.card_request is None
    assert to_registered(w) == ["status_answer"]
    assert "diverifikasi" in Notification.objects.get(template="status_answer").text


def _unknown_nik_status(w: World) -> InboundMessage:
    unknown = ResidentFactory.build(desa_id=w.resident.desa_id).nik  # valid, but nobody's
    w.made["stranger_reply"] = _stranger_status(w).reply.text
    return send(w, f"#STATUS#{unknown}", sender=w.stranger)


def _same_as_stranger(w: World, m: InboundMessage) -> None:
    assert m.reply.text == w.made["stranger_reply"]
    assert to_registered(w) == ["status_answer"]  # only the first question's


def _media_after_request(w: World) -> InboundMessage:
    w.made["request"] = send(w, ktp_text(w, "Hilang")).card_request
    return send(w, "", kind="image")


CASES = [
    # booking (#nama#NIK#tanggal)
    Case(
        "booking-ok",
        lambda w: (ready(w), send(w, booking_text(w, _tomorrow(w))))[1],
        OUT.BOOKED,
        says=("{tomorrow}", "nomor antrean 1", "Disdukcapil", "SITI AMINAH", "KTP-el yang rusak ditarik"),
        check=_booked_ok,
    ),
    Case(
        "booking-name-typed-loosely",
        lambda w: (ready(w), send(w, booking_text(w, _tomorrow(w), name="siti  aminah")))[1],
        OUT.BOOKED,
    ),
    Case(
        "booking-by-a-relative",
        lambda w: (ready(w), send(w, booking_text(w, _tomorrow(w)), sender=w.stranger))[1],
        OUT.BOOKED,
        says=("{tomorrow}", "nomor antrean 1"),
        check=_booked_by_stranger,
    ),
    Case(
        "booking-full-day-gets-next-free",
        _full_day,
        OUT.REFUSED,
        says=("sudah penuh", "{tomorrow+1}"),
        check=lambda w, m: _nothing_booked(m),
    ),
    Case(
        "booking-closed-day-gets-next-free",
        lambda w: (ready(w), send(w, booking_text(w, next_weekday(w.today, SATURDAY))))[1],
        OUT.REFUSED,
        says=("tidak melayani", "{monday}"),
        check=lambda w, m: _nothing_booked(m),
    ),
    Case(
        "booking-past-date-gets-the-window",
        lambda w: (ready(w), send(w, booking_text(w, w.today - timedelta(days=3))))[1],
        OUT.REFUSED,
        says=("pilih tanggal antara {today+1} dan {today+90}", FORMATS["booking"]),
        check=lambda w, m: _nothing_booked(m),
    ),
    Case(
        "booking-today-gets-the-window",
        lambda w: (ready(w), send(w, booking_text(w, w.today)))[1],
        OUT.REFUSED,
        says=("pilih tanggal antara {today+1} dan {today+90}",),
    ),
    Case(
        "booking-beyond-window-gets-the-window",
        lambda w: (ready(w), send(w, booking_text(w, w.today + timedelta(days=120))))[1],
        OUT.REFUSED,
        says=("pilih tanggal antara {today+1} dan {today+90}",),
        check=lambda w, m: _nothing_booked(m),
    ),
    Case(
        "booking-resent-is-already-registered",
        _already_booked,
        OUT.DUPLICATE,
        says=("SUDAH terdaftar", "{tomorrow}", "nomor antrean 1"),
        check=_same_booking,
    ),
    Case(
        "booking-wrong-name-reveals-nothing",
        lambda w: (ready(w), send(w, booking_text(w, _tomorrow(w), name="Budi Santoso"), sender=w.stranger))[1],
        OUT.REFUSED,
        says=("NIK dan nama tidak cocok",),
        never_says=("SITI", "AMINAH", "PKTP"),
        check=lambda w, m: _nothing_booked(m),
    ),
    Case(
        "booking-without-a-request-says-send-ktp-first",
        lambda w: send(w, booking_text(w, _tomorrow(w))),
        OUT.REFUSED,
        says=("Belum ada permohonan", FORMATS["request"], "6281100000001"),
    ),
    Case(
        "booking-while-verifying-says-so",
        lambda w: (CardRequestFactory(resident=w.resident, verifying=True), send(w, booking_text(w, _tomorrow(w))))[1],
        OUT.REFUSED,
        says=("belum dapat dijadwalkan", "diverifikasi"),
    ),
    Case(
        "booking-route-post-needs-no-visit",
        lambda w: (ready(w, route="post"), send(w, booking_text(w, _tomorrow(w))))[1],
        OUT.REFUSED,
        says=("belum dapat dijadwalkan", "Pos Indonesia"),
    ),
    Case(
        "booking-pemula-before-the-17th-birthday-gets-the-birthday",
        lambda w: _young_booking(w),
        OUT.REFUSED,
        says=("ulang tahun ke-17", "{birthday}", FORMATS["booking"]),
        check=lambda w, m: _nothing_booked(m),
    ),
    Case(
        "booking-to-the-sms-centre-gets-the-whatsapp-number",
        lambda w: (ready(w), send(w, booking_text(w, _tomorrow(w)), number=w.sms))[1],
        OUT.FORMAT_REPLY,
        says=("6281100000001", FORMATS["booking"]),
        check=lambda w, m: _nothing_booked(m),
    ),
    # a card request (#KTP)
    Case(
        "request-hilang-asks-for-the-police-report",
        lambda w: send(w, ktp_text(w, "Hilang")),
        OUT.REQUEST_OPENED,
        says=("PKTP-", "hilang", "kepolisian", "membalas pesan ini", "#STATUS#NIK"),
        check=_one_request,
    ),
    Case(
        "request-rusak-says-the-old-card-is-collected",
        lambda w: send(w, ktp_text(w, "rusak")),
        OUT.REQUEST_OPENED,
        says=("KTP-el lama diserahkan di loket",),
        never_says=("kepolisian",),
        check=_one_request,
    ),
    Case(
        "request-ubah-data-by-post-courier-collects-the-old-card",
        lambda w: (
            Office.objects.filter(pk=w.office.pk).update(message_route="post"),
            send(w, ktp_text(w, "ubahdata")),
        )[1],
        OUT.REQUEST_OPENED,
        says=("Dokumen pendukung perubahan data", "KTP-el lama diserahkan kepada kurir Pos", "Rp 9.000"),
        check=lambda w, m: _route(m, Route.POST),
    ),
    Case(
        "request-resent-under-a-new-id-points-to-the-first",
        _resent_request,
        OUT.DUPLICATE,
        says=("sudah kami terima sebelumnya", "PKTP-", "urutan Anda tetap"),
        check=_kept_first,
    ),
    Case(
        "request-wrong-kk-reveals-nothing",
        lambda w: send(w, ktp_text(w, "rusak", kk=FamilyFactory(desa_id=w.resident.desa_id).kk_number)),
        OUT.REFUSED,
        says=("NIK dan KK tidak cocok dengan data kami", FORMATS["request"]),
        never_says=("SITI", "AMINAH"),
        check=_nothing_made,
    ),
    Case(
        "request-by-a-relative-the-resident-is-told-too",
        lambda w: send(w, ktp_text(w, "rusak"), sender=w.stranger),
        OUT.REQUEST_OPENED,
        says=("PKTP-",),
        check=lambda w, m: _receipt_to_registered(w, m),
    ),
    # the right number, the right format
    Case(
        "sync-on-the-booking-number-gets-the-sync-number",
        lambda w: send(w, f"#SINKRONISASI#{w.nik}#{w.kk}#BPJS"),
        OUT.FORMAT_REPLY,
        says=("6281100000002", FORMATS["sync"]),
        check=_nothing_made,
    ),
    Case(
        "ktp-on-the-sync-number-gets-the-main-number",
        lambda w: send(w, ktp_text(w, "rusak"), number=w.sync),
        OUT.FORMAT_REPLY,
        says=("6281100000001", FORMATS["request"]),
        check=_nothing_made,
    ),
    Case(
        "broken-request-gets-the-format",
        lambda w: send(w, "#KTP#3502#Siti"),
        OUT.FORMAT_REPLY,
        says=(FORMATS["request"],),
        check=_nothing_made,
    ),
    Case(
        "broken-booking-gets-the-format",
        lambda w: send(w, "#Siti Aminah#3502 0112"),
        OUT.FORMAT_REPLY,
        says=(FORMATS["booking"],),
        check=_nothing_made,
    ),
    # SINKRONISASI
    Case(
        "sync-opens-a-request",
        lambda w: send(w, f"#SINKRONISASI#{w.nik}#{w.kk}#BPJS Kesehatan", number=w.sync),
        OUT.SYNC_OPENED,
        says=("SNK-", "BPJS Kesehatan"),
        check=lambda w, m: _one_sync(w),
    ),
    Case(
        "sync-resent-points-to-the-first",
        lambda w: (
            send(w, f"#SINKRONISASI#{w.nik}#{w.kk}#BPJS", number=w.sync),
            send(w, f"#SINKRONISASI#{w.nik}#{w.kk}#BPJS", number=w.sync),
        )[1],
        OUT.DUPLICATE,
        says=("SNK-", "urutan Anda tetap"),
        check=lambda w, m: _one_sync(w),
    ),
    Case(
        "sync-resent-by-someone-else-reveals-nothing",
        lambda w: (
            send(w, f"#SINKRONISASI#{w.nik}#{w.kk}#BPJS", number=w.sync),
            send(w, f"#SINKRONISASI#{w.nik}#{w.kk}#Bank", number=w.sync, sender=w.stranger),
        )[1],
        OUT.DUPLICATE,
        says=("sedang diproses",),
        never_says=("SNK-", "BPJS"),
        check=lambda w, m: _one_sync(w),
    ),
    Case(
        "sync-recorded-at-the-counter-reveals-nothing-to-a-stranger",
        lambda w: (
            _counter_sync(w),
            send(w, f"#SINKRONISASI#{w.nik}#{w.kk}#Bank", number=w.sync, sender=w.stranger),
        )[1],
        OUT.DUPLICATE,
        says=("sedang diproses",),
        never_says=("SNK-", "BPJS"),
    ),
    Case(
        "sync-recorded-at-the-counter-is-told-to-the-resident-s-own-number",
        lambda w: (
            _counter_sync(w),
            send(w, f"#SINKRONISASI#{w.nik}#{w.kk}#Bank", number=w.sync),
        )[1],
        OUT.DUPLICATE,
        says=("SNK-", "urutan Anda tetap"),
    ),
    # the inbox
    Case(
        "disdukcapil-question-goes-to-the-inbox",
        lambda w: send(w, f"DISDUKCAPIL#Siti Aminah#{w.nik}#kapan kantor buka hari sabtu?", number=w.sms),
        OUT.INBOX,
        says=("diteruskan ke petugas",),
        check=_waits_in_inbox,
    ),
    Case(
        "free-text-goes-to-the-inbox-acknowledged-once-a-day",
        _two_free_texts,
        OUT.INBOX,
        check=lambda w, m: (_waits_in_inbox(w, m), _no_reply(m)),
    ),
    Case(
        "photo-after-a-request-is-offered-for-it",
        _media_after_request,
        OUT.INBOX,
        says=("Dokumen diterima",),
        check=lambda w, m: (_waits_in_inbox(w, m), _for_request(w, m)),
    ),
    # status
    Case(
        "status-from-the-registered-number-state-place-and-day",
        _status_ahead,
        OUT.STATUS_ANSWERED,
        says=("masuk daftar cetak", "ke-2", "Perkiraan dicetak sekitar {tomorrow}", "perkiraan"),
    ),
    Case(
        "status-scheduled-says-the-day-and-number",
        lambda w: (
            ready(w),
            appointment_for(ready_request(w), day=_tomorrow(w)),
            send(w, "ktp saya sudah jadi belum?"),
        )[2],
        OUT.STATUS_ANSWERED,
        says=("dijadwalkan pada {tomorrow}", "nomor antrean 1"),
    ),
    Case(
        "status-by-sms-from-the-registered-number",
        lambda w: (CardRequestFactory(resident=w.resident, incomplete=True), send(w, f"#STATUS#{w.nik}", number=w.sms))[
            1
        ],
        OUT.STATUS_ANSWERED,
        says=("belum lengkap", "Surat kehilangan dari kepolisian", "Balas pesan ini"),
        check=lambda w, m: _answered_by_sms(m),
    ),
    Case(
        "status-from-a-stranger-goes-to-the-registered-number",
        _stranger_status,
        OUT.STATUS_REFUSED,
        says=("nomor yang terdaftar",),
        never_says=("SITI", "AMINAH", "PKTP", "diverifikasi"),
        check=_forwarded,
    ),
    Case(
        "status-for-an-unknown-nik-is-the-same-sentence",
        _unknown_nik_status,
        OUT.STATUS_REFUSED,
        check=_same_as_stranger,
    ),
    Case(
        "plain-status-question-from-an-unknown-sender-asks-for-the-nik",
        lambda w: send(w, "ktp saya sudah jadi belum?", sender=w.stranger),
        OUT.FORMAT_REPLY,
        says=("#STATUS#NIK",),
    ),
]


def _young_booking(w: World) -> InboundMessage:
    """RINA LESTARI turns 17 in 20 days; her first card is ready to print."""
    birthday = w.today + timedelta(days=20)
    young = ResidentFactory(
        desa_id=w.resident.desa_id, full_name="RINA LESTARI", birth_date=birthday.replace(year=birthday.year - 17)
    )
    w.made["birthday"] = birthday
    CardRequestFactory(resident=young, kind="pemula", ready=True)
    return send(w, f"#Rina Lestari#{young.nik}#{_tomorrow(w):%d/%m/%Y}", sender=w.stranger)


def _answered_by_sms(m: InboundMessage) -> None:
    assert (m.reply.channel, m.reply.recipient) == ("sms", REGISTERED)


def ready_request(w: World) -> CardRequest:
    return CardRequest.objects.get(resident=w.resident, status=CardRequest.Status.READY_TO_PRINT)


def _nothing_booked(m: InboundMessage) -> None:
    assert not Booking.objects.exists()
    assert m.card_request is None or m.card_request.status == CardRequest.Status.READY_TO_PRINT


def _route(m: InboundMessage, route: str) -> None:
    assert m.card_request.route == route


def _receipt_to_registered(w: World, m: InboundMessage) -> None:
    assert m.reply.recipient == STRANGER
    assert to_registered(w) == ["request_received"]


def _counter_sync(w: World) -> DataSyncRequest:
    """A SINKRONISASI request recorded without a sender contact (at the counter, no number noted)."""
    return data_sync_open(office=w.office, nik=w.nik, kk_number=w.kk, purpose="BPJS Kesehatan", channel="walk_in")


def _one_sync(w: World) -> None:
    sync = DataSyncRequest.objects.get()
    assert (sync.contact_id, sync.resident_id) == (w.registered.pk, w.resident.pk)


def _no_reply(m: InboundMessage) -> None:
    assert m.reply is None


def _for_request(w: World, m: InboundMessage) -> None:
    assert m.card_request == w.made["request"]


def _fill(text: str, w: World) -> str:
    values = {
        "{tomorrow}": d(_tomorrow(w)),
        "{tomorrow+1}": d(working_day_after(w.today, 2)),
        "{monday}": d(next_weekday(w.today, 0, after=True)),
        "{today+1}": d(w.today + timedelta(days=1)),
        "{today+90}": d(w.today + timedelta(days=90)),
        "{birthday}": d(w.made["birthday"]) if "birthday" in w.made else "?",
    }
    for key, value in values.items():
        text = text.replace(key, value)
    return text


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_message_action_and_reply(case: Case, world: World):
    message = case.prepare(world)
    assert message.outcome == case.outcome
    reply = message.reply
    if case.says:
        assert reply is not None and reply.is_reply
        assert reply.sender_number_id == message.office_number_id  # answered from the number written to
        assert reply.contact_id == message.contact_id
        for expected in case.says:
            assert _fill(expected, world) in reply.text, expected
    for unexpected in case.never_says:
        assert unexpected not in reply.text, unexpected
    if case.check:
        case.check(world, message)


def test_the_table_has_a_row_per_behaviour():
    assert len(CASES) >= 30


# --- beside the table ---------------------------------------------------------------------------------------------


def test_a_message_with_an_outcome_is_not_acted_on_again(world):
    ready(world)
    message = send(world, booking_text(world, _tomorrow(world)))
    replies = Notification.objects.count()
    message_act(message)
    message_act(InboundMessage.objects.get(pk=message.pk))
    assert Notification.objects.count() == replies
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    ("typed", "registered", "same"),
    [
        ("siti aminah", "SITI AMINAH", True),
        ("SITI  AMINAH ", "SITI AMINAH", True),
        ("Aminah Siti", "SITI AMINAH", True),
        ("Muhamad Rizki", "MUHAMMAD RIZKI", True),
        ("Siti Aminah.", "SITI AMINAH", True),
        ("Siti", "SITI AMINAH", False),
        ("Budi Santoso", "SITI AMINAH", False),
        ("", "SITI AMINAH", False),
    ],
)
def test_names_match_up_to_case_spacing_and_a_letter(typed, registered, same):
    assert names_match(typed, registered) is same


# --- many spellings, one office: each variant's action and reply -------------------------------------------------


def _variants(w: World) -> list[tuple[str, str, str, str, str, str]]:
    """(text, sender, number, intent, outcome, in the reply) in the order they are sent: SITI AMINAH's rusak
    request is ready to print at the start; she books it half-way; "" in the reply: no reply expected."""
    n, kk = w.nik, w.kk
    spaced, dotted = " ".join(n[i : i + 4] for i in range(0, 16, 4)), ".".join(n[i : i + 4] for i in range(0, 16, 4))
    other_kk = FamilyFactory(desa_id=w.resident.desa_id).kk_number
    ready_state, elsewhere, ask = "siap dicetak", "hanya dikirim ke nomor yang terdaftar", "#STATUS#NIK"
    window, fmt, mismatch = "pilih tanggal antara", "Kirim ulang dengan format", "NIK dan nama tidak cocok"
    already, dup, kk_mis = "SUDAH terdaftar", "sudah kami terima sebelumnya", "NIK dan KK tidak cocok"
    ktp = f"#{n}#{kk}#Siti Aminah#Slahung#Slahung"
    return [
        # status from the registered number, with and without the NIK
        *[
            (text, "registered", "main", "status", OUT.STATUS_ANSWERED, ready_state)
            for text in (
                f"#STATUS#{n}", f"STATUS {n}", f"status#{spaced}", f"CEK#{n}", f"#CEK STATUS#{n}",
                f"cek status ktp {n}", "#STATUS", "ktp saya sudah jadi belum", "apakah e-ktp saya sudah bisa diambil?",
                "kapan ktp saya jadi", "ktp sy udh jd blm min", "bagaimana perkembangan permohonan ktp saya",
                f"Selamat siang, mau tanya ktp dengan nik {dotted} sudah selesai belum?",
            )
        ],
        (f"#STATUS#{n}", "registered", "sms", "status", OUT.STATUS_ANSWERED, ready_state),
        # status from a stranger: the one sentence, or the question for a NIK
        *[
            (text, "stranger", "main", "status", OUT.STATUS_REFUSED, elsewhere)
            for text in (f"#STATUS#{n}", f"cek status ktp {n}", f"STATUS {n} tolong dicek min")
        ],
        *[
            (text, "stranger", "main", "status", OUT.FORMAT_REPLY, ask)
            for text in ("ktp saya sudah jadi belum", "kapan ktp saya jadi", "#STATUS")
        ],
        ("CEK#12345", "stranger", "main", "status", OUT.FORMAT_REPLY, fmt),
        # bookings refused before one is made
        (f"#Siti Aminah#{n}#hari ini", "registered", "main", "booking", OUT.REFUSED, window),
        (f"#Siti Aminah#{n}#5/7/2018", "registered", "main", "booking", OUT.REFUSED, window),
        (f"#Siti Aminah#{n}#kemarin", "registered", "main", "booking", OUT.REFUSED, window),
        (f"#Siti Aminah#{n[:15]}#besok", "registered", "main", "booking", OUT.FORMAT_REPLY, fmt),
        (f"#Siti Aminah#{n}#32 Juli", "registered", "main", "booking", OUT.FORMAT_REPLY, fmt),
        ("#Nama Lengkap#NIK#Tanggal Kedatangan", "registered", "main", "booking", OUT.FORMAT_REPLY, fmt),
        (f"#Siti Aminah#{n}", "registered", "main", "booking", OUT.FORMAT_REPLY, fmt),
        (f"#Budi Santoso#{n}#besok", "stranger", "main", "booking", OUT.REFUSED, mismatch),
        (f"#Siti Rahayu#{n}#besok", "stranger", "main", "booking", OUT.REFUSED, mismatch),
        (f"#Siti Aminah#{n}#besok", "registered", "sms", "booking", OUT.FORMAT_REPLY, w.main.number),
        # the booking, then every resend of it under another spelling or day
        (f"#Siti Aminah#{spaced}#besok", "registered", "main", "booking", OUT.BOOKED, "nomor antrean 1"),
        *[
            (text, "registered", "main", "booking", OUT.DUPLICATE, already)
            for text in (
                f"#SITI AMINAH#{n}#besok", f"##Siti Aminah##{n}##lusa##", f"Siti Aminah\n{n}\n2 hari lagi",
                f"Nama: Siti Aminah\nNIK: {n}\nTanggal: besok", f"#{n}#Siti Aminah#besok", f"Siti Aminah {n} besok",
                f"Assalamualaikum\n#Siti Aminah#{n}#lusa", f"#DAFTAR#Siti Aminah#{n}#besok",
                f"#siti aminah#{dotted}#Senin depan",
            )
        ],
        (f"#Siti Aminah#{n}#lusa", "stranger", "main", "booking", OUT.DUPLICATE, "nomor yang terdaftar"),
        # requests: the rusak one exists; a hilang and an ubah data are opened once each
        (f"#KTP{ktp}#Rusak", "registered", "main", "request", OUT.DUPLICATE, dup),
        (f"#E-KTP{ktp}#rusak", "registered", "main", "request", OUT.DUPLICATE, dup),
        (f"#KTP{ktp}#Hilang", "registered", "main", "request", OUT.REQUEST_OPENED, "kepolisian"),
        *[
            (text, "registered", "main", "request", OUT.DUPLICATE, dup)
            for text in (
                f"##KTP##{n}##{kk}##Siti Aminah##Slahung##Slahung##Hilang",
                f"KTP\n{n}\n{kk}\nSiti Aminah\nSlahung\nSlahung\nHilang",
                f"#KTP#NIK: {n}#No. KK: {kk}#Nama: Siti Aminah#Desa Slahung#Kec. Slahung#Jenis: KTP hilang",
                f"#KTP {n}#{kk}#siti aminah#Slahung#Slahung#HILANG",
                f"#KTP{ktp}#Hilang karena kebanjiran",
            )
        ],
        (f"#KTP{ktp}#Hilang", "stranger", "main", "request", OUT.DUPLICATE, "nomor yang terdaftar"),
        (f"#KTP-EL{ktp}#Ubah Data", "registered", "main", "request", OUT.REQUEST_OPENED, "Dokumen pendukung"),
        *[
            (f"{head}{ktp}#{kind}", "registered", "main", "request", OUT.DUPLICATE, dup)
            for head, kind in (("#KTPEL", "ubahdata"), ("#ektp", "ubah-data"), ("#KTP", "Perubahan Data"))
        ],
        (f"#KTP{ktp}#hilng", "registered", "main", "request", OUT.FORMAT_REPLY, fmt),
        ("#KTP", "registered", "main", "request", OUT.FORMAT_REPLY, fmt),
        ("ktp", "registered", "main", "request", OUT.FORMAT_REPLY, fmt),
        (f"#KTP#{n}#{other_kk}#Siti Aminah#Slahung#Slahung#Rusak", "stranger", "main", "request", OUT.REFUSED, kk_mis),
        (f"#KTP#{n}#{kk}#Budi Santoso#Slahung#Slahung#Pemula", "stranger", "main", "request", OUT.REFUSED, kk_mis),
        (f"#KTP{ktp}#Rusak", "registered", "sync", "request", OUT.FORMAT_REPLY, w.main.number),
        # SINKRONISASI: the wrong number, then its own
        (f"#SINKRONISASI#{n}#{kk}#BPJS", "registered", "main", "sync", OUT.FORMAT_REPLY, w.sync.number),
        (f"#SINKRON#{n}#{kk}#Bank BRI", "registered", "main", "sync", OUT.FORMAT_REPLY, w.sync.number),
        (f"#SINKRONISASI#{n}#{kk}#BPJS", "registered", "sync", "sync", OUT.SYNC_OPENED, "SNK-"),
        (f"#sinkronisasi#{n}#{kk}#Daftar BPJS Kesehatan", "registered", "sync", "sync", OUT.DUPLICATE, "SNK-"),
        (f"SINKRONISASI\n{n}\n{kk}\nBPJS", "registered", "sync", "sync", OUT.DUPLICATE, "SNK-"),
        (f"#SINKRONISASI#{n}#{kk}#", "registered", "sync", "sync", OUT.FORMAT_REPLY, fmt),
        # questions and free text: the inbox (acknowledged once a day per thread)
        (f"DISDUKCAPIL#Siti#{n}#Kapan KTP saya bisa diambil?", "stranger", "sms", "question", OUT.INBOX, "petugas"),
        (f"disdukcapil#Siti#{n}#mau tanya #syarat pindah", "stranger", "sms", "question", OUT.INBOX, ""),
        (f"DISDUKCAPIL#Siti#{n}#", "stranger", "sms", "question", OUT.FORMAT_REPLY, fmt),
        *[
            (text, "registered", "main", "unknown", OUT.INBOX, "petugas" if i == 0 else "")
            for i, text in enumerate(
                ("halo", "Assalamualaikum", "syarat bikin ktp apa saja", "ktp saya hilang, harus bagaimana?", "🙏")
            )
        ],
        ("mau tanya jam buka", "stranger", "sync", "unknown", OUT.INBOX, ""),
    ]  # fmt: skip


def test_many_spellings_each_with_its_action_and_reply(world):
    """At least 80 messages in all with the table above: every variant's intent, outcome and reply."""
    ready(world)
    senders = {"registered": world.registered, "stranger": world.stranger}
    numbers = {"main": world.main, "sync": world.sync, "sms": world.sms}
    variants = _variants(world)
    wrong = []
    for text, who, number, intent, outcome, says in variants:
        message = send(world, text, sender=senders[who], number=numbers[number])
        reply = message.reply.text if message.reply else ""
        if (message.intent, message.outcome) != (intent, outcome) or (says and says not in reply):
            wrong.append((text, who, number, message.intent, message.outcome, reply[:160]))
        if not says and outcome == OUT.INBOX:
            assert message.reply is None, text
    assert wrong == []
    assert len(variants) + len(CASES) >= 80
    # What all of it made: one booking, three requests, one sync request.
    assert Booking.objects.count() == 1
    assert sorted(CardRequest.objects.values_list("kind", flat=True)) == ["hilang", "rusak", "ubah_data"]
    assert DataSyncRequest.objects.count() == 1


def test_a_stranger_with_a_name_and_nik_learns_nothing_of_the_request(world):
    """No request, a request not ready yet, a request already booked: a stranger who typed the right name and
    NIK gets the same sentence each time, and never the request's number or day."""
    text = booking_text(world, world.today + timedelta(days=2))
    replies = [send(world, text, sender=world.stranger).reply.text]
    CardRequestFactory(resident=world.resident, verifying=True, kind="rusak")
    replies.append(send(world, text, sender=world.stranger).reply.text)
    ready(world, kind="hilang")
    assert send(world, text).outcome == "booked"  # the resident books from their own number
    replies.append(send(world, text, sender=world.stranger).reply.text)
    assert len(set(replies)) == 1, replies
    assert "PKTP" not in replies[0] and "nomor yang terdaftar" in replies[0]
