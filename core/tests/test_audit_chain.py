"""Tamper evidence (core.row_hashes, core.audit_chain): row hashes, seals, verification, retention.

Damage is planted as the database owner plants it - the suite's database user owns the
tables and is a superuser: past the append-only trigger with ``audit.maintenance`` on, or
with the trigger switched off - and ``verify_audit_chain`` must name it by id.
"""

import datetime
import hashlib
import io
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from core import audit_chain
from core.audit_chain import TransactionsStillOpen, chain_head, prune_access_log, seal, sign, verify
from core.models import AccessLog, AuditSeal, Patient
from core.row_hashes import (
    hash_settings,
    install_row_hashes,
    local_settings,
    maintenance,
    recompute_expression,
    table_layouts,
)
from core.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

LOG = AccessLog._meta.db_table
PATIENT_HISTORY = Patient.history.model._meta.db_table


def log_rows(count: int, **values) -> list[AccessLog]:
    return [
        AccessLog.objects.create(
            actor="psychologist",
            action=AccessLog.Action.VIEW,
            object_type="chart",
            object_id=str(n),
            **values,
        )
        for n in range(count)
    ]


def as_owner(sql: str, params: list | None = None) -> None:
    """Write as the database owner: past the append-only trigger, which only asks for the setting."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL audit.maintenance = 'on'")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL audit.maintenance = 'off'")


def stored_hash(table: str, row_id: int, pk: str = "id") -> bytes | None:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT row_hash FROM "{table}" WHERE "{pk}" = %s', [row_id])  # noqa: S608 - test names
        (value,) = cursor.fetchone()
    return None if value is None else bytes(value)


def alter(statement: str) -> None:
    """DDL as the owner, after the test's queued foreign-key checks (PostgreSQL's condition)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(statement)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def migrate_again() -> None:
    """What the next ``migrate`` does to the audit tables (its ``post_migrate`` handler).

    The test's queued foreign-key checks are run first: PostgreSQL won't alter a table
    with pending trigger events.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        install_row_hashes()
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def verify_passes(*args: str) -> str:
    out = io.StringIO()
    call_command("verify_audit_chain", *args, stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith("Audit chain intact"), out.getvalue()
    return out.getvalue()


def verify_fails(*args: str) -> list[str]:
    """The findings the command prints, after checking it exits with status 1."""
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"Audit chain damaged") as failed:
        call_command("verify_audit_chain", *args, stdout=out, stderr=io.StringIO())
    assert failed.value.returncode == 1
    return out.getvalue().splitlines()


def seal_of(row_id: int, table: str = LOG) -> AuditSeal:
    return AuditSeal.objects.get(
        kind=AuditSeal.Kind.CHAIN, table_name=table, first_id__lte=row_id, last_id__gte=row_id
    )


# Row hashes ---------------------------------------------------------------------------------------


def test_row_hash_trigger_stores_the_sha256_of_the_row_as_jsonb_text_without_its_id():
    # given
    row = log_rows(1, ip="10.0.0.7", request_id="req-1")[0]

    # then the stored hash is sha256 over every column but the id (and the hash columns)
    columns = [field.column for field in AccessLog._meta.concrete_fields if not field.primary_key]
    pairs = ", ".join(f"'{column}', \"{column}\"" for column in columns)
    with connection.cursor() as cursor, hash_settings(cursor):
        cursor.execute(
            f"SELECT hash_layout, row_hash = sha256(convert_to(jsonb_build_object({pairs})::text, 'UTF8')) "  # noqa: S608
            f"FROM {LOG} WHERE id = %s",
            [row.pk],
        )
        layout, matches = cursor.fetchone()
        assert (layout, matches) == (table_layouts(cursor, LOG)[-1].number, True)


def test_row_hash_is_the_same_whatever_the_inserting_sessions_settings():
    # given a row written by a session with another time zone, date style and bytea output
    with connection.cursor() as cursor:
        odd = [("TimeZone", "America/Caracas"), ("DateStyle", "German"), ("bytea_output", "escape")]
        with local_settings(cursor, odd):
            cursor.execute(
                f"INSERT INTO {LOG} (at, actor, action, object_type, object_id, request_id) "  # noqa: S608
                "VALUES (now(), 'ot', 'view', 'chart', '1', '') RETURNING id"
            )
            (row_id,) = cursor.fetchone()
    seal()

    # then it verifies in any session
    verify_passes("--full")
    assert stored_hash(LOG, row_id) is not None


def test_every_history_row_gets_a_row_hash():
    # given a patient saved twice (two history rows)
    patient = PatientFactory()
    patient.sex = Patient.Sex.MALE
    patient.save()

    # then
    history_ids = list(patient.history.values_list("history_id", flat=True))
    assert len(history_ids) == 2
    assert all(stored_hash(PATIENT_HISTORY, history_id, "history_id") for history_id in history_ids)


def test_audit_tables_refuse_update_and_delete_from_the_orm():
    # given
    row = log_rows(1)[0]
    patient = PatientFactory()

    # when / then: a stray update or delete of an audit row is refused by PostgreSQL
    with pytest.raises(IntegrityError, match="UPDATE on the audit table core_accesslog refused"):
        with transaction.atomic():
            AccessLog.objects.filter(pk=row.pk).update(object_id="rewritten")
    with pytest.raises(IntegrityError, match="DELETE on the audit table core_accesslog refused"):
        with transaction.atomic():
            AccessLog.objects.filter(pk=row.pk).delete()
    with pytest.raises(IntegrityError, match=f"DELETE on the audit table {PATIENT_HISTORY} refused"):
        with transaction.atomic():
            patient.history.all().delete()
    row.refresh_from_db()
    assert row.object_id == "0"


def test_audit_tables_refuse_changes_even_with_replica_role():
    # given the setting restores and replicas use to skip ordinary triggers
    row = log_rows(1)[0]

    def delete_as_a_replica() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(f"DELETE FROM {LOG} WHERE id = %s", [row.pk])  # noqa: S608

    # when / then: the append-only trigger fires always
    with pytest.raises(IntegrityError, match="append-only"):
        delete_as_a_replica()


def test_maintenance_lets_one_transaction_change_audit_rows_and_is_off_again_after():
    row = log_rows(1)[0]

    with connection.cursor() as cursor:
        with maintenance(cursor):
            AccessLog.objects.filter(pk=row.pk).update(object_id="retained")
        with pytest.raises(IntegrityError):
            with transaction.atomic():
                AccessLog.objects.filter(pk=row.pk).update(object_id="again")

    assert AccessLog.objects.get(pk=row.pk).object_id == "retained"


def test_install_row_hashes_is_idempotent():
    with connection.cursor() as cursor:
        before = table_layouts(cursor, LOG)
        migrate_again()
        migrate_again()
        assert table_layouts(cursor, LOG) == before


def test_install_row_hashes_hashes_rows_written_before_the_trigger_once():
    # given rows written while the table had no hash trigger (as before its first migrate)
    alter(f"DROP TRIGGER zz_audit_row_hash ON {LOG}")
    old = log_rows(2)
    assert [stored_hash(LOG, row.pk) for row in old] == [None, None]

    # when
    migrate_again()

    # then they are hashed, new rows are hashed by the trigger again, and all verify
    assert all(stored_hash(LOG, row.pk) for row in old)
    assert stored_hash(LOG, log_rows(1)[0].pk)
    seal()
    verify_passes("--full")


def test_a_row_written_with_its_hash_trigger_switched_off_is_reported_not_repaired():
    # given the owner writes a row with the hash trigger off
    alter(f"ALTER TABLE {LOG} DISABLE TRIGGER zz_audit_row_hash")
    row = log_rows(1)[0]
    alter(f"ALTER TABLE {LOG} ENABLE ALWAYS TRIGGER zz_audit_row_hash")

    # when a migrate runs again, the row stays without its hash
    migrate_again()

    # then
    assert stored_hash(LOG, row.pk) is None
    assert verify_fails() == [f"modified: {LOG} row {row.pk} (not sealed yet) does not match its row hash"]


def test_a_column_added_later_keeps_old_rows_verifying_with_their_layout():
    # given sealed rows, then a migration adds a column
    old = log_rows(2)
    seal()
    with connection.cursor() as cursor:
        first_layout = table_layouts(cursor, LOG)[-1]
    alter(f"ALTER TABLE {LOG} ADD COLUMN channel varchar(20) NOT NULL DEFAULT 'web'")
    migrate_again()

    # when new rows are written with the new column
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LOG} (at, actor, action, object_type, object_id, request_id, channel) "  # noqa: S608
            "VALUES (now(), 'aba', 'print', 'chart', '9', '', 'kiosk') RETURNING id"
        )
        (new_id,) = cursor.fetchone()
        new_layout = table_layouts(cursor, LOG)[-1]
        cursor.execute(
            f"SELECT id, hash_layout FROM {LOG} WHERE id = ANY(%s) ORDER BY id",  # noqa: S608
            [[old[0].pk, old[1].pk, new_id]],
        )
        layouts = dict(cursor.fetchall())

    # then the old rows keep their layout and the new one has the column in its own
    assert new_layout.number == first_layout.number + 1
    assert "channel" in new_layout.columns
    assert "channel" not in first_layout.columns
    assert layouts == {
        old[0].pk: first_layout.number,
        old[1].pk: first_layout.number,
        new_id: new_layout.number,
    }
    verify_passes()
    seal()
    verify_passes("--full")

    # and a change to the new column is caught
    as_owner(f"UPDATE {LOG} SET channel = 'phone' WHERE id = %s", [new_id])  # noqa: S608
    assert verify_fails("--full") == [
        f"modified: {LOG} row {new_id} does not match its row hash (seal {seal_of(new_id).pk})"
    ]


# Seals --------------------------------------------------------------------------------------------


def test_seal_chains_each_tables_rows_in_id_order_and_signs_each_seal(monkeypatch):
    # given five rows, sealed two per seal
    monkeypatch.setattr(audit_chain, "BATCH_ROWS", 2)
    rows = log_rows(5)

    # when
    written = seal()

    # then the access log's seals tile its ids, each chained to the one before and signed
    seals = [written_seal for written_seal in written if written_seal.table_name == LOG]
    assert [(s.row_count, s.last_id) for s in seals][:2] == [(2, rows[1].pk), (2, rows[3].pk)]
    assert seals[-1].row_count == 1
    assert seals[-1].last_id >= rows[4].pk
    previous = b""
    for sealed in seals:
        entries = bytes(sealed.entries)
        assert bytes(sealed.previous_chain) == previous
        assert bytes(sealed.chain_hash) == hashlib.sha256(previous + entries).digest()
        assert sealed.signature == sign(
            "chain", LOG, sealed.first_id, sealed.last_id, sealed.row_count, bytes(sealed.chain_hash)
        )
        previous = bytes(sealed.chain_hash)
    first = bytes(seals[0].entries)
    assert int.from_bytes(first[:8], "big") == rows[0].pk
    assert first[8:40] == stored_hash(LOG, rows[0].pk)
    # and the seal table's own seal comes last: the chain head
    assert written[-1].table_name == AuditSeal._meta.db_table
    assert chain_head() == written[-1]


def test_seal_a_second_time_with_nothing_new_writes_nothing():
    log_rows(2)
    assert seal()

    assert seal() == []


def test_seal_command_prints_the_chain_head():
    log_rows(3)
    out = io.StringIO()

    call_command("seal_audit", stdout=out, stderr=io.StringIO())

    head = chain_head()
    assert out.getvalue().startswith("Sealed ")
    assert out.getvalue().strip().endswith(f"Chain head: {head.pk}:{bytes(head.chain_hash).hex()}")


# Verification: clean data and each kind of damage -------------------------------------------------


@pytest.fixture
def sealed_log() -> list[AccessLog]:
    """Four access-log rows and a patient's history row, sealed."""
    rows = log_rows(4)
    PatientFactory()
    seal()
    return rows


