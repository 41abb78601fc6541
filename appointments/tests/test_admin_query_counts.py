"""The admin changelists of the tables that grow (sessions, participants, legacy appointments,
patients) read a fixed number of queries however many rows there are, and never count a
long list row by row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment, Session, SessionParticipant
from appointments.tests.factories import AppointmentFactory, GroupSessionFactory, ParticipantFactory
from core import admin_paging
from core.models import Patient
from core.tests.admin_helpers import admin_url, tenant_admin_staff
from core.tests.factories import ProviderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

# session, user, the filters' choices (clinics; sessions: providers too; patients: tenants),
# the planner's estimate and the capped count, the page, the access-log row
EXPECTED_QUERIES = {Session: 8, SessionParticipant: 7, Appointment: 7, Patient: 7}


def add_rows(clinic, count: int) -> None:
    """``count`` group sessions with a child each and as many legacy appointments (and patients)."""
    for _ in range(count):
        provider = ProviderFactory(clinic=clinic)
        ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider))
        AppointmentFactory(clinic=clinic, provider=provider)


def changelist(client, model) -> tuple[int, str]:
    """The changelist's query count and its page."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_changelist_query_counts_do_not_grow_with_rows(client, clinic):
    client.force_login(tenant_admin_staff(clinic.tenant))
    add_rows(clinic, 2)
    with_two = {model: changelist(client, model)[0] for model in EXPECTED_QUERIES}
    add_rows(clinic, 10)
    with_twelve = {model: changelist(client, model) for model in EXPECTED_QUERIES}

    assert with_two == {model: count for model, (count, _page) in with_twelve.items()} == EXPECTED_QUERIES
    for _count, page in with_twelve.values():
        assert page.count('<input type="checkbox" name="_selected_action"') >= 12


def test_a_list_longer_than_the_exact_limit_is_counted_only_up_to_it(client, clinic, monkeypatch):
    monkeypatch.setattr(admin_paging, "EXACT_COUNT_LIMIT", 3)
    client.force_login(tenant_admin_staff(clinic.tenant))
    add_rows(clinic, 5)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url(Session, "changelist"))

    assert response.status_code == 200
    counts = [query["sql"] for query in queries if query["sql"].startswith("SELECT COUNT(")]
    # One count, of at most the limit and one more row; the page says the planner's estimate.
    assert len(counts) == 1
    assert "LIMIT 4" in counts[0]
    assert any(query["sql"].startswith("EXPLAIN") for query in queries)
