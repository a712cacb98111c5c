"""An account's own password (`registry:password_change`): the old one, then the new one twice. Whoever was given
a password by an administrator (a new account, a reset) is sent here before any other page
(registry/password_middleware.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from registry.staff import staff_own_password_change


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=False):
        next_url = ""
    if request.method == "POST" and form.is_valid():
        user = staff_own_password_change(user=request.user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, user)  # this session stays signed in; the others end
        messages.success(request, _("Kata sandi Anda diganti."))
        return redirect(next_url or "home")
    context = {"form": form, "required": request.user.password_change_required, "next": next_url}
    if context["required"]:
        context["nav_items"] = []  # every other page would send them back here
    return render(request, "registry/password_change.html", context, status=400 if form.errors else 200)
