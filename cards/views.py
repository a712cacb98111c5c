"""Card-request pages: the work queue with bulk actions, a new request (found by NIK), the request page with
its timeline and actions, attachments, urgent priority, biometric recording, dispatch to UPTDs.
SINKRONISASI's pages are in cards/data_sync_views.py.

Every lookup goes through the user's scope (404 outside it); every change goes through registry/services.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from cards import dispatch, recording, services, workflow
from cards.forms import (
    AttachmentForm,
    BiometricForm,
    BulkActionForm,
    CardRequestCreateForm,
    CentralAnswerForm,
    DecisionForm,
    DispatchForm,
    NikLookupForm,
    RouteForm,
    TransitionForm,
    UrgentAskForm,
)
from cards.models import (
    Attachment,
    BiometricRecording,
    CardRequest,
    CentralStatus,
    DispatchBatch,
    DispatchItem,
    HealthChecklist,
    Requirement,
    UrgentStatus,
)
from cards.services import CardRequestError, StaleCardRequest
from cards.tables import (
    QUEUE_KEYS,
    QUEUES,
    WORK_ORDER,
    CardRequestFilter,
    CardRequestTable,
    default_queue,
    queue_condition,
    queue_count_label,
    queue_counts,
)
from messaging.system_text import system_text
from registry import clock
from registry.models import AccessLog, Office, Resident, Role, mask_number
from registry.pagination import keyset_page_ordered
from registry.scoping import get_visible_or_404
from registry.web import access_log_record

S = CardRequest.Status
PER_PAGE = 50


def _requests_of(user):
    return CardRequest.objects.visible_to(user)


# --- the work queue -------------------------------------------------------------------------------------


@never_cache
@require_GET
@permission_required("cards.view_cardrequest", raise_exception=True)
def cardrequest_list(request: HttpRequest) -> HttpResponse:
    """The queues (tabs with counts), filters, and the table with bulk actions; urgent first, then oldest.

    Pages are keyset pages in work order (`?after=<id>` / `?before=<id>`, a request id of the user's scope,
    never an OFFSET), so a page deep in the closed tab costs what the first page costs; filters travel with
    the cursor."""
    user = request.user
    base = _requests_of(user).with_appointment()
    queue = request.GET.get("antrean")
    if queue not in QUEUE_KEYS:
        queue = default_queue(user)
    counts = queue_counts(_requests_of(user))
    request_filter = CardRequestFilter(request.GET or None, queryset=base.filter(queue_condition(queue)), user=user)
    rows = request_filter.qs.select_related("resident", "kecamatan")
    after = before = None
    cursors = _requests_of(user).only(*(column.lstrip("-") for column in WORK_ORDER))
    if (cursor := request.GET.get("after", "")).isdigit():
        after = cursors.filter(pk=cursor).first()
    elif (cursor := request.GET.get("before", "")).isdigit():
        before = cursors.filter(pk=cursor).first()
    page = keyset_page_ordered(rows, order=WORK_ORDER, size=PER_PAGE, after=after, before=before)
    now = clock.now()
    for row in page.rows:
        row.age_days = (now - row.created_at).days
    tabs = [(key, label, queue_count_label(key, counts[key.replace("-", "_")])) for key, label, _q in QUEUES]
    context = {
        "filter": request_filter,
        "rows": page.rows,
        "page": page,
        "previous_url": _page_url(request, "before", page.previous_cursor),
        "next_url": _page_url(request, "after", page.next_cursor),
        "export_query": _page_url(request, "", None).lstrip("?"),
        "queue": queue,
        "tabs": tabs,
        "bulk_form": BulkActionForm(),
        "can_bulk": user.has_perm("cards.verify_cardrequest"),
        "can_create": user.has_perm("cards.add_cardrequest"),
        "here": request.get_full_path(),
    }
    template = "cards/cardrequest_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


def _page_url(request: HttpRequest, direction: str, cursor: int | None) -> str:
    """The current query string (tab and filters) with `direction`=`cursor` instead of the current cursor;
    "" when there is no such page."""
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("before", None)
    if direction:
        if cursor is None:
            return ""
        query[direction] = str(cursor)
    return f"?{query.urlencode()}"


@require_POST
@permission_required("cards.verify_cardrequest", raise_exception=True)
def cardrequest_bulk(request: HttpRequest) -> HttpResponse:
    """Apply verify / mark ready / cancel to the ticked rows; report each refused row and why."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        back = reverse("cards:cardrequest_list")
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Centang dulu permohonan yang akan diproses, lalu pilih tindakannya."))
        return redirect(back or "cards:cardrequest_list")
    action, note = form.cleaned_data["action"], form.cleaned_data["note"]
    if action == "cancel" and not note.strip():
        messages.error(request, _("Tulis alasan pembatalan; penduduk akan menerimanya dalam pesan."))
        return redirect(back)
    outcome = services.card_requests_bulk_transition(
        ids=form.cleaned_data["ids"], action=action, by=request.user, note=note
    )
    if outcome.done:
        messages.success(request, _("%(n)d permohonan diproses.") % {"n": len(outcome.done)})
    for _pk, number, reason in outcome.refused:
        messages.warning(request, _("%(number)s tidak diproses: %(reason)s") % {"number": number, "reason": reason})
    return redirect(back)


