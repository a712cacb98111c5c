from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _


def navigation(request: HttpRequest) -> dict:
    """Menu entries for the signed-in staff member's role (permissions decide, not role names)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [("home", reverse("home"), _("Beranda"), "house")]
    if user.has_perm("registry.view_resident"):
        items.append(("resident_list", reverse("registry:resident_list"), _("Penduduk"), "people"))
    if user.has_perm("registry.import_resident"):
        items.append(("import_list", reverse("registry:import_list"), _("Impor data"), "cloud-upload"))
    if user.has_perm("registry.view_accesslog"):
        items.append(("accesslog_list", reverse("registry:accesslog_list"), _("Log akses"), "shield-lock"))
    if user.is_staff:
        items.append(("admin", reverse("admin:index"), _("Administrasi"), "gear"))
    current = request.resolver_match.url_name if request.resolver_match else None
    return {"nav_items": items, "nav_current": current}
