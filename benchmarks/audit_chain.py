"""Benchmark the audit chain: seal and verify 1,000,000 history rows. Not a test.

    .venv/bin/python benchmarks/audit_chain.py --rows 1000000

Creates its own throwaway database (``--database``, default ``clinic_audit_benchmark``)
on the server of $DATABASE_URL (or 127.0.0.1:5432), migrates it (which installs the row
hash triggers), and bulk-inserts ``--rows`` patient history rows with INSERT ... SELECT
generate_series, each hashed by its trigger (the setup, timed apart). Then, as an
operator would, each in a child process: ``seal_audit``; ``verify_audit_chain`` (the
first run, with no checkpoint yet, checks every seal); the incremental run again with
nothing new; ``--extra`` more rows, sealed, and the incremental run over them; and
``verify_audit_chain --full``. Drops the database unless ``--keep`` is given.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from databases import database_url, throwaway_database

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHUNK = 100_000
PATIENTS = 5000


def command_environment(url: str) -> dict[str, str]:
    # DEBUG off (no query log in memory); one role: the benchmark's URL is the owner's.
    environment = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    environment.pop("DATABASE_OWNER_URL", None)
    environment.pop("DATABASE_ROLE", None)
    return environment


def run_command(url: str, *args: str) -> tuple[float, str, int]:
    """Run a manage.py command in a child process: (seconds, last stdout line, exit status)."""
    started = time.monotonic()
    child = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(PROJECT_DIR / "manage.py"), *args],
        env=command_environment(url),
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=False,
    )
    lines = child.stdout.strip().splitlines() or [""]
    return time.monotonic() - started, lines[-1], child.returncode


def insert_history(url: str, first: int, count: int) -> float:
    """``count`` history rows of 5,000 patients, written through the hash trigger; seconds taken."""
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as connection:
        (tenant_id,) = connection.execute("SELECT id FROM core_tenant").fetchone()
        for start in range(first, first + count, CHUNK):
            stop = min(start + CHUNK, first + count)
            connection.execute(
                """
INSERT INTO core_historicalpatient (id, mrn, first_name_en, last_name_en, first_name_ar, last_name_ar,
    date_of_birth, sex, guardian_name, phone, created_at, history_date, history_change_reason,
    history_type, history_user_id, tenant_id)
SELECT n %% %(patients)s + 1, 'B' || lpad((n %% %(patients)s + 1)::text, 7, '0'), 'Child', n::text,
       'طفل', n::text, date '2018-01-01' + (n %% 2000), 'F', 'Guardian ' || n, '+966500000000',
       timestamptz '2024-01-01', timestamptz '2024-01-01' + n * interval '1 second', NULL,
       CASE WHEN n %% %(patients)s = 0 THEN '+' ELSE '~' END, NULL, %(tenant)s
FROM generate_series(%(start)s, %(stop)s - 1) AS n
""",
                {"patients": PATIENTS, "tenant": tenant_id, "start": start, "stop": stop},
            )
        connection.execute("ANALYZE core_historicalpatient")
    return time.monotonic() - started


def migrate(url: str) -> None:
    subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(PROJECT_DIR / "manage.py"), "migrate", "--no-input", "-v", "0"],
        env=command_environment(url),
        cwd=PROJECT_DIR,
        check=True,
    )
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO core_tenant (code, name_en, name_ar) VALUES ('BENCH', 'Benchmark', '')"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--extra", type=int, default=10_000, help="Rows added after the first verification.")
    parser.add_argument("--database", default="clinic_audit_benchmark")
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database afterwards.")
    options = parser.parse_args()

    url = database_url(options.database)
    with throwaway_database(url, keep=options.keep):
        migrate(url)
        seconds = insert_history(url, 1, options.rows)
        print(
            f"setup: {options.rows:,} history rows inserted through the hash trigger in {seconds:.1f} s "
            f"({options.rows / seconds:,.0f} rows/s)"
        )
        for label, args in (
            ("seal_audit", ("seal_audit",)),
            ("verify_audit_chain (first run: every seal)", ("verify_audit_chain",)),
            ("verify_audit_chain (incremental, nothing new)", ("verify_audit_chain",)),
        ):
            seconds, summary, status = run_command(url, *args)
            print(f"{label}: {seconds:.1f} s wall, exit status {status}\n    {summary}")
        insert_history(url, options.rows + 1, options.extra)
        for label, args in (
            (f"seal_audit ({options.extra:,} new rows)", ("seal_audit",)),
            (f"verify_audit_chain (incremental, {options.extra:,} new rows)", ("verify_audit_chain",)),
            ("verify_audit_chain --full", ("verify_audit_chain", "--full")),
        ):
            seconds, summary, status = run_command(url, *args)
            print(f"{label}: {seconds:.1f} s wall, exit status {status}\n    {summary}")


if __name__ == "__main__":
    main()