# --- a new request --------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required("cards.add_cardrequest", raise_exception=True)
def cardrequest_create(request: HttpRequest) -> HttpResponse:
    """Step 1: find the resident by NIK (POST, logged, within the scope). Step 2: kind, documents, note,
    urgency. Starting from a resident's page skips step 1 (the id is in the URL, never the NIK)."""
    user = request.user
    uptd = user.role == Role.UPTD_OPERATOR
    residents = Resident.objects.visible_to(user).select_related("desa", "kecamatan")
    resident = None
    lookup = NikLookupForm()
    form = None

    if request.method == "GET" and (pk := request.GET.get("penduduk", "")).isdigit():
        resident = get_visible_or_404(residents, user, pk=pk)
    elif request.method == "POST" and "nik" in request.POST:
        lookup = NikLookupForm(request.POST)
        if lookup.is_valid():
            nik = lookup.cleaned_data["nik"]
            resident = residents.filter(nik=nik).first()
            access_log_record(
                request,
                action=AccessLog.Action.SEARCH_NIK,
                resident=resident,
                detail=system_text(
                    gettext_noop("Cari penduduk untuk permohonan e-KTP %(masked)s"), masked=mask_number(nik)
                ),
            )
            if resident is None:
                lookup.add_error("nik", _("NIK tidak ditemukan di wilayah kerja Anda."))
    elif request.method == "POST":
        form = CardRequestCreateForm(request.POST, request.FILES, uptd=uptd)
        pk = request.POST.get("resident", "")
        resident = get_visible_or_404(residents, user, pk=pk) if pk.isdigit() else None
        if resident is None:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    card_request = services.card_request_create(
                        resident=resident,
                        kind=data["kind"],
                        by=user,
                        channel=data.get("channel"),
                        note=data["note"],
                        urgent_reason=data["urgent_reason"],
                        urgent_note=data["urgent_note"],
                    )
                    for requirement, upload in form.uploads():
                        services.attachment_add(
                            card_request=card_request, upload=upload, by=user, requirement=requirement
                        )
                    if data["urgent_proof"]:
                        services.attachment_add(
                            card_request=card_request,
                            upload=data["urgent_proof"],
                            by=user,
                            purpose=Attachment.Purpose.URGENT_PROOF,
                        )
            except CardRequestError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Permohonan %(number)s dibuat.") % {"number": card_request.number})
                return redirect("cards:cardrequest_detail", pk=card_request.pk)

    if resident is not None and form is None:
        form = CardRequestCreateForm(initial={"resident": resident.pk}, uptd=uptd)
    open_requests = list(resident.card_requests.open()) if resident else []
    context = {"lookup": lookup, "resident": resident, "form": form, "open_requests": open_requests, "uptd": uptd}
    return render(request, "cards/cardrequest_create.html", context)


# --- the request page -----------------------------------------------------------------------------------


def _detail_rows(user):
    return _requests_of(user).select_related(
        "resident", "resident__desa", "kecamatan", "office", "pickup_office", "submitted_by", "urgent_decided_by"
    )


