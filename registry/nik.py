"""Parse and validate NIK and KK numbers. Pure functions: the region table is reached through a callable.

NIK = PP KK CC DDMMYY SSSS: the Kemendagri province/kabupaten/kecamatan code where the number was first
registered, the birth date (day + 40 for women) and a serial from 0001. A KK number has the same region
head, the KK's registration date (no +40) and a family serial.

Errors make a number unusable; warnings are shown to the clerk and never block (an old region code from
before a region split, a NIK whose date or sex disagrees with the record). Every problem is reported, not
only the first. Messages are Indonesian source strings wrapped in gettext.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_noop

from messaging.system_text import system_text, system_text_join
from registry import clock

RegionExists = Callable[[str], bool]
"""Is this dotted region code ("35", "35.02", "35.02.01") in the current decree?"""

DECREE = "Kepmendagri 300.2.2-2138/2025"
# Kabupaten/kota codes that moved when Papua was split in 2022; NIKs issued before keep the old code.
RENAMED_CODES = {"91.01": "93.01", "92.71": "96.71"}

# Whitespace (\s covers tab, NBSP, figure and narrow spaces), dots, hyphens and dashes, zero-width space, BOM.
_PASTED_SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015\u2212\u200b\ufeff]+")
_NOT_ASCII_DIGIT = re.compile(r"[^0-9]")


@dataclass(frozen=True, slots=True)
class ParsedNumber:
    """The result of parse_nik / parse_kk. Fields after `warnings` are None when not readable."""

    raw: str  # what was given
    number: str  # the ASCII digits of the normalised input
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    province_code: str | None = None  # "35"
    kabupaten_code: str | None = None  # "35.02"
    kecamatan_code: str | None = None  # "35.02.01"
    date: date | None = None  # birth date (NIK) or registration date (KK); None if not a real date
    sex: str | None = None  # "L" or "P" for a NIK, None for a KK
    serial: str | None = None  # "0001"

    @property
    def is_valid(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors


def normalize_number(raw: str) -> str:
    """Drop the spaces, dots, dashes, tabs and non-breaking spaces that come with a pasted number."""
    return _PASTED_SEPARATORS.sub("", raw or "").strip()


def _check_structure(raw: str, label: str) -> tuple[str, list[str]]:
    """The ASCII digits of the input, and errors unless it is exactly 16 of them and nothing else."""
    text = normalize_number(raw)
    digits = _NOT_ASCII_DIGIT.sub("", text)
    if not text:
        return digits, [system_text(gettext_noop("%(label)s wajib diisi."), label=label)]
    if digits != text:
        others = [c for c in text if not "0" <= c <= "9"]
        if any(c.isalpha() for c in others):
            found = system_text(gettext_noop("huruf"))
        elif any(c.isdigit() for c in others):
            found = system_text(gettext_noop("angka selain 0-9 (misalnya angka Arab atau angka lebar penuh)"))
        else:
            found = system_text(gettext_noop("tanda %(chars)s"), chars="".join(dict.fromkeys(others)))
        return digits, [
            system_text(
                gettext_noop("%(label)s hanya boleh berisi angka: ditemukan %(found)s."), label=label, found=found
            )
        ]
    if len(digits) != 16:
        message = gettext_noop("%(label)s harus 16 digit angka; yang dimasukkan %(count)d digit.")
        return digits, [system_text(message, label=label, count=len(digits))]
    return digits, []


def _check_region(
    number: str, region_exists: RegionExists | None, errors: list[str], warnings: list[str]
) -> tuple[str, str, str]:
    """Dotted province, kabupaten and kecamatan codes of digits 1-6; appends what is wrong with them."""
    province = number[0:2]
    kabupaten = f"{province}.{number[2:4]}"
    kecamatan = f"{kabupaten}.{number[4:6]}"
    kabupaten_zero, kecamatan_zero = number[2:4] == "00", number[4:6] == "00"
    if kabupaten_zero:
        errors.append(system_text(gettext_noop("Kode kabupaten/kota pada digit 3-4 tidak boleh 00.")))
    if kecamatan_zero:
        errors.append(system_text(gettext_noop("Kode kecamatan pada digit 5-6 tidak boleh 00.")))
    if region_exists is None:
        return province, kabupaten, kecamatan
    if not region_exists(province):
        errors.append(system_text(gettext_noop("Kode provinsi %(code)s tidak dikenal."), code=province))
        return province, kabupaten, kecamatan
    levels = (
        (system_text(gettext_noop("kabupaten/kota")), kabupaten, kabupaten_zero),
        (system_text(gettext_noop("kecamatan")), kecamatan, kecamatan_zero),
    )
    for level, code, is_zero in levels:
        if is_zero:
            break
        if not region_exists(code):
            message = system_text(
                gettext_noop(
                    "Kode %(level)s %(code)s tidak ada dalam %(decree)s; mungkin kode lama sebelum pemekaran wilayah."
                ),
                level=level,
                code=code,
                decree=DECREE,
            )
            if code in RENAMED_CODES:
                message = system_text_join(
                    [message, system_text(gettext_noop("Kode sekarang: %(new)s."), new=RENAMED_CODES[code])]
                )
            warnings.append(message)
            break  # an unknown kabupaten makes its kecamatan unknown too: one warning is enough
    return province, kabupaten, kecamatan


def _infer_year(yy: int, month: int, day: int, today: date) -> int:
    """20YY unless that day would lie after today, then 19YY."""
    return 2000 + yy if (2000 + yy, month, day) <= (today.year, today.month, today.day) else 1900 + yy


def _real_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_nik(raw: str, *, region_exists: RegionExists | None = None, today: date | None = None) -> ParsedNumber:
    """Check a NIK; every problem found is listed, not only the first."""
    today = today or clock.today()
    number, errors = _check_structure(raw, "NIK")
    if errors:
        return ParsedNumber(raw=raw, number=number, errors=tuple(errors), warnings=())
    warnings: list[str] = []
    province, kabupaten, kecamatan = _check_region(number, region_exists, errors, warnings)
    dd, mm, yy = number[6:8], number[8:10], number[10:12]
    day, month = int(dd), int(mm)
    sex = None
    if 1 <= day <= 31 or 41 <= day <= 71:
        sex = "P" if day > 40 else "L"
        day = day - 40 if day > 40 else day
    else:
        message = gettext_noop(
            "Tanggal lahir pada NIK (digit 7-8) harus 01-31, atau 41-71 untuk perempuan; tertulis %(dd)s."
        )
        errors.append(system_text(message, dd=dd))
    if not 1 <= month <= 12:
        errors.append(
            system_text(gettext_noop("Bulan lahir pada NIK (digit 9-10) harus 01-12; tertulis %(mm)s."), mm=mm)
        )
    birth = None
    if sex and 1 <= month <= 12:
        year = _infer_year(int(yy), month, day, today)
        birth = _real_date(year, month, day)
        if birth is None:
            message = gettext_noop("Tanggal lahir pada NIK tidak valid: %(day)02d-%(month)02d-%(year)d tidak ada.")
            errors.append(system_text(message, day=day, month=month, year=year))
        elif birth > today:  # only when `today` itself lies before 19YY
            errors.append(
                system_text(
                    gettext_noop("Tanggal lahir pada NIK ada di masa depan: %(date)s."), date=f"{birth:%d-%m-%Y}"
                )
            )
            birth = None
    serial = number[12:16]
    if serial == "0000":
        errors.append(system_text(gettext_noop("Nomor urut NIK tidak boleh 0000.")))
    return ParsedNumber(
        raw=raw,
        number=number,
        errors=tuple(errors),
        warnings=tuple(warnings),
        province_code=province,
        kabupaten_code=kabupaten,
        kecamatan_code=kecamatan,
        date=birth,
        sex=sex,
        serial=serial,
    )


def parse_kk(raw: str, *, region_exists: RegionExists | None = None, today: date | None = None) -> ParsedNumber:
    """Check a KK number: region head, registration date (no +40 rule, not in the future), serial.

    The KK date rule comes from a secondary source, so only an impossible day/month (31-04, month 13) or a
    date after today is an error; 29 February of a non-leap year is a warning and leaves `date` None.
    """
    today = today or clock.today()
    number, errors = _check_structure(raw, system_text(gettext_noop("Nomor KK")))
    if errors:
        return ParsedNumber(raw=raw, number=number, errors=tuple(errors), warnings=())
    warnings: list[str] = []
    province, kabupaten, kecamatan = _check_region(number, region_exists, errors, warnings)
    dd, mm, yy = number[6:8], number[8:10], number[10:12]
    day, month = int(dd), int(mm)
    registered = None
    if not 1 <= month <= 12:
        errors.append(
            system_text(gettext_noop("Bulan pada nomor KK (digit 9-10) harus 01-12; tertulis %(mm)s."), mm=mm)
        )
    elif not 1 <= day <= calendar.monthrange(2000, month)[1]:  # 2000 is a leap year: 29-02 is possible
        errors.append(
            system_text(gettext_noop("Tanggal pada nomor KK tidak valid: %(dd)s-%(mm)s tidak ada."), dd=dd, mm=mm)
        )
    else:
        year = _infer_year(int(yy), month, day, today)
        if (year, month, day) > (today.year, today.month, today.day):
            message = gettext_noop("Tanggal pada nomor KK ada di masa depan: %(dd)s-%(mm)s-%(year)d.")
            errors.append(system_text(message, dd=dd, mm=mm, year=year))
        else:
            registered = _real_date(year, month, day)
            if registered is None:
                message = gettext_noop(
                    "Tanggal pada nomor KK 29-02-%(year)d tidak ada (bukan tahun kabisat); periksa nomornya."
                )
                warnings.append(system_text(message, year=year))
    serial = number[12:16]
    if serial == "0000":
        errors.append(system_text(gettext_noop("Nomor urut KK tidak boleh 0000.")))
    return ParsedNumber(
        raw=raw,
        number=number,
        errors=tuple(errors),
        warnings=tuple(warnings),
        province_code=province,
        kabupaten_code=kabupaten,
        kecamatan_code=kecamatan,
        date=registered,
        serial=serial,
    )


def compare_nik_with_record(parsed: ParsedNumber, *, birth_date: date | None, sex: str | None) -> list[str]:
    """Warnings (never errors) where the NIK disagrees with the recorded birth date or sex.

    Day, month and two-digit year are compared; the century is not, since the NIK does not carry it.
    Whatever the NIK or the record leaves unknown is not compared.
    """
    warnings = []
    nik_date = parsed.date
    if birth_date is not None and nik_date is not None and f"{birth_date:%d%m%y}" != f"{nik_date:%d%m%y}":
        message = gettext_noop("Tanggal lahir %(record)s tidak sama dengan tanggal pada NIK (%(nik)s).")
        warnings.append(system_text(message, record=f"{birth_date:%d-%m-%Y}", nik=f"{nik_date:%d-%m-%y}"))
    record_sex = (sex or "").strip().upper()
    if record_sex in ("L", "P") and parsed.sex is not None and record_sex != parsed.sex:
        labels = {"L": system_text(gettext_noop("Laki-laki")), "P": system_text(gettext_noop("Perempuan"))}
        explained = {
            "L": system_text(gettext_noop("laki-laki: tanggal tanpa + 40")),
            "P": system_text(gettext_noop("perempuan: tanggal + 40")),
        }
        message = gettext_noop("Jenis kelamin %(record)s tidak sama dengan NIK (%(nik)s).")
        warnings.append(system_text(message, record=labels[record_sex], nik=explained[parsed.sex]))
    return warnings


def _region_digits(kecamatan_code: str) -> str:
    digits = kecamatan_code.replace(".", "")
    if not re.fullmatch(r"[0-9]{6}", digits):
        raise ValueError(f"kecamatan code must have 6 digits, got {kecamatan_code!r}")
    return digits


def _check_serial(serial: int) -> None:
    if not 1 <= serial <= 9999:
        raise ValueError(f"serial must be 1..9999, got {serial!r}")


def make_nik(*, kecamatan_code: str, birth_date: date, sex: str, serial: int) -> str:
    """The NIK for these facts (demo data and test factories); the inverse of parse_nik.

    Only the two-digit year is kept, so parse_nik gives the century back only for births within the last
    hundred years.
    """
    if sex not in ("L", "P"):
        raise ValueError(f"sex must be 'L' or 'P', got {sex!r}")
    _check_serial(serial)
    day = birth_date.day + (40 if sex == "P" else 0)
    return f"{_region_digits(kecamatan_code)}{day:02d}{birth_date:%m%y}{serial:04d}"


def make_kk(*, kecamatan_code: str, registered_on: date, serial: int) -> str:
    """The KK number for a family registered in a kecamatan on a date; the inverse of parse_kk."""
    _check_serial(serial)
    return f"{_region_digits(kecamatan_code)}{registered_on:%d%m%y}{serial:04d}"


class BulkNumberChecker:
    """parse_nik / parse_kk for a million rows: the same rules, with the verdict on each part cached.

    A NIK's or KK's verdict depends only on its region head (digits 1-6), its date part (digits 7-12) and
    whether the serial is 0000, so each distinct head and date is parsed once, through parse_nik /
    parse_kk themselves, and a number whose parts are all clean costs two dictionary lookups. Anything
    else (a separator, a bad part, an old region code) goes through the full parser, which explains it.
    """

    _CLEAN_DATE = "010100"  # 1 January 2000: a date every rule accepts, to test a region head alone
    _CLEAN_HEAD = "350201"  # parsed without a region table, to test a date part alone

    def __init__(self, *, region_exists: RegionExists | None, today: date | None = None) -> None:
        self.region_exists = region_exists
        self.today = today or clock.today()
        self._heads: dict[str, bool] = {}
        self._nik_dates: dict[str, tuple[date, str] | None] = {}
        self._kk_dates: dict[str, bool] = {}

    def _head_is_clean(self, head: str) -> bool:
        clean = self._heads.get(head)
        if clean is None:
            parsed = parse_nik(f"{head}{self._CLEAN_DATE}0001", region_exists=self.region_exists, today=self.today)
            clean = self._heads[head] = not parsed.errors and not parsed.warnings
        return clean

    def nik(self, raw: str) -> ParsedNumber | tuple[str, date, str]:
        """(number, birth date, sex) for a clean NIK, else the full ParsedNumber with its errors/warnings."""
        if len(raw) == 16 and raw.isdigit() and raw.isascii() and raw[12:] != "0000" and self._head_is_clean(raw[:6]):
            part = raw[6:12]
            if part not in self._nik_dates:
                parsed = parse_nik(f"{self._CLEAN_HEAD}{part}0001", today=self.today)
                self._nik_dates[part] = None if parsed.errors else (parsed.date, parsed.sex)
            known = self._nik_dates[part]
            if known is not None:
                return raw, known[0], known[1]
        return parse_nik(raw, region_exists=self.region_exists, today=self.today)

    def kk(self, raw: str) -> ParsedNumber | str:
        """The number of a clean KK, else the full ParsedNumber with its errors/warnings."""
        if len(raw) == 16 and raw.isdigit() and raw.isascii() and raw[12:] != "0000" and self._head_is_clean(raw[:6]):
            part = raw[6:12]
            clean = self._kk_dates.get(part)
            if clean is None:
                parsed = parse_kk(f"{self._CLEAN_HEAD}{part}0001", today=self.today)
                clean = self._kk_dates[part] = not parsed.errors and not parsed.warnings
            if clean:
                return raw
        return parse_kk(raw, region_exists=self.region_exists, today=self.today)
