"""The columns of a SIAK population export, their aliases, and turning one row into clean values or errors.

Headers are matched after normalisation (upper case, runs of anything but letters and digits become "_"),
so "Nama Lengkap", "NAMA_LGKP" and "nama.lengkap" all find the same field. docs/import-format.md is the
reference for staff; COLUMNS below is the single source of both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import lokal
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from messaging.system_text import system_text, system_text_join
from registry.importer.regions import RegionIndex
from registry.models import FamilyRelation, MaritalStatus, Religion, Sex
from registry.nik import BulkNumberChecker, ParsedNumber


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # the canonical header written in the sample file and the reference
    aliases: tuple[str, ...]
    description: object  # lazy Indonesian text for the reference page
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("nik", "NIK", ("NIK", "NO_NIK", "NOMOR_NIK", "NIK_PENDUDUK"), gettext_lazy("NIK, 16 digit."), True),
    Column(
        "kk_number",
        "NO_KK",
        ("NO_KK", "NOKK", "NOMOR_KK", "KK", "NO_KARTU_KELUARGA", "NOMOR_KARTU_KELUARGA"),
        gettext_lazy("Nomor KK, 16 digit. Kosong: penduduk tanpa keluarga."),
    ),
    Column(
        "full_name",
        "NAMA_LGKP",
        ("NAMA_LGKP", "NAMA_LENGKAP", "NAMA", "NAMA_PENDUDUK"),
        gettext_lazy("Nama lengkap, paling panjang 150 huruf."),
        True,
    ),
    Column("birth_place", "TMPT_LHR", ("TMPT_LHR", "TEMPAT_LAHIR", "TMP_LAHIR"), gettext_lazy("Tempat lahir.")),
    Column(
        "birth_date",
        "TGL_LHR",
        ("TGL_LHR", "TANGGAL_LAHIR", "TGL_LAHIR"),
        gettext_lazy("Tanggal lahir: DD-MM-YYYY, DD/MM/YYYY atau YYYY-MM-DD (sel tanggal di XLSX juga diterima)."),
        True,
    ),
    Column(
        "sex",
        "JENIS_KLMIN",
        ("JENIS_KLMIN", "JENIS_KELAMIN", "JNS_KLMIN", "JK", "KELAMIN"),
        gettext_lazy("L / P, LAKI-LAKI / PEREMPUAN, atau kode SIAK 1 / 2."),
        True,
    ),
    Column(
        "religion",
        "AGAMA",
        ("AGAMA",),
        gettext_lazy("ISLAM, KRISTEN, KATHOLIK, HINDU, BUDHA, KHONGHUCU, KEPERCAYAAN, atau kode SIAK 1-7."),
    ),
    Column("address", "ALAMAT", ("ALAMAT", "ALAMAT_LENGKAP"), gettext_lazy("Alamat (jalan, dusun).")),
    Column("rt", "NO_RT", ("NO_RT", "RT"), gettext_lazy("Nomor RT, sampai 3 digit.")),
    Column("rw", "NO_RW", ("NO_RW", "RW"), gettext_lazy("Nomor RW, sampai 3 digit.")),
    Column(
        "desa_code",
        "KODE_DESA",
        ("KODE_DESA", "KD_DESA", "KODE_KEL", "KD_KEL", "KODE_KELURAHAN", "KODE_WILAYAH"),
        gettext_lazy("Kode desa/kelurahan Kemendagri: 35.02.01.2001 atau 3502012001."),
    ),
    Column(
        "desa_name",
        "NAMA_DESA",
        ("NAMA_DESA", "NAMA_KEL", "NAMA_KELURAHAN", "DESA", "KELURAHAN", "DESA_KELURAHAN"),
        gettext_lazy("Nama desa/kelurahan; dipakai bila tidak ada kode desa, bersama kecamatan."),
    ),
    Column(
        "kecamatan_code",
        "KODE_KEC",
        ("KODE_KEC", "KD_KEC", "KODE_KECAMATAN"),
        gettext_lazy("Kode kecamatan: 35.02.01 atau 350201."),
    ),
    Column(
        "kecamatan_name",
        "NAMA_KEC",
        ("NAMA_KEC", "NAMA_KECAMATAN", "KECAMATAN"),
        gettext_lazy("Nama kecamatan."),
    ),
    Column("prop_part", "NO_PROP", ("NO_PROP", "NO_PROV"), gettext_lazy("Kode provinsi SIAK (35).")),
    Column("kab_part", "NO_KAB", ("NO_KAB", "NO_KOTA"), gettext_lazy("Kode kabupaten SIAK (2 atau 02).")),
    Column("kec_part", "NO_KEC", ("NO_KEC",), gettext_lazy("Kode kecamatan SIAK (1 atau 01).")),
    Column("kel_part", "NO_KEL", ("NO_KEL", "NO_DESA"), gettext_lazy("Kode desa/kelurahan SIAK (2001).")),
    Column(
        "relation_to_head",
        "STAT_HBKEL",
        ("STAT_HBKEL", "SHDK", "HUBUNGAN_KELUARGA", "STATUS_HUBUNGAN", "HUB_KELUARGA"),
        gettext_lazy("Hubungan dalam keluarga: KEPALA KELUARGA, SUAMI, ISTRI, ANAK, ... atau kode SIAK 1-11."),
    ),
    Column(
        "whatsapp",
        "NO_HP",
        ("NO_HP", "NOMOR_HP", "HP", "TELP", "NO_TELP", "TELEPON", "NO_TELEPON", "WHATSAPP", "NO_WA"),
        gettext_lazy("Nomor ponsel/WhatsApp: 0812..., 62812... atau +62812..."),
    ),
    Column(
        "marital_status",
        "STAT_KWN",
        ("STAT_KWN", "STATUS_KAWIN", "STATUS_PERKAWINAN", "KAWIN", "STAT_KAWIN", "STATUS_KWN", "STS_KAWIN"),
        gettext_lazy(
            "Status perkawinan: BELUM KAWIN, KAWIN, CERAI HIDUP, CERAI MATI (juga dengan TERCATAT atau BELUM "
            "TERCATAT di belakangnya), atau kode SIAK 1-4. Kosong: tidak diketahui."
        ),
    ),
    Column(
        "biometric_recorded",
        "STAT_REKAM",
        (
            "STAT_REKAM",
            "STATUS_REKAM",
            "PEREKAMAN",
            "STATUS_PEREKAMAN",
            "REKAM_KTP_EL",
            "REKAM_KTPEL",
            "STAT_REKAM_KTP_EL",
        ),
        gettext_lazy(
            "Status perekaman KTP-el: SUDAH REKAM / BELUM REKAM, SUDAH / BELUM, Y / N, 1 / 0; PRR dihitung "
            "sudah rekam. Kosong, atau kolom tidak ada: status yang tersimpan tidak diubah (penduduk baru: belum)."
        ),
    ),
)

_ALIASES = {alias: column for column in COLUMNS for alias in column.aliases}
_NON_ALNUM = re.compile(r"[^0-9A-Z]+")
_SPACES = re.compile(r"\s+")

# Columns of the staging table, in order; `row_no` first. Optional ones are only merged when the file
# has a column that feeds them, so a file without phone numbers does not erase the phones on record.
STAGED_FIELDS = (
    "nik",
    "kk_number",
    "full_name",
    "birth_place",
    "birth_date",
    "sex",
    "religion",
    "address",
    "rt",
    "rw",
    "desa_id",
    "kecamatan_id",
    "whatsapp",
    "relation_to_head",
    "marital_status",
    "biometric_recorded",  # NULL when the cell is empty: the merge keeps what is stored
)

_SEX = {"L": Sex.MALE, "LAKI-LAKI": Sex.MALE, "LAKI LAKI": Sex.MALE, "LAKI": Sex.MALE, "PRIA": Sex.MALE, "1": Sex.MALE}
_SEX |= {"P": Sex.FEMALE, "PEREMPUAN": Sex.FEMALE, "WANITA": Sex.FEMALE, "2": Sex.FEMALE}
_RELIGION = {
    "ISLAM": Religion.ISLAM,
    "KRISTEN": Religion.KRISTEN,
    "KRISTEN PROTESTAN": Religion.KRISTEN,
    "PROTESTAN": Religion.KRISTEN,
    "KATHOLIK": Religion.KATOLIK,
    "KATOLIK": Religion.KATOLIK,
    "HINDU": Religion.HINDU,
    "BUDHA": Religion.BUDDHA,
    "BUDDHA": Religion.BUDDHA,
    "KHONGHUCU": Religion.KHONGHUCU,
    "KONGHUCU": Religion.KHONGHUCU,
    "KONG HU CU": Religion.KHONGHUCU,
    "KEPERCAYAAN": Religion.KEPERCAYAAN,
    "KEPERCAYAAN TERHADAP TUHAN YME": Religion.KEPERCAYAAN,
    "ALIRAN KEPERCAYAAN": Religion.KEPERCAYAAN,
}
_RELIGION |= {str(i): v for i, v in enumerate(Religion.values, start=1)}  # SIAK's codes are in this order
_RELIGION = {k: str(v) for k, v in _RELIGION.items()}
_RELATION = {
    "KEPALA KELUARGA": FamilyRelation.HEAD,
    "KEPALA": FamilyRelation.HEAD,
    "SUAMI": FamilyRelation.HUSBAND,
    "ISTRI": FamilyRelation.WIFE,
    "ANAK": FamilyRelation.CHILD,
    "MENANTU": FamilyRelation.CHILD_IN_LAW,
    "CUCU": FamilyRelation.GRANDCHILD,
    "ORANG TUA": FamilyRelation.PARENT,
    "ORANGTUA": FamilyRelation.PARENT,
    "MERTUA": FamilyRelation.PARENT_IN_LAW,
    "FAMILI LAIN": FamilyRelation.OTHER_RELATIVE,
    "FAMILY LAIN": FamilyRelation.OTHER_RELATIVE,
    "PEMBANTU": FamilyRelation.HOUSEHOLD_HELP,
    "LAINNYA": FamilyRelation.OTHER,
    "LAIN-LAIN": FamilyRelation.OTHER,
}
_RELATION |= {str(i): v for i, v in enumerate(FamilyRelation.values, start=1)}  # SIAK's codes 1-11
_RELATION = {k: str(v) for k, v in _RELATION.items()}
_MARITAL = {
    "BELUM KAWIN": MaritalStatus.NEVER_MARRIED,
    "BELUM MENIKAH": MaritalStatus.NEVER_MARRIED,
    "KAWIN": MaritalStatus.MARRIED,
    "MENIKAH": MaritalStatus.MARRIED,
    "KAWIN TERCATAT": MaritalStatus.MARRIED,
    "KAWIN BELUM TERCATAT": MaritalStatus.MARRIED,
    "CERAI HIDUP": MaritalStatus.DIVORCED,
    "CERAI HIDUP TERCATAT": MaritalStatus.DIVORCED,
    "CERAI HIDUP BELUM TERCATAT": MaritalStatus.DIVORCED,
    "CERAI MATI": MaritalStatus.WIDOWED,
    "CERAI MATI TERCATAT": MaritalStatus.WIDOWED,
    "CERAI MATI BELUM TERCATAT": MaritalStatus.WIDOWED,
}
_MARITAL |= {str(i): v for i, v in enumerate(MaritalStatus.values, start=1)}  # SIAK's codes 1-4, this order
_MARITAL = {k: str(v) for k, v in _MARITAL.items()}
# A print-ready record (PRR) is a recording the centre has accepted. A duplicate record is not listed: it is
# refused, for the office to resolve before the resident counts as recorded.
_RECORDED = dict.fromkeys(("SUDAH REKAM", "SUDAH", "Y", "YA", "1", "TRUE", "PRR", "SUDAH PEREKAMAN", "REKAM"), True)
_RECORDED |= dict.fromkeys(("BELUM REKAM", "BELUM", "N", "T", "TIDAK", "0", "FALSE", "BELUM PEREKAMAN"), False)
_SEX = {k: str(v) for k, v in _SEX.items()}

_DATE_FORMATS = (
    (re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})"), (3, 2, 1)),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), (3, 2, 1)),
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), (1, 2, 3)),
)
_TIME_SUFFIX = re.compile(r"[ T]00:00(:00(\.0+)?)?$")
_MAX_EXACT_FLOAT = 2**53  # a 16-digit number above this lost digits when a spreadsheet stored it as a number

MAX_LENGTHS = {"full_name": 150, "birth_place": 100, "address": 255}


def normalize_header(text: object) -> str:
    return _NON_ALNUM.sub("_", str(text or "").strip().upper()).strip("_")


def normalize_name(text: str) -> str:
    return _SPACES.sub(" ", text).strip().upper()


class HeaderError(ValueError):
    """The file cannot be imported at all (no row is read); the message is for the supervisor."""


@dataclass
class HeaderMap:
    indexes: dict[str, int]  # field -> position in the row
    labels: dict[str, str]  # field -> the header as written in the file
    ignored: list[str]  # headers that match no column

    @property
    def fields(self) -> set[str]:
        return set(self.indexes)

    def merged_fields(self) -> list[str]:
        """Staged fields this file supplies: required ones, present optional ones, desa/kecamatan."""
        given = self.fields
        merged = [f for f in STAGED_FIELDS if f in given or f in ("desa_id", "kecamatan_id")]
        return merged


def map_header(header: Sequence[object]) -> HeaderMap:
    indexes: dict[str, int] = {}
    labels: dict[str, str] = {}
    ignored: list[str] = []
    duplicates: list[str] = []
    for position, text in enumerate(header):
        column = _ALIASES.get(normalize_header(text))
        if column is None:
            if str(text or "").strip():
                ignored.append(str(text).strip())
            continue
        if column.field in indexes:
            duplicates.append(str(text).strip())
            continue
        indexes[column.field] = position
        labels[column.field] = str(text).strip()
    missing = [c.label for c in COLUMNS if c.required and c.field not in indexes]
    has_desa = (
        "desa_code" in indexes
        or {"prop_part", "kab_part", "kec_part", "kel_part"} <= indexes.keys()
        or ("desa_name" in indexes and ({"kecamatan_code", "kecamatan_name"} & indexes.keys()))
    )
    if not has_desa:
        missing.append(
            system_text(
                gettext_noop("KODE_DESA (atau NAMA_DESA dengan KODE_KEC/NAMA_KEC, atau NO_PROP/NO_KAB/NO_KEC/NO_KEL)")
            )
        )
    if missing:
        raise HeaderError(
            system_text(
                gettext_noop("Kolom wajib tidak ditemukan: %(missing)s. Baris judul berkas: %(header)s."),
                missing=system_text_join(missing, ", "),
                header=", ".join(str(h or "") for h in header),
            )
        )
    if duplicates:
        raise HeaderError(
            system_text(gettext_noop("Kolom muncul dua kali: %(columns)s."), columns=", ".join(duplicates))
        )
    return HeaderMap(indexes=indexes, labels=labels, ignored=ignored)


RowError = tuple[str, str, str]  # (column as in the file, value, reason)


def _text(value: object) -> str:
    """A cell as text: XLSX numbers without a trailing .0, dates as DD-MM-YYYY, None as ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return f"{value:%d-%m-%Y}"
    if isinstance(value, date):
        return f"{value:%d-%m-%Y}"
    return str(value)


