"""Documents residents take home (invitation letters, suket): A4 PDFs rendered by WeasyPrint from Django
templates. Personal data leaves the system on paper, so every one is logged."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from registry.models import AccessLog, Resident
from registry.views import client_ip


def pdf_response(
    request: HttpRequest, *, template: str, context: dict, resident: Resident, detail: str, filename: str
) -> HttpResponse:
    import weasyprint  # imported when a PDF is made: Pango loads with it

    html = render_to_string(template, context)
    pdf = weasyprint.HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    AccessLog.objects.create(
        user=request.user,
        action=AccessLog.Action.EXPORT,
        resident=resident,
        ip_address=client_ip(request),
        detail=detail,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
