"""The demo of `make run` (manage.py seed_demo): registry data (registry/demo.py), Ponorogo's counter
calendar, and a working day of card requests on all four routes, each route in several stages.

Every stage is reached through the services the pages use (card_move through its callers: booking, the
counter, printing, dispatch, Pos shipments), never by writing a status, so the timelines, the messages, the
blank ledger and the day's counters are the real ones. The seeding runs "now" on the real clock: it builds
today's counter and print room and appointments for the coming days. Nothing is dated in the past, so the demo
has no no-shows (an appointment becomes one only after its day ends) and no card collected days after it was
stored. When today is not a service day (a weekend or a holiday), the demo opens today's office-day, as an
administrator does for an extra service day, because printing, walk-in numbers and batches happen only on one.

At the end the blank ledger is checked (`blank_ledger_problems`): stock = receipts − spoilage − prints, and one
PRINT line per card printed or later. Seeding raises `DemoError` if it does not hold.

In the top app because it drives every layer below it (registry, cards, queueing) through their services.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, time

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count, Q, Sum

from cards import data_sync, dispatch, recording, services
from cards.models import CardKind, CardRequest, CentralStatus, Requirement, Route
from cards.workflow import card_request_route_set
from delivery import shipments
from delivery.services import suket_issue, suket_problem
from messaging.models import Contact
from queueing import appointments, counter, invitations, printing
from queueing.calendar import holidays_load, service_day_get, working_day_after
from queueing.models import BlankMovement, Booking, OpeningHours, PrintBatch, QuotaDefault, ServiceDay, WalkInTicket
from registry import clock
from registry.demo import (
    DEMO_KABUPATEN,
    UPTD_DEMO_KECAMATAN,
    DemoLogin,
    demo_accounts_create,
    demo_letterhead_fill,
    residents_generate,
)
from registry.models import Office, Resident, User
from registry.offices import offices_create_for_kabupaten
from registry.regions import regions_load

S = CardRequest.Status
# The blank shipments of the demo day: the morning's covers exactly what the day prints and spoils; the
# afternoon's is small, fewer blanks than pemula and approved urgent requests waiting, so rationing keeps
# them for those and a resident waiting for a damaged card gets a suket.
LATE_BLANKS = 3


class DemoError(Exception):
    """The demo data broke one of its own invariants (a bug in the demo or in a service)."""


def demo_service_calendar_create() -> None:
    """Ponorogo's counter: Monday to Friday, 300 cards a day (200 booked by WhatsApp, 100 walk-in; seed 000),
    with a share for invitations and UPTD submissions; holidays of this year and the next."""
    office = Office.objects.get(region_id=DEMO_KABUPATEN)
    for weekday in range(5):
        OpeningHours.objects.get_or_create(
            office=office, weekday=weekday, defaults={"opens_at": time(8), "closes_at": time(15)}
        )
        QuotaDefault.objects.get_or_create(
            office=office,
            weekday=weekday,
            defaults={"print_capacity": 300, "whatsapp": 200, "walk_in": 100, "invitation": 50, "uptd": 30},
        )
    year = clock.today(office).year
    holidays_load(years=[year, year + 1])


def demo_seed(*, residents: int, seed: int = 2026, progress=None) -> tuple[list[DemoLogin], int]:
    regions_load()
    offices_create_for_kabupaten(kabupaten_code=DEMO_KABUPATEN)
    demo_letterhead_fill(kabupaten_code=DEMO_KABUPATEN)
    logins = demo_accounts_create()
    demo_service_calendar_create()
    created = residents_generate(count=residents, seed=seed, progress=progress) if residents else 0
    demo_card_requests_create(seed=seed)
    return logins, created


# A blank one-page PDF that parses (attachments are checked with pypdf): what pypdf's PdfWriter writes.
DEMO_PDF = (
    b"%PDF-1.3\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<\n/Producer (pypdf)\n>>\nendobj\n2 0 obj\n<<\n"
    b"/Type /Pages\n/Count 1\n/Kids [ 4 0 R ]\n>>\nendobj\n3 0 obj\n<<\n/Type /Catalog\n/Pages 2 0 R\n"
    b">>\nendobj\n4 0 obj\n<<\n/Type /Page\n/Resources <<\n>>\n/MediaBox [ 0.0 0.0 595 842 ]\n"
    b"/Parent 2 0 R\n>>\nendobj\nxref\n0 5\n0000000000 65535 f \n0000000015 00000 n \n"
    b"0000000054 00000 n \n0000000113 00000 n \n0000000162 00000 n \ntrailer\n<<\n/Size 5\n"
    b"/Root 3 0 R\n/Info 1 0 R\n>>\nstartxref\n256\n%%EOF\n"
)


# --- the ledger check -------------------------------------------------------------------------------------

PRINTED_OR_LATER = (S.PRINTED, S.READY_FOR_PICKUP, S.SHIPPED, S.SENT_TO_UPTD, S.HANDED_OVER)


def blank_ledger_problems(office: Office) -> list[str]:
    """What is wrong with the office's blank ledger (empty: nothing): the stock must equal receipts − spoilage
    − prints, and every card printed or later must have exactly one PRINT line naming it (a misprint adds a
    SPOILAGE line, never a second PRINT line)."""
    office = office.head_office
    kinds = dict(BlankMovement.objects.filter(office=office).values_list("kind").annotate(n=Sum("quantity")).order_by())
    receipts = kinds.get(BlankMovement.Kind.RECEIPT, 0)
    spoiled = -kinds.get(BlankMovement.Kind.SPOILAGE, 0)
    prints = -kinds.get(BlankMovement.Kind.PRINT, 0)
    problems = []
    stock = printing.blank_stock_of(office)
    if stock != receipts - spoiled - prints:
        problems.append(f"stock {stock} != receipts {receipts} - spoilage {spoiled} - prints {prints}")
    printed = CardRequest.objects.filter(office=office, status__in=PRINTED_OR_LATER)
    print_lines = BlankMovement.objects.filter(office=office, kind=BlankMovement.Kind.PRINT)
    if print_lines.count() != printed.count():
        problems.append(f"{print_lines.count()} PRINT lines for {printed.count()} cards printed or later")
    odd = printed.annotate(
        lines=Count("blank_movements", filter=Q(blank_movements__kind=BlankMovement.Kind.PRINT))
    ).exclude(lines=1)
    problems += [f"{cr.number} has {cr.lines} PRINT lines" for cr in odd]
    return problems


# --- the demo day -----------------------------------------------------------------------------------------


class _Pools:
    """The residents the demo day draws on, each used once: recorded adults outside the two UPTD kecamatan,
    unrecorded adults (pemula), sixteen-year-olds, and adults of each UPTD kecamatan."""

    def __init__(self, residents: list[Resident], today: date, rng: random.Random) -> None:
        outside = [r for r in residents if r.kecamatan_id not in UPTD_DEMO_KECAMATAN]
        adults = [r for r in outside if r.age_on(today) >= 17]
        recorded = [r for r in adults if r.biometric_recorded]
        unrecorded = [r for r in adults if not r.biometric_recorded]
        sixteen = [r for r in outside if r.age_on(today) == 16 and not r.biometric_recorded and not r.ever_married]
        uptd = {
            code: [r for r in residents if r.kecamatan_id == code and r.age_on(today) >= 17]
            for code in UPTD_DEMO_KECAMATAN
        }
        for pool in (recorded, unrecorded, sixteen, *uptd.values()):
            rng.shuffle(pool)
        self.sizes = (len(recorded), len(unrecorded), len(sixteen), *(len(p) for p in uptd.values()))
        self.recorded: Iterator[Resident] = iter(recorded)
        self.unrecorded: Iterator[Resident] = iter(unrecorded)
        self.sixteen: Iterator[Resident] = iter(sixteen)
        self.uptd: dict[str, Iterator[Resident]] = {code: iter(pool) for code, pool in uptd.items()}

    # recorded adults, unrecorded adults, sixteen-year-olds, adults per UPTD kecamatan
    NEEDED = (60, 6, 1, 8, 8)

    @property
    def enough(self) -> bool:
        return all(have >= need for have, need in zip(self.sizes, self.NEEDED, strict=True))


class _DemoDay:
    """The clerks' and residents' acts of the demo day, each one service call."""

    def __init__(self, *, office: Office, rng: random.Random) -> None:
        self.office = office
        self.rng = rng
        self.today = clock.today(office)
        self.clerk = User.objects.get(username="petugas")
        self.supervisor = User.objects.get(username="kabid")
        self.uptd_users = {
            UPTD_DEMO_KECAMATAN[0]: User.objects.get(username="uptd.slahung"),
            UPTD_DEMO_KECAMATAN[1]: User.objects.get(username="uptd.ponorogo"),
        }
        self.created = 0

    # requests and their clerk moves

    def with_whatsapp(self, resident: Resident) -> Resident:
        if not resident.whatsapp:
            resident.whatsapp = f"62812{self.rng.randrange(10**7, 10**8)}"
            resident.save(update_fields=["whatsapp"])
        return resident

    def create(self, resident: Resident, kind: str = "rusak", *, by: User | None = None, channel: str = "whatsapp",
               **kwargs) -> CardRequest:  # fmt: skip
        """A new request: by=None is the resident writing by WhatsApp; a UPTD operator submits for them."""
        if by is None:
            self.with_whatsapp(resident)
        card_request = services.card_request_create(resident=resident, kind=kind, by=by, channel=channel, **kwargs)
        self.created += 1
        return card_request

    def status_of(self, card_request: CardRequest) -> str:
        return CardRequest.objects.values_list("status", flat=True).get(pk=card_request.pk)

    def move(self, card_request: CardRequest, *targets: str, by: User | None = None, **kwargs) -> None:
        for target in targets:
            services.card_request_transition(
                card_request_id=card_request.pk,
                to_status=target,
                by=by or self.clerk,
                expected_status=self.status_of(card_request),
                **kwargs,
            )

    def documents(self, card_request: CardRequest, *, by: User | None = None) -> None:
        """Upload the documents its kind asks for (a police loss report, proof of the data change)."""
        for requirement in Requirement.objects.filter(kind=card_request.kind, stage="document", is_active=True):
            services.attachment_add(
                card_request=card_request,
                upload=SimpleUploadedFile(f"{requirement.code}.pdf", DEMO_PDF, content_type="application/pdf"),
                by=by or self.clerk,
                requirement=requirement,
            )

    def ready(self, card_request: CardRequest, *, documents_by: User | None = None) -> CardRequest:
        """Documents in, verified, ready to print (the resident gets their route's message)."""
        self.documents(card_request, by=documents_by)
        self.move(card_request, S.VERIFYING, S.READY_TO_PRINT)
        return card_request

    def hand_over(self, card_request: CardRequest, *, by: User | None = None) -> None:
        """In person: the old card collected where the kind asks for it, fingerprint checked, card activated."""
        by = by or self.clerk
        for requirement in Requirement.objects.filter(kind=card_request.kind, stage="handover", is_active=True):
            services.requirement_tick(card_request_id=card_request.pk, requirement_id=requirement.pk, by=by)
        self.move(card_request, S.HANDED_OVER, by=by, handover_confirmed=True)

    # the counter

    def walk_in(self, resident: Resident, kind: str = "rusak") -> tuple[CardRequest, WalkInTicket]:
        """A walk-in number issued, called at Loket 1, and tied to the resident's new request made there."""
        ticket = counter.ticket_issue(office=self.office, by=self.clerk)
        called = counter.call_next(office=self.office, counter="Loket 1", by=self.clerk)
        if not isinstance(called, WalkInTicket) or called.pk != ticket.pk:
            raise DemoError(f"call_next did not call walk-in number {ticket.label}")
        card_request = self.create(resident, kind, by=self.clerk, channel="walk_in")
        return card_request, ticket

    def serve(self, card_request: CardRequest, ticket: WalkInTicket) -> None:
        booking = counter.walk_in_serve(
            ticket_id=ticket.pk, card_request_id=card_request.pk, office=self.office, by=self.clerk
        )
        if booking is None:
            raise DemoError(f"{card_request.number} was not served from its walk-in number")


def demo_card_requests_create(*, seed: int = 2026) -> int:
    """A working day of card requests on all four routes, each in several stages, made through the services
    the pages use. Does nothing when requests already exist or there are too few residents; raises DemoError
    (and writes nothing) when the blank ledger does not match the printed cards at the end."""
    if CardRequest.objects.exists():
        return 0
    office = Office.objects.get(region_id=DEMO_KABUPATEN)
    rng = random.Random(seed)
    day = _DemoDay(office=office, rng=rng)
    residents = list(Resident.objects.filter(kecamatan__code__startswith=f"{DEMO_KABUPATEN}.").order_by("id")[:4000])
    pools = _Pools(residents, day.today, rng)
    if not pools.enough:
        return 0
    # One transaction: a demo that breaks an invariant leaves nothing behind, and the next run starts over.
    with transaction.atomic():
        _today_open(office, day.today)
        clerk = day.clerk

        # The morning's blanks: exactly what the day prints (5 at the counter and one reprint, 19 in the batch)
        # and the one found faulty.
        printing.blanks_receive(
            office=office, quantity=5 + 1 + 19 + 1, reference="SKB Ditjen Dukcapil 471.13/001",
            received_on=day.today, by=day.supervisor,
        )  # fmt: skip
        printing.blanks_spoil(
            office=office, quantity=1, reason="Blangko cacat dari pusat: chip tidak terbaca", by=clerk
        )

        _route_1_before_the_counter(day, pools)
        _route_1_at_the_counter(day, pools)
        batch = _batch_of_the_day(day, pools)
        _route_2_after_printing(day, batch)
        _route_3_after_printing(day, pools, batch)
        _route_4_after_printing(day, batch)
        _waiting_and_pemula(day, pools)
        _rationing_and_suket(day, pools)

        _data_sync_requests(day, [r for r in residents[-60:] if r.family_id])
        if problems := blank_ledger_problems(office):
            raise DemoError("The demo's blank ledger does not match its printed cards: " + "; ".join(problems))
    return day.created


def _data_sync_requests(day: _DemoDay, residents: list[Resident]) -> None:
    """SINKRONISASI in each state, through the services: two waiting (one whose KK does not match), one
    waiting for documents, one synchronised (brought to the counter), one refused. Five families, so that a
    neighbour's KK does not match."""
    office, clerk = day.office, day.clerk

    def sender() -> Contact:
        return Contact.objects.create(
            phone=f"62813{day.rng.randrange(10**7, 10**8)}", whatsapp=Contact.WhatsApp.YES, last_whatsapp_at=clock.now()
        )

    def sent(resident: Resident, purpose: str, *, kk_number: str = "", channel: str = "whatsapp"):
        return data_sync.data_sync_open(
            office=office, nik=resident.nik, kk_number=kk_number or resident.family.kk_number, purpose=purpose,
            channel=channel, contact=sender(),
        )  # fmt: skip

    one_per_family = list({r.family_id: r for r in residents}.values())
    first, second, third, fourth, fifth = one_per_family[:5]
    sent(first, "BPJS Kesehatan")
    sent(second, "Bank BRI, buka rekening", kk_number=third.family.kk_number)  # someone else's KK
    waiting = sent(third, "Kartu Prakerja")
    data_sync.data_sync_request_documents(sync_id=waiting.pk, by=clerk, note="Foto KK terbaru dan foto KTP-el")
    done = data_sync.data_sync_open(
        office=office, nik=fourth.nik, kk_number=fourth.family.kk_number, purpose="Bansos PKH", channel="walk_in",
        by=clerk,
    )  # fmt: skip
    data_sync.data_sync_mark_synchronised(sync_id=done.pk, by=clerk, note="Dikirim ulang lewat SIAK")
    refused = sent(fifth, "BPJS Ketenagakerjaan", kk_number=first.family.kk_number, channel="sms")
    data_sync.data_sync_refuse(
        sync_id=refused.pk, by=clerk, reason="NIK dan KK tidak sesuai; datang ke kantor membawa KK asli"
    )


def _today_open(office: Office, today: date) -> None:
    """Printing, walk-in numbers and batches happen only on a service day: on a weekend or a holiday the demo
    opens today's office-day with a working day's quotas, as an administrator does for an extra service day
    (the office-day admin)."""
    service_day = service_day_get(office=office, day=today)
    quota = QuotaDefault.objects.filter(office=office).order_by("weekday").first()
    if not service_day.is_open and quota is not None:
        ServiceDay.objects.filter(pk=service_day.pk).update(
            is_open=True,
            print_capacity=quota.print_capacity,
            cap_whatsapp=quota.whatsapp,
            cap_walk_in=quota.walk_in,
            cap_invitation=quota.invitation,
            cap_uptd=quota.uptd,
        )


def _route_1_before_the_counter(day: _DemoDay, pools: _Pools) -> None:
    """Route 1 (at the counter), asked by WhatsApp: new, being verified, incomplete, booked for the coming
    days, and invited by letter for the first day the lead time allows."""
    for kind in ("rusak", "rusak", "hilang", "ubah_data"):  # new this morning
        day.create(next(pools.recorded), kind)
    for _ in range(3):  # being verified
        day.move(day.create(next(pools.recorded), "rusak"), S.VERIFYING)
    for _ in range(2):  # the police loss report is missing
        card_request = day.create(next(pools.recorded), "hilang")
        day.move(card_request, S.VERIFYING)
        day.move(card_request, S.INCOMPLETE, missing_items=["Surat keterangan kehilangan dari kepolisian"])

    # Booked by WhatsApp (`#nama#nik#tanggal`) for the next three working days.
    first, second, third = (working_day_after(office=day.office, after=day.today, count=n) for n in (1, 2, 3))
    for wish in (first, first, second, second, third):
        card_request = day.ready(day.create(next(pools.recorded), "rusak"))
        appointments.booking_book(card_request_id=card_request.pk, channel="whatsapp", by=None, wish=wish)

    # Invited: every route-1 request ready to print now is invited, oldest first, for the first day the
    # invitation lead time allows; the clerk prints the letters per desa from the invitations page.
    invited = [day.ready(day.create(next(pools.recorded), kind)) for kind in ("rusak", "rusak", "hilang", "rusak")]
    invitation_day = invitations.invitation_first_day(office=day.office, today=day.today)
    sent = invitations.invitations_send(office=day.office, day=invitation_day, by=day.clerk)
    if sorted(b.card_request_id for b in sent) != sorted(cr.pk for cr in invited):
        raise DemoError("the invitations did not go to the requests waiting for them")


def _route_1_at_the_counter(day: _DemoDay, pools: _Pools) -> None:
    """Today's counter: walk-in numbers tied to requests made there, printed while the resident waits and
    handed over (one misprint reprinted on a new blank); one printed waiting for its owner; one checked in
    waiting to print; one tied to a request still being verified; one called; two waiting; and a resident
    booked for another day served today from the walk-in places."""
    for index, kind in enumerate(("rusak", "hilang", "rusak", "rusak", "ubah_data")):
        card_request, ticket = day.walk_in(next(pools.recorded), kind)
        day.ready(card_request)
        day.serve(card_request, ticket)
        printing.counter_print(card_request_id=card_request.pk, by=day.clerk)
        if index == 0:
            printing.print_misprint(
                card_request_id=card_request.pk, reason="Foto bergaris, pita printer habis", by=day.clerk
            )
        if index < 4:  # the fifth is printed and its owner stepped out: handed over when they return
            day.hand_over(card_request)

    card_request, ticket = day.walk_in(next(pools.recorded))  # checked in, waiting to print
    day.ready(card_request)
    day.serve(card_request, ticket)

    card_request, ticket = day.walk_in(next(pools.recorded), "hilang")  # tied; the report is being checked
    if counter.walk_in_serve(ticket_id=ticket.pk, card_request_id=card_request.pk, office=day.office, by=day.clerk):
        raise DemoError("a request not verified yet was served")
    day.move(card_request, S.VERIFYING)

    counter.ticket_issue(office=day.office, by=day.clerk)  # called to Loket 2, not at the desk yet
    counter.call_next(office=day.office, counter="Loket 2", by=day.clerk)
    for _ in range(2):  # waiting to be called
        counter.ticket_issue(office=day.office, by=day.clerk)

    # A resident booked for another day came today: served from today's walk-in places, the other
    # appointment given back; checked in, waiting in the call queue.
    booking = (
        Booking.objects.filter(office=day.office, channel="whatsapp", status="booked").order_by("-date", "id").first()
    )
    counter.walk_in_for_booking(booking_id=booking.pk, office=day.office, by=day.clerk)


def _batch_of_the_day(day: _DemoDay, pools: _Pools) -> PrintBatch:
    """Routes 2-4 ready to print (6 collected later, 4 for each UPTD, 5 by post), printed in today's batch."""
    for _ in range(6):  # route 2: recorded on a jemput bola visit, collected later
        day.ready(day.create(next(pools.recorded), "rusak", by=day.clerk, channel="outreach"))
    for code, users in day.uptd_users.items():  # route 3: elderly residents, submitted by their UPTD
        for kind in ("rusak", "hilang", "rusak", "hilang"):
            card_request = day.create(next(pools.uptd[code]), kind, by=users, note="lansia, tidak bisa WhatsApp")
            day.ready(card_request, documents_by=users)
    for kind in ("hilang", "rusak", "hilang", "ubah_data", "rusak"):  # route 4: asked by WhatsApp, sent by post
        card_request = day.create(next(pools.recorded), kind)
        card_request_route_set(
            card_request_id=card_request.pk, route=Route.POST, by=day.clerk, expected_route=Route.COUNTER
        )
        day.ready(card_request)
    batch = printing.print_batch_create(office=day.office, day=day.today, by=day.clerk)
    if batch.card_requests.count() != 19:
        raise DemoError(f"today's batch holds {batch.card_requests.count()} cards, not 19")
    return printing.print_batch_print(batch_id=batch.pk, by=day.clerk)


def _route_2_after_printing(day: _DemoDay, batch: PrintBatch) -> None:
    """The batch's route-2 cards stored for collection from today; two collected in person already."""
    outcome = printing.print_batch_store(batch_id=batch.pk, by=day.clerk, from_day=day.today)
    if outcome.refused or len(outcome.stored) != 6:
        raise DemoError(f"storing the batch's route-2 cards: {outcome.refused}")
    for card_request in outcome.stored[:2]:
        day.hand_over(card_request)


def _route_3_after_printing(day: _DemoDay, pools: _Pools, batch: PrintBatch) -> None:
    """Per UPTD: one card printed and still at the office, three dispatched; two of them confirmed at the
    UPTD, one of those handed over there. Then new submissions: one received, one being verified."""
    for code, operator in day.uptd_users.items():
        cards = list(batch.card_requests.filter(route=Route.UPTD, pickup_office=operator.office).order_by("id"))
        sent, refused = dispatch.dispatch_create(
            uptd=operator.office, card_request_ids=[cr.pk for cr in cards[1:]], by=day.clerk, note="Kurir kantor"
        )
        if refused or sent is None:
            raise DemoError(f"dispatch to {operator.office}: {refused}")
        items = list(sent.items.select_related("card_request").order_by("id"))
        for item in items[:2]:
            dispatch.dispatch_item_receive(item_id=item.pk, by=operator)
        day.hand_over(items[0].card_request, by=operator)
        day.create(next(pools.uptd[code]), "rusak", by=operator, note="lansia, diantar keluarga")
        day.move(day.create(next(pools.uptd[code]), "rusak", by=operator, note="lansia"), S.VERIFYING)


def _route_4_after_printing(day: _DemoDay, batch: PrintBatch) -> None:
    """By post: one card printed and not shipped yet, two on their way, one delivered (the courier took the
    old card), one the courier could not deliver: back at the office, to be collected (route 2)."""
    cards = list(batch.card_requests.filter(route=Route.POST).order_by("id"))
    shipped = [
        shipments.shipment_create(
            card_request_id=card_request.pk, tracking_number=f"P{day.today:%y%m%d}{index:07d}", by=day.clerk
        )
        for index, card_request in enumerate(cards[1:], start=1)
    ]
    shipments.shipment_delivered(shipment_id=shipped[0].pk, by=day.clerk, old_card_collected=True)
    shipments.shipment_failed(
        shipment_id=shipped[1].pk, outcome="failed", reason="Alamat tidak ditemukan, rumah kosong", by=day.clerk
    )


def _waiting_and_pemula(day: _DemoDay, pools: _Pools) -> None:
    """Requests that came in after the batch and the invitations: ready and waiting on routes 1, 2 and 4,
    urgent cases, first cards (pemula) at each step of recording, PRR and the 17th birthday."""
    for _ in range(3):  # route 1, ready: waiting for a day (booking, invitation or walk-in)
        day.ready(day.create(next(pools.recorded), "rusak"))
    for _ in range(2):  # route 2, ready: in the next batch
        day.ready(day.create(next(pools.recorded), "rusak", by=day.clerk, channel="outreach"))
    day.move(day.create(next(pools.recorded), "hilang", by=day.clerk, channel="outreach"), S.VERIFYING)
    card_request = day.create(next(pools.recorded), "rusak")  # route 4, ready: in the next batch
    card_request_route_set(
        card_request_id=card_request.pk, route=Route.POST, by=day.clerk, expected_route=Route.COUNTER
    )
    day.ready(card_request)

    # Urgent: umrah next month (approved by the head of section, ready), work at sea (asked, not decided).
    for reason, note, approve in (("travel", "Umrah bulan depan", True), ("seafarer", "ABK kapal", False)):
        card_request = day.create(next(pools.recorded), "rusak", urgent_reason=reason, urgent_note=note)
        services.attachment_add(
            card_request=card_request,
            upload=SimpleUploadedFile("bukti-keperluan.pdf", DEMO_PDF, content_type="application/pdf"),
            by=day.clerk,
            purpose="urgent_proof",
        )
        if approve:
            services.card_request_urgent_decide(card_request_id=card_request.pk, approve=True, by=day.supervisor)
            day.ready(card_request)

    # Pemula: two found on a jemput bola visit, still to be recorded (route 2).
    for _ in range(2):
        day.create(next(pools.unrecorded), "pemula", by=day.clerk, channel="outreach")
    # Recorded at the office today: one waits for the centre's answer (PRR), one is PRR and ready.
    for answer in (None, CentralStatus.PRR):
        resident = next(pools.unrecorded)
        card_request = day.create(resident, "pemula", by=day.clerk, channel="walk_in")
        recorded = recording.biometric_record(resident_id=resident.pk, by=day.clerk, card_request_id=card_request.pk)
        day.move(card_request, S.VERIFYING)
        if answer:
            recording.central_answer_record(recording_id=recorded.pk, answer=answer, by=day.clerk)
            day.move(card_request, S.READY_TO_PRINT)
    # Sixteen: recorded (from 16), PRR, ready; the card is printed from the 17th birthday (they are told when).
    resident = next(pools.sixteen)
    card_request = day.create(resident, "pemula", by=day.clerk, channel="walk_in")
    recorded = recording.biometric_record(resident_id=resident.pk, by=day.clerk, card_request_id=card_request.pk)
    recording.central_answer_record(recording_id=recorded.pk, answer=CentralStatus.PRR, by=day.clerk)
    day.move(card_request, S.VERIFYING, S.READY_TO_PRINT)


def _rationing_and_suket(day: _DemoDay, pools: _Pools) -> None:
    """The afternoon's small blank shipment is kept for pemula and approved urgent requests (rationing, the
    Dirjen Dukcapil circular): two residents waiting for a damaged card get a suket meanwhile."""
    printing.blanks_receive(
        office=day.office, quantity=LATE_BLANKS, reference="SKB Ditjen Dukcapil 471.13/002 (susulan)",
        received_on=day.today, by=day.supervisor,
    )  # fmt: skip
    waiting = CardRequest.objects.filter(
        office=day.office, kind=CardKind.RUSAK, status=S.READY_TO_PRINT, is_urgent=False
    ).order_by("route", "id")
    chosen = [waiting.filter(route=Route.COUNTER).first(), waiting.filter(route=Route.COLLECT).first()]
    for card_request in chosen:
        if problem := suket_problem(card_request):
            raise DemoError(f"no suket for {card_request.number}: {problem}")
        suket_issue(card_request_id=card_request.pk, by=day.clerk)
