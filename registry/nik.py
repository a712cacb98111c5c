"""Parse and validate NIK and KK numbers. Pure functions: the region table is reached through a callable.

NIK = PP KK CC DDMMYY SSSS: the Kemendagri province/kabupaten/kecamatan code where the number was first
registered, the birth date (day + 40 for women) and a serial from 0001. A KK number has the same region
head, the KK's registration date (no +40) and a family serial.

Errors make a number unusable; warnings are shown to the clerk and never block (an old region code from
before a region split, a NIK whose date or sex disagrees with the record).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

RegionExists = Callable[[str], bool]

DECREE = "Kepmendagri 300.2.2-2138/2025"
# Codes that moved when Papua was split in 2022; NIKs issued before keep the old code.
RENAMED_CODES = {"91.01": "93.01", "92.71": "96.71"}

_PASTED_SEPARATORS = re.compile(r"[\s.\-\u00a0\u2007\u202f]+")
_ASCII_DIGITS = re.compile(r"[0-9]*")


@dataclass(frozen=True, slots=True)
class ParsedNumber:
    raw: str
    number: str
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    province_code: str | None = None
    kabupaten_code: str | None = None
    kecamatan_code: str | None = None
    date: date | None = None
    sex: str | None = None
    serial: str | None = None

    @property
    def is_valid(self) -> bool:
        return not self.errors


def normalize_number(raw: str) -> str:
    """Drop the spaces, dots and dashes that come with a number pasted from a document."""
    return _PASTED_SEPARATORS.sub("", raw or "")


def _century(yy: int, month: int, day: int, today: date) -> int:
    """20YY unless that date would lie after today, then 19YY."""
    try:
        return 2000 + yy if date(2000 + yy, month, day) <= today else 1900 + yy
    except ValueError:
        return 2000 + yy if 2000 + yy <= today.year else 1900 + yy


def _check_structure(raw: str, label: str) -> tuple[str, list[str]]:
    number = normalize_number(raw)
    errors = []
    if not number:
        errors.append(_("%(label)s wajib diisi.") % {"label": label})
    elif not _ASCII_DIGITS.fullmatch(number):
        errors.append(_("%(label)s hanya boleh berisi angka 0-9: ditemukan huruf atau tanda lain.") % {"label": label})
    elif len(number) != 16:
        errors.append(
            _("%(label)s harus 16 digit angka; yang dimasukkan %(count)d digit.")
            % {"label": label, "count": len(number)}
        )
    return number, errors


def _check_region(
    number: str, region_exists: RegionExists | None, errors: list[str], warnings: list[str]
) -> tuple[str, str, str]:
    province, kabupaten, kecamatan = (
        number[0:2],
        f"{number[0:2]}.{number[2:4]}",
        f"{number[0:2]}.{number[2:4]}.{number[4:6]}",
    )
    if number[2:4] == "00":
        errors.append(_("Kode kabupaten/kota pada digit 3-4 tidak boleh 00."))
    if number[4:6] == "00":
        errors.append(_("Kode kecamatan pada digit 5-6 tidak boleh 00."))
    if region_exists is None or errors:
        return province, kabupaten, kecamatan
    if not region_exists(province):
        errors.append(_("Kode provinsi %(code)s tidak dikenal.") % {"code": province})
        return province, kabupaten, kecamatan
    for code in (kabupaten, kecamatan):
        if not region_exists(code):
            old = next((new for old, new in RENAMED_CODES.items() if code.startswith(old)), None)
            message = _("Kode wilayah %(code)s tidak ada dalam %(decree)s; mungkin kode lama sebelum pemekaran.") % {
                "code": code,
                "decree": DECREE,
            }
            if old:
                message += " " + _("Kode barunya %(new)s.") % {"new": old}
            warnings.append(message)
            break
    return province, kabupaten, kecamatan


def _real_date(day: int, month: int, yy: int, today: date) -> date | None:
    try:
        date(2000, month, day)  # day and month exist in some year (29-02 in a leap year)
    except ValueError:
        return None
    year = _century(yy, month, day, today)
    try:
        return date(year, month, day)
    except ValueError:
        # 29 February: try the other century before declaring it impossible (1900 is not a leap year).
        other = year - 100 if year >= 2000 else year + 100
        try:
            candidate = date(other, month, day)
        except ValueError:
            return None
        return candidate if candidate <= today else None


def parse_nik(raw: str, *, region_exists: RegionExists | None = None, today: date | None = None) -> ParsedNumber:
    """Check a NIK; every problem found is listed, not only the first."""
    today = today or date.today()
    number, errors = _check_structure(raw, "NIK")
    if errors:
        return ParsedNumber(raw=raw, number=number, errors=tuple(errors), warnings=())
    warnings: list[str] = []
    province, kabupaten, kecamatan = _check_region(number, region_exists, errors, warnings)
    day, month, yy = int(number[6:8]), int(number[8:10]), int(number[10:12])
    sex = "P" if day > 40 else "L"
    birth = None
    if not (1 <= day <= 31 or 41 <= day <= 71):
        errors.append(
            _("Tanggal lahir pada NIK (digit 7-8) harus 01-31, atau 41-71 untuk perempuan; tertulis %(dd)s.")
            % {"dd": number[6:8]}
        )
    elif not 1 <= month <= 12:
        errors.append(_("Bulan lahir pada NIK (digit 9-10) harus 01-12; tertulis %(mm)s.") % {"mm": number[8:10]})
    else:
        birth = _real_date(day - 40 if day > 40 else day, month, yy, today)
        if birth is None:
            errors.append(
                _("Tanggal lahir pada NIK tidak ada di kalender: %(d)02d-%(m)02d-%(y)s.")
                % {"d": day - 40 if day > 40 else day, "m": month, "y": number[10:12]}
            )
    serial = number[12:16]
    if serial == "0000":
        errors.append(_("Nomor urut NIK (4 digit terakhir) tidak boleh 0000."))
    return ParsedNumber(
        raw=raw,
        number=number,
        errors=tuple(errors),
        warnings=tuple(warnings),
        province_code=province,
        kabupaten_code=kabupaten,
        kecamatan_code=kecamatan,
        date=birth,
        sex=sex if birth else None,
        serial=serial,
    )


def parse_kk(raw: str, *, region_exists: RegionExists | None = None, today: date | None = None) -> ParsedNumber:
    """Check a KK number: region head, registration date (no +40 rule, not in the future), serial."""
    today = today or date.today()
    number, errors = _check_structure(raw, _("Nomor KK"))
    if errors:
        return ParsedNumber(raw=raw, number=number, errors=tuple(errors), warnings=())
    warnings: list[str] = []
    province, kabupaten, kecamatan = _check_region(number, region_exists, errors, warnings)
    day, month, yy = int(number[6:8]), int(number[8:10]), int(number[10:12])
    registered = _real_date(day, month, yy, today) if 1 <= month <= 12 and 1 <= day <= 31 else None
    if registered is None:
        errors.append(
            _("Tanggal pada nomor KK (digit 7-12) tidak ada atau di masa depan: %(dd)s-%(mm)s-%(yy)s.")
            % {"dd": number[6:8], "mm": number[8:10], "yy": number[10:12]}
        )
    serial = number[12:16]
    if serial == "0000":
        errors.append(_("Nomor urut KK (4 digit terakhir) tidak boleh 0000."))
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


SEX_LABELS = {"L": "laki-laki", "P": "perempuan"}


def compare_nik_with_record(parsed: ParsedNumber, *, birth_date: date | None, sex: str | None) -> list[str]:
    """Warnings (never errors) where the NIK disagrees with the recorded birth date or sex.

    Day, month and two-digit year are compared; the century is not, since the NIK does not carry it.
    """
    if not parsed.is_valid or parsed.date is None:
        return []
    warnings = []
    if birth_date is not None and birth_date.strftime("%d%m%y") != parsed.date.strftime("%d%m%y"):
        warnings.append(
            _("Tanggal lahir %(record)s tidak sama dengan tanggal pada NIK (%(nik)s).")
            % {"record": birth_date.strftime("%d-%m-%Y"), "nik": parsed.date.strftime("%d-%m-%y")}
        )
    if sex in SEX_LABELS and sex != parsed.sex:
        warnings.append(
            _("Jenis kelamin %(record)s tidak sama dengan NIK, yang menunjukkan %(nik)s (tanggal+40 = perempuan).")
            % {"record": SEX_LABELS[sex], "nik": SEX_LABELS[parsed.sex]}
        )
    return warnings


def _region_digits(kecamatan_code: str) -> str:
    digits = kecamatan_code.replace(".", "")
    if not re.fullmatch(r"[0-9]{6}", digits):
        raise ValueError(f"kecamatan code must have 6 digits, got {kecamatan_code!r}")
    return digits


def make_nik(*, kecamatan_code: str, birth_date: date, sex: str, serial: int) -> str:
    """The NIK for these facts (demo data and test factories); the inverse of parse_nik."""
    if sex not in SEX_LABELS:
        raise ValueError("sex must be 'L' or 'P'")
    if not 1 <= serial <= 9999:
        raise ValueError("serial must be 1..9999")
    day = birth_date.day + (40 if sex == "P" else 0)
    return f"{_region_digits(kecamatan_code)}{day:02d}{birth_date:%m%y}{serial:04d}"


def make_kk(*, kecamatan_code: str, registered_on: date, serial: int) -> str:
    """The KK number for a family registered in a kecamatan on a date."""
    if not 1 <= serial <= 9999:
        raise ValueError("serial must be 1..9999")
    return f"{_region_digits(kecamatan_code)}{registered_on:%d%m%y}{serial:04d}"
