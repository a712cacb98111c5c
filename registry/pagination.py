"""Keyset pagination: a page is "the rows after (or before) this row" in a fixed (key, id) order.

Neither an OFFSET scan nor an exact COUNT(*): a page deep in a million rows costs what the first page
costs. The cursor in the URL is a row id, never a NIK or a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Model, QuerySet


@dataclass
class KeysetPage:
    rows: list[Any]
    has_next: bool
    has_previous: bool

    @property
    def next_cursor(self) -> int | None:
        return self.rows[-1].pk if self.rows and self.has_next else None

    @property
    def previous_cursor(self) -> int | None:
        return self.rows[0].pk if self.rows and self.has_previous else None


def keyset_page(
    queryset: QuerySet,
    *,
    key: str,
    size: int,
    after: Model | None = None,
    before: Model | None = None,
) -> KeysetPage:
    """The `size` rows of `queryset` ordered by (key, id) that follow `after` or precede `before`.

    The comparison is a SQL row comparison, `(key, id) > (%s, %s)`, which PostgreSQL answers from a
    (key, id) index in one range scan.
    """
    table = queryset.model._meta.db_table
    qn = queryset.query.get_compiler(queryset.db).quote_name_unless_alias
    row = f"({qn(table)}.{qn(key)}, {qn(table)}.{qn('id')})"
    # Identifiers are quoted by the compiler and values are parameters, hence the noqa on extra().
    if before is not None:
        preceding = queryset.extra(where=[f"{row} < (%s, %s)"], params=[getattr(before, key), before.pk])  # noqa: S610
        rows = list(preceding.order_by(f"-{key}", "-id")[: size + 1])
        has_previous = len(rows) > size
        return KeysetPage(rows=rows[:size][::-1], has_next=True, has_previous=has_previous)
    if after is not None:
        queryset = queryset.extra(where=[f"{row} > (%s, %s)"], params=[getattr(after, key), after.pk])  # noqa: S610
    rows = list(queryset.order_by(key, "id")[: size + 1])
    return KeysetPage(rows=rows[:size], has_next=len(rows) > size, has_previous=after is not None)
