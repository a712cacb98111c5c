"""Drop the varchar_pattern_ops ("_like") indexes Django adds on PostgreSQL for the unique NIK and KK
columns. They only serve LIKE 'prefix%' queries, which nothing runs on those columns (NIK and KK are
looked up exactly), and each costs index maintenance on every imported row. Other databases: nothing.
"""

from django.db import migrations

INDEXES = {
    "registry_resident_nik_ef9583d6_like": "registry_resident (nik varchar_pattern_ops)",
    "registry_family_kk_number_564cc063_like": "registry_family (kk_number varchar_pattern_ops)",
}


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, target in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0007_import_heartbeat")]
    operations = [migrations.RunPython(drop, create)]
