"""Find or start PostgreSQL for `make run` / `make test` and print the owner's URL.

Order: $DATABASE_OWNER_URL, else $DATABASE_URL, if set; else the server on
127.0.0.1:5432 if one answers; else an embedded PostgreSQL 16 (the `pgserver` wheel)
whose data lives in the git-ignored `.pgdata/`. The database named on the command
line is created when missing. Progress goes to stderr; stdout carries only the URL.

With `--app-role`, the URL printed is the app's restricted role's (README, Database
roles): the LOGIN role `clinic_app` is created when missing (both development servers
trust local connections, so it needs no password). When the server can't create it, or
won't let it log in, a warning goes to stderr and the owner's URL is printed: one role.
"""

import argparse
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
# The settings' default name for it too (DATABASE_APP_ROLE, config/settings/base.py).
APP_ROLE = "clinic_app"
# Roles are global to the server: a concurrent creator (another make, a test run's migrate)
# surfaces as duplicate_object or unique_violation, and the role is there either way.
CREATE_ROLE = (
    "DO $create_role$ BEGIN CREATE ROLE {} LOGIN; "
    "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $create_role$"
)


def server_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def with_user(url: str, user: str) -> str:
    """The URL with ``user`` in place of its user and no password."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}@{host}"))


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


def app_role_url(url: str) -> str | None:
    """The app role's URL on the owner's server, creating the role; None when it can't serve."""
    with connect_admin(url) as connection:
        exists, may_create = connection.execute(
            "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = %s), "
            "(SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user)",
            [APP_ROLE],
        ).fetchone()
        if not exists:
            if not may_create:
                print(f"Warning: this server's user may not create the role {APP_ROLE}.", file=sys.stderr)
                return None
            print(f"Creating the app's database role {APP_ROLE} ...", file=sys.stderr)
            connection.execute(sql.SQL(CREATE_ROLE).format(sql.Identifier(APP_ROLE)))
    app_url = with_user(url, APP_ROLE)
    try:
        psycopg.connect(app_url, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        print(f"Warning: the role {APP_ROLE} can't log in: {error}".strip(), file=sys.stderr)
        return None
    return app_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", default="clinic", help="the database (created when missing)")
    parser.add_argument("--app-role", action="store_true", help="print the app's restricted role's URL")
    options = parser.parse_args()
    url = os.environ.get("DATABASE_OWNER_URL") or os.environ.get("DATABASE_URL")
    if not url:
        if server_answers(*LOCAL_SERVER):
            url = f"postgres://postgres@{LOCAL_SERVER[0]}:{LOCAL_SERVER[1]}/{options.name}"
        else:
            url = with_database(embedded_server_url(), options.name)
    ensure_database(url)
    if options.app_role:
        app_url = app_role_url(url)
        if app_url is None:
            print(
                "Warning: serving as the database owner, one role: the app could edit and delete "
                "audit rows (README, Database roles).",
                file=sys.stderr,
            )
        else:
            url = app_url
    print(url)


if __name__ == "__main__":
    main()
