"""Residents' WhatsApp and SMS messages read into one `Parsed` value (../shared/DESIGN.md, "Message formats
residents use today"):

- booking (Ponorogo)   `#nama lengkap#NIK#tanggal kedatangan`
- request (Magelang)   `#KTP#NIK#Nomor KK#Nama#Desa#Kecamatan#Pemula/Hilang/Rusak/Ubah Data`
- sync (Magelang)      `#SINKRONISASI#NIK#Nomor KK#Keperluan`
- question (SMS centre) `DISDUKCAPIL#NAMA#NIK#ISI`
- status (Blitar)      `#STATUS#NIK`, `CEK STATUS 3502…`, or a plain "ktp saya sudah jadi belum?"

People type these by hand, so the reading is generous: any case, spaces, doubled, missing or trailing `#`,
new lines instead of `#`, labels ("NIK: …", "Desa …"), digits split by spaces, dots or dashes, fields in
another order when their type tells them apart (a 16-digit number is not a name), kind spellings (ubahdata,
ubah-data, baru for pemula). A message recognisable as a format but broken keeps its intent and lists
`problems`, one Indonesian sentence each, to be answered with FORMATS[intent]; a message like none of the
formats is "unknown" and goes to the inbox. NIK validity beyond its 16 digits is the caller's check
(registry.regions.nik_check), and so are past days and the booking window.

Pure: no database, no clock (`today` is a parameter).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date

from intake.dates import looks_like_day, parse_day

__all__ = ["FORMATS", "Parsed", "parse_day", "parse_message"]

BOOKING, REQUEST, SYNC, STATUS, QUESTION, UNKNOWN = "booking", "request", "sync", "status", "question", "unknown"


@dataclass(frozen=True)
class Parsed:
    intent: str  # "booking" | "request" | "sync" | "status" | "question" | "unknown"
    name: str = ""
    nik: str = ""  # digits only as typed (16 when complete); validity is checked by the caller
    kk_number: str = ""  # digits only
    day: date | None = None  # booking: the date understood (None when missing or not understood)
    day_text: str = ""  # the date as typed
    desa: str = ""
    kecamatan: str = ""
    card_kind: str = ""  # cards.models.CardKind value: "pemula" | "hilang" | "rusak" | "ubah_data"
    purpose: str = ""  # SINKRONISASI keperluan
    body: str = ""  # the question text (DISDUKCAPIL#, free text)
    problems: tuple[str, ...] = ()  # what is missing or wrong, one Indonesian sentence each


# The exact format for each intent, with an example whose numbers are visibly not real.
FORMATS: dict[str, str] = {
    BOOKING: "#Nama Lengkap#NIK#Tanggal Kedatangan\nContoh: #Siti Aminah#3502xxxxxxxxxxxx#5 Juli 2026",
    REQUEST: (
        "#KTP#NIK#Nomor KK#Nama#Desa#Kecamatan#Pemula/Hilang/Rusak/Ubah Data\n"
        "Contoh: #KTP#3308xxxxxxxxxxxx#3308yyyyyyyyyyyy#Budi Santoso#Sukorejo#Mertoyudan#Hilang"
    ),
    SYNC: (
        "#SINKRONISASI#NIK#Nomor KK#Keperluan\nContoh: #SINKRONISASI#3308xxxxxxxxxxxx#3308yyyyyyyyyyyy#BPJS Kesehatan"
    ),
    QUESTION: (
        "DISDUKCAPIL#Nama#NIK#Isi Pesan\nContoh: DISDUKCAPIL#Budi Santoso#3308xxxxxxxxxxxx#Kapan KTP saya bisa diambil?"
    ),
    STATUS: "#STATUS#NIK\nContoh: #STATUS#3502xxxxxxxxxxxx",
}

KIND_NAMES = "Pemula, Hilang, Rusak, Ubah Data"
NIK_LENGTH = 16

# --- fields --------------------------------------------------------------------------------------------

_SEPARATOR = re.compile(r"[^#\n\r]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_LOOKALIKES = str.maketrans({"\uff03": "#", "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2013": "-", "\u2014": "-"})

_LABELS = (
    ("kk", r"(?:no(?:mor|mr)?\.?\s*)?(?:kk|kartu\s*keluarga)"),
    ("nik", r"(?:no(?:mor|mr)?\.?\s*)?nik"),
    ("nama", r"nama(?:\s*lengkap)?(?:\s*saya)?"),
    ("desa", r"desa(?:\s*/\s*kel(?:urahan)?)?|kelurahan|kel|ds"),
    ("kecamatan", r"kecamatan|kec"),
    ("keperluan", r"keperluan|tujuan"),
    ("tanggal", r"(?:tgl|tanggal)(?:\s*(?:kedatangan|datang))?"),
    ("jenis", r"jenis(?:\s*(?:permohonan|ktp|pengajuan))?"),
    ("isi", r"isi(?:\s*(?:pesan|sms))?|pertanyaan"),
)
_LABEL = re.compile(
    r"(?P<label>" + "|".join(f"(?P<{name}>{pattern})" for name, pattern in _LABELS) + r")"
    r"(?:\s*[:=]\s*|\s*\.\s*|\s+|$)(?P<value>.*)",
    re.IGNORECASE | re.DOTALL,
)
# A field that is a number, maybe split by spaces, dots or dashes; x or * for digits the resident did not
# know or copied from the example ("3502xxxxxxxxxxxx", "3308yyyy…") still make it a NIK field, with the digits counted.
_NUMBER = re.compile(r"(?=.*\d)[\dxyz*\s.\-]+", re.IGNORECASE)
_GREETING = re.compile(
    r"(?:as?salamu\w*|ass?wr\w*|selamat\s+(?:pagi|siang|sore|malam)|pagi|siang|sore|malam|halo|hallo|hai|hi|"
    r"permisi|maaf|mohon\s+maaf|salam|om\s+swastyastu|shalom|punten|sugeng)\b[^\d#]*",
    re.IGNORECASE,
)
_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ .\-]?\d){15}(?!\d)|(?<!\d)\d(?:[ .\-]?\d){9,19}(?!\d)")


@dataclass(frozen=True)
class _Field:
    text: str  # as typed, without surrounding spaces
    start: int  # where it starts in the message (a question's body is the rest of the message from here)
    label: str  # "nik", "kk", "nama", … when the resident wrote one ("NIK: 3502…"), else ""
    value: str  # without the label, spaces collapsed

    @property
    def is_number(self) -> bool:
        return bool(self.value) and _NUMBER.fullmatch(self.value) is not None

    @property
    def digits(self) -> str:
        return re.sub(r"\D", "", self.value)


def _field(text: str, start: int) -> _Field:
    stripped = text.strip()
    start += len(text) - len(text.lstrip())
    label, value = "", stripped
    if (m := _LABEL.fullmatch(stripped)) is not None:
        # "Desa Sukamaju" is labelled; "Nama" alone is a placeholder copied from the format (empty value).
        label = next(name for name, _ in _LABELS if m.group(name) is not None)
        value = m.group("value")
    value = re.sub(r"\s+", " ", value).strip(" :=")
    return _Field(text=stripped, start=start, label=label, value=value)


def _fields(text: str) -> list[_Field]:
    fields = [_field(m.group(), m.start()) for m in _SEPARATOR.finditer(text)]
    fields = [f for f in fields if f.text.strip(" .,:;-=*_")]
    while len(fields) > 1 and _GREETING.fullmatch(fields[0].text):  # "Assalamualaikum\n#Siti#…"
        fields.pop(0)
    return fields


# --- keywords ------------------------------------------------------------------------------------------

_REQUEST_KW = r"(?:e\s*[\-.]?\s*)?ktp(?:\s*[\-.]?\s*el(?:ektronik)?)?"
_SYNC_KW = r"(?:s[iy]n?g?kh?r?on\w*|sync)(?:\s*data)?"
_QUESTION_KW = r"dis\s*duk\s*capil|dukcapil|disduk"
_STATUS_KW = r"(?:(?:cek|check|lacak)\s*)?status(?:\s*(?:ktp\w*|e\s*-?\s*ktp|nik|permohonan|pengajuan))?" + (
    r"|(?:cek|check|lacak)(?:\s*(?:ktp\w*|e\s*-?\s*ktp|nik|permohonan|pengajuan))?"
)
_BOOKING_KW = r"daftar|pendaftaran|booking|antri|antrian|antre"
_KEYWORDS = (
    (REQUEST, re.compile(rf"(?:{_REQUEST_KW})(?:\s*[:\-]?\s*(?P<rest>\d.*))?", re.I | re.S)),
    (SYNC, re.compile(rf"(?:{_SYNC_KW})(?:\s*[:\-]?\s*(?P<rest>\d.*))?", re.I | re.S)),
    (QUESTION, re.compile(rf"(?:{_QUESTION_KW})(?:\s*[:\-]?\s+(?P<rest>.+))?", re.I | re.S)),
    (STATUS, re.compile(rf"(?:{_STATUS_KW})(?:\s*[:\-]?\s*(?P<rest>\d.*))?", re.I | re.S)),
    (BOOKING, re.compile(rf"(?:{_BOOKING_KW})", re.I)),
)

# --- card kinds ----------------------------------------------------------------------------------------

_KIND_WORDS = {
    "pemula": "pemula",
    "baru": "pemula",
    "pertama": "pemula",
    "hilang": "hilang",
    "kehilangan": "hilang",
    "ilang": "hilang",
    "rusak": "rusak",
    "ubahdata": "ubah_data",
    "perubahandata": "ubah_data",
    "gantidata": "ubah_data",
    "ubah": "ubah_data",
    "perubahan": "ubah_data",
}
# Words that may stand beside the kind in its field ("KTP hilang", "Perubahan Data", "pembuatan baru").
_KIND_FILLER = {
    "ktp",
    "e",
    "el",
    "ektp",
    "ktpel",
    "data",
    "ganti",
    "pembuatan",
    "buat",
    "bikin",
    "cetak",
    "ulang",
    "jenis",
    "permohonan",
    "karena",
    "kartu",
    "yang",
    "penggantian",
    "pengganti",
    "sudah",
    "saya",
    "dan",
    "atau",
}


def _card_kinds(value: str, *, reason: bool = False) -> set[str] | None:
    """The kinds a field names ("Ubah-Data" → {"ubah_data"}), or None when it is not a kind field at all.

    With `reason`, the field is known to be the kind's and may go on after it ("Hilang karena banjir",
    "ubah data alamat"): the words before the first other word decide.
    """
    lowered = value.lower()
    lowered = re.sub(r"\b(?:ubah|perubahan|ganti)\s*[-_/]?\s*data\b", lambda m: re.sub(r"\W", "", m.group()), lowered)
    words = re.findall(r"[a-z]+", lowered)
    if reason:
        words = list(itertools.takewhile(lambda w: w in _KIND_WORDS or w in _KIND_FILLER, words))
    kinds = {_KIND_WORDS[w] for w in words if w in _KIND_WORDS}
    if not kinds or any(w not in _KIND_WORDS and w not in _KIND_FILLER for w in words):
        return None
    return kinds


# --- problems ------------------------------------------------------------------------------------------


def _number_problem(digits: str, what: str) -> str | None:
    if not digits:
        return f"{what} belum diisi."
    if len(digits) != NIK_LENGTH:
        return f"{what} harus 16 angka (yang terbaca: {len(digits)} angka)."
    return None


def _missing(value: str, what: str) -> str | None:
    return None if value else f"{what} belum diisi."


def _problems(*problems: str | None) -> tuple[str, ...]:
    return tuple(p for p in problems if p)


_SEPARATE = "Pisahkan setiap isian dengan tanda #."


# --- the parser ----------------------------------------------------------------------------------------


def parse_message(text: str, *, today: date) -> Parsed:
    """What a resident's message asks for, with what it gave and what is missing (see the module docstring)."""
    text = (text or "").translate(_INVISIBLE).translate(_LOOKALIKES).strip()
    fields = _fields(text)
    if not fields:
        return Parsed(intent=UNKNOWN)

    first = fields[0]
    for intent, keyword in _KEYWORDS:
        if (m := keyword.fullmatch(first.text)) is None:
            continue
        rest = fields[1:]
        if m.groupdict().get("rest"):
            rest = [_field(m.group("rest"), first.start + m.start("rest")), *rest]
        if intent == REQUEST:
            return _request(rest)
        if intent == SYNC:
            return _sync(rest)
        if intent == QUESTION:
            return _question(text, rest)
        if intent == STATUS:
            return _status_command(rest)
        if intent == BOOKING and rest:
            return _booking(rest, today)

    numbers = [f for f in fields if f.is_number and len(f.digits) >= 10]
    if (
        numbers
        and len(fields) >= (4 if len(numbers) >= 2 else 5)
        and any(_card_kinds(f.value) for f in fields if not f.is_number)
    ):
        return _request(fields)  # #KTP forgotten, but numbers, names and a kind: a card request
    labels = {f.label for f in fields}
    hashed = "#" in text  # a `#` is a deliberate attempt at a format
    if len(fields) >= 2 and (
        numbers
        or (hashed and (_looks_like_booking(fields, today) or _name_then_number(fields)))
        or ("tanggal" in labels and labels & {"nama", "nik"})  # "#Nama Lengkap#NIK#Tanggal Kedatangan"
    ):
        booking = _booking(fields, today)
        # Lines without any `#` ("Siti\n3502…\nmau tanya syarat pindah") are a booking only when their last
        # part reads as a day, or is missing; otherwise they are a question for the inbox (or about status).
        if (
            hashed
            or booking.day is not None
            or (booking.day_text and looks_like_day(booking.day_text, today=today))
            or (not booking.day_text and not _asks_status(text))
        ):
            return booking
    if len(fields) == 1 and (spaced := _booking_without_separators(text, today)) is not None:
        return spaced
    if _asks_status(text):
        return Parsed(intent=STATUS, nik=_nik_in(text), body=text)
    return Parsed(intent=UNKNOWN, body=text)


