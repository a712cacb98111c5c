"""NIK and KK number parsing: pure functions, no database."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from django.utils import translation

from registry.nik import (
    DECREE,
    ParsedNumber,
    compare_nik_with_record,
    make_kk,
    make_nik,
    normalize_number,
    parse_kk,
    parse_nik,
)

TODAY = date(2025, 6, 15)
CODES = frozenset({"35", "35.02", "35.02.01", "35.02.02", "93", "93.01", "91", "96", "96.71", "92"})
region_exists = CODES.__contains__


@pytest.fixture(autouse=True)
def _indonesian():
    """The source strings are Indonesian; pin the language so an English catalogue cannot change them."""
    with translation.override("id"):
        yield


def nik(raw: str, **kwargs) -> ParsedNumber:
    kwargs.setdefault("region_exists", region_exists)
    kwargs.setdefault("today", TODAY)
    return parse_nik(raw, **kwargs)


def kk(raw: str, **kwargs) -> ParsedNumber:
    kwargs.setdefault("region_exists", region_exists)
    kwargs.setdefault("today", TODAY)
    return parse_kk(raw, **kwargs)


# --- NIK: valid numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "birth", "sex"),
    [
        ("3502011205900001", date(1990, 5, 12), "L"),
        ("3502015205900002", date(1990, 5, 12), "P"),
        ("3502020101850003", date(1985, 1, 1), "L"),
        ("3502024101850003", date(1985, 1, 1), "P"),  # 41 = 1st, female
        ("3502013112990004", date(1999, 12, 31), "L"),
        ("3502017112990004", date(1999, 12, 31), "P"),  # 71 = 31st, female
        ("3502012902000005", date(2000, 2, 29), "L"),  # YY=00 is 2000, a leap year
        ("3502016902960006", date(1996, 2, 29), "P"),
        ("3502012902240007", date(2024, 2, 29), "L"),
        ("3502013004109999", date(2010, 4, 30), "L"),
    ],
)
def test_valid_nik_gives_birth_date_sex_and_serial(raw, birth, sex):
    parsed = nik(raw)
    assert parsed.is_valid, parsed.errors
    assert parsed.errors == ()
    assert parsed.warnings == ()
    assert parsed.number == raw
    assert parsed.date == birth
    assert parsed.sex == sex
    assert parsed.serial == raw[12:]


def test_valid_nik_gives_dotted_region_codes():
    parsed = nik("3502025205900002")
    assert (parsed.province_code, parsed.kabupaten_code, parsed.kecamatan_code) == ("35", "35.02", "35.02.02")


# --- NIK: dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dd", ["00", "32", "39", "40", "72", "99"])
def test_nik_day_outside_1_31_and_41_71_is_an_error(dd):
    parsed = nik(f"350201{dd}05900001")
    assert not parsed.is_valid
    assert parsed.date is None
    assert parsed.sex is None
    assert len(parsed.errors) == 1
    assert "digit 7-8" in parsed.errors[0]
    assert f"tertulis {dd}" in parsed.errors[0]


@pytest.mark.parametrize("mm", ["00", "13", "99"])
def test_nik_month_outside_1_12_is_an_error(mm):
    parsed = nik(f"35020112{mm}900001")
    assert not parsed.is_valid
    assert parsed.date is None
    assert parsed.errors == (f"Bulan lahir pada NIK (digit 9-10) harus 01-12; tertulis {mm}.",)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("3502013002900001", "Tanggal lahir pada NIK tidak valid: 30-02-1990 tidak ada."),
        ("3502012902230001", "Tanggal lahir pada NIK tidak valid: 29-02-2023 tidak ada."),
        ("3502016902230001", "Tanggal lahir pada NIK tidak valid: 29-02-2023 tidak ada."),  # female, 69 = 29
        ("3502012902990001", "Tanggal lahir pada NIK tidak valid: 29-02-1999 tidak ada."),
        ("3502012902900001", "Tanggal lahir pada NIK tidak valid: 29-02-1990 tidak ada."),
        ("3502013104900001", "Tanggal lahir pada NIK tidak valid: 31-04-1990 tidak ada."),
        ("3502017104900001", "Tanggal lahir pada NIK tidak valid: 31-04-1990 tidak ada."),  # female, 71 = 31
        ("3502013106900001", "Tanggal lahir pada NIK tidak valid: 31-06-1990 tidak ada."),
        ("3502013111900001", "Tanggal lahir pada NIK tidak valid: 31-11-1990 tidak ada."),
    ],
)
def test_nik_date_missing_from_the_calendar_is_an_error(raw, message):
    parsed = nik(raw)
    assert not parsed.is_valid
    assert parsed.date is None
    assert parsed.errors == (message,)


@pytest.mark.parametrize(
    ("yy_mm_dd", "today", "expected"),
    [
        ("25-06-15", TODAY, date(2025, 6, 15)),  # today itself is not after today
        ("25-06-16", TODAY, date(1925, 6, 16)),  # tomorrow in 2025 -> 1925
        ("24-12-31", TODAY, date(2024, 12, 31)),
        ("26-01-01", TODAY, date(1926, 1, 1)),
        ("00-01-01", TODAY, date(2000, 1, 1)),
        ("99-01-01", TODAY, date(1999, 1, 1)),
        ("24-01-01", date(2010, 1, 1), date(1924, 1, 1)),
        ("10-01-01", date(2010, 1, 1), date(2010, 1, 1)),
        ("10-01-02", date(2010, 1, 1), date(1910, 1, 2)),
    ],
)
def test_nik_century_is_20yy_unless_that_is_after_today(yy_mm_dd, today, expected):
    yy, mm, dd = yy_mm_dd.split("-")
    parsed = nik(f"350201{dd}{mm}{yy}0001", today=today)
    assert parsed.is_valid, parsed.errors
    assert parsed.date == expected
    assert parsed.date <= today


def test_nik_default_today_is_the_clocks(frozen_today):
    """Without `today`, a two-digit year is read against the clock's today: the same year's last two digits
    belong to this century, the next year's to the last (a birth date is never in the future)."""
    this_year = frozen_today.replace(month=1, day=1)
    next_year = frozen_today.replace(year=frozen_today.year + 1, month=1, day=1)
    parsed = parse_nik(make_nik(kecamatan_code="35.02.01", birth_date=this_year, sex="L", serial=1))
    assert parsed.date == this_year
    parsed = parse_nik(make_nik(kecamatan_code="35.02.01", birth_date=next_year, sex="L", serial=1))
    assert parsed.date == next_year.replace(year=next_year.year - 100)


