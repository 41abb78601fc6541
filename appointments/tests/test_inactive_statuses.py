"""SessionParticipant.INACTIVE_STATUSES: a participant in any of them holds no seat, anywhere.

Each rule that counts seats or looks for a patient's bookings - the model's seat count,
the selectors' annotation, the booking service, the partial unique constraint, the
conflict checks, the integrity checks and the back-fill's SQL - is tested with a
participant in every inactive status. ``MAKE_INACTIVE`` says how a participant gets
into each; a status added to the set without teaching it here fails the first test.
"""

from collections.abc import Callable

import pytest
from django.db import connection

from appointments.appointment_service import AppointmentService
from appointments.backfill_service import find_dirty_appointments
from appointments.exceptions import CheckInBlocked
from appointments.integrity import check_integrity
from appointments.models import Session, SessionParticipant
from appointments.overlaps import find_conflicts
from appointments.selectors import available_group_sessions, sessions_visible_to, with_seats_taken
from appointments.session_service import SessionService
from appointments.tests.factories import GroupSessionFactory
from core.clock import today as clinic_today
from core.models import User
from core.tests.factories import ConsentFactory, PatientFactory, ProviderFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = SessionParticipant.Status
SEAT_CHECKS = ["capacity_exceeded", "active_participation", "patient_overlap", "participant_status"]


def _cancel(participant: SessionParticipant) -> None:
    SessionService.cancel_participant(participant, "Family travelling")


def _turn_away(participant: SessionParticipant) -> None:
    # Finance hasn't cleared the visit: the check-in is refused and recorded, the child goes home.
    with pytest.raises(CheckInBlocked):
        SessionService.check_in_participant(participant)
    SessionService.mark_turned_away(participant)


MAKE_INACTIVE: dict[str, Callable[[SessionParticipant], None]] = {
    Status.CANCELLED: _cancel,
    Status.TURNED_AWAY: _turn_away,
}
INACTIVE = [pytest.param(status, id=status) for status in SessionParticipant.INACTIVE_STATUSES]


def make_inactive(participant: SessionParticipant, status: str) -> SessionParticipant:
    MAKE_INACTIVE[status](participant)
    participant.refresh_from_db()
    assert participant.status == status
    return participant


@pytest.fixture
def child(tenant):
    patient = PatientFactory(tenant=tenant, first_name_en="Sara", last_name_en="Ali")
    ConsentFactory(patient=patient)
    return patient


@pytest.fixture
def full_pair(provider, clinic, child):
    """A group of two seats, both taken: ``child`` and another."""
    session = GroupSessionFactory(provider=provider, clinic=clinic, max_capacity=2)
    participant = SessionService.add_patient_to_session(session, child)
    SessionService.add_patient_to_session(session, PatientFactory(tenant=clinic.tenant))
    return session, participant


def test_every_inactive_status_is_taught_here_and_none_is_active():
    assert set(MAKE_INACTIVE) == set(SessionParticipant.INACTIVE_STATUSES)
    assert Status.TURNED_AWAY in SessionParticipant.INACTIVE_STATUSES
    assert not {Status.BOOKED, Status.CONFIRMED, Status.ARRIVED, Status.ATTENDED, Status.NO_SHOW} & set(
        SessionParticipant.INACTIVE_STATUSES
    )


@pytest.mark.parametrize("status", INACTIVE)
def test_inactive_participant_holds_no_seat_in_any_count(status, full_pair, clinic):
    session, participant = full_pair

    make_inactive(participant, status)

    fresh = Session.objects.get(pk=session.pk)
    assert fresh.current_capacity == 1
    assert fresh.available_spots == 1
    assert not fresh.is_full
    assert with_seats_taken(Session.objects.filter(pk=session.pk)).get().seats_taken == 1
    staff = UserFactory(tenant=clinic.tenant, role=User.Role.FRONT_DESK)
    assert sessions_visible_to(staff).get(pk=session.pk).seats_taken == 1
    day = clinic_today()
    assert list(available_group_sessions(clinic, day, day)) == [fresh]


@pytest.mark.parametrize("status", INACTIVE)
def test_inactive_participant_frees_the_seat_for_another_child(status, full_pair, clinic):
    session, participant = full_pair
    make_inactive(participant, status)

    newcomer = SessionService.add_patient_to_session(session, PatientFactory(tenant=clinic.tenant))

    assert newcomer.status == Status.BOOKED
    assert Session.objects.get(pk=session.pk).current_capacity == 2


