"""Test helpers for the append-only access log (registry/audit.py, registry/migrations/0017).

The database refuses UPDATE, DELETE and TRUNCATE of a non-empty log. Tests that tamper with it on purpose, and
the teardown of transactional tests (Django's flush), turn the triggers off for one transaction, as the
owning role can: which is exactly why the chain exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

TABLE = "registry_accesslog"


@contextmanager
def append_only_triggers_off() -> Iterator[None]:
    """Within one transaction: the log's own triggers are off, then back on (PostgreSQL: DISABLE TRIGGER USER;
    SQLite: the triggers are dropped and created again from their stored SQL)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Rows inserted earlier in the test's transaction leave deferred foreign-key checks pending, and
            # PostgreSQL refuses ALTER TABLE while they are: run them now (the default comes back after).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
            yield
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
            yield
            for _name, sql in triggers:
                cursor.execute(sql)


def access_log_raw(sql: str, params: list | None = None) -> None:
    """Run one statement against the log with its triggers off (a tampering owner)."""
    with append_only_triggers_off(), connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def access_log_empty() -> None:
    """Remove every row (the teardown of a transactional test, before Django's flush)."""
    access_log_raw(f"DELETE FROM {TABLE}")
