"""The waiting list in Django admin: the entries' list and history, the reorder action with its
reason, and the read-only inline on a session's page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Session, WaitlistEntry
from appointments.session_service import SessionService
from appointments.tests.test_waitlist import child, fill, group
from core.tests.admin_helpers import admin_url, message_texts, tenant_admin_staff
from core.tests.factories import ClinicFactory, ProviderFactory, TenantFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def entries(provider, clinic, frozen_today):
    """Three children waiting, in order, for a full group."""
    session = group(provider, clinic, frozen_today + datetime.timedelta(days=2))
    fill(session)
    return [SessionService.add_to_waitlist(session, child(clinic)) for _ in range(3)]


@pytest.fixture
def clinic_admin(client, tenant):
    client.force_login(tenant_admin_staff(tenant))
    return client


def reorder(client, entries, **form):
    data = {"action": "reorder_entry", "_selected_action": [str(entry.pk) for entry in entries]}
    if form:
        data |= {"apply": "Move", **form}
    return client.post(admin_url(WaitlistEntry, "changelist"), data, follow=True)


def order(session_id) -> list[int]:
    return list(
        WaitlistEntry.objects.filter(session_id=session_id, status=WaitlistEntry.Status.WAITING)
        .order_by("priority", "pk")
        .values_list("pk", flat=True)
    )


def test_changelist_lists_the_organisations_entries_with_their_positions(clinic_admin, entries):
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    foreign = group(ProviderFactory(clinic=foreign_clinic), foreign_clinic, entries[0].session.scheduled_date)
    fill(foreign)
    SessionService.add_to_waitlist(foreign, child(foreign_clinic))

    response = clinic_admin.get(admin_url(WaitlistEntry, "changelist"))

    listed = list(response.context["cl"].result_list)
    assert {entry.pk for entry in listed} == {entry.pk for entry in entries}
    assert sorted(entry.position for entry in listed) == [1, 2, 3]


def test_reorder_asks_for_the_position_and_a_reason_showing_the_order(clinic_admin, entries):
    response = reorder(clinic_admin, entries[2:])

    html = response.content.decode()
    assert response.templates[0].name == "appointments/admin/waitlist_reorder.html"
    assert html.index(entries[0].patient.full_name_en) < html.index(entries[2].patient.full_name_en)
    assert response.context["form"].initial == {"position": 3}


def test_reorder_moves_the_child_and_keeps_the_reason_in_the_history(clinic_admin, entries):
    response = reorder(clinic_admin, entries[2:], position="1", reason="Urgent referral")

    moved = entries[2]
    assert message_texts(response) == [f"{moved.patient.full_name_en} is now number 1 on the waiting list."]
    assert order(moved.session_id) == [moved.pk, entries[0].pk, entries[1].pk]
    assert WaitlistEntry.objects.get(pk=moved.pk).history.latest().history_change_reason == "Urgent referral"


def test_reorder_without_a_reason_changes_nothing(clinic_admin, entries):
    response = reorder(clinic_admin, entries[2:], position="1", reason="")

    assert response.context["form"].errors == {"reason": ["This field is required."]}
    assert order(entries[0].session_id) == [entry.pk for entry in entries]


def test_reorder_refused_by_the_service_shows_why_on_the_page(clinic_admin, entries):
    response = reorder(clinic_admin, entries[2:], position="7", reason="Urgent referral")

    assert response.context["form"].non_field_errors() == ["Choose a position from 1 to 3."]
    assert order(entries[0].session_id) == [entry.pk for entry in entries]


def test_reorder_needs_exactly_one_entry(clinic_admin, entries):
    response = reorder(clinic_admin, entries[:2])

    assert message_texts(response) == ["Choose one waiting child to move."]


def test_entry_pages_are_read_only_and_keep_history_without_revert(clinic_admin, entries):
    entry = entries[0]

    change = clinic_admin.get(admin_url(WaitlistEntry, "change", entry.pk))
    history = clinic_admin.get(admin_url(WaitlistEntry, "history", entry.pk))

    assert change.status_code == history.status_code == 200
    assert clinic_admin.get(admin_url(WaitlistEntry, "add")).status_code == 403
    assert clinic_admin.post(admin_url(WaitlistEntry, "delete", entry.pk)).status_code == 403
    assert WaitlistEntry.objects.filter(pk=entry.pk).exists()


def test_session_admin_shows_the_waiting_list_inline(clinic_admin, entries):
    session = Session.objects.get(pk=entries[0].session_id)

    response = clinic_admin.get(admin_url(Session, "change", session.pk))

    html = response.content.decode()
    assert "Waiting list" in html
    assert all(entry.patient.full_name_en in html for entry in entries)


def changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url(WaitlistEntry, "changelist"))
    assert response.status_code == 200
    return len(queries)


def test_changelist_query_count_does_not_grow_with_entries(clinic_admin, entries, clinic):
    session = Session.objects.get(pk=entries[0].session_id)
    with_three = changelist_queries(clinic_admin)
    for _ in range(6):
        SessionService.add_to_waitlist(session, child(clinic))

    with_nine = changelist_queries(clinic_admin)

    # session, user, the clinic filter's choices, filtered and full counts, the page (each
    # row's position a subquery in it), the date hierarchy's range and days, the access-log row
    assert with_three == with_nine == 9