def _detail_context(request: HttpRequest, card_request: CardRequest) -> dict:
    user = request.user
    requirements = list(Requirement.objects.filter(kind=card_request.kind, is_active=True))
    attachments = list(card_request.attachments.select_related("requirement", "uploaded_by"))
    ticked = {c.requirement_id: c for c in card_request.requirement_checks.select_related("checked_by")}
    documents = [
        (r, [a for a in attachments if a.requirement_id == r.pk]) for r in requirements if r.stage == "document"
    ]
    handover = [(r, ticked.get(r.pk)) for r in requirements if r.stage == "handover"]
    dispatch_item = DispatchItem.objects.filter(card_request=card_request).select_related("batch").first()
    can_route = card_request.status in CardRequest.BEFORE_PRINTING and user.has_perm("cards.verify_cardrequest")
    recordings = list(card_request.resident.biometric_recordings.select_related("central_decided_by", "office")[:3])
    print_problem = (
        workflow.print_ready_problem(card_request, on=clock.today(card_request.office))
        if card_request.status in (S.READY_TO_PRINT, S.SCHEDULED)
        else None
    )
    actions = [
        (S(t), TransitionForm(initial={"to_status": t, "expected_status": card_request.status}))
        for t in services.card_request_moves_for(user, card_request)
    ]
    # The forward move is shown open; incomplete, reject and cancel are opened on purpose.
    primary = next((t for t, _f in actions if t not in (S.INCOMPLETE, S.REJECTED, S.CANCELLED)), None)
    if (
        card_request.status == S.PRINTED
        and card_request.route == "counter"
        and any(t == S.HANDED_OVER for t, _f in actions)
    ):
        primary = S.HANDED_OVER  # printed while the resident waits: the handover is next, not storing it
    can_record = (
        card_request.kind == "pemula"
        and not card_request.resident.biometric_recorded
        and card_request.is_open
        and user.has_perm("cards.record_biometrics")
    )
    return {
        "cr": card_request,
        "resident": card_request.resident,
        "documents": documents,
        "handover": handover,
        "other_attachments": [a for a in attachments if a.requirement_id is None],
        "events": card_request.events.select_related("by"),
        "notifications": card_request.notifications.all(),
        "actions": actions,
        "primary_action": primary,
        "attachment_form": AttachmentForm(card_request=card_request) if card_request.is_open else None,
        "urgent_form": UrgentAskForm()
        if card_request.is_open and card_request.urgent_status in (UrgentStatus.NONE, UrgentStatus.REFUSED)
        else None,
        "decision_form": DecisionForm()
        if card_request.urgent_status == UrgentStatus.REQUESTED and user.has_perm("cards.approve_urgent_cardrequest")
        else None,
        "can_tick": card_request.is_open
        and (user.has_perm("cards.verify_cardrequest") or user.role == Role.UPTD_OPERATOR),
        "biometric_form": BiometricForm() if can_record else None,
        "emergency": user.office.in_health_emergency if user.office_id else False,
        "dispatch_item": dispatch_item,
        "route_form": RouteForm(initial={"route": card_request.route, "expected_route": card_request.route})
        if can_route
        else None,
        "recordings": recordings,
        "can_answer_central": user.has_perm("cards.verify_cardrequest"),
        "print_problem": print_problem,
        "wajib_ktp": card_request.resident.is_wajib_ktp_on(clock.today(card_request.office)),
    }


@never_cache
@require_GET
@permission_required("cards.view_cardrequest", raise_exception=True)
def cardrequest_detail(request: HttpRequest, pk: int) -> HttpResponse:
    card_request = get_visible_or_404(_detail_rows(request.user), request.user, pk=pk)
    return render(request, "cards/cardrequest_detail.html", _detail_context(request, card_request))


def _back_to(card_request: CardRequest) -> HttpResponse:
    return redirect("cards:cardrequest_detail", pk=card_request.pk)


def cardrequest_detail_refused(request: HttpRequest, card_request: CardRequest, **bound_forms) -> HttpResponse:
    """The request page again, status 400, with a form posted from it that was refused: bound, so what was
    typed stays and each error shows beside its field (`attachment_form=`, `urgent_form=`, or another app's
    panel form such as `book_form_bound=`). Nothing was changed."""
    card_request = get_visible_or_404(_detail_rows(request.user), request.user, pk=card_request.pk)
    context = {**_detail_context(request, card_request), **bound_forms}
    return render(request, "cards/cardrequest_detail.html", context, status=400)


