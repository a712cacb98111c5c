"""Staff accounts managed in the app by an office's administrator: who may manage whom, and every change.

The Django admin is for platform operators; an office's administrator manages the accounts of its office and
its UPTDs here (registry/staff_views.py), and the admin's StaffAdmin uses the same rules (`staff_visible_to`,
`staff_password_problem`). Every change is a STAFF_CHANGE row of the access log, written in the transaction
that makes it: a role or office through `staff_assign_role` (registry/roles.py), the rest here.

Rules:
- An administrator sees the non-superuser accounts of the offices in its scope (a kabupaten: its Disdukcapil
  and UPTDs); a platform superuser (no office) sees every account. Nobody else manages accounts.
- Nobody changes their own role or office, deactivates themselves, or sets their own password here.
- Outside the platform, passwords are set for the roles below the editor's: never a peer administrator's.
"""

from __future__ import annotations

import secrets

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_otp.plugins.otp_totp.models import TOTPDevice

from messaging.system_text import system_text, system_text_join
from registry import clock
from registry.models import AccessLog, Office, Role, User
from registry.roles import is_platform_superuser, role_office_error, staff_assign_role

MANAGE_PERMISSIONS = ("registry.add_user", "registry.change_user")
# Generated passwords: no look-alike characters (0/O, 1/l/I), read out over the phone or written on paper.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 (an alphabet)
GENERATED_PASSWORD_LENGTH = 12


class StaffError(ValueError):
    """A change to a staff account refused; the message says why, for the administrator."""


def staff_may_manage(user: User) -> bool:
    """Whether `user` manages staff accounts (the permissions of the administrator role, or a platform
    superuser): the gate of every staff page."""
    return bool(user.is_active and (is_platform_superuser(user) or user.has_perms(MANAGE_PERMISSIONS)))


def staff_visible_to(user: User) -> QuerySet[User]:
    """The accounts `user` may see and manage: every account for a platform superuser; otherwise the accounts
    of the offices in `user`'s scope, superusers excepted (they are the platform's, even one attached to an
    office of the scope). Nothing for a user who does not manage accounts."""
    if is_platform_superuser(user):
        return User.objects.all()
    if not staff_may_manage(user) or user.office_id is None:
        return User.objects.none()
    return User.objects.filter(office__in=Office.objects.visible_to(user), is_superuser=False)


def staff_offices_for(user: User) -> QuerySet[Office]:
    """The offices `user` may place an account at: the active offices of its scope."""
    return Office.objects.visible_to(user).filter(is_active=True).select_related("region").order_by("region_id")


def staff_list_annotated(queryset: QuerySet[User]) -> QuerySet[User]:
    """Accounts with what the list shows beside them, in one query: a confirmed second factor (`has_mfa`) and
    a login lockout still running (`locked_out`: AXES_FAILURE_LIMIT failures within the cool-off, from any
    address)."""
    attempts = AccessAttempt.objects.filter(
        username=OuterRef("username"), failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    )
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=clock.now() - settings.AXES_COOLOFF_TIME)
    return queryset.select_related("office").annotate(
        has_mfa=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        locked_out=Exists(attempts),
    )


def staff_password_problem(*, by: User, account: User) -> str | None:
    """Why `by` may not set `account`'s password, or None. Outside the platform, passwords are set for the
    roles below the editor's: never a peer administrator's, nor one's own (that is the account's own
    "change password", which asks for the old one)."""
    if is_platform_superuser(by):
        return None
    if account.pk == by.pk:
        return _("Kata sandi Anda sendiri diganti lewat halaman ganti kata sandi, dengan kata sandi lama.")
    if account.role == Role.ADMINISTRATOR or account.is_superuser:
        return _("Kata sandi administrator lain hanya dapat diatur oleh operator platform.")
    return None


def staff_role_problem(*, by: User, account: User) -> str | None:
    """Why `by` may not change `account`'s role or office, or None. Outside the platform, a peer administrator's
    role and office are the platform's, like their password: demoting a peer would put their password within
    reach of a reset (`staff_password_problem`), and promoting them back would hand the account over. One's own
    role and office are refused by `staff_update` (and read-only in the forms)."""
    if is_platform_superuser(by) or account.pk == by.pk:
        return None
    if account.role == Role.ADMINISTRATOR or account.is_superuser:
        return _("Peran dan kantor administrator lain hanya dapat diubah oleh operator platform.")
    return None


