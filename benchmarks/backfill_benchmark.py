"""Benchmark the back-fill: N legacy appointments with notes -> Sessions. Not a test.

    .venv/bin/python benchmarks/backfill_benchmark.py --appointments 50000

Creates its own throwaway database (``--database``, default ``clinic_backfill_benchmark``)
on the server of $DATABASE_URL (or 127.0.0.1:5432), fills it with bulk inserts (the
setup is not what is measured), then runs ``manage.py backfill_sessions`` as an
operator would, in a child process, and prints appointments per second and the
child's peak memory (``getrusage`` of the child). It then reruns the command (which
must find nothing to do), runs ``check_integrity``, and drops the database unless
``--keep`` is given.

The floor: a copy of the same legacy database (``CREATE DATABASE ... TEMPLATE``) is
back-filled by the essential SQL alone, sent straight through psycopg, one transaction
per batch with the same rules and writes - the batch's keyset query, the provider,
room and appointment locks, the service's dirty-row query, its set-based insert of
sessions, participants and their history (the audit hash triggers fire as for the
command), and per note discipline one statement that locks, checks (patient, session,
one note per participant) and links the notes and writes their history. The ratio
command/floor is what the Python around that SQL costs. ``--profile`` back-fills a
third copy in this process under cProfile and prints the statements per batch and the
functions that take the time.
"""

import argparse
import cProfile
import datetime
import io
import os
import pstats
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from databases import database_url, drop_database, recreate_database
from psycopg import sql

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROVIDERS = 60
PATIENTS = 5000
SLOTS_PER_DAY = 8
CHUNK = 5000


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"  # DEBUG off: no query log in memory
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()


def chunks(items: range, size: int):
    for start in range(items.start, items.stop, size):
        yield range(start, min(start + size, items.stop))