def _form_errors_as_messages(request: HttpRequest, form) -> None:
    """A form of buttons and hidden fields posted from the request page (route, the centre's answer): nothing
    was typed to show an error beside, so its errors come back as messages on that page. Forms with typed
    fields use cardrequest_detail_refused instead."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@require_POST
@permission_required("cards.view_cardrequest", raise_exception=True)
def cardrequest_transition(request: HttpRequest, pk: int) -> HttpResponse:
    card_request = get_visible_or_404(_requests_of(request.user), request.user, pk=pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Permintaan tidak lengkap; muat ulang halaman."))
        return _back_to(card_request)
    data = form.cleaned_data
    try:
        moved = services.card_request_transition(
            card_request_id=card_request.pk,
            to_status=data["to_status"],
            by=request.user,
            expected_status=data["expected_status"],
            note=data["note"],
            missing_items=form.missing_list(),
            handover_confirmed=data["handover_confirmed"],
        )
    except StaleCardRequest as exc:
        messages.warning(request, str(exc))
    except CardRequestError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(number)s sekarang '%(status)s'.") % {"number": moved.number, "status": moved.get_status_display()},
        )
    return _back_to(card_request)


@require_POST
@permission_required("cards.view_cardrequest", raise_exception=True)
def cardrequest_attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    card_request = get_visible_or_404(_requests_of(request.user), request.user, pk=pk)
    if not (request.user.has_perm("cards.verify_cardrequest") or request.user.has_perm("cards.add_cardrequest")):
        raise PermissionDenied
    form = AttachmentForm(request.POST, request.FILES, card_request=card_request)
    if not form.is_valid():
        return cardrequest_detail_refused(request, card_request, attachment_form=form)
    try:
        services.attachment_add(
            card_request=card_request,
            upload=form.cleaned_data["file"],
            by=request.user,
            requirement=form.cleaned_data["requirement"],
            purpose=Attachment.Purpose.REQUIREMENT if form.cleaned_data["requirement"] else Attachment.Purpose.OTHER,
        )
    except CardRequestError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Lampiran disimpan."))
    return _back_to(card_request)


@require_GET
@permission_required("cards.view_cardrequest", raise_exception=True)
def cardrequest_attachment(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    """An attachment, only to staff who may see the request, and every opening is logged."""
    card_request = get_visible_or_404(_requests_of(request.user), request.user, pk=pk)
    attachment = card_request.attachments.filter(pk=attachment_pk).first()
    if attachment is None:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    access_log_record(
        request,
        action=AccessLog.Action.VIEW_ATTACHMENT,
        resident_id=card_request.resident_id,
        detail=system_text(
            gettext_noop("Lampiran %(name)s pada %(number)s"),
            name=attachment.original_name[:120],
            number=card_request.number,
        ),
    )
    suffix = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[attachment.content_type]
    response = FileResponse(
        handle,
        content_type=attachment.content_type,
        as_attachment=request.GET.get("unduh") == "1",
        filename=f"{card_request.number}-lampiran-{attachment.pk}.{suffix}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; object-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@permission_required("cards.view_cardrequest", raise_exception=True)
def cardrequest_requirement_tick(request: HttpRequest, pk: int) -> HttpResponse:
    card_request = get_visible_or_404(_requests_of(request.user), request.user, pk=pk)
    if not (request.user.has_perm("cards.verify_cardrequest") or request.user.role == Role.UPTD_OPERATOR):
        raise PermissionDenied
    requirement_id = request.POST.get("requirement", "")
    try:
        if not requirement_id.isdigit():
            raise CardRequestError(_("Pilih persyaratannya."))
        services.requirement_tick(card_request_id=card_request.pk, requirement_id=int(requirement_id), by=request.user)
    except CardRequestError as exc:
        messages.error(request, str(exc))
    return _back_to(card_request)


@require_POST
@permission_required("cards.view_cardrequest", raise_exception=True)
def cardrequest_urgent_ask(request: HttpRequest, pk: int) -> HttpResponse:
    card_request = get_visible_or_404(_requests_of(request.user), request.user, pk=pk)
    if not request.user.has_perm("cards.add_cardrequest"):
        raise PermissionDenied
    form = UrgentAskForm(request.POST, request.FILES)
    if not form.is_valid():
        return cardrequest_detail_refused(request, card_request, urgent_form=form)
    try:
        with transaction.atomic():
            services.card_request_urgent_ask(
                card_request_id=card_request.pk,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
            if proof := form.cleaned_data["proof"]:
                services.attachment_add(
                    card_request=card_request, upload=proof, by=request.user, purpose=Attachment.Purpose.URGENT_PROOF
                )
    except CardRequestError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Prioritas mendesak diajukan; menunggu persetujuan kepala bidang."))
    return _back_to(card_request)


@require_POST
@permission_required("cards.approve_urgent_cardrequest", raise_exception=True)
def cardrequest_urgent_decide(request: HttpRequest, pk: int) -> HttpResponse:
    card_request = get_visible_or_404(_requests_of(request.user), request.user, pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.card_request_urgent_decide(
                card_request_id=card_request.pk,
                approve=form.cleaned_data["decision"] == "approve",
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except CardRequestError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Keputusan prioritas mendesak disimpan."))
    return _back_to(card_request)


@require_POST
@permission_required("cards.record_biometrics", raise_exception=True)
def cardrequest_biometrics(request: HttpRequest, pk: int) -> HttpResponse:
    card_request = get_visible_or_404(_requests_of(request.user), request.user, pk=pk)
    form = BiometricForm(request.POST)
    form.is_valid()
    try:
        recording.biometric_record(
            resident_id=card_request.resident_id,
            by=request.user,
            card_request_id=card_request.pk,
            checklist=form.cleaned_data.get("checklist", []),
        )
    except CardRequestError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Perekaman biometrik dicatat."))
    return _back_to(card_request)


@require_POST
@permission_required("cards.verify_cardrequest", raise_exception=True)
def cardrequest_route(request: HttpRequest, pk: int) -> HttpResponse:
    """A clerk changes how the card reaches the resident (until it is printed)."""
    card_request = get_visible_or_404(_requests_of(request.user), request.user, pk=pk)
    form = RouteForm(request.POST)
    if not form.is_valid():
        _form_errors_as_messages(request, form)
        return _back_to(card_request)
    try:
        moved = workflow.card_request_route_set(
            card_request_id=card_request.pk,
            route=form.cleaned_data["route"],
            by=request.user,
            expected_route=form.cleaned_data["expected_route"],
        )
    except StaleCardRequest as exc:
        messages.warning(request, str(exc))
    except CardRequestError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Rute kartu: %(route)s.") % {"route": moved.get_route_display()})
    return _back_to(card_request)


@require_POST
@permission_required("cards.verify_cardrequest", raise_exception=True)
def cardrequest_central_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """A clerk records the centre's answer on the resident's recording (PRR or duplicate record)."""
    card_request = get_visible_or_404(_requests_of(request.user), request.user, pk=pk)
    form = CentralAnswerForm(request.POST)
    if not form.is_valid():
        _form_errors_as_messages(request, form)
        return _back_to(card_request)
    if not card_request.resident.biometric_recordings.filter(pk=form.cleaned_data["recording"]).exists():
        raise Http404
    try:
        done = recording.central_answer_record(
            recording_id=form.cleaned_data["recording"],
            answer=form.cleaned_data["answer"],
            by=request.user,
            note=form.cleaned_data["note"],
        )
    except CardRequestError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Jawaban pusat dicatat: %(answer)s.") % {"answer": done.get_central_status_display()}
        )
    return _back_to(card_request)


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required("cards.record_biometrics", raise_exception=True)
def cardrequest_recording_queue(request: HttpRequest) -> HttpResponse:
    """Who to call for recording: open requests of residents not yet recorded (urgent first), and any other
    unrecorded resident of the user's area, found by NIK (audited) and recorded here."""
    user = request.user
    lookup = NikLookupForm(request.POST or None)
    if request.method == "POST" and lookup.is_valid():
        nik = lookup.cleaned_data["nik"]
        resident = Resident.objects.visible_to(user).filter(nik=nik).first()
        access_log_record(
            request,
            action=AccessLog.Action.SEARCH_NIK,
            resident=resident,
            detail=system_text(gettext_noop("Perekaman biometrik untuk NIK %(masked)s"), masked=mask_number(nik)),
        )
        if resident is None:
            messages.error(request, _("NIK tidak ditemukan di wilayah kerja Anda."))
        else:
            try:
                recording.biometric_record(
                    resident_id=resident.pk, by=user, checklist=request.POST.getlist("checklist")
                )
            except CardRequestError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Perekaman biometrik %(name)s dicatat.") % {"name": resident.full_name})
        return redirect("cards:cardrequest_recording_queue")
    rows = (
        _requests_of(user).needing_recording().select_related("resident", "resident__desa", "kecamatan").in_work_order()
    )
    table = CardRequestTable(rows, exclude=("select",))
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    emergency = user.office.in_health_emergency if user.office_id else False
    pending = (
        BiometricRecording.objects.filter(
            resident__in=Resident.objects.visible_to(user), central_status=CentralStatus.PENDING
        )
        .select_related("resident", "office")
        .order_by("recorded_at")[:100]
    )
    return render(
        request,
        "cards/cardrequest_recording.html",
        {
            "table": table,
            "emergency": emergency,
            "checklist": HealthChecklist.choices,
            "lookup": lookup,
            "pending": pending,
        },
    )


