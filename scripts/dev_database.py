"""Find or start PostgreSQL for `make run` / `make test` and print its DATABASE_URL.

Order: $DATABASE_URL if set; else the server on 127.0.0.1:5432 if one answers;
else an embedded PostgreSQL 16 (the `pgserver` wheel) whose data lives in the
git-ignored `.pgdata/`. The database named on the command line is created when
missing. Progress goes to stderr; stdout carries only the URL.
"""

import os
import socket
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOCAL_SERVER = ("127.0.0.1", 5432)


def server_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def embedded_server_url() -> str:
    import pgserver

    print("Starting the embedded PostgreSQL in .pgdata/ ...", file=sys.stderr)
    # cleanup_mode=None keeps the server up after this script exits; pgserver
    # discards a postmaster.pid whose process is gone, so a killed run restarts.
    server = pgserver.get_server(PROJECT_DIR / ".pgdata", cleanup_mode=None)
    # pgserver listens on a Unix socket in the data folder; a percent-encoded socket
    # path as the URL's host is what dj-database-url reads as Django's HOST.
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgresql://postgres@{quote(str(socket_dir), safe='')}/postgres"


def connect_admin(url: str, attempts: int = 15) -> psycopg.Connection:
    # A server restarted over a killed run's leftovers can take a few seconds
    # before it accepts connections.
    for attempt in range(1, attempts + 1):
        try:
            return psycopg.connect(with_database(url, "postgres"), autocommit=True)
        except psycopg.OperationalError:
            if attempt == attempts:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


def ensure_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with connect_admin(url) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"Creating database {name} ...", file=sys.stderr)
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "clinic"
    url = os.environ.get("DATABASE_URL")
    if not url:
        if server_answers(*LOCAL_SERVER):
            url = f"postgres://postgres@{LOCAL_SERVER[0]}:{LOCAL_SERVER[1]}/{name}"
        else:
            url = with_database(embedded_server_url(), name)
    ensure_database(url)
    print(url)


if __name__ == "__main__":
    main()
