"""The access log is append-only in the database too: on PostgreSQL a trigger refuses UPDATE and DELETE,
whoever sends them (the admin, a shell, a bulk `.update()`)."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION registry_accesslog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'registry_accesslog is append-only (UU PDP art. 31): % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = """
CREATE TRIGGER registry_accesslog_append_only
BEFORE UPDATE OR DELETE ON registry_accesslog
FOR EACH ROW EXECUTE FUNCTION registry_accesslog_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)
        schema_editor.execute(TRIGGER)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS registry_accesslog_append_only ON registry_accesslog")
        schema_editor.execute("DROP FUNCTION IF EXISTS registry_accesslog_append_only()")


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_saved_search")]
    operations = [migrations.RunPython(create, drop)]
