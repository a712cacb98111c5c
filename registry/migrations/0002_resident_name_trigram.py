"""Name search (`full_name__icontains`) on millions of residents: a trigram index on PostgreSQL.

Django's icontains compiles to UPPER(full_name::text) LIKE UPPER('%...%'), so the index is on that
expression. pg_trgm is a trusted extension, so the database owner may create it. Other databases
(the embedded SQLite default) skip this migration's SQL.
"""

from django.db import migrations

INDEX = "registry_resident_name_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS {INDEX} ON registry_resident USING gin ((UPPER("full_name"::text)) gin_trgm_ops)'
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
