"""Seals over the audit tables' row hashes, their verification, and the access log's retention.

``core.row_hashes`` gives every audit row a hash written by PostgreSQL on insert.
``seal()`` chains those hashes, per table and in id order, into seals signed with an
HMAC keyed by ``settings.AUDIT_SEAL_KEY``; ``verify()`` recomputes every row's hash and
compares it with the stored one and the sealed one, so a row modified, deleted, inserted
or moved after sealing is reported by id, as is a seal forged without the key or taken
out of its chain. ``prune_access_log()`` deletes access-log rows past the retention
period and signs a retention seal so verification expects them gone. README, "Audit
trail", gives the threat model.

Writers never wait: rows are hashed by their own insert, and sealing reads them later.
Seal, prune and the writing of verification checkpoints take one advisory lock, so they
never interleave; the heavy lifting (hashing, comparing, unnesting the sealed entries)
is set-based SQL, one statement per table.
"""

import datetime
import hashlib
import hmac
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Max, Model
from django.utils.translation import gettext as _

from core import clock
from core.audit_tables import audit_models
from core.models import AccessLog, AuditSeal
from core.row_hashes import (
    hash_settings,
    local_settings,
    maintenance,
    primary_key_column,
    quote_identifier,
    quote_literal,
    recompute_expression,
)

# A seal covers at most this many rows, so seals stay small and rows are read in batches.
BATCH_ROWS = 10_000
# An entry: the row id as a big-endian int8, then its 32-byte SHA-256.
ENTRY_SIZE = 40
# The previous chain hash of a table's first seal.
GENESIS = b""
WAIT_SECONDS = 30.0
POLL_SECONDS = 0.1
# pg_advisory_xact_lock key shared by seal, prune and checkpoints (the first 8 bytes of
# sha256("core.audit_chain"), as a signed int8).
LOCK_KEY = int.from_bytes(hashlib.sha256(b"core.audit_chain").digest()[:8], "big", signed=True)
SMALLEST_ID = -(2**63)
# Verification joins large row sets once: room in memory for the hash joins, and no JIT
# compilation, which costs more than it saves on these short statements.
VERIFY_SETTINGS = (("work_mem", "128MB"), ("jit", "off"))

MODIFIED = "modified"
DELETED = "deleted"
INSERTED = "inserted"
REORDERED = "reordered"
BAD_SIGNATURE = "bad_signature"
BROKEN_LINK = "broken_link"


class TransactionsStillOpen(Exception):
    """Sealing waited for transactions older than its start, and they are still open."""

    def __init__(self, pids: Sequence[int], seconds: float) -> None:
        self.pids = list(pids)
        super().__init__(
            _(
                "Not sealed: database sessions %(pids)s are still in a transaction that started before "
                "the seal, after %(seconds).0f s (their rows could still arrive below the sealed ids). "
                "Retry later; seal as a role that sees every session (the owner, or pg_read_all_stats)."
            )
            % {"pids": ", ".join(map(str, pids)), "seconds": seconds}
        )


@dataclass(frozen=True)
class Finding:
    """One piece of damage: what kind, where, and a sentence for the operator."""

    kind: str
    table: str
    message: str
    row_id: int | None = None
    seal_id: int | None = None


@dataclass
class Report:
    """What ``verify()`` checked and found."""

    full: bool
    findings: list[Finding] = field(default_factory=list)
    seals_checked: int = 0
    rows_checked: int = 0
    head: AuditSeal | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.findings

    def counts(self) -> Counter[str]:
        return Counter(finding.kind for finding in self.findings)


@dataclass(frozen=True)
class Pruned:
    """What ``prune_access_log()`` deleted: rows up to ``last_id`` (``seal`` records them)."""

    rows: int
    cutoff: datetime.datetime
    last_id: int | None
    seal: AuditSeal | None


