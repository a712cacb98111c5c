"""Staff roles as Django groups with permissions, and assigning a role to an account."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from registry.models import Office, Role, User

_READ = ["registry.view_resident", "registry.view_family", "registry.view_region", "registry.reveal_nik"]
# Submitting for residents and following their requests up; recording; receiving centrally printed cards.
_REQUESTS = ["cards.view_cardrequest", "cards.add_cardrequest", "cards.record_biometrics"]
_UPTD_OPERATOR = [*_READ, *_REQUESTS, "cards.receive_cardrequest"]
_CLERK = [
    *_READ,
    *_REQUESTS,
    "registry.change_resident",
    "registry.change_family",
    "registry.view_office",
    "cards.verify_cardrequest",
    "cards.dispatch_cardrequest",
    "cards.view_numberlinkrequest",
    "cards.add_numberlinkrequest",
    "cards.decide_numberlinkrequest",
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
    "cards.view_requirement",
    "cards.add_requirement",
    "cards.change_requirement",
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


def staff_assign_role(*, user: User, role: Role | str, office: Office) -> User:
    """Give a staff account its office and role; the role's group is its only role group.

    Invariant: a UPTD operator works at a UPTD office; the other roles at a Disdukcapil office.
    Administrators get access to the admin site (is_staff), where offices and accounts are managed.
    """
    role = Role(role)
    if (role == Role.UPTD_OPERATOR) != (office.kind == Office.Kind.UPTD):
        raise RoleError("Operator UPTD harus ditempatkan di kantor UPTD; peran lain di kantor Disdukcapil.")
    with transaction.atomic():
        group = Group.objects.filter(name=ROLE_GROUP_NAMES[role]).first() or role_groups_sync()[role]
        user.office = office
        user.role = role
        user.is_staff = role == Role.ADMINISTRATOR
        user.save(update_fields=["office", "role", "is_staff"])
        user.groups.remove(*Group.objects.filter(name__in=ROLE_GROUP_NAMES.values()).exclude(pk=group.pk))
        user.groups.add(group)
    return user
