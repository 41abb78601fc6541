"""A big, realistic clinic database for the page and integrity benchmarks. Not a test.

    from big_database import build
    ids = build(database_url("clinic_bench_1m"), 1_000_000)

``build`` recreates the database at ``url``, migrates it (``manage.py migrate`` in a
child process), makes the reference data through the ORM in a second child (tenants,
clinics, opening hours, users, providers, rooms: a few hundred rows, with their
history), then fills the big tables with set-based SQL (``INSERT ... SELECT ... FROM
generate_series``) straight through psycopg:

- two tenants, each with a psychology, an OT and an ABA clinic and a room per provider.
  Tenant 1, the one the page benchmark signs in to, has 12 providers at every size,
  whose sessions fill about 85 % of their hourly slots: its days look alike at any
  size, and a bigger database gives it a longer history (up to two years back and one
  ahead; 7 days at 1k rows, 3 years at 1M). Tenant 2 takes the rest (10 % at 1k, the
  bulk at 1M) with as many providers as it needs;
- patients (a tenant's participants / 20, at least 150);
- sessions: one in seven a group of 3-8 children, the rest individual; past ones
  completed (a few cancelled), future ones scheduled;
- participants whose appointment numbers are gap-free per tenant and booking year,
  with the counter rows at the last number;
- legacy appointments for the individual sessions of the older half of a tenant's
  past, back-filled (the participant carries the appointment's number and link);
- a signed or draft note for one in ten attended children, of the clinic's discipline;
- one patient (``chart_patient_id``) booked into up to 270 sessions (one per hour of
  tenant 1's days: 270 at 1M rows, 56 at 1k), for the chart;
- a ``+`` history row per row, which the audit-hash triggers hash as they are inserted,
  then a seal (``manage.py seal_audit``), as a database in service has.

Every slot is an hour apart and 45 minutes long, a provider's sessions fall in
distinct slots and a patient is in at most one session per slot, so the exclusion
constraints hold and ``manage.py check_integrity`` finds nothing.
"""

import datetime
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from databases import recreate_database

PROJECT_DIR = Path(__file__).resolve().parent.parent
TENANT_CODES = ("NORTH", "SOUTH")
SPECIALTIES = (
    # specialty, clinic name, provider role, note table
    ("psychology", "Psychology", "psychologist", "psychology_psychologysession"),
    ("ot", "Occupational Therapy", "occupational_therapist", "ot_otsession"),
    ("aba", "ABA", "aba_therapist", "aba_abasession"),
)
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Riyadh")  # config/settings/base.py's
PAST_DAYS = 730  # the most history a tenant gets
FUTURE_DAYS = 365
# Tenant 1, whose users the page benchmark signs in as, has this many providers at every
# size, so its days look the same (as many bookings today) whatever the size: a bigger
# database gives it a longer history, up to PAST_DAYS + FUTURE_DAYS, and gives tenant 2
# what doesn't fit, with as many providers as it needs.
MEASURED_PROVIDERS = 12
MEASURED_SHARE = 0.9
SLOTS_PER_DAY = 8  # 08:00 to 15:00, on the hour
FIRST_HOUR = 8
DURATION = 45
SLOT_FILL = 0.85
GROUP_EVERY = 7  # one session in seven is a group
GROUP_CAPACITY = 8
CHART_SESSIONS = 270
PASSWORD = "bench-password"  # noqa: S105 - a throwaway database


def _child_env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}


def _manage(url: str, *args: str) -> str:
    child = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(PROJECT_DIR / "manage.py"), *args],
        env=_child_env(url),
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return child.stdout


def _sizes(participants: int) -> list[dict[str, int]]:
    """Per tenant: sessions, providers (a multiple of the clinics), days of bookings, patients."""
    per_session = (GROUP_EVERY - 1 + 5.5) / GROUP_EVERY  # groups hold 3-8 children, 5.5 on average
    sessions = max(1, math.ceil(participants / per_session))
    longest = PAST_DAYS + FUTURE_DAYS
    per_provider_day = SLOTS_PER_DAY * SLOT_FILL
    measured = min(math.ceil(sessions * MEASURED_SHARE), int(MEASURED_PROVIDERS * per_provider_day * longest))
    rest = sessions - measured
    clinics = len(SPECIALTIES)
    other_providers = max(clinics, math.ceil(rest / (per_provider_day * longest) / clinics) * clinics)
    tenants = []
    for tenant_sessions, providers in ((measured, MEASURED_PROVIDERS), (rest, other_providers)):
        days = min(longest, max(1, math.ceil(tenant_sessions / (providers * per_provider_day))))
        tenants.append(
            {
                "sessions": tenant_sessions,
                "providers": providers,
                "days": days,
                "past_days": days * 2 // 3,  # two thirds of the days are past, today is ahead
                "patients": max(150, math.ceil(tenant_sessions * per_session / 20)),
            }
        )
    return tenants