def test_verify_passes_on_clean_data_incremental_and_full(sealed_log):
    log_rows(1)  # and a row not sealed yet

    out = verify_passes()
    verify_passes("--full")

    assert out.strip().endswith(f"Chain head: {chain_head().pk}:{bytes(chain_head().chain_hash).hex()}")


def test_verify_reports_a_row_modified_without_recomputing_its_hash(sealed_log):
    row = sealed_log[1]
    as_owner(f"UPDATE {LOG} SET actor = 'someone else' WHERE id = %s", [row.pk])  # noqa: S608

    assert verify_fails() == [
        f"modified: {LOG} row {row.pk} does not match its row hash (seal {seal_of(row.pk).pk})"
    ]


def test_verify_reports_a_row_modified_with_its_hash_recomputed(sealed_log):
    # given the owner rewrites a row and recomputes its row hash the way the trigger would
    row = sealed_log[2]
    with connection.cursor() as cursor, hash_settings(cursor):
        recompute = recompute_expression(cursor, LOG, "t")
        as_owner(f"UPDATE {LOG} AS t SET object_id = '999' WHERE id = %s", [row.pk])  # noqa: S608
        as_owner(f"UPDATE {LOG} AS t SET row_hash = {recompute} WHERE id = %s", [row.pk])  # noqa: S608

    # then the row matches its hash but no longer its seal
    assert verify_fails() == [
        f"modified: {LOG} row {row.pk} and its row hash were rewritten: they do not match seal "
        f"{seal_of(row.pk).pk}"
    ]


