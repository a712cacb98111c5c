"""The inbox pages: the threads waiting for a clerk (the oldest unanswered first, its age on the page), a
thread with its messages in and out, and the actions on it (claim, release, answer, attach a photo to the
resident's request, link the sender to a resident).

Every lookup goes through the user's scope (404 outside it); every change goes through intake/inbox.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cards.models import Requirement
from cards.workflow import CardRequestError, missing_documents
from intake import inbox
from intake.forms import AnswerForm, AttachForm, LinkResidentForm
from intake.inbox import InboxError
from intake.models import InboundMessage, Thread
from messaging.system_text import system_text
from registry import clock
from registry.models import AccessLog, Resident, mask_number
from registry.web import access_log_record, client_ip

PER_PAGE = 30
# The most recent messages each way a thread page shows (a longer history stays in the database).
THREAD_ITEMS = 100
FILTERS = ("menunggu", "saya", "semua")
# Types a browser may show inline (the webhook's media download checked them like uploads); anything else
# (a voice note) is downloaded.
INLINE_TYPES = {"application/pdf", "image/jpeg", "image/png"}
VIEW = "cards.view_cardrequest"


def _thread_rows(user):
    return inbox.threads_visible_to(user).select_related("contact", "contact__resident", "resident", "claimed_by")


# --- the list -----------------------------------------------------------------------------------------------


@never_cache
@require_GET
@permission_required(VIEW, raise_exception=True)
def thread_list(request: HttpRequest) -> HttpResponse:
    """Threads waiting for an answer first, the oldest unanswered message first (a resend does not move it),
    then the others by their last message; the age of the oldest unanswered message at the top."""
    user = request.user
    visible = inbox.threads_visible_to(user)
    shown = request.GET.get("tampil")
    if shown not in FILTERS:
        shown = "menunggu"
    counts = visible.aggregate(
        menunggu=Count("pk", filter=Q(waiting_since__isnull=False)),
        saya=Count("pk", filter=Q(claimed_by=user)),
        semua=Count("pk"),
    )
    rows = _thread_rows(user)
    if shown == "menunggu":
        rows = rows.filter(waiting_since__isnull=False)
    elif shown == "saya":
        rows = rows.filter(claimed_by=user)
    last = InboundMessage.objects.filter(thread=OuterRef("pk")).order_by("-sent_at", "-id")
    rows = rows.annotate(last_text=Subquery(last.values("text")[:1]), last_kind=Subquery(last.values("kind")[:1]))
    page = Paginator(rows.order_by(*Thread._meta.ordering, "-id"), PER_PAGE).get_page(request.GET.get("halaman"))
    now = clock.now()
    oldest = inbox.oldest_waiting_since(visible)
    threads = [
        {
            "thread": thread,
            "sender": inbox.contact_label(thread.contact),
            "resident": inbox.thread_resident(thread),
            "preview": inbox.preview(thread.last_text or ""),
            "kind": InboundMessage.Kind(thread.last_kind).label if thread.last_kind else "",
            "waiting": inbox.age_text(now - thread.waiting_since) if thread.waiting_since else "",
        }
        for thread in page.object_list
    ]
    context = {
        "threads": threads,
        "page": page,
        "shown": shown,
        "tabs": [
            ("menunggu", _("Menunggu jawaban"), counts["menunggu"]),
            ("saya", _("Saya tangani"), counts["saya"]),
            ("semua", _("Semua"), counts["semua"]),
        ],
        "oldest_age": inbox.age_text(now - oldest) if oldest else None,
        "oldest_at": oldest,
    }
    template = "intake/thread_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


# --- a thread -----------------------------------------------------------------------------------------------


def _thread_or_404(request: HttpRequest, pk: int) -> Thread:
    thread = _thread_rows(request.user).select_related("office").filter(pk=pk).first()
    if thread is None:
        raise Http404
    return thread


def _requirement_choices(card_request) -> list[tuple[int, str, bool]]:
    """(id, name, missing) of the document requirements of a request's kind, the missing ones first."""
    missing = {r.pk for r in missing_documents(card_request)}
    requirements = Requirement.objects.filter(
        kind=card_request.kind, stage=Requirement.Stage.DOCUMENT, is_active=True
    ).order_by("position", "id")
    return sorted(((r.pk, r.name, r.pk in missing) for r in requirements), key=lambda choice: not choice[2])


