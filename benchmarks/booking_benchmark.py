"""Benchmark booking and check-in against their same-rules floor. Not a test.

    .venv/bin/python benchmarks/booking_benchmark.py              # quick: 5 rounds of 200 operations
    .venv/bin/python benchmarks/booking_benchmark.py --rounds 5 --ops 1000

Creates its own throwaway database (``--database``, default ``clinic_booking_benchmark``)
on the server of $DATABASE_URL (or 127.0.0.1:5432), migrates it and fills it with bulk
inserts (not measured). Then, per round, it runs ``--ops`` operations of each kind with
1 client and with ``--clients`` concurrent clients, first through the service and then as
the floor. Every client is a process of its own with its own database connection, as the
app's gunicorn workers are (client threads of one process would share its GIL, which caps
the service's Python far more than the floor's): the processes are forked once the data is
built, and each run's clients start together at a barrier.

- ``SessionService.add_patient_to_session``: each client books children into its own group
  sessions (20 seats); every booking of the centre draws a number from the one counter;
- ``SessionService.check_in_participant``: each client checks in its own booked children
  (the clinic asks for finance clearance and a valid consent, both on file);
- the crowd: ``--crowd`` clients at once on one 8-seat group, which must end with 8 booked.

The floor is the same rules and writes sent straight through psycopg, one transaction per
operation: the session row lock, the patient lock (after passing on lapsed waiting-list
offers), the duplicate check, the seat count with offered seats, the patient's overlaps with
sessions and legacy appointments, the counter upsert, the participant insert and its
simple-history row with ``history_user`` in one statement, as the service writes them (and
the check-in's update with its history row). The audit trigger hashes the history rows.
Booking into an existing session checks no opening hours, working hours, leave or holidays:
the service checked those when the session's slot was set, so neither side does here.

Prints ops/s (median of the rounds), the ratio service/floor, statements per operation,
where one operation's time goes (database round trips against Python) and a cProfile of
the service by function, then checks the database: no overbooked session, numbers without
gaps or duplicates, a hashed history row naming the user for every write. Drops the
database unless ``--keep``.
"""

import argparse
import cProfile
import datetime
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from databases import database_url, throwaway_database

PROJECT_DIR = Path(__file__).resolve().parent.parent
SEATS = 20
CROWD_SEATS = 8
PROVIDERS = 40
SLOTS_PER_DAY = 8
PATIENTS = 2 * PROVIDERS * SEATS
INACTIVE = ["cancelled", "turned_away"]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"  # DEBUG off: no query log in memory
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.conf import settings

    settings.LOCK_ORDER_CHECKS = False  # production's setting; the tests check the order


# --- the data -----------------------------------------------------------------------------


@dataclass
class World:
    tenant_id: int
    tenant_code: str
    user_id: int
    zone: Any
    bookings: dict[str, list[list[tuple[int, int]]]]  # kind -> [(session id, patient id)] per block
    checkins: dict[str, list[list[int]]]  # kind -> [participant ids] per block
    crowds: list[tuple[int, list[int]]]  # (session id, patient ids) per crowd