def test_verify_reports_a_deleted_row(sealed_log):
    # given the owner switches the append-only trigger off and deletes a row
    row = sealed_log[0]
    alter(f"ALTER TABLE {LOG} DISABLE TRIGGER audit_append_only")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LOG} WHERE id = %s", [row.pk])  # noqa: S608
    alter(f"ALTER TABLE {LOG} ENABLE ALWAYS TRIGGER audit_append_only")

    assert verify_fails() == [f"deleted: {LOG} row {row.pk}, sealed in seal {seal_of(row.pk).pk}, is missing"]


def test_verify_reports_a_deleted_history_row():
    # given a patient's sealed history row, deleted by the owner
    patient = PatientFactory()
    seal()
    history_id = patient.history.get().history_id
    as_owner(f'DELETE FROM "{PATIENT_HISTORY}" WHERE history_id = %s', [history_id])  # noqa: S608

    assert verify_fails() == [
        f"deleted: {PATIENT_HISTORY} row {history_id}, sealed in seal "
        f"{seal_of(history_id, PATIENT_HISTORY).pk}, is missing"
    ]


def test_verify_reports_a_row_inserted_inside_a_sealed_range():
    # given ids handed out but never committed (a rolled-back transaction), then sealed
    row = log_rows(1)[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, 3)", [LOG])
        gap = [value for (value,) in cursor.fetchall()]
    seal()

    # when the owner inserts a row with one of those ids (the trigger even hashes it)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LOG} (id, at, actor, action, object_type, object_id, request_id) "  # noqa: S608
            "VALUES (%s, now(), 'backdated', 'view', 'chart', '1', '')",
            [gap[1]],
        )

    # then
    assert seal_of(gap[1]) == seal_of(row.pk)
    assert verify_fails() == [f"inserted: {LOG} row {gap[1]} is inside the sealed range but in no seal"]


