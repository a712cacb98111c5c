"""Daily jobs of the counter, fanned out per office (each on its own local date): close the days that ended
(no-shows, arrivals not served), then invite for the first day the lead time allows."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Q

from queueing import appointments, invitations
from queueing.models import Booking, QuotaDefault, WalkInTicket
from registry.models import Office


@shared_task
def close_past_days() -> int:
    """Fan out: one `close_office_days` per office that holds appointments or walk-in numbers."""
    office_ids = set(Booking.objects.values_list("office_id", flat=True).distinct())
    office_ids |= set(WalkInTicket.objects.values_list("day__office_id", flat=True).distinct())
    for office_id in sorted(office_ids):
        close_office_days.delay(office_id)
    return len(office_ids)


@shared_task
def close_office_days(office_id: int) -> int:
    """Close each of the office's days that ended (office local time) and still hold an appointment or a queue
    entry. Idempotent: a closed day holds none any more. Returns the no-shows."""
    office = Office.objects.get(pk=office_id)
    no_shows = 0
    for day in appointments.days_to_close(office=office):
        no_shows += appointments.bookings_close_day(office=office, day=day)["no_show"]
    return no_shows


@shared_task
def send_invitations() -> int:
    """Fan out: one `send_office_invitations` per office with an invitation quota."""
    office_ids = sorted(
        set(
            QuotaDefault.objects.filter(Q(invitation__gt=0), office__is_active=True)
            .values_list("office_id", flat=True)
            .distinct()
        )
    )
    for office_id in office_ids:
        send_office_invitations.delay(office_id)
    return len(office_ids)


@shared_task
def send_office_invitations(office_id: int) -> int:
    """Invite for the office's first day the lead time allows (`invitation_lead_days` working days ahead, by
    its local date). Idempotent: an invited request is scheduled, and the day's quota counts what is taken."""
    office = Office.objects.get(pk=office_id)
    day = invitations.invitation_first_day(office=office)
    if day is None:
        return 0
    return len(invitations.invitations_send(office=office, day=day, by=None))