def build_legacy_data(appointment_count: int) -> tuple[int, int]:
    """Reference data, legacy appointments in every status and a note per attended visit.

    Bulk inserts, no history: this is the legacy database as found, not a product write.
    Every provider has their own room, start times are an hour apart and a patient is
    seen once per time slot, so the data is clean (no overlaps).
    """
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from aba.models import ABASession
    from appointments.models import Appointment, AppointmentNumberCounter
    from core import clock
    from core.models import Clinic, Patient, Provider, Room, Tenant, User
    from ot.models import OTSession
    from psychology.models import PsychologySession

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(code="BENCH", name_en="Benchmark Centre")
    specialties = [
        (
            Clinic.Specialty.PSYCHOLOGY,
            User.Role.PSYCHOLOGIST,
            PsychologySession,
            {"presenting_issues": "Anxiety"},
        ),
        (Clinic.Specialty.OT, User.Role.OCCUPATIONAL_THERAPIST, OTSession, {"activities": "Bead threading"}),
        (Clinic.Specialty.ABA, User.Role.ABA_THERAPIST, ABASession, {"session_summary": "Requesting"}),
    ]
    clinics = Clinic.objects.bulk_create(
        Clinic(tenant=tenant, name_en=f"{specialty.label} Clinic", specialty=specialty)
        for specialty, *_ in specialties
    )
    users = User.objects.bulk_create(
        User(
            username=f"clinician{n}",
            password="!",  # noqa: S106 - an unusable password
            tenant=tenant,
            role=specialties[n % 3][1],
        )
        for n in range(PROVIDERS)
    )
    providers = Provider.objects.bulk_create(
        Provider(user=user, specialty=specialties[n % 3][0]) for n, user in enumerate(users)
    )
    Provider.clinics.through.objects.bulk_create(
        Provider.clinics.through(provider=provider, clinic=clinics[n % 3])
        for n, provider in enumerate(providers)
    )
    rooms = Room.objects.bulk_create(Room(clinic=clinics[n % 3], name=f"Room {n}") for n in range(PROVIDERS))
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
    today = clock.today()
    year = today.year
    AppointmentNumberCounter.objects.create(tenant=tenant, year=year, last_number=appointment_count)
    first_day = today - datetime.timedelta(days=appointment_count // (PROVIDERS * SLOTS_PER_DAY) + 1)
    statuses = [
        Appointment.Status.CANCELLED,
        Appointment.Status.NO_SHOW,
        Appointment.Status.BOOKED,
        Appointment.Status.CONFIRMED,
        Appointment.Status.ARRIVED,
        Appointment.Status.IN_PROGRESS,
        *[Appointment.Status.COMPLETED] * 14,
    ]
    note_count = 0
    for part in chunks(range(appointment_count), CHUNK):
        appointments = []
        for n in part:
            p, slot, day = n % PROVIDERS, (n // PROVIDERS) % SLOTS_PER_DAY, n // (PROVIDERS * SLOTS_PER_DAY)
            status = statuses[n % len(statuses)]
            date = first_day + datetime.timedelta(days=day)
            moment = timezone.make_aware(
                datetime.datetime.combine(date, datetime.time(8 + slot)), timezone.get_default_timezone()
            )
            appointments.append(
                Appointment(
                    patient=patients[
                        (p + PROVIDERS * slot + PROVIDERS * SLOTS_PER_DAY * (day % 10)) % PATIENTS
                    ],
                    provider=providers[p],
                    clinic=clinics[p % 3],
                    room=rooms[p],
                    scheduled_date=date,
                    scheduled_time=datetime.time(8 + slot),
                    duration=45,
                    service_type="Individual Therapy",
                    status=status,
                    appointment_number=f"APT-BENCH-{year}-{n + 1:05d}",
                    confirmed_at=moment if status != Appointment.Status.BOOKED else None,
                    arrived_at=moment if status in ("arrived", "in_progress", "completed") else None,
                    started_at=moment if status in ("in_progress", "completed") else None,
                    completed_at=moment if status == "completed" else None,
                    cancelled_at=moment if status == "cancelled" else None,
                    cancel_reason="Family travel" if status == "cancelled" else "",
                    no_show_at=moment if status == "no_show" else None,
                )
            )
        Appointment.objects.bulk_create(appointments)
        by_model: dict = {}
        for n, appointment in zip(part, appointments, strict=True):
            if appointment.status != Appointment.Status.COMPLETED:
                continue
            _, _, model, content = specialties[(n % PROVIDERS) % 3]
            by_model.setdefault(model, []).append(
                model(
                    patient=appointment.patient,
                    provider=appointment.provider,
                    appointment=appointment,
                    session_date=appointment.scheduled_date,
                    **content,
                )
            )
        for model, notes in by_model.items():
            model.objects.bulk_create(notes)
            note_count += len(notes)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as a database in service has them
    return appointment_count, note_count


def run_command(url: str, *args: str) -> tuple[float, str, int]:
    """Run a manage.py command in a child process: (seconds, last stdout line, exit status)."""
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    started = time.monotonic()
    child = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(PROJECT_DIR / "manage.py"), *args],
        env=env,
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    lines = child.stdout.strip().splitlines() or [""]
    return time.monotonic() - started, lines[-1], child.returncode


def clone_database(source_url: str, name: str) -> str:
    """A copy of the database at ``source_url`` (no one may be connected to it), as ``name``."""
    from django.db import connections

    connections.close_all()
    url = database_url(name)
    drop_database(url)
    source = source_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(source))
        )
    return url