def test_verify_reports_two_rows_whose_contents_were_swapped(sealed_log):
    # given the owner swaps two sealed rows' contents, hashes included
    first, second = sealed_log[0], sealed_log[3]
    columns = [field.column for field in AccessLog._meta.concrete_fields if not field.primary_key]
    columns += ["row_hash", "hash_layout"]
    assignments = ", ".join(f'"{column}" = other."{column}"' for column in columns)
    as_owner(
        f"UPDATE {LOG} AS t SET {assignments} FROM {LOG} AS other "  # noqa: S608
        "WHERE (t.id, other.id) IN ((%s, %s), (%s, %s))",
        [first.pk, second.pk, second.pk, first.pk],
    )

    assert verify_fails() == [
        f"reordered: {LOG} row {first.pk} holds the sealed content of row {second.pk}",
        f"reordered: {LOG} row {second.pk} holds the sealed content of row {first.pk}",
    ]


def test_verify_reports_a_forged_seal_signature(sealed_log):
    # given the owner rewrites a row, its hash and its seal, but signs without the key
    row = sealed_log[1]
    sealed = seal_of(row.pk)
    with connection.cursor() as cursor, hash_settings(cursor):
        recompute = recompute_expression(cursor, LOG, "t")
        as_owner(
            f"UPDATE {LOG} AS t SET object_id = 'forged', row_hash = NULL WHERE id = %s",  # noqa: S608
            [row.pk],
        )
        as_owner(f"UPDATE {LOG} AS t SET row_hash = {recompute} WHERE id = %s", [row.pk])  # noqa: S608
    entries = bytearray(bytes(sealed.entries))
    index = next(n for n in range(0, len(entries), 40) if int.from_bytes(entries[n : n + 8], "big") == row.pk)
    entries[index + 8 : index + 40] = stored_hash(LOG, row.pk)
    chain_hash = hashlib.sha256(bytes(sealed.previous_chain) + bytes(entries)).digest()
    with override_settings(AUDIT_SEAL_KEY="a guess at the key"):
        forged = sign("chain", LOG, sealed.first_id, sealed.last_id, sealed.row_count, chain_hash)
    as_owner(
        "UPDATE core_auditseal SET entries = %s, chain_hash = %s, signature = %s WHERE id = %s",
        [bytes(entries), chain_hash, forged, sealed.pk],
    )

    # then the access-log rows match the forged seal: the forgery, and the seal row's own
    # change (the chain head seals it), are what is reported
    head = chain_head()
    assert verify_fails() == [
        f"bad_signature: chain seal {sealed.pk} of {LOG} does not carry a valid signature",
        f"modified: core_auditseal row {sealed.pk} does not match its row hash (seal {head.pk})",
    ]


