"""Time every staff page and the big admin changelists at about 1k and 1M participant rows. Not a test.

    .venv/bin/python benchmarks/pages_benchmark.py            # builds both databases (1M: ~9 min)
    .venv/bin/python benchmarks/pages_benchmark.py --reuse    # reuses them if they exist

Builds (``big_database.build``) or reuses two throwaway databases, ``clinic_bench_1k``
and ``clinic_bench_1m`` (tenant 1, the one measured, has the same providers and as many
bookings a day in both; the big one has three years of its history and a second, busy
tenant). Then, in this process (``config.settings.test``, Django's test ``Client``
signed in with ``force_login`` as the page's role), it requests each page ``--rounds``
times per database, the two databases taking turns (each timed request after an
untimed one), and prints per page: the median time at each size, the ratio large/small,
the query count, the queries' own time and the page's size at each size, and the
slowest SELECT at the large size. ``--explain`` also prints that query's
``EXPLAIN (ANALYZE, BUFFERS)`` for the pages at or over ``--explain-over`` (default 1.3)
or whose query count differs.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from big_database import build
from databases import database_url

PROJECT_DIR = Path(__file__).resolve().parent.parent
SIZES = {"1k": 1000, "1M": 1_000_000}


@dataclass
class Page:
    label: str
    role: str  # admin, front_desk, finance, clinician or note_author
    url: str


@dataclass
class Timing:
    median_ms: float
    sql_ms: float  # the queries' own time, summed over one request
    kilobytes: float
    queries: int
    slowest_ms: float
    slowest_sql: str  # the slowest SELECT
    status: int


@dataclass
class Result:
    page: Page
    timings: dict[str, Timing] = field(default_factory=dict)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"  # DEBUG off, as served
    sys.path.insert(0, str(PROJECT_DIR))
    import django
    from django.conf import settings

    django.setup()
    # The test client's host; not setup_test_environment(), whose template instrumentation
    # would copy every template context and slow the big pages down.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def use_database(name: str) -> None:
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def database_exists(name: str) -> bool:
    with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
        return (
            connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        )


def stored_ids(name: str) -> dict:
    """The ids ``build`` returns, read back from a database built earlier."""
    from django.db import connection

    use_database(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM core_tenant ORDER BY id LIMIT 1")
        tenant_id = cursor.fetchone()[0]
        cursor.execute(
            "SELECT role, id FROM core_user "
            "WHERE tenant_id = %s AND role IN ('admin', 'front_desk', 'finance')",
            (tenant_id,),
        )
        users = dict(cursor.fetchall())
        cursor.execute(
            "SELECT patient_id FROM appointments_sessionparticipant GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        )
        chart_patient_id = cursor.fetchone()[0]
    return {"tenant_id": tenant_id, "users": users, "chart_patient_id": chart_patient_id}


def pages_for(ids: dict) -> list[Page]:
    """Every staff page (GET), with rows of tenant 1; the same URLs at both sizes except for ids."""
    from django.urls import reverse

    from appointments.models import Appointment, Session, SessionParticipant, SessionSeries
    from core import clock
    from core.models import Patient, Provider, ProviderLeave
    from psychology.models import PsychologySession

    today = clock.today()
    tenant_id = ids["tenant_id"]
    sessions = Session.objects.filter(clinic__tenant_id=tenant_id)
    today_session = sessions.filter(scheduled_date=today).order_by("scheduled_time", "pk").first()
    group = sessions.filter(session_type="group", status="scheduled", scheduled_date__gt=today).order_by(
        "scheduled_date", "scheduled_time", "pk"
    )[0]
    provider = Provider.objects.get(pk=today_session.provider_id)
    participant = SessionParticipant.objects.filter(session=today_session).order_by("pk")[0]
    appointment = Appointment.objects.filter(clinic__tenant_id=tenant_id).order_by("-scheduled_date", "-pk")[
        0
    ]
    patient = (
        Patient.objects.filter(tenant_id=tenant_id).exclude(pk=ids["chart_patient_id"]).order_by("pk")[1]
    )
    # A draft: tenant 1 has notes old enough to be signed only in the big database.
    note = PsychologySession.objects.filter(patient__tenant_id=tenant_id, status="draft").order_by("-pk")[0]
    series = SessionSeries.objects.filter(clinic__tenant_id=tenant_id).order_by("pk").first()
    leave = ProviderLeave.objects.filter(provider__clinics__tenant_id=tenant_id).order_by("pk").first()
    monday = today - datetime.timedelta(days=today.weekday())
    week = f"provider={provider.pk}&start={monday}&end={monday + datetime.timedelta(days=7)}"

    def url(name: str, *args, query: str = "") -> str:
        return reverse(name, args=args) + (f"?{query}" if query else "")

    pages = [
        Page("home (admin)", "admin", url("home")),
        Page("home (front desk)", "front_desk", url("home")),
        Page("home (finance)", "finance", url("home")),
        Page("home (clinician)", "clinician", url("home")),
        Page("session list (from today)", "front_desk", url("appointments:session_list")),
        Page(
            "session list (dates cleared)", "front_desk", url("appointments:session_list", query="date_from=")
        ),
        Page("available group sessions", "front_desk", url("appointments:session_available")),
        Page("session detail (today)", "front_desk", url("appointments:session_detail", today_session.pk)),
        Page("session detail (group)", "front_desk", url("appointments:session_detail", group.pk)),
        Page("new session form", "front_desk", url("appointments:session_create")),
        Page("book individual form", "front_desk", url("appointments:session_book_individual")),
        Page("add patient to group", "front_desk", url("appointments:session_add_patient", group.pk)),
        Page("reschedule session", "front_desk", url("appointments:session_reschedule", group.pk)),
        Page("waiting list add", "front_desk", url("appointments:session_waitlist_add", group.pk)),
        Page("day view by provider", "front_desk", url("appointments:schedule_by_provider")),
        Page("day view by room", "front_desk", url("appointments:schedule_by_room")),
        Page(
            "week calendar", "front_desk", url("appointments:calendar_week", query=f"provider={provider.pk}")
        ),
        Page("week calendar feed", "front_desk", url("appointments:calendar_events", query=week)),
        Page("series list", "front_desk", url("appointments:series_list")),
        Page("leave list", "front_desk", url("appointments:leave_list")),
        Page("leave form", "front_desk", url("appointments:leave_create")),
        Page("free slots form", "front_desk", url("appointments:free_slots")),
        Page("appointment list (from today)", "front_desk", url("appointments:appointment_list")),
        Page(
            "appointment list (dates cleared)",
            "front_desk",
            url("appointments:appointment_list", query="date_from="),
        ),
        Page("appointment detail", "front_desk", url("appointments:appointment_detail", appointment.pk)),
        Page("book appointment form", "front_desk", url("appointments:appointment_book")),
        Page("clearance queue", "finance", url("appointments:clearance_queue")),
        Page("patient search (empty)", "front_desk", url("core:patient_search")),
        Page("patient search (name)", "front_desk", url("core:patient_search", query="q=omar")),
        Page(
            "patient chart (270 sessions)", "front_desk", url("core:patient_chart", ids["chart_patient_id"])
        ),
        Page("patient chart (ordinary)", "front_desk", url("core:patient_chart", patient.pk)),
        Page("new patient form", "front_desk", url("core:patient_create")),
        Page("add consent form", "front_desk", url("core:patient_add_consent", patient.pk)),
        Page("note", "note_author", url("notes:note_detail", "psychology", note.pk)),
        # The reports, each for the current month (their default), as whoever opens them.
        *(
            Page(f"report: {key}", "admin", url("reports:report", key))
            for key in ("utilisation", "attendance", "throughput", "finance", "notes_queue")
        ),
        Page("report: attendance CSV export", "front_desk", url("reports:export", "attendance", "csv")),
        Page("report: finance (finance)", "finance", url("reports:report", "finance")),
        Page("report: notes queue (clinician)", "clinician", url("reports:report", "notes_queue")),
        Page("admin: sessions", "admin", "/admin/appointments/session/"),
        Page("admin: participants", "admin", "/admin/appointments/sessionparticipant/"),
        Page("admin: appointments", "admin", "/admin/appointments/appointment/"),
        Page("admin: patients", "admin", "/admin/core/patient/"),
        Page("admin: session", "admin", f"/admin/appointments/session/{group.pk}/change/"),
        Page(
            "admin: participant", "admin", f"/admin/appointments/sessionparticipant/{participant.pk}/change/"
        ),
        Page("admin: appointment", "admin", f"/admin/appointments/appointment/{appointment.pk}/change/"),
        Page("admin: patient", "admin", f"/admin/core/patient/{patient.pk}/change/"),
    ]
    if series is not None:
        pages.append(Page("series detail", "front_desk", url("appointments:series_detail", series.pk)))
    if leave is not None:
        pages.append(Page("leave detail", "front_desk", url("appointments:leave_detail", leave.pk)))
    # Whose page: a clinician (today's session's provider), the note's author.
    ids["role_users"] = {
        **ids["users"],
        "clinician": provider.user_id,
        "note_author": Provider.objects.get(pk=note.provider_id).user_id,
    }
    return pages


def sign_in(ids: dict):
    """A test client per role of ``ids["role_users"]``, signed in on the current database."""
    from django.test import Client

    from core.models import User

    clients = {}
    for role, user_id in ids["role_users"].items():
        clients[role] = Client()
        clients[role].force_login(User.objects.get(pk=user_id))
    return clients


def timed_get(client, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(url)
    return (time.perf_counter() - started) * 1000, response.status_code


def measure(names: dict[str, str], ids: dict[str, dict], rounds: int, only: str | None) -> dict[str, Result]:
    """Each page at each size, the sizes taking turns round by round so both see the same load
    from other jobs; after each switch of database an untimed request opens the connection."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pages: dict[str, dict[str, Page]] = {}
    clients: dict[str, dict] = {}
    for size, name in names.items():
        use_database(name)
        for page in pages_for(ids[size]):
            if not only or only in page.label:
                pages.setdefault(page.label, {})[size] = page
        clients[size] = sign_in(ids[size])
    results: dict[str, Result] = {}
    for label, by_size in pages.items():
        if len(by_size) < len(names):
            continue
        times: dict[str, list[float]] = {size: [] for size in names}
        for _round in range(rounds):
            for size, name in names.items():
                use_database(name)
                client, url = clients[size][by_size[size].role], by_size[size].url
                client.get(url)  # warm-up: the connection, caches, the template loader
                times[size].append(timed_get(client, url)[0])
        result = results.setdefault(label, Result(by_size["1k"]))
        for size, name in names.items():
            use_database(name)
            client, url = clients[size][by_size[size].role], by_size[size].url
            client.get(url)  # the connection's set-up queries aren't the page's
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            queries = captured.captured_queries
            selects = [
                query
                for query in queries
                if query["sql"].lstrip().upper().startswith(("SELECT", "WITH", "("))
            ]
            slowest = max(selects, key=lambda query: float(query["time"]), default=None)
            result.timings[size] = Timing(
                median_ms=statistics.median(times[size]),
                sql_ms=sum(float(query["time"]) for query in queries) * 1000,
                kilobytes=len(response.content) / 1024,
                queries=len(queries),
                slowest_ms=float(slowest["time"]) * 1000 if slowest else 0.0,
                slowest_sql=slowest["sql"] if slowest else "",
                status=response.status_code,
            )
    return results


