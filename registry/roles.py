"""Staff roles as Django groups with permissions, and assigning a role to an account."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from messaging.system_text import system_text
from registry.models import AccessLog, Office, Role, User

_READ = ["registry.view_resident", "registry.view_family", "registry.view_region", "registry.reveal_nik"]
# Submitting for residents and following their requests up; recording; receiving centrally printed cards.
_REQUESTS = ["cards.view_cardrequest", "cards.add_cardrequest", "cards.record_biometrics"]
# The coming days: the calendar of places and who is expected on a day (within the user's scope).
_CALENDAR = ["queueing.view_calendar"]
_UPTD_OPERATOR = [*_READ, *_REQUESTS, *_CALENDAR, "cards.receive_cardrequest"]
_CLERK = [
    *_READ,
    *_REQUESTS,
    *_CALENDAR,
    "registry.change_resident",
    "registry.change_family",
    "registry.view_office",
    "cards.verify_cardrequest",
    "cards.dispatch_cardrequest",
    "cards.view_datasyncrequest",
    "cards.add_datasyncrequest",
    "cards.decide_datasyncrequest",
    # The counter: walk-in numbers, check-in, booking days.
    "queueing.view_booking",
    "queueing.add_booking",
    "queueing.change_booking",
    "queueing.add_walkinticket",
    "queueing.change_walkinticket",
    "queueing.view_blankstock",
    "queueing.add_printbatch",
    "queueing.change_printbatch",
    "delivery.view_suket",
    "delivery.add_suket",
]
_SUPERVISOR = [
    *_CLERK,
    "cards.approve_urgent_cardrequest",
    "queueing.add_blankmovement",
    "queueing.add_closure",
    # Quotas, print capacity and opening hours of the coming weeks, in the app (queueing:quota_settings).
    "queueing.plan_calendar",
    "registry.export_resident",
    "registry.view_accesslog",
    "registry.view_user",
    "registry.import_resident",
    "registry.view_residentimport",
]
_ADMINISTRATOR = [
    *_SUPERVISOR,
    "registry.add_office",
    "registry.change_office",
    "registry.add_user",
    "registry.change_user",
    "registry.add_resident",
    "registry.add_family",
    # Requirements are national rules (what a kind of request needs): administrators read them, only a
    # platform superuser adds or changes them (cards.admin.RequirementAdmin; issue 12).
    "cards.view_requirement",
    # Service calendar and quotas (admin pages, scoped to the office's region).
    "queueing.view_openinghours",
    "queueing.add_openinghours",
    "queueing.change_openinghours",
    "queueing.view_quotadefault",
    "queueing.add_quotadefault",
    "queueing.change_quotadefault",
    "queueing.view_serviceday",
    "queueing.change_serviceday",
    "queueing.view_closure",
    "queueing.change_closure",
    "queueing.delete_closure",
    # The WhatsApp/SMS desk (intake/admin.py, scoped to the office's region): the office's numbers and their
    # purposes, its own wording of the messages, and what arrived (read-only; a failed payload processed again).
    "messaging.view_officenumber",
    "messaging.add_officenumber",
    "messaging.change_officenumber",
    "messaging.delete_officenumber",
    "messaging.view_messagetemplate",
    "messaging.add_messagetemplate",
    "messaging.change_messagetemplate",
    "messaging.delete_messagetemplate",
    "intake.view_webhookpayload",
    "intake.change_webhookpayload",
    "intake.view_inboundmessage",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.CLERK: _CLERK,
    Role.UPTD_OPERATOR: _UPTD_OPERATOR,
    Role.SUPERVISOR: _SUPERVISOR,
    Role.ADMINISTRATOR: _ADMINISTRATOR,
}

# Group names as staff see them in the admin.
ROLE_GROUP_NAMES = {role: str(role.label) for role in Role}


class RoleError(ValueError):
    pass


def role_groups_sync() -> dict[str, Group]:
    """Create or refresh one group per role with exactly the role's permissions."""
    groups = {}
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=ROLE_GROUP_NAMES[role])
        perms = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            perms.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(perms)
        groups[role] = group
    return groups