def test_verify_reports_entries_changed_under_a_seals_chain_hash(sealed_log):
    sealed = seal_of(sealed_log[0].pk)
    entries = bytearray(bytes(sealed.entries))
    entries[-1] ^= 0xFF
    as_owner("UPDATE core_auditseal SET entries = %s WHERE id = %s", [bytes(entries), sealed.pk])

    lines = verify_fails()

    assert f"broken_link: the entries of seal {sealed.pk} of {LOG} do not give its chain hash" in lines


def test_verify_reports_a_seal_taken_out_of_its_chain(monkeypatch):
    # given three seals of the access log, the middle one deleted
    monkeypatch.setattr(audit_chain, "BATCH_ROWS", 2)
    rows = log_rows(6)
    seal()
    seals = list(AuditSeal.objects.filter(table_name=LOG).order_by("id"))
    as_owner("DELETE FROM core_auditseal WHERE id = %s", [seals[1].pk])

    lines = verify_fails()

    assert (
        f"broken_link: seal {seals[2].pk} of {LOG} does not continue the seal before it ({seals[0].pk})"
        in lines
    )
    assert f"inserted: {LOG} row {rows[2].pk} is inside the sealed range but in no seal" in lines
    assert f"inserted: {LOG} row {rows[3].pk} is inside the sealed range but in no seal" in lines


def test_verify_expect_head_reports_the_newest_seals_truncated(sealed_log):
    # given the head kept outside the database, then every seal deleted with the rows they covered
    head = chain_head()
    kept = f"{head.pk}:{bytes(head.chain_hash).hex()}"
    as_owner("DELETE FROM core_auditseal")

    # then without the head nothing shows; with it, the truncation does
    verify_passes()
    assert verify_fails("--expect-head", kept) == [
        f"broken_link: seal {head.pk}, the chain head kept outside the database, is missing or changed"
    ]