def sign(kind: str, table: str, first_id: int, last_id: int, row_count: int, chain_hash: bytes) -> str:
    """The hex HMAC-SHA256 of a seal's statement, keyed with ``settings.AUDIT_SEAL_KEY``.

    The kind is part of it, so a chain seal can't be passed off as a retention seal.
    """
    message = "\n".join((kind, table, str(first_id), str(last_id), str(row_count), chain_hash.hex()))
    return hmac.new(settings.AUDIT_SEAL_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def signature_valid(seal: AuditSeal) -> bool:
    expected = sign(
        seal.kind, seal.table_name, seal.first_id, seal.last_id, seal.row_count, bytes(seal.chain_hash)
    )
    return hmac.compare_digest(expected, seal.signature)


def _new_seal(
    kind: str,
    table: str,
    first_id: int,
    last_id: int,
    row_count: int,
    now: datetime.datetime,
    *,
    entries: bytes = b"",
    previous_chain: bytes = GENESIS,
) -> AuditSeal:
    chain_hash = hashlib.sha256(previous_chain + entries).digest()
    return AuditSeal.objects.create(
        kind=kind,
        table_name=table,
        first_id=first_id,
        last_id=last_id,
        row_count=row_count,
        entries=entries,
        previous_chain=previous_chain,
        chain_hash=chain_hash,
        signature=sign(kind, table, first_id, last_id, row_count, chain_hash),
        sealed_at=now,
    )


# Sealing ------------------------------------------------------------------------------------------


def seal(
    now: datetime.datetime | None = None,
    *,
    wait_seconds: float = WAIT_SECONDS,
    on_table: Callable[[str], None] | None = None,
) -> list[AuditSeal]:
    """Seal every audit table's rows that no running transaction can still insert below.

    Reads each table's sequence first, notes the time, then waits (up to ``wait_seconds``,
    else ``TransactionsStillOpen``) until no other session of this database is still in a
    transaction that started before that time. A transaction that started later draws
    ids above what was read, so once the older ones are done, every id up to the read
    value is committed or never will be, and the seal can cover it. Each table's new rows
    are sealed in batches of at most ``BATCH_ROWS``, each seal chained to the previous.

    The seal table comes last, up to the seals just written, when this run sealed any
    rows: its newest seal (the chain head the command prints) then vouches for every seal
    before it. All its writers hold the lock this holds, so nothing can still arrive
    below that. Retention seals and checkpoints carry their own signatures and wait for
    the next run with rows to seal, so a run that finds nothing new writes nothing.
    """
    now = now or clock.now()
    models = [model for model in audit_models() if model is not AuditSeal]
    written: list[AuditSeal] = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        bounds = _sequence_values(cursor, models)
        cursor.execute("SELECT clock_timestamp()")
        (started,) = cursor.fetchone()
        _wait_for_older_transactions(cursor, started, wait_seconds)
        for model in models:
            table = model._meta.db_table
            written += _seal_table(cursor, table, primary_key_column(model), bounds[table], now)
            if on_table is not None:
                on_table(table)
        table = AuditSeal._meta.db_table
        if written:
            bound = _sequence_values(cursor, [AuditSeal])[table]
            written += _seal_table(cursor, table, primary_key_column(AuditSeal), bound, now)
        if on_table is not None:
            on_table(table)
    return written


def _sequence_values(cursor: CursorWrapper, models: Sequence[type[Model]]) -> dict[str, int]:
    """The highest id each table's sequence has handed out (0 when none yet)."""
    tables = [model._meta.db_table for model in models]
    cursor.execute(
        "SELECT t, pg_get_serial_sequence(quote_ident(t), c) FROM unnest(%s::text[], %s::text[]) AS x(t, c)",
        [tables, [primary_key_column(model) for model in models]],
    )
    sequences = dict(cursor.fetchall())
    missing = sorted(table for table, sequence in sequences.items() if sequence is None)
    if missing:
        raise ValueError(f"audit tables without an id sequence: {', '.join(missing)}")
    cursor.execute(
        " UNION ALL ".join(
            f"SELECT {quote_literal(table)}, CASE WHEN is_called THEN last_value ELSE 0 END FROM {sequence}"  # noqa: S608 - names from the catalogue
            for table, sequence in sequences.items()
        )
    )
    return dict(cursor.fetchall())


# Sessions of this database in a transaction that started before the given time, and the
# sessions whose transactions this role may not see (their state reads as null).
OLDER_TRANSACTIONS_SQL = """
SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
  AND (xact_start < %s OR state IS NULL)
ORDER BY pid
"""


def _wait_for_older_transactions(cursor: CursorWrapper, started: datetime.datetime, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        # pg_stat_activity is read once per transaction unless the snapshot is dropped.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(OLDER_TRANSACTIONS_SQL, [started])
        pids = [pid for (pid,) in cursor.fetchall()]
        if not pids:
            return
        if time.monotonic() >= deadline:
            raise TransactionsStillOpen(pids, seconds)
        time.sleep(POLL_SECONDS)


def _seal_table(
    cursor: CursorWrapper, table: str, primary_key: str, bound: int, now: datetime.datetime
) -> list[AuditSeal]:
    """Seal ``table``'s rows after its last seal up to id ``bound``, in batches."""
    previous = (
        AuditSeal.objects.filter(kind=AuditSeal.Kind.CHAIN, table_name=table)
        .order_by("-id")
        .values_list("last_id", "chain_hash")
        .first()
    )
    start, chain = (previous[0] + 1, bytes(previous[1])) if previous else (1, GENESIS)
    pk = quote_identifier(primary_key)
    batch_sql = f"""
SELECT count(*), max(id),
       coalesce(string_agg(int8send(id) || coalesce(row_hash, %s), ''::bytea ORDER BY id), '')
FROM (SELECT {pk}::bigint AS id, row_hash FROM {quote_identifier(table)}
      WHERE {pk} >= %s AND {pk} <= %s ORDER BY {pk} LIMIT %s) AS batch
"""  # noqa: S608 - catalogue names, quoted
    written = []
    while start <= bound:
        # A row without a hash (its trigger switched off) is sealed as zeros: verify reports it.
        cursor.execute(batch_sql, [bytes(32), start, bound, BATCH_ROWS])
        count, last_row, entries = cursor.fetchone()
        if not count:
            break
        # A full batch ends at its last row; the last batch covers the range up to the bound.
        last_id = last_row if count == BATCH_ROWS else bound
        written.append(
            _new_seal(
                AuditSeal.Kind.CHAIN,
                table,
                start,
                last_id,
                count,
                now,
                entries=bytes(entries),
                previous_chain=chain,
            )
        )
        chain = bytes(written[-1].chain_hash)
        start = last_id + 1
    return written


def chain_head() -> AuditSeal | None:
    """The newest seal of the seal table: it vouches for every seal written before it.

    Keep its id and chain hash outside the database (``verify_audit_chain --expect-head``):
    deleting the newest seals together with their rows is the one change the chain alone
    can't show.
    """
    return (
        AuditSeal.objects.filter(kind=AuditSeal.Kind.CHAIN, table_name=AuditSeal._meta.db_table)
        .defer("entries")
        .order_by("-id")
        .first()
    )


# Verifying ----------------------------------------------------------------------------------------


@dataclass
class _Scope:
    """What ``verify()`` checks: the chain seals after ``since``, and the unsealed rows."""

    since: int
    seals: list[AuditSeal]
    # Per table: the newest chain seal at or before ``since`` (the one the first seal in scope links to).
    before: dict[str, AuditSeal]
    # Per table: the highest sealed id, and the highest id the retention deleted.
    sealed_to: dict[str, int]
    pruned_to: dict[str, int]


def verify(
    full: bool = False,
    *,
    expect_head: tuple[int, bytes] | None = None,
    on_table: Callable[[str], None] | None = None,
) -> Report:
    """Check the audit tables against their row hashes and seals; report damage with ids.

    Incremental by default: the chain seals written after the last verification
    checkpoint, and every row not sealed yet; ``full`` checks every seal and every row.
    Per row: ``modified`` (its stored hash no longer matches its content, or content and
    hash were rewritten together and no longer match the seal), ``deleted`` (a sealed id
    missing, unless the retention removed it), ``inserted`` (an id inside a sealed range
    that the seal doesn't list), ``reordered`` (a row holding the sealed content of
    another id). Per seal: ``bad_signature`` and ``broken_link`` (entries that don't give
    the chain hash, a seal that doesn't continue its table's previous one, a checkpoint
    or ``expect_head`` naming a seal that is gone or changed).

    Runs in one REPEATABLE READ snapshot when it starts the transaction, so a concurrent
    seal or prune can't show it half-done work. A clean run records a signed checkpoint,
    where the next incremental run starts.
    """
    started = time.monotonic()
    report = Report(full=full)
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        scope = _load_scope(cursor, full, report)
        report.findings += _seal_findings(cursor, scope)
        report.seals_checked = len(scope.seals)
        with hash_settings(cursor), local_settings(cursor, VERIFY_SETTINGS):
            for model in audit_models():
                table = model._meta.db_table
                findings, rows = _row_findings(cursor, table, primary_key_column(model), scope)
                report.findings += findings
                report.rows_checked += rows
                if on_table is not None:
                    on_table(table)
        report.head = chain_head()
        if expect_head is not None:
            report.findings += _head_findings(*expect_head)
        if report.ok:
            _record_checkpoint(cursor, scope)
    report.seconds = time.monotonic() - started
    return report


def _load_scope(cursor: CursorWrapper, full: bool, report: Report) -> _Scope:
    """The seals to check, after checking the retention seals and checkpoints (few: all of them)."""
    valid: list[AuditSeal] = []
    for special in AuditSeal.objects.exclude(kind=AuditSeal.Kind.CHAIN).order_by("id"):
        if signature_valid(special):
            valid.append(special)
        else:
            report.findings.append(_bad_signature(special))
    pruned_to: dict[str, int] = {}
    for retention in (seal for seal in valid if seal.kind == AuditSeal.Kind.RETENTION):
        pruned_to[retention.table_name] = max(pruned_to.get(retention.table_name, 0), retention.last_id)
    since = 0
    checkpoint = next((seal for seal in reversed(valid) if seal.kind == AuditSeal.Kind.CHECKPOINT), None)
    if checkpoint is not None:
        named = (
            AuditSeal.objects.filter(pk=checkpoint.last_id, kind=AuditSeal.Kind.CHAIN)
            .values_list("chain_hash", flat=True)
            .first()
        )
        if named is None or bytes(named) != bytes(checkpoint.previous_chain):
            report.findings.append(
                Finding(
                    BROKEN_LINK,
                    AuditSeal._meta.db_table,
                    _(
                        "checkpoint %(checkpoint)d names seal %(seal)d, which is missing or changed; "
                        "every seal is checked"
                    )
                    % {"checkpoint": checkpoint.pk, "seal": checkpoint.last_id},
                    seal_id=checkpoint.pk,
                )
            )
        elif not full:
            since = checkpoint.last_id
    chain = AuditSeal.objects.filter(kind=AuditSeal.Kind.CHAIN).defer("entries")
    seals = list(chain.filter(id__gt=since).order_by("id"))
    before = {
        seal.table_name: seal
        for seal in chain.filter(id__lte=since).order_by("table_name", "-id").distinct("table_name")
    }
    sealed_to = {table: seal.last_id for table, seal in before.items()}
    sealed_to.update((seal.table_name, seal.last_id) for seal in seals)
    return _Scope(since, seals, before, sealed_to, pruned_to)


def _bad_signature(seal: AuditSeal) -> Finding:
    return Finding(
        BAD_SIGNATURE,
        seal.table_name,
        _("%(kind)s seal %(seal)d of %(table)s does not carry a valid signature")
        % {"kind": seal.kind, "seal": seal.pk, "table": seal.table_name or "-"},
        seal_id=seal.pk,
    )


def _seal_findings(cursor: CursorWrapper, scope: _Scope) -> list[Finding]:
    """Signatures, links and chain hashes of the chain seals in scope."""
    findings = [_bad_signature(seal) for seal in scope.seals if not signature_valid(seal)]
    previous = dict(scope.before)
    for seal in scope.seals:
        before = previous.get(seal.table_name)
        expected = (before.last_id + 1, bytes(before.chain_hash)) if before else (1, GENESIS)
        if (seal.first_id, bytes(seal.previous_chain)) != expected:
            findings.append(
                Finding(
                    BROKEN_LINK,
                    seal.table_name,
                    _("seal %(seal)d of %(table)s does not continue the seal before it (%(before)s)")
                    % {
                        "seal": seal.pk,
                        "table": seal.table_name,
                        "before": before.pk if before else _("none: it should start the chain"),
                    },
                    seal_id=seal.pk,
                )
            )
        previous[seal.table_name] = seal
    cursor.execute(
        "SELECT id, table_name FROM core_auditseal WHERE id = ANY(%s::bigint[]) "
        "AND (sha256(previous_chain || entries) <> chain_hash OR length(entries) <> %s * row_count) "
        "ORDER BY id",
        [[seal.pk for seal in scope.seals], ENTRY_SIZE],
    )
    findings += [
        Finding(
            BROKEN_LINK,
            table,
            _("the entries of seal %(seal)d of %(table)s do not give its chain hash")
            % {"seal": seal_id, "table": table},
            seal_id=seal_id,
        )
        for seal_id, table in cursor.fetchall()
    ]
    return findings


# One table's rows against its seals in scope: the sealed entries unnested, the rows with
# their hashes recomputed, joined by id; only rows with damage come back, after one row
# that counts the rows read. Placeholders: {pk}, {table}, {recompute}, {lower_bound}.
ROWS_SQL = """
WITH seals AS MATERIALIZED (
    -- Concatenating detoasts the entries once per seal, not once per entry.
    SELECT id, entries || ''::bytea AS entries FROM core_auditseal WHERE id = ANY(%(seal_ids)s::bigint[])
),
sealed AS MATERIALIZED (
    SELECT s.id AS seal_id,
           ('x' || encode(substr(s.entries, n * 40 + 1, 8), 'hex'))::bit(64)::bigint AS row_id,
           substr(s.entries, n * 40 + 9, 32) AS hash
    FROM seals s CROSS JOIN LATERAL generate_series(0, length(s.entries) / 40 - 1) AS n
),
actual AS MATERIALIZED (
    SELECT t.{pk}::bigint AS row_id, t.row_hash AS stored, {recompute} AS recomputed
    FROM {table} t {lower_bound}
),
compared AS MATERIALIZED (
    SELECT coalesce(a.row_id, s.row_id) AS row_id, s.seal_id, s.hash AS sealed,
           a.row_id IS NOT NULL AS present, a.stored, a.recomputed
    FROM sealed s FULL JOIN actual a ON a.row_id = s.row_id
    WHERE (a.row_id IS NULL AND s.row_id > %(pruned_to)s)
       OR (s.row_id IS NULL AND a.row_id <= %(sealed_to)s)
       OR (a.row_id IS NOT NULL AND NOT coalesce(a.stored = a.recomputed, false))
       OR (s.row_id IS NOT NULL AND a.row_id IS NOT NULL AND a.recomputed IS DISTINCT FROM s.hash)
),
moved AS (
    SELECT c.row_id, min(s.row_id) AS from_id
    FROM compared c JOIN sealed s ON s.hash = c.recomputed AND s.row_id <> c.row_id
    GROUP BY c.row_id
)
SELECT NULL::bigint, NULL::bigint, NULL::boolean, NULL::boolean, NULL::boolean, NULL::bigint,
       (SELECT count(*) FROM actual)
UNION ALL
(SELECT c.row_id, c.seal_id, c.present, c.sealed IS NOT NULL, coalesce(c.stored = c.recomputed, false),
        m.from_id, NULL
 FROM compared c LEFT JOIN moved m USING (row_id)
 ORDER BY c.row_id)
"""


def _row_findings(
    cursor: CursorWrapper, table: str, primary_key: str, scope: _Scope
) -> tuple[list[Finding], int]:
    """``table``'s damaged rows in scope, and how many rows were read."""
    seals = [seal for seal in scope.seals if seal.table_name == table]
    sealed_to = scope.sealed_to.get(table)
    if scope.since == 0 or sealed_to is None:
        lower = None
    else:
        lower = seals[0].first_id if seals else sealed_to + 1
    pk = quote_identifier(primary_key)
    sql = ROWS_SQL.format(
        pk=pk,
        table=quote_identifier(table),
        recompute=recompute_expression(cursor, table, "t"),
        lower_bound="" if lower is None else f"WHERE t.{pk} >= %(lower)s",
    )
    cursor.execute(
        sql,
        {
            "seal_ids": [seal.pk for seal in seals],
            "pruned_to": scope.pruned_to.get(table, SMALLEST_ID),
            "sealed_to": SMALLEST_ID if sealed_to is None else sealed_to,
            "lower": lower,
        },
    )
    rows = cursor.fetchall()
    findings = [
        _row_finding(table, row_id, seal_id, present, in_seal, hash_matches, moved_from, sealed_to)
        for row_id, seal_id, present, in_seal, hash_matches, moved_from, _read in rows
        if row_id is not None
    ]
    return findings, next(read for row_id, *_columns, read in rows if row_id is None)


def _row_finding(
    table: str,
    row_id: int,
    seal_id: int | None,
    present: bool,
    in_seal: bool,
    hash_matches: bool,
    moved_from: int | None,
    sealed_to: int | None,
) -> Finding:
    values = {"table": table, "row": row_id, "seal": seal_id, "other": moved_from}
    if not present:
        kind, message = DELETED, _("%(table)s row %(row)d, sealed in seal %(seal)d, is missing")
    elif moved_from is not None:
        kind, message = REORDERED, _("%(table)s row %(row)d holds the sealed content of row %(other)d")
    elif not in_seal and sealed_to is not None and row_id <= sealed_to:
        kind, message = INSERTED, _("%(table)s row %(row)d is inside the sealed range but in no seal")
    elif not in_seal:
        kind, message = MODIFIED, _("%(table)s row %(row)d (not sealed yet) does not match its row hash")
    elif not hash_matches:
        kind, message = MODIFIED, _("%(table)s row %(row)d does not match its row hash (seal %(seal)d)")
    else:
        kind, message = (
            MODIFIED,
            _("%(table)s row %(row)d and its row hash were rewritten: they do not match seal %(seal)d"),
        )
    return Finding(kind, table, message % values, row_id=row_id, seal_id=seal_id)


def _head_findings(seal_id: int, chain_hash: bytes) -> list[Finding]:
    """Damage when the head kept outside the database is gone or changed: truncated seals."""
    kept = (
        AuditSeal.objects.filter(pk=seal_id, kind=AuditSeal.Kind.CHAIN)
        .values_list("chain_hash", flat=True)
        .first()
    )
    if kept is not None and bytes(kept) == chain_hash:
        return []
    return [
        Finding(
            BROKEN_LINK,
            AuditSeal._meta.db_table,
            _("seal %(seal)d, the chain head kept outside the database, is missing or changed")
            % {"seal": seal_id},
            seal_id=seal_id,
        )
    ]


def _record_checkpoint(cursor: CursorWrapper, scope: _Scope) -> None:
    """Sign "verified up to the newest seal in scope", unless a seal or prune holds the lock (next time)."""
    if not scope.seals:
        return
    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
    (locked,) = cursor.fetchone()
    if not locked:
        return
    newest = scope.seals[-1]
    _new_seal(
        AuditSeal.Kind.CHECKPOINT,
        "",
        newest.pk,
        newest.pk,
        0,
        clock.now(),
        previous_chain=bytes(newest.chain_hash),
    )


# Retention ----------------------------------------------------------------------------------------


def years_before(moment: datetime.datetime, years: int) -> datetime.datetime:
    """``moment`` ``years`` years earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


PRUNE_BATCH_SQL = """
WITH doomed AS (
    SELECT id FROM core_accesslog WHERE id > %s AND id <= %s ORDER BY id LIMIT %s
), gone AS (
    DELETE FROM core_accesslog a USING doomed d WHERE a.id = d.id RETURNING a.id
)
SELECT count(*), max(id) FROM gone
"""


def prune_access_log(
    now: datetime.datetime | None = None,
    *,
    dry_run: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
) -> Pruned:
    """Delete the access log's sealed rows older than ``ACCESS_LOG_RETENTION_YEARS``; sign a retention seal.

    Deletes a prefix of ids: every row up to the last id that is both sealed and older
    than the cutoff with no younger row below it (rows arrive in time order, so that is
    all of them but a few written late). A prefix is what a retention seal can state in
    one range, and verification then expects exactly those ids gone. Runs in one
    transaction with ``audit.maintenance`` on, the only code that sets it; ``dry_run``
    does everything, then rolls back. ``on_batch(rows, total)`` follows the deletion.
    """
    now = now or clock.now()
    cutoff = years_before(now, settings.ACCESS_LOG_RETENTION_YEARS)
    table = AccessLog._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        seals = AuditSeal.objects.filter(table_name=table)
        sealed_to = seals.filter(kind=AuditSeal.Kind.CHAIN).aggregate(last=Max("last_id"))["last"]
        pruned_to = seals.filter(kind=AuditSeal.Kind.RETENTION).aggregate(last=Max("last_id"))["last"] or 0
        cursor.execute("SELECT id FROM core_accesslog WHERE at >= %s ORDER BY id LIMIT 1", [cutoff])
        kept = cursor.fetchone()
        last_id = sealed_to if kept is None or sealed_to is None else min(sealed_to, kept[0] - 1)
        if last_id is None or last_id <= pruned_to:
            return Pruned(0, cutoff, None, None)
        cursor.execute("SELECT count(*) FROM core_accesslog WHERE id > %s AND id <= %s", [pruned_to, last_id])
        (total,) = cursor.fetchone()
        deleted, after = 0, pruned_to
        with maintenance(cursor):
            while True:
                cursor.execute(PRUNE_BATCH_SQL, [after, last_id, BATCH_ROWS])
                count, highest = cursor.fetchone()
                if not count:
                    break
                deleted, after = deleted + count, highest
                if on_batch is not None:
                    on_batch(count, total)
        retention = _new_seal(AuditSeal.Kind.RETENTION, table, pruned_to + 1, last_id, deleted, now)
        if dry_run:
            transaction.set_rollback(True)
    return Pruned(deleted, cutoff, last_id, retention)
