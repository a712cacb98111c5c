"""The counter (loket): the day's list and its one call queue, walk-in numbers tied to a request and served the
same day, check-in; booking a route-1 request from its page; invitations and their letters; closing a day."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cards.models import CardKind, CardRequest, Route
from cards.services import card_request_create
from cards.views import cardrequest_detail_refused
from cards.workflow import CardRequestError
from messaging.system_text import system_text
from queueing import appointments, errors, invitations
from queueing import counter as counter_desk
from queueing.appointments import day_text
from queueing.calendar import places_left
from queueing.models import Booking, CallStatus, OpeningHours, QueueChannel, WalkInTicket
from registry import clock
from registry.models import AccessLog, Office, Resident, mask_number
from registry.regions import nik_check
from registry.scoping import get_visible_or_404
from registry.web import access_log_record, pdf_response, qr_svg
from registry.widgets import DATE_FORMAT, DateField

# How far ahead the booking panel shows the places left.
PLACES_LEFT_DAYS = 21


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Pindai QR undangan/jadwal, atau ketik NIK"),
        max_length=400,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )


class ServeForm(forms.Form):
    """Tie a called walk-in number to the resident's request: found by NIK, or created here (with a kind)."""

    nik = forms.CharField(label=gettext_lazy("NIK penduduk"), max_length=24, required=False)
    kind = forms.ChoiceField(
        label=gettext_lazy("Bila belum ada permohonan, buat permohonan"),
        choices=[("", gettext_lazy("— jangan buat —")), *CardKind.choices],
        required=False,
    )


class BookForm(forms.Form):
    channel = forms.ChoiceField(
        label=gettext_lazy("Kuota"),
        choices=[(c.value, c.label) for c in QueueChannel if c in appointments.BOOKED_CHANNELS],
        initial=QueueChannel.WHATSAPP,
    )
    wish = DateField(
        label=gettext_lazy("Tanggal yang diminta (kosong: hari terdekat yang masih ada tempat)"), required=False
    )
    over_capacity = forms.BooleanField(
        label=gettext_lazy("Mendesak: bila tanggal itu penuh, lampaui kapasitas cetak (tercatat)"), required=False
    )


class InviteForm(forms.Form):
    day = DateField(label=gettext_lazy("Undang untuk tanggal"))

    def __init__(self, *args, first_day: date | None = None, **kwargs) -> None:
        kwargs.setdefault("auto_id", "id_invite_%s")  # the counter page holds the closing form's day as well
        super().__init__(*args, **kwargs)
        if first_day is not None:
            # The picker offers no day before the first one letters can reach (the service refuses it anyway).
            self.fields["day"].widget.attrs["data-min-date"] = first_day.strftime(DATE_FORMAT)


class CloseDayForm(forms.Form):
    day = DateField(label=gettext_lazy("Tutup layanan pada tanggal"))
    reason = forms.CharField(label=gettext_lazy("Alasan (dikirim ke penduduk yang terjadwal)"), max_length=150)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "id_close_%s")
        super().__init__(*args, **kwargs)


class InvitationDayForm(forms.Form):
    """The day of the invitation list (a GET filter; a link's ISO date is read as well)."""

    day = DateField(label=gettext_lazy("Tanggal"), required=False)


def _office(request: HttpRequest) -> Office:
    office = request.user.office
    if office is None:
        raise PermissionDenied
    return office.head_office


def _resident_by_nik(request: HttpRequest, raw: str, *, purpose: str) -> Resident | None:
    """The one NIK check (with the region table), the resident within the user's scope, and the access-log row
    (masked NIK). None with an error message for the clerk; the NIK is never echoed."""
    parsed = nik_check(raw.replace(" ", "").replace(".", ""))
    if parsed.errors:
        messages.error(request, " ".join(parsed.errors))
        return None
    resident = Resident.objects.visible_to(request.user).filter(nik=parsed.number).first()
    access_log_record(
        request,
        action=AccessLog.Action.SEARCH_NIK,
        resident=resident,
        detail=system_text(
            gettext_noop("%(purpose)s dengan NIK %(masked)s"), purpose=purpose, masked=mask_number(parsed.number)
        ),
    )
    if resident is None:
        messages.error(request, _("NIK itu tidak ada di data penduduk wilayah Anda."))
    return resident


# --- the counter ----------------------------------------------------------------------------------------


@never_cache
@require_GET
@permission_required("queueing.add_walkinticket", raise_exception=True)
def counter(request: HttpRequest) -> HttpResponse:
    """Today at the counter: the day's list (expected, in the queue, called, served, absent), call next,
    walk-in numbers left, check-in, and serving a called walk-in."""
    return _counter_page(request)


