"""The message table: what intake.parser reads from residents' WhatsApp and SMS messages as they type them.

Each row is a message with the intent and fields expected; `problems` is None when the message must be
understood as it is, else the exact Indonesian sentences (a subset) the resident is answered with, or True
for "some problem". Days are relative to a fixed TODAY: the parser reads no clock.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import date, timedelta

import pytest

from intake.parser import FORMATS, Parsed, parse_message

TODAY = date(2026, 6, 30)  # a Tuesday
N = "3502011234560001"  # Ponorogo NIK (the parser counts digits only; the caller checks the NIK)
M = "3308011234560002"  # Magelang NIK
KK = "3308019876540003"  # Magelang KK
N_SPACED = "3502 0112 3456 0001"
N_DOTTED = "3502.0112.3456.0001"
N_DASHED = "3502-0112-3456-0001"
JULY_5 = date(2026, 7, 5)

KIND = "Jenis permohonan harus salah satu dari: Pemula, Hilang, Rusak, Ubah Data."
NO_KIND = "Jenis permohonan belum diisi (Pemula, Hilang, Rusak, Ubah Data)."
NO_KK = "Nomor KK belum diisi."
NO_NIK = "NIK belum diisi."
NO_DAY = "Tanggal kedatangan belum diisi."
NO_PURPOSE = "Keperluan belum diisi (misalnya BPJS, bank, Prakerja, bansos)."
SEPARATE = "Pisahkan setiap isian dengan tanda #."


def nik_length(n: int) -> str:
    return f"NIK harus 16 angka (yang terbaca: {n} angka)."


def row(text, intent, *, problems=None, id=None, **expected):
    return pytest.param(text, intent, problems, expected, id=id or repr(text)[1:45])


BOOKING = "booking"
REQUEST = "request"
SYNC = "sync"
STATUS = "status"
QUESTION = "question"
UNKNOWN = "unknown"

TABLE = [
    # --- booking (Ponorogo): #nama lengkap#NIK#tanggal kedatangan --------------------------------------
    row(f"#Siti Aminah#{N}#5 Juli 2026", BOOKING, name="Siti Aminah", nik=N, day=JULY_5, day_text="5 Juli 2026"),
    row(f"#SITI AMINAH#{N}#5 JULI 2026", BOOKING, name="SITI AMINAH", nik=N, day=JULY_5),
    row(f"#siti aminah#{N}#5 juli", BOOKING, name="siti aminah", nik=N, day=JULY_5),
    row(f"  # Siti  Aminah #  {N}  # 5 Juli 2026 #  ", BOOKING, name="Siti Aminah", nik=N, day=JULY_5),
    row(f"##Siti Aminah##{N}##5/7/2026##", BOOKING, name="Siti Aminah", nik=N, day=JULY_5),
    row(f"Siti Aminah#{N}#05-07-26", BOOKING, name="Siti Aminah", nik=N, day=JULY_5, id="no leading #"),
    row(f"#Siti Aminah#{N}#05072026#", BOOKING, name="Siti Aminah", nik=N, day=JULY_5, day_text="05072026"),
    row(f"#Siti Aminah#{N}#050726", BOOKING, nik=N, day=JULY_5, day_text="050726"),
    row(f"Siti Aminah\n{N}\n5 Juli 2026", BOOKING, name="Siti Aminah", nik=N, day=JULY_5, id="new lines"),
    row(f"Siti Aminah\r\n{N}\r\nbesok", BOOKING, name="Siti Aminah", nik=N, day=1, id="CRLF"),
    row(f"Siti Aminah\n{N}", BOOKING, problems=(NO_DAY,), nik=N, id="new lines, day missing"),
    row(f"Siti Aminah\n{N}\n32 Juli", BOOKING, problems=('Tanggal kedatangan tidak terbaca: "32 Juli".',)),
    row(f"#Siti Aminah#{N_SPACED}#besok", BOOKING, nik=N, day=1),
    row(f"#Siti Aminah#{N_DOTTED}#lusa", BOOKING, nik=N, day=2),
    row(f"#Siti Aminah#{N_DASHED}#besok lusa", BOOKING, nik=N, day=2),
    row(f"#Siti Aminah#{N}#2 hari lagi", BOOKING, nik=N, day=2),
    row(f"#Siti Aminah#{N}#dalam 3 hari", BOOKING, nik=N, day=3),
    row(f"#Siti Aminah#{N}#Senin depan", BOOKING, nik=N, day=date(2026, 7, 6)),
    row(f"#Siti Aminah#{N}#senin", BOOKING, nik=N, day=date(2026, 7, 6)),
    row(f"#Siti Aminah#{N}#minggu depan", BOOKING, nik=N, day=7),
    row(f"#Siti Aminah#{N}#hari ini", BOOKING, nik=N, day=0),
    row(f"#Siti Aminah#{N}#Kamis 5 Juli", BOOKING, nik=N, day=JULY_5, id="weekday contradicts: date wins"),
    row(f"#Siti Aminah#{N}#Minggu, 5 Juli 2026", BOOKING, nik=N, day=JULY_5),
    row(f"#Siti Aminah#{N}#tgl 5 Juli", BOOKING, nik=N, day=JULY_5),
    row(f"#Siti Aminah#{N}#tanggal 5/7", BOOKING, nik=N, day=JULY_5),
    row(f"#Siti Aminah#{N}#5 Juli 2026 jam 9 pagi", BOOKING, nik=N, day=JULY_5),
    row(f"#Siti Aminah#{N}#5 Agt", BOOKING, nik=N, day=date(2026, 8, 5)),
    row(f"#Siti Aminah#{N}#6 Nop 2026", BOOKING, nik=N, day=date(2026, 11, 6)),
    row(f"#Siti Aminah#{N}#5 Peb", BOOKING, nik=N, day=date(2027, 2, 5)),
    row(f"#Siti Aminah#{N}#5/7/2018", BOOKING, nik=N, day=date(2018, 7, 5), id="past day: the caller answers"),
    row(f"Nama: Siti Aminah\nNIK: {N}\nTanggal: 5 Juli", BOOKING, name="Siti Aminah", nik=N, day=JULY_5),
    row(f"#Nama Siti Aminah#NIK {N}#tgl kedatangan besok", BOOKING, name="Siti Aminah", nik=N, day=1),
    row(f"Nama saya Siti Aminah\nNIK {N}\nbesok", BOOKING, name="Siti Aminah", nik=N, day=1),
    row(f"#{N}#Siti Aminah#5 Juli", BOOKING, name="Siti Aminah", nik=N, day=JULY_5, id="NIK first"),
    row(f"#Siti Aminah#05072026#{N}", BOOKING, name="Siti Aminah", nik=N, day=JULY_5, id="day before NIK"),
    row(f"Siti Aminah {N} 5 Juli 2026", BOOKING, name="Siti Aminah", nik=N, day=JULY_5, id="spaces only"),
    row(f"Siti Aminah {N_SPACED} besok", BOOKING, name="Siti Aminah", nik=N, day=1, id="spaces only, NIK split"),
    row(f"Assalamualaikum\n#Siti Aminah#{N}#5 Juli", BOOKING, name="Siti Aminah", nik=N, day=JULY_5),
    row(f"Selamat pagi\nSiti Aminah#{N}#besok", BOOKING, name="Siti Aminah", nik=N, day=1),
    row(f"#DAFTAR#Siti Aminah#{N}#besok", BOOKING, name="Siti Aminah", nik=N, day=1),
    row(f"\u200b#Siti Aminah\uff03{N}\uff03besok", BOOKING, name="Siti Aminah", nik=N, day=1, id="fullwidth #"),
    # booking, broken
    row(f"#Siti Aminah#{N[:15]}#5 Juli", BOOKING, problems=(nik_length(15),), nik=N[:15], day=JULY_5),
    row(f"#Siti Aminah#{N}7#5 Juli", BOOKING, problems=(nik_length(17),), nik=N + "7"),
    row(f"#Siti Aminah#{N}#32 Juli", BOOKING, problems=('Tanggal kedatangan tidak terbaca: "32 Juli".',), day=None),
    row(f"#Siti Aminah#{N}#31 Juni", BOOKING, problems=('Tanggal kedatangan tidak terbaca: "31 Juni".',), day=None),
    row(f"#Siti Aminah#{N}#kapan2", BOOKING, problems=('Tanggal kedatangan tidak terbaca: "kapan2".',)),
    row(f"#Siti Aminah#{N}#", BOOKING, problems=(NO_DAY,), name="Siti Aminah", nik=N, day=None),
    row("#Siti Aminah#besok", BOOKING, problems=(NO_NIK,), name="Siti Aminah", nik="", day=1),
    row(f"#{N}#5 Juli", BOOKING, problems=("Nama lengkap belum diisi.",), name="", nik=N, day=JULY_5),
    row("#Siti Aminah#3502xxxxxxxxxxxx#5 Juli 2026", BOOKING, problems=(nik_length(4),), id="example copied"),
    row("#Nama Lengkap#NIK#Tanggal Kedatangan", BOOKING, problems=(NO_NIK, NO_DAY), id="format copied"),
    row("#Siti Aminah#3502 0112", BOOKING, problems=(nik_length(8), NO_DAY), name="Siti Aminah", nik="35020112"),
    row(f"#Siti Aminah#{N}#Juli 2026", BOOKING, problems=('Tanggal kedatangan tidak terbaca: "Juli 2026".',)),
    # --- request (Magelang): #KTP#NIK#Nomor KK#Nama#Desa#Kecamatan#jenis ------------------------------------
    row(
        f"#KTP#{M}#{KK}#Budi Santoso#Sukorejo#Mertoyudan#Hilang",
        REQUEST,
        nik=M,
        kk_number=KK,
        name="Budi Santoso",
        desa="Sukorejo",
        kecamatan="Mertoyudan",
        card_kind="hilang",
    ),
    row(f"#ktp#{M}#{KK}#Budi#Sukorejo#Mertoyudan#pemula", REQUEST, card_kind="pemula"),
    row(f"#E-KTP#{M}#{KK}#Budi#Sukorejo#Mertoyudan#Rusak", REQUEST, card_kind="rusak"),
    row(f"#KTP-EL#{M}#{KK}#Budi#Sukorejo#Mertoyudan#Ubah Data", REQUEST, card_kind="ubah_data"),
    row(f"#KTPEL#{M}#{KK}#Budi#Sukorejo#Mertoyudan#ubahdata", REQUEST, card_kind="ubah_data"),
    row(f"#ektp#{M}#{KK}#Budi#Sukorejo#Mertoyudan#ubah-data", REQUEST, card_kind="ubah_data"),
    row(f"#KTP EL#{M}#{KK}#Budi#Sukorejo#Mertoyudan#Perubahan Data", REQUEST, card_kind="ubah_data"),
    row(f"#KTP#{M}#{KK}#Budi#Sukorejo#Mertoyudan#ganti data", REQUEST, card_kind="ubah_data"),
    row(f"#KTP#{M}#{KK}#Budi#Sukorejo#Mertoyudan#baru", REQUEST, card_kind="pemula"),
    row(f"#KTP#{M}#{KK}#Budi#Sukorejo#Mertoyudan#KTP hilang", REQUEST, card_kind="hilang"),
    row(f"#KTP#{M}#{KK}#Budi#Kampung Baru#Mertoyudan#Rusak", REQUEST, desa="Kampung Baru", card_kind="rusak"),
    row(f"KTP#{M}#{KK}#Budi#Sukorejo#Mertoyudan#HILANG#", REQUEST, card_kind="hilang", id="no leading #"),
    row(f"##KTP##{M}##{KK}##Budi##Sukorejo##Mertoyudan##Hilang", REQUEST, nik=M, card_kind="hilang"),
    row(f"KTP\n{M}\n{KK}\nBudi\nSukorejo\nMertoyudan\nHilang", REQUEST, nik=M, kk_number=KK, card_kind="hilang"),
    row(
        "#KTP#3308 0112 3456 0002#3308.0198.7654.0003#Budi#Sukorejo#Mertoyudan#Hilang",
        REQUEST,
        nik=M,
        kk_number=KK,
        id="split digits",
    ),
    row(
        f"#KTP#NIK: {M}#No. KK: {KK}#Nama: Budi#Desa Sukorejo#Kec. Mertoyudan#Jenis: Rusak",
        REQUEST,
        nik=M,
        kk_number=KK,
        name="Budi",
        desa="Sukorejo",
        kecamatan="Mertoyudan",
        card_kind="rusak",
    ),
    row(f"#KTP {M}#{KK}#Budi#Sukorejo#Mertoyudan#Hilang", REQUEST, nik=M, kk_number=KK, id="KTP then NIK, no #"),
    row(f"#{M}#{KK}#Budi#Sukorejo#Mertoyudan#rusak", REQUEST, nik=M, kk_number=KK, card_kind="rusak", id="no KTP"),
    row(f"#{M}#Budi#Sukorejo#Mertoyudan#Hilang", REQUEST, problems=(NO_KK,), card_kind="hilang", id="no KTP, no KK"),
    # request, broken
    row(f"#KTP#{M}#{KK}#Budi#Sukorejo#Mertoyudan#hilng", REQUEST, problems=(KIND,), card_kind=""),
    row(f"#KTP#{M}#{KK}#Budi#Sukorejo#Mertoyudan#Hilang/Rusak", REQUEST, problems=(KIND,), card_kind=""),
    row(f"#KTP#{M}#{KK}#Budi#Sukorejo#Mertoyudan", REQUEST, problems=(NO_KIND,), kecamatan="Mertoyudan"),
    row(f"#KTP#{M}#Budi#Sukorejo#Mertoyudan#Hilang", REQUEST, problems=(NO_KK,), nik=M, kk_number=""),
    row(f"#KTP#{M[:14]}#{KK}#Budi#Sukorejo#Mertoyudan#Hilang", REQUEST, problems=(nik_length(14),)),
    row(
        f"#KTP#{M}#{KK[:10]}#Budi#Sukorejo#Mertoyudan#Hilang",
        REQUEST,
        problems=("Nomor KK harus 16 angka (yang terbaca: 10 angka).",),
    ),
    row(f"#KTP#{M}#{KK}#Budi#Hilang", REQUEST, problems=("Desa/kelurahan belum diisi.", "Kecamatan belum diisi.")),
    row(f"#KTP#{M}#{KK}##Sukorejo#Mertoyudan#Hilang", REQUEST, problems=("Kecamatan belum diisi.",), id="empty field"),
    row(
        "#KTP#NIK#Nomor KK#Nama#Desa#Kecamatan#Pemula/Hilang/Rusak/Ubah Data",
        REQUEST,
        problems=(NO_NIK, NO_KK, "Nama belum diisi.", "Desa/kelurahan belum diisi.", "Kecamatan belum diisi.", KIND),
        id="format copied",
    ),
    row(f"KTP {M} {KK} Budi Sukorejo Mertoyudan hilang", REQUEST, problems=(SEPARATE,), nik=M, id="spaces only"),
    row(f"#KTP#{M}#{KK}#Budi#Sukorejo#Mertoyudan#Hilang karena kebanjiran", REQUEST, card_kind="hilang"),
    row(f"#KTP#{M}#{KK}#Budi#Sukorejo#Mertoyudan#ubah data alamat", REQUEST, card_kind="ubah_data"),
    row(f"#KTP#{M}#{KK}#Budi#Baru#Mertoyudan#Rusak", REQUEST, desa="Baru", card_kind="rusak", id="desa Baru"),
    row("#KTP", REQUEST, problems=(NO_NIK, NO_KK, NO_KIND)),
    row("ktp", REQUEST, problems=(NO_NIK, NO_KIND), id="the keyword alone: answered with the format"),
    row("#KTP#3502#Siti", REQUEST, problems=(nik_length(4), NO_KK, NO_KIND), name="Siti"),
    row(
        f"KTP {M} {KK} Budi Sukorejo Mertoyudan hilang",
        REQUEST,
        problems=(SEPARATE, "Desa/kelurahan belum diisi."),
        kk_number=KK,
        card_kind="hilang",
        id="spaces only, kind still read",
    ),
    # --- sync: #SINKRONISASI#NIK#Nomor KK#Keperluan ----------------------------------------------------------
    row(f"#SINKRONISASI#{M}#{KK}#BPJS", SYNC, nik=M, kk_number=KK, purpose="BPJS"),
    row(f"#sinkronisasi#{M}#{KK}#Daftar BPJS Kesehatan", SYNC, purpose="Daftar BPJS Kesehatan"),
    row(f"#SINKRON#{M}#{KK}#Bank BRI", SYNC, purpose="Bank BRI"),
    row(f"#SINGKRONISASI#{M}#{KK}#Prakerja", SYNC, purpose="Prakerja", id="typo SINGKRONISASI"),
    row(f"#SINKRONISASI DATA#{M}#{KK}#bansos PKH", SYNC, purpose="bansos PKH"),
    row(f"SINKRONISASI\n{M}\n{KK}\nBPJS", SYNC, nik=M, kk_number=KK, purpose="BPJS"),
    row(f"#Sinkronisasi#NIK {M}#KK {KK}#Keperluan: BPJS", SYNC, nik=M, kk_number=KK, purpose="BPJS"),
    row(f"#SINKRONISASI#{M}#{KK}#", SYNC, problems=(NO_PURPOSE,), nik=M, kk_number=KK),
    row(f"SINKRONISASI {M} {KK} BPJS", SYNC, problems=(SEPARATE,), nik=M, kk_number=KK, purpose="BPJS"),
    row(f"#SINKRONISASI#{M} {KK}#BPJS", SYNC, problems=(SEPARATE,), nik=M, kk_number=KK, id="NIK KK in one field"),
    row(f"#SINKRONISASI#{M}7#{KK}#BPJS", SYNC, problems=(nik_length(17),), kk_number=KK),
    row(f"#SINKRONISASI#{M}#BPJS", SYNC, problems=(NO_KK,), purpose="BPJS"),
    row(f"#SINKRONISASI#{M[:12]}#{KK}#BPJS", SYNC, problems=(nik_length(12),)),
    # --- question (SMS centre): DISDUKCAPIL#NAMA#NIK#ISI ----------------------------------------------------
    row(
        f"DISDUKCAPIL#Budi Santoso#{M}#Kapan KTP saya bisa diambil?",
        QUESTION,
        name="Budi Santoso",
        nik=M,
        body="Kapan KTP saya bisa diambil?",
    ),
    row(f"disdukcapil#Budi#{M}#mau tanya #syarat pindah", QUESTION, body="mau tanya #syarat pindah"),
    row(f"#DISDUKCAPIL#Budi#{M}#baris satu\nbaris dua", QUESTION, body="baris satu\nbaris dua"),
    row(f"DISDUKCAPIL Budi Santoso {M} kapan jadi", QUESTION, name="Budi Santoso", nik=M, body="kapan jadi"),
    row("DISDUKCAPIL#Budi#kapan ktp saya jadi", QUESTION, problems=(NO_NIK,), name="Budi", body="kapan ktp saya jadi"),
    row(f"DISDUKCAPIL#Budi#{M}#", QUESTION, problems=("Isi pesan belum diisi.",), name="Budi", nik=M, body=""),
    row("DISDUKCAPIL#Budi#123#halo", QUESTION, problems=(nik_length(3),), body="halo"),
    # --- status ------------------------------------------------------------------------------------------
    row(f"#STATUS#{N}", STATUS, nik=N),
    row(f"STATUS {N}", STATUS, nik=N),
    row(f"status#{N_SPACED}", STATUS, nik=N),
    row(f"CEK#{N}", STATUS, nik=N),
    row(f"#CEK STATUS#{N}", STATUS, nik=N),
    row(f"cek status ktp {N}", STATUS, nik=N),
    row("#STATUS", STATUS, nik="", id="no NIK: the caller answers from the sender's requests"),
    row(f"STATUS {N} tolong dicek min", STATUS, nik=N),
    row("#STATUS#NIK", STATUS, nik="", id="format copied"),
    row("CEK#12345", STATUS, problems=(nik_length(5),), nik="12345"),
    row("ktp saya sudah jadi belum", STATUS, nik=""),
    row("apakah e-ktp saya sudah bisa diambil?", STATUS, nik=""),
    row(f"status ktp {N}", STATUS, nik=N),
    row("kapan ktp saya jadi", STATUS, nik=""),
    row("Kapan KTP saya jadi ya min? 🙏", STATUS),
    row("ktp sy udh jd blm min", STATUS, id="shorthand"),
    row(f"Selamat siang, mau tanya ktp dengan nik {N_DOTTED} sudah selesai belum?", STATUS, nik=N),
    row("Pagi min\nE-KTP saya sudah dicetak?", STATUS),
    row("bagaimana perkembangan permohonan ktp saya", STATUS),
    row(f"Pagi min, ktp saya\n{N}\nsudah jadi belum?", STATUS, nik=N, id="NIK on its own line, no #"),
    # --- unknown: the inbox ------------------------------------------------------------------------------
    row("halo", UNKNOWN, body="halo"),
    row("Assalamualaikum", UNKNOWN),
    row("min mau tanya syarat pindah domisili", UNKNOWN),
    row("syarat bikin ktp apa saja", UNKNOWN),
    row("status perkawinan di ktp mau diubah caranya gimana", UNKNOWN),
    row("ktp saya hilang, harus bagaimana?", UNKNOWN),
    row("Pagi min\nbesok buka?", UNKNOWN),
    row("#INFO#syarat pindah", UNKNOWN),
    row("terima kasih 🙏", UNKNOWN),
    row("", UNKNOWN, body=""),
    row("###", UNKNOWN),
    row("hubungi saya di 081234567890", UNKNOWN),
    row("selamat pagi pak, mau tanya", UNKNOWN),
    row(f"Saya Siti\nNIK {N}\nmau tanya syarat pindah", UNKNOWN, id="NIK and a question, no #"),
    row("akta kelahiran anak saya sudah jadi belum?", UNKNOWN, id="another document's status"),
    row("kartu keluarga saya kapan jadi", UNKNOWN),
    row("Mohon info jam buka kantor hari sabtu", UNKNOWN),
]


@pytest.mark.parametrize(("text", "intent", "problems", "expected"), TABLE)
def test_message(text, intent, problems, expected):
    parsed = parse_message(text, today=TODAY)
    assert parsed.intent == intent, parsed
    for field, value in expected.items():
        if field == "day" and isinstance(value, int):
            value = TODAY + timedelta(days=value)
        assert getattr(parsed, field) == value, (field, parsed)
    if problems is None:
        assert parsed.problems == (), parsed
    elif problems is True:
        assert parsed.problems, parsed
    else:
        for problem in problems:
            assert problem in parsed.problems, parsed


def test_the_table_is_wide_enough():
    intents = [param.values[1] for param in TABLE]
    assert len(TABLE) >= 80
    assert {BOOKING, REQUEST, SYNC, QUESTION, STATUS, UNKNOWN} <= set(intents)


def test_a_booking_at_the_end_of_the_year_reads_january_as_next_year():
    end_of_year = date(2026, 12, 28)
    assert parse_message(f"#Siti#{N}#5 Jan", today=end_of_year).day == date(2027, 1, 5)
    assert parse_message(f"#Siti#{N}#5/1", today=end_of_year).day == date(2027, 1, 5)
    assert parse_message(f"#Siti#{N}#lusa", today=end_of_year).day == date(2026, 12, 30)
    assert parse_message(f"#Siti#{N}#senin", today=end_of_year).day == date(2027, 1, 4)
    assert parse_message(f"#Siti#{N}#30 Desember", today=end_of_year).day == date(2026, 12, 30)


@pytest.mark.parametrize("intent", [BOOKING, REQUEST, SYNC, QUESTION, STATUS])
def test_each_format_names_its_fields_and_its_example_reads_as_that_intent(intent):
    fmt, example = FORMATS[intent].split("\nContoh: ")
    assert fmt.count("#") >= 1
    parsed = parse_message(example, today=TODAY)
    assert parsed.intent == intent
    # The example's numbers are visibly fake: never a complete NIK someone could mistake for theirs.
    assert len(parsed.nik) < 16
    assert any(p.startswith("NIK harus 16 angka") for p in parsed.problems)


def test_parsed_is_immutable():
    parsed = parse_message(f"#STATUS#{N}", today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.nik = ""  # type: ignore[misc]
    assert isinstance(parsed, Parsed)


def test_the_whole_table_is_quick():
    """Printed, not asserted (no timed assertions): the table takes a few milliseconds once warm."""
    start = time.perf_counter()
    for param in TABLE:
        parse_message(param.values[0], today=TODAY)
    print(f"{len(TABLE)} messages in {time.perf_counter() - start:.3f} s")
