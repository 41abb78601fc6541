"""Fetch-and-authorise helpers for scheduling pages.

Each helper checks the capability first (403 for a role that may never do it) and
then looks the row up inside the user's tenant, so a row of another organisation
is indistinguishable from one that doesn't exist (404).
"""

from django.shortcuts import get_object_or_404

from appointments.models import Appointment, Session, SessionParticipant
from appointments.selectors import with_seats_taken
from core.models import User
from core.permissions import Capability, check_capability, scope_to_tenant


def access_session(user: User, pk: int, capability: Capability = Capability.VIEW_SCHEDULE) -> Session:
    check_capability(user, capability)
    sessions = scope_to_tenant(Session.objects.all(), user, "clinic__tenant")
    sessions = with_seats_taken(sessions).select_related("clinic", "provider__user", "room", "created_by")
    return get_object_or_404(sessions, pk=pk)


def access_participant(user: User, pk: int, capability: Capability) -> SessionParticipant:
    check_capability(user, capability)
    participants = scope_to_tenant(SessionParticipant.objects.all(), user, "session__clinic__tenant")
    return get_object_or_404(participants.select_related("session", "patient"), pk=pk)


def access_appointment(user: User, pk: int, capability: Capability = Capability.VIEW_SCHEDULE) -> Appointment:
    check_capability(user, capability)
    appointments = scope_to_tenant(Appointment.objects.all(), user, "clinic__tenant")
    return get_object_or_404(
        appointments.select_related(
            "clinic", "provider__user", "room", "patient", "finance_cleared_by", "created_by"
        ),
        pk=pk,
    )
