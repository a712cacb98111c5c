"""Route 2 page: printed cards waiting at the office to be collected, the longest waiting first."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from delivery.pickups import pickups_waiting, with_days
from registry.models import Region

PAGE_SIZE = 50


class PickupFilter(forms.Form):
    kecamatan = forms.ChoiceField(label=gettext_lazy("Kecamatan"), required=False)
    min_days = forms.IntegerField(label=gettext_lazy("Disimpan paling sedikit (hari)"), min_value=0, required=False)

    def __init__(self, *args, kecamatan_choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kecamatan"].choices = [("", gettext_lazy("Semua kecamatan")), *kecamatan_choices]


@never_cache
@require_GET
@permission_required("cards.verify_cardrequest", raise_exception=True)
def pickup_list(request: HttpRequest) -> HttpResponse:
    """Cards ready for pickup at the user's office, with days since printed and since stored; the handover is
    on each request's page (fingerprint check and activation)."""
    office = request.user.office
    if office is None:
        raise PermissionDenied
    office = office.head_office
    kecamatan_choices = list(
        Region.objects.filter(level=Region.Level.KECAMATAN, code__startswith=f"{office.region_id}.")
        .order_by("name")
        .values_list("code", "name")
    )
    form = PickupFilter(request.GET or None, kecamatan_choices=kecamatan_choices)
    filters = form.cleaned_data if form.is_valid() else {}
    queryset = pickups_waiting(
        request.user, office=office, kecamatan=filters.get("kecamatan") or "", min_days=filters.get("min_days")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "delivery/pickup_list.html",
        {
            "form": form,
            "page": page,
            "rows": with_days(list(page.object_list), office=office),
            "query": query.urlencode(),
            "office": office,
        },
    )