def _reference_data(providers_per_tenant: list[int]) -> dict:
    """Run in the child (Django set up): the small tables, through the ORM, with their history."""
    from django.contrib.auth.hashers import make_password

    from core.models import Clinic, OpeningHours, Provider, Room, Tenant, User

    password = make_password(PASSWORD)
    result: dict = {"tenants": [], "providers": []}
    superuser = User.objects.create(
        username="bench-superuser", password=password, is_staff=True, is_superuser=True, role="admin"
    )
    result["superuser_id"] = superuser.id
    for tenant_index, code in enumerate(TENANT_CODES):
        per_lane = providers_per_tenant[tenant_index] // len(SPECIALTIES)
        tenant = Tenant.objects.create(code=code, name_en=f"{code.title()} Centre", name_ar="مركز")
        users = {
            role: User.objects.create(
                username=f"{code.lower()}-{role}", password=password, tenant=tenant, role=role, is_staff=True
            )
            for role in ("admin", "front_desk", "finance")
        }
        clinics = []
        for specialty, name, _role, _notes in SPECIALTIES:
            clinic = Clinic.objects.create(tenant=tenant, name_en=f"{name} Clinic", specialty=specialty)
            for weekday in range(7):
                OpeningHours.objects.create(
                    clinic=clinic, weekday=weekday, opens_at=datetime.time(7), closes_at=datetime.time(18)
                )
            clinics.append(clinic)
        result["tenants"].append(
            {
                "id": tenant.id,
                "code": code,
                "users": {role: user.id for role, user in users.items()},
                "clinics": [clinic.id for clinic in clinics],
            }
        )
        for number in range(per_lane):
            for lane, (specialty, _name, role, _notes) in enumerate(SPECIALTIES):
                user = User.objects.create(
                    username=f"{code.lower()}-{specialty}-{number}",
                    password=password,
                    tenant=tenant,
                    role=role,
                    first_name="Therapist",
                    last_name=f"{specialty.upper()} {number}",
                )
                provider = Provider.objects.create(user=user, specialty=specialty)
                provider.clinics.add(clinics[lane])
                room = Room.objects.create(clinic=clinics[lane], name=f"Room {number + 1}")
                result["providers"].append(
                    {
                        "tenant_index": tenant_index,
                        "provider_id": provider.id,
                        "user_id": user.id,
                        "room_id": room.id,
                        "clinic_id": clinics[lane].id,
                        "note_table": SPECIALTIES[lane][3],
                        "number": number,
                        "lane": lane,
                    }
                )
    return result


def _history(cursor, table: str, source: str, date_sql: str, user_sql: str) -> None:
    """One ``+`` history row per row of ``table`` (the audit-hash trigger hashes each one).

    ``source`` is the FROM clause, with the table aliased ``t``; ``date_sql`` and
    ``user_sql`` give each row's history date and user.
    """
    app, model = table.split("_", 1)
    history = f"{app}_historical{model}"
    cursor.execute(
        """
        SELECT column_name FROM information_schema.columns
        WHERE table_name = %s AND column_name IN (
            SELECT column_name FROM information_schema.columns WHERE table_name = %s
        ) AND is_generated = 'NEVER'
        ORDER BY ordinal_position
        """,
        (history, table),
    )
    columns = [row[0] for row in cursor.fetchall()]
    listed = ", ".join(columns)
    cursor.execute(
        f"""
        INSERT INTO {history} ({listed}, history_date, history_change_reason, history_type, history_user_id)
        SELECT {", ".join(f"t.{column}" for column in columns)}, {date_sql}, NULL, '+', {user_sql}
        FROM {source}
        ORDER BY t.id
        """  # noqa: S608 - table and column names from the catalogue
    )