# --- dispatch to UPTDs ----------------------------------------------------------------------------------


@never_cache
@require_GET
@permission_required("cards.view_cardrequest", raise_exception=True)
def dispatch_list(request: HttpRequest) -> HttpResponse:
    """Kabupaten: printed UPTD cards waiting to be sent, per UPTD, and past dispatches. UPTD: dispatches
    addressed to it, with how many cards are still to confirm."""
    user = request.user
    if not (user.has_perm("cards.dispatch_cardrequest") or user.has_perm("cards.receive_cardrequest")):
        raise PermissionDenied
    batches = (
        DispatchBatch.objects.visible_to(user)
        .select_related("uptd", "created_by")
        .annotate(cards=Count("items"), waiting=Count("items", filter=Q(items__received_at__isnull=True)))[:100]
    )
    waiting_by_uptd = []
    if user.has_perm("cards.dispatch_cardrequest"):
        printed = (
            _requests_of(user)
            .filter(status=S.PRINTED, pickup_office__kind=Office.Kind.UPTD)
            .select_related("resident", "pickup_office")
            .in_work_order()
        )
        groups: dict[int, tuple[Office, list[CardRequest]]] = {}
        for card_request in printed:
            groups.setdefault(card_request.pickup_office_id, (card_request.pickup_office, []))[1].append(card_request)
        waiting_by_uptd = sorted(groups.values(), key=lambda group: group[0].name)
    return render(
        request,
        "cards/dispatch_list.html",
        {"batches": batches, "waiting_by_uptd": waiting_by_uptd, "form": DispatchForm()},
    )


