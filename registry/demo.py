"""Synthetic registry data for Kabupaten Ponorogo: offices, one account per role, residents in families.

Every NIK passes the validator and agrees with the resident's birth date, sex and kecamatan; every KK
number starts with its kecamatan. The data is random but repeatable (`seed`). The sample SIAK export
(registry/importer/sample.py) draws on the same households. The counter's calendar and the card requests of
the demo are made by delivery/demo.py (the top app: it drives cards and queueing too).
"""

from __future__ import annotations

import io
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from PIL import Image, ImageDraw

from registry import clock
from registry.models import Family, FamilyRelation, Office, Region, Religion, Resident, Role, Sex, User
from registry.nik import make_kk, make_nik
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
    created: bool = True  # False: the account already existed and was left exactly as it was


def demo_accounts_create(*, password: str | None = None) -> list[DemoLogin]:
    """One account per role (UPTD operators for two kecamatan), each created with the demo password.

    Invariant: an account that already exists is never touched (no password, role, office or name change),
    whoever made it; the demo only adds the usernames that are free."""
    password = password or settings.DEMO_PASSWORD
    role_groups_sync()
    logins = []
    for username, first, last, role, region_code in DEMO_ACCOUNTS:
        office = Office.objects.get(region_id=region_code)
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last}
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
                staff_assign_role(user=user, role=role, office=office, by=None)
        logins.append(DemoLogin(username=username, role=str(Role(role).label), office=office.name, created=created))
    return logins


DEMO_LETTERHEAD = {
    "government_line": "PEMERINTAH KABUPATEN PONOROGO",
    "agency_line": "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL",
    "address": "Jl. Alun-Alun Utara No. 1, Ponorogo 63411",
    "phone": "(0352) 481000",
    "email": "layanan@disdukcapil-ponorogo.example",
    "website": "https://disdukcapil-ponorogo.example",
    "head_name": "Drs. SUPRIYANTO, M.Si.",
    "head_title": "Kepala Dinas Kependudukan dan Pencatatan Sipil Kabupaten Ponorogo",
    "head_nip": "197005121995031002",
}


def _demo_logo_png() -> bytes:
    """A plain emblem for the demo (a shield with a star): the office uploads its own on the settings page."""
    image = Image.new("RGBA", (240, 280), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.polygon([(10, 10), (230, 10), (230, 150), (120, 270), (10, 150)], fill=(22, 101, 52), outline=(0, 0, 0))
    star = [
        (120, 40),
        (138, 95),
        (196, 95),
        (149, 128),
        (167, 184),
        (120, 150),
        (73, 184),
        (91, 128),
        (44, 95),
        (102, 95),
    ]
    draw.polygon(star, fill=(234, 179, 8))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def demo_letterhead_fill(*, kabupaten_code: str = DEMO_KABUPATEN) -> Office:
    """Fill the demo office's letterhead (and each UPTD's address) where it is still empty, so that every
    letter of the demo shows a complete kop and signatory. What an administrator filled in stays as it is."""
    head = Office.objects.get(region_id=kabupaten_code)
    changed = [name for name, value in DEMO_LETTERHEAD.items() if not getattr(head, name)]
    for name in changed:
        setattr(head, name, DEMO_LETTERHEAD[name])
    if changed:
        head.save(update_fields=changed)
    if not head.logo:
        head.logo.save("logo.png", ContentFile(_demo_logo_png()), save=True)
    for branch in Office.objects.filter(parent=head, address="").select_related("region"):
        branch.address = f"Kantor Kecamatan {branch.region.name.title()}, Kabupaten Ponorogo"
        branch.save(update_fields=["address"])
    return head


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
