"""Session idle timeout, enforced server-side as well as by the cookie's age."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect

from registry import clock

LAST_SEEN_KEY = "last_seen"
# Sent by elements that poll on their own (hx-headers='{"X-Poll": "1"}' beside hx-trigger="every ..."): a page
# left open is not a staff member at work.
POLL_HEADER = "X-Poll"


class IdleSessionTimeoutMiddleware:
    """Logs a staff member out after SESSION_IDLE_TIMEOUT seconds without a request of their own.

    Polling requests (POLL_HEADER) are checked like any other but do not count as activity, so an import page
    left open does not keep the session alive. The server-side check is what ends the session: every request
    of an authenticated session passes here, whatever the cookie or the session row's expiry say (with
    SESSION_EXPIRE_AT_BROWSER_CLOSE the cookie has no expiry of its own for SAVE_EVERY_REQUEST to extend)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(clock.now().timestamp())
            last_seen = request.session.get(LAST_SEEN_KEY, now)
            if now - last_seen > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                # Anonymous from here on: LoginRequiredMiddleware already ran, so send to login now.
                to_login = redirect_to_login(request.get_full_path())
                if request.headers.get("HX-Request"):
                    # htmx would swap the login page into the polled fragment: send the whole tab there.
                    return HttpResponseClientRedirect(to_login.url)
                return to_login
            if LAST_SEEN_KEY not in request.session or not request.headers.get(POLL_HEADER):
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


class LanguageMiddleware:
    """Bahasa Indonesia unless the staff member chose English with the switch (language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language, and office PCs often run an
    English browser; the office language is Indonesian.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response