# --- NIK: serial --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("serial", "valid"), [("0000", False), ("0001", True), ("9999", True)])
def test_nik_serial_0000_is_an_error(serial, valid):
    parsed = nik(f"350201120590{serial}")
    assert parsed.is_valid is valid
    assert ("Nomor urut NIK tidak boleh 0000." in parsed.errors) is not valid


# --- NIK: region --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "old", "new"),
    [
        ("9101015205850002", "91.01", "93.01"),  # Merauke, before Papua Selatan was split off
        ("9271011205900001", "92.71", "96.71"),  # Kota Sorong, before Papua Barat Daya
    ],
)
def test_pre_2022_papua_code_is_valid_with_a_warning_naming_the_new_code(raw, old, new):
    parsed = nik(raw)
    assert parsed.is_valid, parsed.errors
    assert len(parsed.warnings) == 1
    warning = parsed.warnings[0]
    assert old in warning
    assert DECREE in warning
    assert "pemekaran" in warning
    assert f"Kode sekarang: {new}." in warning
    assert parsed.kabupaten_code == old


def test_merauke_nik_reads_its_date_and_sex():
    parsed = nik("9101015205850002")
    assert (parsed.date, parsed.sex) == (date(1985, 5, 12), "P")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("3502991205900001", "35.02.99"),  # kecamatan not in the decree
        ("3599011205900001", "35.99"),  # kabupaten not in the decree: one warning, not two
        ("9601011205900001", "96.01"),
    ],
)
def test_unknown_kabupaten_or_kecamatan_is_a_warning_not_an_error(raw, code):
    parsed = nik(raw)
    assert parsed.is_valid, parsed.errors
    assert len(parsed.warnings) == 1
    assert f" {code} " in parsed.warnings[0]
    assert "Kode sekarang" not in parsed.warnings[0]