def _looks_like_name(field: _Field) -> bool:
    return not field.is_number and re.fullmatch(r"[^\W\d_][\w .,'’-]{1,60}", field.value) is not None


def _looks_like_booking(fields: list[_Field], today: date) -> bool:
    """`#Siti Aminah#5 Juli`: a name then a day, the NIK forgotten."""
    return _looks_like_name(fields[0]) and any(
        f.label == "tanggal" or looks_like_day(f.value, today=today) for f in fields[1:]
    )


def _name_then_number(fields: list[_Field]) -> bool:
    """`#Siti Aminah#3502 0112`: a name, then a number too short for a NIK."""
    return _looks_like_name(fields[0]) and any(f.is_number and len(f.digits) >= 4 for f in fields[1:])


def _booking_without_separators(text: str, today: date) -> Parsed | None:
    """`Siti Aminah 3502… 5 Juli 2026`: the name before the NIK, the day after it."""
    if (m := _DIGIT_RUN.search(text)) is None:
        return None
    name = re.sub(r"\s+", " ", text[: m.start()]).strip(" #:,-")
    name = re.sub(r"^nama\s*:?\s*", "", name, flags=re.I)
    day_text = text[m.end() :].strip(" #:,-")
    if not re.fullmatch(r"[^\W\d_][\w .,'’-]{1,60}", name) or not day_text:
        return None
    day = parse_day(day_text, today=today)
    if day is None:
        return None
    nik = re.sub(r"\D", "", m.group())
    return Parsed(
        intent=BOOKING, name=name, nik=nik, day=day, day_text=day_text, problems=_problems(_number_problem(nik, "NIK"))
    )


