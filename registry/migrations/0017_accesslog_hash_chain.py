"""The access log can no longer be wiped quietly (issue 12).

- Every row carries `seq`, `prev_hash` and `hash` (registry/audit.py); the rows already there are chained in
  insertion order (id). The UPDATE/DELETE trigger of 0004 is dropped for the backfill and put back after it,
  in this migration's transaction.
- PostgreSQL: TRUNCATE is refused too (a statement-level trigger; an empty log may be truncated, there is
  nothing to lose, and Django's test flush does it).
- SQLite: triggers refuse UPDATE and DELETE. SQLite drops a table's triggers when Django remakes the table
  (most AlterField on SQLite): a later migration of AccessLog must install them again
  (tests/registry/test_access_log_chain.py checks they are there).
"""

from django.db import migrations, models
from django.db.models.functions import Length
from django.db.models.lookups import Exact, In

from registry.audit import access_log_row_hash

PG_ROW_TRIGGER = """
CREATE TRIGGER registry_accesslog_append_only
BEFORE UPDATE OR DELETE ON registry_accesslog
FOR EACH ROW EXECUTE FUNCTION registry_accesslog_append_only();
"""
PG_TRUNCATE_FUNCTION = """
CREATE OR REPLACE FUNCTION registry_accesslog_no_truncate() RETURNS trigger AS $$
DECLARE
    has_rows boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO has_rows;
    IF has_rows THEN
        RAISE EXCEPTION 'registry_accesslog is append-only (UU PDP art. 31): TRUNCATE refused';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""
PG_TRUNCATE_TRIGGER = """
CREATE TRIGGER registry_accesslog_no_truncate
BEFORE TRUNCATE ON registry_accesslog
FOR EACH STATEMENT EXECUTE FUNCTION registry_accesslog_no_truncate();
"""
SQLITE_TRIGGERS = {
    "registry_accesslog_no_update": """
CREATE TRIGGER registry_accesslog_no_update BEFORE UPDATE ON registry_accesslog
BEGIN SELECT RAISE(ABORT, 'registry_accesslog is append-only (UU PDP art. 31): UPDATE refused'); END;
""",
    "registry_accesslog_no_delete": """
CREATE TRIGGER registry_accesslog_no_delete BEFORE DELETE ON registry_accesslog
BEGIN SELECT RAISE(ABORT, 'registry_accesslog is append-only (UU PDP art. 31): DELETE refused'); END;
""",
}


def drop_row_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS registry_accesslog_append_only ON registry_accesslog")


def create_row_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_ROW_TRIGGER)


def chain_existing_rows(apps, schema_editor):
    """Chain the rows already logged, in insertion order. Streams; writes back in batches."""
    access_log = apps.get_model("registry", "AccessLog")
    rows = access_log.objects.order_by("id").values_list(
        "id", "at", "user_id", "action", "resident_id", "ip_address", "detail"
    )
    prev_hash, batch = "", []
    for seq, (row_id, at, user_id, action, resident_id, ip_address, detail) in enumerate(
        rows.iterator(chunk_size=2000), start=1
    ):
        row_hash = access_log_row_hash(
            seq=seq,
            at=at,
            user_id=user_id,
            action=action,
            resident_id=resident_id,
            ip_address=ip_address,
            detail=detail,
            prev_hash=prev_hash,
        )
        batch.append(access_log(id=row_id, seq=seq, prev_hash=prev_hash, hash=row_hash))
        prev_hash = row_hash
        if len(batch) >= 1000:
            access_log.objects.bulk_update(batch, ["seq", "prev_hash", "hash"])
            batch = []
    if batch:
        access_log.objects.bulk_update(batch, ["seq", "prev_hash", "hash"])


def install_append_only_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_ROW_TRIGGER)
        schema_editor.execute(PG_TRUNCATE_FUNCTION, params=None)
        schema_editor.execute(PG_TRUNCATE_TRIGGER)
    elif vendor == "sqlite":
        for sql in SQLITE_TRIGGERS.values():
            schema_editor.execute(sql)


def remove_append_only_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS registry_accesslog_no_truncate ON registry_accesslog")
        schema_editor.execute("DROP FUNCTION IF EXISTS registry_accesslog_no_truncate()")
        schema_editor.execute("DROP TRIGGER IF EXISTS registry_accesslog_append_only ON registry_accesslog")
    elif vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0016_accesslog_lookup_staff_change")]

    operations = [
        migrations.RunPython(drop_row_trigger, create_row_trigger),
        migrations.AddField(
            model_name="accesslog",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, null=True, verbose_name="urutan"),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="prev_hash",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=64, verbose_name="hash sebelumnya"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accesslog",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="hash"),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="accesslog",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, unique=True, verbose_name="urutan"),
        ),
        migrations.AddConstraint(
            model_name="accesslog",
            constraint=models.CheckConstraint(condition=Exact(Length("hash"), 64), name="accesslog_hash_set"),
        ),
        migrations.AddConstraint(
            model_name="accesslog",
            constraint=models.CheckConstraint(
                condition=In(Length("prev_hash"), [0, 64]), name="accesslog_prev_hash_set"
            ),
        ),
        migrations.RunPython(install_append_only_triggers, remove_append_only_triggers),
    ]
