"""The app's restricted database role and its grants, applied after every ``migrate``.

Why two roles: the app serves as a role (``DATABASE_URL``) that reads and writes the
ordinary tables but may only SELECT and INSERT the audit tables, so neither a bug nor an
intruder in the app can edit or delete history; it owns nothing and holds no TRUNCATE,
so it can't empty, alter or drop a table, or switch a trigger off either. The owner
(``DATABASE_OWNER_URL``, selected by ``DATABASE_ROLE=owner``) runs the migrations, and
this module's ``post_migrate`` handler grants to the app role at the end of each one.
Default privileges give tables created later the ordinary grants at once; a new audit
table is narrowed to SELECT and INSERT by the grant at the end of the migrate that made it.
``django_migrations`` is the owner's record: the app role may read it (runserver checks for
unapplied migrations) and never writes it. So is ``audit_hash_layout``, the column lists the
row-hash triggers were built from (``core.row_hashes``): a change there would only raise
false alarms, but the app has no reason to make one.

Roles are global to the PostgreSQL cluster while grants are per database, so several
databases (pytest-xdist's workers) may create the same role at once: the creation
tolerates a concurrent creator.
"""

import logging
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorWrapper
from psycopg import sql

from core.audit_tables import audit_tables

logger = logging.getLogger(__name__)

# Tables the app role reads but never writes, besides the audit tables.
READ_ONLY_TABLES = ("django_migrations", "audit_hash_layout")

# A role name is global to the cluster: two databases migrating at once can both find it
# missing. The loser of the race gets duplicate_object, or unique_violation when the
# winner's transaction was still open at its check; either way the role is there.
CREATE_ROLE = (
    "DO $create_role$ BEGIN CREATE ROLE {} LOGIN; "
    "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $create_role$"
)

GRANTS = """
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role};
"""
APPEND_ONLY = "REVOKE ALL ON {tables} FROM {role}; GRANT SELECT, INSERT ON {tables} TO {role};"
READ_ONLY = "REVOKE ALL ON {tables} FROM {role}; GRANT SELECT ON {tables} TO {role};"


def app_role() -> str:
    """The role the app serves as: ``settings.DATABASE_APP_ROLE``."""
    return str(settings.DATABASE_APP_ROLE)


def ensure_role(cursor: CursorWrapper, role: str) -> bool:
    """Create ``role`` (LOGIN, no password) unless it exists; whether it exists afterwards.

    False when it is missing and the connected user may not create roles. The role has
    no password: it logs in where the server trusts local connections (the development
    servers), and elsewhere once an administrator gives it one.
    """
    cursor.execute(
        "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = %s), "
        "(SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user)",
        [role],
    )
    exists, may_create = cursor.fetchone()
    if exists:
        return True
    if not may_create:
        return False
    cursor.execute(sql.SQL(CREATE_ROLE).format(sql.Identifier(role)).as_string(cursor.connection))
    return True


def grant_app_role(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Give the app role its grants in the ``using`` database; whether they were given.

    Idempotent: every audit table ends with exactly SELECT and INSERT, however often it
    runs and whatever was granted before. Only logs a warning, and grants nothing, when
    the app role is the connected owner itself (one role: nothing to restrict) or when it
    is missing and can't be created, so a migrate never fails for want of a second role.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    role = app_role()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
        if role == owner:
            logger.warning(
                "The app's database role %r is the owner that migrates: the app can edit and delete "
                "audit rows. Serve with DATABASE_URL as a separate role (README, Database roles).",
                role,
            )
            return False
        if not ensure_role(cursor, role):
            logger.warning(
                "The app's database role %r does not exist and %r may not create roles: no grants "
                "given. Create it (CREATE ROLE %s LOGIN) and migrate again.",
                role,
                owner,
                role,
            )
            return False
        present = set(connection.introspection.table_names(cursor))
        statements = [sql.SQL(GRANTS).format(role=sql.Identifier(role))]
        for template, tables in (
            (APPEND_ONLY, [table for table in audit_tables() if table in present]),
            (READ_ONLY, [table for table in READ_ONLY_TABLES if table in present]),
        ):
            if tables:
                statements.append(
                    sql.SQL(template).format(
                        tables=sql.SQL(", ").join(map(sql.Identifier, tables)), role=sql.Identifier(role)
                    )
                )
        # One simple query: the whole set applies in one transaction, or none of it.
        cursor.execute(sql.Composed(statements).as_string(cursor.connection))
    return True


def grant_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """``post_migrate`` receiver (connected once, for the core app): grant after each migrate."""
    grant_app_role(using)
