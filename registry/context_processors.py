from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from registry.models import User
from registry.staff import staff_may_manage


@dataclass
class NavItem:
    key: str  # the URL name (without namespace) of the page
    url: str
    label: str
    icon: str
    active: bool = False


@dataclass
class NavGroup:
    key: str
    label: str
    icon: str
    items: list[NavItem] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return any(item.active for item in self.items)


# The menu: groups of (URL name, label, icon, permission test); labels are translated when the menu is built,
# in the reader's language. A permission test is the page's own gate: a permission codename, a tuple of
# codenames (any of them), "is_staff" (the admin site) or a function of the user (the staff pages' rule).
_STAFF = "is_staff"
MENU: list[tuple[str, str, str, list[tuple[str, str, str, object]]]] = [
    (
        "layanan",
        gettext_noop("Layanan"),
        "person-lines-fill",
        [
            ("cards:cardrequest_list", gettext_noop("Permohonan"), "card-checklist", "cards.view_cardrequest"),
            ("intake:thread_list", gettext_noop("Kotak pesan"), "chat-dots", "cards.view_cardrequest"),
            ("queueing:counter", gettext_noop("Loket"), "ticket-perforated", "queueing.add_walkinticket"),
            ("queueing:coming_days", gettext_noop("Hari-hari mendatang"), "calendar-week", "queueing.view_calendar"),
            ("cards:cardrequest_recording_queue", gettext_noop("Perekaman"), "fingerprint", "cards.record_biometrics"),
            ("cards:datasync_list", gettext_noop("Sinkronisasi data"), "arrow-repeat", "cards.view_datasyncrequest"),
        ],
    ),
    (
        "cetak",
        gettext_noop("Cetak & kiriman"),
        "printer",
        [
            ("queueing:blanks", gettext_noop("Blangko & cetak"), "printer", "queueing.view_blankstock"),
            ("delivery:pickup_list", gettext_noop("Siap diambil"), "box-seam", "cards.verify_cardrequest"),
            ("delivery:shipment_list", gettext_noop("Kiriman Pos"), "mailbox", "cards.verify_cardrequest"),
            (
                "cards:dispatch_list",
                gettext_noop("Kiriman UPTD"),
                "truck",
                ("cards.dispatch_cardrequest", "cards.receive_cardrequest"),
            ),
            ("delivery:suket_register", gettext_noop("Register suket"), "file-earmark-text", "cards.view_cardrequest"),
            ("delivery:outbox_list", gettext_noop("Pesan gagal"), "envelope-exclamation", "cards.view_cardrequest"),
        ],
    ),
    (
        "data",
        gettext_noop("Data"),
        "database",
        [
            ("registry:resident_list", gettext_noop("Penduduk"), "people", "registry.view_resident"),
            ("registry:import_list", gettext_noop("Impor data"), "cloud-upload", "registry.import_resident"),
            ("registry:accesslog_list", gettext_noop("Log akses"), "shield-lock", "registry.view_accesslog"),
        ],
    ),
    (
        "admin",
        gettext_noop("Pengaturan"),
        "gear",
        [
            ("queueing:quota_settings", gettext_noop("Kuota & jam layanan"), "sliders", "queueing.plan_calendar"),
            ("registry:staff_list", gettext_noop("Petugas"), "person-badge", staff_may_manage),
            ("registry:office_settings", gettext_noop("Kantor & kop surat"), "building", "registry.change_office"),
            ("admin:index", gettext_noop("Administrasi"), "gear", _STAFF),
        ],
    ),
]


def _allowed(user: User, test: object) -> bool:
    if callable(test):
        return bool(test(user))
    if test == _STAFF:
        return bool(user.is_staff)
    if isinstance(test, tuple):
        return any(user.has_perm(perm) for perm in test)
    return user.has_perm(test)


def navigation_groups(user: User, *, path: str = "") -> list[NavGroup]:
    """The menu for `user` (permissions decide, not role names): groups with the entries the user may open,
    empty groups left out. The entry whose address is the longest prefix of `path` is the current one, so a
    request's detail page marks "Permohonan" (and its group) active."""
    groups: list[NavGroup] = []
    for key, label, icon, entries in MENU:
        items = []
        for name, item_label, item_icon, test in entries:
            if not _allowed(user, test):
                continue
            items.append(NavItem(name.rsplit(":", 1)[-1], reverse(name), _(item_label), item_icon))
        if items:
            groups.append(NavGroup(key, _(label), icon, items))
    candidates = [item for group in groups for item in group.items if path.startswith(item.url)]
    if candidates:
        max(candidates, key=lambda item: len(item.url)).active = True
    return groups


def navigation(request: HttpRequest) -> dict:
    """Menu groups for the signed-in staff member, and whether the current page is home."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_groups": []}
    match = request.resolver_match
    return {
        "nav_groups": navigation_groups(user, path=request.path),
        "nav_current": match.url_name if match else None,
    }
