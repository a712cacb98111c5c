"""Who and what: the Kemendagri region tree, offices, staff and their scope, residents (NIK), families (KK),
and the audit of every access to personal data."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Substr
from django.db.models.lookups import Exact, In
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging.system_text import SystemTextField, SystemTextTextField
from registry import clock
from registry.audit import AccessLogQuerySet
from registry.scoping import ScopedQuerySet


class RegionQuerySet(ScopedQuerySet):
    scope_field = "code"


class Region(models.Model):
    """One node of the Kemendagri region tree, keyed by its dotted code ("35.02.01.2001")."""

    class Level(models.IntegerChoices):
        PROVINSI = 1, _("Provinsi")
        KABUPATEN = 2, _("Kabupaten/Kota")
        KECAMATAN = 3, _("Kecamatan")
        DESA = 4, _("Desa/Kelurahan")

    class Kind(models.TextChoices):
        PROVINSI = "provinsi", _("Provinsi")
        KABUPATEN = "kabupaten", _("Kabupaten")
        KOTA = "kota", _("Kota")
        KECAMATAN = "kecamatan", _("Kecamatan")
        DISTRIK = "distrik", _("Distrik")
        KELURAHAN = "kelurahan", _("Kelurahan")
        DESA = "desa", _("Desa")
        DESA_ADAT = "desa_adat", _("Desa adat")

    code = models.CharField(_("kode"), max_length=13, primary_key=True)
    level = models.PositiveSmallIntegerField(_("tingkat"), choices=Level.choices)
    kind = models.CharField(_("jenis"), max_length=12, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("induk"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    name = models.CharField(_("nama"), max_length=100)
    postal_code = models.CharField(_("kode pos"), max_length=5, blank=True)
    decree = models.CharField(_("dasar hukum"), max_length=60)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("wilayah")
        verbose_name_plural = _("wilayah")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "name"], name="region_level_name")]
        constraints = [
            models.CheckConstraint(
                condition=Q(level=1, parent__isnull=True) | Q(level__gt=1, parent__isnull=False),
                name="region_parent_by_level",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def digits(self) -> str:
        """The code as it appears inside a NIK or KK ("350201")."""
        return self.code.replace(".", "")


class TimeZone(models.TextChoices):
    WIB = "Asia/Jakarta", _("WIB (UTC+7)")
    WITA = "Asia/Makassar", _("WITA (UTC+8)")
    WIT = "Asia/Jayapura", _("WIT (UTC+9)")


# Provinces (Kemendagri codes) outside WIB; every other province keeps WIB.
_WITA_PROVINCES = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT_PROVINCES = {"81", "82", "91", "92", "93", "94", "95", "96"}


def time_zone_of_region(code: str) -> str:
    """The time zone of a region, from its province (its first two digits)."""
    province = code[:2]
    if province in _WIT_PROVINCES:
        return TimeZone.WIT
    if province in _WITA_PROVINCES:
        return TimeZone.WITA
    return TimeZone.WIB


DEFAULT_AGENCY_LINE = "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL"
_NIP = re.compile(r"^[0-9]{18}$")


def nip_validate(value: str) -> None:
    """A civil servant's NIP (PP 11/2017): 18 digits, birth date (YYYYMMDD), appointment month (YYYYMM), sex
    (1 man, 2 woman) and a 3-digit serial. A NIP whose date parts or sex digit cannot be is a typing error."""
    if not _NIP.match(value or ""):
        raise ValidationError(_("NIP terdiri dari 18 angka, tanpa spasi atau tanda baca."), code="nip_format")
    try:
        date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
        date(int(value[8:12]), int(value[12:14]), 1)
    except ValueError:
        raise ValidationError(
            _(
                "NIP tidak sah: 8 angka pertama adalah tanggal lahir (TTTTBBHH), 6 berikutnya tahun dan bulan "
                "pengangkatan."
            ),
            code="nip_dates",
        ) from None
    if value[14] not in "12":
        raise ValidationError(_("NIP tidak sah: angka ke-15 adalah jenis kelamin (1 atau 2)."), code="nip_sex")


def nip_spaced(value: str) -> str:
    """A NIP as printed under a signature: "19700101 199503 1 002"."""
    if not value:
        return ""
    return f"{value[0:8]} {value[8:14]} {value[14]} {value[15:18]}"


def default_government_line(region: Region) -> str:
    """The government line from the region: PEMERINTAH KABUPATEN PONOROGO, PEMERINTAH KOTA MADIUN."""
    name = region.name.upper()
    if name.startswith(("KABUPATEN ", "KOTA ", "KAB. ")):
        return f"PEMERINTAH {name}"
    kind = "KOTA" if region.kind == Region.Kind.KOTA else "KABUPATEN"
    return f"PEMERINTAH {kind} {name}"


def logo_upload_to(instance: Office, filename: str) -> str:
    """A fresh name per upload (never the sender's name): kop/<region>/<uuid>.<png|jpg>."""
    extension = "png" if filename.lower().endswith(".png") else "jpg"
    return f"kop/{instance.region_id}/{uuid.uuid4().hex}.{extension}"


@dataclass(frozen=True)
class Letterhead:
    """An office's letterhead and signatory, resolved (a UPTD under its Disdukcapil's lines)."""

    government_line: str
    agency_line: str
    office_name: str  # a UPTD's own name under the agency line; "" for the Disdukcapil itself
    address: str
    phone: str
    email: str
    website: str
    logo_data_uri: str
    place: str  # where letters are signed: the kabupaten/kota's name
    signatory_name: str
    signatory_title: str
    signatory_nip: str


class OfficeQuerySet(ScopedQuerySet):
    scope_field = "region__code"


class Office(models.Model):
    """A Disdukcapil office (one per kabupaten/kota) or a UPTD (one per kecamatan, under its Disdukcapil)."""

    class Kind(models.TextChoices):
        DISDUKCAPIL = "disdukcapil", _("Disdukcapil kabupaten/kota")
        UPTD = "uptd", _("UPTD kecamatan")

    kind = models.CharField(_("jenis"), max_length=12, choices=Kind.choices)
    region = models.OneToOneField(Region, verbose_name=_("wilayah"), on_delete=models.PROTECT, related_name="office")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("kantor induk"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="branches",
    )
    name = models.CharField(_("nama"), max_length=150)
    address = models.CharField(_("alamat"), max_length=255, blank=True)
    phone = models.CharField(_("telepon"), max_length=20, blank=True)
    is_active = models.BooleanField(_("aktif"), default=True)
    # Declared by the office during an outbreak (it covers the office's UPTDs too): biometric recording is
    # then limited to approved urgent requests with the health protocol ticked.
    health_emergency = models.BooleanField(_("keadaan darurat kesehatan"), default=False)
    # The office's wall clock: "today", the end of its day and its daily jobs follow it (WIB, WITA, WIT).
    time_zone = models.CharField(_("zona waktu"), max_length=20, choices=TimeZone.choices, default=TimeZone.WIB)
    # How a card asked for by WhatsApp or SMS reaches the resident unless a clerk changes it (the values of
    # cards.models.Route; a walk-in is served at the counter, a UPTD submission through the UPTD).
    message_route = models.CharField(
        _("rute untuk permohonan lewat pesan"),
        max_length=10,
        choices=[
            ("counter", _("Cetak di loket, ditunggu")),
            ("collect", _("Dicetak dulu, diambil kemudian")),
            ("post", _("Dikirim Pos (COD)")),
        ],
        default="counter",
    )
    # Invitations are for a day at least this many working days ahead (time for the letter to reach the desa).
    invitation_lead_days = models.PositiveSmallIntegerField(_("undangan paling cepat (hari kerja)"), default=3)
    # Blank rationing (Dirjen Dukcapil circular 471.13/6153): while blanks are short, what is left goes to
    # pemula and approved urgent requests first; the others get a suket.
    ration_blanks = models.BooleanField(_("blangko diutamakan untuk pemula dan mendesak"), default=True)
    # The courier's cash-on-delivery fee, the only money a resident ever pays (Magelang: Rp 9.000).
    cod_fee = models.PositiveIntegerField(_("ongkos kirim COD (Rp)"), default=9000)
    # The letterhead (kop surat) and the signatory of every letter, suket, ticket and sheet the office prints.
    # A UPTD prints under its Disdukcapil's government and agency lines and logo, with its own name and address;
    # its own head signs when one is filled in, otherwise the Disdukcapil's head (`Office.letterhead`).
    government_line = models.CharField(
        _("baris pemerintah daerah"),
        max_length=120,
        blank=True,
        help_text=_("Misalnya PEMERINTAH KABUPATEN PONOROGO. Kosong: dibentuk dari nama wilayah."),
    )
    agency_line = models.CharField(
        _("baris instansi"),
        max_length=120,
        blank=True,
        help_text=_("Misalnya DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL."),
    )
    email = models.EmailField(_("surel"), max_length=120, blank=True)
    website = models.URLField(_("situs web"), max_length=120, blank=True)
    head_name = models.CharField(_("nama kepala"), max_length=150, blank=True)
    head_title = models.CharField(
        _("jabatan kepala"),
        max_length=150,
        blank=True,
        help_text=_("Seperti tertulis di atas tanda tangan, misalnya Kepala Dinas Kependudukan dan Pencatatan Sipil."),
    )
    head_nip = models.CharField(
        _("NIP kepala"), max_length=18, blank=True, validators=[nip_validate], help_text=_("18 angka, tanpa spasi.")
    )
    # Re-encoded pixels only (registry/images.py), under MEDIA_ROOT, which is never served: letters inline it.
    logo = models.FileField(_("logo"), upload_to=logo_upload_to, blank=True)

    objects = OfficeQuerySet.as_manager()

    class Meta:
        verbose_name = _("kantor")
        verbose_name_plural = _("kantor")
        ordering = ["region_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="disdukcapil", parent__isnull=True) | Q(kind="uptd", parent__isnull=False),
                name="office_uptd_has_parent",
            ),
            models.CheckConstraint(
                condition=Q(head_nip="") | Q(head_nip__regex=r"^[0-9]{18}$"), name="office_head_nip_18_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_code(self) -> str:
        return self.region_id

    @property
    def head_office(self) -> Office:
        """The Disdukcapil office: itself, or the parent of a UPTD."""
        return self.parent if self.parent_id else self

    @property
    def in_health_emergency(self) -> bool:
        return self.health_emergency or bool(self.parent_id and self.parent.health_emergency)

    @property
    def letterhead(self) -> Letterhead:
        """What the office's printed pages carry at the top and above the signature (templates/_letterhead.html,
        templates/_signatory.html)."""
        head = self.head_office
        signer = self if self.head_name else head
        # Letters are signed at the town: "Ponorogo, 2 Desember 2026", not "Kabupaten Ponorogo, ...".
        region_name = re.sub(r"^(KABUPATEN|KAB\.|KOTA)\s+", "", head.region.name, flags=re.IGNORECASE)
        return Letterhead(
            government_line=head.government_line or default_government_line(head.region),
            agency_line=head.agency_line or DEFAULT_AGENCY_LINE,
            office_name=self.name if self.parent_id else "",
            address=self.address or head.address,
            phone=self.phone or head.phone,
            email=self.email or head.email,
            website=self.website or head.website,
            logo_data_uri=head.logo_data_uri,
            place=region_name.title() if region_name.isupper() else region_name,
            signatory_name=signer.head_name,
            signatory_title=signer.head_title or (_("Kepala %(office)s") % {"office": signer.name}),
            signatory_nip=nip_spaced(signer.head_nip),
        )

    @property
    def letterhead_missing(self) -> list[str]:
        """What the office's printed pages still lack (the settings page and the administrator's home say so):
        each a label in the reader's language."""
        head = self.head_office
        missing = []
        if not head.government_line:
            missing.append(str(_("baris pemerintah daerah (dipakai bentuk bawaan)")))
        if not (self.address or head.address):
            missing.append(str(_("alamat")))
        if not (self.phone or head.phone):
            missing.append(str(_("telepon")))
        if not (self.head_name or head.head_name):
            missing.append(str(_("nama kepala")))
        if not (self.head_nip if self.head_name else head.head_nip):
            missing.append(str(_("NIP kepala")))
        if not head.logo:
            missing.append(str(_("logo")))
        return missing

    @property
    def logo_data_uri(self) -> str:
        """The logo as a data: URI (letters are rendered to PDF or printed from the browser; MEDIA_ROOT is not
        served), or "" without one or when its file is gone."""
        if not self.logo:
            return ""
        try:
            with self.logo.open("rb") as handle:
                data = handle.read()
        except OSError:
            return ""
        mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


class Role(models.TextChoices):
    CLERK = "clerk", _("Petugas")
    UPTD_OPERATOR = "uptd_operator", _("Operator UPTD")
    SUPERVISOR = "supervisor", _("Kepala bidang")
    ADMINISTRATOR = "administrator", _("Administrator")


class StaffManager(UserManager):
    pass


class User(AbstractUser):
    """A staff account. It belongs to an office, whose region is the account's scope, and has one role."""

    office = models.ForeignKey(
        Office,
        verbose_name=_("kantor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    role = models.CharField(_("peran"), max_length=20, choices=Role.choices, blank=True)
    # Set when an administrator sets the password (a new account, a reset): the owner chooses their own before
    # any other page (registry/password_middleware.py), so the administrator never knows a password in use.
    password_change_required = models.BooleanField(_("wajib ganti kata sandi"), default=False)

    objects = StaffManager()

    class Meta(AbstractUser.Meta):
        verbose_name = _("petugas")
        verbose_name_plural = _("petugas")
        constraints = [
            models.CheckConstraint(condition=Q(role="") | Q(office__isnull=False), name="user_role_needs_office"),
        ]

    @property
    def scope_code(self) -> str | None:
        """Region code this account may see; None means the whole database (platform superuser only)."""
        if self.office_id is None:
            return None
        return self.office.region_id

    @property
    def is_uptd_operator(self) -> bool:
        return self.role == Role.UPTD_OPERATOR

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMINISTRATOR)


class FamilyQuerySet(ScopedQuerySet):
    scope_field = "desa__code"
    scope_level = Region.Level.DESA


class Family(models.Model):
    """A household as on its Kartu Keluarga (KK)."""

    kk_number = models.CharField(_("nomor KK"), max_length=16, unique=True)
    head = models.ForeignKey(
        "Resident",
        verbose_name=_("kepala keluarga"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    address = models.CharField(_("alamat"), max_length=255)
    rt = models.CharField(_("RT"), max_length=3, blank=True)
    rw = models.CharField(_("RW"), max_length=3, blank=True)
    desa = models.ForeignKey(Region, verbose_name=_("desa/kelurahan"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diubah"), auto_now=True)

    objects = FamilyQuerySet.as_manager()

    class Meta:
        verbose_name = _("keluarga")
        verbose_name_plural = _("keluarga")
        constraints = [
            models.CheckConstraint(condition=Q(kk_number__regex=r"^[0-9]{16}$"), name="family_kk_16_digits"),
        ]

    def __str__(self) -> str:
        return f"KK {self.masked_kk}"

    @property
    def masked_kk(self) -> str:
        return mask_number(self.kk_number)


class Sex(models.TextChoices):
    MALE = "L", _("Laki-laki")
    FEMALE = "P", _("Perempuan")


class Religion(models.TextChoices):
    ISLAM = "islam", _("Islam")
    KRISTEN = "kristen", _("Kristen")
    KATOLIK = "katolik", _("Katolik")
    HINDU = "hindu", _("Hindu")
    BUDDHA = "buddha", _("Buddha")
    KHONGHUCU = "khonghucu", _("Khonghucu")
    KEPERCAYAAN = "kepercayaan", _("Kepercayaan terhadap Tuhan YME")


class FamilyRelation(models.TextChoices):
    HEAD = "kepala", _("Kepala keluarga")
    HUSBAND = "suami", _("Suami")
    WIFE = "istri", _("Istri")
    CHILD = "anak", _("Anak")
    CHILD_IN_LAW = "menantu", _("Menantu")
    GRANDCHILD = "cucu", _("Cucu")
    PARENT = "orang_tua", _("Orang tua")
    PARENT_IN_LAW = "mertua", _("Mertua")
    OTHER_RELATIVE = "famili_lain", _("Famili lain")
    HOUSEHOLD_HELP = "pembantu", _("Pembantu")
    OTHER = "lainnya", _("Lainnya")


class MaritalStatus(models.TextChoices):
    """SIAK's four marital statuses; blank on the resident means unknown."""

    NEVER_MARRIED = "belum_kawin", _("Belum kawin")
    MARRIED = "kawin", _("Kawin")
    DIVORCED = "cerai_hidup", _("Cerai hidup")
    WIDOWED = "cerai_mati", _("Cerai mati")


# Married once is wajib KTP for life: divorce or a spouse's death does not undo it (UU 24/2013 art. 63).
EVER_MARRIED = frozenset({MaritalStatus.MARRIED, MaritalStatus.DIVORCED, MaritalStatus.WIDOWED})
WAJIB_KTP_AGE = 17  # UU 24/2013 art. 63(1)
RECORDING_AGE = 16  # recording may start a year early, so the card can be printed on the 17th birthday


def anniversary(born: date, years: int) -> date:
    """The day someone born on `born` turns `years`: a 29 February birthday falls on 1 March in other years,
    the same day `Resident.age_on` counts the year as complete."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


class AgeBand(models.TextChoices):
    UNDER_17 = "0-16", _("Di bawah 17 tahun")
    YOUNG = "17-25", _("17–25 tahun")
    ADULT = "26-40", _("26–40 tahun")
    MIDDLE = "41-59", _("41–59 tahun")
    ELDERLY = "60-", _("60 tahun ke atas (lansia)")

    def birth_date_range(self, today: date) -> tuple[date | None, date | None]:
        """Birth dates (inclusive bounds) of people whose age today falls in this band."""
        low, _sep, high = self.value.partition("-")

        def years_ago(n: int) -> date:
            try:
                return today.replace(year=today.year - n)
            except ValueError:  # 29 February
                return today.replace(year=today.year - n, day=28)

        born_after = years_ago(int(high) + 1) + timedelta(days=1) if high else None
        born_before = years_ago(int(low)) if low else None
        return born_after, born_before


class ResidentQuerySet(ScopedQuerySet):
    scope_field = "kecamatan__code"
    scope_level = Region.Level.KECAMATAN

    def with_listing_relations(self) -> ResidentQuerySet:
        return self.select_related("desa", "kecamatan")


class Resident(models.Model):
    """A resident, identified by NIK. `kecamatan` repeats the desa's parent so scoping needs no join."""

    nik = models.CharField(_("NIK"), max_length=16, unique=True)
    full_name = models.CharField(_("nama lengkap"), max_length=150)
    birth_place = models.CharField(_("tempat lahir"), max_length=100)
    birth_date = models.DateField(_("tanggal lahir"))
    sex = models.CharField(_("jenis kelamin"), max_length=1, choices=Sex.choices)
    religion = models.CharField(_("agama"), max_length=12, choices=Religion.choices, blank=True)
    address = models.CharField(_("alamat"), max_length=255)
    rt = models.CharField(_("RT"), max_length=3, blank=True)
    rw = models.CharField(_("RW"), max_length=3, blank=True)
    desa = models.ForeignKey(
        Region,
        verbose_name=_("desa/kelurahan"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # No foreign key in the database: the CHECK below ties it to the desa's code, which is stronger (it must
    # be that desa's kecamatan) and spares a lookup per inserted row on a million-row import.
    kecamatan = models.ForeignKey(
        Region,
        verbose_name=_("kecamatan"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    whatsapp = models.CharField(_("nomor WhatsApp"), max_length=20, blank=True)
    family = models.ForeignKey(
        Family,
        verbose_name=_("keluarga"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    relation_to_head = models.CharField(
        _("hubungan dalam keluarga"), max_length=12, choices=FamilyRelation.choices, blank=True
    )
    marital_status = models.CharField(_("status perkawinan"), max_length=11, choices=MaritalStatus.choices, blank=True)
    biometric_recorded = models.BooleanField(_("sudah perekaman"), default=False)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diubah"), auto_now=True)

    objects = ResidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("penduduk")
        verbose_name_plural = _("penduduk")
        indexes = [
            # Keyset pagination of the resident list: (name, id) overall, within a kecamatan, within a desa.
            models.Index(fields=["full_name", "id"], name="resident_name_id"),
            models.Index(fields=["kecamatan", "full_name", "id"], name="resident_kec_name_id"),
            models.Index(fields=["desa", "full_name", "id"], name="resident_desa_name_id"),
            # A message from a number finds the resident it is registered to (status questions, photos).
            models.Index(fields=["whatsapp"], name="resident_whatsapp", condition=~Q(whatsapp="")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(nik__regex=r"^[0-9]{16}$"), name="resident_nik_16_digits"),
            models.CheckConstraint(
                condition=Q(kecamatan_id=Substr("desa_id", 1, 8)), name="resident_kecamatan_of_desa"
            ),
        ]
        permissions = [
            ("reveal_nik", _("Boleh membuka NIK lengkap")),
            ("export_resident", _("Boleh mengekspor data penduduk")),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.masked_nik})"

    @property
    def masked_nik(self) -> str:
        return mask_number(self.nik)

    def age_on(self, day: date) -> int:
        return day.year - self.birth_date.year - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))

    @property
    def ever_married(self) -> bool:
        return self.marital_status in EVER_MARRIED

    def is_wajib_ktp_on(self, day: date) -> bool:
        """Must hold an e-KTP on `day`: 17 or older, or married or ever married (UU 24/2013 art. 63)."""
        return self.ever_married or self.age_on(day) >= WAJIB_KTP_AGE

    def wajib_ktp_from(self) -> date | None:
        """The day the resident becomes wajib KTP by age (the 17th birthday); None when marriage already
        made them wajib KTP, whatever their age."""
        if self.ever_married:
            return None
        return anniversary(self.birth_date, WAJIB_KTP_AGE)

    def may_record_on(self, day: date) -> bool:
        """Biometric recording may take place on `day`: from 16, or married or ever married."""
        return self.ever_married or self.age_on(day) >= RECORDING_AGE


def mask_number(number: str) -> str:
    """The one mask for a NIK or KK number wherever it is shown without the audited reveal: only the 4-digit
    province+kabupaten head, 3502************ (16 characters, so columns keep their width).

    Invariant: the mask shows nothing that the page's other columns could complete into the full number.
    Digits 5-6 are the kecamatan and 7-12 the birth date (day + 40 for women), both shown elsewhere, and the
    serial (13-16) counts from 0001 for each kecamatan, date and sex, so it is small and guessable; an earlier
    mask that kept the serial let a UPTD operator rebuild every NIK of a list page (issue 12). Anything but
    16 characters is masked whole: a short or long "NIK" is still someone's number.
    """
    if len(number) != 16:
        return "*" * len(number)
    return f"{number[:4]}{'*' * 12}"


class SavedSearchQuerySet(models.QuerySet):
    def expired(self, *, now=None) -> SavedSearchQuerySet:
        return self.filter(created_at__lt=(now or clock.now()) - SavedSearch.LIFETIME)


class SavedSearch(models.Model):
    """Search criteria behind an opaque token, so a NIK never travels in a URL.

    A row (not the session) so that concurrent requests of the same browser cannot lose it; only its
    owner can use it, and it is purged after a day.
    """

    LIFETIME = timedelta(days=1)

    token = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    criteria = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = SavedSearchQuerySet.as_manager()

    class Meta:
        verbose_name = _("pencarian tersimpan")
        verbose_name_plural = _("pencarian tersimpan")

    def __str__(self) -> str:
        return self.token


class AccessLog(models.Model):
    """Append-only record of every read of personal data that goes beyond a masked list (UU PDP art. 31).

    Rows enter only through `AccessLog.objects.append(...)` / `append_many(rows)` (registry/audit.py), which
    chain each row to the one before it by SHA-256; `accesslog_verify` walks the chain."""

    class Action(models.TextChoices):
        REVEAL_NIK = "reveal_nik", _("Membuka NIK lengkap")
        SEARCH_NIK = "search_nik", _("Mencari dengan NIK/KK")
        EXPORT = "export", _("Ekspor data")
        VIEW_ATTACHMENT = "view_attachment", _("Membuka lampiran permohonan")
        LOOKUP = "lookup", _("Mencocokkan NIK dan KK")
        STAFF_CHANGE = "staff_change", _("Mengubah peran atau kantor akun")

    at = models.DateTimeField(_("waktu"), default=timezone.now, db_index=True)
    user = models.ForeignKey(User, verbose_name=_("petugas"), on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("tindakan"), max_length=20, choices=Action.choices)
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("penduduk"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(_("alamat IP"), null=True, blank=True)
    detail = SystemTextField(_("keterangan"), max_length=255, blank=True)
    # The hash chain (registry/audit.py): position, the previous row's hash, this row's hash.
    seq = models.PositiveBigIntegerField(_("urutan"), unique=True, editable=False)
    prev_hash = models.CharField(_("hash sebelumnya"), max_length=64, blank=True, editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("log akses data pribadi")
        verbose_name_plural = _("log akses data pribadi")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["user", "at"], name="accesslog_user_at"),
            models.Index(fields=["resident", "at"], name="accesslog_resident_at"),
        ]
        constraints = [
            # A row saved around AccessLog.objects.append has no hash: refused.
            models.CheckConstraint(condition=Exact(Length("hash"), 64), name="accesslog_hash_set"),
            models.CheckConstraint(condition=In(Length("prev_hash"), [0, 64]), name="accesslog_prev_hash_set"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.get_action_display()}"


class ResidentImportQuerySet(ScopedQuerySet):
    scope_field = "office__region__code"

    def active(self) -> ResidentImportQuerySet:
        return self.filter(status__in=[ResidentImport.Status.QUEUED, ResidentImport.Status.RUNNING])

    def claimable(self, *, now=None) -> ResidentImportQuerySet:
        """Imports a worker may take: queued, or running with no sign of life for STALE_AFTER (its worker
        died). Claiming is an UPDATE on this queryset, so two workers never run the same import."""
        now = now or clock.now()
        stale = now - ResidentImport.STALE_AFTER
        return self.filter(
            Q(status=ResidentImport.Status.QUEUED)
            | Q(status=ResidentImport.Status.RUNNING, heartbeat_at__lt=stale)
            | Q(status=ResidentImport.Status.RUNNING, heartbeat_at__isnull=True)
        )


class ResidentImport(models.Model):
    """One import of a population-register export (SIAK CSV/XLSX): its file, its progress and its outcome.

    The uploaded file is deleted once the import ends (it is full of NIKs); its name, size and SHA-256
    stay. The refused rows are in ImportRowError, the changes it made in ResidentChange.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Menunggu")
        RUNNING = "running", _("Berjalan")
        DONE = "done", _("Selesai")
        FAILED = "failed", _("Gagal")
        CANCELLED = "cancelled", _("Dibatalkan")

    class Phase(models.TextChoices):
        WAITING = "waiting", _("Menunggu giliran")
        READING = "reading", _("Membaca dan memeriksa baris")
        CHECKING = "checking", _("Mencari NIK ganda")
        MERGING = "merging", _("Menyimpan ke data penduduk")
        FINISHED = "finished", _("Selesai")

    office = models.ForeignKey(Office, verbose_name=_("kantor"), null=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        User, verbose_name=_("diunggah oleh"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("diunggah"), default=timezone.now, db_index=True)
    file = models.FileField(_("berkas"), upload_to="imports/%Y/%m/", blank=True)
    file_name = models.CharField(_("nama berkas"), max_length=255)
    file_size = models.BigIntegerField(_("ukuran berkas"), default=0)
    file_sha256 = models.CharField(_("SHA-256 berkas"), max_length=64, blank=True)
    file_format = models.CharField(_("format"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(_("tahap"), max_length=10, choices=Phase.choices, default=Phase.WAITING)
    cancel_requested = models.BooleanField(_("diminta batal"), default=False)
    rows_total = models.PositiveIntegerField(_("perkiraan jumlah baris"), null=True, blank=True)
    rows_read = models.PositiveIntegerField(_("baris dibaca"), default=0)
    rows_merged = models.PositiveIntegerField(_("baris sudah disimpan"), default=0)
    rows_inserted = models.PositiveIntegerField(_("penduduk baru"), default=0)
    rows_updated = models.PositiveIntegerField(_("penduduk diubah"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("penduduk tidak berubah"), default=0)
    rows_refused = models.PositiveIntegerField(_("baris ditolak"), default=0)
    families_created = models.PositiveIntegerField(_("keluarga baru"), default=0)
    ignored_columns = models.JSONField(_("kolom diabaikan"), default=list, blank=True)
    message = SystemTextTextField(_("pesan"), blank=True)
    started_at = models.DateTimeField(_("mulai"), null=True, blank=True)
    finished_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("tanda hidup terakhir"), null=True, blank=True)

    # A running import writes its progress at least every block of rows; silence this long means its
    # worker is gone, and the import may be taken over.
    STALE_AFTER = timedelta(minutes=10)

    objects = ResidentImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("impor data penduduk")
        verbose_name_plural = _("impor data penduduk")
        ordering = ["-created_at", "-id"]
        permissions = [("import_resident", _("Boleh mengimpor data penduduk"))]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def rows_accepted(self) -> int:
        return self.rows_inserted + self.rows_updated + self.rows_unchanged

    @property
    def percent(self) -> int:
        """Overall progress: reading is the first half of the work, merging the second."""
        if self.status == self.Status.DONE:
            return 100
        total = self.rows_total or 0
        if not total:
            return 0
        read = min(self.rows_read / total, 1.0)
        to_merge = max(self.rows_read - self.rows_refused, 1)
        merged = min(self.rows_merged / to_merge, 1.0) if self.phase == self.Phase.MERGING else 0.0
        return int(50 * read + 50 * merged)


class ImportRowError(models.Model):
    """A refused row of an import: which row, which column, what was there and why (in Indonesian)."""

    resident_import = models.ForeignKey(ResidentImport, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField(_("baris"))
    column_name = models.CharField(_("kolom"), max_length=60, blank=True)
    value = models.CharField(_("isi"), max_length=255, blank=True)
    reason = SystemTextField(_("alasan"), max_length=500)

    class Meta:
        verbose_name = _("baris impor ditolak")
        verbose_name_plural = _("baris impor ditolak")
        indexes = [models.Index(fields=["resident_import", "row_number"], name="importerror_import_row")]

    def __str__(self) -> str:
        return f"{self.row_number}: {self.reason}"


class ResidentChange(models.Model):
    """What an import (or later another source) changed on a resident: {field: [old, new]}."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="changes")
    resident_import = models.ForeignKey(
        ResidentImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    changed_at = models.DateTimeField(_("waktu"), default=timezone.now)
    changes = models.JSONField(_("perubahan"))

    class Meta:
        verbose_name = _("riwayat perubahan penduduk")
        verbose_name_plural = _("riwayat perubahan penduduk")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["resident", "changed_at"], name="residentchange_resident_at")]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.changed_at:%Y-%m-%d %H:%M}"