def explain(name: str, sql: str) -> str:
    from django.db import connection, transaction

    use_database(name)
    if not sql:
        return "(no SELECT)"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reuse", action="store_true", help="Reuse the databases if they exist.")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="Only the pages whose label contains this text.")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the slowest query of slow pages.")
    parser.add_argument("--explain-over", type=float, default=1.3)
    options = parser.parse_args()

    names = {size: f"clinic_bench_{size.lower()}" for size in SIZES}
    ids: dict[str, dict] = {}
    for size, rows in SIZES.items():
        if options.reuse and database_exists(names[size]):
            continue
        print(f"Building {names[size]} ({rows:,} participants)...", file=sys.stderr)
        ids[size] = build(database_url(names[size]), rows)
    setup_django(database_url(names["1k"]))
    for size in SIZES:
        if size not in ids:
            ids[size] = stored_ids(names[size])
    results = measure(names, ids, options.rounds, options.only)

    print(
        f"{'page':34} {'1k ms':>7} {'1M ms':>7} {'ratio':>5} {'queries':>7} {'SQL ms 1k/1M':>13} "
        f"{'KB 1k/1M':>11}  slowest SELECT at 1M"
    )
    slow = []
    for label, result in results.items():
        small, large = result.timings["1k"], result.timings["1M"]
        ratio = large.median_ms / small.median_ms
        statuses = "" if small.status == large.status == 200 else f"  HTTP {small.status}/{large.status}"
        print(
            f"{label:34} {small.median_ms:7.1f} {large.median_ms:7.1f} {ratio:5.2f} "
            f"{small.queries:>3}/{large.queries:<3} {small.sql_ms:6.0f}/{large.sql_ms:<6.0f} "
            f"{small.kilobytes:5.0f}/{large.kilobytes:<5.0f}  {large.slowest_ms:.0f} ms{statuses}"
        )
        if ratio >= options.explain_over or small.queries != large.queries:
            slow.append((label, large))
    if options.explain:
        for label, timing in slow:
            print(f"\n== {label}: slowest SELECT at 1M ({timing.slowest_ms:.0f} ms)\n{timing.slowest_sql}\n")
            print(explain(names["1M"], timing.slowest_sql))


if __name__ == "__main__":
    main()
