"""Row locks: every ``SELECT ... FOR UPDATE`` of the project is taken here, in one order.

Two transactions that lock the same rows in opposite orders deadlock: each waits for
the other until PostgreSQL aborts one of them (an error page for somebody). When every
transaction takes its locks in one global order, a transaction only ever waits for one
that is further along that order, and no cycle can form. This module is that order and
the only place that locks rows. It lives in ``core`` because core's own services lock
(consents) and core imports nothing above it, so models are named by their
``_meta.label`` rather than imported.

The lock order
--------------
A transaction takes its locks in this order and never goes back up it:

1. provider        ``core.Provider``
2. room            ``core.Room``
3. series          ``appointments.SessionSeries``, locked before its sessions: enrolling a
                   child in a series, withdrawing one or cancelling or moving several of its
                   sessions takes the series row first, so two such changes to one series
                   queue instead of interleaving session by session.
   session         ``appointments.Session``; the sessions of a series are locked together,
                   by id ascending (``lock_rows``), before any participant of any of them.
4. appointment     ``appointments.Appointment``, the legacy one-seat booking. It ranks
                   just after sessions: like a session it is the booking, locked after
                   the provider and room it takes and before the patient in it. No path
                   locks a session and an appointment together.
5. participant     ``appointments.SessionParticipant``
   waitlist entry  ``appointments.WaitlistEntry``, right after participants: a freed seat
                   (a cancelled or turned-away participant) is offered to the first waiting
                   child in the transaction that freed it, after the participant's lock.
6. patient         ``core.Patient``
7. consent         ``core.Consent``
8. clinical note   every model registered as a note kind: ``appointments.notes.registry``
                   ranks each discipline's note model (``psychology.PsychologySession``,
                   ``ot.OTSession``, ``aba.ABASession``) with ``rank_model``, in
                   registration (``INSTALLED_APPS``) order. Addenda and child rows are
                   never locked themselves: the note's lock guards them.
9. reminder        ``appointments.Reminder``, a message to a family. The sender claims due
                   rows in a transaction of its own that locks nothing else, with
                   ``claim_rows`` (``SKIP LOCKED``: two workers never wait for, nor take, the
                   same row). The services write and void a booking's reminder rows
                   (``UPDATE``, so a claimed row makes them wait) last, after their own locks.
10. number counter ``appointments.AppointmentNumberCounter``, last: every booking of a
                   tenant queues on it, so it is held for the shortest time. One
                   ``INSERT ... ON CONFLICT DO UPDATE`` creates or advances it
                   (``increment``), locking it until the booking commits, so numbers
                   have no gaps.

Rows of one model are locked in ascending primary key (``lock_rows`` orders them).
Locking a row the transaction already holds again is fine.

Later work extends the order here, and only here; audit seals come last, after the counter.

Rows nothing locks (tenant, clinic, user) have no place in the order. A foreign key
check is a lock too: inserting a row, or changing a foreign key, takes ``FOR KEY
SHARE`` on the referenced row, and that waits for a ``FOR UPDATE`` lock. A transaction
that writes a row pointing at a provider, room or patient therefore takes that row too,
and must be allowed to at that point of the order; where it would not be, it locks the
row first (the back-fill locks its batch's providers and rooms before the appointments;
a new note locks its provider before the session).

Checking the order
------------------
With ``settings.LOCK_ORDER_CHECKS`` (on under pytest, off by default) each lock taken
here is recorded for the current transaction, and a lock that comes earlier in the
order than one the transaction already holds raises ``LockOrderError`` naming both -
before the query runs when the primary key is given, so a test fails instead of
deadlocking (``lock_unique`` and ``lock_rows`` check the rows they read). Records are
kept per database connection, hence per thread.

"The current transaction" is the outermost atomic block that is not a test case's.
Under pytest-django's ``django_db`` a whole test runs inside TestCase atomic blocks, so
two service calls in one test are two savepoints of one real transaction, yet each
stands for a transaction of its own in production. Such a block is identified by its
savepoint id (unique per connection; the ``@transaction.atomic`` decorator reuses one
``Atomic`` object for every call, so the object is no key). A real outermost
transaction has no savepoint: its record carries an ``on_commit`` callback that forgets
it, and is valid only while that callback is pending - Django drops pending callbacks
on commit and on rollback, and those registered inside a savepoint when it is rolled
back (which releases the locks taken since). A block opened with ``savepoint=False``
belongs to its parent's transaction.

Limits: a lock taken inside a nested savepoint that is later rolled back is released by
PostgreSQL but stays on the record until the transaction ends (the check errs on the
strict side); locks PostgreSQL takes by itself (``UPDATE``, ``DELETE``, foreign key
checks) are not seen. ``order_unchecked`` switches the check off for code that knowingly
takes many units' locks in one transaction (a bulk load into an idle database, a dry run).
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet

from core.prepared import PreparedQuery

ModelT = TypeVar("ModelT", bound=Model)


class Rank(IntEnum):
    """A place in the lock order, lowest first; the gaps leave room for later kinds."""

    PROVIDER = 10
    ROOM = 20
    SERIES = 25
    SESSION = 30
    APPOINTMENT = 35
    PARTICIPANT = 40
    WAITLIST = 45
    PATIENT = 50
    CONSENT = 60
    NOTE = 70
    REMINDER = 80
    COUNTER = 90


# Model label -> (rank, position among the models of that rank). Notes join at app start.
_PLACES: dict[str, tuple[Rank, int]] = {
    "core.Provider": (Rank.PROVIDER, 0),
    "core.Room": (Rank.ROOM, 0),
    "appointments.SessionSeries": (Rank.SERIES, 0),
    "appointments.Session": (Rank.SESSION, 0),
    "appointments.Appointment": (Rank.APPOINTMENT, 0),
    "appointments.SessionParticipant": (Rank.PARTICIPANT, 0),
    "appointments.WaitlistEntry": (Rank.WAITLIST, 0),
    "core.Patient": (Rank.PATIENT, 0),
    "core.Consent": (Rank.CONSENT, 0),
    "appointments.Reminder": (Rank.REMINDER, 0),
    "appointments.AppointmentNumberCounter": (Rank.COUNTER, 0),
}

OrderKey = tuple[int, int, Any]


class LockOrderError(RuntimeError):
    """A lock was requested out of the documented order (raised only with LOCK_ORDER_CHECKS)."""


def rank_model(model: type[Model], rank: Rank) -> None:
    """Give ``model`` a place in the order: at ``rank``, after the models already ranked there.

    For kinds other apps contribute (the note registry ranks each discipline's note
    model). Ranking a model again at the same rank keeps its place; ValueError for
    another rank.
    """
    label = model._meta.label
    place = _PLACES.get(label)
    if place is not None:
        if place[0] != rank:
            raise ValueError(f"{label} already ranks as {place[0].name.lower()}, not {rank.name.lower()}.")
        return
    position = 1 + max((taken for other, taken in _PLACES.values() if other == rank), default=-1)
    _PLACES[label] = (rank, position)


def lock_order() -> list[str]:
    """The labels of every ranked model, in lock order."""
    return sorted(_PLACES, key=lambda label: _PLACES[label])


def lock_row(source: type[ModelT] | QuerySet[ModelT], pk: Any) -> ModelT:
    """Lock one row by primary key and return it (``.get()``: DoesNotExist when missing).

    ``source`` is the model or a queryset of it (for ``select_related``); only the
    model's own row is locked, never a joined one.
    """
    queryset = _for_update(source)
    _check(queryset, pk)
    row = queryset.get(pk=pk)
    _record(queryset, [row])
    return row


class PreparedRowLock(Generic[ModelT]):
    """``lock_row`` for a queryset of a fixed shape, its SQL compiled once per process.

    For the hottest paths (a booking, a check-in), where compiling the ORM query cost
    more than running it (``core.prepared``). ``source(*values)`` returns the model or a
    queryset of it, as ``lock_row`` takes; it may depend on nothing but the model and its
    ``values`` (``extra`` of them), each of which must reach the SQL as one parameter.
    """

    def __init__(self, source: Callable[..., type[ModelT] | QuerySet[ModelT]], extra: int = 0) -> None:
        self._query: PreparedQuery[ModelT] = PreparedQuery(
            lambda pk, *values: _for_update(source(*values)).filter(pk=pk), arity=1 + extra
        )

    def __call__(self, pk: Any, *values: Any) -> ModelT:
        row = self.if_exists(pk, *values)
        if row is None:
            model = self._query.model()
            # Every model has DoesNotExist; the stubs don't know it of a bare type[Model].
            raise model.DoesNotExist(  # type: ignore[attr-defined]
                f"{model._meta.object_name} matching query does not exist."
            )
        return row

    def if_exists(self, pk: Any, *values: Any) -> ModelT | None:
        """As ``lock_row_if_exists``: the locked row, or None when no row matches."""
        model = self._query.model()
        using = router.db_for_write(model)
        checking = _checking()
        if checking:
            _check(model._default_manager.using(using), pk)
        value = model._meta.pk.get_db_prep_value(pk, connections[using], prepared=False)
        rows = self._query.rows(value, *values, using=using)
        if not rows:
            return None
        if checking:
            _record(model._default_manager.using(using), rows)
        return rows[0]


def lock_row_if_exists(source: type[ModelT] | QuerySet[ModelT], pk: Any) -> ModelT | None:
    """Lock one row by primary key (``.filter(pk=...).first()``): the row, or None when missing."""
    queryset = _for_update(source)
    _check(queryset, pk)
    row = queryset.filter(pk=pk).first()
    _record(queryset, [row] if row is not None else [])
    return row


def lock_unique(source: type[ModelT] | QuerySet[ModelT], **lookups: Any) -> ModelT:
    """Lock the one row matching ``lookups`` (``.get(**lookups)``), e.g. a counter by tenant and year.

    The primary key is known only once the row is read, so the order is checked then.
    """
    queryset = _for_update(source)
    row = queryset.get(**lookups)
    _check(queryset, row.pk)
    _record(queryset, [row])
    return row


def increment(model: type[Model], field: str, **key: Any) -> int:
    """Add one to ``field`` of the row of ``model`` whose unique fields are ``key``, creating it
    at 1 when missing; return the new value.

    One ``INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING``: race-free and one round
    trip, and the row it inserts or updates stays locked until the transaction ends (a
    counter). The primary key is known only once the row is written, so the order is
    checked then, as ``lock_unique`` does.
    """
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    key_fields = [_column_field(model, name) for name in key]
    key_columns = ", ".join(quote(str(key_field.column)) for key_field in key_fields)
    values = [
        key_field.get_db_prep_value(getattr(value, "pk", value), connection)
        for key_field, value in zip(key_fields, key.values(), strict=True)
    ]
    table, counted = quote(model._meta.db_table), quote(str(_column_field(model, field).column))
    primary_key = quote(str(_column_field(model, "pk").column))
    placeholders = ", ".join(["%s"] * len(key))
    sql = (
        f"INSERT INTO {table} ({key_columns}, {counted}) VALUES ({placeholders}, 1) "  # noqa: S608 - quoted names
        f"ON CONFLICT ({key_columns}) DO UPDATE SET {counted} = {table}.{counted} + 1 "
        f"RETURNING {primary_key}, {counted}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        pk, number = cursor.fetchone()
    queryset = model._default_manager.using(connection.alias)
    _check(queryset, pk)
    _record(queryset, [model(pk=pk)])
    return number


def _column_field(model: type[Model], name: str) -> Field:
    """The field ``name`` (or ``"pk"``) of ``model``, which must be a column of its table."""
    found = model._meta.pk if name == "pk" else model._meta.get_field(name)
    if not isinstance(found, Field) or found.column is None:
        raise ValueError(f"{name} is not a column of {model._meta.label}.")
    return found


def lock_rows(queryset: QuerySet[ModelT]) -> list[ModelT]:
    """Lock every row of ``queryset`` in ascending primary key and return them in that order."""
    locked = _for_update(queryset).order_by("pk")
    rows = list(locked)
    for row in rows:
        _check(locked, row.pk)
    _record(locked, rows)
    return rows


def claim_rows(queryset: QuerySet[ModelT], limit: int) -> list[ModelT]:
    """Lock up to ``limit`` rows of ``queryset`` that no other transaction holds, in ascending
    primary key, and return them (``FOR UPDATE SKIP LOCKED``).

    For a queue several workers take from at once: a row another worker has locked is
    passed over, never waited for, so each row goes to one worker.
    """
    locked = queryset.select_for_update(of=("self",), skip_locked=True).order_by("pk")[:limit]
    rows = list(locked)
    for row in rows:
        _check(queryset, row.pk)
    _record(queryset, rows)
    return rows


def held_locks(using: str = DEFAULT_DB_ALIAS) -> list[tuple[str, Any]]:
    """(label, pk) of each row the current transaction locked here, in the order taken.

    Recorded only while LOCK_ORDER_CHECKS is on; empty outside a transaction.
    """
    connection = connections[using]
    record = _current(connection, create=False)
    return list(record.held) if record is not None else []


@contextmanager
def order_unchecked(reason: str) -> Iterator[None]:
    """Don't check (or record) the lock order in this thread while the block runs.

    For code that knowingly holds many units' locks in one transaction, so that a later
    unit's locks come before an earlier one's: a bulk load into an idle database, a dry
    run. ``reason`` says why that is safe there; it is not used otherwise.
    """
    _local.unchecked = getattr(_local, "unchecked", 0) + 1
    try:
        yield
    finally:
        _local.unchecked -= 1


# --- the check -------------------------------------------------------------------------

_local = threading.local()


@dataclass(eq=False)
class _Transaction:
    """The rows one transaction locked through this module, as far as it is recorded."""

    connection: BaseDatabaseWrapper
    savepoint: str | None  # the savepoint standing for the transaction; None: the real one
    held: dict[tuple[str, Any], OrderKey] = field(default_factory=dict)
    last: tuple[str, Any] | None = None  # the held row latest in the order

    def __call__(self) -> None:
        # The on_commit callback of a real transaction: it committed, forget it.
        records: dict[str, _Transaction] = getattr(_local, "records", {})
        if records.get(self.connection.alias) is self:
            del records[self.connection.alias]

    def is_current(self, connection: BaseDatabaseWrapper, savepoint: str | None) -> bool:
        if self.connection is not connection or self.savepoint != savepoint:
            return False
        if savepoint is not None:
            return True
        # Django empties run_on_commit on commit and rollback, and drops the callbacks
        # registered inside a savepoint when it is rolled back.
        return any(entry[1] is self for entry in connection.run_on_commit)

    def check(self, label: str, pk: Any) -> None:
        if (label, pk) in self.held or self.last is None:
            return
        key = _order_key(label, pk)
        if key < self.held[self.last]:
            raise LockOrderError(_describe_violation((label, pk), self.last))

    def record(self, label: str, pk: Any) -> None:
        key = _order_key(label, pk)
        self.held.setdefault((label, pk), key)
        if self.last is None or key > self.held[self.last]:
            self.last = (label, pk)


def _checking() -> bool:
    return bool(getattr(settings, "LOCK_ORDER_CHECKS", False)) and not getattr(_local, "unchecked", 0)


def _for_update(source: type[ModelT] | QuerySet[ModelT]) -> QuerySet[ModelT]:
    queryset = source._default_manager.all() if isinstance(source, type) else source
    # of=("self",): only this model's rows. Rows of select_related joins stay unlocked
    # (they would escape the order), and nullable outer joins are allowed.
    return queryset.select_for_update(of=("self",))


def _order_key(label: str, pk: Any) -> OrderKey:
    place = _PLACES.get(label)
    if place is None:
        raise LockOrderError(f"{label} has no place in the lock order; give it one in core/locks.py first.")
    return (place[0], place[1], pk)


def _describe_violation(wanted: tuple[str, Any], held: tuple[str, Any]) -> str:
    (wanted_label, wanted_pk), (held_label, held_pk) = wanted, held
    if wanted_label == held_label:
        why = f"rows of {wanted_label} are locked in ascending primary key"
    else:
        why = (
            f"a {_PLACES[wanted_label][0].name.lower()} is locked before a "
            f"{_PLACES[held_label][0].name.lower()}"
        )
    return (
        f"Lock order broken: locking {wanted_label} pk={wanted_pk!r} while this transaction "
        f"holds {held_label} pk={held_pk!r}; {why} (the order is in core/locks.py)."
    )


def _scope(connection: BaseDatabaseWrapper) -> str | None:
    """The savepoint id of the atomic block standing for the current transaction (None: the real one)."""
    blocks = connection.atomic_blocks
    savepoints: list[str | None] = list(connection.savepoint_ids)
    index = next(
        (i for i, block in enumerate(blocks) if not getattr(block, "_from_testcase", False)),
        len(blocks) - 1,  # locked straight from a test's body: the test's innermost block
    )
    # The innermost blocks have savepoints; the outermost ones (normally one) don't.
    first_with_savepoint = len(blocks) - len(savepoints)
    # A block opened with savepoint=False belongs to its parent's transaction.
    while index >= first_with_savepoint and savepoints[index - first_with_savepoint] is None:
        index -= 1
    if index < first_with_savepoint:
        return None
    return savepoints[index - first_with_savepoint]


def _current(connection: BaseDatabaseWrapper, *, create: bool) -> _Transaction | None:
    if not connection.in_atomic_block or not connection.atomic_blocks:
        return None  # no transaction: select_for_update itself refuses to run
    records: dict[str, _Transaction] = _local.__dict__.setdefault("records", {})
    savepoint = _scope(connection)
    record = records.get(connection.alias)
    if record is not None and record.is_current(connection, savepoint):
        return record
    if not create:
        return None
    record = _Transaction(connection, savepoint)
    if savepoint is None:
        transaction.on_commit(record, using=connection.alias)
    records[connection.alias] = record
    return record


def _check(queryset: QuerySet[Any], pk: Any) -> None:
    if not _checking():
        return
    pk = queryset.model._meta.pk.to_python(pk)  # a pk given as text compares as the stored one
    record = _current(connections[queryset.db], create=False)
    if record is not None:
        record.check(queryset.model._meta.label, pk)
    else:
        _order_key(queryset.model._meta.label, pk)  # an unranked model fails even as the first lock


def _record(queryset: QuerySet[Any], rows: list[Any]) -> None:
    if not _checking() or not rows:
        return
    record = _current(connections[queryset.db], create=True)
    if record is None:
        return
    for row in rows:
        record.record(queryset.model._meta.label, row.pk)