@pytest.mark.parametrize("province", ["00", "10", "99"])
def test_unknown_province_is_an_error(province):
    parsed = nik(f"{province}01011205900001")
    assert not parsed.is_valid
    assert parsed.errors == (f"Kode provinsi {province} tidak dikenal.",)
    assert parsed.warnings == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("3500011205900001", "Kode kabupaten/kota pada digit 3-4 tidak boleh 00."),
        ("3502001205900001", "Kode kecamatan pada digit 5-6 tidak boleh 00."),
    ],
)
@pytest.mark.parametrize("lookup", [region_exists, None])
def test_zero_kabupaten_or_kecamatan_is_an_error_with_or_without_lookup(raw, message, lookup):
    parsed = nik(raw, region_exists=lookup)
    assert parsed.errors == (message,)
    assert parsed.warnings == ()


@pytest.mark.parametrize("raw", ["1001011205900001", "9999991205900001"])
def test_without_lookup_region_existence_is_not_checked(raw):
    assert nik(raw).is_valid is False
    assert nik(raw, region_exists=None).is_valid is True


# --- NIK: structure -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        ("35020112059O0001", "huruf"),  # letter O for zero
        ("3502011205900001a", "huruf"),
        ("NIK3502011205900001", "huruf"),
        (
            "\u0663\u0665\u0660\u0662\u0660\u0661\u0661\u0662\u0660\u0665\u0669\u0660\u0660\u0660\u0660\u0661",
            "angka selain 0-9",
        ),
        (
            "\uff13\uff15\uff10\uff12\uff10\uff11\uff11\uff12\uff10\uff15\uff19\uff10\uff10\uff10\uff10\uff11",
            "angka selain 0-9",
        ),
        ("350201120590000\u0661", "angka selain 0-9"),  # one Arabic-Indic digit
        ("3502/0112/0590/0001", "tanda /"),
    ],
)
def test_nik_with_anything_but_ascii_digits_is_an_error(raw, found):
    parsed = nik(raw)
    assert not parsed.is_valid
    assert len(parsed.errors) == 1
    assert parsed.errors[0].startswith("NIK hanya boleh berisi angka: ditemukan ")
    assert found in parsed.errors[0]
    assert parsed.date is None and parsed.province_code is None


def test_letters_message_is_exact():
    assert nik("35020112059O0001").errors == ("NIK hanya boleh berisi angka: ditemukan huruf.",)


def test_number_keeps_only_the_ascii_digits_found():
    assert nik("35020112059O0001").number == "350201120590001"
    assert nik("abc").number == ""


@pytest.mark.parametrize(
    ("raw", "count"),
    [("350201120590001", 15), ("35020112059000011", 17), ("3502", 4), ("3502 0112 0590 001", 15)],
)
def test_nik_of_wrong_length_names_the_digit_count(raw, count):
    parsed = nik(raw)
    assert parsed.errors == (f"NIK harus 16 digit angka; yang dimasukkan {count} digit.",)


@pytest.mark.parametrize("raw", ["", "   ", " . - "])
def test_empty_nik_is_an_error(raw):
    assert nik(raw).errors == ("NIK wajib diisi.",)


