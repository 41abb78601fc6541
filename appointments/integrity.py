"""Integrity checks: the DESIGN.md invariants, verified over the whole database.

One set-based SQL query per invariant; each returns one row per violation, with
the ids an operator needs to find it. Used by ``manage.py check_integrity``.

Most invariants also have a PostgreSQL constraint; these queries still matter
because data can predate a constraint, arrive through raw SQL or a restore, or span
two tables (sessions and legacy appointments) where no single constraint can look.
"""

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from appointments.models import APPOINTMENT_NUMBER_PATTERN, MAX_DURATION_MINUTES, MAX_GROUP_CAPACITY

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
WHERE p.status <> 'cancelled' AND s.status <> 'cancelled'
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
JOIN appointments_sessionparticipant p ON p.session_id = s.id AND p.status <> 'cancelled'
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
WHERE status <> 'cancelled'
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

QUERY_PARAMS = {"pattern": APPOINTMENT_NUMBER_PATTERN}


def all_checks() -> tuple[Check, ...]:
    return SCHEDULING_CHECKS


def run_check(check: Check) -> list[Violation]:
    with connection.cursor() as cursor:
        cursor.execute(check.sql, QUERY_PARAMS)
        columns = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    return [Violation(check.name, str(check.message) % dict(zip(columns, row, strict=True))) for row in rows]


def check_integrity(names: Iterable[str] | None = None, on_check=None) -> IntegrityReport:
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
