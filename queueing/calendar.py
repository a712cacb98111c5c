"""The service calendar: office-day rows (opening hours, quotas, closures), national holidays, and the first
day with room for a channel."""

from collections.abc import Iterable
from datetime import date, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q

from cards.models import CardRequest
from queueing.models import (
    Closure,
    OpeningHours,
    QueueChannel,
    QuotaDefault,
    ServiceDay,
)
from registry.models import Office

S = CardRequest.Status


SEARCH_DAYS = 90
# A booker waits at most this long for a day's row; a full day must answer at once, not after a queue.
LOCK_TIMEOUT_MS = 2000


# --- calendar -------------------------------------------------------------------------------------------


def holidays_load(*, years: Iterable[int]) -> int:
    """Seed national holidays and cuti bersama from the `holidays` package (its `government` category) as
    closures for every office. Rows staff edited or added are left as they are."""
    import holidays

    created = 0
    for year in years:
        national = holidays.country_holidays("ID", years=year, language="id")
        cuti = holidays.country_holidays("ID", years=year, language="id", categories=("government",))
        for kind, table in ((Closure.Kind.NATIONAL_HOLIDAY, national), (Closure.Kind.CUTI_BERSAMA, cuti)):
            for day, name in sorted(table.items()):
                _closure, was_created = Closure.objects.get_or_create(
                    office=None, date=day, defaults={"name": name[:150], "kind": kind, "from_package": True}
                )
                created += was_created
    return created


def printing_office(office: Office) -> Office:
    """Cards are printed by the Disdukcapil office: its calendar and quotas are the ones that count."""
    return office.head_office


def service_day_get(*, office: Office, day: date) -> ServiceDay:
    """The office-day row, created from the weekday's opening hours, default quota and the closures the
    first time it is needed. Two callers creating it at once end with the same row."""
    office = printing_office(office)
    existing = ServiceDay.objects.filter(office=office, date=day).first()
    if existing is not None:
        return existing
    weekday = day.weekday()
    is_open = (
        OpeningHours.objects.filter(office=office, weekday=weekday).exists()
        and not Closure.objects.filter(Q(office__isnull=True) | Q(office=office), date=day).exists()
    )
    quota = QuotaDefault.objects.filter(office=office, weekday=weekday).first()
    values = {
        "is_open": is_open,
        "print_capacity": quota.print_capacity if quota else 0,
        "cap_whatsapp": quota.whatsapp if quota else 0,
        "cap_walk_in": quota.walk_in if quota else 0,
        "cap_invitation": quota.invitation if quota else 0,
        "cap_uptd": quota.uptd if quota else 0,
    }
    try:
        with transaction.atomic():
            return ServiceDay.objects.create(office=office, date=day, **values)
    except IntegrityError:
        return ServiceDay.objects.get(office=office, date=day)


def next_free_day(*, office: Office, channel: str, after: date, urgent: bool = False) -> date | None:
    """The first day after `after` with room for the channel (for urgent: room in the print capacity)."""
    office_id = printing_office(office).pk
    if connection.vendor == "postgresql":
        return next_free_day_sql(office_id=office_id, channel=channel, after=after, urgent=urgent)
    return next_free_day_python(office_id=office_id, channel=channel, after=after, urgent=urgent)


def next_free_day_python(*, office_id: int, channel: str, after: date, urgent: bool) -> date | None:
    """Day by day over the office's rows, opening hours, quotas and closures (SQLite; the reference that
    the PostgreSQL query is tested against)."""
    end = after + timedelta(days=SEARCH_DAYS)
    closed = set(
        Closure.objects.filter(Q(office__isnull=True) | Q(office_id=office_id), date__range=(after, end)).values_list(
            "date", flat=True
        )
    )
    open_weekdays = set(OpeningHours.objects.filter(office_id=office_id).values_list("weekday", flat=True))
    quotas = {q.weekday: q for q in QuotaDefault.objects.filter(office_id=office_id)}
    rows = {d.date: d for d in ServiceDay.objects.filter(office_id=office_id, date__gt=after, date__lte=end)}
    day = after + timedelta(days=1)
    while day <= end:
        row = rows.get(day)
        if row is not None:
            if row.room(channel, urgent=urgent) > 0:
                return day
        elif day.weekday() in open_weekdays and day not in closed:
            quota = quotas.get(day.weekday())
            capacity = quota.print_capacity if quota else 0
            if capacity > 0 and (urgent or getattr(quota, channel, 0) > 0):
                return day
        day += timedelta(days=1)
    return None


