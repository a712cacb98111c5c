"""Give the application's database role what the web and Celery processes need, and no more.

Run as the role that owns the tables (the one that runs `migrate`), after every `migrate`: it revokes and
grants again, so it is idempotent and a table added by a migration is covered. The app role gets SELECT,
INSERT, UPDATE and DELETE on the app's tables and USAGE, SELECT on their sequences, but only SELECT and
INSERT on the access log: it cannot change, delete, truncate or disable the triggers of what it logged
(ALTER TABLE needs ownership, which stays with the migration role).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

ACCESS_LOG_TABLE = "registry_accesslog"
MIGRATIONS_TABLE = "django_migrations"


class Command(BaseCommand):
    help = (
        "PostgreSQL: beri peran database aplikasi (mis. ektp_app) hak SELECT/INSERT/UPDATE/DELETE atas tabel "
        "aplikasi, tetapi hanya SELECT dan INSERT atas log akses. Jalankan sebagai pemilik tabel setelah migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="Peran yang dipakai DATABASE_URL proses web dan Celery.")

    def handle(self, *args, role: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                f"db_grant_app_role hanya untuk PostgreSQL; basis data ini {connection.vendor}, yang tidak punya "
                "peran: log akses di sana dilindungi oleh trigger dan rantai hash saja."
            )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper, current_user, current_schema() FROM pg_roles WHERE rolname = %s",
                [role],
            )
            found = cursor.fetchone()
            if found is None:
                raise CommandError(f"Peran {role!r} tidak ada. Buat dulu: CREATE ROLE {role} LOGIN PASSWORD '...';")
            is_super, current_user, schema = found
            if role == current_user:
                raise CommandError(
                    f"{role!r} adalah peran koneksi ini (pemilik/migrasi). Peran aplikasi harus peran lain."
                )
            if is_super:
                raise CommandError(f"{role!r} adalah superuser: hak akses tidak berlaku baginya.")
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s AND tableowner = %s", [schema, role])
            owned = [name for (name,) in cursor.fetchall()]
            if owned:
                raise CommandError(
                    f"{role!r} memiliki tabel ({', '.join(sorted(owned))}); pemilik bisa mematikan trigger. "
                    "Alihkan kepemilikan ke peran migrasi (ALTER TABLE ... OWNER TO ...) lalu jalankan lagi."
                )

        tables = sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))
        if ACCESS_LOG_TABLE not in tables:
            raise CommandError(f"Tabel {ACCESS_LOG_TABLE} belum ada: jalankan migrate dulu.")
        quote = connection.ops.quote_name
        grantee = quote(role)
        statements = [f"GRANT USAGE ON SCHEMA {quote(schema)} TO {grantee}"]
        for table in tables:
            privileges = "SELECT, INSERT" if table == ACCESS_LOG_TABLE else "SELECT, INSERT, UPDATE, DELETE"
            statements.append(f"REVOKE ALL ON TABLE {quote(table)} FROM {grantee}")
            statements.append(f"GRANT {privileges} ON TABLE {quote(table)} TO {grantee}")
        statements.append(f"REVOKE ALL ON TABLE {quote(MIGRATIONS_TABLE)} FROM {grantee}")
        statements.append(f"GRANT SELECT ON TABLE {quote(MIGRATIONS_TABLE)} TO {grantee}")
        statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quote(schema)} TO {grantee}")

        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        for statement in statements:
            self.stdout.write(f"{statement};")
        self.stdout.write(
            self.style.SUCCESS(
                f"Peran {role}: SELECT/INSERT/UPDATE/DELETE atas {len(tables) - 1} tabel, hanya SELECT/INSERT atas "
                f"{ACCESS_LOG_TABLE}, SELECT atas {MIGRATIONS_TABLE}, USAGE/SELECT atas sekuens skema {schema}."
            )
        )