def _booking(fields: list[_Field], today: date) -> Parsed:
    name = nik = day_text = ""
    day: date | None = None
    have_nik = have_day = False
    for f in fields:
        if f.label == "nama":
            name = name or f.value
        elif f.label == "nik":
            nik, have_nik = (nik, True) if have_nik else (f.digits, True)
        elif f.label == "tanggal":
            if not have_day:
                day_text, have_day = f.value, True
        elif f.label in ("kk", "desa", "kecamatan", "keperluan", "jenis", "isi"):
            continue
        elif f.is_number:
            # An 8-digit DDMMYYYY or 6-digit DDMMYY day is a number too; a NIK never reads as a day.
            if not have_day and len(f.digits) <= 8 and parse_day(f.value, today=today) is not None:
                day_text, have_day = f.value, True
            elif not have_nik:
                nik, have_nik = f.digits, True
        elif looks_like_day(f.value, today=today):
            if not have_day:
                day_text, have_day = f.value, True
        elif not have_nik and re.search(r"\d{4}", f.value):  # "NIK 3502…" with a typo, or "3502xxxx…"
            nik, have_nik = f.digits, True
        elif not name:
            name = f.value
        elif not have_day:
            day_text, have_day = f.value, True
    if day_text:
        day = parse_day(day_text, today=today)
    if not day_text:
        day_problem = "Tanggal kedatangan belum diisi."
    elif day is None:
        day_problem = f'Tanggal kedatangan tidak terbaca: "{day_text}".'
    else:
        day_problem = None
    return Parsed(
        intent=BOOKING,
        name=name,
        nik=nik,
        day=day,
        day_text=day_text,
        problems=_problems(_missing(name, "Nama lengkap"), _number_problem(nik, "NIK"), day_problem),
    )