def _fill(connection, reference: dict, sizes: list[dict[str, int]], today: datetime.date, step) -> dict:
    cursor = connection.cursor()
    # Skip the foreign-key and note-link triggers of a million inserts: the rows are consistent
    # by construction and check_integrity verifies them. Constraints still hold, and the
    # audit-hash triggers are ENABLE ALWAYS, so every history row is still hashed.
    cursor.execute("SET session_replication_role = replica")
    providers = reference["providers"]
    tenants = reference["tenants"]
    cursor.execute(
        """
        CREATE TEMP TABLE lane (
            lane int PRIMARY KEY, tenant_index int, tenant_id bigint, code text, provider_id bigint,
            provider_user_id bigint, room_id bigint, clinic_id bigint, front_desk_id bigint,
            note_table text
        )
        """
    )
    # A tenant's lanes are consecutive and interleave its clinics.
    ordered = sorted(providers, key=lambda p: (p["tenant_index"], p["number"], p["lane"]))
    with cursor.copy("COPY lane FROM STDIN") as copy:
        for lane, provider in enumerate(ordered):
            tenant = tenants[provider["tenant_index"]]
            copy.write_row(
                (
                    lane,
                    provider["tenant_index"],
                    tenant["id"],
                    tenant["code"],
                    provider["provider_id"],
                    provider["user_id"],
                    provider["room_id"],
                    provider["clinic_id"],
                    tenant["users"]["front_desk"],
                    provider["note_table"],
                )
            )
    # Per tenant: its sessions' numbers (first_n ...), lanes, days (slots) and patients' ids.
    cursor.execute(
        """
        CREATE TEMP TABLE tplan (
            tenant_index int PRIMARY KEY, tenant_id bigint, first_n int, sessions int, lane_offset int,
            lanes int, per_lane int, slots int, first_day date, patient_base bigint, patients int
        )
        """
    )
    first_n = lane_offset = 0
    patient_base = 1
    with cursor.copy("COPY tplan FROM STDIN") as copy:
        for tenant_index, size in enumerate(sizes):
            copy.write_row(
                (
                    tenant_index,
                    tenants[tenant_index]["id"],
                    first_n,
                    size["sessions"],
                    lane_offset,
                    size["providers"],
                    max(1, math.ceil(size["sessions"] / size["providers"])),
                    size["days"] * SLOTS_PER_DAY,
                    today - datetime.timedelta(days=size["past_days"]),
                    patient_base,
                    size["patients"],
                )
            )
            first_n += size["sessions"]
            lane_offset += size["providers"]
            patient_base += size["patients"]
    session_count = first_n
    # Tenant 1's first patient is the chart's child, kept out of the rotation below.
    chart_patient_id = 1
    params = {"sessions": session_count, "today": today, "tz": TIME_ZONE}

    step("patients")
    cursor.execute(
        """
        INSERT INTO core_patient (id, tenant_id, mrn, first_name_en, last_name_en, first_name_ar,
                                  last_name_ar, date_of_birth, sex, created_at)
        SELECT t.patient_base + n, t.tenant_id, 'MRN' || lpad((n + 1)::text, 7, '0'),
               (ARRAY['Omar','Layla','Yusuf','Sara','Adam','Noor','Ali','Huda'])[n %% 8 + 1],
               'Child ' || n, 'طفل', 'رقم ' || n,
               date '2012-01-01' + (n * 37 %% 3650), CASE WHEN n %% 2 = 0 THEN 'M' ELSE 'F' END,
               t.first_day::timestamp AT TIME ZONE %(tz)s - interval '400 days' + n * interval '13 minutes'
        FROM tplan t
        CROSS JOIN LATERAL generate_series(0, t.patients - 1) AS n
        """,
        params,
    )
    cursor.execute("SELECT setval(pg_get_serial_sequence('core_patient', 'id'), max(id)) FROM core_patient")
    # Each child's mother, the primary guardian, with a mobile phone the guardian search finds.
    cursor.execute(
        """
        INSERT INTO core_guardian (patient_id, name_en, name_ar, relation, phone, phone_as_entered,
                                   phone_needs_review, email, preferred_language, preferred_channel,
                                   consent_to_contact, may_receive_appointment_info, is_primary,
                                   created_at, updated_at)
        SELECT id, 'Guardian ' || id, '', 'mother', '+9665' || lpad((id * 7919 %% 100000000)::text, 8, '0'),
               '', false, '', 'ar', 'sms', true, true, true, created_at, created_at
        FROM core_patient ORDER BY id
        """
    )

    step("sessions")
    cursor.execute(
        """
        CREATE TEMP TABLE plan AS
        SELECT numbered.n + 1 AS id, numbered.n, lane.*,
               t.first_day + slot / 8 AS day,
               make_time(8 + slot %% 8, 0, 0) AS at,
               slot,
               numbered.n %% 7 = 3 AS is_group,
               CASE WHEN numbered.n %% 7 = 3 THEN 3 + (numbered.n / 7) %% 6 ELSE 1 END AS seats
        FROM tplan t
        CROSS JOIN LATERAL generate_series(0, t.sessions - 1) AS i
        CROSS JOIN LATERAL (SELECT t.first_n + i AS n) numbered
        -- A lane's sessions spread evenly over the tenant's slots, each lane a little shifted.
        CROSS JOIN LATERAL (
            SELECT ((i / t.lanes) * t.slots / t.per_lane + 3 * (i %% t.lanes)) %% t.slots AS slot
        ) position
        JOIN lane ON lane.lane = t.lane_offset + i %% t.lanes
        """,
        params,
    )
    cursor.execute(
        """
        INSERT INTO appointments_session (
            id, scheduled_date, scheduled_time, duration, service_type, session_type, max_capacity, status,
            group_notes, cancel_reason, started_at, completed_at, cancelled_at, created_at, updated_at,
            clinic_id, created_by_id, provider_id, room_id, auto_closed)
        SELECT id, day, at, 45,
               CASE WHEN is_group THEN 'Group Therapy' ELSE 'Individual Therapy' END,
               CASE WHEN is_group THEN 'group' ELSE 'individual' END,
               CASE WHEN is_group THEN 8 ELSE 1 END,
               status, '', CASE WHEN status = 'cancelled' THEN 'Therapist unwell' ELSE '' END,
               CASE WHEN status = 'completed' THEN starts END,
               CASE WHEN status = 'completed' THEN starts + interval '45 minutes' END,
               CASE WHEN status = 'cancelled' THEN starts - interval '1 day' END,
               booked, booked, clinic_id, front_desk_id, provider_id, room_id, false
        FROM (
            SELECT plan.*,
                   (day + at) AT TIME ZONE %(tz)s AS starts,
                   CASE WHEN day < %(today)s THEN
                            CASE WHEN n %% 20 = 7 THEN 'cancelled' ELSE 'completed' END
                        ELSE CASE WHEN n %% 33 = 7 THEN 'cancelled' ELSE 'scheduled' END
                   END AS status,
                   (least(day - 7 - n %% 30, %(today)s - 1 - n %% 20) + time '10:00')
                       AT TIME ZONE %(tz)s AS booked
            FROM plan
        ) s
        """,
        params,
    )
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence('appointments_session', 'id'), %(sessions)s)", params
    )

    step("participants")
    # Each seat gets the next patient of the tenant's rotation for its time slot: the rotation
    # starts at a point that moves with the slot, and seats in one slot take consecutive
    # patients, so a patient is never in two sessions at once.
    cursor.execute(
        """
        CREATE TEMP TABLE seat AS
        SELECT s.id AS session_id, seat, s.status AS session_status, s.created_at AS booked_at,
               s.scheduled_date, s.scheduled_time, plan.tenant_index, plan.code, plan.n,
               t.patient_base + 1
                 + ((plan.slot * 7919 + row_number() OVER slot_seats - 1) %% (t.patients - 1)) AS patient_id
        FROM appointments_session s
        JOIN plan ON plan.id = s.id
        JOIN tplan t ON t.tenant_index = plan.tenant_index
        CROSS JOIN LATERAL generate_series(0, plan.seats - 1) AS seat
        WINDOW slot_seats AS (PARTITION BY plan.tenant_index, plan.slot ORDER BY s.id, seat)
        """,
        params,
    )
    # The chart patient (tenant 1's patient 0) takes the first seat of about 270 sessions
    # in distinct slots, spread over the three years.
    cursor.execute(
        """
        WITH distinct_slots AS (
            SELECT DISTINCT ON (plan.slot) plan.id
            FROM plan WHERE plan.tenant_index = 0
            ORDER BY plan.slot, plan.id
        ), numbered AS (
            SELECT id, row_number() OVER (ORDER BY id) AS rn, count(*) OVER () AS total FROM distinct_slots
        )
        UPDATE seat SET patient_id = %(chart)s
        FROM numbered
        WHERE seat.session_id = numbered.id AND seat.seat = 0
          AND numbered.rn %% greatest(1, numbered.total / %(chart_sessions)s) = 0
          AND numbered.rn / greatest(1, numbered.total / %(chart_sessions)s) <= %(chart_sessions)s
        """,
        {**params, "chart": chart_patient_id, "chart_sessions": CHART_SESSIONS},
    )
    cursor.execute(
        """
        INSERT INTO appointments_sessionparticipant (
            id, appointment_number, status, finance_cleared, finance_cleared_at, consent_verified,
            consent_verified_at, booked_at, confirmed_at, arrived_at, attended_at, no_show_at, cancelled_at,
            cancel_reason, finance_cleared_by_id, legacy_appointment_id, patient_id, session_id, billable,
            billing_review_pending, billing_waived_at, billing_waived_by_id, billing_waived_reason,
            cancel_category, cancelled_by, is_late_cancellation, turned_away_at)
        SELECT id,
               'APT-' || code || '-' || year || '-'
                   || lpad(number::text, greatest(5, length(number::text)), '0'),
               status, status = 'attended', CASE WHEN status = 'attended' THEN starts - interval '1 hour' END,
               status = 'attended', CASE WHEN status = 'attended' THEN starts - interval '1 hour' END,
               booked_at,
               CASE WHEN status <> 'booked' THEN booked_at + interval '1 day' END,
               CASE WHEN status IN ('attended', 'arrived') THEN starts - interval '10 minutes' END,
               CASE WHEN status = 'attended' THEN starts + interval '45 minutes' END,
               CASE WHEN status = 'no_show' THEN starts + interval '15 minutes' END,
               CASE WHEN status = 'cancelled' THEN starts - interval '2 days' END,
               CASE WHEN status = 'cancelled' THEN 'Family travel' ELSE '' END,
               NULL,
               CASE WHEN legacy THEN id END,
               patient_id, session_id, status = 'no_show' OR late, false, NULL, NULL, '',
               CASE WHEN status <> 'cancelled' THEN ''
                    WHEN session_status = 'cancelled' THEN 'session_cancelled' ELSE 'illness' END,
               CASE WHEN status <> 'cancelled' THEN ''
                    WHEN session_status = 'cancelled' THEN 'clinic' ELSE 'family' END,
               late, NULL
        FROM (
            SELECT seat.*, row_number() OVER (ORDER BY session_id, seat) AS id,
                   row_number() OVER (PARTITION BY code, year ORDER BY booked_at, session_id, seat) AS number,
                   CASE session_status
                       WHEN 'cancelled' THEN 'cancelled'
                       WHEN 'completed' THEN
                           CASE WHEN (n + seat) %% 14 = 5 THEN 'no_show'
                                WHEN (n + seat) %% 14 = 9 THEN 'cancelled'
                                ELSE 'attended' END
                       ELSE CASE WHEN (n + seat) %% 20 = 11 THEN 'cancelled'
                                 WHEN (n + seat) %% 2 = 0 THEN 'confirmed'
                                 ELSE 'booked' END
                   END AS status,
                   -- Half the families' cancellations of held sessions came too late: billable.
                   session_status = 'completed' AND (n + seat) %% 28 = 9 AS late,
                   -- The older half of the tenant's past was booked as legacy appointments (one
                   -- child each) and back-filled.
                   session_status = 'completed' AND n %% 7 <> 3
                       AND scheduled_date < first_day + (%(today)s - first_day) / 2 AS legacy
            FROM (
                SELECT seat.*, t.first_day, (scheduled_date + scheduled_time) AT TIME ZONE %(tz)s AS starts,
                       extract(year FROM booked_at AT TIME ZONE %(tz)s)::int AS year
                FROM seat
                JOIN tplan t ON t.tenant_index = seat.tenant_index
            ) seat
        ) p
        """,
        params,
    )
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence('appointments_sessionparticipant', 'id'), max(id)) "
        "FROM appointments_sessionparticipant"
    )
    cursor.execute(
        """
        INSERT INTO appointments_appointmentnumbercounter (tenant_id, year, last_number)
        SELECT t.id, substring(p.appointment_number FROM '-([0-9]{4})-')::int,
               max(substring(p.appointment_number FROM '([0-9]+)$')::int)
        FROM appointments_sessionparticipant p
        JOIN core_tenant t ON p.appointment_number LIKE 'APT-' || t.code || '-%%'
        GROUP BY 1, 2
        """
    )

    step("legacy appointments")
    cursor.execute(
        """
        INSERT INTO appointments_appointment (
            id, scheduled_date, scheduled_time, duration, service_type, appointment_number, status, notes,
            finance_cleared, finance_cleared_at, consent_verified, consent_verified_at, confirmed_at,
            arrived_at, started_at, completed_at, cancelled_at, no_show_at, cancel_reason, reschedule_count,
            created_at, updated_at, clinic_id, created_by_id, finance_cleared_by_id, patient_id, provider_id,
            room_id)
        SELECT p.id, s.scheduled_date, s.scheduled_time, s.duration, s.service_type, p.appointment_number,
               CASE p.status WHEN 'attended' THEN 'completed' ELSE p.status END, '',
               p.finance_cleared, p.finance_cleared_at, p.consent_verified, p.consent_verified_at,
               p.confirmed_at, p.arrived_at, s.started_at, p.attended_at, p.cancelled_at, p.no_show_at,
               p.cancel_reason, 0, p.booked_at, p.booked_at, s.clinic_id, s.created_by_id, NULL,
               p.patient_id, s.provider_id, s.room_id
        FROM appointments_sessionparticipant p
        JOIN appointments_session s ON s.id = p.session_id
        WHERE p.legacy_appointment_id IS NOT NULL
        """
    )
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence('appointments_appointment', 'id'), coalesce(max(id), 1)) "
        "FROM appointments_appointment"
    )
    connection.commit()

    step("notes")
    for specialty, _name, _role, table in SPECIALTIES:
        content = {
            "psychology": (
                "presenting_issues, interventions_used, client_response, progress, homework, "
                "risk_assessment, safety_plan, plan_next_session",
                "'Separation anxiety', 'Play therapy', 'Engaged', 'Improving', 'Practise breathing', 'none', "
                "'', 'Continue'",
            ),
            "ot": (
                "activities, attention_level, cooperation_level, sensory_observations, recommendations, "
                "home_programme",
                "'Bead threading', 'good', 'fair', 'Seeks movement', 'Weighted vest', "
                "'Daily fine-motor play'",
            ),
            "aba": ("session_summary, caregiver_training", "'Manding practice', 'Prompt fading with parent'"),
        }[specialty]
        cursor.execute(
            f"""
            INSERT INTO {table} (session_date, status, signed_at, created_at, updated_at, {content[0]},
                                 appointment_id, created_by_id, patient_id, provider_id, signed_by_id,
                                 session_id, session_participant_id, version)
            SELECT s.scheduled_date, signed.status, signed.at, ends, coalesce(signed.at, ends), {content[1]},
                   NULL, lane.provider_user_id, p.patient_id, s.provider_id,
                   CASE WHEN signed.status = 'signed' THEN lane.provider_user_id END, s.id, p.id, 1
            FROM appointments_sessionparticipant p
            JOIN appointments_session s ON s.id = p.session_id
            JOIN lane ON lane.provider_id = s.provider_id
            CROSS JOIN LATERAL (SELECT s.completed_at AS ends) e
            CROSS JOIN LATERAL (
                SELECT CASE WHEN s.scheduled_date < %(today)s - 7 THEN 'signed' ELSE 'draft' END AS status,
                       CASE WHEN s.scheduled_date < %(today)s - 7 THEN ends + interval '2 hours' END AS at
            ) signed
            WHERE p.status = 'attended' AND p.id %% 10 = 3 AND lane.note_table = %(table)s
            ORDER BY p.id
            """,  # noqa: S608 - constants
            {**params, "table": table},
        )
    connection.commit()

    step("history")
    _history(cursor, "core_patient", "core_patient t", "t.created_at", "NULL")
    _history(cursor, "core_guardian", "core_guardian t", "t.created_at", "NULL")
    _history(
        cursor,
        "appointments_session",
        "appointments_session t",
        "t.created_at",
        "t.created_by_id",
    )
    _history(
        cursor,
        "appointments_sessionparticipant",
        "appointments_sessionparticipant t JOIN appointments_session s ON s.id = t.session_id",
        "t.booked_at",
        "s.created_by_id",
    )
    _history(
        cursor, "appointments_appointment", "appointments_appointment t", "t.created_at", "t.created_by_id"
    )
    for _specialty, _name, _role, table in SPECIALTIES:
        _history(cursor, table, f"{table} t", "coalesce(t.signed_at, t.created_at)", "t.created_by_id")
    connection.commit()

    step("analyze")
    connection.autocommit = True
    cursor.execute("VACUUM ANALYZE")
    cursor.execute("SELECT count(*) FROM appointments_sessionparticipant")
    participant_count = cursor.fetchone()[0]
    cursor.execute("SELECT count(*) FROM appointments_session")
    session_count = cursor.fetchone()[0]
    cursor.execute(
        """
        SELECT s.id FROM appointments_session s JOIN plan ON plan.id = s.id
        WHERE plan.tenant_index = 0 AND s.session_type = 'group' AND s.scheduled_date >= %(today)s
          AND s.status = 'scheduled'
        ORDER BY s.scheduled_date, s.scheduled_time, s.id LIMIT 1
        """,
        params,
    )
    group_session = cursor.fetchone()
    cursor.execute(
        """
        SELECT s.id, s.provider_id, lane.provider_user_id, lane.note_table FROM appointments_session s
        JOIN lane ON lane.provider_id = s.provider_id
        WHERE lane.tenant_index = 0 AND s.scheduled_date = %(today)s
        ORDER BY s.scheduled_time, s.id LIMIT 1
        """,
        params,
    )
    today_session = cursor.fetchone()
    cursor.execute(
        "SELECT count(*) FROM appointments_sessionparticipant WHERE patient_id = %s",
        (chart_patient_id,),
    )
    chart_count = cursor.fetchone()[0]
    tenant = tenants[0]
    return {
        "participants": participant_count,
        "sessions": session_count,
        "providers": len(providers),
        "patients": patient_base - 1,
        "tenants": sizes,
        "today": today.isoformat(),
        "tenant_id": tenant["id"],
        "superuser_id": reference["superuser_id"],
        "users": tenant["users"],
        "clinic_ids": tenant["clinics"],
        "chart_patient_id": chart_patient_id,
        "chart_participants": chart_count,
        "patient_id": chart_patient_id + 1,
        "group_session_id": group_session[0] if group_session else None,
        "session_id": today_session[0] if today_session else None,
        "provider_id": today_session[1] if today_session else None,
        "clinician_user_id": today_session[2] if today_session else None,
        "clinician_note_table": today_session[3] if today_session else None,
    }


