"""`make demo-reset`: it refuses unless DEBUG is on, it runs as the owner and the database is the
demo's; it drops and creates the database from the maintenance database, then migrates and seeds.
"""

import io

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from psycopg import sql

from appointments.management.commands import demo_reset
from core.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

DEMO = "AGDAR"


def reset() -> str:
    out = io.StringIO()
    call_command("demo_reset", stdout=out)
    return out.getvalue()


def refusal() -> str:
    with pytest.raises(CommandError) as refused:
        reset()
    return str(refused.value)


@pytest.fixture
def demo_tenant():
    return TenantFactory(code=DEMO)


@pytest.mark.usefixtures("demo_tenant")
@override_settings(DEBUG=False, DATABASE_ROLE="owner")
def test_demo_reset_refuses_with_debug_off():
    assert refusal() == (
        f"Refusing to reset the database {connection.settings_dict['NAME']}: "
        "DEBUG is off; this is for a development machine's demo."
    )


@pytest.mark.usefixtures("demo_tenant")
@override_settings(DEBUG=True, DATABASE_ROLE="app")
def test_demo_reset_refuses_as_the_app_role():
    assert refusal() == (
        f"Refusing to reset the database {connection.settings_dict['NAME']}: it must run as the "
        "database's owner: DATABASE_ROLE=owner with DATABASE_OWNER_URL (make demo-reset does)."
    )


@override_settings(DEBUG=True, DATABASE_ROLE="owner")
def test_demo_reset_refuses_a_database_without_the_demo():
    TenantFactory(code="CLINIC")

    assert refusal() == (
        f"Refusing to reset the database {connection.settings_dict['NAME']}: "
        "it holds no demo organisation (AGDAR)."
    )


@pytest.mark.usefixtures("demo_tenant")
@override_settings(DEBUG=True, DATABASE_ROLE="owner")
def test_demo_reset_refuses_a_database_with_another_organisation():
    TenantFactory(code="REALCLINIC")

    assert refusal() == (
        f"Refusing to reset the database {connection.settings_dict['NAME']}: "
        "it holds organisations besides the demo's: REALCLINIC."
    )


@pytest.mark.usefixtures("demo_tenant")
@override_settings(DEBUG=True, DATABASE_ROLE="owner")
def test_demo_reset_drops_creates_migrates_and_seeds_in_that_order(monkeypatch):
    steps = []
    monkeypatch.setattr(
        demo_reset, "recreate_database", lambda settings_dict: steps.append(settings_dict["NAME"])
    )
    monkeypatch.setattr(demo_reset, "call_command", lambda name, **options: steps.append(name))
    name = connection.settings_dict["NAME"]

    output = reset()

    assert steps == [name, "migrate", "seed_demo"]
    assert output.splitlines() == [
        f"1/3 Dropping the database {name} and creating it again ...",
        "2/3 Migrating ...",
        "3/3 Loading the demo ...",
        f"The database {name} holds a fresh demo.",
    ]


def server(settings_dict, database: str) -> psycopg.Connection:
    return psycopg.connect(
        dbname=database,
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        autocommit=True,
    )


@pytest.fixture
def throwaway_database():
    """A database of its own next to the test database, with a table in it and a connection open."""
    settings_dict = {**connection.settings_dict, "NAME": f"{connection.settings_dict['NAME']}_reset_probe"}
    name = sql.Identifier(settings_dict["NAME"])
    with server(settings_dict, "postgres") as maintenance:
        maintenance.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        maintenance.execute(sql.SQL("CREATE DATABASE {}").format(name))
    still_open = server(settings_dict, settings_dict["NAME"])
    still_open.execute("CREATE TABLE left_over (id int)")
    yield settings_dict
    still_open.close()
    with server(settings_dict, "postgres") as maintenance:
        maintenance.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def test_recreate_database_leaves_it_empty_even_with_a_connection_open(throwaway_database):
    demo_reset.recreate_database(throwaway_database)

    with server(throwaway_database, throwaway_database["NAME"]) as fresh:
        tables = fresh.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    assert tables == []
