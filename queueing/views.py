"""The counter (loket): walk-in numbers, calling the next number, checking in booked residents; and booking
a ready-to-print request from its page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cards.models import CardRequest
from queueing import appointments, calendar, errors, invitations
from queueing import counter as counter_desk
from queueing.models import Booking, OpeningHours, QueueChannel, WalkInTicket
from registry.models import AccessLog, mask_number
from registry.regions import nik_check
from registry.scoping import get_visible_or_404
from registry.web import access_log_record, pdf_response, qr_svg


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Pindai QR undangan/jadwal, atau ketik NIK"),
        max_length=400,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )


class BookForm(forms.Form):
    channel = forms.ChoiceField(
        label=gettext_lazy("Kuota"), choices=QueueChannel.choices, initial=QueueChannel.WHATSAPP
    )
    wish = forms.DateField(
        label=gettext_lazy("Tanggal yang diminta (kosong: hari terdekat yang masih ada tempat)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    over_capacity = forms.BooleanField(
        label=gettext_lazy("Mendesak: bila tanggal itu penuh, lampaui kapasitas cetak (tercatat)"), required=False
    )


def _office(request: HttpRequest):
    office = request.user.office
    if office is None:
        raise PermissionDenied
    return office.head_office


@never_cache
@require_GET
@permission_required("queueing.add_walkinticket", raise_exception=True)
def counter(request: HttpRequest) -> HttpResponse:
    """Today at the counter: walk-in numbers left, the last called, and check-in."""
    office = _office(request)
    today = timezone.localdate()
    day = calendar.service_day_get(office=office, day=today)
    bookings = Booking.objects.filter(office=office, date=today)
    context = {
        "day": day,
        "today": today,
        "walk_in_left": day.room(QueueChannel.WALK_IN),
        "waiting": WalkInTicket.objects.filter(day=day, status=WalkInTicket.Status.WAITING).count(),
        "called": WalkInTicket.objects.filter(day=day, status=WalkInTicket.Status.CALLED).order_by("-called_at")[:5],
        "booked_today": bookings.count(),
        "checked_in_today": bookings.filter(status=Booking.Status.CHECKED_IN).count(),
        "form": CheckInForm(),
        "invite_form": InviteForm(),
        "close_form": CloseDayForm(),
        "counter_name": request.session.get("counter_name", "Loket 1"),
    }
    return render(request, "queueing/counter.html", context)


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
    counter_name = (request.POST.get("counter") or "Loket 1").strip()[:20]
    request.session["counter_name"] = counter_name
    ticket = counter_desk.ticket_call_next(office=_office(request), counter=counter_name, by=request.user)
    if ticket is None:
        messages.info(request, _("Tidak ada nomor yang menunggu."))
    else:
        messages.success(
            request, _("Panggil nomor %(label)s ke %(counter)s.") % {"label": ticket.label, "counter": counter_name}
        )
    return redirect("queueing:counter")


@require_POST
@permission_required("queueing.change_booking", raise_exception=True)
def check_in(request: HttpRequest) -> HttpResponse:
    """A scanned QR (signed token) or a typed NIK. A NIK typed here is logged like any NIK search."""
    form = CheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pindai QR atau ketik NIK."))
        return redirect("queueing:counter")
    code = form.cleaned_data["code"].strip()
    digits = code.replace(" ", "").replace(".", "")
    kwargs = {"token": code}
    if digits.isdigit():
        parsed = nik_check(digits)
        if parsed.errors:
            messages.error(request, " ".join(parsed.errors))
            return redirect("queueing:counter")
        kwargs = {"nik": parsed.number}
        access_log_record(
            request,
            action=AccessLog.Action.SEARCH_NIK,
            detail=_("Check-in di loket dengan NIK %(masked)s") % {"masked": mask_number(parsed.number)},
        )
    try:
        booking = appointments.booking_check_in(office=_office(request), by=request.user, **kwargs)
    except errors.WrongDay as exc:
        messages.warning(request, str(exc))
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
@permission_required("queueing.add_booking", raise_exception=True)
def booking_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Book a ready-to-print request from its page: the wished day, or the first day with room."""
    card_request = get_visible_or_404(CardRequest.objects.all(), request.user, pk=pk)
    form = BookForm(request.POST)
    if form.is_valid():
        try:
            booking = appointments.booking_book(
                card_request_id=card_request.pk,
                channel=form.cleaned_data["channel"],
                by=request.user,
                wish=form.cleaned_data["wish"],
            )
        except errors.DayUnavailable as exc:
            booking = None
            if form.cleaned_data["over_capacity"] and form.cleaned_data["wish"]:
                try:
                    booking = appointments.booking_book_over_capacity(
                        card_request_id=card_request.pk, by=request.user, wish=form.cleaned_data["wish"]
                    )
                except errors.QueueingError as override_refused:
                    messages.error(request, str(override_refused))
            else:
                messages.warning(request, str(exc))
        except errors.QueueingError as exc:
            booking = None
            messages.error(request, str(exc))
        if booking is not None:
            messages.success(
                request,
                _("Dijadwalkan %(day)s, nomor antrean %(number)d.")
                % {"day": booking.date.strftime("%d-%m-%Y"), "number": booking.number},
            )
    else:
        messages.error(request, _("Tanggal tidak valid."))
    return redirect("cards:cardrequest_detail", pk=card_request.pk)


