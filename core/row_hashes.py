"""Row hashes of the audit tables, written by PostgreSQL on insert, and their append-only guard.

Every audit table (``core.audit_tables``) gets two columns, ``row_hash bytea`` and
``hash_layout smallint``, and a BEFORE INSERT trigger that stores
``sha256(convert_to(jsonb_build_object('column', value, ...)::text, 'UTF8'))``. The
database computes it, so no code path (the ORM, raw SQL, a bulk load) writes a row
without one; it is PostgreSQL's built-in ``sha256()``, since the embedded server has no
pgcrypto. ``core.audit_chain`` chains these hashes into signed seals.

The canonical row is every column but the primary key (whose value the seal binds) and
the two hash columns. jsonb's text is canonical (keys sorted, fixed spacing); the
trigger function pins the settings that change how values print (time zone, date and
interval styles, float digits, bytea output), so a row hashes alike in every session.

Layouts: a table's column list is registered in ``audit_hash_layout`` (a raw table, not
a model, so test flushes keep it) under a number each row stores in ``hash_layout``.
When a migration adds or drops a column, the next ``post_migrate`` registers a new
layout and rewrites the trigger with the new list written out literally; old rows keep
verifying against the layout they were written with.

Append-only: a second trigger refuses UPDATE and DELETE unless the transaction has set
``audit.maintenance = 'on'`` (``maintenance()``; only the access log's retention does).
It stops accidents - an ORM delete, a cascade - not the database owner, who can switch a
trigger off; the seals catch what the owner does. Both triggers are ENABLE ALWAYS, so
they also fire under ``session_replication_role = replica`` (a restore, a test that
writes past the other triggers), and no row slips in without its hash.
"""

import contextlib
import hashlib
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.utils import CursorWrapper

from core.audit_tables import audit_models

HASH_COLUMNS = ("row_hash", "hash_layout")
# BEFORE triggers fire in name order: this one last, so it hashes the row as it is stored.
HASH_TRIGGER = "zz_audit_row_hash"
GUARD_TRIGGER = "audit_append_only"
MAINTENANCE_SETTING = "audit.maintenance"
# The settings that shape a value's text in jsonb, fixed wherever a hash is computed.
HASH_SETTINGS = (
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "1"),
    ("bytea_output", "hex"),
)
# jsonb_build_object takes at most 100 arguments: 50 column pairs per call, calls joined with ||.
PAIRS_PER_CALL = 50
FUNCTION_PREFIX = "audit_row_hash_"
MAX_IDENTIFIER_LENGTH = 63

SETUP_SQL = """
CREATE TABLE IF NOT EXISTS audit_hash_layout (
    table_name text NOT NULL,
    layout smallint NOT NULL,
    columns text[] NOT NULL,
    PRIMARY KEY (table_name, layout)
);
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
    IF current_setting('audit.maintenance', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% on the audit table % refused: audit rows are append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'audit_append_only';
END $guard$;
"""

# Each audit table present in the current schema: its columns and which triggers it has.
TABLES_SQL = """
SELECT c.relname::text,
       array_agg(a.attname::text ORDER BY a.attnum),
       EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = %s),
       EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = %s)
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relname = ANY(%s) AND c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
GROUP BY c.oid, c.relname
"""


@dataclass(frozen=True)
class Layout:
    """The columns a table's rows of layout ``number`` are hashed over."""

    table: str
    number: int
    columns: tuple[str, ...]


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def hash_expression(columns: Sequence[str], alias: str, present: Collection[str] | None = None) -> str:
    """The SQL of a row's hash over ``columns`` of the row ``alias`` (``NEW`` in the trigger).

    A column of ``columns`` missing from ``present`` (dropped since the layout was
    registered) hashes as null, so its old rows report as changed: they lost data.
    """
    calls = []
    for start in range(0, len(columns), PAIRS_PER_CALL):
        pairs = ", ".join(
            f"{quote_literal(column)}, "
            + (f"{alias}.{quote_identifier(column)}" if present is None or column in present else "NULL")
            for column in columns[start : start + PAIRS_PER_CALL]
        )
        calls.append(f"jsonb_build_object({pairs})")
    document = " || ".join(calls) or "jsonb_build_object()"
    return f"sha256(convert_to(({document})::text, 'UTF8'))"


def primary_key_column(model: type[models.Model]) -> str:
    """The column of ``model``'s primary key (the id a seal binds)."""
    return str(model._meta.pk.column)


def function_name(table: str) -> str:
    """The name of ``table``'s hash trigger function, within PostgreSQL's 63 characters."""
    name = FUNCTION_PREFIX + table
    if len(name) > MAX_IDENTIFIER_LENGTH:
        name = FUNCTION_PREFIX + hashlib.sha256(table.encode()).hexdigest()[:32]
    return name


def function_sql(layout: Layout) -> str:
    """The trigger function of ``layout``'s table, with the layout's columns written out."""
    pinned = " ".join(f"SET {name} = {quote_literal(value)}" for name, value in HASH_SETTINGS)
    return f"""
CREATE OR REPLACE FUNCTION {quote_identifier(function_name(layout.table))}() RETURNS trigger
LANGUAGE plpgsql {pinned} AS $hash$
BEGIN
    NEW.hash_layout := {layout.number};
    NEW.row_hash := {hash_expression(layout.columns, "NEW")};
    RETURN NEW;
END $hash$"""


