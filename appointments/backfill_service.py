"""Back-fill: bring legacy appointments into the central Session model (the seed's Phase 2).

Each legacy ``Appointment`` without a Session becomes an INDIVIDUAL ``Session`` with one
``SessionParticipant`` that carries the appointment's own number (same billing event,
DESIGN "Decisions") and links back to it through ``legacy_appointment``. The
appointment's clinical notes are then pointed at the new session and participant and
keep their ``appointment`` link.

This is not a booking: it draws no number and runs none of ``SessionService``'s
booking rules (scope, check-in gates), because the legacy rows were already booked.
What it does check, set-based per batch before writing, is what the database would
refuse or what would break an invariant: overlapping bookings of the provider, room
or patient, a number already carried by a participant, and notes that can't be
linked consistently. Such rows are reported with their ids and skipped.

Status mapping (appointment -> session / participant):

==============  =============  ==========
appointment     session        participant
==============  =============  ==========
booked          scheduled      booked
confirmed       scheduled      confirmed
arrived         scheduled      arrived      (checked in; the appointment was never started)
in_progress     in_progress    arrived
completed       completed      attended
cancelled       cancelled      cancelled
no_show         completed      no_show      (as ``complete_session`` leaves a no-show)
==============  =============  ==========

Batches run in their own transaction, in primary-key order, so an interruption
loses nothing already committed and a rerun resumes: a rerun only sees
appointments that still have no participant. History is written for every row
created or changed, with the change reason ``CHANGE_REASON``: the rows
simple-history's bulk helpers would write, inserted by the same statement as the
rows they record. A batch is a fixed number of set-based statements, whatever its
size: one overlap query that the exclusion constraints' GiST indexes serve, one
insert of the sessions, participants and their history, and per note discipline a
lock and one update with its history.
"""

import contextlib
import datetime
import enum
import functools
import itertools
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import Combinable
from django.utils.translation import gettext as _

from appointments.integrity import expand_slots
from appointments.models import Appointment, Session, SessionParticipant
from appointments.notes.models import ClinicalNote
from appointments.notes.registry import note_models
from core import clock, locks
from core.models import Clinic, Provider, Room

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class NoteBooking(TypedDict):
    """What ``_notes_to_link`` annotates on a legacy note: its appointment's patient and participation."""

    booked_patient_id: int
    participant_id: int
    participant_session_id: int
    linked_note_id: int | None


CHANGE_REASON = "backfill_sessions: from legacy appointment"
DEFAULT_BATCH_SIZE = 1000

AppointmentStatus = Appointment.Status
ParticipantStatus = SessionParticipant.Status

SESSION_STATUS: dict[str, str] = {
    AppointmentStatus.BOOKED: Session.Status.SCHEDULED,
    AppointmentStatus.CONFIRMED: Session.Status.SCHEDULED,
    AppointmentStatus.ARRIVED: Session.Status.SCHEDULED,
    AppointmentStatus.IN_PROGRESS: Session.Status.IN_PROGRESS,
    AppointmentStatus.COMPLETED: Session.Status.COMPLETED,
    AppointmentStatus.CANCELLED: Session.Status.CANCELLED,
    AppointmentStatus.NO_SHOW: Session.Status.COMPLETED,
}
PARTICIPANT_STATUS: dict[str, str] = {
    AppointmentStatus.BOOKED: ParticipantStatus.BOOKED,
    AppointmentStatus.CONFIRMED: ParticipantStatus.CONFIRMED,
    AppointmentStatus.ARRIVED: ParticipantStatus.ARRIVED,
    AppointmentStatus.IN_PROGRESS: ParticipantStatus.ARRIVED,
    AppointmentStatus.COMPLETED: ParticipantStatus.ATTENDED,
    AppointmentStatus.CANCELLED: ParticipantStatus.CANCELLED,
    AppointmentStatus.NO_SHOW: ParticipantStatus.NO_SHOW,
}