class Slots:
    """Hands out (provider, day, hour) slots, so no provider, room or child is booked twice at once."""

    def __init__(self, first_day: datetime.date, step: int) -> None:
        self.day, self.step, self.used = first_day, step, 0

    def take(self) -> tuple[int, datetime.date, datetime.time]:
        provider, slot = self.used % PROVIDERS, (self.used // PROVIDERS) % SLOTS_PER_DAY
        day = self.day + datetime.timedelta(days=self.step * (self.used // (PROVIDERS * SLOTS_PER_DAY)))
        self.used += 1
        return provider, day, datetime.time(8 + slot)


def build(options: argparse.Namespace) -> World:
    from django.core.management import call_command
    from django.db import connection

    from appointments.models import AppointmentNumberCounter, Session, SessionParticipant
    from core import clock
    from core.models import Clinic, Consent, Patient, Provider, Room, Tenant, User

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(code="BENCH", name_en="Benchmark Centre")
    clinic = Clinic.objects.create(
        tenant=tenant,
        name_en="Psychology Clinic",
        specialty=Clinic.Specialty.PSYCHOLOGY,
        requires_finance_clearance=True,
        requires_consent=True,
    )
    desk = User.objects.create(username="desk", password="!", tenant=tenant, role=User.Role.FRONT_DESK)  # noqa: S106
    users = User.objects.bulk_create(
        User(username=f"clinician{n}", password="!", tenant=tenant, role=User.Role.PSYCHOLOGIST)  # noqa: S106
        for n in range(PROVIDERS)
    )
    providers = Provider.objects.bulk_create(
        Provider(user=user, specialty=Clinic.Specialty.PSYCHOLOGY) for user in users
    )
    Provider.clinics.through.objects.bulk_create(
        Provider.clinics.through(provider=provider, clinic=clinic) for provider in providers
    )
    rooms = Room.objects.bulk_create(Room(clinic=clinic, name=f"Room {n}") for n in range(PROVIDERS))
    patients = Patient.objects.bulk_create(
        Patient(
            tenant=tenant,
            mrn=f"B{n:07d}",
            first_name_en="Child",
            last_name_en=str(n),
            date_of_birth=datetime.date(2018, 1, 1),
        )
        for n in range(PATIENTS)
    )
    signed = clock.now() - datetime.timedelta(days=400)
    Consent.objects.bulk_create(
        Consent(patient=patient, consent_type=Consent.ConsentType.GENERAL, signed_at=signed)
        for patient in patients
    )
    today = clock.today()
    # Bookings go into future days, check-ins into today and the days before (allowed after the fact).
    future, past = Slots(today + datetime.timedelta(days=1), 1), Slots(today, -1)

    def sessions(slots: Slots, count: int, seats: int) -> list[Session]:
        made = []
        for _ in range(count):
            provider, day, hour = slots.take()
            made.append(
                Session(
                    provider=providers[provider],
                    clinic=clinic,
                    room=rooms[provider],
                    scheduled_date=day,
                    scheduled_time=hour,
                    duration=45,
                    service_type="Social skills group",
                    session_type=Session.SessionType.GROUP,
                    max_capacity=seats,
                )
            )
        return Session.objects.bulk_create(made)

    def children(session: Session, seat: int, slot_index: int) -> Patient:
        # Children of one hour differ: PROVIDERS sessions x SEATS seats, within PATIENTS.
        return patients[((slot_index % PROVIDERS) * SEATS + seat) % PATIENTS]

    kinds = ("service-1", "service-n", "floor-1", "floor-n")
    rounds = options.rounds + 1  # one more block for the statement probe and the profile
    per_block = -(-options.ops // SEATS) + options.clients  # every client fills its own sessions
    bookings: dict[str, list[list[tuple[int, int]]]] = {}
    for kind in kinds:
        bookings[kind] = []
        for _ in range(rounds):
            start = future.used
            block = sessions(future, per_block, SEATS)
            bookings[kind].append(
                [
                    (session.pk, children(session, seat, start + index).pk)
                    for index, session in enumerate(block)
                    for seat in range(SEATS)
                ]
            )
    crowds = []
    for index in range(2 * options.rounds):
        (session,) = sessions(future, 1, CROWD_SEATS)
        # The crowds' children: the half of the patients no other booking uses, none twice for 10 rounds.
        first = PROVIDERS * SEATS + index * options.crowd
        crowds.append((session.pk, [patients[(first + n) % PATIENTS].pk for n in range(options.crowd)]))

    year = today.year
    number = 0
    checkins: dict[str, list[list[int]]] = {}
    for kind in kinds:
        checkins[kind] = []
        for _ in range(rounds):
            start = past.used
            block = sessions(past, per_block, SEATS)
            made = []
            for index, session in enumerate(block):
                for seat in range(SEATS):
                    number += 1
                    made.append(
                        SessionParticipant(
                            session=session,
                            patient=children(session, seat, start + index),
                            appointment_number=f"APT-BENCH-{year}-{number:05d}",
                            finance_cleared=True,
                            finance_cleared_by=desk,
                            finance_cleared_at=clock.now(),
                        )
                    )
            checkins[kind].append(
                [participant.pk for participant in SessionParticipant.objects.bulk_create(made)]
            )
    AppointmentNumberCounter.objects.create(tenant=tenant, year=year, last_number=number)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as a database in service has them
    from django.utils import timezone

    return World(tenant.pk, tenant.code, desk.pk, timezone.get_default_timezone(), bookings, checkins, crowds)


# --- the floor: the same rules and writes, straight through psycopg -----------------------------


class Refused(Exception):
    """The floor refused an operation, as the service would with its own error."""


SLOT = "tsrange({d} + {t}, {d} + {t} + make_interval(mins => {m}), '[)')"
WANTED = SLOT.format(d="%(day)s::date", t="%(start)s::time", m="%(minutes)s")

LOCK_SESSION = """
SELECT s.status, s.max_capacity, s.scheduled_date, s.scheduled_time, s.duration, c.tenant_id, t.code
FROM appointments_session s JOIN core_clinic c ON c.id = s.clinic_id JOIN core_tenant t ON t.id = c.tenant_id
WHERE s.id = %(session)s FOR UPDATE OF s
"""
# Locked only when no offer of the session ran out: those pass on their seats first (waiting
# entries rank before patients in core.locks), which the benchmark's sessions never need.
LOCK_PATIENT = """
SELECT p.tenant_id, p.first_name_en, p.last_name_en FROM core_patient p
WHERE p.id = %(patient)s AND NOT EXISTS (
    SELECT 1 FROM appointments_waitlistentry w
    WHERE w.session_id = %(session)s AND w.status = 'offered' AND w.offer_expires_at <= now())
FOR UPDATE
"""
CHECKS = f"""
SELECT
    EXISTS (SELECT 1 FROM appointments_sessionparticipant
            WHERE session_id = %(session)s AND patient_id = %(patient)s AND status <> ALL(%(inactive)s)),
    (SELECT count(*) FROM appointments_sessionparticipant
     WHERE session_id = %(session)s AND status <> ALL(%(inactive)s))
    + (SELECT count(*) FROM appointments_waitlistentry WHERE session_id = %(session)s AND status = 'offered'),
    EXISTS (SELECT 1 FROM appointments_sessionparticipant sp
            JOIN appointments_session o ON o.id = sp.session_id
            WHERE sp.patient_id = %(patient)s AND sp.status <> ALL(%(inactive)s)
              AND o.status <> 'cancelled' AND o.id <> %(session)s
              AND o.scheduled_date BETWEEN %(day)s::date - 1 AND %(day)s::date + 1
              AND {SLOT.format(d="o.scheduled_date", t="o.scheduled_time", m="o.duration")} && {WANTED})
    OR EXISTS (SELECT 1 FROM appointments_appointment a
               WHERE a.patient_id = %(patient)s AND a.status <> 'cancelled'
                 AND a.scheduled_date BETWEEN %(day)s::date - 1 AND %(day)s::date + 1
                 AND {SLOT.format(d="a.scheduled_date", t="a.scheduled_time", m="a.duration")} && {WANTED}
                 AND NOT EXISTS (SELECT 1 FROM appointments_sessionparticipant x
                                 WHERE x.legacy_appointment_id = a.id AND x.session_id = %(session)s))
"""  # noqa: S608 - constants only
NEXT_NUMBER = """
INSERT INTO appointments_appointmentnumbercounter AS counter (tenant_id, year, last_number)
VALUES (%(tenant)s, %(year)s, 1)
ON CONFLICT (tenant_id, year) DO UPDATE SET last_number = counter.last_number + 1
RETURNING last_number
"""
PARTICIPANT_DEFAULTS = {
    "status": "booked",
    "finance_cleared": False,
    "consent_verified": False,
    "cancel_reason": "",
    "billable": False,
    "billing_review_pending": False,
    "billing_waived_reason": "",
    "cancel_category": "",
    "cancelled_by": "",
    "is_late_cancellation": False,
}
PARTICIPANT_COLUMNS = (
    "id, appointment_number, status, finance_cleared, finance_cleared_at, consent_verified, "
    "consent_verified_at, booked_at, confirmed_at, arrived_at, attended_at, no_show_at, cancelled_at, "
    "cancel_reason, finance_cleared_by_id, legacy_appointment_id, patient_id, session_id, billable, "
    "billing_review_pending, billing_waived_at, billing_waived_by_id, billing_waived_reason, "
    "cancel_category, cancelled_by, is_late_cancellation, turned_away_at"
)
DEFAULT_VALUES = ", ".join(f"%({name})s" for name in PARTICIPANT_DEFAULTS)
# The participant and its history row in one statement, as the service writes them.
INSERT_PARTICIPANT = f"""
WITH added AS (
    INSERT INTO appointments_sessionparticipant
        (session_id, patient_id, appointment_number, booked_at, {", ".join(PARTICIPANT_DEFAULTS)})
    VALUES (%(session)s, %(patient)s, %(number)s, %(now)s, {DEFAULT_VALUES})
    RETURNING {PARTICIPANT_COLUMNS})
INSERT INTO appointments_historicalsessionparticipant
    ({PARTICIPANT_COLUMNS}, history_date, history_type, history_user_id)
SELECT {PARTICIPANT_COLUMNS}, %(now)s, '+', %(user)s FROM added
"""  # noqa: S608 - constants only

CHECKIN_LOCK_SESSION = """
SELECT s.status, s.scheduled_date, c.requires_finance_clearance, c.requires_consent, c.specialty
FROM appointments_session s JOIN core_clinic c ON c.id = s.clinic_id
WHERE s.id = (SELECT session_id FROM appointments_sessionparticipant WHERE id = %(participant)s)
FOR UPDATE OF s
"""
CHECKIN_LOCK_PARTICIPANT = """
SELECT sp.status, sp.finance_cleared, sp.patient_id FROM appointments_sessionparticipant sp
WHERE sp.id = %(participant)s FOR UPDATE
"""
CONSENTS = """
SELECT consent_type, signed_at, expires_at, revoked_at FROM core_consent WHERE patient_id = %(patient)s
"""
# The update and its history row in one statement, as the service writes them.
ARRIVE = f"""
WITH changed AS (
    UPDATE appointments_sessionparticipant
    SET status = 'arrived', arrived_at = %(now)s,
        consent_verified = %(valid)s, consent_verified_at = %(verified_at)s
    WHERE id = %(participant)s
    RETURNING {PARTICIPANT_COLUMNS})
INSERT INTO appointments_historicalsessionparticipant
    ({PARTICIPANT_COLUMNS}, history_date, history_type, history_user_id)
SELECT {PARTICIPANT_COLUMNS}, %(now)s, '~', %(user)s FROM changed
"""  # noqa: S608 - constants only


class Floor:
    """One client of the floor: its own connection, one transaction per operation."""

    def __init__(self, url: str, world: World) -> None:
        self.connection = psycopg.connect(url)
        self.world = world
        self.statements = 0

    def run(self, sql: str, params: dict[str, Any]) -> Any:
        self.statements += 1
        return self.connection.execute(sql, params).fetchone()

    def prepare(self, _operation: str, part: list[Any]) -> list[Any]:
        return part  # the floor works from the ids alone

    def book(self, session: int, patient: int) -> None:
        try:
            self._book(session, patient)
        except BaseException:
            self.connection.rollback()
            raise
        self.connection.commit()

    def _book(self, session: int, patient: int) -> None:
        from core import clock

        keys: dict[str, Any] = {"session": session, "patient": patient, "inactive": INACTIVE}
        status, capacity, day, start, minutes, tenant, code = self.run(LOCK_SESSION, keys)
        if status not in ("scheduled", "in_progress"):
            raise Refused("closed")
        locked = self.run(LOCK_PATIENT, keys)
        if locked is None:
            raise Refused("lapsed offers to pass on: not modelled")
        if locked[0] != tenant:
            raise Refused("another organisation's child")
        keys.update(day=day, start=start, minutes=minutes)
        duplicate, taken, clash = self.run(CHECKS, keys)
        if duplicate:
            raise Refused("already booked")
        if taken >= capacity:
            raise Refused("full")
        if clash:
            raise Refused("booked elsewhere")
        year = clock.today().year
        (number,) = self.run(NEXT_NUMBER, {"tenant": tenant, "year": year})
        keys.update(PARTICIPANT_DEFAULTS, number=f"APT-{code}-{year}-{number:05d}", now=clock.now())
        keys["user"] = self.world.user_id
        self.statements += 1
        self.connection.execute(INSERT_PARTICIPANT, keys)

    def check_in(self, participant: int) -> None:
        try:
            self._check_in(participant)
        except BaseException:
            self.connection.rollback()
            raise
        self.connection.commit()

    def _check_in(self, participant: int) -> None:
        from core import clock

        keys: dict[str, Any] = {"participant": participant}
        status, day, needs_finance, needs_consent, specialty = self.run(CHECKIN_LOCK_SESSION, keys)
        if status not in ("scheduled", "in_progress"):
            raise Refused("closed")
        booking, cleared, patient = self.run(CHECKIN_LOCK_PARTICIPANT, keys)
        if booking not in ("booked", "confirmed"):
            raise Refused(booking)
        if clock.today() < day:
            raise Refused("before the day")
        self.statements += 1
        consents = self.connection.execute(CONSENTS, {"patient": patient}).fetchall()
        valid = any(
            kind in ("general", specialty)
            and clock.local_day(signed) <= day
            and (revoked is None or clock.local_day(revoked) > day)
            and (expires is None or clock.local_day(expires) >= day)
            for kind, signed, expires, revoked in consents
        )
        if (needs_finance and not cleared) or (needs_consent and not valid):
            raise Refused("a gate refused")  # the service records the refusal first: never here
        now = clock.now()
        keys.update(now=now, valid=valid, verified_at=now if valid else None, user=self.world.user_id)
        self.statements += 1
        self.connection.execute(ARRIVE, keys)

    def close(self) -> None:
        self.connection.close()


# --- the service ------------------------------------------------------------------------------


class Service:
    """One client of the service: Django's connection of its process, the objects a view would hold."""

    def __init__(self, world: World) -> None:
        from django.db import connection

        from core.models import User

        connection.ensure_connection()
        self.user = User.objects.get(pk=world.user_id)
        self.statements = 0

    def prepare(self, operation: str, part: list[Any]) -> list[Any]:
        return self.prepare_bookings(part) if operation == "book" else self.prepare_checkins(part)

    def prepare_bookings(self, pairs: Sequence[tuple[int, int]]) -> list[tuple[Any, Any]]:
        from appointments.models import Session
        from core.models import Patient

        sessions = Session.objects.in_bulk({s for s, _ in pairs})
        patients = Patient.objects.in_bulk({p for _, p in pairs})
        return [(sessions[s], patients[p]) for s, p in pairs]

    def prepare_checkins(self, ids: Sequence[int]) -> list[Any]:
        from appointments.models import SessionParticipant

        found = SessionParticipant.objects.in_bulk([pk for (pk,) in ids])
        return [(found[pk],) for (pk,) in ids]

    def book(self, session: Any, patient: Any) -> None:
        from appointments.session_service import SessionService

        SessionService.add_patient_to_session(session, patient, user=self.user)

    def check_in(self, participant: Any) -> None:
        from appointments.session_service import SessionService

        SessionService.check_in_participant(participant, user=self.user)

    def close(self) -> None:
        from django.db import connection

        connection.close()


# --- running clients ----------------------------------------------------------------------------


@dataclass
class Report:
    """What one client process did in one run."""

    started: float  # time.perf_counter(): CLOCK_MONOTONIC, one clock for every process
    finished: float
    outcomes: list[str]  # "ok", or the refusal's class and message
    statements: int


def outcome_of(error: Exception) -> str:
    # Exceptions go back as text: the project's errors carry lists of lazy messages, not pickled.
    return f"{type(error).__name__}: {error}"


def client_process(url: str, world: World, barriers: dict[int, Any], tasks: Any, reports: Any) -> None:
    """One client: a process of its own, as each gunicorn worker is, so no GIL is shared.

    Forked from the set-up benchmark (Django is set up, no connection open), it runs each
    part it is sent with a new connection of its own, released together with the other
    clients of the run by their barrier, until it is sent None.
    """
    while (task := tasks.get()) is not None:
        side, operation, part, clients = task
        barrier = barriers[clients]
        try:
            client = Service(world) if side == "service" else Floor(url, world)
            try:
                prepared = client.prepare(operation, part)
                work = client.book if operation == "book" else client.check_in
                barrier.wait(timeout=120)
                started, outcomes = time.perf_counter(), []
                for args in prepared:
                    try:
                        work(*args)
                        outcomes.append("ok")
                    except Exception as error:  # every refusal is counted and shown
                        outcomes.append(outcome_of(error))
                reports.put(Report(started, time.perf_counter(), outcomes, client.statements))
            finally:
                client.close()
        except Exception as error:  # the run can't be measured: say why, release the others
            barrier.abort()
            reports.put(f"client process {os.getpid()}: {outcome_of(error)}")


class Clients:
    """``processes`` client processes, forked once; a run hands each of the first few one part."""

    def __init__(self, url: str, world: World, processes: int, sizes: set[int]) -> None:
        import multiprocessing

        from django.db import connections

        context = multiprocessing.get_context("fork")
        connections.close_all()  # a forked child must never share this process's connection
        # A barrier per number of clients in a run, created before the fork that hands them down.
        barriers = {size: context.Barrier(size) for size in sizes}
        self.reports = context.Queue()
        self.tasks = [context.Queue() for _ in range(processes)]
        self.processes = [
            context.Process(
                target=client_process, args=(url, world, barriers, tasks, self.reports), daemon=True
            )
            for tasks in self.tasks
        ]
        for process in self.processes:
            process.start()

    def run(self, side: str, operation: str, parts: list[list[Any]]) -> tuple[float, list[str], int]:
        """Every part in its own process, released together: (seconds, outcomes, statements)."""
        for tasks, part in zip(self.tasks, parts, strict=False):
            tasks.put((side, operation, part, len(parts)))
        reports = [self.reports.get(timeout=600) for _ in parts]
        broken = [report for report in reports if isinstance(report, str)]
        if broken:
            raise SystemExit(f"{side} {operation}: {broken[0]}")
        seconds = max(report.finished for report in reports) - min(report.started for report in reports)
        outcomes = [outcome for report in reports for outcome in report.outcomes]
        return seconds, outcomes, sum(report.statements for report in reports)

    def close(self) -> None:
        for tasks in self.tasks:
            tasks.put(None)
        for process in self.processes:
            process.join(timeout=60)


def as_args(items: list[Any]) -> list[tuple[Any, ...]]:
    return [item if isinstance(item, tuple) else (item,) for item in items]


def split(items: Sequence[Any], clients: int, ops: int) -> list[list[Any]]:
    """``ops // clients`` operations for each client, in sessions of its own (seat after seat)."""
    sessions = [items[index : index + SEATS] for index in range(0, len(items), SEATS)]
    parts = []
    for client in range(clients):
        own = [item for session in sessions[client::clients] for item in session]
        parts.append(as_args(own[: ops // clients]))
    return parts


def measure(
    pool: Clients, kind: str, block: list[Any], clients: int, operation: str, ops: int
) -> tuple[float, int]:
    """(ops/s, statements per op) of ``ops`` operations of one block."""
    side = kind.split("-")[0]
    seconds, outcomes, statements = pool.run(side, operation, split(block, clients, ops))
    failed = [outcome for outcome in outcomes if outcome != "ok"]
    if failed:
        raise SystemExit(f"{kind} {operation}: {len(failed)} of {len(outcomes)} failed, e.g. {failed[0]}")
    return len(outcomes) / seconds, (statements // len(outcomes) if side == "floor" else 0)


def crowd(pool: Clients, side: str, session: int, patients: list[int]) -> tuple[int, float]:
    """``len(patients)`` clients book one child each into one 8-seat session at once: (booked, seconds)."""
    seconds, outcomes, _ = pool.run(side, "book", [[(session, patient)] for patient in patients])
    refusal = "CapacityError: " if side == "service" else "Refused: "
    unexpected = [outcome for outcome in outcomes if outcome != "ok" and not outcome.startswith(refusal)]
    if unexpected:
        raise SystemExit(f"crowd ({side}): unexpected outcome {unexpected[0]}")
    return outcomes.count("ok"), seconds


# --- where the time goes ------------------------------------------------------------------------


def probe(world: World, operation: str, items: list[Any]) -> str:
    """Statements and time per operation of the service, one client, database time apart."""
    from django.db import connection

    client = Service(world)
    prepared = client.prepare(operation, items)
    work = client.book if operation == "book" else client.check_in
    calls: list[float] = []

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            calls.append(time.perf_counter() - started)

    started, cpu = time.perf_counter(), time.thread_time()
    with connection.execute_wrapper(timed):
        for args in prepared:
            work(*args)
    cpu = (time.thread_time() - cpu) / len(prepared)
    total = (time.perf_counter() - started) / len(prepared)
    database = sum(calls) / len(prepared)
    return (
        f"{len(calls) / len(prepared):.1f} statements/op (+ BEGIN and COMMIT), "
        f"{total * 1000:.2f} ms/op: {database * 1000:.2f} ms in statements, "
        f"{(total - database) * 1000:.2f} ms in Python and commit; client CPU {cpu * 1000:.2f} ms/op"
    )


def floor_cpu(world: World, url: str, operation: str, items: list[Any]) -> str:
    """The floor's client CPU per operation, one client (the rest of its time is the server's)."""
    client = Floor(url, world)
    work = client.book if operation == "book" else client.check_in
    started, cpu = time.perf_counter(), time.thread_time()
    for args in items:
        work(*args)
    cpu = (time.thread_time() - cpu) / len(items)
    total = (time.perf_counter() - started) / len(items)
    client.close()
    return f"{total * 1000:.2f} ms/op; client CPU {cpu * 1000:.2f} ms/op"


def profile(world: World, operation: str, items: list[Any], lines: int) -> str:
    client = Service(world)
    prepared = client.prepare(operation, items)
    work = client.book if operation == "book" else client.check_in
    # CPU time, not wall time: the client's own cost, whatever else the machine runs
    # (the wall time spent waiting for PostgreSQL is in the probe's line).
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    for args in prepared:
        work(*args)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines)
    kept = [
        line
        for line in out.getvalue().splitlines()
        if line.strip() and not line.startswith(("   Ordered by", "   List reduced"))
    ]
    return "\n".join(kept)


def verify(world: World) -> str:
    """Overbookings, number gaps and duplicates, and the history rows of every write."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM appointments_session s
            WHERE (SELECT count(*) FROM appointments_sessionparticipant p
                   WHERE p.session_id = s.id AND p.status <> ALL(%s))
                + (SELECT count(*) FROM appointments_waitlistentry w
                   WHERE w.session_id = s.id AND w.status = 'offered') > s.max_capacity
            """,
            [INACTIVE],
        )
        (overbooked,) = cursor.fetchone()
        cursor.execute(
            """
            SELECT count(*), count(DISTINCT n), min(n), max(n),
                   (SELECT last_number FROM appointments_appointmentnumbercounter)
            FROM (SELECT split_part(appointment_number, '-', 4)::int AS n
                  FROM appointments_sessionparticipant) numbers
            """
        )
        count, distinct, lowest, highest, last = cursor.fetchone()
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE history_type = '+'), count(*) FILTER (WHERE history_type = '~'),
                   count(*) FILTER (WHERE history_user_id IS DISTINCT FROM %s OR row_hash IS NULL)
            FROM appointments_historicalsessionparticipant
            """,
            [world.user_id],
        )
        added, changed, unsigned = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM appointments_sessionparticipant WHERE status = 'arrived'")
        (arrived,) = cursor.fetchone()
    gaps = not (count == distinct == highest == last and lowest == 1)
    booked_here = count - sum(len(block) for blocks in world.checkins.values() for block in blocks)
    ok = overbooked == 0 and not gaps and added == booked_here and changed == arrived and unsigned == 0
    return (
        f"{'OK' if ok else 'FAILED'}: {overbooked} overbooked sessions; numbers 1..{highest}: "
        f"{count} issued, {distinct} distinct, counter at {last} ({'gaps!' if gaps else 'no gaps'}); "
        f"history: {added} bookings of {booked_here}, {changed} check-ins of {arrived}, "
        f"{unsigned} without the user or the audit hash"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--ops", type=int, default=200, help="operations of each kind per round and measurement"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--crowd", type=int, default=40, help="clients booking one 8-seat group at once")
    parser.add_argument("--profile-lines", type=int, default=25)
    parser.add_argument("--database", default="clinic_booking_benchmark")
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database afterwards.")
    options = parser.parse_args()

    url = database_url(options.database)
    with throwaway_database(url, keep=options.keep):
        setup_django(url)
        started = time.perf_counter()
        world = build(options)
        print(f"setup: {time.perf_counter() - started:.1f} s; {options.rounds} rounds of {options.ops} ops")
        results: dict[tuple[str, str, int], list[float]] = {}
        statements: dict[tuple[str, str], int] = {}
        crowds: dict[str, list[tuple[int, float]]] = {"service": [], "floor": []}
        pool = Clients(url, world, max(options.clients, options.crowd), {1, options.clients, options.crowd})
        try:
            for round_index in range(options.rounds):
                for operation, blocks in (("book", world.bookings), ("check_in", world.checkins)):
                    for clients in (1, options.clients):
                        for side in ("service", "floor"):
                            kind = f"{side}-{'1' if clients == 1 else 'n'}"
                            block = blocks[kind][round_index]
                            rate, per_op = measure(pool, kind, block, clients, operation, options.ops)
                            results.setdefault((operation, side, clients), []).append(rate)
                            if side == "floor":
                                statements[operation, side] = per_op
                for side in ("service", "floor"):
                    session, patients = world.crowds[2 * round_index + (side == "floor")]
                    crowds[side].append(crowd(pool, side, session, patients))
                print(f"round {round_index + 1} done")
        finally:
            pool.close()
        print()
        print(f"{'operation':<24}{'clients':>8}{'service/s':>12}{'floor/s':>10}{'ratio':>8}")
        for operation in ("book", "check_in"):
            for clients in (1, options.clients):
                service = statistics.median(results[operation, "service", clients])
                floor = statistics.median(results[operation, "floor", clients])
                name = "add_patient_to_session" if operation == "book" else "check_in_participant"
                print(f"{name:<24}{clients:>8}{service:>12,.0f}{floor:>10,.0f}{service / floor:>8.2f}")
        for side in ("service", "floor"):
            booked = [b for b, _ in crowds[side]]
            seconds = statistics.median(s for _, s in crowds[side])
            print(
                f"crowd ({side}): {options.crowd} clients on {CROWD_SEATS} seats, booked per round {booked}, "
                f"median {seconds * 1000:.0f} ms"
            )
        print()
        spare = options.rounds  # the block no round used
        bookings = world.bookings["service-1"][spare][: options.ops]
        checkins = as_args(world.checkins["service-1"][spare][: options.ops])
        half = len(bookings) // 2
        print(
            f"floor: {statements['book', 'floor']} statements/booking, "
            f"{statements['check_in', 'floor']}/check-in (+ BEGIN and COMMIT)"
        )
        floor_bookings = world.bookings["floor-1"][spare][: options.ops]
        floor_checkins = as_args(world.checkins["floor-1"][spare][: options.ops])
        print(f"floor booking:    {floor_cpu(world, url, 'book', floor_bookings)}")
        print(f"floor check-in:   {floor_cpu(world, url, 'check_in', floor_checkins)}")
        print(f"service booking:  {probe(world, 'book', bookings[:half])}")
        print(f"service check-in: {probe(world, 'check_in', checkins[:half])}")
        print()
        print(f"CPU profile of {len(bookings) - half} bookings, one client:")
        print(profile(world, "book", bookings[half:], options.profile_lines))
        print()
        print(f"CPU profile of {len(checkins) - half} check-ins, one client:")
        print(profile(world, "check_in", checkins[half:], options.profile_lines))
        print()
        print("verify:", verify(world))


if __name__ == "__main__":
    main()
