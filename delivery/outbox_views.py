"""Messages that could not be delivered ("Pesan gagal terkirim"): dead and failed messages in the user's scope,
the outbox's pending and dead counts, and "Kirim ulang" (one message, those ticked, or the whole page)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from delivery import outbox, tasks
from messaging.models import Notification

# Whoever follows requests up (clerks, UPTD operators) sees what their residents were not told, and resends it.
PERMISSION = "cards.view_cardrequest"
PAGE_SIZE = 50
RESEND_MAX = 500


class OutboxFilter(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Semua yang gagal")), *[(s.value, s.label) for s in outbox.FAILED_STATUSES]],
    )


def masked_address(row: Notification) -> str:
    """What the page shows of the recipient: the contact's mask, else the number with its middle hidden."""
    if row.contact_id:
        return row.contact.address_masked
    number = row.recipient
    return f"{number[:4]}****{number[-3:]}" if len(number) > 7 else "****"


@never_cache
@require_GET
@permission_required(PERMISSION, raise_exception=True)
def outbox_list(request: HttpRequest) -> HttpResponse:
    """Dead and failed messages in scope, the newest first, with the outbox's counts."""
    form = OutboxFilter(request.GET or None)
    status = form.cleaned_data.get("status") if form.is_valid() else ""
    queryset = (
        outbox.notifications_visible_to(request.user)
        .filter(status__in=[status] if status else outbox.FAILED_STATUSES)
        .select_related("contact", "resident", "card_request")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(row, masked_address(row)) for row in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "delivery/outbox_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "counts": outbox.outbox_counts(request.user),
            "query": query.urlencode(),
        },
    )


@require_POST
@permission_required(PERMISSION, raise_exception=True)
def outbox_resend(request: HttpRequest) -> HttpResponse:
    """Send dead or failed messages again (those in scope and still dead or failed; others are ignored), then
    hand them to the worker."""
    ids = sorted({int(value) for value in request.POST.getlist("notification") if value.isdigit()})[:RESEND_MAX]
    taken = outbox.notifications_resend(ids=ids, by=request.user) if ids else []
    if taken:
        tasks.notifications_enqueue(taken)
        messages.success(
            request,
            ngettext("%(n)d pesan dikirim ulang.", "%(n)d pesan dikirim ulang.", len(taken)) % {"n": len(taken)},
        )
    else:
        messages.warning(request, _("Tidak ada pesan yang dapat dikirim ulang."))
    # Back to the page the clerk was on (only the list's own parameters are carried).
    back = QueryDict(request.POST.get("query", ""), mutable=True)
    kept = QueryDict(mutable=True)
    for key in ("status", "page"):
        if back.get(key, "").isalnum():
            kept[key] = back[key]
    target = redirect("delivery:outbox_list")
    if kept:
        target["Location"] += f"?{kept.urlencode()}"
    return target