class SkipReason(enum.StrEnum):
    """Why a legacy row was left as it is; the value is what operators grep for (and what the SQL returns)."""

    PROVIDER_OVERLAP = "provider_overlap"
    ROOM_OVERLAP = "room_overlap"
    PATIENT_OVERLAP = "patient_overlap"
    NUMBER_IN_USE = "number_in_use"
    DATABASE_REFUSED = "database_refused"
    NOTE_PATIENT_MISMATCH = "note_patient_mismatch"
    NOTE_LINKED_ELSEWHERE = "note_linked_elsewhere"
    DUPLICATE_NOTE = "duplicate_note"


@dataclass(frozen=True)
class BackfillScope:
    """Which legacy appointments to consider: one clinic and/or a date range (inclusive)."""

    clinic: Clinic | None = None
    since: datetime.date | None = None
    until: datetime.date | None = None


@dataclass(frozen=True)
class SkippedRow:
    kind: str  # "appointment" or a note's verbose name, e.g. "psychology note"
    pk: int
    reason: SkipReason
    detail: str


@dataclass(frozen=True)
class CreatedSession:
    appointment_id: int
    appointment_number: str
    session_id: int
    participant_id: int
    session_status: str
    participant_status: str


@dataclass
class BatchResult:
    number: int
    seen: int = 0
    created: list[CreatedSession] = field(default_factory=list)
    linked_notes: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)


@dataclass
class BackfillReport:
    seen: int = 0
    created: int = 0
    linked_notes: int = 0
    batches: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def skipped_by_reason(self) -> Counter[SkipReason]:
        return Counter(row.reason for row in self.skipped)

    def add(self, batch: BatchResult) -> None:
        self.batches += 1
        self.seen += batch.seen
        self.created += len(batch.created)
        self.linked_notes += batch.linked_notes
        self.skipped.extend(batch.skipped)


class BackfillInterrupted(Exception):
    """A batch failed; every earlier batch is committed (unless dry run), this one rolled back."""

    def __init__(self, report: BackfillReport, batch_number: int):
        super().__init__(batch_number)
        self.report = report
        self.batch_number = batch_number


class BackfillAlreadyRunning(Exception):
    """Another back-fill holds the run lock; two runs would race for the same appointments."""


class _DryRunRollback(Exception):
    """Raised to roll back a dry run after the real code ran."""


def _in_scope(appointments: QuerySet[Appointment], scope: BackfillScope) -> QuerySet[Appointment]:
    if scope.clinic is not None:
        appointments = appointments.filter(clinic=scope.clinic)
    if scope.since is not None:
        appointments = appointments.filter(scheduled_date__gte=scope.since)
    if scope.until is not None:
        appointments = appointments.filter(scheduled_date__lte=scope.until)
    return appointments.order_by("pk")


def pending_appointments(scope: BackfillScope) -> QuerySet[Appointment]:
    """Legacy appointments in scope that no SessionParticipant carries yet."""
    backfilled = Exists(SessionParticipant.objects.filter(legacy_appointment=OuterRef("pk")))
    return _in_scope(Appointment.objects.filter(~backfilled), scope)


def appointments_with_unlinked_notes(scope: BackfillScope) -> QuerySet[Appointment]:
    """Back-filled appointments in scope with a note not yet pointed at their session.

    The legacy workflow keeps writing notes on appointments (no dual writes), so a
    note can arrive after its appointment was back-filled; a rerun links it.
    """
    backfilled = Exists(SessionParticipant.objects.filter(legacy_appointment=OuterRef("pk")))
    # Q() | Exists(...) is the Exists itself (django-stubs' Q.__or__ takes only a Q).
    unlinked: Q | Combinable = Q()
    for note_model in note_models().values():
        unlinked |= Exists(
            note_model.objects.filter(appointment=OuterRef("pk"), session_participant__isnull=True)
        )
    return _in_scope(Appointment.objects.filter(backfilled).filter(unlinked), scope)


