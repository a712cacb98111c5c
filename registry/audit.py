"""The access log's hash chain: every row carries the SHA-256 of its own content and of the row before it, so
a row changed, removed or slipped in afterwards breaks the chain where it happened (`manage.py accesslog_verify`).

The database refuses UPDATE, DELETE and TRUNCATE on the log (triggers, registry/migrations/0004 and 0017) and
the app's own role may only INSERT and SELECT it (`manage.py db_grant_app_role`); the chain is what is left
against whoever owns the tables: they can drop a trigger, but not rewrite history without it showing, as long
as the head of the chain printed by the verifier is kept somewhere they cannot reach.

Rows are chained by `seq` (1, 2, 3, ... with no gap), which is unique in the database: two appenders that read
the same last row cannot both insert, so the chain never forks. Appends are serialised so that they never
collide: on PostgreSQL by a transaction-level advisory lock, on SQLite by its IMMEDIATE transactions (one
writer at a time, settings.DATABASES).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import connections, models, transaction

from messaging.system_text import fit, raw_value
from registry import clock

if TYPE_CHECKING:
    from registry.models import AccessLog

# pg_advisory_xact_lock key of "the access log's tail" (the bytes of "ektplog"); nothing else takes it.
APPEND_LOCK_KEY = int.from_bytes(b"ektplog", "big")
HASH_VERSION = "accesslog-v1"
# The columns the chain covers, in the order accesslog_verify reads them.
# AccessLog.detail: what the hash covers is what is stored, so a system text is fitted before hashing.
DETAIL_MAX_LENGTH = 255
CHAIN_FIELDS = ("id", "seq", "at", "user_id", "action", "resident_id", "ip_address", "detail", "prev_hash", "hash")


def _canonical_ip(value: str | None) -> str | None:
    """The address as the same text whichever way it was written or read back (PostgreSQL's inet prints
    `::ffff:10.0.0.1`, Python may print `::ffff:a00:1`): the exploded form."""
    if not value:
        return None
    try:
        return ipaddress.ip_address(value).exploded
    except ValueError:
        return value


def access_log_row_hash(
    *,
    seq: int,
    at: datetime,
    user_id: int,
    action: str,
    resident_id: int | None,
    ip_address: str | None,
    detail: str,
    prev_hash: str,
) -> str:
    """Hex SHA-256 of one row's canonical serialisation: a JSON array in a fixed order, the time in UTC ISO
    8601 with microseconds. Changing this function breaks every existing chain: add a new HASH_VERSION
    instead."""
    if at.tzinfo is None:
        raise ValueError("access-log time must be aware")
    canonical = json.dumps(
        [
            HASH_VERSION,
            seq,
            at.astimezone(UTC).isoformat(timespec="microseconds"),
            user_id,
            action,
            resident_id,
            _canonical_ip(ip_address),
            detail,
            prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AccessLogQuerySet(models.QuerySet):
    """The only way rows enter the access log: `append` and `append_many`. `create` and `bulk_create` are the
    same thing under Django's names, so a plain `AccessLog.objects.create(...)` is chained too; a row saved
    any other way has no hash and the database refuses it (CheckConstraint)."""

    def append(
        self,
        *,
        user: Any = None,
        action: str,
        detail: str = "",
        resident: Any = None,
        resident_id: int | None = None,
        ip_address: str | None = None,
        user_id: int | None = None,
    ) -> AccessLog:
        """Append one row at the tail of the chain."""
        row = self.model(action=action, detail=detail, ip_address=ip_address)
        if user is not None:
            row.user = user
        elif user_id is not None:
            row.user_id = user_id
        if resident is not None:
            row.resident = resident
        elif resident_id is not None:
            row.resident_id = resident_id
        return self.append_many([row])[0]

    def append_many(self, rows: Iterable[AccessLog]) -> list[AccessLog]:
        """Append unsaved rows at the tail of the chain, in the order given, in one transaction. Invariant: the
        tail is read and extended by one appender at a time, so every row's prev_hash is the hash of the row
        with the previous seq; `at` is the time of the append (taken under the lock, so it never goes back
        along the chain on one clock)."""
        rows = list(rows)
        if not rows:
            return []
        db = self.db
        fresh = models.QuerySet(self.model, using=db)
        with transaction.atomic(using=db):
            connection = connections[db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK_KEY])
            tail = fresh.order_by("-seq").values_list("seq", "hash").first()
            seq, prev_hash = tail or (0, "")
            now = clock.now()
            for row in rows:
                if row.pk is not None:
                    raise ValueError("the access log only takes new rows")
                seq += 1
                row.seq, row.at, row.prev_hash = seq, now, prev_hash
                row.hash = access_log_row_hash(
                    seq=seq,
                    at=now,
                    user_id=row.user_id,
                    action=row.action,
                    resident_id=row.resident_id,
                    ip_address=row.ip_address,
                    detail=raw_value(fit(row.detail, DETAIL_MAX_LENGTH)),
                    prev_hash=prev_hash,
                )
                prev_hash = row.hash
            return fresh.bulk_create(rows)

    def create(self, **kwargs: Any) -> AccessLog:
        return self.append(**kwargs)

    def bulk_create(self, objs: Iterable[AccessLog], *args: Any, **kwargs: Any) -> list[AccessLog]:
        if args or kwargs:
            raise TypeError("the access log takes new rows only: no batch_size, ignore_conflicts or update_fields")
        return self.append_many(objs)


@dataclass
class ChainReport:
    """What accesslog_verify found. `broken` is None when every link holds."""

    checked: int = 0
    anchor_seq: int | None = None
    anchor_prev_hash: str = ""
    head_seq: int | None = None
    head_hash: str = ""
    broken_id: int | None = None
    broken: str | None = None

    @property
    def archived_to(self) -> tuple[int, str] | None:
        """The (seq, hash) of the last archived row that the first row follows; None when the log starts at
        seq 1 (nothing archived) or is empty."""
        if self.anchor_seq is None or self.anchor_seq == 1:
            return None
        return self.anchor_seq - 1, self.anchor_prev_hash


def access_log_chain_verify(
    rows: Iterable[tuple],
    *,
    known_head: tuple[int, str] | None = None,
    archived_to: tuple[int, str] | None = None,
) -> ChainReport:
    """Walk rows (tuples in CHAIN_FIELDS order, by seq) and stop at the first broken link. Holds one row in
    memory. The first row is the anchor: seq 1 with an empty prev_hash, or, when older rows were archived, a
    later seq whose prev_hash is the hash of the last archived row.

    Invariant: the chain passes only if it starts where the operator says it does. A first row other than
    seq 1 passes only when archived_to, the (seq, hash) of the last archived row recorded away from the
    database, is exactly (anchor seq - 1, anchor prev_hash): otherwise rows were cut off the head of the log
    (the chain alone cannot tell that from an archive). known_head is a (seq, hash) printed by an earlier run
    and kept away from the database: the chain alone cannot tell a rewritten chain or a cut-off tail from an
    honest one, that row can; it must still be in the log (not older than the anchor)."""
    report = ChainReport()
    prev_seq: int | None = None
    prev_hash = ""
    for row_id, seq, at, user_id, action, resident_id, ip_address, detail, row_prev_hash, row_hash in rows:
        if prev_seq is None:
            report.anchor_seq, report.anchor_prev_hash = seq, row_prev_hash
            problem = _anchor_problem(seq, row_prev_hash, archived_to=archived_to, known_head=known_head)
        elif seq != prev_seq + 1:
            problem = f"seq {seq} menyusul seq {prev_seq}: {seq - prev_seq - 1} baris hilang"
        elif row_prev_hash != prev_hash:
            problem = f"prev_hash tidak sama dengan hash seq {prev_seq}: ada baris yang diubah atau diganti"
        else:
            problem = None
        if problem is None:
            recomputed = access_log_row_hash(
                seq=seq,
                at=at,
                user_id=user_id,
                action=action,
                resident_id=resident_id,
                ip_address=ip_address,
                detail=raw_value(detail),  # what is stored (a system text's key and parameters), not its rendering
                prev_hash=row_prev_hash,
            )
            if recomputed != row_hash:
                problem = f"isi baris seq {seq} tidak cocok dengan hash-nya: baris ini diubah"
            elif known_head is not None and seq == known_head[0] and row_hash != known_head[1]:
                problem = f"hash seq {seq} bukan hash yang dicatat ({known_head[1]}): rantai ditulis ulang"
        if problem is not None:
            report.broken_id, report.broken = row_id, problem
            return report
        report.checked += 1
        report.head_seq, report.head_hash = seq, row_hash
        prev_seq, prev_hash = seq, row_hash
    if report.head_seq is None and archived_to is not None:
        report.broken = (
            f"log kosong, padahal --archived-to menyebut baris sampai seq {archived_to[0]} diarsipkan: "
            "baris sesudahnya dihapus"
        )
    elif known_head is not None and (report.head_seq is None or known_head[0] > report.head_seq):
        report.broken = f"seq {known_head[0]} yang dicatat tidak ada lagi: baris di akhir log dihapus"
    return report


def _anchor_problem(
    seq: int,
    prev_hash: str,
    *,
    archived_to: tuple[int, str] | None,
    known_head: tuple[int, str] | None,
) -> str | None:
    """What is wrong with the first row of the log, given the archive and the head recorded outside it."""
    if seq == 1 and prev_hash:
        return "baris pertama (seq 1) menyebut hash baris sebelumnya"
    if seq != 1 and not prev_hash:
        return f"baris pertama ber-seq {seq} tanpa hash sebelumnya: baris sebelumnya hilang"
    if archived_to is None and seq != 1:
        return (
            f"log dimulai pada seq {seq} (jangkar: setelah hash {prev_hash}), bukan seq 1: baris seq 1 sampai "
            f"{seq - 1} dihapus. Bila baris itu diarsipkan, berikan --archived-to SEQ:HASH baris terakhir arsipnya"
        )
    if archived_to is not None and archived_to != (seq - 1, prev_hash):
        return (
            f"log dimulai pada seq {seq} setelah hash {prev_hash or '(kosong)'}, padahal arsip berakhir pada "
            f"--archived-to {archived_to[0]}:{archived_to[1]}: baris di awal log dihapus atau ditulis ulang"
        )
    if known_head is not None and known_head[0] < seq:
        return (
            f"seq {known_head[0]} yang dicatat tidak ada lagi: log dimulai pada seq {seq}. Ujung yang dicatat "
            "harus selalu tetap di log (arsipkan hanya baris sebelum ujung yang terakhir dicatat)"
        )
    return None
