"""Fetch-and-authorise helpers for scheduling pages.

Each helper checks the capability first (403 for a role that may never do it) and
then looks the row up inside the user's tenant, so a row of another organisation
is indistinguishable from one that doesn't exist (404). The clinical actions on a
session or appointment (start, complete, attended, no-show, group notes) then
check that the user is one of its clinicians or an administrator (403,
``core.permissions.can_run_session``); ``may_run`` and ``may_read_group_notes``
say the same to the pages, which show only the buttons and text the user may use.
"""

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from appointments.models import Appointment, Session, SessionParticipant, SessionSeries
from appointments.selectors import with_seats_taken
from core.models import User
from core.permissions import (
    Capability,
    can_read_group_notes,
    can_run_session,
    check_capability,
)


def access_session(user: User, pk: int, capability: Capability = Capability.VIEW_SCHEDULE) -> Session:
    check_capability(user, capability)
    sessions = Session.objects.for_user(user)
    sessions = with_seats_taken(sessions).select_related(
        "clinic", "provider__user", "room", "created_by", "series"
    )
    return get_object_or_404(sessions, pk=pk)


def access_series(user: User, pk: int, capability: Capability = Capability.VIEW_SCHEDULE) -> SessionSeries:
    check_capability(user, capability)
    series = SessionSeries.objects.for_user(user)
    return get_object_or_404(series.select_related("clinic", "provider__user", "room", "patient"), pk=pk)


def access_participant(user: User, pk: int, capability: Capability) -> SessionParticipant:
    check_capability(user, capability)
    participants = SessionParticipant.objects.for_user(user)
    return get_object_or_404(
        participants.select_related("session__clinic", "session__provider", "patient"), pk=pk
    )


def access_appointment(user: User, pk: int, capability: Capability = Capability.VIEW_SCHEDULE) -> Appointment:
    check_capability(user, capability)
    appointments = Appointment.objects.for_user(user)
    return get_object_or_404(
        appointments.select_related(
            "clinic", "provider__user", "room", "patient", "finance_cleared_by", "created_by"
        ),
        pk=pk,
    )


def may_run(user: User | AnonymousUser, booking: Session | Appointment) -> bool:
    """Whether ``user`` may start, complete, mark attendance of (and, on a session, write the
    group notes of) ``booking``: its clinicians and administrators (``can_run_session``)."""
    return can_run_session(user, booking.clinic.specialty, booking.provider.user_id)


def may_read_group_notes(user: User | AnonymousUser, session: Session) -> bool:
    """Group notes are clinical: shown to the discipline's note readers and whoever runs the session."""
    return can_read_group_notes(user, session.clinic.specialty, session.provider.user_id)


def _check_may_run(user: User, booking: Session | Appointment) -> None:
    if not may_run(user, booking):
        raise PermissionDenied


def access_session_for_clinical_action(user: User, pk: int) -> Session:
    """Session ``pk`` for a clinical action: 403 for front desk and finance, 404 outside the
    tenant, 403 for a clinician of another discipline or on a session no clinician runs."""
    session = access_session(user, pk, Capability.RUN_SESSION)
    _check_may_run(user, session)
    return session


def access_participant_for_clinical_action(user: User, pk: int) -> SessionParticipant:
    """Participant ``pk`` for marking attended or no-show: the rule of its session."""
    participant = access_participant(user, pk, Capability.RUN_SESSION)
    _check_may_run(user, participant.session)
    return participant


def access_appointment_for_clinical_action(user: User, pk: int) -> Appointment:
    """Legacy appointment ``pk`` for start, complete or no-show: the rule of a session."""
    appointment = access_appointment(user, pk, Capability.RUN_SESSION)
    _check_may_run(user, appointment)
    return appointment