@require_POST
@permission_required("queueing.change_booking", raise_exception=True)
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    card_request = get_visible_or_404(CardRequest.objects.all(), request.user, pk=pk)
    booking = Booking.objects.active().filter(card_request=card_request).first()
    reason = request.POST.get("reason", "").strip()
    if booking is None:
        messages.error(request, _("Permohonan ini tidak punya jadwal aktif."))
    elif not reason:
        messages.error(request, _("Tulis alasan pembatalan jadwal."))
    else:
        appointments.booking_cancel(booking_id=booking.pk, by=request.user, reason=reason)
        messages.success(request, _("Jadwal dibatalkan; tempatnya kembali tersedia."))
    return redirect("cards:cardrequest_detail", pk=card_request.pk)


def booking_context(user, card_request: CardRequest) -> dict:
    """What the request page shows about scheduling: the active booking with its QR, or the booking form."""
    booking = Booking.objects.filter(
        card_request=card_request, status__in=[Booking.Status.BOOKED, Booking.Status.CHECKED_IN]
    ).first()
    context = {"booking": booking, "book_form": None, "booking_qr": None}
    if booking is not None:
        context["booking_qr"] = qr_svg(appointments.booking_token(booking), scale=3)
    elif card_request.status == CardRequest.Status.READY_TO_PRINT and user.has_perm("queueing.add_booking"):
        context["book_form"] = BookForm(initial={"channel": _channel_for(card_request)})
    return context


def _channel_for(card_request: CardRequest) -> str:
    return {
        "whatsapp": QueueChannel.WHATSAPP,
        "sms": QueueChannel.WHATSAPP,
        "walk_in": QueueChannel.WALK_IN,
        "uptd": QueueChannel.UPTD,
    }.get(card_request.channel, QueueChannel.INVITATION)


# --- invitations ----------------------------------------------------------------------------------------


class InviteForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Undang untuk tanggal"), widget=forms.DateInput(attrs={"type": "date"}))


@require_POST
@permission_required("queueing.add_booking", raise_exception=True)
def invitations_send(request: HttpRequest) -> HttpResponse:
    """Invite requests ready to print for a day, urgent first then oldest, up to its invitation quota."""
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pilih tanggalnya."))
        return redirect("queueing:counter")
    try:
        invited = invitations.invitations_send(office=_office(request), day=form.cleaned_data["day"], by=request.user)
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(n)d penduduk diundang untuk %(day)s; pesan undangan menunggu dikirim.")
            % {"n": len(invited), "day": form.cleaned_data["day"].strftime("%d-%m-%Y")},
        )
    return redirect("queueing:counter")


@require_GET
@permission_required("queueing.view_booking", raise_exception=True)
def booking_letter(request: HttpRequest, pk: int) -> HttpResponse:
    """The A4 invitation/booking letter (PDF, WeasyPrint) with the QR of the signed check-in token. The
    resident's data leave the system on paper: the download is logged."""

    card_request = get_visible_or_404(
        CardRequest.objects.select_related("resident", "resident__desa", "office"), request.user, pk=pk
    )
    booking = Booking.objects.active().filter(card_request=card_request).select_related("office").first()
    if booking is None:
        messages.error(request, _("Permohonan ini tidak punya jadwal aktif."))
        return redirect("cards:cardrequest_detail", pk=card_request.pk)
    hours = OpeningHours.objects.filter(office=booking.office, weekday=booking.date.weekday()).first()
    return pdf_response(
        request,
        template="queueing/booking_letter.html",
        context={
            "booking": booking,
            "card_request": card_request,
            "resident": card_request.resident,
            "hours": hours,
            "qr": qr_svg(appointments.booking_token(booking), scale=4),
            "today": timezone.localdate(),
        },
        resident=card_request.resident,
        detail=_("Surat undangan/jadwal %(number)s (PDF)") % {"number": card_request.number},
        filename=f"undangan-{card_request.number}.pdf",
    )


class CloseDayForm(forms.Form):
    day = forms.DateField(
        label=gettext_lazy("Tutup layanan pada tanggal"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=gettext_lazy("Alasan (dikirim ke penduduk yang terjadwal)"), max_length=150)


@require_POST
@permission_required("queueing.add_closure", raise_exception=True)
def day_close(request: HttpRequest) -> HttpResponse:
    form = CloseDayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Isi tanggal dan alasan penutupan."))
        return redirect("queueing:counter")
    try:
        counts = appointments.day_close(office=_office(request), by=request.user, **form.cleaned_data)
    except errors.QueueingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Layanan %(day)s ditutup: %(moved)d jadwal dipindah, %(cancelled)d dibatalkan; penduduk diberi tahu.")
            % {"day": form.cleaned_data["day"].strftime("%d-%m-%Y"), **counts},
        )
    return redirect("queueing:counter")
