"""The import itself, the same for the command line and the Celery task.

1. Read: stream the file; each row is checked in Python (NIK/KK validator, dates, region table) and
   either streamed into a session-private staging table (COPY on PostgreSQL, executemany on SQLite) or
   written to ImportRowError. Progress and a cancel check every `block_rows` rows.
2. Check: NIKs that appear more than once in the file are refused, every occurrence (set-based).
3. Merge: in chunks of `merge_rows`, one transaction each, set-based SQL: first the scope check (a row whose
   NIK belongs to a resident registered outside the importing office's region, whose KK belongs to a family
   outside it, or whose desa lies outside it, is refused into ImportRowError and leaves the chunk), then new
   families by KK, a ResidentChange for every resident whose values differ (before overwriting them), then
   INSERT ... ON CONFLICT (nik) DO UPDATE ... WHERE something differs, then family heads. A cancelled or
   crashed import leaves whole chunks merged and nothing half-written; running it again is harmless,
   since an unchanged row writes nothing. Residents whose kecamatan changed are announced
   (registry.signals.residents_moved) inside the chunk's transaction.

The scope check is an oracle: a refused row tells the importer that its NIK or KK is registered in another
region, while a brand-new NIK with the same other values imports. That cannot be hidden without refusing real
work (a resident registered in Pacitan appears in Ponorogo's next SIAK export after moving, and must be refused
there until Pacitan's record moves). So the report says no more than it must: every scope refusal of a row is
one ImportRowError with one generic reason, the same whether the resident, the family or the desa lies outside;
and the import writes one AccessLog LOOKUP row, on its uploader, counting the rows it refused so, which audits
probing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from messaging.system_text import fit, system_text
from registry import clock
from registry.importer.columns import STAGED_FIELDS, HeaderError, HeaderMap, RowParser, map_header
from registry.importer.reader import open_table
from registry.importer.regions import RegionIndex
from registry.models import AccessLog, FamilyRelation, ImportRowError, Resident, ResidentImport
from registry.nik import BulkNumberChecker
from registry.regions import region_codes, region_exists
from registry.signals import residents_moved

logger = logging.getLogger(__name__)

BLOCK_ROWS = 50_000
MERGE_ROWS = 100_000
MAX_CHUNKS = 10
BULK_MIN_ROWS = 100_000  # new residents from which a first load rebuilds indexes instead of maintaining them
_ABOVE_EVERY_NIK = "9" * 17  # sorts after every 16-digit string in any collation
ProgressCallback = Callable[[ResidentImport], None]
_Statements = dict[str, Any]  # a chunk's SQL by name

_STAGING_TYPES = {
    "row_no": "INTEGER NOT NULL",
    "birth_date": "DATE NOT NULL",
    "biometric_recorded": "BOOLEAN",  # NULL: the cell was empty
}
_BOOLEANS = {"biometric_recorded"}
# Fields whose change is recorded, in the order they appear in a ResidentChange (the NIK is the key; a KK
# change is recorded as the family's number).
_TRACKED = tuple(f for f in STAGED_FIELDS if f not in ("nik", "kk_number"))


class ImportCancelled(Exception):
    pass


def outside_reason() -> str:
    """The one reason an import gives for a row it refuses because of its scope: the same whether the row's
    resident (NIK), family (KK) or desa lies outside, so the report is no register of who lives elsewhere."""
    return _(
        "baris ini menyangkut penduduk, keluarga atau desa di luar wilayah kantor Anda; baris ditolak dan data "
        "penduduk tidak diubah"
    )


class _Dialect:
    """The few places where PostgreSQL and SQLite SQL differ."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"

    def json_object(self, pairs: Iterable[str]) -> str:
        body = ", ".join(pairs)
        return (
            f"jsonb_strip_nulls(jsonb_build_object({body}))"
            if self.postgres
            else f"json_patch('{{}}', json_object({body}))"
        )

    def json_array(self, *items: str) -> str:
        return f"{'jsonb_build_array' if self.postgres else 'json_array'}({', '.join(items)})"

    def json_boolean(self, expression: str) -> str:
        """A boolean as JSON true/false (SQLite stores booleans as 0/1, which json_array would keep)."""
        return expression if self.postgres else f"CASE WHEN {expression} THEN json('true') ELSE json('false') END"

    def create_staging(self, cursor, table: str) -> None:
        columns = ", ".join(f"{c} {_STAGING_TYPES.get(c, 'TEXT NOT NULL')}" for c in ("row_no", *STAGED_FIELDS))
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {table} ({columns})")

    def copy_rows(self, cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        names = ", ".join(columns)
        if self.postgres:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _Run:
    def __init__(
        self, job: ResidentImport, path: str, on_progress, block_rows: int, merge_rows: int, bulk_min_rows: int | None
    ) -> None:
        self.bulk_min_rows = bulk_min_rows
        self.job = job
        self.path = path
        self.on_progress = on_progress or (lambda job: None)
        self.block_rows = block_rows
        self.merge_rows = merge_rows
        self.dialect = _Dialect()
        self.staging = f"import_staging_{job.pk}"
        self.now = connection.ops.adapt_datetimefield_value(clock.now())
        # The importing office's region: the only residents and families this import may create or change
        # (None: a platform import without an office, the whole country).
        self.scope: str | None = job.office.region_id if job.office_id else None
        self.refusal_params: dict[str, str] = {}
        self.outside_rows = 0  # rows the scope check refused, in committed chunks (audited at the end)

    def in_scope(self, column: str) -> str:
        """SQL that is true when the region code in `column` lies in the import's scope (NULL for NULL)."""
        if self.scope is None:
            return "(1 = 1)"
        return f"({column} = %(scope)s OR {column} LIKE %(scope_below)s)"

    # -- bookkeeping ---------------------------------------------------------------------------------

    def save(self, **fields) -> None:
        """Write counters/state to the row (an UPDATE, so a concurrent cancel request is not overwritten)."""
        ResidentImport.objects.filter(pk=self.job.pk).update(heartbeat_at=clock.now(), **fields)
        self.job.refresh_from_db()
        self.on_progress(self.job)

    def audit_outside_rows(self) -> None:
        """One AccessLog LOOKUP row for the whole import, on its uploader, when the scope check refused rows:
        each refusal answered whether a NIK or KK is registered elsewhere, so probing leaves a trace. (An
        import started from the command line without --user has no account to log; the log line keeps it.)"""
        if not self.outside_rows:
            return
        if self.job.created_by_id is None:
            logger.warning("resident import %s: %s rows outside the office's region", self.job.pk, self.outside_rows)
            return
        detail = system_text(
            gettext_noop("Impor penduduk #%(job)s: %(rows)d baris menyangkut data di luar wilayah kantor, ditolak"),
            job=self.job.pk,
            rows=self.outside_rows,
        )
        AccessLog.objects.append(user_id=self.job.created_by_id, action=AccessLog.Action.LOOKUP, detail=detail)

    def check_cancel(self) -> None:
        if ResidentImport.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise ImportCancelled

    # -- 1. read -------------------------------------------------------------------------------------

    def read(self, cursor) -> HeaderMap:
        with open_table(self.path) as table:
            header = map_header(table.header)
            self.save(file_format=table.description, ignored_columns=header.ignored, rows_total=table.rows_total)
            region_codes()  # load the cached code set now: rows stream into COPY, when no query can run
            parser = RowParser(
                header,
                RegionIndex(self.job.office.region_id if self.job.office_id else None),
                BulkNumberChecker(region_exists=region_exists),
                typed=table.typed,
                check_nul=table.may_hold_nul,
            )
            self.dialect.create_staging(cursor, self.staging)
            numbered = ((row_no, row) for row_no, row in enumerate(table.rows, start=2) if any(row))
            while True:
                read, refused = self._stage_block(cursor, parser.parse, islice(numbered, self.block_rows))
                if not read:
                    break
                self.save(rows_read=F("rows_read") + read, rows_refused=F("rows_refused") + refused)
                self.check_cancel()
        return header

    def _stage_block(self, cursor, parse, block: Iterable[tuple[int, Sequence[object]]]) -> tuple[int, int]:
        """Stream one block of rows into the staging table (rows are never held in a list); returns
        (rows read, rows refused)."""
        errors: list[ImportRowError] = []
        job_id = self.job.pk
        counts = [0, 0]

        def good():
            for row_no, row in block:
                counts[0] += 1
                result = parse(row_no, row)
                if type(result) is tuple:
                    yield result
                    continue
                counts[1] += 1
                for column, value, reason in result:
                    errors.append(
                        ImportRowError(
                            resident_import_id=job_id,
                            row_number=row_no,
                            column_name=(column or "")[:60],
                            value=str(value)[:255],
                            reason=fit(reason, 500),
                        )
                    )

        with transaction.atomic():  # a file that breaks mid-block leaves neither the block nor its errors
            self.dialect.copy_rows(cursor, self.staging, ("row_no", *STAGED_FIELDS), good())
            ImportRowError.objects.bulk_create(errors, batch_size=5000)
        return counts[0], counts[1]

    # -- 2. duplicates -------------------------------------------------------------------------------

    def refuse_duplicates(self, cursor, header: HeaderMap) -> None:
        self.save(phase=ResidentImport.Phase.CHECKING)
        stg = self.staging
        if self.dialect.postgres:
            cursor.execute(f"CREATE INDEX ON {stg} (nik)")
            cursor.execute(f"ANALYZE {stg}")
        else:
            cursor.execute(f"CREATE INDEX {stg}_nik ON {stg} (nik)")
        # Stored as a system text whose two parameters the statement fills in per row.
        reason = system_text(
            gettext_noop(
                "NIK ganda dalam berkas: ada di %(rows)s baris (pertama di baris %(first)s); semua baris ini ditolak."
            ),
            rows="{rows}",
            first="{first}",
        ).raw
        duplicates = f"SELECT nik, COUNT(*) AS n, MIN(row_no) AS first_row FROM {stg} GROUP BY nik HAVING COUNT(*) > 1"
        cursor.execute(
            f"""INSERT INTO registry_importrowerror (resident_import_id, row_number, column_name, value, reason)
                SELECT %s, s.row_no, %s, s.nik,
                       REPLACE(REPLACE(%s, '{{rows}}', CAST(d.n AS TEXT)), '{{first}}', CAST(d.first_row AS TEXT))
                FROM {stg} s JOIN ({duplicates}) d ON d.nik = s.nik""",
            [self.job.pk, header.labels["nik"], reason],
        )
        refused = cursor.rowcount
        if refused:
            cursor.execute(f"DELETE FROM {stg} WHERE nik IN (SELECT nik FROM ({duplicates}) d)")
        self.save(rows_refused=F("rows_refused") + refused)

    # -- 3. merge ------------------------------------------------------------------------------------

    def merge(self, cursor, header: HeaderMap) -> None:
        self.save(phase=ResidentImport.Phase.MERGING)
        # Every chunk-th NIK in order starts a chunk; the last chunk ends above any 16-digit number. At most
        # about MAX_CHUNKS chunks: each chunk joins the whole family table, so a big file gets bigger chunks.
        cursor.execute(f"SELECT COUNT(*) FROM {self.staging}")
        chunk = max(self.merge_rows, -(-cursor.fetchone()[0] // MAX_CHUNKS))
        cursor.execute(
            f"SELECT nik FROM (SELECT nik, ROW_NUMBER() OVER (ORDER BY nik) AS n FROM {self.staging}) x "
            "WHERE (x.n - 1) %% %s = 0 ORDER BY nik",
            [chunk],
        )
        starts = [nik for (nik,) in cursor.fetchall()]
        if not starts:
            return
        self._prepare_check(cursor, header)
        bounds = list(zip(starts, [*starts[1:], _ABOVE_EVERY_NIK], strict=True))
        if self._bulk_load_pays(cursor):
            with transaction.atomic():
                rebuild = self._drop_secondary_structures(cursor)
                statements = self._merge_statements(header.fields, bulk=True)
                self._merge_and_count(cursor, statements, [starts[0], _ABOVE_EVERY_NIK])
                self._rebuild(cursor, rebuild)
        else:
            statements = self._merge_statements(header.fields)
            for low, high in bounds:
                with transaction.atomic():
                    self._merge_and_count(cursor, statements, [low, high])
                self.check_cancel()
        if self.dialect.postgres:
            cursor.execute(
                "SELECT gin_clean_pending_list(i) FROM to_regclass('registry_resident_name_trgm') i WHERE i IS NOT NULL"
            )
            if self.job.rows_inserted > 10_000:
                cursor.execute("ANALYZE registry_resident, registry_family")  # fresh statistics after a big load

    def _prepare_check(self, cursor, header: HeaderMap) -> None:
        """The per-chunk table of staged rows that the scope check refuses or that move a resident, and the
        label and reason their ImportRowError rows carry: one for every cause, so the report does not say
        whether a NIK or KK is registered elsewhere."""
        check = f"{self.staging}_check"
        cursor.execute(f"DROP TABLE IF EXISTS {check}")
        cursor.execute(
            f"""CREATE TEMPORARY TABLE {check} (
                row_no INTEGER NOT NULL, nik TEXT NOT NULL, kk_number TEXT NOT NULL, desa_id TEXT NOT NULL,
                resident_id BIGINT, outside_resident BOOLEAN NOT NULL, outside_family BOOLEAN NOT NULL,
                outside_desa BOOLEAN NOT NULL, moved BOOLEAN NOT NULL)"""
        )
        self.refusal_params = {"nik_label": header.labels["nik"][:60], "outside": outside_reason()}

    def _merge_and_count(self, cursor, statements: _Statements, bounds: list[str]) -> None:
        counts = self._merge_chunk(cursor, statements, bounds)
        self.outside_rows += counts["refused"]
        self.save(
            rows_refused=F("rows_refused") + counts["refused"],
            rows_merged=F("rows_merged") + counts["staged"],
            rows_inserted=F("rows_inserted") + counts["inserted"],
            rows_updated=F("rows_updated") + counts["updated"],
            rows_unchanged=F("rows_unchanged") + counts["staged"] - counts["inserted"] - counts["updated"],
            families_created=F("families_created") + counts["families"],
        )

    # -- bulk load: what pg_restore does, for a first load into (nearly) empty tables ------------------

    def _bulk_load_pays(self, cursor) -> bool:
        """PostgreSQL, and at least `bulk_min_rows` new residents, more than the table already holds.

        Then dropping the secondary indexes and foreign keys, inserting, and rebuilding them is several
        times faster than maintaining them row by row. It runs as one transaction (a crash or error undoes
        all of it) and holds an exclusive lock on residents and families meanwhile, so it is kept for first
        loads: once a kabupaten is in the table, its monthly re-imports take the chunked path.
        """
        if not self.dialect.postgres or self.bulk_min_rows is None:
            return False
        cursor.execute(
            f"SELECT COUNT(*) FROM {self.staging} s WHERE NOT EXISTS "
            "(SELECT 1 FROM registry_resident r WHERE r.nik = s.nik)"
        )
        new = cursor.fetchone()[0]
        if new < self.bulk_min_rows:
            return False
        cursor.execute("SELECT COUNT(*) FROM registry_resident")
        return new >= cursor.fetchone()[0]

    _BULK_TABLES = ("registry_resident", "registry_family")

    def _drop_secondary_structures(self, cursor) -> list[str]:
        """Drop the non-unique indexes and the foreign keys of residents and families; returns the DDL that
        puts them back exactly (names and definitions as the migrations made them)."""
        # Foreign keys cannot be dropped while checks deferred earlier in the transaction are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("LOCK TABLE registry_resident, registry_family IN ACCESS EXCLUSIVE MODE")
        cursor.execute(
            """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
               FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])
               ORDER BY 1, 2""",
            [list(self._BULK_TABLES)],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
               FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique AND NOT i.indisprimary
               ORDER BY 1""",
            [list(self._BULK_TABLES)],
        )
        indexes = cursor.fetchall()
        for table, name, _definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        rebuild = [definition for _name, definition in indexes]
        rebuild += [
            f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in foreign_keys
        ]
        return rebuild

    def _rebuild(self, cursor, rebuild: list[str]) -> None:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for statement in rebuild:
            cursor.execute(statement)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _merge_chunk(self, cursor, statements: _Statements, bounds: list[str]) -> dict[str, int]:
        """Merge the staged rows whose NIK lies in [bounds[0], bounds[1]); returns what it did."""
        now = self.now
        if self.dialect.postgres:
            # New names queue in the trigram index's pending list and are folded in by bigger, sorted batches;
            # the list is emptied at the end of the import (gin_clean_pending_list) so searches stay fast.
            cursor.execute("SET LOCAL gin_pending_list_limit = '64MB'")
            cursor.execute("SET LOCAL work_mem = '128MB'")  # the chunk's sorts and hashes stay in memory
            cursor.execute("SET LOCAL jit = off")
        params = {"lo": bounds[0], "hi": bounds[1], "now": now, "job": self.job.pk, **self.refusal_params}
        if self.scope is not None:
            params |= {"scope": self.scope, "scope_below": f"{self.scope}.%"}
        refused, moved = self._check_chunk(cursor, statements, params)
        cursor.execute(statements["count"], params)
        staged = cursor.fetchone()[0]
        families = 0
        if statements.get("new_families"):
            cursor.execute(statements["new_families"], params)
        if statements["families"] and not statements.get("new_families"):
            cursor.execute(statements["families"], params)
            families = cursor.rowcount
        cursor.execute(statements["history"], params)
        updated = cursor.rowcount
        cursor.execute(statements["residents"], params)
        inserted = cursor.rowcount - updated
        if statements.get("new_families"):  # bulk load: the families, with their heads, once residents exist
            cursor.execute(statements["families"], params)
            families = cursor.rowcount
        if statements["heads"]:
            cursor.execute(statements["heads"], params)
        if moved:
            # In the chunk's transaction: what follows a resident's kecamatan (their open card requests) moves
            # with them or not at all.
            residents_moved.send(sender=Resident, resident_ids=moved, by=self.job.created_by)
        return {"staged": staged, "inserted": inserted, "updated": updated, "families": families, "refused": refused}

    def _check_chunk(self, cursor, statements: _Statements, params: dict) -> tuple[int, list[int]]:
        """The scope check and the moves of one chunk, from one join of the staged rows with the residents
        and families they name. Rows outside the scope get one ImportRowError each (the generic reason) and
        leave the staging table, so nothing of theirs is merged; returns (rows refused, ids of residents in
        scope whose kecamatan the chunk changes)."""
        check = f"{self.staging}_check"
        cursor.execute(f"DELETE FROM {check}")
        cursor.execute(statements["check"], params)
        if not cursor.rowcount:
            return 0, []
        refused = 0
        if self.scope is not None:
            cursor.execute(statements["refusal"], params)
            cursor.execute(
                f"DELETE FROM {self.staging} WHERE nik >= %(lo)s AND nik < %(hi)s "
                f"AND row_no IN (SELECT row_no FROM {check} WHERE outside_resident OR outside_family OR outside_desa)",
                params,
            )
            refused = cursor.rowcount
        cursor.execute(
            f"SELECT resident_id FROM {check} WHERE moved AND NOT (outside_resident OR outside_family OR outside_desa)"
        )
        return refused, [resident_id for (resident_id,) in cursor.fetchall()]

    def _merge_statements(self, given: set[str], *, bulk: bool = False) -> _Statements:
        """The chunk's SQL, written for the columns this file supplies (absent ones are never overwritten).

        bulk (PostgreSQL's first load, foreign keys dropped): new families get their ids from the sequence
        first, residents point at them, and the families are inserted afterwards with their heads, instead
        of inserting them headless and updating every one of them.
        """
        stg = self.staging
        d = self.dialect
        # Chunks are NIK ranges: the residents joined then lie in the same range of the NIK index, so each
        # chunk reads its own slice of the table instead of all of it.
        in_chunk = "s.nik >= %(lo)s AND s.nik < %(hi)s"
        r_in_chunk = "r.nik >= %(lo)s AND r.nik < %(hi)s"
        has_kk = "kk_number" in given
        supplied = [f for f in _TRACKED if f in given or f in ("desa_id", "kecamatan_id")]
        # The value a column gets from a staged row; `r` is the stored resident (NULL for a new one). An empty
        # recording cell says nothing, so it keeps the stored flag (a new resident starts unrecorded).
        source = {f: f"s.{f}" for f in STAGED_FIELDS}
        source["biometric_recorded"] = "COALESCE(s.biometric_recorded, r.biometric_recorded, FALSE)"

        def as_json(expression: str, field: str) -> str:
            return d.json_boolean(expression) if field in _BOOLEANS else expression

        distinct = [f"r.{f} IS DISTINCT FROM {source[f]}" for f in supplied]
        changes = [
            f"'{f}', CASE WHEN r.{f} IS DISTINCT FROM {source[f]} "
            f"THEN {d.json_array(as_json(f'r.{f}', f), as_json(source[f], f))} END"
            for f in supplied
        ]
        family_join = ""
        family_id = "f.id"
        new_families = f"{stg}_families"
        if has_kk:
            family_join = "LEFT JOIN registry_family f ON f.kk_number = s.kk_number AND s.kk_number <> ''"
            if bulk:
                family_join += f" LEFT JOIN {new_families} nf ON nf.kk_number = s.kk_number"
                family_id = "COALESCE(nf.id, f.id)"
            distinct.append(f"r.family_id IS DISTINCT FROM {family_id}")
            old_kk = "(SELECT fo.kk_number FROM registry_family fo WHERE fo.id = r.family_id)"  # only when it differs
            kk_change = d.json_array(old_kk, "NULLIF(s.kk_number, '')")
            changes.append(f"'kk_number', CASE WHEN r.family_id IS DISTINCT FROM {family_id} THEN {kk_change} END")
        any_difference = " OR ".join(distinct)

        families = prepare = None
        head_first = f"CASE WHEN s.relation_to_head = '{FamilyRelation.HEAD.value}' THEN 0 ELSE 1 END"
        if has_kk and bulk:
            prepare = f"""
                CREATE TEMPORARY TABLE {new_families} ON COMMIT DROP AS
                SELECT nextval(pg_get_serial_sequence('registry_family', 'id')) AS id,
                       c.kk_number, c.address, c.rt, c.rw, c.desa_id, c.head_nik
                FROM (
                    SELECT s.kk_number, s.address, s.rt, s.rw, s.desa_id,
                           CASE WHEN s.relation_to_head = '{FamilyRelation.HEAD.value}' THEN s.nik END AS head_nik,
                           ROW_NUMBER() OVER (PARTITION BY s.kk_number ORDER BY {head_first}, s.row_no) AS pick
                    FROM {stg} s WHERE {in_chunk} AND s.kk_number <> ''
                      AND NOT EXISTS (SELECT 1 FROM registry_family e WHERE e.kk_number = s.kk_number)
                ) c WHERE c.pick = 1"""
            families = f"""
                INSERT INTO registry_family (id, kk_number, address, rt, rw, desa_id, head_id, created_at, updated_at)
                SELECT nf.id, nf.kk_number, nf.address, nf.rt, nf.rw, nf.desa_id, r.id, %(now)s, %(now)s
                FROM {new_families} nf LEFT JOIN registry_resident r ON r.nik = nf.head_nik"""
        elif has_kk:
            families = f"""
                INSERT INTO registry_family (kk_number, address, rt, rw, desa_id, created_at, updated_at)
                SELECT c.kk_number, c.address, c.rt, c.rw, c.desa_id, %(now)s, %(now)s FROM (
                    SELECT s.kk_number, s.address, s.rt, s.rw, s.desa_id,
                           ROW_NUMBER() OVER (PARTITION BY s.kk_number ORDER BY {head_first}, s.row_no) AS pick
                    FROM {stg} s WHERE {in_chunk} AND s.kk_number <> ''
                      AND NOT EXISTS (SELECT 1 FROM registry_family e WHERE e.kk_number = s.kk_number)
                ) c WHERE c.pick = 1
                ON CONFLICT (kk_number) DO NOTHING"""

        # The scope check and the moves: one join of the chunk with the residents and families its rows name.
        # A NULL (a new resident, a new KK) is neither outside nor a move.
        in_scope = self.in_scope
        check_table = f"{stg}_check"
        outside_resident = f"NOT {in_scope('r.kecamatan_id')}"
        outside_family = f"NOT {in_scope('fc.desa_id')}" if has_kk else "1 = 0"
        outside_desa = f"NOT {in_scope('s.kecamatan_id')}"
        moved = "r.kecamatan_id <> s.kecamatan_id"
        check_family = "LEFT JOIN registry_family fc ON fc.kk_number = s.kk_number AND s.kk_number <> ''"
        check = f"""
            INSERT INTO {check_table} (row_no, nik, kk_number, desa_id, resident_id,
                                       outside_resident, outside_family, outside_desa, moved)
            SELECT s.row_no, s.nik, s.kk_number, s.desa_id, r.id,
                   COALESCE({outside_resident}, 1 = 0), COALESCE({outside_family}, 1 = 0), {outside_desa},
                   COALESCE({moved}, 1 = 0)
            FROM {stg} s LEFT JOIN registry_resident r ON r.nik = s.nik AND {r_in_chunk}
                 {check_family if has_kk else ""}
            WHERE {in_chunk} AND ({moved} OR {outside_resident} OR {outside_family} OR {outside_desa})"""
        # One row and one reason per refused row, whatever lies outside (see the module's docstring).
        refusal = f"""
            INSERT INTO registry_importrowerror (resident_import_id, row_number, column_name, value, reason)
            SELECT %(job)s, c.row_no, %(nik_label)s, c.nik, %(outside)s FROM {check_table} c
            WHERE c.outside_resident OR c.outside_family OR c.outside_desa"""

        # The scope conditions below repeat the check as the last line of defence: a resident or family moved
        # out of the scope by someone else between the check and the merge is still left alone.
        history = f"""
            INSERT INTO registry_residentchange (resident_id, resident_import_id, changed_at, changes)
            SELECT r.id, %(job)s, %(now)s, {d.json_object(changes)}
            FROM {stg} s JOIN registry_resident r ON r.nik = s.nik AND {r_in_chunk} {family_join}
            WHERE {in_chunk} AND ({any_difference}) AND {in_scope("r.kecamatan_id")}"""

        columns = ["nik", *STAGED_FIELDS[2:]]  # every resident column the staging table has, kk_number aside
        targets = [*columns, "family_id", "created_at", "updated_at"]
        sources = [source[c] for c in columns] + [family_id if has_kk else "NULL", "%(now)s", "%(now)s"]
        updates = [f"{f} = excluded.{f}" for f in supplied]
        if has_kk:
            updates.append("family_id = excluded.family_id")
        updates.append("updated_at = excluded.updated_at")
        excluded_difference = " OR ".join(
            f"registry_resident.{f} IS DISTINCT FROM excluded.{f}"
            for f in [*supplied, *(["family_id"] if has_kk else [])]
        )
        # Only new and changed rows reach the INSERT (a join, not a million index probes for an unchanged
        # file); ON CONFLICT still guards against a resident inserted meanwhile by someone else.
        residents = f"""
            INSERT INTO registry_resident ({", ".join(targets)})
            SELECT {", ".join(sources)}
            FROM {stg} s LEFT JOIN registry_resident r ON r.nik = s.nik AND {r_in_chunk} {family_join}
            WHERE {in_chunk} AND (r.id IS NULL OR {any_difference})
            ORDER BY s.nik
            ON CONFLICT (nik) DO UPDATE SET {", ".join(updates)}
            WHERE ({excluded_difference}) AND {in_scope("registry_resident.kecamatan_id")}"""

        heads = None
        not_new_family = f"AND NOT EXISTS (SELECT 1 FROM {new_families} nf WHERE nf.kk_number = s.kk_number)"
        not_new_family = not_new_family if bulk else ""
        if has_kk and "relation_to_head" in given:
            family_fields = [f for f in ("address", "rt", "rw", "desa_id") if f in given or f == "desa_id"]
            sets = ", ".join(f"{f} = h.{f}" for f in family_fields)
            differs = " OR ".join(f"registry_family.{f} IS DISTINCT FROM h.{f}" for f in family_fields)
            heads = f"""
                UPDATE registry_family SET head_id = h.resident_id, {sets}, updated_at = %(now)s
                FROM (
                    SELECT s.kk_number, r.id AS resident_id, {", ".join(f"s.{f}" for f in family_fields)}
                    FROM {stg} s JOIN registry_resident r ON r.nik = s.nik AND {r_in_chunk}
                    WHERE {in_chunk} AND s.relation_to_head = '{FamilyRelation.HEAD.value}' AND s.kk_number <> ''
                    {not_new_family}
                ) h
                WHERE registry_family.kk_number = h.kk_number AND {in_scope("registry_family.desa_id")}
                  AND (registry_family.head_id IS DISTINCT FROM h.resident_id OR {differs})"""

        return {
            "check": check,
            "refusal": refusal,
            "count": f"SELECT COUNT(*) FROM {stg} s WHERE {in_chunk}",
            "new_families": prepare,
            "families": families,
            "history": history,
            "residents": residents,
            "heads": heads,
        }


def import_residents(
    job: ResidentImport,
    path: str,
    *,
    on_progress: ProgressCallback | None = None,
    block_rows: int = BLOCK_ROWS,
    merge_rows: int = MERGE_ROWS,
    bulk_min_rows: int | None = BULK_MIN_ROWS,
) -> ResidentImport:
    """Run `job` on the file at `path` to its end (done, failed or cancelled) and return it refreshed.

    Safe to run again on the same job (a redelivered task): it starts over, and what was already merged
    is found unchanged.
    """
    run = _Run(job, path, on_progress, block_rows, merge_rows, bulk_min_rows)
    ImportRowError.objects.filter(resident_import=job).delete()
    run.save(
        status=ResidentImport.Status.RUNNING,
        phase=ResidentImport.Phase.READING,
        started_at=clock.now(),
        finished_at=None,
        message="",
        **dict.fromkeys(
            ("rows_read", "rows_merged", "rows_inserted", "rows_updated", "rows_unchanged", "rows_refused"), 0
        ),
        families_created=0,
    )
    outcome: dict[str, object] = {"status": ResidentImport.Status.DONE, "phase": ResidentImport.Phase.FINISHED}
    with translation.override("id"), connection.cursor() as cursor:
        try:
            if not job.file_sha256:
                run.save(file_sha256=file_sha256(path))
            header = run.read(cursor)
            run.refuse_duplicates(cursor, header)
            run.check_cancel()
            run.merge(cursor, header)
        except HeaderError as exc:
            outcome = {"status": ResidentImport.Status.FAILED, "message": exc.args[0] if exc.args else str(exc)}
        except ImportCancelled:
            outcome = {
                "status": ResidentImport.Status.CANCELLED,
                "message": system_text(gettext_noop("Dibatalkan oleh petugas.")),
            }
        except Exception as exc:
            # The exception text may quote a row (a NIK): only its type goes to the log and the page.
            sqlstate = getattr(exc.__cause__, "sqlstate", None) or ""
            logger.error("resident import %s failed: %s %s", job.pk, type(exc).__name__, sqlstate)
            outcome = {
                "status": ResidentImport.Status.FAILED,
                "message": system_text(
                    gettext_noop(
                        "Impor berhenti karena kesalahan sistem (%(error)s). Bagian yang sudah tersimpan tetap utuh; "
                        "impor ulang berkas yang sama aman."
                    ),
                    error=type(exc).__name__,
                ),
            }
        finally:
            try:
                cursor.execute(f"DROP TABLE IF EXISTS {run.staging}")
                cursor.execute(f"DROP TABLE IF EXISTS {run.staging}_check")
            except Exception:  # a broken connection drops its temporary tables itself
                logger.warning("resident import %s: staging table not dropped", job.pk)
        run.audit_outside_rows()
    run.save(finished_at=clock.now(), **outcome)
    return run.job
