"""The work queue as a spreadsheet: the rows the list shows for the same tab and filters, every one of them
(not only the page on screen), with the masked NIK."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cards.models import CardRequest
from cards.tables import QUEUE_KEYS, QUEUES, CardRequestFilter, default_queue, queue_condition
from messaging.system_text import system_text
from registry import clock
from registry.exports import Column, describe_filters, export_response


def _age_days(card_request: CardRequest) -> int:
    return (clock.now() - card_request.created_at).days


REQUEST_COLUMNS = [
    Column(gettext_lazy("Nomor"), lambda r: r.number),
    Column(gettext_lazy("Penduduk"), lambda r: r.resident.full_name),
    Column(gettext_lazy("NIK"), lambda r: r.resident.masked_nik),
    Column(gettext_lazy("Jenis"), lambda r: r.get_kind_display()),
    Column(gettext_lazy("Saluran"), lambda r: r.get_channel_display()),
    Column(gettext_lazy("Kecamatan"), lambda r: r.kecamatan.name),
    Column(gettext_lazy("Rute"), lambda r: r.get_route_display()),
    Column(gettext_lazy("Status"), lambda r: r.get_status_display()),
    Column(gettext_lazy("Mendesak"), lambda r: r.is_urgent),
    Column(gettext_lazy("Hari jadwal"), lambda r: r.appointment_day),
    Column(gettext_lazy("Nomor antrean"), lambda r: r.appointment_number),
    Column(gettext_lazy("Diterima"), lambda r: r.created_at),
    Column(gettext_lazy("Umur permohonan (hari)"), _age_days),
]


@never_cache
@require_GET
@permission_required("cards.view_cardrequest", raise_exception=True)
def cardrequest_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """The request list with the tab (`antrean`) and filters of its query string, in work order, within the
    user's scope. Takes the list page's own query string: `?antrean=<tab>&status=...&kecamatan=...`."""
    user = request.user
    queue = request.GET.get("antrean")
    if queue not in QUEUE_KEYS:
        queue = default_queue(user)
    base = CardRequest.objects.visible_to(user).with_appointment().filter(queue_condition(queue))
    request_filter = CardRequestFilter(request.GET or None, queryset=base, user=user)
    rows = request_filter.qs.select_related("resident", "kecamatan").in_work_order()
    filters = {_("Antrean"): str(next(label for key, label, _q in QUEUES if key == queue))}
    if request_filter.is_bound:
        request_filter.form.is_valid()  # the list ignores an invalid field and filters on the rest: so does this
        filters |= describe_filters(request_filter.form)
    return export_response(
        request,
        fmt=fmt,
        rows=rows,
        columns=REQUEST_COLUMNS,
        what=system_text(gettext_noop("Daftar permohonan")),
        slug="permohonan",
        office=user.office,
        filters=filters,
    )
