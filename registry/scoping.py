"""The one place that decides which rows a staff account may see.

A staff account's scope is its office's region: a Disdukcapil office sees its kabupaten/kota, a UPTD its
kecamatan. Every queryset a staff view uses goes through `visible_to(user)`, and object lookups go through
`get_visible_or_404`, so a row outside the scope answers 404, exactly as a row that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db import models
from django.db.models import Q
from django.http import Http404

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from registry.models import User


def scope_code_of(user: User | AnonymousUser) -> str | None | bool:
    """The region code a user may see, None for everything, False for nothing."""
    if not user.is_authenticated or not user.is_active:
        return False
    office_id = getattr(user, "office_id", None)
    if office_id is None:
        # Only a platform superuser without an office sees the whole database.
        return None if user.is_superuser else False
    return user.scope_code


def code_level(code: str) -> int:
    return code.count(".") + 1


class ScopedQuerySet(models.QuerySet):
    #: Lookup path to a dotted region code ("kecamatan__code"; the join to Region is trimmed away).
    scope_field: str = ""
    #: The level of the regions in that column when it is fixed (residents: kecamatan), else None.
    scope_level: int | None = None

    def visible_to(self, user: User | AnonymousUser) -> Self:
        scope = scope_code_of(user)
        if scope is None:
            return self
        if scope is False:
            return self.none()
        field = self.scope_field
        if self.scope_level is not None:
            if code_level(scope) == self.scope_level:
                return self.filter(**{field: scope})
            if code_level(scope) < self.scope_level:
                return self.filter(**{f"{field}__startswith": f"{scope}."})
            # A scope finer than the column (a UPTD looking at kabupaten-level rows) sees nothing.
            return self.none()
        return self.filter(Q(**{field: scope}) | Q(**{f"{field}__startswith": f"{scope}."}))


def get_visible_or_404(queryset: ScopedQuerySet, user: User | AnonymousUser, **lookup: object) -> models.Model:
    """Fetch one row the user may see; outside the scope is indistinguishable from absent."""
    try:
        return queryset.visible_to(user).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc
