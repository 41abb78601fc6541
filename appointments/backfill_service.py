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
created or changed (simple-history's bulk helpers), with the change reason
``CHANGE_REASON``.
"""

import contextlib
import datetime
import enum
import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import Combinable
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

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
    appointments = locks.lock_rows(pending)
    result.seen = len(appointments)
    dirty = find_dirty_appointments([appointment.pk for appointment in appointments])
    for appointment_id, reasons in dirty.items():
        result.skipped.extend(
            SkippedRow(str(Appointment._meta.verbose_name), appointment_id, reason, detail)
            for reason, detail in reasons.items()
        )
    clean = [appointment for appointment in appointments if appointment.pk not in dirty]
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


# One set-based query per batch. SLOT(x) expands to ``time_slots.SlotRange``'s
# expression, so the exclusion constraints' GiST indexes (partial on
# status <> 'cancelled') serve the lookups of the other booking. A participant holds
# its patient's time unless its status is one of ``inactive``
# (``SessionParticipant.INACTIVE_STATUSES``).
DIRTY_APPOINTMENTS_SQL = expand_slots("""
WITH batch AS MATERIALIZED (
    SELECT a.id, a.provider_id, a.room_id, a.patient_id, SLOT(a) AS slot
    FROM appointments_appointment a
    WHERE a.id = ANY(%(ids)s) AND a.status <> 'cancelled'
)
SELECT b.id, 'provider_overlap', 'appointment', o.id
FROM batch b JOIN appointments_appointment o
  ON o.provider_id = b.provider_id AND o.id <> b.id AND o.status <> 'cancelled'
 AND SLOT(o) && b.slot
UNION ALL
SELECT b.id, 'provider_overlap', 'session', s.id
FROM batch b JOIN appointments_session s
  ON s.provider_id = b.provider_id AND s.status <> 'cancelled'
 AND SLOT(s) && b.slot
UNION ALL
SELECT b.id, 'room_overlap', 'appointment', o.id
FROM batch b JOIN appointments_appointment o
  ON o.room_id = b.room_id AND o.id <> b.id AND o.status <> 'cancelled'
 AND SLOT(o) && b.slot
UNION ALL
SELECT b.id, 'room_overlap', 'session', s.id
FROM batch b JOIN appointments_session s
  ON s.room_id = b.room_id AND s.status <> 'cancelled'
 AND SLOT(s) && b.slot
UNION ALL
SELECT b.id, 'patient_overlap', 'appointment', o.id
FROM batch b JOIN appointments_appointment o
  ON o.patient_id = b.patient_id AND o.id <> b.id AND o.status <> 'cancelled'
 AND SLOT(o) && b.slot
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


def _create_sessions(appointments: list[Appointment], result: BatchResult) -> list[CreatedSession]:
    """Insert the batch at once; if the database refuses it, insert row by row and skip the refused."""
    if not appointments:
        return []
    try:
        with transaction.atomic():
            return _insert_sessions(appointments)
    except IntegrityError:
        # The pre-check missed something (a booking committed meanwhile): find the
        # offending rows one savepoint each, so the rest of the batch still lands.
        pass
    created: list[CreatedSession] = []
    for appointment in appointments:
        try:
            with transaction.atomic():
                created.extend(_insert_sessions([appointment]))
        except IntegrityError as error:
            constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
            result.skipped.append(
                SkippedRow(
                    str(Appointment._meta.verbose_name),
                    appointment.pk,
                    SkipReason.DATABASE_REFUSED,
                    constraint or str(error),
                )
            )
    return created


def _insert_sessions(appointments: list[Appointment]) -> list[CreatedSession]:
    sessions = bulk_create_with_history(
        [_session_from(appointment) for appointment in appointments],
        Session,
        default_change_reason=CHANGE_REASON,
    )
    participants = SessionParticipant.objects.bulk_create(
        [
            _participant_from(appointment, session)
            for appointment, session in zip(appointments, sessions, strict=True)
        ]
    )
    _carry_booking_times(participants, appointments)
    # Their creation history only now, written from the rows as they end up: history rows
    # are append-only (core.row_hashes), never corrected after the fact.
    SessionParticipant.history.bulk_history_create(participants, default_change_reason=CHANGE_REASON)
    return [
        CreatedSession(
            appointment_id=participant.legacy_appointment_id,
            appointment_number=participant.appointment_number,
            session_id=session.pk,
            participant_id=participant.pk,
            session_status=session.status,
            participant_status=participant.status,
        )
        for session, participant in zip(sessions, participants, strict=True)
    ]


def _session_from(appointment: Appointment) -> Session:
    status = appointment.status
    completed_at = appointment.completed_at
    if status == AppointmentStatus.NO_SHOW:
        completed_at = appointment.no_show_at
    return Session(
        session_type=Session.SessionType.INDIVIDUAL,
        max_capacity=1,
        provider_id=appointment.provider_id,
        clinic_id=appointment.clinic_id,
        room_id=appointment.room_id,
        scheduled_date=appointment.scheduled_date,
        scheduled_time=appointment.scheduled_time,
        duration=appointment.duration,
        service_type=appointment.service_type,
        status=SESSION_STATUS[status],
        started_at=appointment.started_at,
        completed_at=completed_at,
        cancelled_at=appointment.cancelled_at,
        cancel_reason=appointment.cancel_reason,
        created_by_id=appointment.created_by_id,
    )


def _participant_from(appointment: Appointment, session: Session) -> SessionParticipant:
    status = appointment.status
    return SessionParticipant(
        session=session,
        patient_id=appointment.patient_id,
        appointment_number=appointment.appointment_number,
        legacy_appointment_id=appointment.pk,
        status=PARTICIPANT_STATUS[status],
        finance_cleared=appointment.finance_cleared,
        finance_cleared_by_id=appointment.finance_cleared_by_id,
        finance_cleared_at=appointment.finance_cleared_at,
        consent_verified=appointment.consent_verified,
        consent_verified_at=appointment.consent_verified_at,
        confirmed_at=appointment.confirmed_at,
        arrived_at=appointment.arrived_at,
        attended_at=appointment.completed_at if status == AppointmentStatus.COMPLETED else None,
        no_show_at=appointment.no_show_at,
        cancelled_at=appointment.cancelled_at,
        cancel_reason=appointment.cancel_reason,
    )


def _carry_booking_times(participants: list[SessionParticipant], appointments: list[Appointment]) -> None:
    # booked_at is auto_now_add, which every INSERT path overwrites with now(); the
    # participant was booked when its appointment was, so set it from there, before
    # the creation history row is written from the participant (which keeps it truthful).
    for participant, appointment in zip(participants, appointments, strict=True):
        participant.booked_at = appointment.created_at
    SessionParticipant.objects.bulk_update(participants, ["booked_at"])


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
            bulk_update_with_history(
                notes,
                note_model,
                ["session", "session_participant", "updated_at"],
                default_change_reason=CHANGE_REASON,
            )
            result.linked_notes += len(notes)


def _notes_to_link(
    note_model: type[ClinicalNote], appointment_ids: list[int], result: BatchResult
) -> list[ClinicalNote]:
    kind = str(note_model._meta.verbose_name)
    participant = "appointment__session_participant"
    candidates: list[WithAnnotations[ClinicalNote, NoteBooking]] = locks.lock_rows(
        note_model.objects.filter(
            appointment_id__in=appointment_ids, session_participant__isnull=True
        ).annotate(
            booked_patient_id=F("appointment__patient_id"),
            participant_id=F(f"{participant}__id"),
            participant_session_id=F(f"{participant}__session_id"),
        )
    )
    already_linked = dict(
        note_model.objects.filter(
            session_participant_id__in={note.participant_id for note in candidates}
        ).values_list("session_participant_id", "pk")
    )
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
    now = clock.now()
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
            note.updated_at = now
            notes.append(note)
    return notes
