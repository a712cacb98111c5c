"""The access log is a hash chain nobody can shorten or edit quietly (issue 12): every row is appended through
AccessLog.objects.append / append_many, the database refuses UPDATE, DELETE (both vendors) and TRUNCATE
(PostgreSQL), and `manage.py accesslog_verify` finds the first broken link."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from registry.audit import access_log_row_hash
from registry.models import AccessLog
from tests.access_log import access_log_raw

REVEAL = AccessLog.Action.REVEAL_NIK


def _append(user, count: int, *, resident=None) -> list[AccessLog]:
    return [
        AccessLog.objects.append(user=user, action=REVEAL, resident=resident, detail=f"baris {n}")
        for n in range(1, count + 1)
    ]


def _verify(*args: str) -> str:
    out = StringIO()
    call_command("accesslog_verify", *args, stdout=out)
    return out.getvalue()


def _verify_fails() -> CommandError:
    with pytest.raises(CommandError) as failure:
        _verify()
    return failure.value


def test_appended_rows_are_chained_in_order_and_verify(clerk, resident_a, frozen_now):
    rows = _append(clerk, 3, resident=resident_a)

    stored = list(AccessLog.objects.order_by("seq"))
    assert [row.seq for row in stored] == [1, 2, 3]
    assert [row.pk for row in stored] == [row.pk for row in rows]
    assert stored[0].prev_hash == ""
    assert stored[1].prev_hash == stored[0].hash and stored[2].prev_hash == stored[1].hash
    assert stored[0].hash == access_log_row_hash(
        seq=1,
        at=frozen_now,
        user_id=clerk.pk,
        action=REVEAL,
        resident_id=resident_a.pk,
        ip_address=None,
        detail="baris 1",
        prev_hash="",
    )
    assert "3 baris diperiksa" in _verify() and f"--known-head 3:{stored[2].hash}" in _verify()


def test_the_views_write_chained_rows(client, clerk, resident_a, resident_b):
    client.force_login(clerk)
    client.post(f"/penduduk/{resident_a.pk}/nik/")  # access_log_record
    assert client.post("/penduduk/", {"q": resident_a.nik}).status_code == 302  # the NIK search: append_many

    assert list(AccessLog.objects.order_by("seq").values_list("seq", "action")) == [
        (1, "reveal_nik"),
        (2, "search_nik"),
    ]
    assert "2 baris diperiksa" in _verify()


def test_django_create_and_bulk_create_are_chained_too(clerk):
    first = AccessLog.objects.create(user=clerk, action=REVEAL, detail="create")
    AccessLog.objects.bulk_create([AccessLog(user=clerk, action=REVEAL, detail=f"bulk {n}") for n in (1, 2)])

    assert first.seq == 1
    assert list(AccessLog.objects.order_by("seq").values_list("seq", "detail")) == [
        (1, "create"),
        (2, "bulk 1"),
        (3, "bulk 2"),
    ]
    assert "3 baris diperiksa" in _verify()


def test_a_row_saved_around_the_chain_is_refused_by_the_database(clerk):
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessLog(user=clerk, action=REVEAL, seq=1, detail="tanpa hash").save()
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("address", ["10.0.0.1", "2001:db8::1", "::ffff:10.0.0.1", "2001:0db8:0:0:0:0:0:0002"])
def test_addresses_hash_the_same_as_they_read_back(clerk, address):
    AccessLog.objects.append(user=clerk, action=REVEAL, ip_address=address)
    AccessLog.objects.append(user=clerk, action=REVEAL, ip_address=address)
    assert "2 baris diperiksa" in _verify()


def test_verify_streams_in_chunks(clerk):
    _append(clerk, 5)
    assert "5 baris diperiksa" in _verify("--chunk-size", "2")


def test_an_empty_log_verifies(db):
    assert "0 baris diperiksa" in _verify()


def test_a_changed_row_is_detected(clerk):
    rows = _append(clerk, 3)
    access_log_raw("UPDATE registry_accesslog SET detail = %s WHERE id = %s", ["dihapus", rows[1].pk])

    failure = _verify_fails()
    assert failure.returncode == 1
    assert f"baris id {rows[1].pk}" in str(failure) and "diubah" in str(failure)
    assert "1 baris sebelumnya utuh" in str(failure)


def test_a_changed_row_with_its_hash_recomputed_breaks_the_next_link(clerk):
    rows = _append(clerk, 3)
    forged = access_log_row_hash(
        seq=2,
        at=rows[1].at,
        user_id=clerk.pk,
        action=REVEAL,
        resident_id=None,
        ip_address=None,
        detail="dihapus",
        prev_hash=rows[1].prev_hash,
    )
    access_log_raw(
        "UPDATE registry_accesslog SET detail = %s, hash = %s WHERE id = %s", ["dihapus", forged, rows[1].pk]
    )

    failure = _verify_fails()
    assert f"baris id {rows[2].pk}" in str(failure) and "prev_hash" in str(failure)


def test_a_deleted_middle_row_is_detected(clerk):
    rows = _append(clerk, 3)
    access_log_raw("DELETE FROM registry_accesslog WHERE id = %s", [rows[1].pk])

    failure = _verify_fails()
    assert f"baris id {rows[2].pk}" in str(failure) and "1 baris hilang" in str(failure)


def test_an_archived_head_is_the_anchor_given_with_archived_to(clerk):
    rows = _append(clerk, 4)
    access_log_raw("DELETE FROM registry_accesslog WHERE seq <= 2")

    output = _verify("--archived-to", f"2:{rows[1].hash}")
    assert "2 baris diperiksa" in output and "dari seq 3 sampai seq 4" in output
    # The success output names both values to pass on the next run.
    assert f"--known-head 4:{rows[3].hash}" in output
    assert f"--archived-to 2:{rows[1].hash}" in output


def test_a_log_that_starts_at_seq_1_names_no_archive(clerk):
    rows = _append(clerk, 2)
    output = _verify("--known-head", f"2:{rows[1].hash}")
    assert "dari seq 1 sampai seq 2" in output and "--archived-to" not in output


def test_rows_cut_off_the_head_fail_without_archived_to(clerk):
    """What the security review found: deleting the OLDEST rows (as the owner) left a chain that passed, even
    with the head recorded, and cron only looks at the exit code."""
    rows = _append(clerk, 5)
    known_head = f"5:{rows[4].hash}"
    access_log_raw("DELETE FROM registry_accesslog WHERE seq <= 3")

    for args in ([], ["--known-head", known_head]):
        with pytest.raises(CommandError) as failure:
            _verify(*args)
        assert failure.value.returncode == 1
        assert f"baris id {rows[3].pk}" in str(failure.value)
        assert f"log dimulai pada seq 4 (jangkar: setelah hash {rows[2].hash})" in str(failure.value)


def test_the_right_archived_to_passes(clerk):
    rows = _append(clerk, 5)
    access_log_raw("DELETE FROM registry_accesslog WHERE seq <= 3")

    output = _verify("--known-head", f"5:{rows[4].hash}", "--archived-to", f"3:{rows[2].hash}")
    assert "2 baris diperiksa" in output and f"--archived-to 3:{rows[2].hash}" in output


@pytest.mark.parametrize(
    "archived_to",
    [
        pytest.param(lambda rows: f"2:{rows[1].hash}", id="more-rows-deleted-than-archived"),
        pytest.param(lambda rows: f"3:{rows[1].hash}", id="wrong-hash"),
        pytest.param(lambda rows: f"4:{rows[3].hash}", id="archive-ends-after-the-anchor"),
    ],
)
def test_a_wrong_archived_to_fails(clerk, archived_to):
    rows = _append(clerk, 5)
    access_log_raw("DELETE FROM registry_accesslog WHERE seq <= 3")

    with pytest.raises(CommandError, match="padahal arsip berakhir") as failure:
        _verify("--archived-to", archived_to(rows))
    assert failure.value.returncode == 1 and f"baris id {rows[3].pk}" in str(failure.value)


def test_archived_to_fails_when_the_log_still_starts_at_seq_1(clerk):
    """The archive says rows up to seq 2 are gone, yet seq 1 is there: a chain built again from seq 1."""
    rows = _append(clerk, 3)
    with pytest.raises(CommandError, match="padahal arsip berakhir"):
        _verify("--archived-to", f"2:{rows[1].hash}")


def test_archived_to_fails_on_an_emptied_log(clerk):
    rows = _append(clerk, 3)
    access_log_raw("DELETE FROM registry_accesslog")
    with pytest.raises(CommandError, match="log kosong"):
        _verify("--archived-to", f"2:{rows[1].hash}")


def test_a_known_head_older_than_the_anchor_fails(clerk):
    """The head the operator recorded was cut off with the rows before it, even if the archive matches."""
    rows = _append(clerk, 5)
    access_log_raw("DELETE FROM registry_accesslog WHERE seq <= 3")

    for known_head in (f"1:{rows[0].hash}", f"3:{rows[2].hash}"):
        with pytest.raises(CommandError, match=f"seq {known_head.split(':')[0]} yang dicatat tidak ada lagi"):
            _verify("--known-head", known_head, "--archived-to", f"3:{rows[2].hash}")


@pytest.mark.postgres_only  # the review's probe, as the table owner on its own connection
@pytest.mark.django_db(transaction=True)
def test_the_owner_deleting_the_oldest_rows_is_caught(clerk, resident_a):
    rows = [AccessLog.objects.append(user=clerk, action=REVEAL, resident=resident_a, detail=f"r{n}") for n in range(5)]
    head = _verify().split("--known-head ")[1].split()[0]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE registry_accesslog DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM registry_accesslog WHERE seq <= 3")
        cursor.execute("ALTER TABLE registry_accesslog ENABLE TRIGGER USER")

    for args in ([], ["--known-head", head], ["--known-head", f"1:{rows[0].hash}"]):
        with pytest.raises(CommandError) as failure:
            _verify(*args)
        assert failure.value.returncode == 1
    assert "2 baris diperiksa" in _verify("--known-head", head, "--archived-to", f"3:{rows[2].hash}")


def test_a_head_removed_without_an_anchor_is_detected(clerk):
    rows = _append(clerk, 3)
    access_log_raw("DELETE FROM registry_accesslog WHERE seq = 1")
    access_log_raw("UPDATE registry_accesslog SET prev_hash = '' WHERE seq = 2")

    assert f"baris id {rows[1].pk}" in str(_verify_fails())


def _rewrite_from(rows: list[AccessLog], index: int, detail: str) -> None:
    """What an owner who knows the hash function can do: change a row and re-hash every row after it."""
    prev_hash = rows[index].prev_hash
    for n, row in enumerate(rows[index:], start=index):
        new_detail = detail if n == index else row.detail
        row_hash = access_log_row_hash(
            seq=row.seq,
            at=row.at,
            user_id=row.user_id,
            action=row.action,
            resident_id=row.resident_id,
            ip_address=row.ip_address,
            detail=new_detail,
            prev_hash=prev_hash,
        )
        access_log_raw(
            "UPDATE registry_accesslog SET detail = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [new_detail, prev_hash, row_hash, row.pk],
        )
        prev_hash = row_hash


def test_a_rewritten_chain_is_caught_by_the_recorded_head(clerk):
    rows = _append(clerk, 3)
    known_head = f"3:{rows[2].hash}"
    _rewrite_from(rows, 1, "dihapus")
    assert "3 baris diperiksa" in _verify()  # the chain alone holds

    with pytest.raises(CommandError, match="ditulis ulang") as failure:
        _verify("--known-head", known_head)
    assert f"baris id {rows[2].pk}" in str(failure.value)


def test_a_cut_off_tail_is_caught_by_the_recorded_head(clerk):
    rows = _append(clerk, 3)
    known_head = f"3:{rows[2].hash}"
    access_log_raw("DELETE FROM registry_accesslog WHERE seq = 3")
    assert "2 baris diperiksa" in _verify()  # the chain alone holds

    with pytest.raises(CommandError, match="seq 3 yang dicatat tidak ada lagi"):
        _verify("--known-head", known_head)
    assert "2 baris diperiksa" in _verify("--known-head", f"2:{rows[1].hash}")  # a recorded row still there


def test_update_and_delete_are_refused_by_the_database(clerk):
    row = _append(clerk, 1)[0]
    for sql in (
        "UPDATE registry_accesslog SET detail = 'dihapus'",
        f"DELETE FROM registry_accesslog WHERE id = {row.pk}",
        "DELETE FROM registry_accesslog",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AccessLog.objects.get().detail == "baris 1"


def test_append_only_triggers_are_installed(db):
    """SQLite drops a table's triggers when a migration remakes it: this fails until they are put back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'registry_accesslog'::regclass "
                "AND NOT tgisinternal AND tgenabled = 'O'"
            )
            expected = {"registry_accesslog_append_only", "registry_accesslog_no_truncate"}
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'registry_accesslog'")
            expected = {"registry_accesslog_no_update", "registry_accesslog_no_delete"}
        assert {name for (name,) in cursor.fetchall()} == expected


@pytest.mark.postgres_only  # appenders on their own connections, at once
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain(clerk, supervisor):
    writers, each = 8, 10
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(user) -> None:
        try:
            barrier.wait()
            for n in range(each):
                if n % 2:
                    AccessLog.objects.append(user=user, action=REVEAL, detail=f"satu {n}")
                else:
                    AccessLog.objects.append_many(
                        [AccessLog(user=user, action=REVEAL, detail=f"dua {n}") for _ in range(2)]
                    )
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(clerk if i % 2 else supervisor,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    total = writers * (each // 2 * 2 + each // 2)
    assert list(AccessLog.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, total + 1))
    assert f"{total} baris diperiksa" in _verify()
