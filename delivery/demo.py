"""The demo of `make run` (manage.py seed_demo): registry data (registry/demo.py), Ponorogo's counter
calendar and a morning's card requests in every stage, made through the services the pages use.

In the top app because it drives every layer below it (registry, cards, queueing) through their services.
"""

from __future__ import annotations

import random
from datetime import time, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile

from cards import number_links, services
from cards.models import CardRequest, Requirement
from queueing import printing
from queueing.calendar import holidays_load, service_day_get
from queueing.models import OpeningHours, QuotaDefault
from registry import clock
from registry.demo import (
    DEMO_KABUPATEN,
    UPTD_DEMO_KECAMATAN,
    DemoLogin,
    demo_accounts_create,
    residents_generate,
)
from registry.models import Office, Resident, User
from registry.offices import offices_create_for_kabupaten
from registry.regions import regions_load


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
    logins = demo_accounts_create()
    demo_service_calendar_create()
    created = residents_generate(count=residents, seed=seed, progress=progress) if residents else 0
    demo_card_requests_create(seed=seed)
    return logins, created


DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def demo_card_requests_create(*, seed: int = 2026) -> int:
    """A morning's worth of card requests in every stage, made through the same services the pages use
    (so the timelines and messages are real). Does nothing when requests already exist."""
    if CardRequest.objects.exists():
        return 0
    rng = random.Random(seed)
    clerk = User.objects.get(username="petugas")
    supervisor = User.objects.get(username="kabid")
    uptd = User.objects.get(username="uptd.slahung")
    adults = list(
        Resident.objects.filter(birth_date__lte=clock.today(clerk.office) - timedelta(days=17 * 366)).order_by("id")[
            :400
        ]
    )
    slahung = [r for r in adults if r.kecamatan_id == UPTD_DEMO_KECAMATAN[0]]
    others = [r for r in adults if r.kecamatan_id != UPTD_DEMO_KECAMATAN[0]]
    if len(others) < 40 or len(slahung) < 6:
        return 0
    rng.shuffle(others)
    police = Requirement.objects.get(kind="hilang", code="surat-kehilangan")
    S = CardRequest.Status

    def pdf(name: str) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, DEMO_PDF, content_type="application/pdf")

    def move(card_request: CardRequest, *targets: str, **kwargs) -> None:
        for target in targets:
            current = CardRequest.objects.get(pk=card_request.pk).status
            services.card_request_transition(
                card_request_id=card_request.pk, to_status=target, by=clerk, expected_status=current, **kwargs
            )

    created = 0
    pool = iter(others)
    for _ in range(14):  # new this morning, from WhatsApp and the counter
        resident = next(pool)
        resident.whatsapp = resident.whatsapp or f"62812{rng.randrange(10**7, 10**8)}"
        resident.save(update_fields=["whatsapp"])
        services.card_request_create(
            resident=resident,
            kind=rng.choice(["rusak", "rusak", "pemula"]),
            by=clerk,
            channel=rng.choice(["whatsapp", "walk_in"]),
        )
        created += 1
    for _ in range(6):  # being verified
        card_request = services.card_request_create(resident=next(pool), kind="rusak", by=clerk, channel="whatsapp")
        move(card_request, S.VERIFYING)
        created += 1
    for _ in range(4):  # waiting for the resident's documents
        card_request = services.card_request_create(resident=next(pool), kind="hilang", by=clerk, channel="whatsapp")
        move(card_request, S.VERIFYING)
        move(card_request, S.INCOMPLETE, missing_items=["Surat keterangan kehilangan dari kepolisian"])
        created += 1
    for _ in range(6):  # verified, waiting for a print day
        resident = next(pool)
        Resident.objects.filter(pk=resident.pk).update(biometric_recorded=True)
        card_request = services.card_request_create(resident=resident, kind="rusak", by=clerk, channel="walk_in")
        move(card_request, S.VERIFYING, S.READY_TO_PRINT)
        created += 1
    for _ in range(3):  # first cards whose residents still have to be recorded
        resident = next(pool)
        Resident.objects.filter(pk=resident.pk).update(biometric_recorded=False)
        services.card_request_create(resident=resident, kind="pemula", by=clerk, channel="outreach")
        created += 1
    for reason, note, name in (
        ("travel", "Umrah bulan depan", "tiket-umrah.pdf"),
        ("seafarer", "ABK kapal", "kontrak.pdf"),
    ):
        card_request = services.card_request_create(
            resident=next(pool), kind="rusak", by=clerk, channel="whatsapp", urgent_reason=reason, urgent_note=note
        )
        services.attachment_add(card_request=card_request, upload=pdf(name), by=clerk, purpose="urgent_proof")
        created += 1
    services.card_request_urgent_decide(card_request_id=card_request.pk, approve=True, by=supervisor)

    # UPTD Slahung submits for elderly residents (route 3); three are verified and, when the office is open
    # today, printed in a batch (the blanks come from a receipt, so the ledger matches) to travel to the UPTD.
    for index, resident in enumerate(slahung[:6]):
        Resident.objects.filter(pk=resident.pk).update(biometric_recorded=True)
        kind = "hilang" if index % 2 == 0 else "rusak"
        card_request = services.card_request_create(
            resident=resident, kind=kind, by=uptd, note="lansia, tidak bisa WhatsApp"
        )
        if kind == "hilang":
            services.attachment_add(
                card_request=card_request, upload=pdf("surat-kehilangan-polsek.pdf"), by=uptd, requirement=police
            )
        if index < 3:
            move(card_request, S.VERIFYING, S.READY_TO_PRINT)
        created += 1
    office = clerk.office
    today = clock.today(office)
    printing.blanks_receive(office=office, quantity=40, reference="Kiriman demo", received_on=today, by=supervisor)
    if service_day_get(office=office, day=today).is_open:
        batch = printing.print_batch_create(office=office, day=today, by=clerk)
        printing.print_batch_print(batch_id=batch.pk, by=clerk)

    # Two SINKRONISASI messages waiting for a clerk.
    for resident in [r for r in others[-10:] if r.family_id][:2]:
        number_links.number_link_create(
            office=clerk.office,
            phone=f"0813{rng.randrange(10**7, 10**8)}",
            nik=resident.nik,
            kk_number=resident.family.kk_number,
            purpose="Agar kabar KTP-el dikirim ke nomor ini",
            channel="whatsapp",
            by=None,
        )
    return created