def backfill_sessions(
    scope: BackfillScope | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> BackfillReport:
    """Back-fill every pending appointment in ``scope``, ``batch_size`` at a time.

    First the notes of appointments back-filled by an earlier run are linked, then
    the pending appointments are back-filled with their notes. Each batch commits
    alone and ``on_batch`` is called after it. A dry run runs the same code inside
    one outer transaction (the batches become savepoints) and rolls it back at the
    end. Raises ``BackfillAlreadyRunning`` when another run holds the run lock, and
    ``BackfillInterrupted``, chained to the cause, when a batch fails: that batch is
    rolled back, earlier ones stay committed. After a real run that wrote rows, the
    written tables are ANALYZEd.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    scope = scope or BackfillScope()
    report = BackfillReport(dry_run=dry_run)
    started = time.monotonic()
    with _one_run_at_a_time():
        if dry_run:
            try:
                # The batches are savepoints of one transaction here, so a batch locks its
                # providers while the batches before it hold their notes: out of
                # core.locks' order, which the real run (a transaction per batch) keeps.
                with transaction.atomic(), locks.order_unchecked("a dry run holds every batch's locks"):
                    _run_batches(scope, batch_size, report, on_batch)
                    raise _DryRunRollback
            except _DryRunRollback:
                pass
        else:
            _run_batches(scope, batch_size, report, on_batch)
            if report.created or report.linked_notes:
                _refresh_planner_statistics()
    report.seconds = time.monotonic() - started
    return report


RUN_LOCK_KEY = 0x5E55_1011  # a PostgreSQL advisory lock key owned by the back-fill


@contextlib.contextmanager
def _one_run_at_a_time() -> Iterator[None]:
    # A session-level advisory lock spans the run's many transactions. Without it a
    # second run would list the same pending appointments and only the unique
    # constraints would stop it, row by row.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise BackfillAlreadyRunning
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK_KEY])


def _refresh_planner_statistics() -> None:
    # A large back-fill can multiply the session tables' rows at once; until autovacuum
    # catches up, the planner would plan schedule pages and check_integrity for the
    # old, small tables. ANALYZE only samples, so this takes a moment.
    models: list[type[Session] | type[SessionParticipant] | type[ClinicalNote]] = [
        Session,
        SessionParticipant,
        *note_models().values(),
    ]
    tables = [model._meta.db_table for model in models]
    tables += [model.history.model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(table) for table in tables))


def _run_batches(
    scope: BackfillScope,
    batch_size: int,
    report: BackfillReport,
    on_batch: Callable[[BatchResult], None] | None,
) -> None:
    # Notes of earlier runs' appointments first: this run's own appointments are not
    # back-filled yet, so no note is looked at twice.
    work = itertools.chain(
        ((ids, link_notes_batch) for ids in _batches(appointments_with_unlinked_notes(scope), batch_size)),
        ((ids, backfill_batch) for ids in _batches(pending_appointments(scope), batch_size)),
    )
    for number, (appointment_ids, run_batch) in enumerate(work, start=1):
        result = BatchResult(number=number)
        try:
            with transaction.atomic():
                run_batch(appointment_ids, result)
        except Exception as error:
            raise BackfillInterrupted(report, number) from error
        report.add(result)
        if on_batch is not None:
            on_batch(result)


def _batches(appointments: QuerySet[Appointment], batch_size: int) -> Iterator[list[int]]:
    # Keyset pagination on the primary key: skipped rows stay pending but are never
    # fetched twice in one run, and each query reads one index range.
    last_pk = 0
    while True:
        ids = list(appointments.filter(pk__gt=last_pk).values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        last_pk = ids[-1]
        yield ids


def backfill_batch(appointment_ids: list[int], result: BatchResult) -> None:
    """Back-fill one batch and link its notes inside the caller's transaction.

    Dirty rows go to ``result.skipped``. Locks the batch's appointments first (after
    their providers and rooms): a reschedule or cancellation running meanwhile waits,
    so each session is built from its appointment as committed; rows a concurrent run
    back-filled since the batch was listed drop out here.
    """
    pending = pending_appointments(BackfillScope()).filter(pk__in=appointment_ids)
    # core.locks' order: providers, rooms, then appointments. Inserting a session checks
    # its foreign keys, a key-share lock on its provider and room that waits for a
    # booking holding them - and a reschedule holds them while it waits for its
    # appointment, locked here. Each read runs once the locks before it are held: a
    # reschedule (the one service that moves an appointment, to another room) locks the
    # provider first, so the rooms read here stay put. (A write past the services that
    # moves an appointment meanwhile leaves its key-share lock out of order; PostgreSQL
    # would break such a deadlock by failing the batch, and a rerun resumes.)
    locks.lock_rows(Provider.objects.filter(pk__in=pending.values("provider_id")))
    locks.lock_rows(Room.objects.filter(pk__in=pending.values("room_id")))
    # Only the keys: the sessions are built from the locked rows in SQL.
    locked = [appointment.pk for appointment in locks.lock_rows(pending.only("pk"))]
    result.seen = len(locked)
    dirty = find_dirty_appointments(locked)
    for appointment_id, reasons in dirty.items():
        result.skipped.extend(
            SkippedRow(str(Appointment._meta.verbose_name), appointment_id, reason, detail)
            for reason, detail in reasons.items()
        )
    clean = [appointment_id for appointment_id in locked if appointment_id not in dirty]
    result.created.extend(_create_sessions(clean, result))
    link_notes_batch([created.appointment_id for created in result.created], result)


def find_dirty_appointments(appointment_ids: list[int]) -> dict[int, dict[SkipReason, str]]:
    """Appointments that can't become a session, by id: {reason: "overlaps appointment 3, session 9"}.

    One set-based query. An active appointment is dirty when another active booking
    of its provider, room or patient overlaps it (appointments, sessions, and the
    patient's participations), or when a participant already carries its number.
    """
    if not appointment_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            DIRTY_APPOINTMENTS_SQL,
            {
                "ids": appointment_ids,
                "inactive": [status.value for status in SessionParticipant.INACTIVE_STATUSES],
            },
        )
        rows = cursor.fetchall()
    others: dict[int, dict[SkipReason, list[str]]] = {}
    for appointment_id, reason, other_kind, other_id in rows:
        others.setdefault(appointment_id, {}).setdefault(SkipReason(reason), []).append(
            f"{other_kind} {other_id}"
        )
    return {
        appointment_id: {reason: _describe(reason, found) for reason, found in by_reason.items()}
        for appointment_id, by_reason in others.items()
    }


def _describe(reason: SkipReason, others: list[str]) -> str:
    if reason == SkipReason.NUMBER_IN_USE:
        return _("number also on %(holders)s") % {"holders": ", ".join(others)}
    return _("overlaps %(bookings)s") % {"bookings": ", ".join(others)}


_OWNER_MACRO = re.compile(r"OWNER\((\w+)\.(\w+)\)")


def _expand_owners(sql: str) -> str:
    """Replace every ``OWNER(alias.column)`` with ``time_slots.SameRow``'s expression for it."""
    return _OWNER_MACRO.sub(lambda match: "int8range({0}, {0}, '[]')".format(".".join(match.groups())), sql)


# One set-based query per batch. An overlap lookup is written as its exclusion
# constraint is, OWNER(x.owner) && OWNER(b.owner) AND SLOT(x) && b.slot on the active
# (status <> 'cancelled'), non-null owner rows, so the constraint's GiST index finds
# the few bookings overlapping each batch row; joining on the owner's id alone read
# every booking of that provider or room, a cost that grew with the table. A null
# room is no owner (its OWNER range would be unbounded), hence the IS NOT NULL on
# the batch side. The patient's participations have no such index: their patient's
# btree index reads the few of each child. A participant holds its patient's time
# unless its status is one of ``inactive`` (``SessionParticipant.INACTIVE_STATUSES``).
DIRTY_APPOINTMENTS_SQL = _expand_owners(
    expand_slots("""
WITH batch AS MATERIALIZED (
    SELECT a.id, a.provider_id, a.room_id, a.patient_id, SLOT(a) AS slot
    FROM appointments_appointment a
    WHERE a.id = ANY(%(ids)s) AND a.status <> 'cancelled'
)
SELECT b.id, 'provider_overlap', 'appointment', o.id
FROM batch b JOIN appointments_appointment o
  ON OWNER(o.provider_id) && OWNER(b.provider_id) AND SLOT(o) && b.slot
 AND o.provider_id IS NOT NULL AND o.status <> 'cancelled' AND o.id <> b.id
WHERE b.provider_id IS NOT NULL
UNION ALL
SELECT b.id, 'provider_overlap', 'session', s.id
FROM batch b JOIN appointments_session s
  ON OWNER(s.provider_id) && OWNER(b.provider_id) AND SLOT(s) && b.slot
 AND s.provider_id IS NOT NULL AND s.status <> 'cancelled'
WHERE b.provider_id IS NOT NULL
UNION ALL
SELECT b.id, 'room_overlap', 'appointment', o.id
FROM batch b JOIN appointments_appointment o
  ON OWNER(o.room_id) && OWNER(b.room_id) AND SLOT(o) && b.slot
 AND o.room_id IS NOT NULL AND o.status <> 'cancelled' AND o.id <> b.id
WHERE b.room_id IS NOT NULL
UNION ALL
SELECT b.id, 'room_overlap', 'session', s.id
FROM batch b JOIN appointments_session s
  ON OWNER(s.room_id) && OWNER(b.room_id) AND SLOT(s) && b.slot
 AND s.room_id IS NOT NULL AND s.status <> 'cancelled'
WHERE b.room_id IS NOT NULL
UNION ALL
SELECT b.id, 'patient_overlap', 'appointment', o.id
FROM batch b JOIN appointments_appointment o
  ON OWNER(o.patient_id) && OWNER(b.patient_id) AND SLOT(o) && b.slot
 AND o.patient_id IS NOT NULL AND o.status <> 'cancelled' AND o.id <> b.id
WHERE b.patient_id IS NOT NULL
UNION ALL
SELECT b.id, 'patient_overlap', 'participant', p.id
FROM batch b JOIN appointments_sessionparticipant p
  ON p.patient_id = b.patient_id AND p.status <> ALL(%(inactive)s)
JOIN appointments_session s ON s.id = p.session_id AND s.status <> 'cancelled' AND SLOT(s) && b.slot
UNION ALL
SELECT a.id, 'number_in_use', 'participant', p.id
FROM appointments_appointment a
JOIN appointments_sessionparticipant p ON p.appointment_number = a.appointment_number
WHERE a.id = ANY(%(ids)s)
ORDER BY 1, 2, 3, 4
""")
)


def _create_sessions(appointment_ids: list[int], result: BatchResult) -> list[CreatedSession]:
    """Insert the batch at once; if the database refuses it, insert row by row and skip the refused."""
    if not appointment_ids:
        return []
    try:
        with transaction.atomic():
            return _insert_sessions(appointment_ids)
    except IntegrityError:
        # The pre-check missed something (a booking committed meanwhile): find the
        # offending rows one savepoint each, so the rest of the batch still lands.
        pass
    created: list[CreatedSession] = []
    for appointment_id in appointment_ids:
        try:
            with transaction.atomic():
                created.extend(_insert_sessions([appointment_id]))
        except IntegrityError as error:
            constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
            result.skipped.append(
                SkippedRow(
                    str(Appointment._meta.verbose_name),
                    appointment_id,
                    SkipReason.DATABASE_REFUSED,
                    constraint or str(error),
                )
            )
    return created


def _insert_sessions(appointment_ids: list[int]) -> list[CreatedSession]:
    """One statement: the sessions, their participants and both creation histories."""
    sql, fixed = insert_sessions_statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, {**fixed, "ids": appointment_ids, **history_params(Session)})
        rows = cursor.fetchall()
    return [CreatedSession(*row) for row in rows]