def _explode(fields: list[_Field]) -> tuple[list[_Field], bool]:
    """Numbers typed inside a text field ("3308… 3308… Budi Sukorejo hilang", `#` forgotten) split out of it,
    and a kind at its end too; the second value says whether any field had to be split."""
    exploded: list[_Field] = []
    split = False
    for f in fields:
        runs = list(_DIGIT_RUN.finditer(f.value)) if not f.label else []
        if f.is_number and not (len(runs) > 1 and all(len(re.sub(r"\D", "", m.group())) == NIK_LENGTH for m in runs)):
            runs = []  # one number, maybe mistyped; but "3308… 3308…" is the NIK and the KK without a # between
        if not runs:
            exploded.append(f)
            continue
        split = True
        pieces, at = [], 0
        for m in runs:
            pieces += [f.value[at : m.start()], m.group()]
            at = m.end()
        pieces.append(f.value[at:])
        for piece in (p.strip(" ,:-") for p in pieces):
            if not piece:
                continue
            words = piece.rsplit(" ", 1)
            if len(words) == 2 and _card_kinds(words[1]) and not _card_kinds(words[0]):
                exploded += [_field(words[0], f.start), _field(words[1], f.start)]
            else:
                exploded.append(_field(piece, f.start))
    return exploded, split


