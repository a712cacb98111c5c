"""Staff pages: resident search and list, resident detail with the family, NIK reveal, access log."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from messaging.system_text import system_text
from registry import clock, resident_services
from registry.access_log_filters import AccessLogFilterForm, ResidentFindForm, access_log_filtered
from registry.exports import Column, describe_filters, export_response
from registry.filters import ResidentFilter, desa_choices_for
from registry.forms import MaritalStatusForm
from registry.models import AccessLog, Resident, SavedSearch, mask_number
from registry.nik import compare_nik_with_record, parse_nik
from registry.pagination import keyset_page, keyset_page_search
from registry.regions import nik_check, region_exists
from registry.scoping import get_visible_or_404
from registry.tables import AccessLogTable, ResidentTable, remask_old_masks
from registry.web import access_log_record, client_ip

PAGE_SIZE = 25


def _saved_search(request: HttpRequest, token: str | None) -> dict | None:
    """The criteria behind a token: {} for no token, None for an unknown, expired or foreign token."""
    if not token:
        return {}
    search = (
        SavedSearch.objects.filter(token=token, user=request.user, created_at__gte=clock.now() - SavedSearch.LIFETIME)
        .only("criteria")
        .first()
    )
    return search.criteria if search else None


def _save_search(request: HttpRequest, criteria: dict) -> str:
    return SavedSearch.objects.create(token=secrets.token_urlsafe(12), user=request.user, criteria=criteria).token


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required("registry.view_resident", raise_exception=True)
def resident_list(request: HttpRequest) -> HttpResponse:
    """Search and browse residents in the user's scope, 25 at a time, ordered by name."""
    user = request.user
    base = Resident.objects.visible_to(user).with_listing_relations()
    if request.method == "POST":
        data = {k: v for k, v in request.POST.items() if k in ResidentFilter.base_filters and v}
        resident_filter = ResidentFilter(data, queryset=base, user=user)
        if resident_filter.is_valid():
            token = _save_search(request, data)
            if number := resident_filter.searched_number:
                found = list(resident_filter.qs.values_list("id", flat=True)[:20])
                AccessLog.objects.append_many(
                    [
                        AccessLog(
                            user=user,
                            action=AccessLog.Action.SEARCH_NIK,
                            resident_id=resident_id,
                            ip_address=client_ip(request),
                            detail=system_text(gettext_noop("Pencarian NIK/KK %(masked)s"), masked=mask_number(number)),
                        )
                        for resident_id in (found or [None])
                    ]
                )
            return HttpResponseRedirect(f"{reverse('registry:resident_list')}?s={token}")
        return render(
            request,
            "registry/resident_list.html",
            {"filter": resident_filter, "table": None, "page": None},
            status=200,
        )

    token = request.GET.get("s")
    criteria = _saved_search(request, token)
    if criteria is None:
        messages.warning(request, _("Pencarian itu sudah kedaluwarsa; silakan cari lagi."))
        return HttpResponseRedirect(reverse("registry:resident_list"))
    resident_filter = ResidentFilter(criteria or None, queryset=base, user=user)
    queryset = resident_filter.qs if criteria else base

    after = before = None
    cursors = Resident.objects.visible_to(user).only("id", "full_name")
    if (cursor := request.GET.get("after", "")).isdigit():
        after = cursors.filter(pk=cursor).first()
    elif (cursor := request.GET.get("before", "")).isdigit():
        before = cursors.filter(pk=cursor).first()
    if criteria.get("q") and resident_filter.is_valid() and not resident_filter.searched_number:
        # A name search: bounded whether the name is rare or common (registry/pagination.py). The other
        # filters narrow by the scope-first indexes (kecamatan, desa) or keep most rows (sex, age band).
        page = keyset_page_search(queryset, scope=cursors, key="full_name", size=PAGE_SIZE, after=after, before=before)
    else:
        page = keyset_page(queryset, key="full_name", size=PAGE_SIZE, after=after, before=before)
    table = ResidentTable(page.rows, today=clock.today(user.office))
    context = {
        "filter": resident_filter,
        "table": table,
        "page": page,
        "token": token,
        "filtered": bool(criteria),
    }
    template = "registry/resident_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@require_GET
