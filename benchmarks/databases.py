"""Throwaway databases for the benchmarks, on the server of ``DATABASE_URL`` (default: the local one)."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def database_url(name: str) -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}"))


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def recreate_database(url: str) -> None:
    drop_database(url)
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@contextmanager
def throwaway_database(url: str, *, keep: bool = False) -> Iterator[str]:
    """Create the database at ``url`` afresh for the ``with`` block; afterwards close this
    process's Django connections to it (if Django was set up) and drop it, unless ``keep``."""
    recreate_database(url)
    try:
        yield url
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if not keep:
            drop_database(url)
