"""Invitations (Blitar: ~400 a day): a day's invitation quota offered to route-1 requests ready to print, for a
day at least `office.invitation_lead_days` working days ahead; suket holders and approved urgent first, then
the oldest waiting. The clerk sees who was invited and prints the day's letters grouped by desa."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from cards.models import CardRequest, Route
from queueing.appointments import NO_SHOWS_BEFORE_WAITING, booking_book, day_text
from queueing.calendar import holds_valid_suket, printing_office, service_day_get, working_day_after
from queueing.errors import DayUnavailable, QueueingError
from queueing.models import Booking, QueueChannel
from registry import clock
from registry.models import Office, User

S = CardRequest.Status


def invitation_first_day(*, office: Office, today: date | None = None) -> date | None:
    """The earliest day an invitation may name: `invitation_lead_days` working days after today (the
    office's open days, as its calendar stands), so the letters can reach the villages in time."""
    office = printing_office(office)
    today = today or clock.today(office)
    return working_day_after(office=office, after=today, count=office.invitation_lead_days)


def invitation_candidates(*, office: Office) -> QuerySet[CardRequest]:
    """Who is invited next, in order: route-1 requests ready to print that have not missed two appointments
    (those wait until the resident asks again); suket holders, then approved urgent, then the oldest waiting
    (a no-show went to the back of the line)."""
    return (
        CardRequest.objects.filter(
            office=printing_office(office),
            status=S.READY_TO_PRINT,
            route=Route.COUNTER,
            no_shows__lt=NO_SHOWS_BEFORE_WAITING,
        )
        .annotate(has_suket=holds_valid_suket())
        .order_by("-has_suket", "-is_urgent", "queued_at", "id")
    )


def invitations_send(*, office: Office, day: date, by: User | None, today: date | None = None) -> list[Booking]:
    """Invite for `day`, in the order of `invitation_candidates`, until the day's invitation quota (or its
    print capacity) is used; approved urgent requests skip the quota, not the capacity. A pemula is invited
    only for a day on which they are wajib KTP. Invariant: never for a day earlier than the lead time."""
    office = printing_office(office)
    today = today or clock.today(office)
    first = invitation_first_day(office=office, today=today)
    if first is None or day < first:
        raise QueueingError(
            _("Undangan paling cepat untuk %(first)s (%(n)d hari kerja dari hari ini), supaya surat sampai ke desa.")
            % {"first": day_text(first) if first else "-", "n": office.invitation_lead_days}
        )
    service_day = service_day_get(office=office, day=day)
    if not service_day.is_open:
        raise QueueingError(_("Tanggal %(day)s kantor tidak melayani.") % {"day": day_text(day)})
    room = service_day.room(QueueChannel.INVITATION)
    invited: list[Booking] = []
    candidates = invitation_candidates(office=office).values_list("pk", "is_urgent", "has_suket")
    for card_request_id, is_urgent, has_suket in candidates.iterator(chunk_size=500):
        if room <= 0 and not is_urgent:
            if has_suket:
                continue  # approved urgent requests without a suket may still follow
            break
        try:
            booking = booking_book(
                card_request_id=card_request_id, channel=QueueChannel.INVITATION, by=by, wish=day, today=today
            )
        except DayUnavailable:
            if is_urgent:
                break  # not even the print capacity has room
            room = 0
            continue
        except QueueingError:
            continue  # changed meanwhile, or a pemula not yet wajib KTP that day: the next one
        invited.append(booking)
        if not booking.urgent:
            room -= 1
    return invited


def invited_for(*, office: Office, day: date) -> QuerySet[Booking]:
    """The invitations for a day (still standing or already used), grouped by desa for distribution through the
    village offices: desa, then the resident's name."""
    return (
        Booking.objects.filter(
            office=printing_office(office),
            date=day,
            channel=QueueChannel.INVITATION,
            status__in=[Booking.Status.BOOKED, Booking.Status.CHECKED_IN, Booking.Status.NO_SHOW],
        )
        .select_related("card_request__resident__desa__parent", "office")
        .order_by("card_request__resident__desa__parent__name", "card_request__resident__desa__name", "number")
    )


def invitation_days(*, office: Office, around: date, before: int = 30, after: int = 60) -> list[dict]:
    """The days invitations were sent for, from `before` days before `around` to `after` days after it, each
    with how many were invited and how many came, did not come or are still expected: one query."""
    counts = (
        Booking.objects.filter(
            office=printing_office(office),
            channel=QueueChannel.INVITATION,
            date__range=(around - timedelta(days=before), around + timedelta(days=after)),
            status__in=[Booking.Status.BOOKED, Booking.Status.CHECKED_IN, Booking.Status.NO_SHOW],
        )
        .values("date")
        .annotate(
            invited=Count("id"),
            came=Count("id", filter=Q(status=Booking.Status.CHECKED_IN)),
            missed=Count("id", filter=Q(status=Booking.Status.NO_SHOW)),
            expected=Count("id", filter=Q(status=Booking.Status.BOOKED)),
        )
        .order_by("-date")
    )
    return list(counts)