@pytest.mark.parametrize("status", INACTIVE)
def test_inactive_participant_does_not_block_booking_the_same_child_again(status, full_pair, child):
    session, participant = full_pair
    make_inactive(participant, status)

    again = SessionService.add_patient_to_session(session, child)

    # The partial unique constraint (one active row per child and session) let the second row in.
    assert again.pk != participant.pk
    assert list(
        session.participants.filter(patient=child).values_list("status", flat=True).order_by("pk")
    ) == [
        status,
        Status.BOOKED,
    ]


@pytest.mark.parametrize("status", INACTIVE)
def test_inactive_participant_is_no_conflict_for_the_child_at_that_time(status, full_pair, clinic, child):
    session, participant = full_pair
    make_inactive(participant, status)
    slot = {"day": session.scheduled_date, "start": session.scheduled_time, "minutes": session.duration}

    assert find_conflicts(patients=(child,), **slot) == []
    elsewhere = GroupSessionFactory(
        provider=ProviderFactory(clinic=clinic),
        clinic=clinic,
        scheduled_date=session.scheduled_date,
        scheduled_time=session.scheduled_time,
    )
    assert SessionService.add_patient_to_session(elsewhere, child).status == Status.BOOKED


@pytest.mark.parametrize("status", INACTIVE)
def test_inactive_participant_is_no_conflict_for_a_legacy_appointment(status, full_pair, clinic, child):
    session, participant = full_pair
    make_inactive(participant, status)

    appointment = AppointmentService.book_appointment(
        patient=child,
        provider=ProviderFactory(clinic=clinic),
        clinic=clinic,
        scheduled_date=session.scheduled_date,
        scheduled_time=session.scheduled_time,
        duration=session.duration,
        service_type="Individual Therapy",
    )

    assert find_dirty_appointments([appointment.pk]) == {}
    # and the back-fill's SQL sees the participation once it is active again
    _set_status(participant, Status.BOOKED)
    assert list(find_dirty_appointments([appointment.pk])[appointment.pk]) == ["patient_overlap"]


@pytest.mark.parametrize("status", INACTIVE)
def test_integrity_checks_agree_that_an_inactive_participant_holds_nothing(
    status, full_pair, provider, clinic, child
):
    session, participant = full_pair
    make_inactive(participant, status)
    SessionService.add_patient_to_session(session, child)  # the same child again, in the freed seat
    # Another group at the same time: a child's inactive place there, their booking elsewhere.
    kid = PatientFactory(tenant=clinic.tenant)
    second = GroupSessionFactory(
        provider=ProviderFactory(clinic=clinic),
        clinic=clinic,
        scheduled_date=session.scheduled_date,
        scheduled_time=session.scheduled_time,
        max_capacity=2,
    )
    away = SessionService.add_patient_to_session(second, kid)
    SessionService.add_patient_to_session(second, PatientFactory(tenant=clinic.tenant))
    make_inactive(away, status)
    SessionService.add_patient_to_session(second, PatientFactory(tenant=clinic.tenant))
    elsewhere = GroupSessionFactory(
        provider=ProviderFactory(clinic=clinic),
        clinic=clinic,
        scheduled_date=session.scheduled_date,
        scheduled_time=session.scheduled_time,
    )
    SessionService.add_patient_to_session(elsewhere, kid)

    assert check_integrity(SEAT_CHECKS).violations == []

    # The same rows with that place active again break two rules, and the checks say so.
    _set_status(away, Status.BOOKED)
    found = {violation.check for violation in check_integrity(SEAT_CHECKS).violations}
    assert found == {"capacity_exceeded", "patient_overlap"}


def _set_status(participant: SessionParticipant, status: str) -> None:
    """A raw write past the services, as a restore or a hand-made fix could leave it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE appointments_sessionparticipant SET status = %s WHERE id = %s", [status, participant.pk]
        )


def test_a_cancelled_session_keeps_its_participant_statuses_apart(provider, clinic, child):
    # A cancelled *session* is another status family: its status stays 'cancelled', and a
    # turned-away child in it stays turned away.
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    participant = SessionService.add_patient_to_session(session, child)
    make_inactive(participant, Status.TURNED_AWAY)

    SessionService.cancel_session(session, "Provider unwell")

    participant.refresh_from_db()
    assert Session.objects.get(pk=session.pk).status == Session.Status.CANCELLED
    assert participant.status == Status.TURNED_AWAY
