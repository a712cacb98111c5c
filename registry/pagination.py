"""Keyset pagination: a page is "the rows after (or before) this row" in a fixed (key, id) order.

Neither an OFFSET scan nor an exact COUNT(*): a page deep in a million rows costs what the first page
costs. The cursor in the URL is a row id, never a NIK or a name.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def keyset_page_ordered(
    queryset: QuerySet,
    *,
    order: Sequence[str],
    size: int,
    after: Model | None = None,
    before: Model | None = None,
) -> KeysetPage:
    """The `size` rows of `queryset` in `order` (e.g. ("-is_urgent", "queued_at", "id")) that follow `after` or
    precede `before`: keyset pagination over several columns with mixed directions.

    Invariant: the order ends with "id" (a total order) and its columns are NOT NULL model fields; no OFFSET.
    A row comparison serves only columns of one direction, so the order is cut into runs of one direction
    (here: is_urgent descending, then (queued_at, id) ascending) and the page is read run by run from the
    last: first the rows sharing the cursor's leading values and coming after it in the last run
    (`is_urgent = c.is_urgent AND (queued_at, id) > (c.queued_at, c.id)`), then, if the page is not full, the
    rows after the cursor in the run before (`is_urgent < c.is_urgent`, which is "after" for a descending
    column), each an index range scan that reads only what it returns. At most one query per run.
    """
    order = list(order)
    if not order or order[-1].lstrip("-") != "id":
        raise ValueError("a keyset order ends with the id")
    if before is not None:
        flipped = [column[1:] if column.startswith("-") else f"-{column}" for column in order]
        rows = _keyset_rows(queryset, order=flipped, limit=size + 1, cursor=before)
        return KeysetPage(rows=rows[:size][::-1], has_next=True, has_previous=len(rows) > size)
    rows = _keyset_rows(queryset, order=order, limit=size + 1, cursor=after)
    return KeysetPage(rows=rows[:size], has_next=len(rows) > size, has_previous=after is not None)


def _keyset_rows(queryset: QuerySet, *, order: list[str], limit: int, cursor: Model | None) -> list[Any]:
    """Up to `limit` rows strictly after `cursor` in `order` (from the start without a cursor)."""
    if cursor is None:
        return list(queryset.order_by(*order)[:limit])
    table = queryset.model._meta.db_table
    qn = queryset.query.get_compiler(queryset.db).quote_name_unless_alias
    runs: list[tuple[bool, list[str]]] = []  # (descending, field names) of each run of one direction
    for column in order:
        descending, name = column.startswith("-"), column.lstrip("-")
        if runs and runs[-1][0] == descending:
            runs[-1][1].append(name)
        else:
            runs.append((descending, [name]))

    def value(name: str) -> Any:
        return getattr(cursor, queryset.model._meta.get_field(name).attname)

    rows: list[Any] = []
    for level in range(len(runs) - 1, -1, -1):
        descending, names = runs[level]
        columns = [f"{qn(table)}.{qn(queryset.model._meta.get_field(n).column)}" for n in names]
        left = columns[0] if len(columns) == 1 else f"({', '.join(columns)})"
        right = "%s" if len(columns) == 1 else f"({', '.join(['%s'] * len(columns))})"
        same = {name: value(name) for _descending, leading in runs[:level] for name in leading}
        # Identifiers are quoted by the compiler and values are parameters, hence the noqa on extra().
        part = queryset.filter(**same).extra(  # noqa: S610
            where=[f"{left} {'<' if descending else '>'} {right}"], params=[value(n) for n in names]
        )
        rows += list(part.order_by(*order)[: limit - len(rows)])
        if len(rows) >= limit:
            break
    return rows
