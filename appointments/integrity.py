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
from dataclasses import dataclass, field

from django.db import connection, transaction
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
from core.row_hashes import local_settings

_SLOT_MACRO = re.compile(r"SLOT\((\w+)\)")

# Two bookings can only overlap when their start days are at most this many days
# apart (a booking lasts at most MAX_DURATION_MINUTES); the overlap queries join on
# (owner, day) for each shift, which keeps them hash joins instead of per-owner loops.
DAY_SHIFTS = tuple(range(MAX_DURATION_MINUTES // (24 * 60) + 2))

# Each check is one statement over whole tables: room in memory for its sorts and hash
# joins, and no JIT compilation, which on these wide statements costs seconds and saves
# nothing.
CHECK_SETTINGS = (("work_mem", "128MB"), ("jit", "off"))


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
class Guard:
    """A PostgreSQL constraint (or unique index) that already rules out part of what a check looks for.

    The check skips that part only while the constraint is there, VALIDATED, with the
    definition it expects and, where it has one, a valid index; otherwise it scans that
    part itself and says why.
    """

    table: str
    name: str
    # pg_constraint.contype ("x" exclusion, "c" check, "u" unique), or "i": a unique index.
    kind: str
    # As pg_get_constraintdef prints it; for an index, what pg_get_indexdef prints after USING.
    definition: str


@dataclass(frozen=True)
class Check:
    name: str
    invariant: Promise
    sql: str
    message: Promise  # %-template over the query's column names
    # A check that isn't one query: the rows (column name -> value) it finds, instead of ``sql``.
    rows: Callable[[], list[dict[str, object]]] | None = None
    # The constraints the check relies on, and its query given the names of those that hold
    # (instead of ``sql``).
    guards: tuple[Guard, ...] = ()
    guarded_sql: Callable[[frozenset[str]], str] | None = None


@dataclass(frozen=True)
class Violation:
    check: str
    message: str


@dataclass(frozen=True)
class Notice:
    """Not a violation: the check could not rely on a constraint, and scanned instead."""

    check: str
    message: str


@dataclass
class IntegrityReport:
    checks: list[str]
    violations: list[Violation]
    seconds: float
    notices: list[Notice] = field(default_factory=list)
    # Seconds per check, in the order they ran.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations


# The exclusion constraints that rule out overlaps within one table, as PostgreSQL prints them.
_EXCLUSION_DEFINITION = (
    "EXCLUDE USING gist (int8range({column}, {column}, '[]'::text) WITH &&, "
    "tsrange((scheduled_date + scheduled_time), ((scheduled_date + scheduled_time) + "
    "make_interval(mins => (duration)::integer)), '[)'::text) WITH &&) "
    "WHERE (((NOT ((status)::text = 'cancelled'::text)) AND ({column} IS NOT NULL)))"
)


def _no_overlap_guard(table: str, owner: str) -> Guard:
    """``<table>_<owner>_no_overlap``: two active rows of ``table`` never overlap for one owner."""
    return Guard(
        table=f"appointments_{table}",
        name=f"{table}_{owner}_no_overlap",
        kind="x",
        definition=_EXCLUSION_DEFINITION.format(column=f"{owner}_id"),
    )


# Active bookings of a provider or room, as (kind, id, owner, day, slot).
_SESSION_BOOKINGS = """
SELECT 'session' AS kind, s.id, s.{owner} AS owner, s.scheduled_date AS day, SLOT(s) AS slot
FROM appointments_session s
WHERE s.status <> 'cancelled' AND s.{owner} IS NOT NULL"""

_APPOINTMENT_BOOKINGS = """
SELECT 'appointment' AS kind, a.id, a.{owner} AS owner, a.scheduled_date AS day, SLOT(a) AS slot
FROM appointments_appointment a
WHERE a.status <> 'cancelled' AND a.{owner} IS NOT NULL"""

# A patient's active bookings, as (kind, id, owner, day, starts, ends, booking): a
# back-filled participant's ``booking`` is the legacy appointment it carries, the same as
# that appointment's; any other participant's is its own (negative, apart from them).
_PATIENT_BOOKINGS = """
SELECT 'participant' AS kind, p.id, p.patient_id AS owner, s.scheduled_date AS day,
       s.scheduled_date + s.scheduled_time AS starts,
       s.scheduled_date + s.scheduled_time + make_interval(mins => s.duration) AS ends,
       coalesce(p.legacy_appointment_id, -p.id) AS booking
FROM appointments_sessionparticipant p
JOIN appointments_session s ON s.id = p.session_id
WHERE p.status <> ALL(%(inactive)s) AND s.status <> 'cancelled'
UNION ALL
SELECT 'appointment', a.id, a.patient_id, a.scheduled_date, a.scheduled_date + a.scheduled_time,
       a.scheduled_date + a.scheduled_time + make_interval(mins => a.duration), a.id
FROM appointments_appointment a
WHERE a.status <> 'cancelled'"""

_PAIR_COLUMNS = (
    "x.kind AS x_kind, x.id AS x_id, x.day AS x_day, y.kind AS y_kind, y.id AS y_id, y.day AS y_day"
)


def _shifts(days: Iterable[int]) -> str:
    return ", ".join(f"({day})" for day in days)


def _pairs_within(bookings: str) -> str:
    """Overlapping pairs of ``bookings`` (a query of one kind), each pair once.

    Joined on (owner, day) for each day shift, which keeps it a hash join; a pair on
    one day is taken once, in id order.
    """
    return f"""
SELECT x.owner, {_PAIR_COLUMNS}
FROM {bookings} x
CROSS JOIN (VALUES {_shifts(DAY_SHIFTS)}) AS shift(days)
JOIN {bookings} y ON y.owner = x.owner AND y.day = x.day + shift.days
WHERE x.slot && y.slot AND (shift.days > 0 OR x.id < y.id)"""  # noqa: S608 - constants


# The legacy appointment session ``y`` was back-filled from: its participants' lowest.
_LEGACY_OF_SESSION = """
    SELECT min(legacy.legacy_appointment_id) FROM appointments_sessionparticipant legacy
    WHERE legacy.session_id = y.id"""


def _pairs_across(appointments: str, sessions: str) -> str:
    """Overlapping pairs of legacy ``appointments`` and ``sessions``, but a session and the
    appointment it was back-filled from (its participants' lowest legacy appointment).

    The appointments, the few, are hashed on (owner, day) for each day shift either way;
    the sessions are read once against them.
    """
    days = sorted({*DAY_SHIFTS, *(-day for day in DAY_SHIFTS)})
    return f"""
SELECT x.owner, {_PAIR_COLUMNS}
FROM {appointments} x
CROSS JOIN (VALUES {_shifts(days)}) AS shift(days)
JOIN {sessions} y ON y.owner = x.owner AND y.day = x.day + shift.days
WHERE x.slot && y.slot AND x.id IS DISTINCT FROM ({_LEGACY_OF_SESSION})"""  # noqa: S608 - constants


# Active appointments of a provider or room that could clash with a session other than
# their own. The rest are covered: their own session (the one back-filled from them: its
# participants' lowest legacy appointment) is active, has the same provider or room and
# holds the whole slot. While the sessions' exclusion constraint holds, no other active
# session overlaps that one for it, so none overlaps the appointment. Appointments never
# back-filled share the window's NULL partition, and join no session.
_UNCOVERED_APPOINTMENTS = """
SELECT 'appointment' AS kind, a.id, a.{owner} AS owner, a.day, a.slot
FROM (
    SELECT a.id, a.{owner}, a.status, a.scheduled_date AS day, SLOT(a) AS slot, p.session_id,
           min(a.id) OVER (PARTITION BY p.session_id) AS session_own
    FROM appointments_appointment a
    LEFT JOIN appointments_sessionparticipant p ON p.legacy_appointment_id = a.id
) a
LEFT JOIN appointments_session own
       ON own.id = a.session_id AND a.id = a.session_own AND own.status <> 'cancelled'
      AND own.{owner} = a.{owner} AND SLOT(own) @> a.slot
WHERE a.status <> 'cancelled' AND a.{owner} IS NOT NULL AND own.id IS NULL"""


def _pairs_across_indexed(owner: str) -> str:
    """``_pairs_across`` relying on the sessions' exclusion constraint: appointments covered by
    their own session are skipped (they can meet no other), and each other one is looked up
    in the constraint's GiST index."""
    return f"""
SELECT x.owner, {_PAIR_COLUMNS}
FROM ({_UNCOVERED_APPOINTMENTS.format(owner=f"{owner}_id")}) x
CROSS JOIN LATERAL (
    SELECT 'session' AS kind, s.id, s.scheduled_date AS day
    FROM appointments_session s
    WHERE int8range(s.{owner}_id, s.{owner}_id, '[]') && int8range(x.owner, x.owner, '[]')
      AND SLOT(s) && x.slot AND s.status <> 'cancelled' AND s.{owner}_id IS NOT NULL
    OFFSET 0  -- kept a subquery: one index lookup per appointment
) y
WHERE x.id IS DISTINCT FROM ({_LEGACY_OF_SESSION})"""  # noqa: S608 - constants


def _overlap_sql(owner: str, parts: Iterable[str]) -> str:
    """The pairs of ``parts`` as the check reports them: the earlier booking first (by day, kind, id)."""
    union = "\nUNION ALL".join(parts)
    return expand_slots(f"""
SELECT owner AS {owner},
       CASE WHEN swap THEN y_kind ELSE x_kind END AS first_kind,
       CASE WHEN swap THEN y_id ELSE x_id END AS first_id,
       CASE WHEN swap THEN x_kind ELSE y_kind END AS second_kind,
       CASE WHEN swap THEN x_id ELSE y_id END AS second_id
FROM ({union}
) pairs
CROSS JOIN LATERAL (SELECT (y_day, y_kind, y_id) < (x_day, x_kind, x_id) AS swap) ordered
ORDER BY 1, 2, 3, 4, 5
""")  # noqa: S608 - only constants and column names are interpolated


def _staff_overlap_sql(owner: str, holding: frozenset[str]) -> str:
    """Provider or room overlaps: sessions against appointments always; within each table
    only where its exclusion constraint doesn't hold."""
    sessions = f"({_SESSION_BOOKINGS.format(owner=f'{owner}_id')})"
    appointments = f"({_APPOINTMENT_BOOKINGS.format(owner=f'{owner}_id')})"
    if f"session_{owner}_no_overlap" in holding:
        parts = [_pairs_across_indexed(owner)]
    else:
        parts = [_pairs_across(appointments, sessions), _pairs_within(sessions)]
    if f"appointment_{owner}_no_overlap" not in holding:
        parts.append(_pairs_within(appointments))
    return _overlap_sql(f"{owner}_id", parts)


def _overlapping(x: str, y: str) -> str:
    """SQL: the half-open slots of ``x`` and ``y`` (``starts``, ``ends``) overlap; an empty one never does."""
    return (
        f"{x}.starts < {y}.ends AND {y}.starts < {x}.ends AND {x}.starts < {x}.ends AND {y}.starts < {y}.ends"
    )


def _patient_overlap_sql(holding: frozenset[str]) -> str:
    """Patient overlaps, in one pass over each patient's bookings in time order.

    No constraint can see a participant's slot (its session's), so participants are
    checked against everything; two appointments only while their exclusion constraint
    doesn't hold. In (start, booking) order, a booking that starts before an earlier one
    ends overlaps it; a back-filled participant and its appointment are one booking, peers
    in that order, and the frame ends before the current row's peers. Only those few
    are matched against the patient's bookings, an index lookup each: the check is one
    sort.
    """
    both_appointments = (
        "AND NOT (x.kind = 'appointment' AND y.kind = 'appointment')"
        if "appointment_patient_no_overlap" in holding
        else ""
    )
    pairs = f"""
SELECT y.owner, {_PAIR_COLUMNS}
FROM (
    SELECT b.*, max(b.ends) OVER (
        PARTITION BY b.owner ORDER BY b.starts, b.booking
        GROUPS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS earlier_ends
    FROM ({_PATIENT_BOOKINGS}) b
) y
CROSS JOIN LATERAL (
    SELECT * FROM ({_PATIENT_BOOKINGS}) x
    WHERE x.owner = y.owner AND (x.starts, x.booking) < (y.starts, y.booking) AND x.booking <> y.booking
      AND {_overlapping("x", "y")}
    OFFSET 0  -- kept a subquery: an index lookup for each of the few, never a join of all
) x
WHERE y.earlier_ends > y.starts {both_appointments}"""  # noqa: S608 - constants
    return _overlap_sql("patient_id", [pairs])


# Both tables' numbers match APPOINTMENT_NUMBER_PATTERN while these hold.
NUMBER_FORMAT_GUARDS = tuple(
    Guard(
        table=table,
        name=name,
        kind="c",
        definition=f"CHECK (((appointment_number)::text ~ '{APPOINTMENT_NUMBER_PATTERN}'::text))",
    )
    for table, name in (
        ("appointments_appointment", "appointment_number_format"),
        ("appointments_sessionparticipant", "participant_number_format"),
    )
)


def _number_unformatted(column: str, holding: frozenset[str]) -> str:
    """SQL: ``column`` doesn't match the number pattern; false without a look while both constraints hold."""
    return f"({_unless_all_hold(NUMBER_FORMAT_GUARDS, holding)} AND {column} !~ %(pattern)s)"


def _unless_all_hold(guards: Iterable[Guard], holding: frozenset[str]) -> str:
    """SQL ``false`` while all ``guards`` hold (they rule out what the query finds), else ``true``."""
    return "false" if {guard.name for guard in guards} <= holding else "true"


CAPACITY_GUARDS = (
    Guard(
        table="appointments_session",
        name="session_capacity_range",
        kind="c",
        definition=f"CHECK (((max_capacity >= 1) AND (max_capacity <= {MAX_GROUP_CAPACITY})))",
    ),
    Guard(
        table="appointments_session",
        name="session_capacity_matches_type",
        kind="c",
        definition=(
            "CHECK ((((max_capacity = 1) AND ((session_type)::text = 'individual'::text)) OR "
            "((max_capacity >= 2) AND ((session_type)::text = 'group'::text))))"
        ),
    ),
)

_INACTIVE_ARRAY = ", ".join(
    f"'{status.value}'::character varying" for status in SessionParticipant.INACTIVE_STATUSES
)
ONE_ACTIVE_PARTICIPATION = Guard(
    table="appointments_sessionparticipant",
    name="participant_one_active_per_patient",
    kind="i",
    definition=(
        "btree (session_id, patient_id) "
        f"WHERE (NOT ((status)::text = ANY ((ARRAY[{_INACTIVE_ARRAY}])::text[])))"
    ),
)

NUMBER_UNIQUE_GUARDS = tuple(
    Guard(
        table=table,
        name=f"{table}_appointment_number_key",
        kind="u",
        definition="UNIQUE (appointment_number)",
    )
    for table in ("appointments_appointment", "appointments_sessionparticipant")
)

# Every number held, but a back-filled participant's that is its own appointment's.
_NUMBERS_HELD = """
SELECT appointment_number AS number, 'appointment ' || id AS holder
FROM appointments_appointment
UNION ALL
SELECT p.appointment_number, 'participant ' || p.id
FROM appointments_sessionparticipant p
LEFT JOIN appointments_appointment own ON own.id = p.legacy_appointment_id
WHERE own.appointment_number IS DISTINCT FROM p.appointment_number"""


def _number_unique_sql(holding: frozenset[str]) -> str:
    """Numbers held twice. While both tables' numbers are unique, only an appointment and a
    participant can share one: each appointment's number is looked up among the participants'."""
    if {guard.name for guard in NUMBER_UNIQUE_GUARDS} <= holding:
        return """
SELECT a.appointment_number AS number, 'appointment ' || a.id || ', participant ' || p.id AS holders
FROM appointments_appointment a
JOIN appointments_sessionparticipant p ON p.appointment_number = a.appointment_number
LEFT JOIN appointments_appointment own ON own.id = p.legacy_appointment_id
WHERE own.appointment_number IS DISTINCT FROM p.appointment_number
ORDER BY number
"""
    return f"""
SELECT number, string_agg(holder, ', ' ORDER BY holder) AS holders
FROM ({_NUMBERS_HELD}) numbers
GROUP BY number
HAVING count(*) > 1
ORDER BY number
"""  # noqa: S608 - a constant


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
        sql="",
        guarded_sql=lambda holding: f"""
SELECT id AS session_id, session_type, max_capacity
FROM appointments_session
WHERE {_unless_all_hold(CAPACITY_GUARDS, holding)}
  AND (max_capacity NOT BETWEEN 1 AND {MAX_GROUP_CAPACITY}
       OR (session_type = 'individual' AND max_capacity <> 1)
       OR (session_type = 'group' AND max_capacity < 2)
       OR session_type NOT IN ('individual', 'group'))
ORDER BY id
""",  # noqa: S608 - constants
        guards=CAPACITY_GUARDS,
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
        sql="",
        guarded_sql=lambda holding: f"""
SELECT session_id, patient_id, string_agg(id::text, ', ' ORDER BY id) AS participant_ids
FROM appointments_sessionparticipant
WHERE {_unless_all_hold((ONE_ACTIVE_PARTICIPATION,), holding)} AND status <> ALL(%(inactive)s)
GROUP BY session_id, patient_id
HAVING count(*) > 1
ORDER BY session_id, patient_id
""",  # noqa: S608 - constants
        guards=(ONE_ACTIVE_PARTICIPATION,),
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
        sql="",
        guarded_sql=lambda holding: f"""
SELECT kind, id, number, tenant
FROM ({_NUMBER_TENANTS}) numbers
WHERE {_number_unformatted("number", holding)} OR number NOT LIKE 'APT-' || tenant || '-%%'
ORDER BY kind, id
""",  # noqa: S608 - constants
        guards=NUMBER_FORMAT_GUARDS,
        message=_("%(kind)s %(id)s: number %(number)s is not of the form APT-%(tenant)s-YYYY-NNNNN"),
    ),
    Check(
        name="number_unique",
        invariant=_(
            "Numbers are unique across appointments and participants; a back-filled participant "
            "shares only its own appointment's number."
        ),
        sql="",
        guarded_sql=_number_unique_sql,
        guards=NUMBER_UNIQUE_GUARDS,
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
        sql="",
        guarded_sql=lambda holding: f"""
WITH issued AS (
    SELECT split_part(number, '-', 2) AS code, split_part(number, '-', 3)::int AS year,
           max(split_part(number, '-', 4)::bigint) AS highest
    FROM (
        SELECT appointment_number AS number FROM appointments_appointment
        UNION ALL
        SELECT appointment_number FROM appointments_sessionparticipant
    ) numbers
    WHERE NOT ({_number_unformatted("number", holding)})
    GROUP BY 1, 2
)
SELECT issued.code AS tenant, issued.year, issued.highest, coalesce(counter.last_number, 0) AS counter
FROM issued
JOIN core_tenant t ON t.code = issued.code
LEFT JOIN appointments_appointmentnumbercounter counter
       ON counter.tenant_id = t.id AND counter.year = issued.year
WHERE coalesce(counter.last_number, 0) < issued.highest
ORDER BY 1, 2
""",  # noqa: S608 - constants
        guards=NUMBER_FORMAT_GUARDS,
        message=_(
            "tenant %(tenant)s, %(year)s: numbers go up to %(highest)s but the counter is at %(counter)s "
            "(the next bookings would reuse numbers)"
        ),
    ),
    Check(
        name="provider_overlap",
        invariant=_("A provider is never double-booked across sessions and appointments."),
        sql="",
        guarded_sql=lambda holding: _staff_overlap_sql("provider", holding),
        guards=(_no_overlap_guard("session", "provider"), _no_overlap_guard("appointment", "provider")),
        message=_(
            "provider %(provider_id)s: %(first_kind)s %(first_id)s overlaps %(second_kind)s %(second_id)s"
        ),
    ),
    Check(
        name="room_overlap",
        invariant=_("A room is never double-booked across sessions and appointments."),
        sql="",
        guarded_sql=lambda holding: _staff_overlap_sql("room", holding),
        guards=(_no_overlap_guard("session", "room"), _no_overlap_guard("appointment", "room")),
        message=_("room %(room_id)s: %(first_kind)s %(first_id)s overlaps %(second_kind)s %(second_id)s"),
    ),
    Check(
        name="patient_overlap",
        invariant=_("A patient is never double-booked across sessions and appointments."),
        sql="",
        guarded_sql=_patient_overlap_sql,
        guards=(_no_overlap_guard("appointment", "patient"),),
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


def _all_notes() -> str:
    """Every discipline's notes in one query, with their links: joined once to the big tables."""
    return "\nUNION ALL\n".join(_ALL_NOTES.format(**_note_names(model)) for model in note_models().values())


_ALL_NOTES = """
SELECT {label} AS note, n.id AS note_id, n.session_participant_id, n.session_id, n.patient_id,
       n.appointment_id
FROM {table} n"""


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
            sql=f"""
SELECT n.note, n.note_id, p.id AS participant_id, p.session_id AS participant_session, n.session_id
FROM ({_all_notes()}) n
JOIN appointments_sessionparticipant p ON p.id = n.session_participant_id
WHERE n.session_id IS DISTINCT FROM p.session_id
ORDER BY 1, 2
""",  # noqa: S608 - constants
            message=_(
                "%(note)s %(note_id)s is on session %(session_id)s but its participant %(participant_id)s "
                "is in session %(participant_session)s"
            ),
        ),
        Check(
            name="note_patient",
            invariant=_("A note's patient is its participant's and its appointment's patient."),
            sql=f"""
WITH notes AS NOT MATERIALIZED ({_all_notes()})
SELECT n.note, n.note_id, n.patient_id, 'participant' AS booking, p.id AS booking_id,
       p.patient_id AS booking_patient
FROM notes n
JOIN appointments_sessionparticipant p ON p.id = n.session_participant_id
WHERE p.patient_id <> n.patient_id
UNION ALL
SELECT n.note, n.note_id, n.patient_id, 'appointment', a.id, a.patient_id
FROM notes n
JOIN appointments_appointment a ON a.id = n.appointment_id
WHERE a.patient_id <> n.patient_id
ORDER BY 1, 2, 4
""",  # noqa: S608 - constants
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


# Each guard as the catalogue has it: kind, VALIDATED, definition, and whether its index is
# valid (and, for a unique index, unique). No row: it is gone. Unique indexes (kind "i") have
# no pg_constraint row; their definition is what follows USING, without name and schema.
GUARD_STATES_SQL = """
SELECT wanted.name, c.contype::text, c.convalidated, pg_get_constraintdef(c.oid),
       coalesce(i.indisvalid AND i.indisready, c.conindid = 0)
FROM unnest(%(tables)s::text[], %(names)s::text[], %(kinds)s::text[]) AS wanted(table_name, name, kind)
JOIN pg_constraint c ON c.conname = wanted.name AND c.conrelid = to_regclass(wanted.table_name)
LEFT JOIN pg_index i ON i.indexrelid = c.conindid
WHERE wanted.kind <> 'i'
UNION ALL
SELECT wanted.name, 'i', true, split_part(pg_get_indexdef(i.indexrelid), ' USING ', 2),
       i.indisvalid AND i.indisready AND i.indisunique
FROM unnest(%(tables)s::text[], %(names)s::text[], %(kinds)s::text[]) AS wanted(table_name, name, kind)
JOIN pg_index i ON i.indexrelid = to_regclass(wanted.name) AND i.indrelid = to_regclass(wanted.table_name)
WHERE wanted.kind = 'i'
"""


def guard_problems(guards: Iterable[Guard]) -> dict[str, str]:
    """Why each guard that doesn't hold can't be relied on, by name (empty: all hold)."""
    guards = list(guards)
    with connection.cursor() as cursor:
        cursor.execute(
            GUARD_STATES_SQL,
            {
                "tables": [guard.table for guard in guards],
                "names": [guard.name for guard in guards],
                "kinds": [guard.kind for guard in guards],
            },
        )
        states = {name: state for name, *state in cursor.fetchall()}
    problems = {}
    for guard in guards:
        values = {
            "what": _("unique index") if guard.kind == "i" else _("constraint"),
            "name": guard.name,
            "table": guard.table,
        }
        if guard.name not in states:
            problems[guard.name] = _("%(what)s %(name)s on %(table)s is missing") % values
            continue
        kind, validated, definition, index_valid = states[guard.name]
        if not validated:
            problems[guard.name] = (
                _("%(what)s %(name)s on %(table)s is NOT VALID (rows from before it are unchecked)") % values
            )
        elif kind != guard.kind or definition != guard.definition:
            problems[guard.name] = _(
                "%(what)s %(name)s on %(table)s is not defined as expected: %(definition)s"
            ) % {
                **values,
                "definition": definition,
            }
        elif not index_valid:
            problems[guard.name] = _("the index of %(what)s %(name)s on %(table)s is not valid") % values
    return problems


def run_check(check: Check) -> tuple[list[Violation], list[Notice]]:
    """The check's violations, and a notice for each constraint it couldn't rely on."""
    if check.rows is not None:
        return [Violation(check.name, str(check.message) % row) for row in check.rows()], []
    sql, notices = check.sql, []
    if check.guarded_sql is not None:
        problems = guard_problems(check.guards)
        notices = [
            Notice(check.name, _("%(problem)s; scanned what it rules out instead.") % {"problem": problem})
            for problem in problems.values()
        ]
        sql = check.guarded_sql(frozenset(guard.name for guard in check.guards) - problems.keys())
    with transaction.atomic(), connection.cursor() as cursor, local_settings(cursor, CHECK_SETTINGS):
        cursor.execute(sql, QUERY_PARAMS)
        columns = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    violations = [
        Violation(check.name, str(check.message) % dict(zip(columns, row, strict=True))) for row in rows
    ]
    return violations, notices


def check_integrity(
    names: Iterable[str] | None = None,
    on_check: Callable[[Check], None] | None = None,
    before_check: Callable[[Check], None] | None = None,
) -> IntegrityReport:
    """Run the named checks (all by default) and collect every violation, notice and timing."""
    checks = select_checks(names)
    report = IntegrityReport([check.name for check in checks], [], 0.0)
    started = time.monotonic()
    for check in checks:
        if before_check is not None:
            before_check(check)
        check_started = time.monotonic()
        violations, notices = run_check(check)
        report.timings[check.name] = time.monotonic() - check_started
        report.violations += violations
        report.notices += notices
        if on_check is not None:
            on_check(check)
    report.seconds = time.monotonic() - started
    return report


def select_checks(names: Iterable[str] | None) -> tuple[Check, ...]:
    checks = all_checks()
    if names is None:
        return checks
    wanted = set(names)
    unknown = wanted - {check.name for check in checks}
    if unknown:
        raise ValueError(", ".join(sorted(unknown)))
    return tuple(check for check in checks if check.name in wanted)
