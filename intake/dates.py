"""Indonesian date phrases as residents type them in a booking message ("5/7/2026", "05072026", "Kamis 5 Juli",
"besok", "lusa", "2 hari lagi", "Senin depan", "tgl 5 Agt jam 9 pagi").

Pure: `today` is a parameter, the clock is never read. Numeric dates, day-and-month names and the common
relative words are read by the regular expressions below (fast and exact); whatever else is left goes to
dateparser's Indonesian locale, which misses "lusa", "N hari lagi", "<hari> depan" and "jam 9 pagi" (see
../shared/reference/messaging-delivery-sync.md §2) but reads e.g. "kemarin lusa" or "dalam 2 minggu".
Past dates and dates beyond the booking window are returned as understood: the caller checks them.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache

MONTHS: dict[str, int] = {}
for _number, _spellings in enumerate(
    (
        "januari jan janu januar january",
        "februari feb peb pebruari febuari februai febr pebr february",
        "maret mar mrt mart march",
        "april apr aprl",
        "mei may",
        "juni jun june",
        "juli jul july",
        "agustus agu agt ags agst agus agts aug august",
        "september sep sept spt septmber",
        "oktober okt oct okto october",
        "november nov nop nopember novemb",
        "desember des dec desemb december",
    ),
    start=1,
):
    for _spelling in _spellings.split():
        MONTHS[_spelling] = _number

WEEKDAYS = {
    "senin": 0,
    "selasa": 1,
    "rabu": 2,
    "kamis": 3,
    "jumat": 4,
    "jumaat": 4,
    "sabtu": 5,
    "minggu": 6,
    "ahad": 6,
}
_WEEKDAY = "|".join(WEEKDAYS)

NUMBER_WORDS = {
    "se": 1,
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
    "sepuluh": 10,
}
_COUNT = r"(\d{1,3}|se|satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh)"

RELATIVE_DAYS = {
    "hari ini": 0,
    "hr ini": 0,
    "sekarang": 0,
    "besok": 1,
    "besuk": 1,  # the Javanese spelling, common in Ponorogo
    "bsk": 1,
    "esok": 1,
    "esok hari": 1,
    "lusa": 2,
    "besok lusa": 2,
    "besuk lusa": 2,
    "kemarin": -1,
    "kemarin lusa": -2,
    "minggu depan": 7,
    "pekan depan": 7,
    "minggu besok": 7,
}

# Time of day, "jam 9 pagi", "pukul 09.00 WIB": a booking is for a day, the hour is dropped.
_TIME = re.compile(
    r"\b(?:jam|jm|pukul|pkl)\.?\s*\d{1,2}(?:\s*[.:]\s*\d{2})?(?:\s*(?:wib|wita|wit))?\b"
    r"|\b\d{1,2}:\d{2}\b"
    r"|\b(?:wib|wita|wit)\b"
    r"|\b(?:pagi|siang|sore|malam|petang)\b"
)
_TRAILING_CLOCK = re.compile(r"(?:(?<=[a-z])|(?<=\d{4}))\s+\d{1,2}\.\d{2}$")  # "5 Juli 2026 09.00"
_FILLER = re.compile(
    r"\b(?:tgl|tgal|tangal|tanggal|tanggl|tg|pada|datang|kedatangan|rencana|insya\s*allah|insyaallah|"
    r"insha\s*allah|inshaallah|in\s*sya\s*allah|nanti|tepatnya|rencananya|sekitar|kira\s*-?\s*kira|kurang\s+lebih|"
    r"mungkin|saja|aja|ya|yah|min|kak|pak|bu|mohon|bisa)\b\.?"
    r"|\bhari\s+(?=" + _WEEKDAY + r")"
    r"|\b(?:tahun|thn|th)\.?\s*(?=\d{2,4}\b)"
)

_DMY = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-\s]\s*(\d{4}|\d{2})")
_DMY_SPACED = re.compile(r"(\d{1,2})\s+(\d{1,2})\s+(\d{4})")
_YMD = re.compile(r"(\d{4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})")
_DM = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})")
_PACKED = re.compile(r"\d{6}|\d{8}")  # DDMMYY, DDMMYYYY
_DAY_ONLY = re.compile(r"\d{1,2}")
_D_MONTH_Y = re.compile(r"(\d{1,2})\s*[\s/.\-]?\s*([a-z]{3,10})\.?(?:\s*[\s/.\-,]?\s*'?(\d{4}|\d{2}))?")
_MONTH_D_Y = re.compile(r"([a-z]{3,10})\.?\s+(\d{1,2})(?:\s*,?\s*(\d{4}))?")
_IN_DAYS = re.compile(
    r"(?:(?:dalam|dlm)\s+" + _COUNT + r"\s*(?:hari|hr)(?:\s+lagi)?|" + _COUNT + r"\s*(?:hari|hr)\s*"
    r"(?:lagi|lg|ke\s*depan|kedepan|mendatang|dari\s+sekarang))"
)
_IN_WEEKS = re.compile(
    r"(?:(?:dalam|dlm)\s+" + _COUNT + r"\s*(?:minggu|pekan)(?:\s+lagi)?|" + _COUNT + r"\s*(?:minggu|pekan)\s*"
    r"(?:lagi|ke\s*depan|kedepan|mendatang|dari\s+sekarang))"
)
_ON_WEEKDAY = re.compile(
    r"(" + _WEEKDAY + r")(?:\s+(depan|ini|besok|nanti|minggu\s+depan|pekan\s+depan|minggu\s+ini|pekan\s+ini))?"
)
_WEEKDAY_AROUND_DATE = re.compile(r"^(?:" + _WEEKDAY + r")\b\s*(?=\d)|(?<=[a-z\d])\s+(?:" + _WEEKDAY + r")$")


def normalise(text: str) -> str:
    """Lower case, without time of day, filler words, punctuation around the date and doubled spaces."""
    text = text.lower().replace("'", "").replace("\u2019", "").replace("`", "")
    text = re.sub(r"[,;:()\[\]!?\"]", " ", text)
    text = _TIME.sub(" ", text)
    text = _FILLER.sub(" ", text)
    text = re.sub(r"(\d)\s*\b(?:bulan|bln)\b\.?\s*(\d)", r"\1/\2", text)  # "tanggal 5 bulan 7"
    text = re.sub(r"\s+", " ", text).strip(" .-/")
    return _TRAILING_CLOCK.sub("", text)


def parse_day(text: str, *, today: date) -> date | None:
    """The day `text` names, read from `today` (no clock), or None when it names no single valid day.

    A day and month without a year is the next such day not before `today`; a weekday alone is the next
    one after today; invalid dates (31 Juni, 29 Februari 2027) are None.
    """
    phrase = normalise(text)
    if not phrase:
        return None
    found = _fast(phrase, today)
    if found is not _NOT_MATCHED:
        return found
    return _dateparser_day(phrase, today)


def looks_like_day(text: str, *, today: date) -> bool:
    """Whether `text` is written like a day ("5 Juli", "besok", "32/7"), valid or not, judged without
    dateparser: cheap enough to tell a booking's name field from its date field."""
    phrase = normalise(text)
    return bool(phrase) and _fast(phrase, today) is not _NOT_MATCHED