@permission_required("registry.view_region", raise_exception=True)
def region_desa_options(request: HttpRequest) -> HttpResponse:
    """<option>s of the desa of a kecamatan, for the search form (htmx)."""
    kecamatan = request.GET.get("kecamatan") or None
    desa = desa_choices_for(request.user, kecamatan)
    return render(request, "registry/_desa_options.html", {"desa_list": desa})


RESIDENT_PAGE_ROWS = Resident.objects.select_related("desa", "kecamatan", "kecamatan__parent", "family", "family__desa")


def _resident_context(request: HttpRequest, resident: Resident) -> dict:
    parsed = parse_nik(resident.nik, region_exists=region_exists)
    warnings = list(parsed.warnings) + [str(e) for e in parsed.errors]
    warnings += compare_nik_with_record(parsed, birth_date=resident.birth_date, sex=resident.sex)
    members = []
    if resident.family_id:
        members = list(
            Resident.objects.visible_to(request.user)
            .filter(family_id=resident.family_id)
            .select_related("desa")
            .order_by("birth_date")
        )
    today = clock.today(request.user.office)
    return {
        "resident": resident,
        "family": resident.family,
        "members": [(member, member.age_on(today)) for member in members],  # an age, not a birth date, per member
        # Shown only inside the audited reveal: a warning names the NIK's date digits and the birth date.
        "nik_warnings": warnings,
        # An age, never the birth date (nor the 17th birthday), beside the masked NIK: with the kecamatan and the
        # sex known, a birth date leaves only the small serial of the NIK to guess. The date is in the reveal.
        "age": resident.age_on(today),
        "wajib_ktp": resident.is_wajib_ktp_on(today),
        "marital_form": MaritalStatusForm(initial={"marital_status": resident.marital_status}),
        "card_requests": resident.card_requests.visible_to(request.user).order_by("-created_at")[:20],
    }


@require_GET
@permission_required("registry.view_resident", raise_exception=True)
def resident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    resident = get_visible_or_404(RESIDENT_PAGE_ROWS, request.user, pk=pk)
    return render(request, "registry/resident_detail.html", _resident_context(request, resident))


@require_POST
@permission_required("registry.view_resident", raise_exception=True)
def resident_reveal_nik(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the full NIK and KK number once, with what completes them (birth date, the NIK warnings), and record
    who saw them, when and from where."""
    resident = get_visible_or_404(RESIDENT_PAGE_ROWS, request.user, pk=pk)
    if not request.user.has_perm("registry.reveal_nik"):
        raise PermissionDenied
    with transaction.atomic():
        access_log_record(
            request,
            action=AccessLog.Action.REVEAL_NIK,
            resident=resident,
            detail=system_text(gettext_noop("NIK dan nomor KK ditampilkan di halaman penduduk")),
        )
    context = _resident_context(request, resident) | {"revealed": True}
    if request.htmx:
        return render(request, "registry/_nik_revealed.html", context)
    return render(request, "registry/resident_detail.html", context)


@require_POST
@permission_required("registry.view_resident", raise_exception=True)
def resident_marital_status_set(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the resident's marital status (it decides wajib KTP below 17); the change is kept in the history."""
    resident = get_visible_or_404(Resident.objects.only("id", "kecamatan_id"), request.user, pk=pk)
    if not request.user.has_perm("registry.change_resident"):
        raise PermissionDenied
    form = MaritalStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("marital_status", [])))
    else:
        try:
            changed = resident_services.resident_marital_status_set(
                resident_id=resident.pk, status=form.cleaned_data["marital_status"], by=request.user
            )
        except resident_services.ResidentError as exc:
            messages.error(request, str(exc))
        else:
            if changed:
                messages.success(request, _("Status perkawinan disimpan."))
            else:
                messages.info(request, _("Status perkawinan tidak berubah."))
    return HttpResponseRedirect(reverse("registry:resident_detail", args=[resident.pk]))


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required("registry.view_accesslog", raise_exception=True)
def accesslog_list(request: HttpRequest) -> HttpResponse:
    """Who revealed or searched which NIK, or exported personal data, newest first, within the scope; filtered
    by staff member, resident, action and date range, 25 rows a page by keyset (`?after=<id>`: older rows).

    A POST carries a NIK to find the resident whose rows to show (logged as a NIK search); the page then opens
    with the resident's id, so the NIK never reaches a URL."""
    find_form = ResidentFindForm(request.POST or None)
    if request.method == "POST" and find_form.is_valid():
        resident = _accesslog_resident_by_nik(request, find_form)
        if resident is not None:
            query = request.GET.copy()
            query.pop("after", None)
            query["penduduk"] = str(resident.pk)
            return HttpResponseRedirect(f"{reverse('registry:accesslog_list')}?{query.urlencode()}")
    if find_form.is_bound:
        find_form.data = find_form.data.copy()
        find_form.data["nik"] = ""  # the error is shown beside the field; the NIK typed is never echoed
    form = AccessLogFilterForm(request.GET, user=request.user)
    logs = access_log_filtered(user=request.user, filters=form.cleaned_data if form.is_valid() else {})
    if form.errors:
        logs = logs.none()  # a filter that does not read shows its error, not every row as if it applied
    cursor = request.GET.get("after", "")
    if cursor.isdigit():
        logs = logs.filter(id__lt=int(cursor))
    rows = list(logs[: PAGE_SIZE + 1])
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "table": AccessLogTable(rows[:PAGE_SIZE]),
        "next_cursor": rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None,
        "is_first_page": not cursor.isdigit(),
        "form": form,
        "find_form": find_form,
        "resident": form.cleaned_data.get("penduduk") if form.is_valid() else None,
        "query": query.urlencode(),
        "query_without_resident": _without(query, "penduduk"),
    }
    return render(request, "registry/accesslog_list.html", context)


