"""The deployment with two database roles (issue 12): the migration role owns the tables; the app's role, granted
by `manage.py db_grant_app_role`, may only INSERT and SELECT the access log. Roles are created inside the
test's transaction, so they disappear with its rollback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from registry.models import AccessLog, Resident

REVEAL = AccessLog.Action.REVEAL_NIK


@pytest.fixture
def app_role(db) -> Iterator[str]:
    """A NOLOGIN role standing for ektp_app (the test's own connection can SET ROLE to it)."""
    name = f"ektp_app_test_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} NOLOGIN")
    yield name
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(f"DROP OWNED BY {name}")
        cursor.execute(f"DROP ROLE {name}")


def _grant(role: str) -> str:
    out = StringIO()
    call_command("db_grant_app_role", role, stdout=out)
    return out.getvalue()


def _refused(sql: str) -> str:
    """Run sql in its own savepoint; return the database's refusal (fails the test when it is accepted)."""
    with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    return str(refusal.value)


def _privilege(role: str, table: str, privilege: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])
        return cursor.fetchone()[0]


@pytest.mark.postgres_only
def test_the_app_role_may_log_and_read_the_log_but_never_change_it(app_role, clerk, resident_a):
    AccessLog.objects.append(user=clerk, action=REVEAL, resident=resident_a, detail="oleh pemilik")
    _grant(app_role)

    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {app_role}")
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == app_role

    logged = AccessLog.objects.append(user=clerk, action=REVEAL, resident=resident_a, detail="oleh aplikasi")
    assert list(AccessLog.objects.order_by("seq").values_list("detail", flat=True)) == [
        "oleh pemilik",
        "oleh aplikasi",
    ]
    assert logged.seq == 2

    assert "permission denied" in _refused("UPDATE registry_accesslog SET detail = 'dihapus'")
    assert "permission denied" in _refused(f"DELETE FROM registry_accesslog WHERE id = {logged.pk}")
    assert "permission denied" in _refused("TRUNCATE registry_accesslog")
    assert "must be owner" in _refused("ALTER TABLE registry_accesslog DISABLE TRIGGER ALL")
    assert "must be owner" in _refused("DROP TRIGGER registry_accesslog_no_truncate ON registry_accesslog")

    # The rest of the app's tables are the app's to change.
    assert Resident.objects.filter(pk=resident_a.pk).update(full_name="SITI AMINAH RAHAYU") == 1

    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    assert AccessLog.objects.count() == 2
    assert "2 baris diperiksa" in _call_verify()


def _call_verify() -> str:
    out = StringIO()
    call_command("accesslog_verify", stdout=out)
    return out.getvalue()


@pytest.mark.postgres_only
def test_granting_again_takes_back_what_the_app_role_should_not_have(app_role):
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON registry_accesslog TO {app_role}")

    output = _grant(app_role)
    assert _grant(app_role) == output  # idempotent

    assert f'REVOKE ALL ON TABLE "registry_accesslog" FROM "{app_role}"' in output
    assert _privilege(app_role, "registry_accesslog", "SELECT")
    assert _privilege(app_role, "registry_accesslog", "INSERT")
    for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
        assert not _privilege(app_role, "registry_accesslog", privilege)
    for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
        assert _privilege(app_role, "registry_resident", privilege)
    assert not _privilege(app_role, "registry_resident", "TRUNCATE")
    assert not _privilege(app_role, "django_migrations", "INSERT")


@pytest.mark.postgres_only
def test_granting_refuses_an_unknown_role_and_the_owner_itself(db):
    with pytest.raises(CommandError, match="tidak ada"):
        _grant(f"nobody_{uuid.uuid4().hex[:8]}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="pemilik/migrasi"):
        _grant(owner)


def test_granting_refuses_on_sqlite_with_a_clear_message(db):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite refusal")
    with pytest.raises(CommandError, match="hanya untuk PostgreSQL"):
        _grant("ektp_app")


@pytest.mark.postgres_only
def test_the_owner_cannot_truncate_update_or_delete_the_log(clerk):
    AccessLog.objects.append(user=clerk, action=REVEAL, detail="tetap")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks: TRUNCATE meets the trigger

    assert "TRUNCATE refused" in _refused("TRUNCATE registry_accesslog")
    assert "TRUNCATE refused" in _refused("TRUNCATE registry_user CASCADE")
    assert "UPDATE refused" in _refused("UPDATE registry_accesslog SET detail = 'dihapus'")
    assert "DELETE refused" in _refused("DELETE FROM registry_accesslog")
    assert AccessLog.objects.get().detail == "tetap"