def test_verify_expect_head_must_be_seal_and_hash():
    with pytest.raises(CommandError, match="expected SEAL_ID:CHAIN_HASH"):
        call_command("verify_audit_chain", "--expect-head", "12:not-hex", stdout=io.StringIO())


# Incremental verification -------------------------------------------------------------------------


def test_verify_records_a_checkpoint_and_the_next_run_starts_there(sealed_log):
    # given a clean run
    first = verify()
    checkpoint = AuditSeal.objects.get(kind=AuditSeal.Kind.CHECKPOINT)
    assert first.seals_checked == AuditSeal.objects.filter(kind=AuditSeal.Kind.CHAIN).count()
    assert checkpoint.last_id == AuditSeal.objects.filter(kind=AuditSeal.Kind.CHAIN).latest("id").pk

    # when a row verified then is rewritten, and a new row is sealed and rewritten too
    old = sealed_log[0]
    as_owner(f"UPDATE {LOG} SET actor = 'x' WHERE id = %s", [old.pk])  # noqa: S608
    new = log_rows(1)[0]
    seal()
    as_owner(f"UPDATE {LOG} SET actor = 'y' WHERE id = %s", [new.pk])  # noqa: S608

    # then the incremental run sees the new damage only, the full run both
    assert [finding.row_id for finding in verify().findings] == [new.pk]
    assert [finding.row_id for finding in verify(full=True).findings] == [old.pk, new.pk]


def test_verify_with_damage_records_no_checkpoint(sealed_log):
    as_owner(f"UPDATE {LOG} SET actor = 'x' WHERE id = %s", [sealed_log[0].pk])  # noqa: S608

    assert not verify().ok
    assert not AuditSeal.objects.filter(kind=AuditSeal.Kind.CHECKPOINT).exists()


def test_verify_reports_a_checkpoint_whose_seal_is_gone_and_checks_everything(sealed_log):
    # given a checkpoint, then the seal it names deleted
    verify()
    checkpoint = AuditSeal.objects.get(kind=AuditSeal.Kind.CHECKPOINT)
    as_owner("DELETE FROM core_auditseal WHERE id = %s", [checkpoint.last_id])

    findings = verify().findings

    assert findings[0].message == (
        f"checkpoint {checkpoint.pk} names seal {checkpoint.last_id}, which is missing or changed; "
        "every seal is checked"
    )


def test_check_integrity_reports_audit_chain_damage(sealed_log):
    row = sealed_log[1]
    as_owner(f"UPDATE {LOG} SET object_id = 'rewritten' WHERE id = %s", [row.pk])  # noqa: S608
    out = io.StringIO()

    with pytest.raises(CommandError, match=r"violations \(audit_chain 1\)"):
        call_command("check_integrity", "--check", "audit_chain", stdout=out, stderr=io.StringIO())

    assert out.getvalue().splitlines() == [
        f"audit_chain: modified: {LOG} row {row.pk} does not match its row hash (seal {seal_of(row.pk).pk})"
    ]


# Sealing waits for transactions that could still insert below ------------------------------------


def hold_an_insert(holding: threading.Event, release: threading.Event, result: dict) -> None:
    """In its own connection: insert an access-log row and keep the transaction open until released."""
    try:
        with transaction.atomic():
            result["row"] = log_rows(1)[0].pk
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (result["pid"],) = cursor.fetchone()
            holding.set()
            release.wait(timeout=30)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_seal_does_not_cover_a_row_whose_transaction_is_still_open():
    # given another session inserted a row and hasn't committed
    holding, release, result = threading.Event(), threading.Event(), {}
    writer = threading.Thread(target=hold_an_insert, args=(holding, release, result))
    writer.start()
    try:
        assert holding.wait(timeout=30)

        # when sealing gives up waiting
        with pytest.raises(
            TransactionsStillOpen, match=f"sessions {result['pid']} are still in a transaction"
        ):
            seal(wait_seconds=0.3)
    finally:
        release.set()
        writer.join(timeout=30)

    # then nothing was sealed, and the next run covers the committed row
    assert not AuditSeal.objects.exists()
    seal()
    assert seal_of(result["row"]).row_count == 1
    assert verify(full=True).ok