def _without(query, name: str) -> str:
    query = query.copy()
    query.pop(name, None)
    return query.urlencode()


def _accesslog_resident_by_nik(request: HttpRequest, find_form: ResidentFindForm) -> Resident | None:
    """The resident in scope with the NIK typed in the access-log page's search, with its own access-log row
    (masked NIK, the resident found or none); None with the field's error."""
    parsed = nik_check(find_form.cleaned_data["nik"].replace(" ", "").replace(".", ""))
    if parsed.errors:
        find_form.add_error("nik", " ".join(parsed.errors))
        return None
    resident = Resident.objects.visible_to(request.user).filter(nik=parsed.number).first()
    access_log_record(
        request,
        action=AccessLog.Action.SEARCH_NIK,
        resident=resident,
        detail=system_text(
            gettext_noop("Mencari penduduk di log akses dengan NIK %(masked)s"), masked=mask_number(parsed.number)
        ),
    )
    if resident is None:
        find_form.add_error("nik", _("NIK itu tidak ada di data penduduk wilayah Anda."))
    return resident


ACCESSLOG_COLUMNS = [
    Column(gettext_lazy("Waktu"), lambda log: log.at),
    Column(gettext_lazy("Petugas"), lambda log: log.user.username),
    Column(gettext_lazy("Tindakan"), lambda log: log.get_action_display()),
    Column(gettext_lazy("Penduduk"), lambda log: log.resident.full_name if log.resident_id else ""),
    Column(gettext_lazy("NIK"), lambda log: log.resident.masked_nik if log.resident_id else ""),
    Column(gettext_lazy("Alamat IP"), lambda log: log.ip_address),
    Column(gettext_lazy("Keterangan"), lambda log: remask_old_masks(str(log.detail))),
]


@never_cache
@require_GET
@permission_required("registry.view_accesslog", raise_exception=True)
def accesslog_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The access log with the page's filters, every matching row, newest first. A filter that does not read
    goes back to the page with its error beside the field, and exports nothing."""
    form = AccessLogFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        messages.error(request, _("Perbaiki filter log akses sebelum mengekspor."))
        return HttpResponseRedirect(f"{reverse('registry:accesslog_list')}?{request.GET.urlencode()}")
    return export_response(
        request,
        fmt=fmt,
        rows=access_log_filtered(user=request.user, filters=form.cleaned_data),
        columns=ACCESSLOG_COLUMNS,
        what=system_text(gettext_noop("Log akses data pribadi")),
        slug="log-akses",
        office=request.user.office,
        filters=describe_filters(form),
    )
