"""Second-factor pages: the code after the password, enrolling an authenticator app, the account's 2FA page, and
an administrator's reset of another account's lost device."""

from __future__ import annotations

from base64 import b32encode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from messaging.system_text import system_text
from registry import mfa
from registry.models import AccessLog
from registry.web import access_log_record, qr_svg


class MfaCodeForm(forms.Form):
    token = forms.RegexField(
        label=gettext_lazy("Kode 6 digit"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": gettext_lazy("Masukkan 6 angka dari aplikasi autentikator.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "maxlength": 12}
        ),
    )


def _next_url(request: HttpRequest) -> str:
    """Where to go once the second factor is done: the page first asked for, if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    own_pages = (reverse("registry:mfa_verify"), reverse("registry:mfa_enrol"))  # never back to itself
    hosts = {request.get_host()}
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts=hosts, require_https=request.is_secure())
    if target and safe and not target.startswith(own_pages):
        return target
    return reverse("home")


def _verified(request: HttpRequest, device: TOTPDevice) -> HttpResponse:
    # A new session key for the stronger session (as the password login did for the weaker one).
    request.session.cycle_key()
    otp_login(request, device)
    return HttpResponseRedirect(_next_url(request))


def _secret_in_groups(device: TOTPDevice) -> str:
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """The 6-digit code of the account's authenticator app, after the password."""
    user = request.user
    if mfa.mfa_next_step(user) != "verify":
        return HttpResponseRedirect(_next_url(request))
    form = MfaCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = mfa.mfa_verify(user=user, token=form.cleaned_data["token"])
        except mfa.MfaError as exc:
            form.add_error("token", str(exc))
        else:
            return _verified(request, device)
    context = {"form": form, "next": _next_url(request), "nav_items": []}
    return render(request, "registry/mfa_verify.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code (or type the secret), confirm with a first code."""
    user = request.user
    try:
        device = mfa.mfa_enrolment_device(user=user)
    except mfa.MfaDeviceExists as exc:
        if mfa.mfa_next_step(user) == "verify":  # the password alone never reaches a new device
            return HttpResponseRedirect(f"{reverse('registry:mfa_verify')}?{urlencode({'next': _next_url(request)})}")
        messages.info(request, str(exc))
        return HttpResponseRedirect(reverse("registry:mfa_account"))
    form = MfaCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = mfa.mfa_enrolment_confirm(user=user, token=form.cleaned_data["token"])
        except mfa.MfaError as exc:
            form.add_error("token", str(exc))
        else:
            messages.success(request, _("Autentikasi dua langkah aktif. Setiap masuk, Anda akan diminta kodenya."))
            return _verified(request, device)
    required = mfa.mfa_next_step(user) == "enrol"
    context = {
        "form": form,
        "next": _next_url(request),
        "qr": qr_svg(device.config_url, scale=5),
        "secret": _secret_in_groups(device),
        "required": required,
    }
    if required:
        context["nav_items"] = []  # every other page would send them back here
    return render(request, "registry/mfa_enrol.html", context)


@never_cache
@require_http_methods(["GET"])
def mfa_account(request: HttpRequest) -> HttpResponse:
    """The account's second factor, and for an administrator the devices of the accounts they may reset."""
    user = request.user
    devices = []
    if mfa.mfa_can_reset(user):
        devices = (
            TOTPDevice.objects.filter(confirmed=True, user__in=mfa.mfa_resettable_accounts(by=user))
            .select_related("user", "user__office")
            .order_by("user__username")
        )
    context = {
        "device": mfa.mfa_confirmed_device(user),
        "needs_device": mfa.mfa_role_needs_device(user),
        "can_reset": mfa.mfa_can_reset(user),
        "devices": devices,
    }
    return render(request, "registry/mfa_account.html", context)


@require_POST
def mfa_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove another account's device (a lost phone); audited as a staff change."""
    if not mfa.mfa_can_reset(request.user):
        raise PermissionDenied
    account = get_object_or_404(mfa.mfa_resettable_accounts(by=request.user), pk=pk)
    with transaction.atomic():
        removed = mfa.mfa_device_reset(account=account, by=request.user)
        access_log_record(
            request,
            action=AccessLog.Action.STAFF_CHANGE,
            detail=system_text(
                gettext_noop("2FA direset: akun %(username)s (%(removed)s perangkat dihapus)"),
                username=account.username,
                removed=removed,
            ),
        )
    messages.success(
        request,
        _("Autentikasi dua langkah akun %(username)s direset; akun itu mendaftarkan aplikasinya lagi saat masuk.")
        % {"username": account.username},
    )
    return HttpResponseRedirect(reverse("registry:mfa_account"))
