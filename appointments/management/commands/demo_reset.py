"""Start the demo again from nothing: `make demo-reset` (`DATABASE_ROLE=owner manage.py demo_reset`).

Drops the database, creates it again (owned by the connecting role, its owner), migrates it
and loads the demo (``seed_demo``). It refuses unless ``DEBUG`` is on, it runs as the owner, and
the database is the demo's: it holds the demo organisation and no other.
"""

from typing import Any

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from psycopg import sql

from appointments.demo import DEMO_TENANT_CODE
from core.models import Tenant

# The server's own database, which every PostgreSQL has: dropping another is done from here.
MAINTENANCE_DATABASE = "postgres"


def why_not_reset() -> str | None:
    """Why the database must not be reset, or None when it may be."""
    if not settings.DEBUG:
        return "DEBUG is off; this is for a development machine's demo."
    if settings.DATABASE_ROLE != "owner":
        return (
            "it must run as the database's owner: DATABASE_ROLE=owner with DATABASE_OWNER_URL "
            "(make demo-reset does)."
        )
    try:
        codes = list(Tenant.objects.order_by("code").values_list("code", flat=True))
    except DatabaseError:
        return "it has no tables of this project; make run creates the demo."
    if DEMO_TENANT_CODE not in codes:
        return f"it holds no demo organisation ({DEMO_TENANT_CODE})."
    others = [code for code in codes if code != DEMO_TENANT_CODE]
    if others:
        return f"it holds organisations besides the demo's: {', '.join(others)}."
    return None


def recreate_database(settings_dict: dict[str, Any]) -> None:
    """Drop the database of ``settings_dict`` and create it again, empty, as the connecting role.

    From the maintenance database, ending the connections still open to it (a running
    ``make run``, whose next request connects to the new one).
    """
    name = settings_dict["NAME"]
    parameters = {
        key: settings_dict[setting]
        for key, setting in (("host", "HOST"), ("port", "PORT"), ("user", "USER"), ("password", "PASSWORD"))
        if settings_dict.get(setting)
    }
    with psycopg.connect(dbname=MAINTENANCE_DATABASE, autocommit=True, **parameters) as server:
        server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class Command(BaseCommand):
    help = (
        "Drop and create the demo's database again, then migrate and load the demo. Refuses unless "
        "DEBUG is on, it runs as the owner and the database holds the demo organisation only."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        database = connections[DEFAULT_DB_ALIAS]
        name = database.settings_dict["NAME"]
        refusal = why_not_reset()
        if refusal is not None:
            raise CommandError(f"Refusing to reset the database {name}: {refusal}")
        self.stdout.write(f"1/3 Dropping the database {name} and creating it again ...")
        connections.close_all()
        try:
            recreate_database(database.settings_dict)
        except psycopg.Error as error:
            raise CommandError(f"Could not drop and create the database {name}: {error}") from error
        self.stdout.write("2/3 Migrating ...")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("3/3 Loading the demo ...")
        call_command("seed_demo", stdout=self.stdout, verbosity=options["verbosity"])
        self.stdout.write(self.style.SUCCESS(f"The database {name} holds a fresh demo."))