class PhoneChecker:
    """lokal-id's parse_phone, with its verdict cached per shape of plain-digit numbers.

    For digits only, lokal's verdict depends on the first digits and the length, and the WhatsApp form is
    the number with 0 replaced by 62. The first number of each (first four digits, length) shape is parsed
    by lokal. If lokal's answer equals that derivation, later numbers of the same shape reuse it;
    otherwise every number of that shape goes to lokal. Anything that is not plain digits always does.
    """

    def __init__(self) -> None:
        self._shapes: dict[tuple[str, int], bool] = {}

    @staticmethod
    def _whatsapp(digits: str) -> str:
        if digits.startswith("0"):
            return "62" + digits[1:]
        return digits if digits.startswith("62") else "62" + digits

    def check(self, text: str) -> tuple[str, str | None]:
        """(WhatsApp number, None) for a mobile number, else ("", reason)."""
        plain = text.isdigit() and text.isascii()
        key = (text[:4], len(text))
        if plain and self._shapes.get(key):
            return self._whatsapp(text), None
        info = lokal.parse_phone(text)
        if not info.valid:
            result = "", "; ".join(issue.message for issue in info.errors) or _("nomor tidak valid")
        elif info.type != "mobile":
            result = "", _("bukan nomor ponsel, tidak bisa WhatsApp")
        else:
            result = info.whatsapp, None
        if plain and key not in self._shapes:
            self._shapes[key] = result[1] is None and result[0] == self._whatsapp(text)
        return result


