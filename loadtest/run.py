"""`make loadtest`: locust against 4 gunicorn workers on the loopback, then the integrity checks.

Reads make's environment: DATABASE_OWNER_URL (set-up) and DATABASE_URL (the app role,
which serves), the make serve settings (config.settings.serve) and their keys. Steps:

1. drops and creates the throwaway database (its name must end in "loadtest"), migrates,
   creates the cache table, seeds the demo and adds today's groups (loadtest/prepare.py);
2. collects the static files and starts gunicorn (config/gunicorn.py) with 4 workers on
   127.0.0.1 and a free port, as the app role, and waits for /healthz;
3. runs locust headless (loadtest/locustfile.py) for --duration with --users users;
4. stops gunicorn, runs `manage.py check_integrity` and counts overbooked sessions,
   duplicate numbers and numbers missing below each counter.

Prints requests/s, p50, p95, p99 and errors per request and in all, and exits 1 when a
request failed, an integrity check failed, or any of the three counts isn't 0. The
files (locust's CSVs, the outcomes of the writes, gunicorn's log) stay in
artifacts/loadtest/.
"""

# ruff: noqa: T201, S603 - a command-line tool: it prints its report and runs our own commands
import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ARTIFACTS = PROJECT / "artifacts" / "loadtest"
WORKERS = 4

