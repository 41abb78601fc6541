"""Benchmark ``check_integrity`` and ``verify_audit_chain --full`` over a million participants. Not a test.

    .venv/bin/python benchmarks/integrity_benchmark.py [--participants 1000000] [--reuse]

Builds the database with ``big_database.build`` (``--database``, default
``clinic_integrity_benchmark``, on the server of $DATABASE_URL or 127.0.0.1:5432; its rows
are sealed by ``seal_audit`` at the end of the build), or with ``--reuse`` takes it as it
is. Then, each in a child process as an operator would run it:

1. ``verify_audit_chain``: the nightly incremental run. After a fresh build it has no
   checkpoint yet, so it checks every seal and then signs the checkpoint that
   ``check_integrity``'s ``audit_chain`` check starts from;
2. ``check_integrity``: its own timing of each check (what it prints to stderr) and the
   wall time of the whole command, Django's start included;
3. ``verify_audit_chain --full``: every seal and every row, reported apart.

The machine's load average is printed with the figures: on a shared machine it moves
them more than anything else.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from audit_chain import command_environment
from big_database import build
from databases import database_url, drop_database

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHECK_TIMING = re.compile(r"(?P<check>\w+) +(?P<seconds>\d+\.\d+) s")


def run_command(url: str, *args: str) -> tuple[float, str, str, int]:
    """Run a manage.py command in a child process: (wall seconds, stdout, stderr, exit status)."""
    started = time.monotonic()
    child = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(PROJECT_DIR / "manage.py"), *args],
        env=command_environment(url),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    return time.monotonic() - started, child.stdout, child.stderr, child.returncode


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def check_timings(stderr: str) -> list[tuple[str, float]]:
    """The per-check lines ``check_integrity`` writes to stderr (among tqdm's carriage returns)."""
    lines = re.split(r"[\r\n]+", stderr)
    return [
        (match["check"], float(match["seconds"]))
        for line in lines
        if (match := CHECK_TIMING.fullmatch(line.strip()))
    ]


def database_exists(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=5):
            return True
    except psycopg.OperationalError:
        return False


def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--participants", type=int, default=1_000_000)
    parser.add_argument("--database", default="clinic_integrity_benchmark")
    parser.add_argument("--reuse", action="store_true", help="Use the database as it is if it exists.")
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database afterwards.")
    options = parser.parse_args()

    url = database_url(options.database)
    if options.reuse and database_exists(url):
        print(f"reusing {options.database}")
    else:
        summary = build(url, options.participants)
        print(
            f"built {options.database}: {summary['participants']:,} participants, "
            f"{summary['sessions']:,} sessions in {summary['build_seconds']:.0f} s"
        )
    try:
        with psycopg.connect(url) as connection:
            participants, appointments, history = connection.execute(
                "SELECT (SELECT count(*) FROM appointments_sessionparticipant), "
                "(SELECT count(*) FROM appointments_appointment), "
                "(SELECT sum(row_count) FROM core_auditseal WHERE kind = 'chain')"
            ).fetchone()
        print(
            f"{participants:,} participants, {appointments:,} legacy appointments, "
            f"{history or 0:,} sealed audit rows"
        )

        seconds, out, _err, status = run_command(url, "verify_audit_chain", "-v", "0")
        print(
            f"verify_audit_chain (incremental): {seconds:.1f} s wall, exit status {status}\n"
            f"    {last_line(out)}"
        )

        print(load())
        seconds, out, err, status = run_command(url, "check_integrity")
        timings = check_timings(err)
        for check, check_seconds in timings:
            print(f"    {check:<28}{check_seconds:7.2f} s")
        print(
            f"check_integrity: {seconds:.1f} s wall ({sum(s for _c, s in timings):.1f} s in the checks), "
            f"exit status {status}\n    {last_line(out) or last_line(err)}"
        )

        print(load())
        seconds, out, _err, status = run_command(url, "verify_audit_chain", "--full", "-v", "0")
        print(f"verify_audit_chain --full: {seconds:.1f} s wall, exit status {status}\n    {last_line(out)}")
    finally:
        if not options.keep and not options.reuse:
            drop_database(url)


if __name__ == "__main__":
    main()