# The columns of a session and its participant taken from the appointment (alias ``b``:
# its columns, the statuses mapped above and the id drawn for its session). Every other
# column gets its field's default, as bulk_create would write it.
SESSION_VALUES = {
    "id": "b.session_id",
    "session_type": "%(individual)s",
    "max_capacity": "1",
    "provider_id": "b.provider_id",
    "clinic_id": "b.clinic_id",
    "room_id": "b.room_id",
    "scheduled_date": "b.scheduled_date",
    "scheduled_time": "b.scheduled_time",
    "duration": "b.duration",
    "service_type": "b.service_type",
    "status": "b.session_status",
    "started_at": "b.started_at",
    # A no-show's session is completed when the child was marked absent (complete_session).
    "completed_at": "CASE WHEN b.status = %(no_show)s THEN b.no_show_at ELSE b.completed_at END",
    "cancelled_at": "b.cancelled_at",
    "cancel_reason": "b.cancel_reason",
    "created_by_id": "b.created_by_id",
}
PARTICIPANT_VALUES = {
    "session_id": "b.session_id",
    "patient_id": "b.patient_id",
    "appointment_number": "b.appointment_number",
    "legacy_appointment_id": "b.id",
    "status": "b.participant_status",
    "finance_cleared": "b.finance_cleared",
    "finance_cleared_by_id": "b.finance_cleared_by_id",
    "finance_cleared_at": "b.finance_cleared_at",
    "consent_verified": "b.consent_verified",
    "consent_verified_at": "b.consent_verified_at",
    # booked_at is auto_now_add; the participant was booked when its appointment was.
    "booked_at": "b.created_at",
    "confirmed_at": "b.confirmed_at",
    "arrived_at": "b.arrived_at",
    "attended_at": "CASE WHEN b.status = %(completed)s THEN b.completed_at END",
    "no_show_at": "b.no_show_at",
    "cancelled_at": "b.cancelled_at",
    "cancel_reason": "b.cancel_reason",
}