# The same search in one query: a full day's refusal must cost one round trip, not five.
_NEXT_FREE_SQL = """
SELECT g.day::date
  FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS g(day)
  LEFT JOIN queueing_serviceday d ON d.office_id = %(office)s AND d.date = g.day::date
  LEFT JOIN queueing_quotadefault q ON q.office_id = %(office)s AND q.weekday = extract(isodow FROM g.day)::int - 1
 WHERE CASE WHEN d.id IS NOT NULL
            THEN d.is_open AND d.booked_total + d.batch_printed < d.print_capacity {row_channel}
            ELSE q.print_capacity > 0 {default_channel}
                 AND EXISTS (SELECT 1 FROM queueing_openinghours h
                              WHERE h.office_id = %(office)s AND h.weekday = extract(isodow FROM g.day)::int - 1)
                 AND NOT EXISTS (SELECT 1 FROM queueing_closure c
                                  WHERE c.date = g.day::date AND (c.office_id IS NULL OR c.office_id = %(office)s))
       END
 ORDER BY g.day
 LIMIT 1
"""


def next_free_day_sql(*, office_id: int, channel: str, after: date, urgent: bool) -> date | None:
    channel = QueueChannel(channel)  # only a known channel reaches the column names below
    sql = _NEXT_FREE_SQL.format(
        row_channel="" if urgent else f"AND d.booked_{channel} < d.cap_{channel}",
        default_channel="" if urgent else f"AND q.{channel} > 0",
    )
    params = {"office": office_id, "start": after + timedelta(days=1), "end": after + timedelta(days=SEARCH_DAYS)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def _open_days_python(*, office_id: int, first: date, last: date) -> dict[date, ServiceDay]:
    """Every day from `first` to `last` as an office-day (the stored row, or an unsaved one built from the
    weekday's opening hours, default quota and closures): four queries whatever the span."""
    closed = set(
        Closure.objects.filter(Q(office__isnull=True) | Q(office_id=office_id), date__range=(first, last)).values_list(
            "date", flat=True
        )
    )
    open_weekdays = set(OpeningHours.objects.filter(office_id=office_id).values_list("weekday", flat=True))
    quotas = {q.weekday: q for q in QuotaDefault.objects.filter(office_id=office_id)}
    rows = {d.date: d for d in ServiceDay.objects.filter(office_id=office_id, date__range=(first, last))}
    days: dict[date, ServiceDay] = {}
    day = first
    while day <= last:
        row = rows.get(day)
        if row is None:
            quota = quotas.get(day.weekday())
            row = ServiceDay(
                office_id=office_id,
                date=day,
                is_open=day.weekday() in open_weekdays and day not in closed,
                print_capacity=quota.print_capacity if quota else 0,
                cap_whatsapp=quota.whatsapp if quota else 0,
                cap_walk_in=quota.walk_in if quota else 0,
                cap_invitation=quota.invitation if quota else 0,
                cap_uptd=quota.uptd if quota else 0,
            )
        days[day] = row
        day += timedelta(days=1)
    return days


def places_left(*, office: Office, first: date, days: int) -> list[tuple[ServiceDay, dict[str, int]]]:
    """The places left per day and channel for `days` days from `first` (the booking panel's table); days the
    office does not serve are left out. Creates no rows."""
    office_id = printing_office(office).pk
    table = _open_days_python(office_id=office_id, first=first, last=first + timedelta(days=days - 1))
    return [
        (row, {channel: row.room(channel) for channel in QueueChannel.values})
        for row in table.values()
        if row.is_open and row.print_capacity > 0
    ]


def working_day_after(*, office: Office, after: date, count: int) -> date | None:
    """The `count`-th working day after `after` (a day the office serves: open, with a print capacity), as
    the calendar stands; None when there are not that many within the search window."""
    office_id = printing_office(office).pk
    table = _open_days_python(office_id=office_id, first=after + timedelta(days=1), last=after + timedelta(SEARCH_DAYS))
    seen = 0
    for day, row in table.items():
        if row.is_open and row.print_capacity > 0:
            seen += 1
            if seen >= max(count, 1):
                return day
    return None


def short_lock_timeout() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")


def holds_valid_suket() -> Exists:
    """Residents who hold a suket are printed first when blanks arrive (they wait on paper). Read through the
    request's reverse relation: the suket belongs to delivery, above this app."""
    # `sukets__isnull=False` in the same filter: a request without any suket is not a holder (the reverse join
    # alone would match it, its missing suket's ended_at being NULL).
    return Exists(CardRequest.objects.filter(pk=OuterRef("pk"), sukets__isnull=False, sukets__ended_at__isnull=True))
