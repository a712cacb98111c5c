"""The home page: today's work for the signed-in staff member (delivery/home.py computes the figures)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from delivery.home import home_sections
from registry.filters import ResidentFilter
from registry.models import Resident


@never_cache
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Today's figures for the user's permissions, each a link to the list behind it, and the resident search."""
    user = request.user
    context = {
        "office": user.office,
        "sections": home_sections(user=user),
        "search": ResidentFilter(None, queryset=Resident.objects.none(), user=user),
    }
    return render(request, "home/home.html", context)