# What the pages' rules must still hold after the run, counted apart from check_integrity's
# report so the summary can say "0" for each.
OVERBOOKED_SESSIONS = """
SELECT count(*) FROM appointments_session s
WHERE s.max_capacity < (
    SELECT count(*) FROM appointments_sessionparticipant p
    WHERE p.session_id = s.id AND p.status NOT IN ('cancelled', 'turned_away')
)
"""
# Numbers held twice (a back-filled participant shares its own appointment's, once), and
# numbers never held at or below each tenant's counter for a year: gap-free means none.
NUMBER_GAPS_AND_DUPLICATES = """
WITH numbers AS (
    SELECT appointment_number AS number FROM appointments_appointment
    UNION ALL
    SELECT p.appointment_number FROM appointments_sessionparticipant p
    LEFT JOIN appointments_appointment own ON own.id = p.legacy_appointment_id
    WHERE own.appointment_number IS DISTINCT FROM p.appointment_number
), per_year AS (
    SELECT split_part(number, '-', 2) AS code, split_part(number, '-', 3)::int AS year,
           count(*) AS held, count(DISTINCT number) AS distinct_numbers
    FROM numbers GROUP BY 1, 2
)
SELECT coalesce(sum(per_year.held - per_year.distinct_numbers), 0),
       coalesce(sum(counter.last_number - per_year.distinct_numbers), 0)
FROM per_year
JOIN core_tenant tenant ON tenant.code = per_year.code
JOIN appointments_appointmentnumbercounter counter
  ON counter.tenant_id = tenant.id AND counter.year = per_year.year
"""


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def recreate_database(owner_url: str) -> None:
    name = urlsplit(owner_url).path.lstrip("/")
    if not name.endswith("loadtest"):
        raise SystemExit(f"Refusing to drop {name!r}: the load test's database name ends in 'loadtest'.")
    with psycopg.connect(with_database(owner_url, "postgres"), autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(*arguments: str, owner: bool = False) -> None:
    env = {**os.environ, "DATABASE_ROLE": "owner"} if owner else os.environ
    subprocess.run([sys.executable, "manage.py", *arguments], cwd=PROJECT, env=env, check=True)


def prepare(plan: Path) -> None:
    recreate_database(os.environ["DATABASE_OWNER_URL"])
    manage("migrate", "--no-input", "--verbosity", "0", owner=True)
    manage("createcachetable", owner=True)
    manage("seed_demo", "--force", "--verbosity", "0", owner=True)
    owner_env = {**os.environ, "DATABASE_ROLE": "owner"}
    subprocess.run([sys.executable, "loadtest/prepare.py", str(plan)], cwd=PROJECT, env=owner_env, check=True)
    manage("collectstatic", "--no-input", "--verbosity", "0")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "GUNICORN_ACCESS_LOG": str(log.with_suffix(".access.log"))}
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--config",
            "config/gunicorn.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "config.wsgi",
        ],
        cwd=PROJECT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    stop(server)
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s; see {log}")


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def run_locust(port: int, duration: str, users: int, plan: Path) -> None:
    env = {
        **os.environ,
        "LOADTEST_PLAN": str(plan),
        "LOADTEST_OUTCOMES": str(ARTIFACTS / "outcomes.json"),
    }
    # Its exit code says whether a request failed; the report below reads that from the CSV.
    subprocess.run(
        [
            str(BIN / "locust"),
            "--locustfile",
            "loadtest/locustfile.py",
            "--headless",
            "--host",
            f"http://127.0.0.1:{port}",
            "--users",
            str(users),
            "--spawn-rate",
            str(max(1, users // 10)),
            "--run-time",
            duration,
            "--stop-timeout",
            "10",
            "--csv",
            str(ARTIFACTS / "locust"),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        cwd=PROJECT,
        env=env,
        check=False,
    )


def report() -> int:
    """Print the figures of locust's CSV; return the number of failed requests."""
    with (ARTIFACTS / "locust_stats.csv").open() as file:
        rows = list(csv.DictReader(file))
    print(f"\n{'request':<28} {'count':>7} {'fail':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)")
    for row in rows:
        print(
            f"{row['Name'][:28]:<28} {row['Request Count']:>7} {row['Failure Count']:>5} "
            f"{float(row['Requests/s']):>7.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
        )
    total = next(row for row in rows if row["Name"] == "Aggregated")
    outcomes = json.loads((ARTIFACTS / "outcomes.json").read_text())
    print("Writes: " + ", ".join(f"{name} {count}" for name, count in outcomes.items()))
    print(
        f"\nIn all: {total['Request Count']} requests, {float(total['Requests/s']):.1f} requests/s, "
        f"p50 {total['50%']} ms, p95 {total['95%']} ms, p99 {total['99%']} ms, "
        f"{total['Failure Count']} errors."
    )
    return int(total["Failure Count"])


def integrity_counts() -> tuple[int, int, int]:
    with psycopg.connect(os.environ["DATABASE_OWNER_URL"]) as connection:
        (overbooked,) = connection.execute(OVERBOOKED_SESSIONS).fetchone() or (0,)
        duplicates, missing = connection.execute(NUMBER_GAPS_AND_DUPLICATES).fetchone() or (0, 0)
    return int(overbooked), int(duplicates), int(missing)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", default="5m", help="locust's --run-time (default 5m)")
    parser.add_argument("--users", type=int, default=48, help="simulated staff at once (default 48)")
    options = parser.parse_args()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    plan = ARTIFACTS / "plan.json"

    prepare(plan)
    port = free_port()
    server = start_gunicorn(port, ARTIFACTS / "gunicorn.log")
    print(f"gunicorn: {WORKERS} workers on 127.0.0.1:{port}; ", end="")
    print(f"locust: {options.users} users for {options.duration}")
    try:
        run_locust(port, options.duration, options.users, plan)
    finally:
        stop(server)
    failed_requests = report()

    integrity = subprocess.run([sys.executable, "manage.py", "check_integrity"], cwd=PROJECT, check=False)
    overbooked, duplicates, missing = integrity_counts()
    print(
        f"check_integrity: {'0 errors' if integrity.returncode == 0 else 'FAILED'}; "
        f"{overbooked} overbooked sessions, {duplicates} duplicate numbers, {missing} missing numbers."
    )
    if failed_requests or integrity.returncode or overbooked or duplicates or missing:
        raise SystemExit("Load test failed: see above.")


if __name__ == "__main__":
    main()