@pytest.mark.parametrize(
    "raw",
    [
        "3502011205900001",
        "3502 0112 0590 0001",
        "35.02.01.120590.0001",
        "35.02.01 120590 0001",
        "3502-0112-0590-0001",
        "3502\u20130112\u20130590\u20130001",  # en dash from a word processor
        "3502\u00a00112\u00a00590\u00a00001",  # non-breaking spaces
        "3502\u202f0112\u202f0590\u202f0001",  # narrow no-break spaces
        "\t3502011205900001 \n",
        "3502\t0112\t0590\t0001",
        "\ufeff3502011205900001",
    ],
)
def test_pasted_separators_are_removed(raw):
    assert normalize_number(raw) == "3502011205900001"
    parsed = nik(raw)
    assert parsed.is_valid, parsed.errors
    assert parsed.number == "3502011205900001"
    assert parsed.raw == raw


@pytest.mark.parametrize("raw", ["Siti Aminah", "35O2"])
def test_normalize_number_keeps_letters_for_callers_to_judge(raw):
    assert normalize_number(raw) == raw.replace(" ", "")


# --- NIK: several problems at once --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "1000003213000000",
            [
                "Kode kabupaten/kota pada digit 3-4 tidak boleh 00.",
                "Kode kecamatan pada digit 5-6 tidak boleh 00.",
                "Kode provinsi 10 tidak dikenal.",
                "Tanggal lahir pada NIK (digit 7-8) harus 01-31, atau 41-71 untuk perempuan; tertulis 32.",
                "Bulan lahir pada NIK (digit 9-10) harus 01-12; tertulis 13.",
                "Nomor urut NIK tidak boleh 0000.",
            ],
        ),
        (
            "3502003002900000",
            [
                "Kode kecamatan pada digit 5-6 tidak boleh 00.",
                "Tanggal lahir pada NIK tidak valid: 30-02-1990 tidak ada.",
                "Nomor urut NIK tidak boleh 0000.",
            ],
        ),
    ],
)
def test_all_errors_are_collected(raw, expected):
    assert sorted(nik(raw).errors) == sorted(expected)


def test_warning_and_errors_are_reported_together():
    parsed = nik("9101013002900000")
    assert len(parsed.warnings) == 1
    assert len(parsed.errors) == 2


def test_parsed_number_is_immutable():
    parsed = nik("3502011205900001")
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.sex = "P"


# --- KK -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "registered"),
    [
        ("3502011505100003", date(2010, 5, 15)),
        ("3502023112990001", date(1999, 12, 31)),
        ("3502011506250001", date(2025, 6, 15)),  # today
        ("3502012902240001", date(2024, 2, 29)),
        ("3502012902000001", date(2000, 2, 29)),
    ],
)
def test_valid_kk_gives_registration_date_and_no_sex(raw, registered):
    parsed = kk(raw)
    assert parsed.is_valid, parsed.errors
    assert parsed.warnings == ()
    assert parsed.date == registered
    assert parsed.sex is None
    assert parsed.serial == raw[12:]
    assert parsed.kecamatan_code == f"{raw[:2]}.{raw[2:4]}.{raw[4:6]}"


def test_kk_day_over_40_is_not_a_female_day():
    parsed = kk("3502014505100001")
    assert not parsed.is_valid
    assert parsed.errors == ("Tanggal pada nomor KK tidak valid: 45-05 tidak ada.",)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("3502013104100001", "Tanggal pada nomor KK tidak valid: 31-04 tidak ada."),
        ("3502013002100001", "Tanggal pada nomor KK tidak valid: 30-02 tidak ada."),
        ("3502010005100001", "Tanggal pada nomor KK tidak valid: 00-05 tidak ada."),
        ("3502013205100001", "Tanggal pada nomor KK tidak valid: 32-05 tidak ada."),
        ("3502011513100001", "Bulan pada nomor KK (digit 9-10) harus 01-12; tertulis 13."),
        ("3502011500100001", "Bulan pada nomor KK (digit 9-10) harus 01-12; tertulis 00."),
    ],
)
def test_kk_with_impossible_day_or_month_is_an_error(raw, message):
    parsed = kk(raw)
    assert parsed.errors == (message,)
    assert parsed.date is None