def _request(fields: list[_Field]) -> Parsed:
    fields, mixed = _explode(fields)
    labelled = {f.label: f for f in reversed(fields) if f.label}
    numbers = [f.digits for f in fields if not f.label and f.is_number]
    texts = [f for f in fields if not f.label and not f.is_number]

    kind_field = labelled.get("jenis")
    if kind_field is None:
        kind_fields = [f for f in texts if _card_kinds(f.value) is not None]
        if kind_fields:
            kind_field = kind_fields[-1]
        elif len(texts) > 3 - sum(1 for label in ("nama", "desa", "kecamatan") if label in labelled):
            kind_field = texts[-1]  # one field too many: the last one is the kind, with a reason or misspelled
    if kind_field is not None and kind_field in texts:
        texts.remove(kind_field)
    kinds = _card_kinds(kind_field.value, reason=True) if kind_field is not None else None
    card_kind = kinds.pop() if kinds and len(kinds) == 1 else ""
    if kind_field is None or not kind_field.value:
        kind_problem = f"Jenis permohonan belum diisi ({KIND_NAMES})."
    elif not card_kind:
        kind_problem = f"Jenis permohonan harus salah satu dari: {KIND_NAMES}."
    else:
        kind_problem = None

    unlabelled_texts = iter(f.value for f in texts)

    def text_for(label: str) -> str:
        field = labelled.get(label)
        return field.value if field is not None else next(unlabelled_texts, "")

    nik = labelled["nik"].digits if "nik" in labelled else (numbers.pop(0) if numbers else "")
    kk_number = labelled["kk"].digits if "kk" in labelled else (numbers.pop(0) if numbers else "")
    name, desa, kecamatan = text_for("nama"), text_for("desa"), text_for("kecamatan")
    return Parsed(
        intent=REQUEST,
        nik=nik,
        kk_number=kk_number,
        name=name,
        desa=desa,
        kecamatan=kecamatan,
        card_kind=card_kind,
        problems=_problems(
            _number_problem(nik, "NIK"),
            _number_problem(kk_number, "Nomor KK"),
            _missing(name, "Nama"),
            _missing(desa, "Desa/kelurahan"),
            _missing(kecamatan, "Kecamatan"),
            kind_problem,
            _SEPARATE if mixed else None,
        ),
    )


