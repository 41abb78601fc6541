"""Integrity checks: the DESIGN.md invariants, verified over the whole database.

One set-based SQL query per invariant; each returns one row per violation, with
the ids an operator needs to find it. Used by ``manage.py check_integrity``. The last
check, ``audit_chain``, is ``core.audit_chain.verify`` (incremental): its damage is
reported here as violations too.

Most invariants also have a PostgreSQL constraint; these queries still matter
because data can predate a constraint, arrive through raw SQL or a restore, or span
two tables (sessions and legacy appointments) where no single constraint can look.
"""

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from appointments.models import (
    APPOINTMENT_NUMBER_PATTERN,
    MAX_DURATION_MINUTES,
    MAX_GROUP_CAPACITY,
    SessionParticipant,
)
from appointments.notes.models import (
    BACKFILLED_LINKS,
    CLEARABLE_LINKS,
    UNGUARDED_COLUMNS,
    ClinicalNote,
)
from appointments.notes.registry import note_models
from core.audit_chain import verify as verify_audit_chain

_SLOT_MACRO = re.compile(r"SLOT\((\w+)\)")

# Two bookings can only overlap when their start days are at most this many days
# apart (a booking lasts at most MAX_DURATION_MINUTES); the overlap queries join on
# (owner, day) for each shift, which keeps them hash joins instead of per-owner loops.
DAY_SHIFTS = tuple(range(MAX_DURATION_MINUTES // (24 * 60) + 2))


def slot_sql(alias: str) -> str:
    """``time_slots.SlotRange`` as SQL for the table aliased ``alias``.

    Written exactly like the exclusion constraints' expression, so their GiST
    indexes can serve queries that use it.
    """
    start = f"({alias}.scheduled_date + {alias}.scheduled_time)"
    return f"tsrange({start}, {start} + make_interval(mins => {alias}.duration), '[)')"


def expand_slots(sql: str) -> str:
    """Replace every ``SLOT(alias)`` in ``sql`` with ``slot_sql(alias)``."""
    return _SLOT_MACRO.sub(lambda match: slot_sql(match.group(1)), sql)


@dataclass(frozen=True)
class Check:
    name: str
    invariant: Promise
    sql: str
    message: Promise  # %-template over the query's column names
    # A check that isn't one query: the rows (column name -> value) it finds, instead of ``sql``.
    rows: Callable[[], list[dict[str, object]]] | None = None


@dataclass(frozen=True)
class Violation:
    check: str
    message: str


@dataclass
class IntegrityReport:
    checks: list[str]
    violations: list[Violation]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.violations


def _overlap_sql(bookings: str, owner: str) -> str:
    """Pairs of active bookings of one owner whose slots overlap, each pair once.

    ``bookings`` selects (kind, id, owner, day, slot, booking); rows with the same
    ``booking`` are one booking seen twice - a back-filled participant or session
    and its own legacy appointment - and never conflict.
    """
    shifts = ", ".join(f"({days})" for days in DAY_SHIFTS)
    return expand_slots(f"""
WITH bookings AS MATERIALIZED ({bookings})
SELECT x.owner AS {owner}, x.kind AS first_kind, x.id AS first_id, y.kind AS second_kind, y.id AS second_id
FROM bookings x
CROSS JOIN (VALUES {shifts}) AS shift(days)
JOIN bookings y ON y.owner = x.owner AND y.day = x.day + shift.days
WHERE x.slot && y.slot
  AND (shift.days > 0 OR (x.kind, x.id) < (y.kind, y.id))
  AND NOT coalesce(x.booking = y.booking, false)
ORDER BY 1, 2, 3, 4, 5
""")  # noqa: S608 - only constants and column names are interpolated


# A session's "booking" is the legacy appointment it was back-filled from, if any.
_SESSIONS_AND_APPOINTMENTS = """
SELECT 'session' AS kind, s.id, s.{owner} AS owner, s.scheduled_date AS day, SLOT(s) AS slot,
       legacy.appointment_id AS booking
FROM appointments_session s
LEFT JOIN (
    SELECT session_id, min(legacy_appointment_id) AS appointment_id
    FROM appointments_sessionparticipant
    WHERE legacy_appointment_id IS NOT NULL
    GROUP BY session_id
) legacy ON legacy.session_id = s.id
WHERE s.status <> 'cancelled' AND s.{owner} IS NOT NULL
UNION ALL
SELECT 'appointment', a.id, a.{owner}, a.scheduled_date, SLOT(a), a.id
FROM appointments_appointment a
WHERE a.status <> 'cancelled' AND a.{owner} IS NOT NULL
"""

_PATIENT_BOOKINGS = """
SELECT 'participant' AS kind, p.id, p.patient_id AS owner, s.scheduled_date AS day, SLOT(s) AS slot,
       p.legacy_appointment_id AS booking
FROM appointments_sessionparticipant p
JOIN appointments_session s ON s.id = p.session_id
WHERE p.status <> ALL(%(inactive)s) AND s.status <> 'cancelled'
UNION ALL
SELECT 'appointment', a.id, a.patient_id, a.scheduled_date, SLOT(a), a.id
FROM appointments_appointment a
WHERE a.status <> 'cancelled'
"""

_NUMBER_TENANTS = """
SELECT 'appointment' AS kind, a.id, a.appointment_number AS number, t.code AS tenant
FROM appointments_appointment a
JOIN core_clinic c ON c.id = a.clinic_id
JOIN core_tenant t ON t.id = c.tenant_id
UNION ALL
SELECT 'participant', p.id, p.appointment_number, t.code
FROM appointments_sessionparticipant p
JOIN appointments_session s ON s.id = p.session_id
JOIN core_clinic c ON c.id = s.clinic_id
JOIN core_tenant t ON t.id = c.tenant_id
"""

SCHEDULING_CHECKS: tuple[Check, ...] = (
    Check(
        name="capacity_range",
        invariant=_("Capacity is 1 for an individual session and 2-20 for a group."),
        sql=f"""
SELECT id AS session_id, session_type, max_capacity
FROM appointments_session
WHERE max_capacity NOT BETWEEN 1 AND {MAX_GROUP_CAPACITY}
   OR (session_type = 'individual' AND max_capacity <> 1)
   OR (session_type = 'group' AND max_capacity < 2)
   OR session_type NOT IN ('individual', 'group')
ORDER BY id
""",  # noqa: S608 - a constant
        message=_("session %(session_id)s: %(session_type)s session with capacity %(max_capacity)s"),
    ),
    Check(
        name="capacity_exceeded",
        invariant=_("Active participants never exceed a session's capacity."),
        sql="""
SELECT s.id AS session_id, count(*) AS taken, s.max_capacity
FROM appointments_session s
JOIN appointments_sessionparticipant p ON p.session_id = s.id AND p.status <> ALL(%(inactive)s)
GROUP BY s.id
HAVING count(*) > s.max_capacity
ORDER BY s.id
""",
        message=_("session %(session_id)s: %(taken)s active participants for %(max_capacity)s seats"),
    ),
    Check(
        name="active_participation",
        invariant=_("A patient is in a session at most once while active."),
        sql="""
SELECT session_id, patient_id, string_agg(id::text, ', ' ORDER BY id) AS participant_ids
FROM appointments_sessionparticipant
WHERE status <> ALL(%(inactive)s)
GROUP BY session_id, patient_id
HAVING count(*) > 1
ORDER BY session_id, patient_id
""",
        message=_(
            "session %(session_id)s: patient %(patient_id)s is active in participants %(participant_ids)s"
        ),
    ),
    Check(
        name="participant_status",
        invariant=_("A closed session has no participant still expected (booked, confirmed, arrived)."),
        sql="""
SELECT s.id AS session_id, s.status AS session_status, p.id AS participant_id, p.status
FROM appointments_session s
JOIN appointments_sessionparticipant p ON p.session_id = s.id
WHERE s.status IN ('completed', 'cancelled') AND p.status IN ('booked', 'confirmed', 'arrived')
ORDER BY s.id, p.id
""",
        message=_(
            "session %(session_id)s is %(session_status)s but participant %(participant_id)s is %(status)s"
        ),
    ),
    Check(
        name="number_format",
        invariant=_("Appointment numbers read APT-<TENANT>-<YEAR>-<NNNNN> with the clinic's tenant."),
        sql=f"""
SELECT kind, id, number, tenant
FROM ({_NUMBER_TENANTS}) numbers
WHERE number !~ %(pattern)s OR number NOT LIKE 'APT-' || tenant || '-%%'
ORDER BY kind, id
""",  # noqa: S608 - a constant
        message=_("%(kind)s %(id)s: number %(number)s is not of the form APT-%(tenant)s-YYYY-NNNNN"),
    ),
    Check(
        name="number_unique",
        invariant=_(
            "Numbers are unique across appointments and participants; a back-filled participant "
            "shares only its own appointment's number."
        ),
        sql="""
SELECT number, string_agg(holder, ', ' ORDER BY holder) AS holders
FROM (
    SELECT appointment_number AS number, 'appointment ' || id AS holder
    FROM appointments_appointment
    UNION ALL
    SELECT p.appointment_number, 'participant ' || p.id
    FROM appointments_sessionparticipant p
    LEFT JOIN appointments_appointment own ON own.id = p.legacy_appointment_id
    WHERE own.appointment_number IS DISTINCT FROM p.appointment_number
) numbers
GROUP BY number
HAVING count(*) > 1
ORDER BY number
""",
        message=_("number %(number)s is held by %(holders)s"),
    ),
    Check(
        name="backfilled_number",
        invariant=_("A back-filled participant carries its legacy appointment's number."),
        sql="""
SELECT p.id AS participant_id, p.appointment_number AS number, a.id AS appointment_id,
       a.appointment_number AS appointment_number
FROM appointments_sessionparticipant p
JOIN appointments_appointment a ON a.id = p.legacy_appointment_id
WHERE a.appointment_number <> p.appointment_number
ORDER BY p.id
""",
        message=_(
            "participant %(participant_id)s has number %(number)s but its appointment "
            "%(appointment_id)s has %(appointment_number)s"
        ),
    ),
    Check(
        name="number_counter",
        invariant=_("Each tenant's counter for a year is at or past the highest number issued that year."),
        sql="""
WITH issued AS (
    SELECT substring(number FROM '^APT-([A-Z0-9]+)-') AS code,
           substring(number FROM '-([0-9]{4})-[0-9]+$')::int AS year,
           max(substring(number FROM '([0-9]+)$')::bigint) AS highest
    FROM (
        SELECT appointment_number AS number FROM appointments_appointment
        UNION ALL
        SELECT appointment_number FROM appointments_sessionparticipant
    ) numbers
    WHERE number ~ %(pattern)s
    GROUP BY 1, 2
)
SELECT issued.code AS tenant, issued.year, issued.highest, coalesce(counter.last_number, 0) AS counter
FROM issued
JOIN core_tenant t ON t.code = issued.code
LEFT JOIN appointments_appointmentnumbercounter counter
       ON counter.tenant_id = t.id AND counter.year = issued.year
WHERE coalesce(counter.last_number, 0) < issued.highest
ORDER BY 1, 2
""",
        message=_(
            "tenant %(tenant)s, %(year)s: numbers go up to %(highest)s but the counter is at %(counter)s "
            "(the next bookings would reuse numbers)"
        ),
    ),
    Check(
        name="provider_overlap",
        invariant=_("A provider is never double-booked across sessions and appointments."),
        sql=_overlap_sql(_SESSIONS_AND_APPOINTMENTS.format(owner="provider_id"), "provider_id"),
        message=_(
            "provider %(provider_id)s: %(first_kind)s %(first_id)s overlaps %(second_kind)s %(second_id)s"
        ),
    ),
    Check(
        name="room_overlap",
        invariant=_("A room is never double-booked across sessions and appointments."),
        sql=_overlap_sql(_SESSIONS_AND_APPOINTMENTS.format(owner="room_id"), "room_id"),
        message=_("room %(room_id)s: %(first_kind)s %(first_id)s overlaps %(second_kind)s %(second_id)s"),
    ),
    Check(
        name="patient_overlap",
        invariant=_("A patient is never double-booked across sessions and appointments."),
        sql=_overlap_sql(_PATIENT_BOOKINGS, "patient_id"),
        message=_(
            "patient %(patient_id)s: %(first_kind)s %(first_id)s overlaps %(second_kind)s %(second_id)s"
        ),
    ),
)

# ``inactive``: the participant statuses that hold no seat, as every query names them.
QUERY_PARAMS: dict[str, str | list[str]] = {
    "pattern": APPOINTMENT_NUMBER_PATTERN,
    "inactive": [status.value for status in SessionParticipant.INACTIVE_STATUSES],
}


def _sql_literal(text: object) -> str:
    """``str(text)`` (a lazy translation, a verbose name) as an SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def _each_note_model(template: str, order_by: str) -> str:
    """One query over the three disciplines: ``template`` filled in for each, UNION ALL.

    The template names ``{table}`` and ``{label}`` (the note's verbose name as an SQL
    literal); ``_note_names`` lists the rest.
    """
    selects = [template.format(**_note_names(model)) for model in note_models().values()]
    return "\nUNION ALL\n".join(selects) + f"\nORDER BY {order_by}"


def _signed_note_changes_sql() -> str:
    selects = []
    for model in note_models().values():
        selects.append(_SIGNED_NOTE_CHANGES.format(**_note_names(model)))
        selects.extend(_row_changes(model))
    return "\nUNION ALL\n".join(selects) + "\nORDER BY 1, 2, 3"


def _note_names(model: type[ClinicalNote]) -> dict[str, str]:
    history = model.history.model._meta.db_table
    return {
        "table": model._meta.db_table,
        "label": _sql_literal(model._meta.verbose_name),
        "history": history,
        "signing": _SIGNING.format(history=history),
        "latest": _LATEST.format(history=history),
        "unrecorded_change": f"{_content_changed(model, 'n', 'latest')} OR {_links_moved('n', 'latest.{}')}",
        "previous_links": ", ".join(
            # The signing record is the first step: it is its own "previous" state.
            f"lag(h.{link}, 1, h.{link}) OVER step AS prev_{link}"
            for link in (*BACKFILLED_LINKS, *CLEARABLE_LINKS)
        ),
        "recorded_change": (
            f"{_content_changed(model, 'step', 'signed')} OR {_links_moved('step', 'step.prev_{}')}"
        ),
        "the_note": _sql_literal(_("the note")),
    }


def _content_changed(model: type[ClinicalNote], now: str, then: str) -> str:
    """SQL: ``now`` differs from ``then`` in a column a signed note freezes (all but links and updated_at)."""
    loose = {*BACKFILLED_LINKS, *CLEARABLE_LINKS, *UNGUARDED_COLUMNS}
    frozen = [field.column for field in model._meta.concrete_fields if field.attname not in loose]
    return (
        f"ROW({', '.join(f'{now}.{column}' for column in frozen)}) "
        f"IS DISTINCT FROM ROW({', '.join(f'{then}.{column}' for column in frozen)})"
    )


def _links_moved(now: str, before: str) -> str:
    """SQL: a link of ``now`` moved from ``before`` the way a signed note's guard refuses.

    The back-fill may fill in an empty session link, and deleting a legacy
    appointment may clear its link; nothing else. ``before`` is a format string for
    the previous value's column, e.g. ``"prev_{}"``.
    """
    moves = [
        f"({before.format(link)} IS NOT NULL AND {now}.{link} IS DISTINCT FROM {before.format(link)})"
        for link in BACKFILLED_LINKS
    ]
    moves += [
        f"({now}.{link} IS NOT NULL AND {now}.{link} IS DISTINCT FROM {before.format(link)})"
        for link in CLEARABLE_LINKS
    ]
    return " OR ".join(moves)


# Each signed note's signing snapshot: its first history record as signed. Read from
# the history table in one pass, so notes never signed cost nothing.
_SIGNING = """
    SELECT DISTINCT ON (h.id) h.*
    FROM {history} h
    WHERE h.status = 'signed'
    ORDER BY h.id, h.history_date, h.history_id"""

_LATEST = """
    SELECT h.* FROM {history} h
    WHERE h.id = n.id
    ORDER BY h.history_date DESC, h.history_id DESC
    LIMIT 1"""

# The snapshot is the note's first history record as signed. Every record from then
# on keeps its content and moves links only as the guard allows; and the note as it
# is now matches its latest record, so a write that left no history shows too.
_SIGNED_NOTE_CHANGES = """
SELECT {label} AS note, n.id AS note_id, {the_note} AS what
FROM ({signing}) signed
JOIN {table} n ON n.id = signed.id
JOIN LATERAL ({latest}) latest ON true
WHERE {unrecorded_change}
   OR EXISTS (
       SELECT 1
       FROM (
           SELECT h.*, {previous_links}
           FROM {history} h
           WHERE h.id = n.id AND (h.history_date, h.history_id) >= (signed.history_date, signed.history_id)
           WINDOW step AS (ORDER BY h.history_date, h.history_id)
       ) step
       WHERE {recorded_change}
   )"""

# A note's rows (OT target skills, ABA records) are frozen with it: any history record
# of a row after the note's signing is a change.
_ROW_CHANGES = """
SELECT DISTINCT {label}, signed.id, {row_label} || ' ' || row_change.id
FROM ({signing}) signed
JOIN {row_history} row_change
  ON row_change.note_id = signed.id AND row_change.history_date > signed.history_date"""


def _row_changes(model: type[ClinicalNote]) -> list[str]:
    selects = []
    for related_name in model.CHILD_ROWS:
        row_model = model.row_model(related_name)
        selects.append(
            _ROW_CHANGES.format(
                **_note_names(model),
                row_history=row_model.history.model._meta.db_table,
                row_label=_sql_literal(row_model._meta.verbose_name),
            )
        )
    return selects


def note_checks() -> tuple[Check, ...]:
    """Invariant 7 over every discipline's notes (built when called: the note models load lazily)."""
    return (
        Check(
            name="note_participant_session",
            invariant=_("A note's participant belongs to the note's session."),
            sql=_each_note_model(
                """
SELECT {label} AS note, n.id AS note_id, p.id AS participant_id, p.session_id AS participant_session,
       n.session_id
FROM {table} n
JOIN appointments_sessionparticipant p ON p.id = n.session_participant_id
WHERE n.session_id IS DISTINCT FROM p.session_id""",
                "1, 2",
            ),
            message=_(
                "%(note)s %(note_id)s is on session %(session_id)s but its participant %(participant_id)s "
                "is in session %(participant_session)s"
            ),
        ),
        Check(
            name="note_patient",
            invariant=_("A note's patient is its participant's and its appointment's patient."),
            sql=_each_note_model(
                """
SELECT {label} AS note, n.id AS note_id, n.patient_id, 'participant' AS booking, p.id AS booking_id,
       p.patient_id AS booking_patient
FROM {table} n
JOIN appointments_sessionparticipant p ON p.id = n.session_participant_id
WHERE p.patient_id <> n.patient_id
UNION ALL
SELECT {label}, n.id, n.patient_id, 'appointment', a.id, a.patient_id
FROM {table} n
JOIN appointments_appointment a ON a.id = n.appointment_id
WHERE a.patient_id <> n.patient_id""",
                "1, 2, 4",
            ),
            message=_(
                "%(note)s %(note_id)s is about patient %(patient_id)s but %(booking)s %(booking_id)s "
                "is patient %(booking_patient)s's"
            ),
        ),
        Check(
            name="note_booking",
            invariant=_("A note linked to an appointment and a participant names one booking."),
            sql=_each_note_model(
                """
SELECT {label} AS note, n.id AS note_id, n.appointment_id, p.id AS participant_id
FROM {table} n
JOIN appointments_sessionparticipant p ON p.id = n.session_participant_id
WHERE n.appointment_id IS NOT NULL AND p.legacy_appointment_id IS DISTINCT FROM n.appointment_id""",
                "1, 2",
            ),
            message=_(
                "%(note)s %(note_id)s: appointment %(appointment_id)s and participant %(participant_id)s "
                "are different bookings"
            ),
        ),
        Check(
            name="note_group_participant",
            invariant=_("A note on a group session names its participant."),
            sql=_each_note_model(
                """
SELECT {label} AS note, n.id AS note_id, s.id AS session_id
FROM {table} n
JOIN appointments_session s ON s.id = n.session_id
WHERE s.session_type = 'group' AND n.session_participant_id IS NULL""",
                "1, 2",
            ),
            message=_(
                "%(note)s %(note_id)s is on group session %(session_id)s without naming its participant"
            ),
        ),
        Check(
            name="note_unique",
            invariant=_("One note per participant per discipline."),
            sql=_each_note_model(
                """
SELECT {label} AS note, session_participant_id AS participant_id,
       string_agg(id::text, ', ' ORDER BY id) AS note_ids
FROM {table}
WHERE session_participant_id IS NOT NULL
GROUP BY session_participant_id
HAVING count(*) > 1""",
                "1, 2",
            ),
            message=_("participant %(participant_id)s has more than one %(note)s: %(note_ids)s"),
        ),
        Check(
            name="signed_note_unchanged",
            invariant=_(
                "A signed note and its rows are unchanged since signing (compared with the history "
                "record of the signing)."
            ),
            sql=_signed_note_changes_sql(),
            message=_("%(note)s %(note_id)s: %(what)s changed after it was signed"),
        ),
        Check(
            name="signed_note_history",
            invariant=_(
                "A signed note's history records its signing (the record its content is checked against)."
            ),
            sql=_each_note_model(
                """
SELECT {label} AS note, n.id AS note_id
FROM {table} n
WHERE n.status = 'signed'
  AND NOT EXISTS (SELECT 1 FROM {history} h WHERE h.id = n.id AND h.status = 'signed')""",
                "1, 2",
            ),
            message=_("%(note)s %(note_id)s is signed but its history has no record of the signing"),
        ),
    )


def _audit_chain_damage() -> list[dict[str, object]]:
    """The incremental ``verify_audit_chain``: audit rows and seals changed since sealing."""
    return [{"kind": finding.kind, "message": finding.message} for finding in verify_audit_chain().findings]


AUDIT_CHECKS = (
    Check(
        name="audit_chain",
        invariant=_(
            "Audit rows (access log, privilege changes, history) are unchanged since they were written "
            "and sealed (the incremental verify_audit_chain)."
        ),
        sql="",
        message=_("%(kind)s: %(message)s"),
        rows=_audit_chain_damage,
    ),
)


def all_checks() -> tuple[Check, ...]:
    return SCHEDULING_CHECKS + note_checks() + AUDIT_CHECKS


def run_check(check: Check) -> list[Violation]:
    if check.rows is not None:
        return [Violation(check.name, str(check.message) % row) for row in check.rows()]
    with connection.cursor() as cursor:
        cursor.execute(check.sql, QUERY_PARAMS)
        columns = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    return [Violation(check.name, str(check.message) % dict(zip(columns, row, strict=True))) for row in rows]


def check_integrity(
    names: Iterable[str] | None = None, on_check: Callable[[Check], None] | None = None
) -> IntegrityReport:
    """Run the named checks (all by default) and collect every violation."""
    checks = select_checks(names)
    started = time.monotonic()
    violations: list[Violation] = []
    for check in checks:
        violations.extend(run_check(check))
        if on_check is not None:
            on_check(check)
    return IntegrityReport([check.name for check in checks], violations, time.monotonic() - started)


def select_checks(names: Iterable[str] | None) -> tuple[Check, ...]:
    checks = all_checks()
    if names is None:
        return checks
    wanted = set(names)
    unknown = wanted - {check.name for check in checks}
    if unknown:
        raise ValueError(", ".join(sorted(unknown)))
    return tuple(check for check in checks if check.name in wanted)
