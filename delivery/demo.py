"""Synthetic demo data for Kabupaten Ponorogo: offices, one account per role, residents in families, the
counter's calendar and card requests in every stage. It lives in the top app because it drives every layer
below it (registry, cards, queueing) through their own services.

Every NIK passes the validator and agrees with the resident's birth date, sex and kecamatan; every KK
number starts with its kecamatan. The data is random but repeatable (`seed`).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time, timedelta
from itertools import islice

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from cards import services
from cards.models import CardRequest, Requirement
from queueing.appointments import booking_book
from queueing.calendar import holidays_load
from queueing.models import OpeningHours, QuotaDefault
from registry import clock
from registry.models import Family, FamilyRelation, Office, Region, Religion, Resident, Role, Sex, User
from registry.nik import make_kk, make_nik
from registry.offices import offices_create_for_kabupaten
from registry.regions import regions_load
from registry.roles import role_groups_sync, staff_assign_role

DEMO_KABUPATEN = "35.02"  # Kabupaten Ponorogo
UPTD_DEMO_KECAMATAN = ("35.02.01", "35.02.17")  # Slahung, Ponorogo

MALE_NAMES = """
Agus Budi Wahyu Joko Slamet Bambang Heru Eko Dwi Teguh Sugeng Imam Rudi Hadi Yusuf Fajar Rizki Arif Bayu
Dimas Adi Hendra Suyanto Sutrisno Purnomo Priyo Gilang Aditya Ilham Rendra Danang Wawan Yanto
""".split()
FEMALE_NAMES = """
Siti Sri Dewi Wahyuni Suminah Sulastri Endang Ratna Yuni Rina Lestari Tri Nur Ayu Indah Wulan Fitri Rahayu
Puji Sumarni Kartini Mulyani Dian Anik Novi Putri Nadia Salsabila Aisyah Nabila Anisa Eka
""".split()
SURNAMES = """
Santoso Wibowo Susanto Prasetyo Hidayat Saputra Setiawan Nugroho Kurniawan Purwanto Suharto Hartono Wijaya
Utomo Rahmawati Handayani Lestari Maharani Kusuma Pratama Ramadhan Firmansyah Hakim Sholeh
""".split()
STREETS = ("Jl. Sultan Agung", "Jl. Diponegoro", "Jl. Gajah Mada", "Jl. Soekarno-Hatta", "Jl. Pramuka")
HAMLETS = ("Krajan", "Ngrandu", "Bangunrejo", "Sidomulyo", "Sumberagung", "Tegalrejo", "Karanganyar")
BIRTH_PLACES = ("Ponorogo", "Ponorogo", "Ponorogo", "Madiun", "Pacitan", "Magetan", "Trenggalek", "Surabaya")
RELIGION_WEIGHTS = ((Religion.ISLAM, 96), (Religion.KRISTEN, 2), (Religion.KATOLIK, 1), (Religion.HINDU, 1))

DEMO_ACCOUNTS = (
    ("petugas", "Petugas", "Loket", Role.CLERK, DEMO_KABUPATEN),
    ("kabid", "Kepala", "Bidang PIAK", Role.SUPERVISOR, DEMO_KABUPATEN),
    ("admin", "Administrator", "Dukcapil", Role.ADMINISTRATOR, DEMO_KABUPATEN),
    ("uptd.slahung", "Operator", "UPTD Slahung", Role.UPTD_OPERATOR, UPTD_DEMO_KECAMATAN[0]),
    ("uptd.ponorogo", "Operator", "UPTD Ponorogo", Role.UPTD_OPERATOR, UPTD_DEMO_KECAMATAN[1]),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    office: str


def demo_accounts_create(*, password: str | None = None) -> list[DemoLogin]:
    """One account per role (UPTD operators for two kecamatan); existing accounts get the demo password."""
    password = password or settings.DEMO_PASSWORD
    role_groups_sync()
    logins = []
    for username, first, last, role, region_code in DEMO_ACCOUNTS:
        office = Office.objects.get(region_id=region_code)
        user, _ = User.objects.get_or_create(username=username, defaults={"first_name": first, "last_name": last})
        user.set_password(password)
        user.save(update_fields=["password"])
        staff_assign_role(user=user, role=role, office=office)
        logins.append(DemoLogin(username=username, role=str(Role(role).label), office=office.name))
    return logins


class _NikSerials:
    """Hands out the next free serial per NIK/KK prefix so every generated number is unique."""

    def __init__(self, existing: Iterator[str]) -> None:
        self.next: dict[str, int] = defaultdict(lambda: 1)
        for number in existing:
            prefix, serial = number[:12], int(number[12:])
            self.next[prefix] = max(self.next[prefix], serial + 1)

    def take(self, prefix: str) -> int:
        serial = self.next[prefix]
        self.next[prefix] = serial + 1
        return serial


def _pick_religion(rng: random.Random) -> str:
    return rng.choices([r for r, _ in RELIGION_WEIGHTS], weights=[w for _, w in RELIGION_WEIGHTS])[0]


def _birth_date(rng: random.Random, today: date, min_age: int, max_age: int) -> date:
    start = today - timedelta(days=365 * max_age + max_age // 4)
    end = today - timedelta(days=365 * min_age + min_age // 4)
    return start + timedelta(days=rng.randrange(max((end - start).days, 1)))


def households_generate(
    *, count: int, rng: random.Random, kabupaten: str = DEMO_KABUPATEN, nik_serials=None, kk_serials=None
) -> Iterator[tuple[Family, list[Resident]]]:
    """Synthetic, valid households of a kabupaten (unsaved Family + its Residents), `count` people in all.

    NIK and KK serials continue after the numbers already in the database unless serial counters are given.
    """
    today = clock.today()
    kecamatan_list = list(Region.objects.filter(parent_id=kabupaten).order_by("code"))
    desa_by_kecamatan = {
        k.code: list(Region.objects.filter(parent=k).values_list("code", flat=True)) for k in kecamatan_list
    }
    if nik_serials is None:
        nik_serials = _NikSerials(Resident.objects.values_list("nik", flat=True).iterator())
    if kk_serials is None:
        kk_serials = _NikSerials(Family.objects.values_list("kk_number", flat=True).iterator())
    produced = 0
    while produced < count:
        kecamatan = rng.choice(kecamatan_list).code
        desa = rng.choice(desa_by_kecamatan[kecamatan])
        registered = _birth_date(rng, today, 0, 20)
        kk_prefix = make_kk(kecamatan_code=kecamatan, registered_on=registered, serial=1)[:12]
        family_name = rng.choice(SURNAMES)
        rt, rw = f"{rng.randint(1, 12):03d}", f"{rng.randint(1, 6):03d}"
        if rng.random() < 0.5:
            address = f"{rng.choice(STREETS)} No. {rng.randint(1, 200)}"
        else:
            address = f"Dusun {rng.choice(HAMLETS)}"
        family = Family(
            kk_number=make_kk(kecamatan_code=kecamatan, registered_on=registered, serial=kk_serials.take(kk_prefix)),
            address=address,
            rt=rt,
            rw=rw,
            desa_id=desa,
        )
        religion = _pick_religion(rng)
        size = min(rng.choice((1, 2, 3, 3, 4, 4, 4, 5, 5, 6)), count - produced)
        head_sex = Sex.MALE if rng.random() < 0.85 else Sex.FEMALE
        head_birth = _birth_date(rng, today, 25, 80)
        people = [(FamilyRelation.HEAD, head_sex, head_birth)]
        if size > 1:
            spouse_sex = Sex.FEMALE if head_sex == Sex.MALE else Sex.MALE
            spouse_relation = FamilyRelation.WIFE if spouse_sex == Sex.FEMALE else FamilyRelation.HUSBAND
            people.append((spouse_relation, spouse_sex, head_birth + timedelta(days=rng.randint(-2000, 3000))))
        youngest_parent_age = (today - max(p[2] for p in people)).days // 365
        for _ in range(size - len(people)):
            max_age = max(youngest_parent_age - 18, 0)
            people.append(
                (FamilyRelation.CHILD, rng.choice((Sex.MALE, Sex.FEMALE)), _birth_date(rng, today, 0, max_age))
            )
        family_members = []
        for relation, sex, birth in people:
            if birth > today:
                birth = today - timedelta(days=1)
            nik_prefix = make_nik(kecamatan_code=kecamatan, birth_date=birth, sex=sex, serial=1)[:12]
            given = rng.choice(MALE_NAMES if sex == Sex.MALE else FEMALE_NAMES)
            full_name = (
                f"{given} {family_name}" if relation != FamilyRelation.WIFE else f"{given} {rng.choice(SURNAMES)}"
            )
            age = (today - birth).days // 365
            family_members.append(
                Resident(
                    nik=make_nik(
                        kecamatan_code=kecamatan, birth_date=birth, sex=sex, serial=nik_serials.take(nik_prefix)
                    ),
                    full_name=full_name.upper(),
                    birth_place=rng.choice(BIRTH_PLACES).upper(),
                    birth_date=birth,
                    sex=sex,
                    religion=religion,
                    address=address,
                    rt=rt,
                    rw=rw,
                    desa_id=desa,
                    kecamatan_id=kecamatan,
                    whatsapp=f"628{rng.randint(1, 9)}{rng.randint(10**8, 10**9 - 1)}"
                    if age >= 17 and rng.random() < 0.6
                    else "",
                    relation_to_head=relation,
                    biometric_recorded=age >= 17 and rng.random() < 0.9,
                )
            )
        produced += len(family_members)
        yield family, family_members


def residents_generate(*, count: int, seed: int = 2026, batch_size: int = 5000, progress=None) -> int:
    """Create `count` synthetic residents of Ponorogo grouped into families of one to six people."""
    households = households_generate(count=count, rng=random.Random(seed))
    created = 0
    while True:
        batch = list(islice(households, batch_size // 3))
        if not batch:
            break
        families = [family for family, _members in batch]
        with transaction.atomic():
            Family.objects.bulk_create(families, batch_size=batch_size)
            if families[0].pk is None:  # backends without RETURNING: read the ids back by KK number
                ids = dict(
                    Family.objects.filter(kk_number__in=[f.kk_number for f in families]).values_list("kk_number", "id")
                )
                for family in families:
                    family.pk = ids[family.kk_number]
            residents = []
            for family, family_members in batch:
                for resident in family_members:
                    resident.family_id = family.pk
                    residents.append(resident)
            Resident.objects.bulk_create(residents, batch_size=batch_size)
        created += len(residents)
        if progress:
            progress(created)
    families_set_heads()
    return created


def families_set_heads() -> None:
    """Point each family without a head at its member whose relation is kepala keluarga (one statement)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE registry_family SET head_id = (
                SELECT r.id FROM registry_resident r
                WHERE r.family_id = registry_family.id AND r.relation_to_head = %s
                ORDER BY r.id LIMIT 1
            )
            WHERE head_id IS NULL
            """,
            [FamilyRelation.HEAD.value],
        )


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

    # UPTD Slahung submits for elderly residents; three cards are printed and wait to travel to the UPTD.
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
            booking_book(card_request_id=card_request.pk, channel="uptd", by=clerk)
            move(card_request, S.PRINTED)
        created += 1

    # Two SINKRONISASI messages waiting for a clerk.
    for resident in [r for r in others[-10:] if r.family_id][:2]:
        services.number_link_create(
            office=clerk.office,
            phone=f"0813{rng.randrange(10**7, 10**8)}",
            nik=resident.nik,
            kk_number=resident.family.kk_number,
            purpose="Agar kabar KTP-el dikirim ke nomor ini",
            channel="whatsapp",
            by=None,
        )
    return created
