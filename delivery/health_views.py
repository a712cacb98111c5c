"""The public /healthz endpoint for load balancers and monitoring."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from delivery.health import health_report


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Public liveness/readiness: database and broker reachable (200), else 503; also 503 "probing" while
    another thread makes the process's first probe. Never waits for another request's probe. No personal data."""
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