def staff_password_generate() -> str:
    """A random password that passes the project's validators (10 characters at least, not only digits)."""
    while True:
        password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(GENERATED_PASSWORD_LENGTH))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _detail(msgid: str, /, **params: object) -> str:
    """An access-log detail: stored as its message id and parameters, read in the reader's language."""
    return system_text(msgid, **params)


def _record(*, by: User, client_address: str | None, detail: str) -> None:
    """The STAFF_CHANGE row (`detail` a system text: stored as a key, read in the reader's language)."""
    AccessLog.objects.append(
        user=by, action=AccessLog.Action.STAFF_CHANGE, resident=None, ip_address=client_address, detail=detail
    )


def staff_password_change_detail(*, account: User, disabled: bool) -> str:
    """The access log's words for a password set (or disabled) on another account."""
    if disabled:
        msgid = gettext_noop("Kata sandi dinonaktifkan: akun %(username)s (#%(id)s)")
    else:
        msgid = gettext_noop("Kata sandi diganti: akun %(username)s (#%(id)s)")
    return _detail(msgid, username=account.username, id=account.pk)


def _locked(*, by: User, pk: int) -> User:
    """The account, locked for the change, if `by` may manage it; StaffError otherwise (the views look the
    account up through `staff_visible_to` first, so this only fails on a race or a direct call)."""
    account = staff_visible_to(by).select_for_update(of=("self",)).filter(pk=pk).first()
    if account is None:
        raise StaffError(_("Akun ini tidak ada di wilayah Anda."))
    return account


def staff_create(
    *,
    by: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: Role | str,
    office: Office,
    password: str,
    client_address: str | None,
) -> User:
    """Add an account at an office of `by`'s scope with a role and an initial password.

    The owner must choose their own password at the first login (`password_change_required`).

    Invariants: the office is in `by`'s scope and fits the role (`role_office_error`); the username is free
    (case-insensitively, as the login form matches it); the account and its STAFF_CHANGE row (role - → role,
    office - → office, written by `staff_assign_role`) are one transaction."""
    if not staff_may_manage(by):
        raise StaffError(_("Anda tidak berwenang mengelola akun petugas."))
    if not staff_offices_for(by).filter(pk=office.pk).exists():
        raise StaffError(_("Kantor itu tidak ada di wilayah Anda."))
    if error := role_office_error(role=role, office=office):
        raise StaffError(error)
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise StaffError(_("Nama pengguna itu sudah dipakai."))
        account = User(
            username=username,
            first_name=first_name,
            last_name=last_name,
            email=email,
            password_change_required=True,
        )
        account.set_password(password)
        account.save()
        staff_assign_role(user=account, role=role, office=office, by=by, client_address=client_address)
    return account


def staff_update(
    *,
    by: User,
    account_id: int,
    first_name: str,
    last_name: str,
    email: str,
    role: Role | str,
    office: Office,
    client_address: str | None,
) -> User:
    """Change an account's name, e-mail, role and office.

    Invariants: nobody changes their own role or office, nor (outside the platform) a peer administrator's
    (`staff_role_problem`); the new office is in `by`'s scope and fits the role;
    a role or office change is a STAFF_CHANGE row (`staff_assign_role`), a name or e-mail change one of its own,
    in the same transaction."""
    with transaction.atomic():
        account = _locked(by=by, pk=account_id)
        if account.pk == by.pk and (Role(role) != account.role or office.pk != account.office_id):
            raise StaffError(_("Anda tidak dapat mengubah peran atau kantor akun Anda sendiri."))
        if (Role(role) != account.role or office.pk != account.office_id) and (
            problem := staff_role_problem(by=by, account=account)
        ):
            raise StaffError(problem)
        if office.pk != account.office_id and not staff_offices_for(by).filter(pk=office.pk).exists():
            raise StaffError(_("Kantor itu tidak ada di wilayah Anda."))
        if error := role_office_error(role=role, office=office):
            raise StaffError(error)
        changed = [
            name
            for name, value in (("first_name", first_name), ("last_name", last_name), ("email", email))
            if getattr(account, name) != value
        ]
        if changed:
            account.first_name, account.last_name, account.email = first_name, last_name, email
            account.save(update_fields=changed)
            _record(
                by=by,
                client_address=client_address,
                detail=_detail(
                    gettext_noop("Data akun %(username)s (#%(id)s) diubah: %(fields)s"),
                    username=account.username,
                    id=account.pk,
                    fields=system_text_join([User._meta.get_field(name).verbose_name for name in changed], ", "),
                ),
            )
        staff_assign_role(user=account, role=role, office=office, by=by, client_address=client_address)
    return account