class RowParser:
    """Turns one row (a sequence of cells) into the staged tuple, or the list of what is wrong with it.

    Every problem of a row is listed, one per column. Lookups that repeat (dates, region codes, names)
    are cached so a million rows cost a few seconds.
    """

    def __init__(
        self,
        header: HeaderMap,
        regions: RegionIndex,
        numbers: BulkNumberChecker,
        *,
        typed: bool = False,
        check_nul: bool = False,
    ) -> None:
        """typed=False: every cell is a str (CSV); True: cells are XLSX values (numbers, dates, None).
        check_nul: refuse rows with a NUL character (only files that contain one pay for the check)."""
        self.typed = typed
        self.check_nul = check_nul
        self.header = header
        self.regions = regions
        self.numbers = numbers
        self.today = numbers.today
        self._dates: dict[str, date | str] = {}
        self.width = max(header.indexes.values()) + 1
        self.parse: Callable[[int, Sequence[object]], tuple | list[RowError]] = self._build()

    # -- single values -----------------------------------------------------------------------------

    def _date(self, text: str) -> date | str:
        """The date, or the reason it is refused."""
        known = self._dates.get(text)
        if known is not None:
            return known
        cleaned = _TIME_SUFFIX.sub("", text)
        result: date | str | None = None
        for pattern, (y, m, d) in _DATE_FORMATS:
            match = pattern.fullmatch(cleaned)
            if match:
                try:
                    result = date(int(match[y]), int(match[m]), int(match[d]))
                except ValueError:
                    result = _("tanggal tidak ada di kalender")
                else:
                    if result > self.today:
                        result = _("tanggal lahir di masa depan")
                    elif result.year < 1850:
                        result = _("tahun lahir sebelum 1850")
                break
        if result is None:
            result = _("format tanggal tidak dikenal; pakai DD-MM-YYYY, DD/MM/YYYY atau YYYY-MM-DD")
        if len(self._dates) < 200_000:
            self._dates[text] = result
        return result

    @staticmethod
    def _spreadsheet_number_problem(value: object) -> str | None:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > _MAX_EXACT_FLOAT:
            return _(
                "tersimpan sebagai angka di spreadsheet sehingga digit terakhirnya bisa berubah; "
                "format kolom ini sebagai teks lalu ekspor ulang"
            )
        return None

    # -- the row ---------------------------------------------------------------------------------------

    def _build(self):  # noqa: C901 - one flat function on purpose: it runs a million times
        idx = self.header.indexes
        labels = self.header.labels
        regions = self.regions
        numbers = self.numbers
        width = self.width
        typed = self.typed
        check_nul = self.check_nul
        headers = {i: text for text, i in ((labels.get(f, ""), i) for f, i in idx.items())}
        number_problem = self._spreadsheet_number_problem
        parse_date = self._date
        check_phone = PhoneChecker().check

        def at(field):
            return idx.get(field)

        i_nik, i_kk, i_name, i_place = at("nik"), at("kk_number"), at("full_name"), at("birth_place")
        i_birth, i_sex, i_religion, i_address = at("birth_date"), at("sex"), at("religion"), at("address")
        i_rt, i_rw, i_relation, i_phone = at("rt"), at("rw"), at("relation_to_head"), at("whatsapp")
        i_marital, i_recorded = at("marital_status"), at("biometric_recorded")
        i_desa, i_desa_name = at("desa_code"), at("desa_name")
        i_kec, i_kec_name = at("kecamatan_code"), at("kecamatan_name")
        parts = [at(f) for f in ("prop_part", "kab_part", "kec_part", "kel_part")]
        use_parts = i_desa is None and None not in parts
        parts_label = "/".join(labels.get(f, "") for f in ("prop_part", "kab_part", "kec_part", "kel_part"))
        label = labels.get

        def checked_number(field, i, check, cells, row, errors) -> str:
            """The NIK/KK as digits; appends to `errors` what the validator (or the spreadsheet) got wrong."""
            text = cells[i]
            problem = number_problem(row[i]) if typed else None
            if problem:
                errors.append((label(field), text, problem))
                return text
            checked = check(text)
            if isinstance(checked, ParsedNumber):
                if checked.errors:
                    errors.append((label(field), text, system_text_join(checked.errors, " ")))
                return checked.number
            return text  # clean: the validator's fast path returned the number as given

        unknown_religion = _("agama tidak dikenal")
        unknown_relation = _("hubungan keluarga tidak dikenal")
        unknown_marital = _(
            "status perkawinan tidak dikenal; pakai BELUM KAWIN, KAWIN, CERAI HIDUP, CERAI MATI atau 1-4"
        )
        unknown_recorded = _("status perekaman tidak dikenal; pakai SUDAH REKAM/BELUM REKAM, Y/N atau 1/0")
        not_rt_rw = _("harus angka, sampai 3 digit")

        def coded(field, i, table, unknown, cells, errors, empty=""):
            """A SIAK label or code (AGAMA, STAT_HBKEL, STAT_KWN, STAT_REKAM) as the model's value; `empty`
            when the cell is empty or unknown (an unknown one also refuses the row)."""
            if i is None or not cells[i]:
                return empty
            text = cells[i]
            value = table.get(text)
            if value is None:
                value = table.get(" ".join(text.upper().split()))
            if value is None:
                errors.append((label(field), text, unknown))
                return empty
            return value

        def padded(field, i, cells, errors) -> str:
            """RT/RW as three digits ("1" -> "001"); '' when empty or not a number."""
            text = cells[i] if i is not None else ""
            if not text or (len(text) <= 3 and text.isdigit() and text.isascii()):
                return text.zfill(3) if text else ""
            errors.append((label(field), text, not_rt_rw))
            return ""

        def parse(row_no: int, row: Sequence[object]):
            if len(row) < width:
                row = [*row, *([None if typed else ""] * (width - len(row)))]
            cells = [_text(c) for c in row] if typed else [c.strip() for c in row]
            errors: list[RowError] = []
            if check_nul and any("\x00" in c for c in cells):
                return [
                    (headers.get(i, ""), c.replace("\x00", "\\x00"), _("berisi karakter NUL (\\x00); berkas rusak?"))
                    for i, c in enumerate(cells)
                    if "\x00" in c
                ]

            nik = checked_number("nik", i_nik, numbers.nik, cells, row, errors)
            kk = ""
            if i_kk is not None and cells[i_kk]:
                kk = checked_number("kk_number", i_kk, numbers.kk, cells, row, errors)

            name = cells[i_name]
            if "  " in name or "\t" in name or "\n" in name:
                name = " ".join(name.split())
            if not name:
                errors.append((label("full_name"), "", _("nama wajib diisi")))
            elif len(name) > 150:
                errors.append((label("full_name"), name[:255], _("nama lebih dari 150 huruf")))

            place = cells[i_place] if i_place is not None else ""
            if len(place) > 100:
                errors.append((label("birth_place"), place[:255], _("tempat lahir lebih dari 100 huruf")))

            raw = row[i_birth]
            if typed and isinstance(raw, date):
                birth = raw.date() if isinstance(raw, datetime) else raw
            else:
                text = cells[i_birth]
                birth = parse_date(text) if text else _("tanggal lahir wajib diisi")
                if type(birth) is str:
                    errors.append((label("birth_date"), text, birth))

            text = cells[i_sex]
            sex = _SEX.get(text) or _SEX.get(text.upper())
            if sex is None:
                errors.append((label("sex"), text, _("jenis kelamin harus L atau P")))

            religion = coded("religion", i_religion, _RELIGION, unknown_religion, cells, errors)

            address = cells[i_address] if i_address is not None else ""
            if len(address) > 255:
                errors.append((label("address"), address[:255], _("alamat lebih dari 255 huruf")))

            rt = padded("rt", i_rt, cells, errors)
            rw = padded("rw", i_rw, cells, errors)
            relation = coded("relation_to_head", i_relation, _RELATION, unknown_relation, cells, errors)
            marital = coded("marital_status", i_marital, _MARITAL, unknown_marital, cells, errors)
            recorded = coded("biometric_recorded", i_recorded, _RECORDED, unknown_recorded, cells, errors, None)

            phone = ""
            if i_phone is not None and cells[i_phone]:
                text = cells[i_phone]
                phone, reason = check_phone(text)
                if reason:
                    errors.append((label("whatsapp"), text, reason))

            if use_parts:
                found = regions.desa_from_parts(*(cells[i] for i in parts))
                column = parts_label
            elif i_desa is not None and cells[i_desa]:
                found = regions.desa_from_code(cells[i_desa], cells[i_kec] if i_kec is not None else "")
                column = label("desa_code")
            else:
                found = regions.desa_from_names(
                    cells[i_desa_name] if i_desa_name is not None else "",
                    cells[i_kec] if i_kec is not None else "",
                    cells[i_kec_name] if i_kec_name is not None else "",
                )
                column = label("desa_name") or label("desa_code")
            if found[0] is None:
                errors.append((column, found[1], found[2]))
                desa = kecamatan = ""
            else:
                desa, kecamatan = found

            if errors:
                return errors
            return (
                row_no,
                nik,
                kk,
                name,
                place,
                birth,
                sex,
                religion,
                address,
                rt,
                rw,
                desa,
                kecamatan,
                phone,
                relation,
                marital,
                recorded,
            )

        return parse