@pytest.mark.parametrize(("raw", "year"), [("3502012902230001", 2023), ("3502012902990001", 1999)])
def test_kk_29_february_of_a_non_leap_year_is_only_a_warning(raw, year):
    parsed = kk(raw)
    assert parsed.is_valid, parsed.errors
    assert parsed.date is None
    assert len(parsed.warnings) == 1
    assert f"29-02-{year}" in parsed.warnings[0]


@pytest.mark.parametrize(
    ("raw", "today"),
    [
        ("3502010101970001", date(1995, 1, 1)),  # 2097 and 1997 are both after today
        ("3502010201950001", date(1995, 1, 1)),  # tomorrow
    ],
)
def test_kk_dated_after_today_in_both_centuries_is_an_error(raw, today):
    parsed = kk(raw, today=today)
    assert not parsed.is_valid
    assert parsed.date is None
    assert len(parsed.errors) == 1
    assert "masa depan" in parsed.errors[0]


def test_kk_dated_after_today_this_century_is_read_as_last_century():
    parsed = kk("3502011606250001")  # 16-06-2025 is tomorrow
    assert parsed.is_valid
    assert parsed.date == date(1925, 6, 16)


@pytest.mark.parametrize(("serial", "valid"), [("0000", False), ("0001", True)])
def test_kk_serial_0000_is_an_error(serial, valid):
    parsed = kk(f"350201150510{serial}")
    assert parsed.is_valid is valid
    assert ("Nomor urut KK tidak boleh 0000." in parsed.errors) is not valid


@pytest.mark.parametrize(
    ("raw", "errors", "warning_count"),
    [
        ("1001011505100001", ("Kode provinsi 10 tidak dikenal.",), 0),
        ("3500011505100001", ("Kode kabupaten/kota pada digit 3-4 tidak boleh 00.",), 0),
        ("3502001505100001", ("Kode kecamatan pada digit 5-6 tidak boleh 00.",), 0),
        ("9101011505100001", (), 1),
        ("3502991505100001", (), 1),
    ],
)
def test_kk_region_rules_match_the_nik_rules(raw, errors, warning_count):
    parsed = kk(raw)
    assert parsed.errors == errors
    assert len(parsed.warnings) == warning_count


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("350201150510000", "Nomor KK harus 16 digit angka; yang dimasukkan 15 digit."),
        ("35020115051000011", "Nomor KK harus 16 digit angka; yang dimasukkan 17 digit."),
        ("35020115051O0001", "Nomor KK hanya boleh berisi angka: ditemukan huruf."),
        ("", "Nomor KK wajib diisi."),
    ],
)
def test_kk_structure_errors_name_the_kk(raw, message):
    assert kk(raw).errors == (message,)


def test_kk_separators_are_removed():
    parsed = kk("35.02.01 150510-0003")
    assert parsed.is_valid
    assert parsed.number == "3502011505100003"


# --- comparing with the record ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "birth_date", "sex"),
    [
        ("3502011205900001", date(1990, 5, 12), "L"),
        ("3502015205900002", date(1990, 5, 12), "P"),
        ("3502011201240001", date(1924, 1, 12), "L"),  # NIK reads 2024: the century is not compared
        ("3502011205900001", None, None),  # nothing recorded, nothing to compare
        ("3502011205900001", date(1990, 5, 12), None),
        ("3502011205900001", None, "L"),
    ],
)
def test_record_that_agrees_with_the_nik_gives_no_warning(raw, birth_date, sex):
    assert compare_nik_with_record(nik(raw), birth_date=birth_date, sex=sex) == []


@pytest.mark.parametrize(
    ("raw", "birth_date", "message"),
    [
        (
            "3502010607900001",
            date(1990, 7, 5),
            "Tanggal lahir 05-07-1990 tidak sama dengan tanggal pada NIK (06-07-90).",
        ),
        (
            "3502014607900001",
            date(1990, 8, 6),
            "Tanggal lahir 06-08-1990 tidak sama dengan tanggal pada NIK (06-07-90).",
        ),
        (
            "3502010607900001",
            date(1991, 7, 6),
            "Tanggal lahir 06-07-1991 tidak sama dengan tanggal pada NIK (06-07-90).",
        ),
    ],
)
def test_birth_date_that_disagrees_with_the_nik_is_a_warning(raw, birth_date, message):
    parsed = nik(raw)
    sex = parsed.sex
    assert compare_nik_with_record(parsed, birth_date=birth_date, sex=sex) == [message]