def _sync(fields: list[_Field]) -> Parsed:
    fields, mixed = _explode(fields)
    labelled = {f.label: f for f in reversed(fields) if f.label}
    numbers = [f.digits for f in fields if not f.label and f.is_number]
    texts = [f.value for f in fields if not f.label and not f.is_number]
    nik = labelled["nik"].digits if "nik" in labelled else (numbers.pop(0) if numbers else "")
    kk_number = labelled["kk"].digits if "kk" in labelled else (numbers.pop(0) if numbers else "")
    purpose = labelled["keperluan"].value if "keperluan" in labelled else ", ".join(t for t in texts if t)
    return Parsed(
        intent=SYNC,
        nik=nik,
        kk_number=kk_number,
        purpose=purpose,
        problems=_problems(
            _number_problem(nik, "NIK"),
            _number_problem(kk_number, "Nomor KK"),
            None if purpose else "Keperluan belum diisi (misalnya BPJS, bank, Prakerja, bansos).",
            _SEPARATE if mixed else None,
        ),
    )


def _question(text: str, fields: list[_Field]) -> Parsed:
    name = nik = body = ""
    if len(fields) == 1 and not fields[0].is_number and (m := _DIGIT_RUN.search(fields[0].text)):
        # "DISDUKCAPIL Budi 3502… kapan ktp saya jadi": spaces instead of #, the NIK splits the rest.
        field = fields[0]
        name = re.sub(r"\s+", " ", field.text[: m.start()]).strip(" #:,-")
        nik = re.sub(r"\D", "", m.group())
        body = field.text[m.end() :].strip(" #:,-")
    elif len(fields) == 1 and not fields[0].is_number:
        body = fields[0].text
    else:
        rest = list(fields)
        if rest and not rest[0].is_number and rest[0].label in ("", "nama"):
            name = rest.pop(0).value
        if rest and (rest[0].is_number or rest[0].label == "nik"):
            nik = rest.pop(0).digits
        if rest:
            body = text[rest[0].start :].strip().rstrip("#").strip()
            if rest[0].label == "isi":
                body = rest[0].value + body[len(rest[0].text) :]
    return Parsed(
        intent=QUESTION,
        name=name,
        nik=nik,
        body=body,
        problems=_problems(_missing(name, "Nama"), _number_problem(nik, "NIK"), _missing(body, "Isi pesan")),
    )


