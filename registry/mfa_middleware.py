"""The second factor, enforced on every page: a session that still owes its code (or, with MFA_REQUIRED, a
device) reaches nothing but the second-factor pages, login/logout, the language switch and /healthz. Static
files never get here (WhiteNoise serves them first). The admin site is covered like any other page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from registry.mfa import mfa_next_step

# Views a session owing its second factor may still reach, by URL name.
MFA_OPEN_VIEWS = frozenset(
    {
        "login",
        "logout",
        "admin:logout",
        "set_language",
        "healthz",
        "registry:mfa_verify",
        "registry:mfa_enrol",
    }
)
STEP_URLS = {"verify": "registry:mfa_verify", "enrol": "registry:mfa_enrol"}


class MfaRequiredMiddleware:
    """Sends a signed-in session that owes its second factor to the code page (or the enrolment page), with
    the page it asked for as `next`. Runs after OTPMiddleware (request.user.is_verified) and
    LoginRequiredMiddleware (anonymous visitors already went to the login page)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        match = request.resolver_match
        if match is not None and match.view_name in MFA_OPEN_VIEWS:
            return None
        step = mfa_next_step(request.user, session=request.session)
        if step is None:
            return None
        url = reverse(STEP_URLS[step])
        if request.method == "GET":
            url = f"{url}?{urlencode({'next': request.get_full_path()})}"
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(url)
        return HttpResponseRedirect(url)