@pytest.mark.parametrize(
    ("raw", "sex", "message"),
    [
        ("3502014607900001", "L", "Jenis kelamin Laki-laki tidak sama dengan NIK (perempuan: tanggal + 40)."),
        ("3502010607900001", "P", "Jenis kelamin Perempuan tidak sama dengan NIK (laki-laki: tanggal tanpa + 40)."),
    ],
)
def test_sex_that_disagrees_with_the_nik_is_a_warning(raw, sex, message):
    parsed = nik(raw)
    assert compare_nik_with_record(parsed, birth_date=parsed.date, sex=sex) == [message]


def test_date_and_sex_mismatch_give_two_warnings():
    warnings = compare_nik_with_record(nik("3502014607900001"), birth_date=date(1990, 7, 5), sex="L")
    assert len(warnings) == 2


def test_invalid_nik_date_is_not_compared():
    parsed = nik("3502013002900001")
    assert compare_nik_with_record(parsed, birth_date=date(1990, 2, 28), sex="L") == []


# --- making numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kecamatan_code", "birth_date", "sex", "serial"),
    [
        ("35.02.01", date(1990, 5, 12), "L", 1),
        ("35.02.01", date(1990, 5, 12), "P", 2),
        ("35.02.02", date(2000, 2, 29), "P", 9999),
        ("35.02.02", date(1985, 1, 1), "P", 17),
        ("350201", date(1999, 12, 31), "P", 300),
        ("93.01.01", date(2024, 12, 31), "L", 5),
    ],
)
def test_make_nik_round_trips_through_parse_nik(kecamatan_code, birth_date, sex, serial):
    number = make_nik(kecamatan_code=kecamatan_code, birth_date=birth_date, sex=sex, serial=serial)
    parsed = nik(number)
    assert parsed.is_valid, parsed.errors
    assert parsed.number == number
    assert parsed.date == birth_date
    assert parsed.sex == sex
    assert int(parsed.serial) == serial
    assert parsed.kecamatan_code.replace(".", "") == kecamatan_code.replace(".", "")


def test_make_nik_adds_40_to_the_day_for_women():
    assert make_nik(kecamatan_code="35.02.01", birth_date=date(1990, 5, 12), sex="P", serial=2) == ("3502015205900002")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"serial": 0},
        {"serial": 10000},
        {"sex": "X"},
        {"sex": "l"},
        {"kecamatan_code": "35.02"},
        {"kecamatan_code": "35.02.0A"},
        {"kecamatan_code": "35.02.01.2001"},
    ],
)
def test_make_nik_rejects_bad_input(kwargs):
    arguments = {"kecamatan_code": "35.02.01", "birth_date": date(1990, 5, 12), "sex": "L", "serial": 1}
    with pytest.raises(ValueError):
        make_nik(**(arguments | kwargs))


@pytest.mark.parametrize(
    ("kecamatan_code", "registered_on", "serial"),
    [("35.02.01", date(2010, 5, 15), 3), ("35.02.02", date(2024, 2, 29), 9999), ("96.71.01", date(2025, 6, 15), 1)],
)
def test_make_kk_round_trips_through_parse_kk(kecamatan_code, registered_on, serial):
    number = make_kk(kecamatan_code=kecamatan_code, registered_on=registered_on, serial=serial)
    parsed = kk(number, region_exists=None)
    assert parsed.is_valid, parsed.errors
    assert parsed.date == registered_on
    assert int(parsed.serial) == serial


@pytest.mark.parametrize("serial", [0, -1, 10000])
def test_make_kk_rejects_serial_out_of_range(serial):
    with pytest.raises(ValueError):
        make_kk(kecamatan_code="35.02.01", registered_on=date(2010, 5, 15), serial=serial)