@require_POST
@permission_required("cards.dispatch_cardrequest", raise_exception=True)
def dispatch_create(request: HttpRequest) -> HttpResponse:
    form = DispatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Centang dulu kartu yang dikirim."))
        return redirect("cards:dispatch_list")
    uptd = get_visible_or_404(Office.objects.filter(kind=Office.Kind.UPTD), request.user, pk=form.cleaned_data["uptd"])
    try:
        batch, refused = dispatch.dispatch_create(
            uptd=uptd, card_request_ids=form.cleaned_data["ids"], by=request.user, note=form.cleaned_data["note"]
        )
    except CardRequestError as exc:
        messages.error(request, str(exc))
        return redirect("cards:dispatch_list")
    for _pk, reason in refused:
        messages.warning(request, reason)
    if batch is None:
        messages.error(request, _("Tidak ada kartu yang dapat dikirim."))
        return redirect("cards:dispatch_list")
    messages.success(request, _("Kiriman %(number)s dibuat.") % {"number": batch.number})
    return redirect("cards:dispatch_detail", pk=batch.pk)


@never_cache
@require_GET
@permission_required("cards.view_cardrequest", raise_exception=True)
def dispatch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_visible_or_404(
        DispatchBatch.objects.select_related("uptd", "office", "created_by"), request.user, pk=pk
    )
    items = batch.items.select_related("card_request__resident", "received_by")
    can_receive = request.user.has_perm("cards.receive_cardrequest") and request.user.office_id == batch.uptd_id
    return render(request, "cards/dispatch_detail.html", {"batch": batch, "items": items, "can_receive": can_receive})


@require_POST
@permission_required("cards.receive_cardrequest", raise_exception=True)
def dispatch_item_receive(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    batch = get_visible_or_404(DispatchBatch.objects.all(), request.user, pk=pk)
    if not batch.items.filter(pk=item_pk).exists():
        raise Http404
    try:
        item = dispatch.dispatch_item_receive(item_id=item_pk, by=request.user)
    except CardRequestError as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(
            request, _("%(number)s diterima; penduduk diberi tahu.") % {"number": item.card_request.number}
        )
    return redirect("cards:dispatch_detail", pk=batch.pk)
