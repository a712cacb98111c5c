"""Daily jobs of the counter: invite residents for the next service day, and close past days (no-shows)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from queueing import appointments, calendar, invitations
from queueing.models import Booking, QuotaDefault
from registry.models import Office


@shared_task
def send_invitations() -> int:
    """For each office with quotas: invite for its next open day with invitation places. Idempotent: a
    request invited once is scheduled, and only ready-to-print requests are invited."""
    today = timezone.localdate()
    invited = 0
    for office in Office.objects.filter(pk__in=QuotaDefault.objects.filter(invitation__gt=0).values("office")):
        day = calendar.next_free_day(office=office, channel="invitation", after=today)
        if day is not None:
            invited += len(invitations.invitations_send(office=office, day=day, by=None, today=today))
    return invited


@shared_task
def close_past_days() -> int:
    """Turn bookings of past days that nobody checked in into no-shows (re-invited once, then returned)."""
    today = timezone.localdate()
    closed = 0
    days = (
        Booking.objects.filter(status=Booking.Status.BOOKED, date__lt=today, date__gte=today - timedelta(days=30))
        .values_list("office_id", "date")
        .distinct()
    )
    for office_id, day in days:
        counts = appointments.bookings_close_day(office=Office.objects.get(pk=office_id), day=day, today=today)
        closed += counts["no_show"]
    return closed
