"""Supervisors set an office's calendar in the app: each weekday's default (print capacity, channel quotas,
opening hours), one coming date's quota (a `ServiceDay` override, created if missing) and local closures.
Every change is a `QuotaChange` row written in the same transaction.

Concurrency: a date's override locks its `ServiceDay` row (select_for_update) before comparing the new
figures with what is booked; a booking takes its place with a conditional UPDATE of that same row, so it
waits for the change to commit and is then judged against the new quota. Neither can overbook, and the
database's CHECK constraints remain the last line of defence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from queueing.appointments import day_close, day_text
from queueing.calendar import printing_office, service_day_get
from queueing.errors import QueueingError, QuotaRefused
from queueing.models import Closure, OpeningHours, QueueChannel, QuotaChange, QuotaDefault, ServiceDay
from registry import clock
from registry.models import Office, User

F_ = QuotaChange.Field
# The figures a default or an override sets: the print capacity, then one quota per channel.
QUOTA_FIELDS = ("print_capacity", *QueueChannel.values)


@dataclass(frozen=True)
class Figures:
    """A day's capacity and channel quotas, as a form posts them."""

    print_capacity: int
    whatsapp: int
    walk_in: int
    invitation: int
    uptd: int

    def errors(self) -> dict[str, str]:
        """A channel's quota above the print capacity can never be used: refused, naming the field."""
        return {
            channel: _("Kuota saluran tidak boleh melebihi kapasitas cetak (%(n)d).") % {"n": self.print_capacity}
            for channel in QueueChannel.values
            if getattr(self, channel) > self.print_capacity
        }


def hours_text(opens_at: time | None, closes_at: time | None) -> str:
    """Opening hours as history stores them: "08:00–15:00", or empty for closed."""
    if opens_at is None or closes_at is None:
        return ""
    return f"{opens_at:%H:%M}–{closes_at:%H:%M}"


def _change(*, office: Office, by: User, field: str, old: object, new: object, weekday=None, day=None) -> QuotaChange:
    return QuotaChange(
        office=office,
        weekday=weekday,
        day=day,
        field=field,
        old_value=str(old)[:160],
        new_value=str(new)[:160],
        changed_by=by,
        changed_at=clock.now(),
    )


# --- a weekday's default ----------------------------------------------------------------------------------


def _row_column(field: str) -> str:
    return field if field == "print_capacity" else f"cap_{field}"


def _spread_to_coming_days(*, office: Office, weekday: int, field: str, old: int, new: int, after: date) -> int:
    """Coming days of that weekday already materialised with the old default (not given their own figure) take
    the new one, each in one conditional UPDATE that never goes below what the day already holds."""
    column = _row_column(field)
    rows = ServiceDay.objects.filter(office=office, date__gt=after, date__iso_week_day=weekday + 1)
    if field == "print_capacity":
        within = Q(booked_total__lte=new - F("batch_printed"))
    else:
        within = Q(**{f"booked_{field}__lte": new})
    return rows.filter(within, **{column: old}).update(**{column: new})


def quota_default_set(
    *,
    office: Office,
    weekday: int,
    figures: Figures,
    opens_at: time | None,
    closes_at: time | None,
    by: User,
    today: date | None = None,
) -> list[QuotaChange]:
    """Set a weekday's default capacity, channel quotas and opening hours (None: closed that weekday).

    Invariants: a channel's quota never exceeds the print capacity; the office opens before it closes; each
    changed value is one history row. Coming days of that weekday already materialised with the old figure
    take the new one where what they hold allows it; days given their own figure keep it. Opening a weekday
    opens its coming materialised days without a closure; closing it closes only those nobody is booked on.
    """
    office = printing_office(office)
    today = today or clock.today(office)
    errors = figures.errors()
    if (opens_at is None) != (closes_at is None):
        errors["opens_at"] = _("Isi jam buka dan jam tutup, atau kosongkan keduanya bila hari itu tutup.")
    elif opens_at is not None and opens_at >= closes_at:
        errors["closes_at"] = _("Jam tutup harus sesudah jam buka.")
    if errors:
        raise QuotaRefused(errors)
    changes: list[QuotaChange] = []
    with transaction.atomic():
        default, _created = QuotaDefault.objects.get_or_create(
            office=office, weekday=weekday, defaults={"print_capacity": 0}
        )
        default = QuotaDefault.objects.select_for_update().get(pk=default.pk)
        for field in QUOTA_FIELDS:
            old, new = getattr(default, field), getattr(figures, field)
            if old == new:
                continue
            setattr(default, field, new)
            _spread_to_coming_days(office=office, weekday=weekday, field=field, old=old, new=new, after=today)
            changes.append(_change(office=office, by=by, field=field, old=old, new=new, weekday=weekday))
        default.save(update_fields=list(QUOTA_FIELDS))
        hours = OpeningHours.objects.select_for_update().filter(office=office, weekday=weekday).first()
        old_hours = hours_text(hours.opens_at, hours.closes_at) if hours else ""
        new_hours = hours_text(opens_at, closes_at)
        if old_hours != new_hours:
            coming = ServiceDay.objects.filter(office=office, date__gt=today, date__iso_week_day=weekday + 1)
            if opens_at is None:
                hours.delete()
                coming.filter(booked_total=0, batch_printed=0).update(is_open=False)
            else:
                OpeningHours.objects.update_or_create(
                    office=office, weekday=weekday, defaults={"opens_at": opens_at, "closes_at": closes_at}
                )
                if not old_hours:
                    closed = Closure.objects.filter(Q(office__isnull=True) | Q(office=office), date__gt=today)
                    coming.exclude(date__in=closed.values("date")).update(is_open=True)
            changes.append(
                _change(office=office, by=by, field=F_.OPENING_HOURS, old=old_hours, new=new_hours, weekday=weekday)
            )
        QuotaChange.objects.bulk_create(changes)
    return changes