@contextlib.contextmanager
def local_settings(cursor: CursorWrapper, values: Sequence[tuple[str, str]]) -> Iterator[None]:
    """Set ``values`` for the current transaction, and put back what was there on leaving.

    Must run inside a transaction. On an exception the old values are not put back: the
    transaction (or savepoint) rolls back, and PostgreSQL undoes the settings with it.
    """
    names = [name for name, _value in values]
    cursor.execute(
        "SELECT " + ", ".join("current_setting(%s, true)" for _name in names),
        names,
    )
    previous = cursor.fetchone()
    _set_local(cursor, values)
    yield
    _set_local(cursor, [(name, old or "") for name, old in zip(names, previous, strict=True)])


def _set_local(cursor: CursorWrapper, values: Sequence[tuple[str, str]]) -> None:
    cursor.execute(
        "SELECT " + ", ".join("set_config(%s, %s, true)" for _value in values),
        [part for pair in values for part in pair],
    )


def maintenance(cursor: CursorWrapper) -> contextlib.AbstractContextManager[None]:
    """Let this transaction update and delete audit rows (the retention, the first hashing)."""
    return local_settings(cursor, [(MAINTENANCE_SETTING, "on")])


def hash_settings(cursor: CursorWrapper) -> contextlib.AbstractContextManager[None]:
    """Pin this transaction's settings to the trigger's, to recompute row hashes."""
    return local_settings(cursor, HASH_SETTINGS)


def table_layouts(cursor: CursorWrapper, table: str) -> list[Layout]:
    """Every layout registered for ``table``, oldest first."""
    cursor.execute(
        "SELECT layout, columns FROM audit_hash_layout WHERE table_name = %s ORDER BY layout", [table]
    )
    return [Layout(table, number, tuple(columns)) for number, columns in cursor.fetchall()]


def table_columns(cursor: CursorWrapper, table: str) -> set[str]:
    """The columns ``table`` has now."""
    cursor.execute(
        "SELECT attname::text FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped",
        [quote_identifier(table)],
    )
    return {name for (name,) in cursor.fetchall()}


def recompute_expression(cursor: CursorWrapper, table: str, alias: str) -> str:
    """SQL recomputing the hash of each row of ``table`` (aliased ``alias``) with its own layout.

    Null for a row whose ``hash_layout`` names no registered layout.
    """
    present = table_columns(cursor, table)
    branches = " ".join(
        f"WHEN {layout.number} THEN {hash_expression(layout.columns, alias, present)}"
        for layout in table_layouts(cursor, table)
    )
    return f"CASE {alias}.hash_layout {branches} END" if branches else "NULL::bytea"


def install_row_hashes(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """``post_migrate`` receiver: give every audit table its hash columns, layout and triggers.

    Idempotent and cheap when nothing changed (a few catalogue queries), since test
    flushes send ``post_migrate`` too. Tables a partial migrate hasn't created yet are
    skipped. A table that gets its hash trigger now has its existing rows hashed once;
    later, a row without a hash is damage for ``verify_audit_chain`` to report, never
    something to repair silently.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    primary_keys = {model._meta.db_table: primary_key_column(model) for model in audit_models()}
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(SETUP_SQL)
        cursor.execute(
            "SELECT DISTINCT ON (table_name) table_name, layout, columns FROM audit_hash_layout "
            "ORDER BY table_name, layout DESC"
        )
        latest = {
            table: Layout(table, number, tuple(columns)) for table, number, columns in cursor.fetchall()
        }
        cursor.execute(TABLES_SQL, [HASH_TRIGGER, GUARD_TRIGGER, sorted(primary_keys)])
        for table, columns, hashed, guarded in cursor.fetchall():
            _install_table(cursor, table, primary_keys[table], columns, latest.get(table), hashed=hashed)
            if not guarded:
                _create_trigger(
                    cursor, table, GUARD_TRIGGER, "BEFORE UPDATE OR DELETE", "audit_refuse_change"
                )


def _install_table(
    cursor: CursorWrapper,
    table: str,
    primary_key: str,
    columns: Sequence[str],
    latest: Layout | None,
    *,
    hashed: bool,
) -> None:
    quoted = quote_identifier(table)
    if not set(HASH_COLUMNS) <= set(columns):
        cursor.execute(
            f"ALTER TABLE {quoted} ADD COLUMN IF NOT EXISTS row_hash bytea, "
            "ADD COLUMN IF NOT EXISTS hash_layout smallint"
        )
    hashed_columns = tuple(
        column for column in columns if column not in HASH_COLUMNS and column != primary_key
    )
    layout = latest
    if layout is None or set(layout.columns) != set(hashed_columns):
        layout = Layout(table, (latest.number if latest else 0) + 1, hashed_columns)
        cursor.execute(
            "INSERT INTO audit_hash_layout (table_name, layout, columns) VALUES (%s, %s, %s)",
            [table, layout.number, list(layout.columns)],
        )
    if layout is not latest or not hashed:
        cursor.execute(function_sql(layout))
    if hashed:
        return
    _create_trigger(cursor, table, HASH_TRIGGER, "BEFORE INSERT", function_name(table))
    with maintenance(cursor), hash_settings(cursor):
        cursor.execute(
            f"UPDATE {quoted} AS t SET hash_layout = %s, row_hash = {hash_expression(layout.columns, 't')} "  # noqa: S608 - catalogue names, quoted
            "WHERE t.row_hash IS NULL",
            [layout.number],
        )


def _create_trigger(cursor: CursorWrapper, table: str, trigger: str, when: str, function: str) -> None:
    quoted = quote_identifier(table)
    cursor.execute(
        f"CREATE TRIGGER {quote_identifier(trigger)} {when} ON {quoted} "
        f"FOR EACH ROW EXECUTE FUNCTION {quote_identifier(function)}()"
    )
    cursor.execute(f"ALTER TABLE {quoted} ENABLE ALWAYS TRIGGER {quote_identifier(trigger)}")
