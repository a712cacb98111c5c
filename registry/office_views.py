"""The office settings page (`registry:office_settings`): the letterhead and signatory of every printed page, and
the service settings of the office, for its administrator. A kabupaten administrator edits its Disdukcapil and
each UPTD under it (`?kantor=<id>`); an office outside the scope answers 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from registry.models import Office
from registry.office_forms import office_settings_form_class
from registry.offices import OfficeError, office_settings_update


def _selected_office(request: HttpRequest, offices: list[Office]) -> Office:
    wanted = request.GET.get("kantor")
    if wanted is None:
        wanted_id = request.user.office_id
    else:
        try:
            wanted_id = int(wanted)
        except ValueError:
            raise Http404 from None
    for office in offices:
        if office.pk == wanted_id:
            return office
    if wanted is None and offices:
        return offices[0]
    raise Http404


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required("registry.change_office", raise_exception=True)
def office_settings(request: HttpRequest) -> HttpResponse:
    """The selected office's letterhead, signatory and settings, with a preview of its letterhead as printed."""
    offices = list(Office.objects.visible_to(request.user).select_related("region", "parent").order_by("region_id"))
    office = _selected_office(request, offices)
    form_class = office_settings_form_class(office)
    form = form_class(request.POST or None, request.FILES or None, instance=office)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            changed = office_settings_update(office_id=office.pk, values=values, by=request.user)
        except OfficeError as exc:
            form.add_error(None, str(exc))
        else:
            if changed:
                messages.success(request, _("Pengaturan %(office)s disimpan.") % {"office": office.name})
            else:
                messages.info(request, _("Tidak ada yang berubah."))
            return redirect(f"{reverse('registry:office_settings')}?kantor={office.pk}")
    if form.is_bound:
        office.refresh_from_db()  # the preview shows what is stored, not the refused values
    context = {
        "offices": offices,
        "office": office,
        "form": form,
        "is_uptd": office.kind == Office.Kind.UPTD,
        "missing": office.letterhead_missing,
    }
    return render(request, "registry/office_settings.html", context, status=400 if form.errors else 200)