# --- one coming date ------------------------------------------------------------------------------------


def service_day_quota_set(
    *, office: Office, day: date, figures: Figures, by: User, today: date | None = None
) -> list[QuotaChange]:
    """Give one coming date its own capacity and channel quotas (the day's row is created from the defaults if
    missing).

    Invariants: never below what is already booked on that channel, nor a print capacity below the day's
    appointments plus the cards batch-printed on it; checked on the row locked with select_for_update, so a
    booking at the same moment waits and is then judged against the new figures. Refused: nothing changes.
    """
    office = printing_office(office)
    today = today or clock.today(office)
    if day <= today:
        raise QuotaRefused({"day": _("Hanya tanggal yang akan datang yang dapat diubah kuotanya.")})
    errors = figures.errors()
    if errors:
        raise QuotaRefused(errors)
    with transaction.atomic():
        service_day = ServiceDay.objects.select_for_update().get(pk=service_day_get(office=office, day=day).pk)
        if not service_day.is_open:
            raise QuotaRefused(
                {"day": _("Kantor tidak melayani pada %(day)s (tutup atau libur).") % {"day": day_text(day)}}
            )
        held = service_day.booked_total + service_day.batch_printed
        if figures.print_capacity < held:
            errors["print_capacity"] = _(
                "Sudah ada %(n)d tempat terpakai pada %(day)s (jadwal dan cetak batch): kapasitas tidak boleh kurang."
            ) % {"n": held, "day": day_text(day)}
        for channel in QueueChannel.values:
            booked = getattr(service_day, f"booked_{channel}")
            if getattr(figures, channel) < booked:
                message = _("Sudah %(n)d terjadwal lewat saluran ini pada %(day)s: kuota tidak boleh kurang.")
                errors[channel] = message % {
                    "n": booked,
                    "day": day_text(day),
                }
        if errors:
            raise QuotaRefused(errors)
        changes = []
        for field in QUOTA_FIELDS:
            column = _row_column(field)
            old, new = getattr(service_day, column), getattr(figures, field)
            if old != new:
                setattr(service_day, column, new)
                changes.append(_change(office=office, by=by, field=field, old=old, new=new, day=day))
        service_day.save(update_fields=[_row_column(field) for field in QUOTA_FIELDS])
        QuotaChange.objects.bulk_create(changes)
    return changes


# --- local closures -------------------------------------------------------------------------------------


def closure_add(*, office: Office, day: date, reason: str, by: User, today: date | None = None) -> dict[str, int]:
    """Close a coming date locally through the counter's own service (`day_close`: its appointments moved to
    the next day with room, residents told), and keep it in the history."""
    office = printing_office(office)
    counts = day_close(office=office, day=day, reason=reason, by=by, today=today)
    _change(office=office, by=by, field=F_.CLOSURE, old="", new=reason.strip(), day=day).save()
    return counts


def closure_remove(*, office: Office, day: date, by: User, today: date | None = None) -> None:
    """Reopen a coming date closed locally: the office's closure goes, and the day opens again when its weekday
    has opening hours and no national holiday or cuti bersama falls on it. Appointments moved away stay where
    they went (the residents were told their new day). National closures are not the office's to remove."""
    office = printing_office(office)
    today = today or clock.today(office)
    if day <= today:
        raise QueueingError(_("Hanya hari yang akan datang yang dapat dibuka kembali."))
    with transaction.atomic():
        closure = Closure.objects.select_for_update().filter(office=office, date=day).first()
        if closure is None:
            raise QueueingError(_("Tidak ada penutupan lokal pada %(day)s.") % {"day": day_text(day)})
        reason = closure.name
        closure.delete()
        reopens = (
            OpeningHours.objects.filter(office=office, weekday=day.weekday()).exists()
            and not Closure.objects.filter(office__isnull=True, date=day).exists()
        )
        if reopens:
            ServiceDay.objects.filter(office=office, date=day).update(is_open=True)
        _change(office=office, by=by, field=F_.CLOSURE, old=reason, new="", day=day).save()


# --- what the coming weeks hold ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnFigures:
    """A coming date whose figures differ from its weekday's default: (field, its own value, the default)."""

    day: date
    is_open: bool
    differences: list[tuple[str, int, int]]


def coming_own_figures(*, office: Office, after: date, days: int = 56) -> list[OwnFigures]:
    """The coming dates (up to `days` after `after`) given their own capacity or quota: two queries."""
    office = printing_office(office)
    defaults = {quota.weekday: quota for quota in QuotaDefault.objects.filter(office=office)}
    rows = ServiceDay.objects.filter(office=office, date__gt=after, date__lte=after + timedelta(days=days))
    found = []
    for row in rows.order_by("date"):
        default = defaults.get(row.date.weekday())
        differences = []
        for field in QUOTA_FIELDS:
            own, usual = getattr(row, _row_column(field)), getattr(default, field) if default else 0
            if own != usual:
                differences.append((str(F_(field).label), own, usual))
        if differences:
            found.append(OwnFigures(day=row.date, is_open=row.is_open, differences=differences))
    return found