def _thread_context(
    request: HttpRequest,
    thread: Thread,
    *,
    answer_form: AnswerForm | None = None,
    link_form: LinkResidentForm | None = None,
) -> dict:
    """The thread page; `answer_form` / `link_form` are a refused form posted from it, shown bound with its
    errors beside its field."""
    user = request.user
    now = clock.now()
    inbound = list(
        thread.messages.select_related("office_number", "card_request").order_by("-sent_at", "-id")[:THREAD_ITEMS]
    )
    outbound = list(inbox.thread_outbox(thread).order_by("-created_at", "-id")[:THREAD_ITEMS])
    resident = inbox.thread_resident(thread)
    media = [m for m in inbound if inbox.may_attach(m)]
    candidates = {}
    for message in media:
        candidates[message.pk] = inbox.attach_candidates(message, thread, user)
    requests = {c.pk: c for found in candidates.values() for c in found}
    attached = inbox.attached_to([m.pk for m in media], list(requests))
    requirements = {pk: _requirement_choices(c) for pk, c in requests.items()}
    may_attach = user.has_perm("cards.verify_cardrequest") or user.has_perm("cards.add_cardrequest")
    items = [
        {
            "at": m.sent_at,
            "pk": m.pk,
            "inbound": True,
            "message": m,
            "text": inbox.numbers_masked(m.text),
            "masked": inbox.has_long_number(m.text),
            "attached": attached.get(m.pk, []),
            "targets": [
                (c, requirements[c.pk])
                for c in candidates.get(m.pk, [])
                if may_attach and c not in attached.get(m.pk, [])
            ],
        }
        for m in inbound
    ]
    items += [
        {"at": n.created_at, "pk": n.pk, "inbound": False, "notification": n, "text": inbox.numbers_masked(n.text)}
        for n in outbound
    ]
    items.sort(key=lambda item: (item["at"], not item["inbound"], item["pk"]))
    number = inbox.reply_number(thread)
    open_requests = []
    if resident is not None:
        open_requests = list(resident.card_requests.visible_to(user).open().order_by("created_at"))
    return {
        "thread": thread,
        "sender": inbox.contact_label(thread.contact),
        "resident": resident,
        "open_requests": open_requests,
        "items": items,
        "reply_number": number,
        "mode": inbox.answer_mode(thread, number, now=now),
        "waiting": inbox.age_text(now - thread.waiting_since) if thread.waiting_since else "",
        "answer_form": answer_form or AnswerForm(),
        # The newest message the clerk has on screen: the answer covers it and those before, not one that
        # arrives while they type.
        "seen_up_to": max((m.pk for m in inbound), default=0),
        "link_form": (link_form or LinkResidentForm()) if user.has_perm("cards.verify_cardrequest") else None,
        "mine": thread.claimed_by_id == user.pk,
    }


@never_cache
@require_GET
@permission_required(VIEW, raise_exception=True)
def thread_detail(request: HttpRequest, pk: int) -> HttpResponse:
    thread = _thread_or_404(request, pk)
    return render(request, "intake/thread_detail.html", _thread_context(request, thread))


def _back(thread: Thread) -> HttpResponse:
    return redirect("intake:thread_detail", pk=thread.pk)


@require_POST
@permission_required(VIEW, raise_exception=True)
def thread_claim(request: HttpRequest, pk: int) -> HttpResponse:
    thread = _thread_or_404(request, pk)
    try:
        inbox.thread_claim(thread_id=thread.pk, by=request.user)
    except InboxError as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(request, _("Percakapan ini Anda tangani."))
    return _back(thread)


@require_POST
@permission_required(VIEW, raise_exception=True)
def thread_release(request: HttpRequest, pk: int) -> HttpResponse:
    thread = _thread_or_404(request, pk)
    try:
        inbox.thread_release(thread_id=thread.pk, by=request.user)
    except InboxError as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(request, _("Percakapan dilepas; petugas lain dapat mengambilnya."))
    return _back(thread)


@require_POST
@permission_required(VIEW, raise_exception=True)
def thread_answer(request: HttpRequest, pk: int) -> HttpResponse:
    thread = _thread_or_404(request, pk)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        # The page again with the answer as typed and the reason beside it; nothing is sent.
        context = _thread_context(request, thread, answer_form=form)
        return render(request, "intake/thread_detail.html", context, status=400)
    try:
        inbox.thread_answer(
            thread_id=thread.pk,
            by=request.user,
            text=form.cleaned_data["text"],
            seen_up_to=form.cleaned_data.get("seen_up_to"),
        )
    except InboxError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Jawaban disimpan dan segera dikirim."))
    return _back(thread)