def role_groups_sync_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate handler (connected in RegistryConfig.ready): roles also hold permissions of apps migrated
    after registry (cards, queueing, delivery), so those permissions are created first."""
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    role_groups_sync()


def is_platform_superuser(user: User) -> bool:
    """A superuser without an office: the only account that sees and governs the whole platform (every
    kabupaten, national rules, other superusers). A superuser attached to an office is held to that office."""
    return bool(user.is_authenticated and user.is_active and user.is_superuser and user.office_id is None)


def role_office_error(*, role: Role | str, office: Office) -> str | None:
    """Why `role` cannot sit at `office`, or None: a UPTD operator works at a UPTD, every other role at a
    Disdukcapil office."""
    if (Role(role) == Role.UPTD_OPERATOR) != (office.kind == Office.Kind.UPTD):
        return _("Operator UPTD harus ditempatkan di kantor UPTD; peran lain di kantor Disdukcapil.")
    return None


def _staff_change_detail(
    *, user: User, old_role: str, old_office: Office | None, role: str, office: Office | None
) -> str:
    def role_label(value: str) -> object:
        return Role(value).label if value else "-"  # the label's key: shown in the reader's language

    detail = system_text(
        gettext_noop("Akun %(username)s (#%(id)s): peran %(old_role)s → %(role)s; kantor %(old_office)s → %(office)s"),
        username=user.username,
        id=user.pk,
        old_role=role_label(old_role),
        role=role_label(role),
        old_office=old_office.name if old_office else "-",
        office=office.name if office else "-",
    )
    return detail


def _staff_change_record(
    *, user: User, stored: User, role: str, office: Office | None, by: User | None, client_address: str | None
) -> None:
    """The STAFF_CHANGE row of the access log when the role or the office actually changed."""
    if by is None or (stored.role, stored.office_id) == (role, office.pk if office else None):
        return
    AccessLog.objects.append(
        user=by,
        action=AccessLog.Action.STAFF_CHANGE,
        resident=None,
        ip_address=client_address,
        detail=_staff_change_detail(
            user=user, old_role=stored.role, old_office=stored.office, role=role, office=office
        ),
    )


def staff_assign_role(
    *, user: User, role: Role | str, office: Office, by: User | None, client_address: str | None = None
) -> User:
    """Give a staff account its office and role; the role's group is its only role group.

    Invariants: a UPTD operator works at a UPTD office; the other roles at a Disdukcapil office.
    Administrators get access to the admin site (is_staff), where offices and accounts are managed.
    Every change of an account's role or office made by a staff member (`by`, from `client_address`) is a
    STAFF_CHANGE row of the access log naming the account and the old and new role and office. `by=None` is
    set-up from the server (demo seeding, test fixtures): no staff member acted, so there is nobody to log.
    """
    role = Role(role)
    if error := role_office_error(role=role, office=office):
        raise RoleError(error)
    with transaction.atomic():
        group = Group.objects.filter(name=ROLE_GROUP_NAMES[role]).first() or role_groups_sync()[role]
        # The stored role and office, locked: the audit row's "old" is what the database held, not what a
        # form posted.
        stored = User.objects.select_for_update().only("role", "office").get(pk=user.pk)
        user.office = office
        user.role = role
        user.is_staff = role == Role.ADMINISTRATOR
        user.save(update_fields=["office", "role", "is_staff"])
        user.groups.remove(*Group.objects.filter(name__in=ROLE_GROUP_NAMES.values()).exclude(pk=group.pk))
        user.groups.add(group)
        _staff_change_record(user=user, stored=stored, role=role, office=office, by=by, client_address=client_address)
    return user


def staff_role_clear(*, user: User, by: User, client_address: str | None = None) -> User:
    """Take an account's role and office away (a platform superuser's act: the account keeps no scope and no
    role group). Invariant: like every role or office change, it is a STAFF_CHANGE row of the access log."""
    with transaction.atomic():
        stored = User.objects.select_for_update().only("role", "office").get(pk=user.pk)
        user.office = None
        user.role = ""
        user.save(update_fields=["office", "role"])
        user.groups.remove(*Group.objects.filter(name__in=ROLE_GROUP_NAMES.values()))
        _staff_change_record(user=user, stored=stored, role="", office=None, by=by, client_address=client_address)
    return user