def _counter_page(
    request: HttpRequest,
    *,
    invite_form: InviteForm | None = None,
    close_form: CloseDayForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The counter page; a form posted from it that was refused comes back bound, its errors beside its
    fields (status 400)."""
    office = _office(request)
    day_list = counter_desk.counter_day(office=office)
    first_day = invitations.invitation_first_day(office=office)
    wrong_day = None
    if booking_id := request.session.pop("wrong_day_booking", None):
        wrong_day = Booking.objects.filter(pk=booking_id, office=office, status=Booking.Status.BOOKED).first()
    context = {
        "day": day_list.day,
        "today": day_list.day.date,
        "day_list": day_list,
        "walk_in_left": day_list.day.room(QueueChannel.WALK_IN),
        "wrong_day": wrong_day,
        "form": CheckInForm(),
        "serve_form": ServeForm(),
        "invite_form": invite_form or InviteForm(initial={"day": first_day}, first_day=first_day),
        "close_form": close_form or CloseDayForm(),
        "invitation_first_day": first_day,
        "counter_name": request.session.get("counter_name", "Loket 1"),
    }
    return render(request, "queueing/counter.html", context, status=status)


@require_POST
@permission_required("queueing.add_walkinticket", raise_exception=True)
def ticket_issue(request: HttpRequest) -> HttpResponse:
    try:
        ticket = counter_desk.ticket_issue(office=_office(request), by=request.user)
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
        return redirect("queueing:counter")
    return redirect("queueing:ticket_print", pk=ticket.pk)


@require_GET
@permission_required("queueing.add_walkinticket", raise_exception=True)
def ticket_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable ticket: the number large, the date, and a QR with the same reference."""
    ticket = WalkInTicket.objects.select_related("day__office").filter(pk=pk, day__office=_office(request)).first()
    if ticket is None:
        raise Http404
    reference = f"{ticket.day.office.region_id}/{ticket.day.date:%Y%m%d}/{ticket.label}"
    return render(request, "queueing/ticket.html", {"ticket": ticket, "qr": qr_svg(reference, scale=5)})


@require_POST
@permission_required("queueing.change_walkinticket", raise_exception=True)
def ticket_call_next(request: HttpRequest) -> HttpResponse:
    """Call the next of the day's one queue (a checked-in appointment or a walk-in number, by arrival)."""
    counter_name = (request.POST.get("counter") or "Loket 1").strip()[:20] or "Loket 1"
    request.session["counter_name"] = counter_name
    entry = counter_desk.call_next(office=_office(request), counter=counter_name, by=request.user)
    if entry is None:
        messages.info(request, _("Tidak ada yang menunggu dipanggil."))
    else:
        messages.success(
            request, _("Panggil nomor %(label)s ke %(counter)s.") % {"label": entry.label, "counter": counter_name}
        )
    return redirect("queueing:counter")


@require_POST
@permission_required("queueing.change_walkinticket", raise_exception=True)
def call_end(request: HttpRequest) -> HttpResponse:
    """A called entry ends: served, or absent when called."""
    try:
        entry = counter_desk.entry_end(
            office=_office(request),
            entry=request.POST.get("entry", ""),
            outcome=request.POST.get("outcome", ""),
            by=request.user,
        )
    except (errors.QueueingError, ValueError) as exc:
        messages.error(request, str(exc) if isinstance(exc, errors.QueueingError) else _("Pilihan tidak dikenal."))
    else:
        status = entry.status if isinstance(entry, WalkInTicket) else entry.call_status
        messages.success(request, f"{entry.label}: {CallStatus(status).label}")
    return redirect("queueing:counter")


@require_POST
@permission_required("queueing.change_walkinticket", raise_exception=True)
def walk_in_serve(request: HttpRequest, pk: int) -> HttpResponse:
    """Serve a called walk-in number: tie it to the resident's request (found by NIK, audited, or created
    here as a walk-in request) and schedule it for today from the number's walk-in place."""
    office = _office(request)
    ticket = WalkInTicket.objects.select_related("card_request").filter(pk=pk, day__office=office).first()
    if ticket is None:
        raise Http404
    form = ServeForm(request.POST)
    form.is_valid()
    nik, kind = form.cleaned_data.get("nik", ""), form.cleaned_data.get("kind", "")
    if nik:
        resident = _resident_by_nik(
            request, nik, purpose=system_text(gettext_noop("Layani nomor %(label)s"), label=ticket.label)
        )
        if resident is None:
            return redirect("queueing:counter")
        card_request = counter_desk.walk_in_request_of(resident=resident, office=office)
        if card_request is None:
            if not kind:
                messages.warning(
                    request,
                    _("%(name)s belum punya permohonan yang berjalan: pilih jenis permohonan, lalu ketik NIK lagi.")
                    % {"name": resident.full_name},
                )
                return redirect("queueing:counter")
            try:
                card_request = card_request_create(resident=resident, kind=kind, by=request.user, channel="walk_in")
            except CardRequestError as exc:
                messages.error(request, str(exc))
                return redirect("queueing:counter")
    elif ticket.card_request is not None:
        card_request = ticket.card_request
    else:
        messages.error(request, _("Ketik NIK penduduk yang dipanggil."))
        return redirect("queueing:counter")
    try:
        booking = counter_desk.walk_in_serve(
            ticket_id=ticket.pk, card_request_id=card_request.pk, office=office, by=request.user
        )
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
        return redirect("queueing:counter")
    link = reverse("cards:cardrequest_detail", args=[card_request.pk])
    if booking is None:
        card_request.refresh_from_db()
        messages.warning(
            request,
            format_html(
                _(
                    'Nomor {label} dihubungkan ke <a href="{link}">{number}</a> ({status}): verifikasi dulu sampai '
                    "siap cetak, lalu tekan Layani lagi."
                ),  # fmt: skip
                label=ticket.label,
                link=link,
                number=card_request.number,
                status=card_request.get_status_display(),
            ),
        )
    else:
        messages.success(
            request,
            format_html(
                _('Nomor {label}: <a href="{link}">{number}</a> dilayani hari ini; kartunya dapat dicetak.'),
                label=ticket.label,
                link=link,
                number=card_request.number,
            ),
        )
    return redirect("queueing:counter")


@require_POST
@permission_required("queueing.change_booking", raise_exception=True)
def check_in(request: HttpRequest) -> HttpResponse:
    """A scanned QR (signed token) or a typed NIK (checked with the region table, logged like any NIK
    search). A resident on the wrong day is told their day, and offered today's walk-in places if some are
    left."""
    office = _office(request)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pindai QR atau ketik NIK."))
        return redirect("queueing:counter")
    code = form.cleaned_data["code"].strip()
    kwargs: dict = {"token": code}
    if code.replace(" ", "").replace(".", "").isdigit():
        resident = _resident_by_nik(request, code, purpose=system_text(gettext_noop("Check-in di loket")))
        if resident is None:
            return redirect("queueing:counter")
        kwargs = {"resident_id": resident.pk}
    try:
        booking = appointments.booking_check_in(office=office, by=request.user, **kwargs)
    except errors.WrongDay as exc:
        left = counter_desk.walk_in_room_today(office=office)
        if left > 0:
            request.session["wrong_day_booking"] = exc.booking.pk
            messages.warning(
                request,
                _("%(message)s Masih ada %(left)d tempat datang langsung hari ini.") % {"message": exc, "left": left},
            )
        else:
            messages.warning(
                request,
                _("%(message)s Tempat datang langsung hari ini sudah habis: datang pada tanggal itu.")
                % {"message": exc},
            )
    except errors.AlreadyCheckedIn as exc:
        messages.info(request, str(exc))
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
    else:
        name = booking.card_request.resident.full_name
        messages.success(
            request, _("%(name)s hadir: nomor antrean %(number)d.") % {"name": name, "number": booking.number}
        )
    return redirect("queueing:counter")


@require_POST
@permission_required("queueing.add_walkinticket", raise_exception=True)
def walk_in_wrong_day(request: HttpRequest) -> HttpResponse:
    """Serve a resident who came on the wrong day from today's walk-in places: a number tied to their request
    (their other appointment released); the number's ticket is printed."""
    booking_id = request.POST.get("booking", "")
    if not booking_id.isdigit():
        messages.error(request, _("Jadwal tidak ditemukan."))
        return redirect("queueing:counter")
    try:
        ticket, _booking = counter_desk.walk_in_for_booking(
            booking_id=int(booking_id), office=_office(request), by=request.user
        )
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
        return redirect("queueing:counter")
    messages.success(request, _("Dilayani hari ini dengan nomor %(label)s.") % {"label": ticket.label})
    return redirect("queueing:ticket_print", pk=ticket.pk)


# --- booking from the request page ----------------------------------------------------------------------


@require_POST
@permission_required("queueing.add_booking", raise_exception=True)
def booking_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Book a route-1 request ready to print from its page: the wished day, or the first day with room."""
    card_request = get_visible_or_404(CardRequest.objects.all(), request.user, pk=pk)
    form = BookForm(request.POST)
    if not form.is_valid():
        return cardrequest_detail_refused(request, card_request, book_form_bound=form)
    wish = form.cleaned_data["wish"]
    booking = None
    try:
        booking = appointments.booking_book(
            card_request_id=card_request.pk, channel=form.cleaned_data["channel"], by=request.user, wish=wish
        )
    except errors.DayUnavailable as exc:
        if form.cleaned_data["over_capacity"] and wish:
            try:
                booking = appointments.booking_book_over_capacity(
                    card_request_id=card_request.pk, by=request.user, wish=wish
                )
            except errors.QueueingError as override_refused:
                messages.error(request, str(override_refused))
        else:
            messages.warning(request, str(exc))
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
    if booking is not None:
        messages.success(
            request,
            _("Dijadwalkan %(day)s, nomor antrean %(number)d.")
            % {"day": day_text(booking.date), "number": booking.number},
        )
    return redirect("cards:cardrequest_detail", pk=card_request.pk)


@require_POST
@permission_required("queueing.change_booking", raise_exception=True)
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    card_request = get_visible_or_404(CardRequest.objects.all(), request.user, pk=pk)
    booking = Booking.objects.active().filter(card_request=card_request).first()
    if booking is None:
        messages.error(request, _("Permohonan ini tidak punya jadwal aktif."))
        return redirect("cards:cardrequest_detail", pk=card_request.pk)
    try:
        appointments.booking_cancel(booking_id=booking.pk, by=request.user, reason=request.POST.get("reason", ""))
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Jadwal dibatalkan; tempatnya kembali tersedia."))
    return redirect("cards:cardrequest_detail", pk=card_request.pk)


def booking_context(user, card_request: CardRequest) -> dict:
    """What the request page shows about scheduling: the current appointment with its QR; for a route-1
    request ready to print, the booking form and the places left per day and channel for the next weeks."""
    booking = appointment_of(card_request)
    context = {"booking": booking, "book_form": None, "booking_qr": None, "places": None, "channels": None}
    if booking is not None:
        if booking.status == Booking.Status.BOOKED:
            context["booking_qr"] = qr_svg(appointments.booking_token(booking), scale=3)
    elif (
        card_request.status == CardRequest.Status.READY_TO_PRINT
        and card_request.route == Route.COUNTER
        and user.has_perm("queueing.add_booking")
    ):
        context["book_form"] = BookForm(initial={"channel": _channel_for(card_request)})
        first = clock.today(card_request.office) + timedelta(days=1)
        channels = [c for c in QueueChannel if c != QueueChannel.UPTD]
        table = places_left(office=card_request.office, first=first, days=PLACES_LEFT_DAYS)
        context["channels"] = channels
        context["places"] = [(row, [rooms[c] for c in channels]) for row, rooms in table]
    return context


def appointment_of(card_request: CardRequest) -> Booking | None:
    """The request's current appointment: the one booked, or the one checked in while the request is still
    scheduled (a resident at the counter today)."""
    bookings = Booking.objects.filter(card_request=card_request).select_related("ticket").order_by("-date", "-id")
    for booking in bookings.filter(status__in=[Booking.Status.BOOKED, Booking.Status.CHECKED_IN])[:2]:
        if booking.status == Booking.Status.BOOKED or card_request.status == CardRequest.Status.SCHEDULED:
            return booking
    return None


def _channel_for(card_request: CardRequest) -> str:
    return {"uptd": QueueChannel.UPTD}.get(card_request.channel, QueueChannel.WHATSAPP)


# --- invitations ----------------------------------------------------------------------------------------


def _day_param(request: HttpRequest, default: date | None) -> date | None:
    form = InvitationDayForm(request.GET)
    if form.is_valid() and form.cleaned_data["day"]:
        return form.cleaned_data["day"]
    return default


@require_POST
@permission_required("queueing.add_booking", raise_exception=True)
def invitations_send(request: HttpRequest) -> HttpResponse:
    """Invite route-1 requests ready to print for a day at least the lead time ahead: suket holders and urgent
    first, then the oldest waiting, up to its invitation quota."""
    office = _office(request)
    form = InviteForm(request.POST, first_day=invitations.invitation_first_day(office=office))
    if not form.is_valid():
        return _counter_page(request, invite_form=form, status=400)
    day = form.cleaned_data["day"]
    try:
        invited = invitations.invitations_send(office=office, day=day, by=request.user)
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
        return redirect("queueing:counter")
    messages.success(
        request,
        _("%(n)d penduduk diundang untuk %(day)s; pesan undangan menunggu dikirim.")
        % {"n": len(invited), "day": day_text(day)},
    )
    return redirect(f"{reverse('queueing:invitation_list')}?day={day.isoformat()}")


@require_GET
@permission_required("queueing.view_booking", raise_exception=True)
def invitation_list(request: HttpRequest) -> HttpResponse:
    """Who was invited for a day, grouped by desa, with the day's letters as one PDF."""
    office = _office(request)
    first = invitations.invitation_first_day(office=office)
    day_form = InvitationDayForm(request.GET)
    day = (day_form.is_valid() and day_form.cleaned_data["day"]) or first or clock.today(office)
    if day_form.is_valid():
        # Shown as DD-MM-YYYY whatever was typed (or the ISO day of a link).
        day_form = InvitationDayForm(initial={"day": day})
    invited = list(invitations.invited_for(office=office, day=day))
    return render(
        request,
        "queueing/invitations.html",
        {
            "day": day,
            "day_form": day_form,
            "invited": invited,
            "first_day": first,
            "runs": invitations.invitation_days(office=office, around=day),
            "invite_form": InviteForm(initial={"day": day}),
        },
    )


@require_GET
@permission_required("queueing.view_booking", raise_exception=True)
def invitation_letters(request: HttpRequest) -> HttpResponse:
    """The day's invitation letters as ONE A4 PDF, grouped by desa (a cover sheet per desa) for distribution
    through the village offices. The residents' data leave the system on paper: the download is logged."""
    office = _office(request)
    day = _day_param(request, None)
    bookings = list(invitations.invited_for(office=office, day=day).filter(status=Booking.Status.BOOKED)) if day else []
    if not bookings:
        messages.info(request, _("Belum ada undangan yang berlaku untuk tanggal itu."))
        return redirect("queueing:invitation_list")
    return pdf_response(
        request,
        template="queueing/booking_letter.html",
        context={"groups": _letters_by_desa(bookings), "grouped": True, "today": clock.today(office)},
        resident=None,
        detail=system_text(
            gettext_noop("Surat undangan %(day)s: %(n)d penduduk (PDF, per desa)"), day=day_text(day), n=len(bookings)
        ),
        filename=f"undangan-{day.isoformat()}.pdf",
    )


def _letters_by_desa(bookings: list[Booking]) -> list[dict]:
    """One letter per appointment (with its check-in QR), in groups of one desa each, in the given order."""
    hours = {h.weekday: h for h in OpeningHours.objects.filter(office__in={b.office_id for b in bookings})}
    groups: list[dict] = []
    for booking in bookings:
        resident = booking.card_request.resident
        if not groups or groups[-1]["desa"].pk != resident.desa_id:
            groups.append({"desa": resident.desa, "letters": []})
        groups[-1]["letters"].append(
            {
                "booking": booking,
                "card_request": booking.card_request,
                "resident": resident,
                "hours": hours.get(booking.date.weekday()),
                "qr": qr_svg(appointments.booking_token(booking), scale=4),
            }
        )
    return groups


@require_GET
@permission_required("queueing.view_booking", raise_exception=True)
def booking_letter(request: HttpRequest, pk: int) -> HttpResponse:
    """One resident's A4 invitation/appointment letter (PDF) with the QR of the signed check-in token; the
    download is logged."""
    card_request = get_visible_or_404(
        CardRequest.objects.select_related("resident", "resident__desa", "office"), request.user, pk=pk
    )
    booking = Booking.objects.active().filter(card_request=card_request).select_related("office").first()
    if booking is None:
        messages.error(request, _("Permohonan ini tidak punya jadwal aktif."))
        return redirect("cards:cardrequest_detail", pk=card_request.pk)
    booking.card_request = card_request
    return pdf_response(
        request,
        template="queueing/booking_letter.html",
        context={
            "groups": _letters_by_desa([booking]),
            "grouped": False,
            "today": clock.today(card_request.office),
        },
        resident=card_request.resident,
        detail=system_text(gettext_noop("Surat undangan/jadwal %(number)s (PDF)"), number=card_request.number),
        filename=f"undangan-{card_request.number}.pdf",
    )


# --- closing a day --------------------------------------------------------------------------------------


@require_POST
@permission_required("queueing.add_closure", raise_exception=True)
def day_close(request: HttpRequest) -> HttpResponse:
    form = CloseDayForm(request.POST)
    if not form.is_valid():
        return _counter_page(request, close_form=form, status=400)
    try:
        counts = appointments.day_close(office=_office(request), by=request.user, **form.cleaned_data)
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Layanan %(day)s ditutup: %(moved)d jadwal dipindah, %(cancelled)d dibatalkan; penduduk diberi tahu.")
            % {"day": day_text(form.cleaned_data["day"]), **counts},
        )
    return redirect("queueing:counter")