@require_POST
@permission_required("cards.verify_cardrequest", raise_exception=True)
def thread_link_resident(request: HttpRequest, pk: int) -> HttpResponse:
    """Link the sender to a resident found by NIK (posted; the search is in the access log, found or not)."""
    thread = _thread_or_404(request, pk)
    form = LinkResidentForm(request.POST)
    if not form.is_valid():
        # The NIK's error beside the field (the NIK itself is not sent back: LinkResidentForm's widget).
        context = _thread_context(request, thread, link_form=form)
        return render(request, "intake/thread_detail.html", context, status=400)
    nik = form.cleaned_data["nik"]
    resident = Resident.objects.visible_to(request.user).filter(nik=nik).first()
    access_log_record(
        request,
        action=AccessLog.Action.SEARCH_NIK,
        resident=resident,
        detail=system_text(
            gettext_noop("Hubungkan pengirim percakapan #%(id)d dengan NIK %(masked)s"),
            id=thread.pk,
            masked=mask_number(nik),
        ),
    )
    if resident is None:
        messages.error(request, _("NIK tidak ditemukan di wilayah kerja Anda."))
        return _back(thread)
    try:
        inbox.thread_link_resident(
            thread_id=thread.pk, resident_id=resident.pk, by=request.user, client_address=client_ip(request) or ""
        )
    except (InboxError, CardRequestError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Pengirim dihubungkan dengan %(name)s.") % {"name": resident.full_name})
    return _back(thread)


# --- a message ----------------------------------------------------------------------------------------------


def _message_or_404(request: HttpRequest, pk: int) -> InboundMessage:
    message = (
        inbox.messages_visible_to(request.user)
        .select_related("thread", "contact")
        .filter(pk=pk, thread__in=inbox.threads_visible_to(request.user))
        .first()
    )
    if message is None:
        raise Http404
    return message


@require_GET
@permission_required(VIEW, raise_exception=True)
def message_media(request: HttpRequest, pk: int) -> FileResponse:
    """The photo or document a resident sent, only to staff of the thread's office, and every opening is
    logged (as a request's attachments are)."""
    message = _message_or_404(request, pk)
    if not message.media_file:
        raise Http404
    try:
        handle = message.media_file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    resident = inbox.thread_resident(message.thread)
    access_log_record(
        request,
        action=AccessLog.Action.VIEW_ATTACHMENT,
        resident=resident,
        detail=system_text(
            gettext_noop("Berkas pesan masuk #%(id)d (%(kind)s) di kotak pesan"),
            id=message.pk,
            kind=message.get_kind_display(),
        ),
    )
    inline = message.media_type in INLINE_TYPES
    suffix = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(message.media_type, "bin")
    response = FileResponse(
        handle,
        content_type=message.media_type if inline else "application/octet-stream",
        as_attachment=not inline or request.GET.get("unduh") == "1",
        filename=f"pesan-{message.pk}.{suffix}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; object-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@permission_required(VIEW, raise_exception=True)
def message_attach(request: HttpRequest, pk: int) -> HttpResponse:
    """One click: the message's photo or document becomes an attachment of the resident's request."""
    message = _message_or_404(request, pk)
    if not (request.user.has_perm("cards.verify_cardrequest") or request.user.has_perm("cards.add_cardrequest")):
        raise PermissionDenied
    form = AttachForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Permintaan tidak lengkap; muat ulang halaman."))
        return _back(message.thread)
    try:
        attachment = inbox.message_attach(
            message_id=message.pk,
            card_request_id=form.cleaned_data["card_request"],
            requirement_id=form.cleaned_data["requirement"],
            by=request.user,
        )
    except (InboxError, CardRequestError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Dilampirkan ke permohonan %(number)s.") % {"number": attachment.card_request.number},
        )
    return _back(message.thread)


@require_POST
@permission_required("registry.reveal_nik", raise_exception=True)
def message_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """A message's text with its numbers unmasked (a NIK the resident typed), once, in the access log."""
    message = _message_or_404(request, pk)
    with transaction.atomic():
        access_log_record(
            request,
            action=AccessLog.Action.REVEAL_NIK,
            resident=inbox.thread_resident(message.thread),
            detail=system_text(gettext_noop("Isi lengkap pesan masuk #%(id)d dibuka di kotak pesan"), id=message.pk),
        )
    if request.htmx:
        return render(request, "intake/_message_revealed.html", {"message": message})
    return render(
        request,
        "intake/thread_detail.html",
        _thread_context(request, message.thread) | {"revealed": message.pk, "revealed_text": message.text},
    )
