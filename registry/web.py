"""Web helpers every app's views share: the client's address behind a proxy, the access-log record, inline QR
codes and A4 PDF responses. They live in the lowest app that has views, so no app imports another's views."""

from __future__ import annotations

import ipaddress

import segno
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from registry.models import AccessLog, Resident


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, the one helper for the access log and the login lockout (AXES_CLIENT_IP_CALLABLE).

    Behind `TRUSTED_PROXY_COUNT` (DJANGO_TRUSTED_PROXY_COUNT) reverse proxies, the address the outermost trusted
    proxy saw: the N-th entry from the right of X-Forwarded-For. A client cannot forge it by sending its own
    header, because only the entries the proxies appended are read; whatever the client put on the left is
    ignored. When the header has fewer entries than proxies, or that entry is not an address, the direct peer
    (REMOTE_ADDR) is recorded rather than a value the client may have chosen."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops and _is_address(forwarded[-hops]):
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or None


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def access_log_record(
    request: HttpRequest, *, action: str, detail: str, resident: Resident | None = None, resident_id: int | None = None
) -> AccessLog:
    """One row of the access audit: who, when, from where, which resident, what; chained to the row before it."""
    return AccessLog.objects.append(
        user=request.user,
        action=action,
        resident=resident,
        resident_id=resident_id,
        ip_address=client_ip(request),
        detail=detail,
    )


def qr_svg(text: str, *, scale: int = 4) -> SafeString:
    """An inline SVG QR code (segno), for tickets, letters and suket printed on the office printer."""
    return mark_safe(segno.make(text, error="m").svg_inline(scale=scale, border=2))  # noqa: S308 (segno's own SVG)


def pdf_response(
    request: HttpRequest, *, template: str, context: dict, resident: Resident | None, detail: str, filename: str
) -> HttpResponse:
    """An A4 PDF rendered by WeasyPrint from a template. Personal data leaves the system on paper, so every
    one is logged."""
    import weasyprint  # loads Pango: only the processes that make PDFs pay for it

    html = render_to_string(template, context)
    pdf = weasyprint.HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    access_log_record(request, action=AccessLog.Action.EXPORT, resident=resident, detail=detail)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
