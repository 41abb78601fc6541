"""Benchmark the back-fill: N legacy appointments with notes -> Sessions. Not a test.

    .venv/bin/python benchmarks/backfill_benchmark.py --appointments 50000

Creates its own throwaway database (``--database``, default ``clinic_backfill_benchmark``)
on the server of $DATABASE_URL (or 127.0.0.1:5432), fills it with bulk inserts (the
setup is not what is measured), then runs ``manage.py backfill_sessions`` as an
operator would, in a child process, and prints appointments per second and the
child's peak memory (``getrusage`` of the child). It then reruns the command (which
must find nothing to do), runs ``check_integrity``, and drops the database unless
``--keep`` is given.
"""

import argparse
import datetime
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from databases import database_url, drop_database, recreate_database

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--appointments", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--database", default="clinic_backfill_benchmark")
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database afterwards.")
    options = parser.parse_args()

    url = database_url(options.database)
    recreate_database(url)
    try:
        setup_django(url)
        started = time.monotonic()
        appointments, notes = build_legacy_data(options.appointments)
        print(
            f"setup: {appointments} legacy appointments, {notes} notes in {time.monotonic() - started:.1f} s"
        )

        seconds, summary, status = run_command(
            url, "backfill_sessions", "--batch-size", str(options.batch_size)
        )
        child = resource.getrusage(resource.RUSAGE_CHILDREN)  # only this child has ended so far
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
    finally:
        from django.db import connections

        connections.close_all()
        if not options.keep:
            drop_database(url)


if __name__ == "__main__":
    main()