def staff_active_set(*, by: User, account_id: int, active: bool, client_address: str | None) -> User:
    """Deactivate an account (it can no longer sign in, and its open sessions end at their next request:
    StaffBackend.get_user refuses an inactive account) or reactivate it.

    Invariants: nobody deactivates themselves; the change is a compare-and-set on `is_active`, so two
    administrators clicking at once make one change and one STAFF_CHANGE row."""
    with transaction.atomic():
        account = _locked(by=by, pk=account_id)
        if account.pk == by.pk:
            raise StaffError(_("Anda tidak dapat menonaktifkan akun Anda sendiri."))
        if User.objects.filter(pk=account.pk, is_active=not active).update(is_active=active) != 1:
            raise StaffError(
                _("Akun itu sudah aktif.") if active else _("Akun itu sudah nonaktif."),
            )
        account.is_active = active
        if active:
            msgid = gettext_noop("Akun %(username)s (#%(id)s) diaktifkan kembali")
        else:
            msgid = gettext_noop("Akun %(username)s (#%(id)s) dinonaktifkan")
        _record(by=by, client_address=client_address, detail=_detail(msgid, username=account.username, id=account.pk))
    return account


def staff_password_set(*, by: User, account_id: int, password: str, client_address: str | None) -> User:
    """Set another account's password (a forgotten one, or a first one). The account's login lockout, if any,
    is lifted with it: a new password is the administrator's answer to "I am locked out". The owner must choose
    their own at their next login (`password_change_required`).

    Invariants: `staff_password_problem` (never one's own, never a peer administrator's); the new hash and its
    STAFF_CHANGE row are one transaction."""
    with transaction.atomic():
        account = _locked(by=by, pk=account_id)
        if problem := staff_password_problem(by=by, account=account):
            raise StaffError(problem)
        account.set_password(password)
        account.password_change_required = True
        account.save(update_fields=["password", "password_change_required"])
        AccessAttempt.objects.filter(username=account.username).delete()
        _record(
            by=by,
            client_address=client_address,
            detail=staff_password_change_detail(
                account=account, disabled=account.password.startswith(UNUSABLE_PASSWORD_PREFIX)
            ),
        )
    return account


def staff_unlock(*, by: User, account_id: int, client_address: str | None) -> int:
    """Lift an account's login lockout (its failed attempts are forgotten) before the cool-off ends. Returns
    the attempt rows removed; a STAFF_CHANGE row when there were any."""
    with transaction.atomic():
        account = _locked(by=by, pk=account_id)
        removed, _by_model = AccessAttempt.objects.filter(username=account.username).delete()
        if removed:
            _record(
                by=by,
                client_address=client_address,
                detail=_detail(
                    gettext_noop("Kunci masuk dibuka: akun %(username)s (#%(id)s)"),
                    username=account.username,
                    id=account.pk,
                ),
            )
    return removed


def staff_own_password_change(*, user: User, password: str) -> User:
    """An account's owner sets their own password (the old one checked by the form): the administrator's
    temporary one, if any, is gone and the owner is no longer sent to the password page."""
    with transaction.atomic():
        account = User.objects.select_for_update().get(pk=user.pk)
        account.set_password(password)
        account.password_change_required = False
        account.save(update_fields=["password", "password_change_required"])
    user.password, user.password_change_required = account.password, False
    return user