# Per note discipline: lock the batch's unlinked notes, keep those about the appointment's
# patient, not on another session and alone on their participant (no note linked there
# already), link them and write their change history - the service's rules in one statement.
FLOOR_LINK_NOTES_SQL = """
WITH candidates AS MATERIALIZED (
    SELECT n.id, n.patient_id, n.session_id, a.patient_id AS booked_patient_id,
           p.id AS participant_id, p.session_id AS participant_session_id
    FROM {note} n
    JOIN appointments_appointment a ON a.id = n.appointment_id
    JOIN appointments_sessionparticipant p ON p.legacy_appointment_id = a.id
    WHERE n.appointment_id = ANY(%(ids)s) AND n.session_participant_id IS NULL
    ORDER BY n.id
    FOR UPDATE OF n
),
consistent AS MATERIALIZED (
    SELECT * FROM candidates
    WHERE patient_id = booked_patient_id AND (session_id IS NULL OR session_id = participant_session_id)
),
alone AS (
    SELECT c.* FROM consistent c
    WHERE NOT EXISTS (SELECT FROM consistent o WHERE o.participant_id = c.participant_id AND o.id <> c.id)
      AND NOT EXISTS (SELECT FROM {note} o WHERE o.session_participant_id = c.participant_id)
),
linked AS (
    UPDATE {note} n
    SET session_id = alone.participant_session_id, session_participant_id = alone.participant_id,
        updated_at = %(now)s
    FROM alone WHERE n.id = alone.id
    RETURNING n.*
)
{history}
"""


def run_floor(url: str, batch_size: int) -> tuple[float, int, dict[str, float]]:
    """Back-fill the database at ``url`` with the essential SQL only: seconds, sessions, seconds by step."""
    from appointments import backfill_service
    from appointments.models import Session, SessionParticipant
    from appointments.notes.registry import note_models

    link_notes = [
        FLOOR_LINK_NOTES_SQL.format(
            note=model._meta.db_table, history=backfill_service.history_insert_sql(model, "linked", "~")
        )
        for model in note_models().values()
    ]
    inactive = [status.value for status in SessionParticipant.INACTIVE_STATUSES]
    insert_sessions, fixed = backfill_service.insert_sessions_statement()
    created = 0
    steps: dict[str, float] = {}

    def step(name: str, started: float) -> None:
        steps[name] = steps.get(name, 0.0) + time.monotonic() - started

    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as connection:  # each batch its own transaction() block
        last = 0
        while True:
            with connection.transaction():
                ids = [
                    row[0]
                    for row in connection.execute(
                        "SELECT a.id FROM appointments_appointment a WHERE a.id > %s AND NOT EXISTS ("
                        "SELECT FROM appointments_sessionparticipant p WHERE p.legacy_appointment_id = a.id"
                        ") ORDER BY a.id LIMIT %s",
                        [last, batch_size],
                    )
                ]
                if not ids:
                    break
                last = ids[-1]
                locking = time.monotonic()
                connection.execute(
                    "SELECT id FROM core_provider WHERE id IN ("
                    "SELECT provider_id FROM appointments_appointment WHERE id = ANY(%s)"
                    ") ORDER BY id FOR UPDATE",
                    [ids],
                ).fetchall()
                connection.execute(
                    "SELECT id FROM core_room WHERE id IN ("
                    "SELECT room_id FROM appointments_appointment WHERE id = ANY(%s)"
                    ") ORDER BY id FOR UPDATE",
                    [ids],
                ).fetchall()
                connection.execute(
                    "SELECT id FROM appointments_appointment WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [ids]
                ).fetchall()
                step("locks", locking)
                checking = time.monotonic()
                dirty = {
                    row[0]
                    for row in connection.execute(
                        backfill_service.DIRTY_APPOINTMENTS_SQL, {"ids": ids, "inactive": inactive}
                    )
                }
                step("dirty-row query", checking)
                clean = [pk for pk in ids if pk not in dirty]
                params = {**fixed, **backfill_service.history_params(Session), "ids": clean}
                inserting = time.monotonic()
                created += len(connection.execute(insert_sessions, params).fetchall())
                step("insert", inserting)
                linking = time.monotonic()
                for statement in link_notes:
                    connection.execute(statement, params)
                step("notes", linking)
    return time.monotonic() - started, created, steps


