"""Staff accounts in the app, for an office's administrator (registry/staff.py holds the rules): the list with
its filters, add, edit (name, role, office), deactivate and reactivate, set a new password, lift a login
lockout. Every page answers 403 to whoever does not manage accounts, and 404 for an account outside the
manager's scope; a refused form comes back with its errors beside the fields (400) and nothing changed."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from registry import mfa, staff
from registry.models import Role, User
from registry.staff_forms import StaffCreateForm, StaffEditForm, StaffFilterForm, StaffPasswordForm
from registry.web import client_ip

PAGE_SIZE = 50
# The password just set or generated, shown once on the account's page and then forgotten (server-side session).
ONCE_SESSION_KEY = "staff_password_once"


def _manager(request: HttpRequest) -> User:
    if not staff.staff_may_manage(request.user):
        raise PermissionDenied
    return request.user


def _account(request: HttpRequest, pk: int) -> User:
    return get_object_or_404(staff.staff_visible_to(_manager(request)).select_related("office"), pk=pk)


def _show_once(request: HttpRequest, account: User, password: str) -> None:
    request.session[ONCE_SESSION_KEY] = {"account": account.pk, "password": password}


@never_cache
@require_http_methods(["GET"])
def staff_list(request: HttpRequest) -> HttpResponse:
    """The accounts of the manager's scope: name, username, role, office, active, last login, 2FA, locked out."""
    user = _manager(request)
    form = StaffFilterForm(request.GET or None, user=user)
    accounts = staff.staff_list_annotated(staff.staff_visible_to(user))
    if form.is_valid():
        data = form.cleaned_data
        if q := data["q"].strip():
            accounts = accounts.filter(
                Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q)
            )
        if data["role"]:
            accounts = accounts.filter(role=data["role"])
        if data["office"] is not None:
            accounts = accounts.filter(office=data["office"])
        status = data["status"]
        if status == "active":
            accounts = accounts.filter(is_active=True)
        elif status == "inactive":
            accounts = accounts.filter(is_active=False)
        elif status == "locked":
            accounts = accounts.filter(locked_out=True)
        elif status == "no_mfa":
            accounts = accounts.filter(has_mfa=False, is_active=True)
        attention = data["perhatian"]
        if attention == "belum-masuk":
            accounts = accounts.filter(is_active=True, last_login__isnull=True)
        elif attention == "terkunci":
            accounts = accounts.filter(is_active=True, locked_out=True)
        elif attention == "tanpa-2fa":
            accounts = accounts.filter(is_active=True, role__in=mfa.MFA_ROLES, has_mfa=False)
    accounts = accounts.order_by("-is_active", "office__region_id", "username")
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "registry/staff_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "mfa_roles": mfa.MFA_ROLES},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def staff_create(request: HttpRequest) -> HttpResponse:
    """Add an account at an office of the scope, with a role and a password typed or generated (shown once)."""
    user = _manager(request)
    form = StaffCreateForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        password, generated = form.password_chosen()
        try:
            account = staff.staff_create(
                by=user,
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=data["role"],
                office=data["office"],
                password=password,
                client_address=client_ip(request),
            )
        except staff.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            if generated:
                _show_once(request, account, password)
            messages.success(request, _("Akun %(username)s dibuat.") % {"username": account.username})
            return redirect("registry:staff_edit", pk=account.pk)
    return render(request, "registry/staff_create.html", {"form": form}, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """One account: its name, role and office (not one's own role and office), and the actions on it."""
    user = _manager(request)
    account = _account(request, pk)
    form = StaffEditForm(request.POST or None, user=user, account=account)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            staff.staff_update(
                by=user,
                account_id=account.pk,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=data["role"],
                office=data["office"],
                client_address=client_ip(request),
            )
        except staff.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Akun %(username)s disimpan.") % {"username": account.username})
            return redirect("registry:staff_edit", pk=account.pk)
    once = request.session.pop(ONCE_SESSION_KEY, None)
    shown_password = once["password"] if once and once.get("account") == account.pk else None
    annotated = staff.staff_list_annotated(User.objects.filter(pk=account.pk)).get()
    context = {
        "account": annotated,
        "form": form,
        "shown_password": shown_password,
        "is_self": account.pk == user.pk,
        "password_problem": staff.staff_password_problem(by=user, account=account),
        "can_reset_mfa": mfa.mfa_resettable_accounts(by=user).filter(pk=account.pk).exists(),
        "mfa_required": account.role in mfa.MFA_ROLES,
        "Role": Role,
    }
    response = render(request, "registry/staff_edit.html", context, status=400 if form.errors else 200)
    if shown_password:
        response["Cache-Control"] = "no-store"
    return response


def _active_set(request: HttpRequest, pk: int, *, active: bool) -> HttpResponse:
    account = _account(request, pk)
    try:
        staff.staff_active_set(by=request.user, account_id=account.pk, active=active, client_address=client_ip(request))
    except staff.StaffError as exc:
        messages.error(request, str(exc))
    else:
        text = (
            _("Akun %(username)s diaktifkan kembali.")
            if active
            else _("Akun %(username)s dinonaktifkan: tidak dapat masuk lagi.")
        )
        messages.success(request, text % {"username": account.username})
    return redirect("registry:staff_edit", pk=account.pk)


@require_POST
def staff_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _active_set(request, pk, active=False)


@require_POST
def staff_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _active_set(request, pk, active=True)


@never_cache
@require_http_methods(["GET", "POST"])
def staff_password_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """A new password for an account below the manager's role (typed twice, or generated and shown once)."""
    user = _manager(request)
    account = _account(request, pk)
    problem = staff.staff_password_problem(by=user, account=account)
    form = StaffPasswordForm(request.POST or None, account=account)
    if request.method == "POST" and problem is None and form.is_valid():
        password, generated = form.password_chosen()
        try:
            staff.staff_password_set(
                by=user, account_id=account.pk, password=password, client_address=client_ip(request)
            )
        except staff.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            if generated:
                _show_once(request, account, password)
            messages.success(request, _("Kata sandi akun %(username)s diganti.") % {"username": account.username})
            return redirect("registry:staff_edit", pk=account.pk)
    status = 403 if problem and request.method == "POST" else 400 if form.errors else 200
    return render(
        request, "registry/staff_password.html", {"account": account, "form": form, "problem": problem}, status=status
    )


@require_POST
def staff_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    """Lift the account's login lockout before its cool-off ends."""
    account = _account(request, pk)
    removed = staff.staff_unlock(by=request.user, account_id=account.pk, client_address=client_ip(request))
    if removed:
        messages.success(request, _("Akun %(username)s dapat masuk lagi.") % {"username": account.username})
    else:
        messages.info(request, _("Akun %(username)s tidak sedang terkunci.") % {"username": account.username})
    return redirect("registry:staff_edit", pk=account.pk)