@functools.cache
def insert_sessions_statement() -> tuple[str, dict[str, Any]]:
    """The statement that inserts a batch's sessions, participants and their creation history.

    With its fixed parameters; a batch adds ``ids`` (the clean appointments) and
    ``history_params``. The same-rules floor of ``benchmarks/backfill_benchmark.py``
    sends it too.
    """
    session_columns, session_values, session_defaults = _insert_columns(Session, SESSION_VALUES)
    participant_columns, participant_values, participant_defaults = _insert_columns(
        SessionParticipant, PARTICIPANT_VALUES
    )
    session_sequence = f"pg_get_serial_sequence('{Session._meta.db_table}', '{Session._meta.pk.column}')"
    # Session ids are drawn first, so each participant can name its session, and in the
    # appointments' order (the subquery's), the order bulk_create gave them.
    sql = f"""
WITH batch AS MATERIALIZED (
    SELECT ordered.*, nextval({session_sequence}) AS session_id
    FROM (
        SELECT a.*, m.session_status, m.participant_status
        FROM appointments_appointment a
        -- LEFT: a status without a mapping leaves the statuses null, which the insert refuses
        -- (a reported database_refused row), rather than dropping the row unseen.
        LEFT JOIN unnest(%(statuses)s::text[], %(session_statuses)s::text[], %(participant_statuses)s::text[])
          AS m(appointment_status, session_status, participant_status) ON m.appointment_status = a.status
        WHERE a.id = ANY(%(ids)s)
        ORDER BY a.id
    ) ordered
),
sessions AS (
    INSERT INTO {_table(Session)} ({session_columns})
    SELECT {session_values} FROM batch b ORDER BY b.id
    RETURNING *
),
participants AS (
    INSERT INTO {_table(SessionParticipant)} ({participant_columns})
    SELECT {participant_values} FROM batch b ORDER BY b.id
    RETURNING *
),
session_history AS ({history_insert_sql(Session, "sessions", "+")}),
participant_history AS ({history_insert_sql(SessionParticipant, "participants", "+")})
SELECT p.legacy_appointment_id, p.appointment_number, p.session_id, p.id, b.session_status, p.status
FROM participants p JOIN batch b ON b.id = p.legacy_appointment_id
ORDER BY p.legacy_appointment_id
"""  # noqa: S608 - table and column names from the models, values are parameters
    fixed = {
        "statuses": [str(status) for status in SESSION_STATUS],
        "session_statuses": [str(SESSION_STATUS[status]) for status in SESSION_STATUS],
        "participant_statuses": [str(PARTICIPANT_STATUS[status]) for status in SESSION_STATUS],
        "individual": Session.SessionType.INDIVIDUAL.value,
        "completed": AppointmentStatus.COMPLETED.value,
        "no_show": AppointmentStatus.NO_SHOW.value,
        **session_defaults,
        **participant_defaults,
    }
    return sql, fixed


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: type[Model], name: str = "pk") -> str:
    """The quoted column of ``model``'s field ``name`` (or of its primary key)."""
    model_field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    column = getattr(model_field, "column", None)
    if not isinstance(column, str):
        raise TypeError(f"{model._meta.label}.{name} has no column")
    return connection.ops.quote_name(column)


