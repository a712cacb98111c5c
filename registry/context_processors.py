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
    if user.has_perm("cards.view_cardrequest"):
        items.append(("cardrequest_list", reverse("cards:cardrequest_list"), _("Permohonan"), "card-checklist"))
        items.append(("thread_list", reverse("intake:thread_list"), _("Kotak pesan"), "chat-dots"))
    if user.has_perm("queueing.add_walkinticket"):
        items.append(("counter", reverse("queueing:counter"), _("Loket"), "ticket-perforated"))
    if user.has_perm("queueing.view_blankstock"):
        items.append(("blanks", reverse("queueing:blanks"), _("Blangko & cetak"), "printer"))
    if user.has_perm("cards.record_biometrics"):
        url = reverse("cards:cardrequest_recording_queue")
        items.append(("cardrequest_recording_queue", url, _("Perekaman"), "fingerprint"))
    if user.has_perm("cards.verify_cardrequest"):
        items.append(("pickup_list", reverse("delivery:pickup_list"), _("Siap diambil"), "box-seam"))
        items.append(("shipment_list", reverse("delivery:shipment_list"), _("Kiriman Pos"), "mailbox"))
    if user.has_perm("cards.view_cardrequest"):
        items.append(("outbox_list", reverse("delivery:outbox_list"), _("Pesan gagal"), "envelope-exclamation"))
    if user.has_perm("cards.dispatch_cardrequest") or user.has_perm("cards.receive_cardrequest"):
        items.append(("dispatch_list", reverse("cards:dispatch_list"), _("Kiriman UPTD"), "truck"))
    if user.has_perm("cards.view_datasyncrequest"):
        items.append(("datasync_list", reverse("cards:datasync_list"), _("Sinkronisasi data"), "arrow-repeat"))
    if user.has_perm("registry.import_resident"):
        items.append(("import_list", reverse("registry:import_list"), _("Impor data"), "cloud-upload"))
    if user.has_perm("registry.view_accesslog"):
        items.append(("accesslog_list", reverse("registry:accesslog_list"), _("Log akses"), "shield-lock"))
    if user.is_staff:
        items.append(("admin", reverse("admin:index"), _("Administrasi"), "gear"))
    current = request.resolver_match.url_name if request.resolver_match else None
    return {"nav_items": items, "nav_current": current}
