"""The scheduling admin's clinical actions (start, complete, attended, no-show) and the
group notes on its session page are administrators' only.

Administrators run every session (``core.permissions.can_run_session``), and Django
admin lets in administrators only, whatever Django permissions someone else holds:
front desk, finance and clinicians given staff status and every model permission
can't post the clinical actions nor open a session's page there.
"""

import pytest
from django.contrib.auth.models import Permission

from appointments.models import Appointment, Session, SessionParticipant
from appointments.session_service import SessionService
from core.models import User
from core.tests.admin_helpers import admin_url
from core.tests.view_helpers import booked, group_session, legacy_appointment, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
NOT_ADMINISTRATORS = [Role.FRONT_DESK, Role.FINANCE, Role.PSYCHOLOGIST]


def staff_with_every_permission(tenant, role: str) -> User:
    """A staff member of ``role`` who was given every model permission of our apps."""
    user = staff_member(tenant, role, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["core", "appointments", "psychology", "ot", "aba"]
        )
    )
    return user


@pytest.mark.parametrize("role", NOT_ADMINISTRATORS)
def test_admin_clinical_actions_refuse_every_other_role(client, tenant, provider, clinic, role):
    session = group_session(provider, clinic, hour=9)
    participant = booked(group_session(provider, clinic, hour=11))
    appointment = legacy_appointment(provider, clinic, hour=15)
    client.force_login(staff_with_every_permission(tenant, role))

    statuses = {
        action: client.post(
            admin_url(type(row), "changelist"), {"action": action, "_selected_action": [str(row.pk)]}
        ).status_code
        for action, row in (
            ("start_sessions", session),
            ("complete_sessions", session),
            ("mark_attended", participant),
            ("mark_no_show", participant),
            ("start_appointments", appointment),
            ("complete_appointments", appointment),
            ("mark_no_show", appointment),
        )
    }

    assert set(statuses.values()) == {403}
    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED
    assert SessionParticipant.objects.get(pk=participant.pk).status == SessionParticipant.Status.BOOKED
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.BOOKED


@pytest.mark.parametrize("role", NOT_ADMINISTRATORS)
def test_admin_session_page_with_its_group_notes_is_refused_to_every_other_role(
    client, tenant, provider, clinic, role
):
    session = group_session(provider, clinic)
    SessionService.update_group_notes(session, "Bring the turn-taking cards")
    client.force_login(staff_with_every_permission(tenant, role))

    response = client.get(admin_url(Session, "change", session.pk))

    assert response.status_code == 403
    assert "Bring the turn-taking cards" not in response.content.decode()


def test_admin_clinical_action_runs_for_an_administrator_of_the_organisation(
    client, tenant, provider, clinic
):
    session = group_session(provider, clinic)
    client.force_login(staff_member(tenant, Role.ADMIN, is_staff=True))

    client.post(
        admin_url(Session, "changelist"), {"action": "start_sessions", "_selected_action": [session.pk]}
    )

    assert Session.objects.get(pk=session.pk).status == Session.Status.IN_PROGRESS
