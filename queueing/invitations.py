"""Invitations: a day's invitation quota offered to the requests that waited longest (suket holders and
urgent first)."""

from datetime import date

from django.utils import timezone

from cards.models import CardRequest
from queueing.appointments import booking_book
from queueing.calendar import holds_valid_suket, printing_office, service_day_get
from queueing.errors import DayUnavailable, QueueingError
from queueing.models import (
    Booking,
    QueueChannel,
)
from registry.models import Office, User

S = CardRequest.Status


# --- invitations and no-shows ---------------------------------------------------------------------------


def invitations_send(*, office: Office, day: date, by: User | None, today: date | None = None) -> list[Booking]:
    """Invite requests ready to print for `day`: suket holders, then urgent, then the oldest, until the day's invitation
    quota (or its print capacity) is used. Requests collected at a UPTD are not invited: their cards travel."""
    office = printing_office(office)
    today = today or timezone.localdate()
    service_day = service_day_get(office=office, day=day)
    room = service_day.room(QueueChannel.INVITATION)
    candidates = (
        CardRequest.objects.filter(office=office, status=S.READY_TO_PRINT)
        .exclude(pickup_office__kind=Office.Kind.UPTD)
        .annotate(has_suket=holds_valid_suket())
        .order_by("-has_suket", "-is_urgent", "created_at", "id")
        .values_list("pk", "is_urgent")
    )
    invited: list[Booking] = []
    # Urgent requests do not use the invitation quota; the others stop when it is used.
    for card_request_id, is_urgent in candidates.iterator(chunk_size=500):
        if room <= 0 and not is_urgent:
            break
        try:
            booking = booking_book(
                card_request_id=card_request_id, channel=QueueChannel.INVITATION, by=by, wish=day, today=today
            )
        except DayUnavailable:
            break
        except QueueingError:
            continue  # changed meanwhile; the next one
        invited.append(booking)
        if not booking.urgent:
            room -= 1
    return invited
