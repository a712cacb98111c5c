"""The coming days on screen: the calendar of places per channel, the list of who is expected on a day
(printable), and the supervisor's settings of quotas, opening hours and local closures with their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from queueing import errors, planning, quotas
from queueing.appointments import day_text
from queueing.calendar import printing_office
from queueing.models import (
    Booking,
    CallStatus,
    Closure,
    OpeningHours,
    QueueChannel,
    QuotaChange,
    QuotaDefault,
    ServiceDay,
)
from registry import clock
from registry.models import Office, User
from registry.widgets import DateField

# How far back and ahead the calendar pages (weeks from the current one).
WEEKS_BACK, WEEKS_AHEAD = 26, 52
HISTORY_ROWS = 50
WEEKDAYS = OpeningHours._meta.get_field("weekday").choices


# --- which office's calendar ----------------------------------------------------------------------------


@dataclass
class CalendarScope:
    """The office whose calendar a user reads, the offices they may pick instead, and the channels shown (a
    UPTD without its own quota reads only the UPTD channel of its Disdukcapil office)."""

    office: Office
    choices: list[Office]
    channels: list[str] | None


def _calendar_scope(request: HttpRequest) -> CalendarScope:
    """From the user's office and `?kantor=`: a Disdukcapil user reads its office, or one of its UPTDs that has
    its own quota; a UPTD operator its UPTD's calendar if it has a quota, else its Disdukcapil office's UPTD
    channel. An office outside the scope answers 404, as one that does not exist."""
    user: User = request.user
    own = user.office
    with_quota = QuotaDefault.objects.values("office")
    if own is not None and own.kind == Office.Kind.UPTD:
        if QuotaDefault.objects.filter(office=own).exists():
            scope = CalendarScope(office=own, choices=[own], channels=None)
        else:
            scope = CalendarScope(office=own.head_office, choices=[own.head_office], channels=[QueueChannel.UPTD])
    else:
        if own is None and not user.is_superuser:
            raise PermissionDenied
        choices = list(
            Office.objects.visible_to(user)
            .filter(is_active=True)
            .filter(Q(kind=Office.Kind.DISDUKCAPIL) | Q(pk__in=with_quota))
            .order_by("kind", "name")
        )
        if not choices:
            raise PermissionDenied
        default = own.head_office if own is not None else choices[0]
        scope = CalendarScope(office=default, choices=choices, channels=None)
    raw = request.GET.get("kantor", "")
    if raw:
        picked = next((office for office in scope.choices if str(office.pk) == raw), None)
        if picked is None:
            raise Http404
        scope.office = picked
    return scope


def _with_office(url: str, scope: CalendarScope, **params: object) -> str:
    query = {"kantor": scope.office.pk} if len(scope.choices) > 1 else {}
    query.update({key: value for key, value in params.items() if value not in (None, "")})
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


# --- the calendar ---------------------------------------------------------------------------------------


@require_GET
@permission_required("queueing.view_calendar", raise_exception=True)
def coming_days(request: HttpRequest) -> HttpResponse:
    """The next weeks of an office, day by day: places taken and left per channel and in total, closures with
    their reasons, closed weekdays; each day opens its list of who is expected."""
    scope = _calendar_scope(request)
    try:
        offset = max(-WEEKS_BACK, min(WEEKS_AHEAD, int(request.GET.get("minggu", 0))))
    except ValueError:
        offset = 0
    today = clock.today(scope.office)
    calendar = planning.calendar_weeks(office=scope.office, today=today, week_offset=offset, channels=scope.channels)
    url = reverse("queueing:coming_days")
    context = {
        "scope": scope,
        "calendar": calendar,
        "offset": offset,
        "previous_url": _with_office(url, scope, minggu=offset - 1) if offset > -WEEKS_BACK else None,
        "next_url": _with_office(url, scope, minggu=offset + 1) if offset < WEEKS_AHEAD else None,
        "this_week_url": _with_office(url, scope),
        "kantor": scope.office.pk if len(scope.choices) > 1 else None,
        "weekday_names": [label for _value, label in WEEKDAYS],
        "can_plan": request.user.has_perm("queueing.plan_calendar")
        and scope.channels is None
        and scope.office.kind == Office.Kind.DISDUKCAPIL,
    }
    return render(request, "queueing/coming_days.html", context)


# --- who is expected on a day ---------------------------------------------------------------------------


def expected_for(request: HttpRequest, day: date) -> tuple[CalendarScope, Office, QuerySet[Booking]]:
    """The rows of a day's list as this user may read them (the list and its export share it): the office
    picked with ?kantor=, `expected_on` narrowed to the user's scope and, for a UPTD reading its Disdukcapil
    office, to the UPTD channel."""
    scope = _calendar_scope(request)
    office = printing_office(scope.office)
    bookings = planning.expected_visible_to(planning.expected_on(office=office, day=day), request.user)
    if scope.channels:
        bookings = bookings.filter(channel__in=scope.channels)
    return scope, office, bookings


@require_GET
@permission_required("queueing.view_calendar", raise_exception=True)
def day_expected(request: HttpRequest, day: date) -> HttpResponse:
    """Who is expected on a day: queue number, name, masked NIK, channel, arrival and service, the request;
    totals at the top; printable (one table, the office and the day in the heading)."""
    scope, office, bookings = expected_for(request, day)
    bookings = list(bookings)
    totals = {
        "all": len(bookings),
        "expected": sum(b.status == Booking.Status.BOOKED for b in bookings),
        "checked_in": sum(b.status == Booking.Status.CHECKED_IN for b in bookings),
        "served": sum(b.call_status == CallStatus.SERVED for b in bookings),
        "no_show": sum(b.status == Booking.Status.NO_SHOW for b in bookings),
    }
    per_channel = [
        (label, sum(b.channel == value for b in bookings))
        for value, label in QueueChannel.choices
        if not scope.channels or value in scope.channels
    ]
    context = {
        "scope": scope,
        "office": office,
        "day": day,
        "bookings": bookings,
        "totals": totals,
        "per_channel": per_channel,
        "service_day": ServiceDay.objects.filter(office=office, date=day).first(),
        "closures": list(Closure.objects.filter(Q(office__isnull=True) | Q(office=office), date=day)),
        "hours": OpeningHours.objects.filter(office=office, weekday=day.weekday()).first(),
        "calendar_url": _with_office(reverse("queueing:coming_days"), scope),
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "kantor": scope.office.pk if len(scope.choices) > 1 else None,
        "printed_at": clock.local_now(office),
        "Status": Booking.Status,
        "served": CallStatus.SERVED,
    }
    return render(request, "queueing/day_expected.html", context)


# --- the supervisor's settings --------------------------------------------------------------------------


def _quota_fields(form: forms.Form) -> None:
    form.fields["print_capacity"] = forms.IntegerField(label=gettext_lazy("Kapasitas cetak"), min_value=0)
    for value, label in QueueChannel.choices:
        form.fields[value] = forms.IntegerField(label=label, min_value=0)


class WeekdayForm(forms.Form):
    """One weekday's default: opening hours (empty: closed) and the day's capacity and channel quotas."""

    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, widget=forms.HiddenInput)
    # A text input in 24-hour HH:MM: the browser's own time input shows AM/PM on an English PC.
    opens_at = forms.TimeField(
        label=gettext_lazy("Buka"),
        required=False,
        input_formats=["%H:%M", "%H.%M"],
        widget=forms.TimeInput(
            attrs={"placeholder": gettext_lazy("jj:mm"), "inputmode": "numeric", "size": 5}, format="%H:%M"
        ),
    )
    closes_at = forms.TimeField(
        label=gettext_lazy("Tutup"),
        required=False,
        input_formats=["%H:%M", "%H.%M"],
        widget=forms.TimeInput(
            attrs={"placeholder": gettext_lazy("jj:mm"), "inputmode": "numeric", "size": 5}, format="%H:%M"
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _quota_fields(self)

    @property
    def weekday_label(self) -> str:
        value = self.initial.get("weekday", self.data.get(self.add_prefix("weekday")))
        return str(dict(WEEKDAYS).get(int(value), "")) if str(value).isdigit() else ""


class DayQuotaForm(forms.Form):
    """One coming date's own capacity and channel quotas."""

    day = DateField(label=gettext_lazy("Tanggal"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _quota_fields(self)


class DayPickForm(forms.Form):
    day = DateField(label=gettext_lazy("Ubah kuota tanggal"))


class ClosureForm(forms.Form):
    day = DateField(label=gettext_lazy("Tutup layanan pada tanggal"))
    reason = forms.CharField(label=gettext_lazy("Alasan (dikirim ke penduduk yang terjadwal)"), max_length=150)


WeekdayFormSet = forms.formset_factory(WeekdayForm, extra=0)


def _weekday_initial(office: Office) -> list[dict]:
    defaults = {q.weekday: q for q in QuotaDefault.objects.filter(office=office)}
    hours = {h.weekday: h for h in OpeningHours.objects.filter(office=office)}
    rows = []
    for weekday, _label in WEEKDAYS:
        quota, opening = defaults.get(weekday), hours.get(weekday)
        row = {"weekday": weekday, "opens_at": opening and opening.opens_at, "closes_at": opening and opening.closes_at}
        row["print_capacity"] = quota.print_capacity if quota else 0
        for channel in QueueChannel.values:
            row[channel] = getattr(quota, channel) if quota else 0
        rows.append(row)
    return rows


def _day_initial(office: Office, day: date) -> dict:
    """The date's figures as they stand: its row, or what the weekday default would give it."""
    row = ServiceDay.objects.filter(office=office, date=day).first()
    if row is not None:
        initial = {"print_capacity": row.print_capacity}
        initial.update({channel: getattr(row, f"cap_{channel}") for channel in QueueChannel.values})
    else:
        quota = QuotaDefault.objects.filter(office=office, weekday=day.weekday()).first()
        initial = {"print_capacity": quota.print_capacity if quota else 0}
        initial.update({channel: getattr(quota, channel) if quota else 0 for channel in QueueChannel.values})
    return {"day": day, **initial}


def _figures(data: dict) -> quotas.Figures:
    return quotas.Figures(**{field: data[field] for field in quotas.QUOTA_FIELDS})


def _apply_refusal(form: forms.Form, exc: errors.QuotaRefused) -> None:
    for field, message in exc.errors.items():
        form.add_error(field if field in form.fields else None, message)


def _settings_office(request: HttpRequest) -> Office:
    """The Disdukcapil office whose calendar the supervisor sets (its own; ?kantor= among its scope)."""
    scope = _calendar_scope(request)
    if scope.office.kind != Office.Kind.DISDUKCAPIL:
        raise Http404
    return scope.office


@require_http_methods(["GET", "POST"])
@permission_required("queueing.plan_calendar", raise_exception=True)
def quota_settings(request: HttpRequest) -> HttpResponse:
    """Quotas and opening hours of the coming weeks: each weekday's default, one coming date's own quota, local
    closures; every change kept in the history shown below (latest first). A refused change shows its reason
    beside the field and changes nothing."""
    office = _settings_office(request)
    today = clock.today(office)
    action = request.POST.get("action", "")
    weekday_formset = WeekdayFormSet(prefix="wd", initial=_weekday_initial(office))
    picked = None
    pick_form = DayPickForm(request.GET or None)
    if request.method == "GET" and pick_form.is_valid():
        picked = pick_form.cleaned_data["day"]
    day_form = DayQuotaForm(initial=_day_initial(office, picked)) if picked else None
    closure_form = ClosureForm()
    by: User = request.user
    here = _settings_url(request)

    if action == "weekdays":
        weekday_formset = WeekdayFormSet(request.POST, prefix="wd", initial=_weekday_initial(office))
        if weekday_formset.is_valid():
            changed = []
            for form in weekday_formset:
                if not form.has_changed():
                    continue
                data = form.cleaned_data
                try:
                    changed += quotas.quota_default_set(
                        office=office,
                        weekday=data["weekday"],
                        figures=_figures(data),
                        opens_at=data["opens_at"],
                        closes_at=data["closes_at"],
                        by=by,
                        today=today,
                    )
                except errors.QuotaRefused as exc:
                    _apply_refusal(form, exc)
            if not any(form.errors for form in weekday_formset):
                messages.success(request, _("%(n)d perubahan kuota/jam layanan disimpan.") % {"n": len(changed)})
                return redirect(here)
            if changed:
                messages.warning(
                    request,
                    _("%(n)d perubahan disimpan; baris yang ditandai tidak diubah.") % {"n": len(changed)},
                )
    elif action == "day":
        day_form = DayQuotaForm(request.POST)
        if day_form.is_valid():
            day = day_form.cleaned_data["day"]
            try:
                changed = quotas.service_day_quota_set(
                    office=office, day=day, figures=_figures(day_form.cleaned_data), by=by, today=today
                )
            except errors.QuotaRefused as exc:
                _apply_refusal(day_form, exc)
            else:
                messages.success(
                    request,
                    _("Kuota %(day)s disimpan (%(n)d perubahan).") % {"day": day_text(day), "n": len(changed)},
                )
                return redirect(_settings_url(request, day=day))
    elif action == "close":
        closure_form = ClosureForm(request.POST)
        if closure_form.is_valid():
            day = closure_form.cleaned_data["day"]
            try:
                counts = quotas.closure_add(
                    office=office, day=day, reason=closure_form.cleaned_data["reason"], by=by, today=today
                )
            except errors.QueueingError as exc:
                closure_form.add_error("day", str(exc))
            else:
                messages.success(
                    request,
                    _(
                        "Layanan %(day)s ditutup: %(moved)d jadwal dipindah, %(cancelled)d dibatalkan; penduduk diberi "
                        "tahu."
                    )
                    % {"day": day_text(day), **counts},
                )
                return redirect(here)
    elif action == "reopen":
        try:
            day = date.fromisoformat(request.POST.get("day", ""))
            quotas.closure_remove(office=office, day=day, by=by, today=today)
        except ValueError:
            messages.error(request, _("Tanggal tidak dikenal."))
        except errors.QueueingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Layanan %(day)s dibuka kembali.") % {"day": day_text(day)})
        return redirect(here)
    elif request.method == "POST":
        messages.error(request, _("Pilihan tidak dikenal."))
        return redirect(here)

    local_closures = list(Closure.objects.filter(office=office, date__gt=today).order_by("date"))
    national = list(Closure.objects.filter(office__isnull=True, date__gt=today).order_by("date")[:12])
    context = {
        "office": office,
        "today": today,
        "weekday_formset": weekday_formset,
        "pick_form": pick_form,
        "day_form": day_form,
        "picked": picked,
        "closure_form": closure_form,
        "local_closures": local_closures,
        "national_closures": national,
        "own_figures": quotas.coming_own_figures(office=office, after=today),
        "history": QuotaChange.objects.filter(office=office).select_related("changed_by")[:HISTORY_ROWS],
        "channels": QueueChannel.choices,
        "kantor": request.GET.get("kantor", ""),
        "calendar_url": reverse("queueing:coming_days"),
    }
    return render(request, "queueing/quota_settings.html", context)


def _settings_url(request: HttpRequest, *, day: date | None = None) -> str:
    """The settings page again (the office picked, and the date just changed shown with its figures)."""
    params = []
    kantor = request.GET.get("kantor", "")
    if kantor.isdigit():
        params.append(f"kantor={kantor}")
    if day is not None:
        params.append(f"day={day_text(day)}")
    url = reverse("queueing:quota_settings")
    return f"{url}?{'&'.join(params)}" if params else url
