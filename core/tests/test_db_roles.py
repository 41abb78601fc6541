"""The app's restricted database role: its grants, and the refusals it meets on a connection of its own.

The suite runs as the owner (pytest-django creates and flushes the databases); migrate
creates the test app role and grants to it (core/db_roles.py). The refusal tests log in
as that role on a second connection, the boundary the app meets when it serves: ``SET
ROLE`` appears only to stand in for an owner that may not create roles. Tests whose rows
the second connection must see commit them (``transaction=True``).
"""

import os
import runpy
import threading
import time

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings

from core.audit_tables import audit_tables
from core.db_roles import READ_ONLY_TABLES, app_role, ensure_role, grant_app_role
from core.models import AccessLog, Patient
from core.tests.factories import PatientFactory

pytestmark = pytest.mark.app_role

ALL_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
ORDINARY = {"SELECT", "INSERT", "UPDATE", "DELETE"}
APPEND_ONLY = {"SELECT", "INSERT"}


def connect_as(user: str) -> psycopg.Connection:
    """A connection of its own to the test database as ``user`` (the servers trust local logins)."""
    settings_dict = connection.settings_dict
    return psycopg.connect(
        dbname=settings_dict["NAME"],
        user=user,
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        autocommit=True,
    )


def grant_mismatches(role: str) -> dict[str, tuple[list[str], list[str]]]:
    """Every public table whose privileges for ``role`` differ from the rule: table -> (has, should have)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, array_agg(p ORDER BY p) FILTER (WHERE has_table_privilege(%s, c.oid, p)) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN unnest(%s::text[]) p "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') GROUP BY c.relname",
            [role, list(ALL_PRIVILEGES)],
        )
        granted = {table: set(privileges or []) for table, privileges in cursor.fetchall()}
    audit = set(audit_tables())
    expected = {
        table: APPEND_ONLY if table in audit else {"SELECT"} if table in READ_ONLY_TABLES else ORDINARY
        for table in granted
    }
    return {
        table: (sorted(granted[table]), sorted(expected[table]))
        for table in granted
        if granted[table] != expected[table]
    }


@pytest.fixture
def app_connection():
    with connect_as(app_role()) as app:
        yield app


@pytest.mark.django_db
def test_grants_every_table_has_the_app_roles_rights_and_audit_tables_no_more():
    # given the test database as migrate left it
    tables = set(connection.introspection.table_names())
    # (the rule is checked over the audit tables that matter, not over an empty list)
    assert {"core_accesslog", "core_historicalpatient", "core_userprivilegechange"} <= set(audit_tables())
    assert set(audit_tables()) <= tables

    # then every table grants the app role exactly what the rule says
    assert grant_mismatches(app_role()) == {}


@pytest.mark.django_db
def test_grants_check_fails_on_an_audit_table_granting_more_and_a_table_lacking_a_grant():
    # given an audit table granting UPDATE, and an ordinary table missing INSERT
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT UPDATE ON core_accesslog TO "{app_role()}"')
        cursor.execute(f'REVOKE INSERT ON core_tenant FROM "{app_role()}"')

    # then the check names both
    assert grant_mismatches(app_role()) == {
        "core_accesslog": (["INSERT", "SELECT", "UPDATE"], ["INSERT", "SELECT"]),
        "core_tenant": (["DELETE", "SELECT", "UPDATE"], ["DELETE", "INSERT", "SELECT", "UPDATE"]),
    }


@pytest.mark.django_db
def test_migrate_puts_over_granted_and_missing_grants_right_and_granting_again_changes_nothing():
    # given grants gone wrong both ways
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT UPDATE, DELETE, TRUNCATE ON core_historicalpatient TO "{app_role()}"')
        cursor.execute(f'REVOKE ALL ON core_patient FROM "{app_role()}"')
    assert set(grant_mismatches(app_role())) == {"core_historicalpatient", "core_patient"}

    # when migrate runs (nothing to apply: its post_migrate grant still runs)
    call_command("migrate", verbosity=0)

    # then the grants are right, and a second grant is a no-op
    assert grant_mismatches(app_role()) == {}
    assert grant_app_role() is True
    assert grant_mismatches(app_role()) == {}


@pytest.mark.django_db
def test_default_privileges_give_a_table_created_later_the_ordinary_grants():
    # when the owner creates a table after the last grant
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE core_created_later (id bigint GENERATED BY DEFAULT AS IDENTITY)")

    # then the app role may already read and write it
    assert "core_created_later" not in grant_mismatches(app_role())


@pytest.mark.django_db(transaction=True)
def test_app_role_update_of_a_history_row_is_refused(app_connection):
    # given a patient and its history row, committed
    patient = PatientFactory(first_name_en="Lina")
    history_id = patient.history.get().history_id

    # when the app role rewrites the history row
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        app_connection.execute(
            "UPDATE core_historicalpatient SET first_name_en = 'Forged' WHERE history_id = %s", [history_id]
        )

    # then PostgreSQL refuses, and the row is as written
    print(f"app role UPDATE of core_historicalpatient: {refused.value}")  # noqa: T201 (the issue asks to show it)
    assert refused.value.diag.message_primary == "permission denied for table core_historicalpatient"
    assert Patient.history.get(history_id=history_id).first_name_en == "Lina"


@pytest.mark.django_db(transaction=True)
def test_app_role_delete_from_the_access_log_is_refused_and_insert_is_allowed(app_connection):
    # given one access-log row, committed
    entry = AccessLog.objects.create(actor="frontdesk", action=AccessLog.Action.VIEW, object_type="patient")

    # when the app role deletes it
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        app_connection.execute("DELETE FROM core_accesslog WHERE id = %s", [entry.pk])

    # then PostgreSQL refuses and the row stays
    assert refused.value.diag.message_primary == "permission denied for table core_accesslog"
    assert AccessLog.objects.filter(pk=entry.pk).exists()

    # and the app role appends a row
    (new_id,) = app_connection.execute(
        "INSERT INTO core_accesslog (at, actor, action, object_type, object_id, request_id) "
        "VALUES (now(), 'psychologist', 'view', 'patient', '7', '') RETURNING id"
    ).fetchone()
    assert AccessLog.objects.get(pk=new_id).actor == "psychologist"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("TRUNCATE core_accesslog", "permission denied for table core_accesslog"),
        ("DELETE FROM core_historicalpatient", "permission denied for table core_historicalpatient"),
        (
            "UPDATE core_userprivilegechange SET new_value = 'x'",
            "permission denied for table core_userprivilegechange",
        ),
        ("ALTER TABLE core_accesslog DISABLE TRIGGER ALL", "must be owner of table core_accesslog"),
        ("DROP TABLE core_historicalpatient", "must be owner of table core_historicalpatient"),
        ("CREATE TABLE core_intruder (id int)", "permission denied for schema public"),
    ],
)
def test_app_role_cannot_rewrite_audit_tables_switch_their_triggers_off_or_change_the_schema(
    app_connection, statement, message
):
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        app_connection.execute(statement)

    assert refused.value.diag.message_primary == message


@pytest.mark.django_db(transaction=True)
def test_app_role_writes_ordinary_tables(app_connection):
    # given a committed patient
    patient = PatientFactory(first_name_en="Old name")

    # when the app role updates it, and adds and removes an organisation
    app_connection.execute("UPDATE core_patient SET first_name_en = 'New name' WHERE id = %s", [patient.pk])
    (tenant_id,) = app_connection.execute(
        "INSERT INTO core_tenant (code, name_en, name_ar) VALUES ('PROBE', 'Probe', '') RETURNING id"
    ).fetchone()
    deleted = app_connection.execute("DELETE FROM core_tenant WHERE id = %s", [tenant_id]).rowcount

    # then each write took
    patient.refresh_from_db()
    assert patient.first_name_en == "New name"
    assert deleted == 1


@pytest.mark.django_db
def test_grant_app_role_as_the_owner_itself_warns_and_grants_nothing(caplog):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()

    with override_settings(DATABASE_APP_ROLE=owner):
        granted = grant_app_role()

    assert granted is False
    assert f"The app's database role '{owner}' is the owner that migrates" in caplog.text


@pytest.mark.django_db
def test_grant_app_role_missing_role_and_no_right_to_create_it_warns_and_continues(caplog):
    # given an owner without CREATEROLE (SET ROLE stands in for one) and a role nobody created
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{app_role()}"')
        with override_settings(DATABASE_APP_ROLE="clinic_app_never_created"):
            # when the grant runs
            granted = grant_app_role()
        cursor.execute("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = 'clinic_app_never_created')")
        (exists,) = cursor.fetchone()

    # then it says so, creates nothing and raises nothing
    assert granted is False
    assert not exists
    assert "'clinic_app_never_created' does not exist" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_ensure_role_two_creators_at_once_both_succeed():
    """Roles are global to the cluster: two xdist workers' migrations may create the role together."""
    # given a role name no other worker uses
    role = f"clinic_app_race_{os.getpid()}"
    first_created, second_waits = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def first() -> None:
        # creates the role and holds its transaction open until the second creator waits on it
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                outcomes["first"] = ensure_role(cursor, role)
                first_created.set()
                second_waits.wait(timeout=30)
        except Exception as error:  # every outcome is asserted below
            outcomes["first"] = error
        finally:
            connection.close()

    def second() -> None:
        try:
            first_created.wait(timeout=30)
            with connection.cursor() as cursor:
                outcomes["second"] = ensure_role(cursor, role)
        except Exception as error:  # every outcome is asserted below
            outcomes["second"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    try:
        for thread in threads:
            thread.start()
        # when the second creator is blocked on the first one's uncommitted role
        assert wait_for_lock_wait("CREATE ROLE"), "the second creator never waited on the first"
        second_waits.set()
        for thread in threads:
            thread.join(timeout=60)

        # then both calls report the role, neither raised, and it exists once
        assert outcomes == {"first": True, "second": True}
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", [role])
            assert cursor.fetchone() == (1,)
    finally:
        second_waits.set()
        for thread in threads:
            thread.join(timeout=60)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')


def wait_for_lock_wait(query_part: str, timeout: float = 30) -> bool:
    """Whether a backend running ``query_part`` waits on a lock within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND query LIKE %s)",
                [f"%{query_part}%"],
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


def settings_module(monkeypatch, module: str, **environ: str) -> dict:
    """The settings ``module`` run afresh with only these database variables set.

    base by its path (it is imported already, and has no relative imports); production,
    which imports base, as a module.
    """
    for name in ("DATABASE_URL", "DATABASE_OWNER_URL", "DATABASE_ROLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    if module == "config.settings.base":
        return runpy.run_path(str(settings.BASE_DIR / "config" / "settings" / "base.py"))
    return runpy.run_module(module)


TWO_ROLES = {
    "DATABASE_URL": "postgres://clinic_web@db.example/clinic",
    "DATABASE_OWNER_URL": "postgres://clinic_owner@db.example/clinic",
}


def test_settings_serve_as_the_app_role_and_migrate_as_the_owner_with_database_role_owner(monkeypatch):
    served = settings_module(monkeypatch, "config.settings.base", **TWO_ROLES)
    migrating = settings_module(monkeypatch, "config.settings.base", **TWO_ROLES, DATABASE_ROLE="owner")

    assert (served["DATABASES"]["default"]["USER"], served["DATABASE_APP_ROLE"]) == (
        "clinic_web",
        "clinic_web",
    )
    assert (migrating["DATABASES"]["default"]["USER"], migrating["DATABASE_APP_ROLE"]) == (
        "clinic_owner",
        "clinic_web",
    )


def test_settings_one_url_grants_to_clinic_app(monkeypatch):
    single = settings_module(monkeypatch, "config.settings.base", DATABASE_URL=TWO_ROLES["DATABASE_URL"])

    assert (single["DATABASES"]["default"]["USER"], single["DATABASE_APP_ROLE"]) == (
        "clinic_web",
        "clinic_app",
    )


def test_settings_database_role_owner_without_the_owner_url_refused(monkeypatch):
    with pytest.raises(RuntimeError, match="^DATABASE_ROLE=owner needs DATABASE_OWNER_URL$"):
        settings_module(
            monkeypatch, "config.settings.base", DATABASE_URL=TWO_ROLES["DATABASE_URL"], DATABASE_ROLE="owner"
        )


def test_settings_production_without_the_owner_url_refused(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "a-throwaway-secret-for-this-test")
    with pytest.raises(RuntimeError, match="^DATABASE_OWNER_URL must be set in production$"):
        settings_module(monkeypatch, "config.settings.production", DATABASE_URL=TWO_ROLES["DATABASE_URL"])
