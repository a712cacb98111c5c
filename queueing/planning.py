"""The coming days, read-only: a calendar of an office's next weeks (places taken and left per channel,
closures with their reasons, closed weekdays) and the list of who is expected on a day.

Nothing here writes: days not yet materialised as `ServiceDay` rows are shown as their weekday's default
would make them (`service_day_get` creates the row when a booking first needs it, never a GET). The calendar
costs a fixed number of queries whatever the span: the stored rows, the closures, the defaults and the
opening hours, one query each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from cards.models import CardRequest
from queueing.calendar import printing_office
from queueing.models import Booking, Closure, OpeningHours, QueueChannel, QuotaDefault, ServiceDay
from registry.models import Office, User

# The statuses of a day's list: still expected, arrived, or did not come (cancelled and moved bookings are
# somebody else's day now).
EXPECTED_STATUSES = (Booking.Status.BOOKED, Booking.Status.CHECKED_IN, Booking.Status.NO_SHOW)
# The calendar shows at least four weeks from today: five rows of Monday-to-Sunday weeks.
CALENDAR_WEEKS = 5


def expected_on(*, office: Office, day: date) -> QuerySet[Booking]:
    """The day's appointments at the office that prints for `office`: every booking still standing, arrived or
    missed (walk-ins served that day included), with its request, resident and walk-in ticket, by queue
    number. The exports (`queueing:day_export`) reuse it; callers narrow it to a user's scope."""
    return (
        Booking.objects.filter(office=printing_office(office), date=day, status__in=EXPECTED_STATUSES)
        .select_related("card_request__resident__desa", "ticket")
        .order_by("number", "id")
    )


def expected_visible_to(bookings: QuerySet[Booking], user: User) -> QuerySet[Booking]:
    """`expected_on` narrowed to the requests the user may see (a UPTD operator: its kecamatan's)."""
    return bookings.filter(card_request__in=CardRequest.objects.visible_to(user).values("pk"))


# What a calendar cell has room for (the full name is in the cell's tooltip and the legend).
CHANNEL_SHORT = {
    QueueChannel.WHATSAPP: gettext_lazy("WA"),
    QueueChannel.WALK_IN: gettext_lazy("Langsung"),
    QueueChannel.INVITATION: gettext_lazy("Undangan"),
    QueueChannel.UPTD: gettext_lazy("UPTD"),
}


@dataclass(frozen=True)
class ChannelFigure:
    channel: str
    label: str
    quota: int
    taken: int
    left: int

    @property
    def short_label(self) -> str:
        return str(CHANNEL_SHORT[self.channel])


@dataclass
class CalendarDay:
    """One day of the calendar as the office stands: open or why not, and each channel's places."""

    date: date
    is_open: bool
    is_past: bool
    is_today: bool
    materialised: bool
    weekday_open: bool
    hours: OpeningHours | None
    closures: list[Closure] = field(default_factory=list)
    channels: list[ChannelFigure] = field(default_factory=list)
    print_capacity: int = 0
    taken: int = 0
    left: int = 0
    urgent: int = 0
    batch_printed: int = 0

    @property
    def serves(self) -> bool:
        """A day residents can be booked on: open, with a print capacity."""
        return self.is_open and self.print_capacity > 0

    @property
    def closed_reason(self) -> str:
        if self.closures:
            return "; ".join(f"{c.get_kind_display()}: {c.name}" for c in self.closures)
        return ""


@dataclass
class Calendar:
    office: Office
    first: date
    last: date
    today: date
    weeks: list[list[CalendarDay]]
    channels: list[tuple[str, str]]

    @property
    def days(self) -> list[CalendarDay]:
        return [day for week in self.weeks for day in week]


def calendar_weeks(
    *, office: Office, today: date, week_offset: int = 0, weeks: int = CALENDAR_WEEKS, channels: list[str] | None = None
) -> Calendar:
    """`weeks` Monday-to-Sunday weeks from the week of `today` (moved by `week_offset` weeks), each day with
    its places taken and left per channel (`channels`, default all) and in total, and its closures. Four
    queries whatever the span; creates no rows."""
    first = today - timedelta(days=today.weekday()) + timedelta(weeks=week_offset)
    last = first + timedelta(days=7 * weeks - 1)
    rows = {row.date: row for row in ServiceDay.objects.filter(office=office, date__range=(first, last))}
    closures: dict[date, list[Closure]] = {}
    for closure in Closure.objects.filter(Q(office__isnull=True) | Q(office=office), date__range=(first, last)):
        closures.setdefault(closure.date, []).append(closure)
    defaults = {quota.weekday: quota for quota in QuotaDefault.objects.filter(office=office)}
    hours = {row.weekday: row for row in OpeningHours.objects.filter(office=office)}
    shown = [QueueChannel(c) for c in channels] if channels else list(QueueChannel)
    days: list[CalendarDay] = []
    day = first
    while day <= last:
        days.append(
            _calendar_day(
                day,
                row=rows.get(day),
                closures=closures.get(day, []),
                default=defaults.get(day.weekday()),
                hours=hours.get(day.weekday()),
                today=today,
                channels=shown,
                office=office,
            )
        )
        day += timedelta(days=1)
    return Calendar(
        office=office,
        first=first,
        last=last,
        today=today,
        weeks=[days[i : i + 7] for i in range(0, len(days), 7)],
        channels=[(c.value, str(c.label)) for c in shown],
    )


def _calendar_day(
    day: date,
    *,
    row: ServiceDay | None,
    closures: list[Closure],
    default: QuotaDefault | None,
    hours: OpeningHours | None,
    today: date,
    channels: list[QueueChannel],
    office: Office,
) -> CalendarDay:
    materialised = row is not None
    if row is None:
        # What service_day_get would create, unsaved.
        row = ServiceDay(
            office=office,
            date=day,
            is_open=hours is not None and not closures,
            print_capacity=default.print_capacity if default else 0,
            cap_whatsapp=default.whatsapp if default else 0,
            cap_walk_in=default.walk_in if default else 0,
            cap_invitation=default.invitation if default else 0,
            cap_uptd=default.uptd if default else 0,
        )
    figures = []
    for channel in channels:
        quota = getattr(row, f"cap_{channel}")
        taken = getattr(row, f"booked_{channel}")
        figures.append(
            ChannelFigure(
                channel=channel.value, label=str(channel.label), quota=quota, taken=taken, left=row.room(channel)
            )
        )
    return CalendarDay(
        date=day,
        is_open=row.is_open,
        is_past=day < today,
        is_today=day == today,
        materialised=materialised,
        weekday_open=hours is not None,
        hours=hours,
        closures=closures,
        channels=figures,
        print_capacity=row.print_capacity,
        taken=row.booked_total,
        left=row.print_places_left,
        urgent=row.booked_urgent,
        batch_printed=row.batch_printed,
    )