def _insert_columns(model: type[Model], values: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    """The column list, SELECT list and parameters of an INSERT of ``model`` rows.

    Each column takes its expression from ``values``, else its field's default as a
    typed parameter (the field's own database value), so a column a later migration
    adds gets what bulk_create would give it; auto_now fields get the batch's moment
    (``%(now)s``).
    """
    columns: list[str] = []
    selected: list[str] = []
    defaults: dict[str, Any] = {}
    for model_field in model._meta.concrete_fields:
        column = str(model_field.column)
        if column in values:
            expression = values[column]
        elif model_field.primary_key:
            continue  # drawn from its sequence
        elif getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            expression = "%(now)s"
        else:
            name = f"default_{model._meta.model_name}_{column}"
            defaults[name] = model_field.get_db_prep_save(model_field.get_default(), connection)
            expression = f"CAST(%({name})s AS {model_field.cast_db_type(connection)})"
        columns.append(connection.ops.quote_name(column))
        selected.append(expression)
    missing = set(values) - {field.column for field in model._meta.concrete_fields}
    if missing:
        raise ValueError(f"{model._meta.label} has no column {', '.join(sorted(missing))}")
    return ", ".join(columns), ", ".join(selected), defaults


def history_insert_sql(model: type[Model], rows: str, history_type: str) -> str:
    """INSERT of the history of the rows the CTE ``rows`` returned, as simple-history's bulk helpers write it.

    Ordered by primary key, the order those helpers were given the rows in; the audit
    table's trigger adds each row's hash.
    """
    history = model.history.model  # type: ignore[attr-defined]
    columns = ", ".join(connection.ops.quote_name(str(tracked.column)) for tracked in history.tracked_fields)
    return f"""
INSERT INTO {_table(history)} ({columns}, history_date, history_change_reason, history_type, history_user_id)
SELECT {columns}, %(now)s, %(reason)s, '{history_type}', %(history_user)s
FROM {rows} ORDER BY {_column(model)}
"""  # noqa: S608 - table and column names from the models, values are parameters


def history_params(model: type[Model]) -> dict[str, Any]:
    """The moment, change reason and user of a batch's history rows (and of its auto_now columns)."""
    # simple-history's own choice of user: the request's, when a request runs this.
    user = model.history.model.get_default_history_user(model())  # type: ignore[attr-defined]
    return {
        "now": clock.now(),
        "reason": CHANGE_REASON,
        "history_user": user.pk if user is not None else None,
    }


def link_notes_batch(appointment_ids: list[int], result: BatchResult) -> None:
    """Point the notes of these back-filled appointments at their session and participant.

    A note keeps its ``appointment`` link. Notes that can't be linked consistently
    are reported in ``result.skipped`` and left as they are: one about another
    patient than its appointment's, one already linked to another session, and every
    note of a discipline whose appointment has more than one (one note per
    participant per discipline - a person decides which is the note of record).
    """
    if not appointment_ids:
        return
    for note_model in note_models().values():
        notes = _notes_to_link(note_model, appointment_ids, result)
        if notes:
            _link_notes(note_model, notes)
            result.linked_notes += len(notes)


def _link_notes(note_model: type[ClinicalNote], notes: list[ClinicalNote]) -> None:
    """One statement: point ``notes`` at their session and participant and write their change history."""
    pk = _column(note_model)
    session, participant, updated = (
        _column(note_model, name) for name in ("session", "session_participant", "updated_at")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
WITH linked AS (
    UPDATE {_table(note_model)} note
    SET {session} = link.session_id, {participant} = link.participant_id, {updated} = %(now)s
    FROM unnest(%(notes)s::bigint[], %(sessions)s::bigint[], %(participants)s::bigint[])
      AS link(note_id, session_id, participant_id)
    WHERE note.{pk} = link.note_id
    RETURNING note.*
)
{history_insert_sql(note_model, "linked", "~")}
""",  # noqa: S608 - table and column names from the models, values are parameters
            {
                "notes": [note.pk for note in notes],
                "sessions": [note.session_id for note in notes],
                "participants": [note.session_participant_id for note in notes],
                **history_params(note_model),
            },
        )


def _notes_to_link(
    note_model: type[ClinicalNote], appointment_ids: list[int], result: BatchResult
) -> list[ClinicalNote]:
    kind = str(note_model._meta.verbose_name)
    participant = "appointment__session_participant"
    candidates: list[WithAnnotations[ClinicalNote, NoteBooking]] = locks.lock_rows(
        note_model.objects.filter(appointment_id__in=appointment_ids, session_participant__isnull=True)
        .annotate(
            booked_patient_id=F("appointment__patient_id"),
            participant_id=F(f"{participant}__id"),
            participant_session_id=F(f"{participant}__session_id"),
            # The note of this discipline already on the participant (one at most: a unique constraint).
            linked_note_id=Subquery(
                note_model.objects.filter(session_participant_id=OuterRef(f"{participant}__id")).values("pk")[
                    :1
                ]
            ),
        )
        # Only what the checks read: the update is written in SQL.
        .only("pk", "patient", "appointment", "session")
    )
    already_linked = {
        note.participant_id: note.linked_note_id for note in candidates if note.linked_note_id is not None
    }
    consistent: dict[int, list[WithAnnotations[ClinicalNote, NoteBooking]]] = {}
    for note in candidates:
        if note.patient_id != note.booked_patient_id:
            result.skipped.append(
                SkippedRow(
                    kind,
                    note.pk,
                    SkipReason.NOTE_PATIENT_MISMATCH,
                    _("note is about patient %(patient)s, appointment %(appointment)s is patient %(other)s's")
                    % {
                        "patient": note.patient_id,
                        "appointment": note.appointment_id,
                        "other": note.booked_patient_id,
                    },
                )
            )
        elif note.session_id is not None and note.session_id != note.participant_session_id:
            result.skipped.append(
                SkippedRow(
                    kind,
                    note.pk,
                    SkipReason.NOTE_LINKED_ELSEWHERE,
                    _("note is on session %(session)s, appointment %(appointment)s became session %(new)s")
                    % {
                        "session": note.session_id,
                        "appointment": note.appointment_id,
                        "new": note.participant_session_id,
                    },
                )
            )
        else:
            consistent.setdefault(note.participant_id, []).append(note)
    notes: list[ClinicalNote] = []
    for participant_id, group in consistent.items():
        holders = [note.pk for note in group]
        if participant_id in already_linked:
            holders.append(already_linked[participant_id])
        if len(holders) > 1:
            result.skipped.extend(
                SkippedRow(
                    kind,
                    note.pk,
                    SkipReason.DUPLICATE_NOTE,
                    _("appointment %(appointment)s has %(notes)s %(ids)s")
                    % {
                        "appointment": note.appointment_id,
                        "notes": note_model._meta.verbose_name_plural,
                        "ids": ", ".join(map(str, sorted(holders))),
                    },
                )
                for note in group
            )
            continue
        for note in group:
            note.session_id = note.participant_session_id
            note.session_participant_id = participant_id
            notes.append(note)
    return notes
