"""Keyset pagination: a page is "the rows after (or before) this row" in a fixed (key, id) order.

Neither an OFFSET scan nor an exact COUNT(*): a page deep in a million rows costs what the first page
costs. The cursor in the URL is a row id, never a NIK or a name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import F, Field, Func, Model, QuerySet, Value


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

    def db_value(name: str) -> Any:
        # A raw parameter is adapted by the database driver, not by the field: SQLite's driver writes an aware
        # datetime with its "+00:00" while the column holds Django's naive UTC text, which breaks ties.
        field = queryset.model._meta.get_field(name)
        return field.get_db_prep_value(value(name), connections[queryset.db])

    rows: list[Any] = []
    for level in range(len(runs) - 1, -1, -1):
        descending, names = runs[level]
        columns = [f"{qn(table)}.{qn(queryset.model._meta.get_field(n).column)}" for n in names]
        left = columns[0] if len(columns) == 1 else f"({', '.join(columns)})"
        right = "%s" if len(columns) == 1 else f"({', '.join(['%s'] * len(columns))})"
        same = {name: value(name) for _descending, leading in runs[:level] for name in leading}
        # Identifiers are quoted by the compiler and values are parameters, hence the noqa on extra().
        part = queryset.filter(**same).extra(  # noqa: S610
            where=[f"{left} {'<' if descending else '>'} {right}"], params=[db_value(n) for n in names]
        )
        rows += list(part.order_by(*order)[: limit - len(rows)])
        if len(rows) >= limit:
            break
    return rows


def _row(*expressions: Any) -> Func:
    """`(a, b)`: a SQL row value, compared column by column (PostgreSQL answers it from a (a, b) index)."""
    return Func(*expressions, function="", output_field=Field())


# A search first walks this many rows of the scope in key order from the cursor: enough for a common text
# (a page of 25 hits when ~1 row in 16 matches) at the cost of a short index range scan.
SEARCH_WINDOW = 400


def keyset_page_search(
    queryset: QuerySet,
    *,
    scope: QuerySet,
    key: str,
    size: int,
    after: Model | None = None,
    before: Model | None = None,
    window: int = SEARCH_WINDOW,
) -> KeysetPage:
    """keyset_page() for a text search (`queryset` is `scope` narrowed by the search and filters), at a cost
    bounded whether the text is rare, common, or common only far from the cursor.

    Invariant: the same rows as keyset_page(queryset, ...), in the same (key, id) order, with no OFFSET.
    Walking the (key, id) index and filtering, as the planner likes to, reads every row between the cursor
    and the hits: a common given name that sorts late ("WAHYUNI ...") made it filter ~900,000 rows. So:
    1. the hits among the next `window` rows of `scope` in key order (a short range scan); if those fill the
       page, or the scope ends within them, that is the page (the text is dense here, or the list short);
    2. otherwise the hits after that window come from the text's own index (the trigram GIN index, forced by
       a MATERIALIZED CTE so the planner cannot fall back to the long walk), sorted: a cost that follows the
       number of hits, not the distance to them.
    """
    descending = before is not None
    cursor = before if descending else after
    qn = queryset.query.get_compiler(queryset.db).quote_name_unless_alias
    order = [f"-{key}", "-id"] if descending else [key, "id"]
    lookup = "lt" if descending else "gt"

    def beyond(qs: QuerySet, key_value: Any, pk: Any, name: str = "_keyset") -> QuerySet:
        # A row comparison built from expressions, so it names the right alias inside a subquery too.
        row = _row(Value(key_value), Value(pk))
        return qs.alias(**{name: _row(F(key), F("id"))}).filter(**{f"{name}__{lookup}": row})

    if cursor is not None:
        queryset = beyond(queryset, getattr(cursor, key), cursor.pk)
        scope = beyond(scope, getattr(cursor, key), cursor.pk)
    connection = connections[queryset.db]
    direction, backwards = ("DESC", "ASC") if descending else ("ASC", "DESC")
    # The window's last row: one short range scan of the (key, id) index, read back from its end.
    window_sql, window_params = scope.order_by(*order).values(key, "id")[:window].query.sql_with_params()
    # Compiled ORM SQL and quoted names only; values are parameters.
    last_sql = (
        f"SELECT w.{qn(key)}, w.id, row_number() OVER (ORDER BY w.{qn(key)} {direction}, w.id {direction}) "  # noqa: S608
        f"FROM ({window_sql}) AS w ORDER BY w.{qn(key)} {backwards}, w.id {backwards} LIMIT 1"
    )
    with connection.cursor() as sql_cursor:
        sql_cursor.execute(last_sql, window_params)
        found = sql_cursor.fetchone()
    last, scope_ends_in_window = (found[:2], found[2] < window) if found else (None, True)
    if last is None:
        rows: list[Any] = []
    else:
        within = queryset.alias(_window=_row(F(key), F("id"))).filter(
            **{f"_window__{'gte' if descending else 'lte'}": _row(Value(last[0]), Value(last[1]))}
        )
        rows = list(within.order_by(*order)[: size + 1])
    if not scope_ends_in_window and len(rows) <= size:
        # Not enough hits in the window: the hits after it come from the text's own index.
        hits = beyond(queryset, *last, name="_after_window").order_by().values("id", key)
        hits_sql, params = hits.query.sql_with_params()
        materialized = "MATERIALIZED" if connection.vendor == "postgresql" else ""
        sql = (
            f"WITH hits AS {materialized} ({hits_sql}) SELECT id FROM hits "  # noqa: S608 - as above
            f"ORDER BY {qn(key)} {direction}, id {direction} LIMIT %s"
        )
        with connection.cursor() as sql_cursor:
            sql_cursor.execute(sql, [*params, size + 1 - len(rows)])
            ids = [pk for (pk,) in sql_cursor.fetchall()]
        if ids:
            rows += list(queryset.filter(id__in=ids).order_by(*order))
    if descending:
        return KeysetPage(rows=rows[:size][::-1], has_next=True, has_previous=len(rows) > size)
    return KeysetPage(rows=rows[:size], has_next=len(rows) > size, has_previous=after is not None)
