"""The counter: walk-in numbers up to the day's walk-in quota, numbered without gaps, and calling the next."""

from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.models import CardRequest
from queueing.calendar import printing_office, service_day_get, short_lock_timeout
from queueing.errors import QueueingError, QuotaExhausted
from queueing.models import (
    ServiceDay,
    WalkInTicket,
)
from registry.models import Office, User

S = CardRequest.Status


def ticket_issue(*, office: Office, by: User | None, today: date | None = None) -> WalkInTicket:
    """Hand out the next walk-in number for today. Invariants: never more tickets than the day's walk-in quota
    (within its print capacity), and numbers 1, 2, 3 ... without gaps: the place, the number and the ticket
    are one transaction."""
    today = today or timezone.localdate()
    office = printing_office(office)
    day = service_day_get(office=office, day=today)
    if not day.is_open:
        raise QueueingError(_("Hari ini kantor tidak melayani."))
    with transaction.atomic():
        short_lock_timeout()
        taken = ServiceDay.objects.filter(
            pk=day.pk, is_open=True, booked_walk_in__lt=F("cap_walk_in"), booked_total__lt=F("print_capacity")
        ).update(
            booked_walk_in=F("booked_walk_in") + 1, booked_total=F("booked_total") + 1, last_ticket=F("last_ticket") + 1
        )
        if not taken:
            raise QuotaExhausted(
                _("Nomor antrean datang langsung hari ini sudah habis (%(cap)d). Silakan ambil jadwal lewat WhatsApp.")
                % {"cap": day.cap_walk_in}
            )
        number = ServiceDay.objects.filter(pk=day.pk).values_list("last_ticket", flat=True).get()
        return WalkInTicket.objects.create(day=day, number=number, issued_by=by)


def ticket_call_next(*, office: Office, counter: str, by: User, today: date | None = None) -> WalkInTicket | None:
    """The lowest waiting ticket of today, claimed for this counter; two counters never get the same one
    (SKIP LOCKED). None when nobody is waiting."""
    today = today or timezone.localdate()
    office = printing_office(office)
    with transaction.atomic():
        ticket = (
            WalkInTicket.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(day__office=office, day__date=today, status=WalkInTicket.Status.WAITING)
            .order_by("number")
            .first()
        )
        if ticket is None:
            return None
        ticket.status = WalkInTicket.Status.CALLED
        ticket.counter = counter[:20]
        ticket.called_at = timezone.now()
        ticket.called_by = by
        ticket.save(update_fields=["status", "counter", "called_at", "called_by"])
    return ticket