def build(url: str, participants: int, *, progress: bool = True) -> dict:
    """Recreate and fill the database at ``url`` with about ``participants`` participant rows.

    Returns the counts and the ids pages need: ``tenant_id``, ``superuser_id``, ``users``
    (role -> user id for tenant 1's admin, front desk and finance), ``clinic_ids``,
    ``session_id`` / ``provider_id`` / ``clinician_user_id`` (a session today and its
    clinician), ``group_session_id`` (an upcoming group), ``chart_patient_id`` (about
    270 sessions), ``patient_id`` (an ordinary patient) and ``today``.
    """
    started = time.monotonic()

    def step(name: str) -> None:
        if progress:
            print(f"  [{time.monotonic() - started:6.1f} s] {name}", file=sys.stderr, flush=True)

    sizes = _sizes(participants)
    step(f"recreate and migrate ({sizes})")
    recreate_database(url)
    _manage(url, "migrate", "--verbosity", "0")
    step("reference data")
    child = subprocess.run(  # noqa: S603 - our own interpreter and this file
        [sys.executable, __file__, "--reference-data", ",".join(str(size["providers"]) for size in sizes)],
        env=_child_env(url),
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    reference = json.loads(child.stdout.strip().splitlines()[-1])
    today = datetime.datetime.now(ZoneInfo(TIME_ZONE)).date()  # the clinic's today, as the pages read it
    with psycopg.connect(url) as connection:
        summary = _fill(connection, reference, sizes, today, step)
    step("seal the audit chain")
    _manage(url, "seal_audit")
    summary["build_seconds"] = round(time.monotonic() - started, 1)
    step(f"done: {summary['participants']} participants, {summary['sessions']} sessions")
    return summary


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--reference-data":
        sys.path.insert(0, str(PROJECT_DIR))
        import django

        django.setup()
        print(json.dumps(_reference_data([int(count) for count in sys.argv[2].split(",")])))
    else:
        from databases import database_url

        size = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
        name = sys.argv[2] if len(sys.argv) > 2 else f"clinic_bench_{size}"
        print(json.dumps(build(database_url(name), size), indent=2))
