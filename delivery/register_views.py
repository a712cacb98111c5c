"""The suket register page and its export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from delivery.register import SuketRegisterForm, SuketState, suket_register
from messaging.system_text import system_text
from registry import clock
from registry.exports import Column, describe_filters, export_response

PAGE_SIZE = 50


def _state_label(suket) -> str:
    return SuketState(suket.state).label


REGISTER_COLUMNS = [
    Column(gettext_lazy("Nomor suket"), lambda s: s.number),
    Column(gettext_lazy("Pemegang"), lambda s: s.resident.full_name),
    Column(gettext_lazy("NIK"), lambda s: s.resident.masked_nik),
    Column(gettext_lazy("Permohonan"), lambda s: s.card_request.number),
    Column(gettext_lazy("Berlaku dari"), lambda s: timezone.localtime(s.issued_at, clock.zone_of(s.office)).date()),
    Column(gettext_lazy("Berlaku sampai"), lambda s: s.valid_until),
    Column(gettext_lazy("Status"), _state_label),
    Column(gettext_lazy("Berakhir"), lambda s: s.ended_at),
    Column(gettext_lazy("Kantor"), lambda s: s.office.name),
    Column(gettext_lazy("Diterbitkan oleh"), lambda s: s.issued_by.username),
]


@never_cache
@require_GET
@permission_required("cards.view_cardrequest", raise_exception=True)
def suket_register_page(request: HttpRequest) -> HttpResponse:
    """Every suket in scope, newest first, 50 a page by keyset (`?after=<id>`: the rows older than that one)."""
    form = SuketRegisterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    sukets = suket_register(user=request.user, filters=filters)
    if form.errors:
        sukets = sukets.none()  # a filter that does not read shows its error, not every row as if it applied
    cursor = request.GET.get("after", "")
    if cursor.isdigit():
        sukets = sukets.filter(id__lt=int(cursor))
    rows = list(sukets[: PAGE_SIZE + 1])
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "form": form,
        "rows": rows[:PAGE_SIZE],
        "next_cursor": rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None,
        "is_first_page": not cursor.isdigit(),
        "query": query.urlencode(),
        "states": SuketState,
    }
    return render(request, "delivery/suket_register.html", context)


@never_cache
@require_GET
@permission_required("cards.view_cardrequest", raise_exception=True)
def suket_register_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """The register with the page's filters, every row (not only a page). A filter that does not read goes
    back to the register with its error beside the field, and exports nothing."""
    form = SuketRegisterForm(request.GET)
    if not form.is_valid():
        messages.error(request, _("Perbaiki filter register suket sebelum mengekspor."))
        return redirect(f"{reverse('delivery:suket_register')}?{request.GET.urlencode()}")
    return export_response(
        request,
        fmt=fmt,
        rows=suket_register(user=request.user, filters=form.cleaned_data),
        columns=REGISTER_COLUMNS,
        what=system_text(gettext_noop("Register suket")),
        slug="register-suket",
        office=request.user.office,
        filters=describe_filters(form),
    )
