"""The second factor (TOTP, django-otp): who must have one, enrolment, checking a code, resetting a lost device.

Supervisors, administrators and platform superusers hold the exports, the access log, imports and the admin:
with `MFA_REQUIRED` (production) they enrol an authenticator app before any page, and every login asks for its
code. Anyone else may enrol; whoever has a confirmed device is asked for its code at every login.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry import clock
from registry.models import Office, Role, User

MFA_ROLES = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})
DEVICE_NAME = "Aplikasi autentikator"
NO_DEVICE_SESSION_KEY = "mfa_no_device"

MfaStep = Literal["verify", "enrol"]


class MfaError(Exception):
    """A second-factor step refused; the message is shown to the staff member."""


class MfaCodeWrong(MfaError):
    pass


class MfaThrottled(MfaError):
    """Too many wrong codes in a row: django-otp's back-off (1, 2, 4 ... seconds, doubling per failure) is
    still running; no code is checked until it ends, the right one included."""

    def __init__(self, *, locked_until: datetime | None) -> None:
        self.locked_until = locked_until
        wait = max(math.ceil((locked_until - clock.now()).total_seconds()) if locked_until else 1, 1)
        message = _("Terlalu banyak kode salah berturut-turut. Coba lagi dalam %(seconds)d detik.")
        super().__init__(message % {"seconds": wait})


class MfaDeviceExists(MfaError):
    pass


def mfa_role_needs_device(user: User) -> bool:
    """The roles that must have a second factor when MFA_REQUIRED is on."""
    return bool(user.is_superuser or user.role in MFA_ROLES)


def mfa_confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def mfa_next_step(user: User, *, session: SessionBase | None = None) -> MfaStep | None:
    """What a signed-in session still owes before any page: the code of its device ("verify"), a device
    ("enrol", only for the roles that need one and only with MFA_REQUIRED), or nothing.

    Invariant: a session is never let through on the password alone by an account that had a confirmed device
    when the session began, nor, with MFA_REQUIRED, by a supervisor, administrator or superuser.

    With `session`, "no device, none needed" is remembered for the session (read once, at login: see
    `mfa_session_start`), and only for roles that never need one: the role and MFA_REQUIRED are read on every
    request. A clerk who enrols in one session is asked for the code from their next login on."""
    if not user.is_authenticated or user.is_verified():
        return None
    needs_device = bool(settings.MFA_REQUIRED and mfa_role_needs_device(user))
    if not needs_device and session is not None and session.get(NO_DEVICE_SESSION_KEY) == user.pk:
        return None
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return "verify"
    if needs_device:
        return "enrol"
    if session is not None:
        _remember_no_device(user=user, session=session)
    return None


def _remember_no_device(*, user: User, session: SessionBase) -> None:
    if not mfa_role_needs_device(user):
        session[NO_DEVICE_SESSION_KEY] = user.pk


def mfa_session_start(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    """user_logged_in receiver (connected in RegistryConfig.ready): a clerk or UPTD operator without a device
    costs one query at login instead of one per request."""
    session = getattr(request, "session", None)
    if session is not None and not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        _remember_no_device(user=user, session=session)


def mfa_enrolment_device(*, user: User) -> TOTPDevice:
    """The account's device being enrolled (unconfirmed), created on first use; the same one until it is
    confirmed, so the QR code stays valid across reloads.

    Invariant: an account that has a confirmed device cannot enrol another here: whoever holds only the
    password must not be able to add their own authenticator (a lost device is reset by an administrator)."""
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)  # two tabs enrolling at once make one device
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise MfaDeviceExists(_("Akun ini sudah memakai aplikasi autentikator."))
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def _code_check(*, device_id: int, token: str) -> TOTPDevice:
    """Check a code against one device under a row lock (a code is accepted once: replays are refused), with
    django-otp's throttle. The throttle's failure count is committed before the error is raised."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device_id)
        allowed, why = device.verify_is_allowed()
        accepted = allowed and device.verify_token(token.strip())  # a wrong code counts a failure (saved)
    if not allowed:
        raise MfaThrottled(locked_until=(why or {}).get("locked_until"))
    if not accepted:
        raise MfaCodeWrong(_("Kode salah atau sudah kedaluwarsa. Periksa jam ponsel dan coba kode yang baru."))
    return device


def mfa_enrolment_confirm(*, user: User, token: str) -> TOTPDevice:
    """Confirm the device being enrolled with a first code from the app.

    Invariant: a device is confirmed only by a code it produced, and an account ends with one confirmed
    device."""
    device = mfa_enrolment_device(user=user)
    device = _code_check(device_id=device.pk, token=token)
    with transaction.atomic():
        confirmed = TOTPDevice.objects.filter(pk=device.pk, confirmed=False).update(confirmed=True)
        if confirmed != 1:
            raise MfaDeviceExists(_("Akun ini sudah memakai aplikasi autentikator."))
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device.confirmed = True
    return device


def mfa_verify(*, user: User, token: str) -> TOTPDevice:
    """Check the code of the account's confirmed device after the password.

    Invariant: only a code of the account's own confirmed device verifies the session; wrong codes slow the
    next attempt down (django-otp's throttle)."""
    device = mfa_confirmed_device(user)
    if device is None:
        raise MfaError(_("Akun ini belum memakai aplikasi autentikator."))
    return _code_check(device_id=device.pk, token=token)


def mfa_can_reset(user: User) -> bool:
    """A platform superuser or an office's administrator resets the second factor of other accounts."""
    return bool(user.is_active and (user.is_superuser or user.role == Role.ADMINISTRATOR))


def mfa_resettable_accounts(*, by: User) -> QuerySet[User]:
    """The accounts whose device `by` may reset: the accounts of the offices in their scope (all of them for a
    platform superuser without an office), never their own, and never a superuser unless `by` is one."""
    if not mfa_can_reset(by):
        return User.objects.none()
    accounts = User.objects.exclude(pk=by.pk)
    if not (by.is_superuser and by.office_id is None):
        accounts = accounts.filter(office__in=Office.objects.visible_to(by))
    if not by.is_superuser:
        accounts = accounts.exclude(is_superuser=True)
    return accounts


def mfa_device_reset(*, account: User, by: User) -> int:
    """Remove every TOTP device of `account` (a lost or replaced phone); its sessions verified by the old
    device are no longer verified, and it enrols again at its next login. Returns the devices removed.

    Invariant: only within `mfa_resettable_accounts(by=by)`; the caller writes the STAFF_CHANGE audit row in
    the same transaction."""
    if not mfa_resettable_accounts(by=by).filter(pk=account.pk).exists():
        raise MfaError(_("Anda tidak berwenang mengatur ulang autentikasi dua langkah akun ini."))
    deleted, _by_model = TOTPDevice.objects.filter(user=account).delete()
    return deleted