@pytest.mark.django_db(transaction=True)
def test_seal_waits_for_an_older_transaction_and_then_covers_its_row():
    # given another session holding an insert, released half a second into the seal
    holding, release, result = threading.Event(), threading.Event(), {}
    writer = threading.Thread(target=hold_an_insert, args=(holding, release, result))
    writer.start()
    assert holding.wait(timeout=30)
    threading.Timer(0.5, release.set).start()

    # when
    started = time.monotonic()
    try:
        seal(wait_seconds=30)
    finally:
        release.set()
        writer.join(timeout=30)

    # then it waited for the commit, and sealed the row
    assert time.monotonic() - started >= 0.4
    assert seal_of(result["row"]).row_count == 1


# Retention ----------------------------------------------------------------------------------------


@pytest.fixture
def old_and_new_log(frozen_today) -> tuple[list[AccessLog], list[AccessLog]]:
    """Access-log rows from eight years ago and from today, all sealed, plus a row not sealed yet."""
    moment = datetime.datetime.combine(frozen_today, datetime.time(9), tzinfo=datetime.UTC)
    old = log_rows(3, at=moment.replace(year=frozen_today.year - 8))
    new = log_rows(2, at=moment)
    seal()
    return old, new


def test_prune_access_log_deletes_sealed_rows_past_retention_and_verify_still_passes(old_and_new_log):
    old, new = old_and_new_log
    unsealed_old = log_rows(1, at=old[0].at)[0]
    out = io.StringIO()

    # when
    call_command("prune_access_log", stdout=out, stderr=io.StringIO())

    # then the old sealed rows are gone, a retention seal says so, and the chain verifies
    remaining = set(AccessLog.objects.values_list("pk", flat=True))
    assert remaining == {row.pk for row in new} | {unsealed_old.pk}
    retention = AuditSeal.objects.get(kind=AuditSeal.Kind.RETENTION)
    assert (retention.table_name, retention.last_id, retention.row_count) == (LOG, old[-1].pk, 3)
    assert out.getvalue().startswith(f"Deleted 3 access-log rows up to id {old[-1].pk} (older than 6 years")
    verify_passes("--full")
    verify_passes()
    # and a second run finds nothing more
    assert prune_access_log().rows == 0


def test_prune_access_log_dry_run_deletes_nothing(old_and_new_log):
    out = io.StringIO()

    call_command("prune_access_log", "--dry-run", stdout=out, stderr=io.StringIO())

    assert out.getvalue().startswith("Dry run, rolled back: 3 access-log rows up to id")
    assert AccessLog.objects.count() == 5
    assert not AuditSeal.objects.filter(kind=AuditSeal.Kind.RETENTION).exists()


def test_prune_access_log_keeps_rows_not_sealed_yet(frozen_today):
    moment = datetime.datetime.combine(frozen_today, datetime.time(9), tzinfo=datetime.UTC)
    log_rows(2, at=moment.replace(year=frozen_today.year - 8))
    out = io.StringIO()

    call_command("prune_access_log", stdout=out, stderr=io.StringIO())

    assert out.getvalue().startswith("Nothing to prune")
    assert AccessLog.objects.count() == 2


def test_verify_reports_a_forged_retention_seal(old_and_new_log):
    # given the owner deletes old rows and writes a retention seal without the key
    old, _new = old_and_new_log
    as_owner(f"DELETE FROM {LOG} WHERE id <= %s", [old[-1].pk])  # noqa: S608
    forged = AuditSeal.objects.create(
        kind=AuditSeal.Kind.RETENTION,
        table_name=LOG,
        first_id=1,
        last_id=old[-1].pk,
        row_count=3,
        chain_hash=hashlib.sha256(b"").digest(),
        signature="0" * 64,
    )

    lines = verify_fails()

    assert lines[0] == f"bad_signature: retention seal {forged.pk} of {LOG} does not carry a valid signature"
    assert [line.split(",")[0] for line in lines[1:]] == [f"deleted: {LOG} row {row.pk}" for row in old]
