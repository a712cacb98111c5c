"""A password an administrator set is the owner's for one login only: a session of an account with
`password_change_required` reaches nothing but the password page, the second-factor pages, logout, the
language switch and /healthz, until its owner chose their own (registry/password_views.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from registry.mfa_middleware import MFA_OPEN_VIEWS

PASSWORD_OPEN_VIEWS = MFA_OPEN_VIEWS | {"registry:password_change"}


class PasswordChangeRequiredMiddleware:
    """Sends a signed-in account that must change its password to the password page (after the second
    factor: MfaRequiredMiddleware runs first), with the page it asked for as `next`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if not getattr(request.user, "password_change_required", False):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in PASSWORD_OPEN_VIEWS:
            return None
        url = reverse("registry:password_change")
        if request.method == "GET":
            url = f"{url}?{urlencode({'next': request.get_full_path()})}"
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(url)
        return HttpResponseRedirect(url)
