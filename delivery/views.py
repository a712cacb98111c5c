"""Suket pages: issue from the request page, the A4 PDF, and the public page its QR leads to."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cards.models import CardRequest
from delivery.models import Suket
from delivery.services import DeliveryError, suket_issue, suket_problem
from messaging.system_text import system_text
from registry import clock
from registry.scoping import get_visible_or_404
from registry.web import pdf_response, qr_svg


def suket_context(user, card_request: CardRequest) -> dict:
    """What the request page shows about suket: the ones issued, and the button when the service would issue."""
    sukets = list(Suket.objects.filter(card_request=card_request))
    can_issue = user.has_perm("delivery.add_suket") and suket_problem(card_request) is None
    return {"sukets": sukets, "can_issue_suket": can_issue}


@require_POST
@permission_required("delivery.add_suket", raise_exception=True)
def suket_create(request: HttpRequest, pk: int) -> HttpResponse:
    card_request = get_visible_or_404(CardRequest.objects.all(), request.user, pk=pk)
    try:
        suket = suket_issue(card_request_id=card_request.pk, by=request.user)
    except DeliveryError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Suket %(number)s diterbitkan.") % {"number": suket.number})
    return redirect("cards:cardrequest_detail", pk=card_request.pk)


@require_GET
@permission_required("delivery.view_suket", raise_exception=True)
def suket_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The suket on A4 (WeasyPrint), with a QR to its public verification page. The download is logged."""

    suket = (
        Suket.objects.select_related("resident", "resident__desa", "resident__kecamatan", "office", "card_request")
        .filter(pk=pk, card_request__in=CardRequest.objects.visible_to(request.user))
        .first()
    )
    if suket is None:
        raise Http404
    verify_url = request.build_absolute_uri(reverse("delivery:suket_verify", args=[suket.verify_code]))
    return pdf_response(
        request,
        template="delivery/suket.html",
        context={"suket": suket, "resident": suket.resident, "qr": qr_svg(verify_url, scale=3)},
        resident=suket.resident,
        detail=system_text(gettext_noop("Suket %(number)s (PDF)"), number=suket.number),
        filename=f"{suket.number}.pdf",
    )


@login_not_required
@never_cache
@require_GET
def suket_verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public: is this suket genuine and valid today? Shows only its number, the holder's name with a masked
    NIK, the office and the dates."""
    suket = Suket.objects.select_related("resident", "office").filter(verify_code=code).first()
    today = clock.today(suket.office if suket else None)
    return render(
        request,
        "delivery/suket_verify.html",
        {"suket": suket, "valid": bool(suket and suket.is_valid_on(today)), "today": today},
        status=200 if suket else 404,
    )