def profile_command(url: str, batch_size: int, lines: int = 25) -> str:
    """Back-fill the database at ``url`` in this process under cProfile: statements and profile."""
    from django.db import connection, connections

    from appointments.backfill_service import backfill_sessions

    connections.close_all()
    connection.settings_dict["NAME"] = url.rsplit("/", 1)[1]
    by_statement: dict[str, list[float]] = {}

    def timed(execute, sql_text, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql_text, params, many, context)
        finally:
            label = " ".join(sql_text.split())[:70]
            by_statement.setdefault(label, []).append(time.perf_counter() - started)

    profiler = cProfile.Profile()
    with connection.execute_wrapper(timed):
        started = time.perf_counter()
        profiler.enable()
        report = backfill_sessions(batch_size=batch_size)
        profiler.disable()
        seconds = time.perf_counter() - started
    statements = sum(len(times) for times in by_statement.values())
    in_sql = sum(sum(times) for times in by_statement.values())
    batches = max(report.batches, 1)
    out = io.StringIO()
    out.write(
        f"profile: {report.created} sessions in {report.batches} batches, {seconds:.1f} s; "
        f"{statements} statements ({statements / batches:.1f} per batch), {in_sql:.1f} s waiting for "
        f"PostgreSQL, {seconds - in_sql:.1f} s in Python\n"
    )
    for label, times in sorted(by_statement.items(), key=lambda item: -sum(item[1]))[:10]:
        out.write(f"  {sum(times):6.1f} s {len(times):6d}x  {label}\n")
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--appointments", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--database", default="clinic_backfill_benchmark")
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database afterwards.")
    parser.add_argument("--no-floor", action="store_true", help="Skip the same-rules SQL floor.")
    parser.add_argument("--profile", action="store_true", help="Also profile a back-fill in this process.")
    options = parser.parse_args()

    url = database_url(options.database)
    floor_url = database_url(f"{options.database}_floor")
    profile_url = database_url(f"{options.database}_profile")
    recreate_database(url)
    try:
        setup_django(url)
        started = time.monotonic()
        appointments, notes = build_legacy_data(options.appointments)
        print(
            f"setup: {appointments} legacy appointments, {notes} notes in {time.monotonic() - started:.1f} s"
        )
        if not options.no_floor:
            clone_database(url, f"{options.database}_floor")
        if options.profile:
            clone_database(url, f"{options.database}_profile")

        seconds, summary, status = run_command(
            url, "backfill_sessions", "--batch-size", str(options.batch_size)
        )
        child = resource.getrusage(resource.RUSAGE_CHILDREN)  # only this child has ended so far
        seconds_command, command_summary = seconds, summary
        print(summary)
        print(
            f"backfill_sessions: {appointments} appointments in {seconds:.1f} s wall "
            f"= {appointments / seconds:,.0f} appointments/s (batch size {options.batch_size}), "
            f"{child.ru_utime + child.ru_stime:.1f} s CPU in the command, "
            f"peak memory {child.ru_maxrss / 1024:.0f} MB, exit status {status}"
        )
        seconds, summary, status = run_command(url, "backfill_sessions")
        print(f"rerun: {summary} ({seconds:.1f} s wall, exit status {status})")
        seconds, summary, status = run_command(url, "check_integrity")
        print(f"check_integrity: {summary} ({seconds:.1f} s wall, exit status {status})")
        if not options.no_floor:
            floor_seconds, floor_created, floor_steps = run_floor(floor_url, options.batch_size)
            floor_rate = appointments / floor_seconds
            # The command's wall time includes starting Django; its summary gives its own run time.
            own_seconds = float(re.search(r", ([\d.]+) s\.$", command_summary)[1])
            print(
                f"floor (same rules, set-based SQL through psycopg): {floor_created} sessions in "
                f"{floor_seconds:.1f} s = {floor_rate:,.0f} appointments/s; command/floor = "
                f"{appointments / seconds_command / floor_rate:.2f} by wall time, "
                f"{appointments / own_seconds / floor_rate:.2f} by the command's own run time "
                f"({', '.join(f'{name} {seconds:.1f} s' for name, seconds in floor_steps.items())})"
            )
        if options.profile:
            print(profile_command(profile_url, options.batch_size))
    finally:
        from django.db import connections

        connections.close_all()
        if not options.keep:
            drop_database(url)
        drop_database(floor_url)
        drop_database(profile_url)


if __name__ == "__main__":
    main()