_NOT_MATCHED = object()


def _fast(phrase: str, today: date):  # -> date | None | _NOT_MATCHED
    if phrase in RELATIVE_DAYS:
        return today + timedelta(days=RELATIVE_DAYS[phrase])
    if m := _IN_DAYS.fullmatch(phrase):
        return today + timedelta(days=_count(m.group(1) or m.group(2)))
    if m := _IN_WEEKS.fullmatch(phrase):
        return today + timedelta(weeks=_count(m.group(1) or m.group(2)))
    if m := _ON_WEEKDAY.fullmatch(phrase):
        return _weekday(WEEKDAYS[m.group(1)], m.group(2) or "", today)
    # "Kamis 5 Juli", "5 Juli (Kamis)", "besok Kamis": the date decides, a contradicting weekday is ignored.
    if (without_weekday := _WEEKDAY_AROUND_DATE.sub("", phrase).strip()) != phrase and without_weekday:
        return _fast(without_weekday, today)
    if m := _DMY.fullmatch(phrase):
        return _explicit(int(m.group(3)), int(m.group(2)), int(m.group(1)), two_digit=len(m.group(3)) == 2)
    if m := _YMD.fullmatch(phrase):
        return _explicit(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _DMY_SPACED.fullmatch(phrase):
        return _explicit(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if _PACKED.fullmatch(phrase):
        year = phrase[4:]
        return _explicit(int(year), int(phrase[2:4]), int(phrase[:2]), two_digit=len(year) == 2)
    if m := _DM.fullmatch(phrase):
        return _next(int(m.group(2)), int(m.group(1)), today)
    if _DAY_ONLY.fullmatch(phrase):
        return _next_day_of_month(int(phrase), today)
    if (m := _D_MONTH_Y.fullmatch(phrase)) and (month := _month(m.group(2))):
        day, year = int(m.group(1)), m.group(3)
        if year is None:
            return _next(month, day, today)
        return _explicit(int(year), month, day, two_digit=len(year) == 2)
    if (m := _MONTH_D_Y.fullmatch(phrase)) and (month := _month(m.group(1))):
        day, year = int(m.group(2)), m.group(3)
        return _next(month, day, today) if year is None else _explicit(int(year), month, day)
    return _NOT_MATCHED


def _count(word: str) -> int:
    return NUMBER_WORDS[word] if word in NUMBER_WORDS else int(word)


def _month(word: str) -> int | None:
    if word in MONTHS:
        return MONTHS[word]
    # An unambiguous longer beginning of a month name ("janu", "septe", "okto").
    months = {number for spelling, number in MONTHS.items() if len(word) >= 4 and spelling.startswith(word)}
    return months.pop() if len(months) == 1 else None


def _weekday(weekday: int, which: str, today: date) -> date:
    monday = today - timedelta(days=today.weekday())
    if which in ("minggu depan", "pekan depan"):  # "Senin minggu depan": in the next calendar week
        return monday + timedelta(days=7 + weekday)
    if which in ("minggu ini", "pekan ini"):  # "Jumat minggu ini": in this calendar week, even if past
        return monday + timedelta(days=weekday)
    ahead = (weekday - today.weekday()) % 7
    if which == "ini":  # "Sabtu ini": this coming Saturday, today included
        return today + timedelta(days=ahead)
    return today + timedelta(days=ahead or 7)  # "Senin", "Senin depan": the next Monday after today


def _explicit(year: int, month: int, day: int, *, two_digit: bool = False) -> date | None:
    if two_digit:
        year += 2000
    if not 1900 <= year <= 2199:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next(month: int, day: int, today: date) -> date | None:
    """The next `day`.`month` not before today (29 Februari: the next leap year's)."""
    for year in range(today.year, today.year + 9):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    return None


def _next_day_of_month(day: int, today: date) -> date | None:
    """ "tanggal 15": the next 15th not before today."""
    year, month = today.year, today.month
    for _ in range(13):
        try:
            found = date(year, month, day)
        except ValueError:
            found = None
        if found is not None and found >= today:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


@lru_cache(maxsize=16)
def _date_data_parser(today: date):
    # dateparser is imported on first use: it takes a quarter of a second, and most dates never need it.
    from dateparser.date import DateDataParser

    return DateDataParser(
        languages=["id"],
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": datetime.combine(today, time()),
            "RETURN_TIME_AS_PERIOD": False,
        },
    )


def _dateparser_day(phrase: str, today: date) -> date | None:
    if not re.search(r"[a-z]{3}", phrase):  # numbers alone were all read above, or are not a day
        return None
    data = _date_data_parser(today).get_date_data(phrase)
    if data.date_obj is None or data.period != "day":  # "Juli 2026" names a month, not a day
        return None
    return data.date_obj.date()
