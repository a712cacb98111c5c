"""What every admin page of the project shares: the editor's scope on every foreign key, and no NIK or KK number
through a GET.

The admin is a second door to the same rows as the app (issue 12): the app's pages go through `visible_to` and
POST their NIK searches, so the admin must do the same. A platform superuser (superuser without an office) sees
and edits everything; every other account is held to its office's region, whatever the admin's widgets offer.
"""

from __future__ import annotations

import re

from django.contrib import admin, messages
from django.contrib.admin.views.main import SEARCH_VAR
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from registry.scoping import ScopedQuerySet

# A NIK or KK number, whole or most of it, typed with or without separators ("3502 0152 0590 0002"). Region
# codes (35.02.01.2001: ten digits) stay searchable.
_NUMBER_SEPARATORS = re.compile(r"[\s.\-/]")
_NIK_LIKE = re.compile(r"\d{12,}")
# Fields whose values are NIK or KK numbers: no admin URL may filter on them (?nik=..., ?nik__startswith=...).
NUMBER_FIELDS = frozenset({"nik", "kk_number"})
# A birth date completes a masked NIK's digits 7-12 (the kecamatan and sex being known, only the small serial is
# left): no admin URL filters on it either (?birth_date=1990-05-12, ?resident__birth_date__gte=...), so the admin
# cannot be asked "who was born on that day" row by row. The app filters by age band only.
BIRTH_DATE_FIELDS = frozenset({"birth_date"})
REFUSED_LOOKUP_FIELDS = NUMBER_FIELDS | BIRTH_DATE_FIELDS


def looks_like_nik(text: str) -> bool:
    """True when `text` holds a NIK or KK number (or 12 digits or more of one)."""
    return bool(_NIK_LIKE.search(_NUMBER_SEPARATORS.sub("", text or "")))


def scoped_choices(queryset: QuerySet, request: HttpRequest) -> QuerySet:
    """The rows of a foreign key's queryset the editor may pick: `visible_to` for every scoped model."""
    if isinstance(queryset, ScopedQuerySet):
        return queryset.visible_to(request.user)
    return queryset


class ScopedForeignKeysMixin:
    """Every foreign key to a scoped model (region, office, family, resident, card request...) offers and accepts
    only rows in the editor's scope. The form field's queryset is its validation too: a foreign id posted by
    hand into a raw-id box is an "invalid choice" field error and nothing is saved."""

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        queryset = kwargs.get("queryset")
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.all()
        kwargs["queryset"] = scoped_choices(queryset, request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class NoNumberInUrlMixin:
    """No NIK or KK number reaches the server through an admin URL's query string: a search (`q`) or any
    parameter that looks like one is refused with a pointer to the app's search (a POST), and no admin list
    may filter on a number field or a birth date (`?nik=...`, `?birth_date=...` answer 400)."""

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if REFUSED_LOOKUP_FIELDS.intersection(lookup.split("__")):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        # Also the path of autocomplete lookups, which never pass through changelist_view.
        if looks_like_nik(search_term):
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if any(looks_like_nik(value) for value in request.GET.values()):
            messages.warning(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _(
                        "Pencarian dengan NIK atau nomor KK tidak dilayani di admin: nomor itu akan tercatat di "
                        "alamat halaman dan log server."
                    ),
                    reverse("registry:resident_list"),
                    _("Cari penduduk di aplikasi (pencarian tercatat di log akses)."),
                ),
            )
            kept = request.GET.copy()
            for key in list(kept):
                if key == SEARCH_VAR or looks_like_nik(kept.get(key, "")):
                    del kept[key]
            query = kept.urlencode()
            return HttpResponseRedirect(f"{request.path}?{query}" if query else request.path)
        return super().changelist_view(request, extra_context)


class ProjectModelAdmin(NoNumberInUrlMixin, ScopedForeignKeysMixin, admin.ModelAdmin):
    """The base of every admin of the project's models."""


class ScopedModelAdmin(ProjectModelAdmin):
    """Lists only the rows of the editor's scope (the model's `visible_to`); another row's change, history or
    delete URL answers like a row that does not exist."""

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).visible_to(request.user)