def _status_command(fields: list[_Field]) -> Parsed:
    """`#STATUS#NIK`, `CEK STATUS 3502…`; without a NIK the caller answers from the sender's own requests."""
    field = next((f for f in fields if f.label == "nik" or f.is_number), None)
    if field is not None:
        nik = field.digits
    else:  # "STATUS 3502… tolong dicek"
        nik = next((re.sub(r"\D", "", m.group()) for f in fields for m in _DIGIT_RUN.finditer(f.value)), "")
    if not nik:  # "#STATUS" alone, or "#STATUS#NIK" copied as it is
        return Parsed(intent=STATUS)
    return Parsed(intent=STATUS, nik=nik, problems=_problems(_number_problem(nik, "NIK")))


# --- free-text status questions ------------------------------------------------------------------------

_SHORTHAND = {
    "sy": "saya",
    "sya": "saya",
    "udh": "sudah",
    "udah": "sudah",
    "sdh": "sudah",
    "sdah": "sudah",
    "dah": "sudah",
    "blm": "belum",
    "blum": "belum",
    "belom": "belum",
    "jd": "jadi",
    "jdi": "jadi",
    "kpn": "kapan",
    "bs": "bisa",
    "bsa": "bisa",
    "dmn": "mana",
    "gmn": "gimana",
    "ktpnya": "ktp",
    "ektp": "ktp",
    "ktpel": "ktp",
}
_CARD = re.compile(r"\b(?:e\s*-?\s*)?ktp(?:\s*-?\s*el)?\b|\bkartu\b|\bpermohonan\b|\bpengajuan\b|\bberkas\b")
_DONE = r"(?:jadi|selesai|dicetak|tercetak|diambil|sampai|dikirim|terbit|siap|jadinya)"
_STATUS_SIGNAL = re.compile(
    r"\bstatus\b|\bperkembangan\b|\bprogres+\b|\bsampai\s+mana\b|\bbisa\s+diambil\b|\bsiap\s+diambil\b"
    rf"|\b(?:sudah|belum)\s+(?:bisa\s+)?{_DONE}\b|\b{_DONE}\s+(?:belum|kah|apa\s+belum|atau\s+belum)\b"
    rf"|\bkapan\b.*\b{_DONE}\b|\b{_DONE}\b.*\bkapan\b"
)
_HOW_TO = re.compile(
    r"\b(?:syarat\w*|persyaratan|cara\w*|prosedur|biaya|mengurus|ngurus|urus|bikin|membuat)\b"
    r"|\bstatus\s+(?:perkawinan|kawin|pernikahan|pekerjaan|agama)\b"
)


# Other documents the office issues: a question about them is not about the card's status.
_OTHER_DOCUMENT = re.compile(
    r"\b(?:akta|akte|kartu\s+keluarga|kk|kia|surat\s+pindah|skpwni|suket|surat\s+keterangan)\b"
)


def _asks_status(text: str) -> bool:
    words = re.sub(r"[a-z]+", lambda m: _SHORTHAND.get(m.group(), m.group()), text.lower())
    return (
        (_CARD.search(words) is not None or bool(_nik_in(text)))
        and _STATUS_SIGNAL.search(words) is not None
        and _HOW_TO.search(words) is None
        and _OTHER_DOCUMENT.search(words) is None
    )


def _nik_in(text: str) -> str:
    """A 16-digit number in free text (a NIK, maybe split by spaces or dots), else ""."""
    for m in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if len(digits) == NIK_LENGTH:
            return digits
    return ""
