"""SessionService booking: creating sessions, seats, capacity, scope and finding free groups."""

import datetime

import pytest
from django.db import connection

from appointments.exceptions import CapacityError, ConflictError, InvalidTransition, OutOfScope
from appointments.models import Session, SessionParticipant
from appointments.session_service import SessionService
from appointments.tests.factories import (
    GroupSessionFactory,
    IndividualSessionFactory,
    ParticipantFactory,
    check_in,
)
from core.clock import today as clinic_today
from core.models import User
from core.tests.factories import (
    ClinicFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    TenantFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

DAY = datetime.date(2025, 11, 15)
TEN = datetime.time(10, 0)


def create_group(provider, clinic, max_capacity=8, **overrides):
    arguments = {
        "provider": provider,
        "clinic": clinic,
        "scheduled_date": DAY,
        "scheduled_time": TEN,
        "duration": 60,
        "service_type": "Social Skills Group",
        "max_capacity": max_capacity,
    }
    arguments.update(overrides)
    return SessionService.create_group_session(**arguments)


def fill(session, seats):
    return [ParticipantFactory(session=session) for _ in range(seats)]


@pytest.mark.parametrize("capacity", [0, 1, 21])
def test_create_group_session_capacity_out_of_range_refused(provider, clinic, capacity):
    with pytest.raises(CapacityError) as refused:
        create_group(provider, clinic, max_capacity=capacity)

    assert refused.value.messages == [f"A group session needs between 2 and 20 seats (got {capacity})."]
    assert not Session.objects.exists()


@pytest.mark.parametrize("capacity", [2, 20])
def test_create_group_session_capacity_in_range_accepted(provider, clinic, capacity):
    session = create_group(provider, clinic, max_capacity=capacity, group_notes="Peer play")

    session.refresh_from_db()
    assert session.session_type == Session.SessionType.GROUP
    assert session.status == Session.Status.SCHEDULED
    assert session.max_capacity == capacity
    assert session.group_notes == "Peer play"
    assert session.current_capacity == 0
    assert session.available_spots == capacity
    assert not session.is_full


def test_create_group_session_twenty_seats_take_twenty_patients(provider, clinic):
    session = create_group(provider, clinic, max_capacity=20)

    fill(session, 20)

    assert session.current_capacity == 20
    assert session.is_full
    assert session.capacity_display == "20/20"


def test_create_group_session_records_creator_in_history(provider, clinic, django_user_model):
    creator = django_user_model.objects.create(username="desk", tenant=clinic.tenant)

    session = create_group(provider, clinic, user=creator)

    assert session.created_by == creator
    assert session.history.get().history_user == creator


def test_create_individual_session_has_one_seat_and_its_patient(provider, clinic):
    patient = PatientFactory(tenant=clinic.tenant)

    session = IndividualSessionFactory(provider=provider, clinic=clinic, patient=patient)

    session.refresh_from_db()
    assert session.session_type == Session.SessionType.INDIVIDUAL
    assert session.max_capacity == 1
    assert list(session.participants.values_list("patient", "status")) == [
        (patient.pk, SessionParticipant.Status.BOOKED)
    ]
    assert session.is_full


def test_add_patient_to_session_individual_session_takes_no_second_patient(provider, clinic):
    session = IndividualSessionFactory(provider=provider, clinic=clinic)

    with pytest.raises(CapacityError) as refused:
        ParticipantFactory(session=session)

    assert refused.value.messages == ["Session is full (1 of 1)."]


def test_add_patient_to_session_ninth_patient_of_eight_seat_group_refused(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic, max_capacity=8)
    fill(session, 8)
    ninth = PatientFactory(tenant=clinic.tenant)

    with pytest.raises(CapacityError) as refused:
        SessionService.add_patient_to_session(session=session, patient=ninth)

    assert refused.value.messages == ["Session is full (8 of 8)."]
    assert session.participants.count() == 8
    assert not ninth.session_participations.exists()


def test_add_patient_to_session_cancellation_frees_a_seat(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic, max_capacity=8)
    booked = fill(session, 8)
    SessionService.cancel_participant(booked[0], reason="Family travelling")

    ninth = SessionService.add_patient_to_session(session, PatientFactory(tenant=clinic.tenant))

    assert ninth.status == SessionParticipant.Status.BOOKED
    assert session.current_capacity == 8
    assert session.participants.count() == 9


def test_add_patient_to_session_no_show_keeps_its_seat(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic, max_capacity=2)
    first, _second = fill(session, 2)
    SessionService.mark_participant_no_show(first)

    with pytest.raises(CapacityError) as refused:
        ParticipantFactory(session=session)

    assert refused.value.messages == ["Session is full (2 of 2)."]


def test_add_patient_to_session_same_patient_twice_refused(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    participant = ParticipantFactory(session=session)

    with pytest.raises(ConflictError) as refused:
        SessionService.add_patient_to_session(session, participant.patient)

    assert refused.value.messages == [
        f"{participant.patient.full_name_en} is already booked in this session."
    ]
    assert session.participants.count() == 1


def test_add_patient_to_session_same_patient_again_after_cancelling(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    first = ParticipantFactory(session=session)
    SessionService.cancel_participant(first, reason="Booked by mistake")

    again = SessionService.add_patient_to_session(session, first.patient)

    assert again.appointment_number != first.appointment_number
    assert session.participants.filter(patient=first.patient).count() == 2


def test_add_patient_to_session_walk_in_while_in_progress(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    SessionService.start_session(session)

    walk_in = ParticipantFactory(session=session)

    assert walk_in.status == SessionParticipant.Status.BOOKED


@pytest.mark.parametrize(("close", "status"), [("cancel", "cancelled"), ("complete", "completed")])
def test_add_patient_to_session_closed_session_refused(provider, clinic, close, status):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    if close == "cancel":
        SessionService.cancel_session(session, reason="Therapist ill")
    else:
        SessionService.complete_session(session)

    with pytest.raises(InvalidTransition) as refused:
        ParticipantFactory(session=session)

    assert refused.value.messages == [
        f"Patients can only be added to a scheduled or in-progress session; this one is {status}."
    ]


def test_add_patient_to_session_patient_of_another_tenant_refused(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    outsider = PatientFactory(tenant=TenantFactory(code="OTHER", name_en="Other Centre"))

    with pytest.raises(OutOfScope) as refused:
        SessionService.add_patient_to_session(session, outsider)

    assert refused.value.messages == [
        f"{outsider.full_name_en} is registered with another organisation and can't be booked here."
    ]
    assert not session.participants.exists()


def test_create_individual_session_patient_of_another_tenant_refused(provider, clinic):
    outsider = PatientFactory(tenant=TenantFactory(code="OTHER", name_en="Other Centre"))

    with pytest.raises(OutOfScope) as refused:
        IndividualSessionFactory(provider=provider, clinic=clinic, patient=outsider)

    assert refused.value.messages == [
        f"{outsider.full_name_en} is registered with another organisation and can't be booked here."
    ]
    assert not Session.objects.exists()


def test_create_group_session_provider_not_working_in_clinic_refused(clinic):
    elsewhere = ProviderFactory(clinic=ClinicFactory(tenant=clinic.tenant))

    with pytest.raises(OutOfScope) as refused:
        create_group(elsewhere, clinic)

    assert refused.value.messages == [f"{elsewhere} does not work in {clinic.name_en}."]
    assert not Session.objects.exists()


def test_create_group_session_inactive_provider_refused(provider, clinic):
    provider.is_active = False
    provider.save()

    with pytest.raises(OutOfScope) as refused:
        create_group(provider, clinic)

    assert refused.value.messages == [f"{provider} does not work in {clinic.name_en}."]


def test_create_group_session_room_of_another_clinic_refused(provider, clinic):
    other_room = RoomFactory(clinic=ClinicFactory(tenant=clinic.tenant), name="Sensory Room")

    with pytest.raises(OutOfScope) as refused:
        create_group(provider, clinic, room=other_room)

    assert refused.value.messages == [f"Room Sensory Room is not in {clinic.name_en}."]
    assert not Session.objects.exists()


def test_create_group_session_room_of_the_clinic_accepted(provider, clinic, room):
    session = create_group(provider, clinic, room=room)

    assert Session.objects.get().room == room
    assert session.room == room


@pytest.mark.parametrize("duration", [14, 481, 0])
def test_create_group_session_duration_out_of_range_refused(provider, clinic, duration):
    with pytest.raises(OutOfScope) as refused:
        create_group(provider, clinic, duration=duration)

    assert refused.value.messages == [f"Duration must be between 15 and 480 minutes (got {duration})."]
    assert not Session.objects.exists()


@pytest.mark.parametrize("duration", [15, 480])
def test_create_group_session_duration_at_the_limits_accepted(provider, clinic, duration):
    session = create_group(provider, clinic, duration=duration, scheduled_time=datetime.time(8, 0))

    assert Session.objects.get().duration == duration
    assert session.ends_at - session.starts_at == datetime.timedelta(minutes=duration)


@pytest.mark.parametrize("duration", [14, 481])
def test_create_individual_session_duration_out_of_range_refused(provider, clinic, duration):
    with pytest.raises(OutOfScope) as refused:
        IndividualSessionFactory(provider=provider, clinic=clinic, duration=duration)

    assert refused.value.messages == [f"Duration must be between 15 and 480 minutes (got {duration})."]


def test_create_session_accepts_a_past_date(provider, clinic):
    session = create_group(provider, clinic, scheduled_date=clinic_today() - datetime.timedelta(days=30))

    assert session.pk is not None


def test_change_capacity_raises_and_lowers_within_range(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic, max_capacity=8)
    fill(session, 3)

    SessionService.change_capacity(session, 20)
    assert session.max_capacity == 20
    SessionService.change_capacity(session, 3)

    session.refresh_from_db()
    assert session.max_capacity == 3
    assert session.is_full
    assert list(session.history.order_by("history_date").values_list("max_capacity", flat=True)) == [8, 20, 3]


def test_change_capacity_below_seats_taken_refused(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic, max_capacity=8)
    fill(session, 3)

    with pytest.raises(CapacityError) as refused:
        SessionService.change_capacity(session, 2)

    assert refused.value.messages == ["Capacity can't drop below the 3 seats already taken."]
    session.refresh_from_db()
    assert session.max_capacity == 8


def test_change_capacity_cancelled_seats_do_not_count(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic, max_capacity=8)
    first, *_ = fill(session, 3)
    SessionService.cancel_participant(first, reason="Moved to another group")

    SessionService.change_capacity(session, 2)

    assert session.max_capacity == 2
    assert session.is_full


@pytest.mark.parametrize("capacity", [1, 21])
def test_change_capacity_out_of_range_refused(provider, clinic, capacity):
    session = GroupSessionFactory(provider=provider, clinic=clinic, max_capacity=8)

    with pytest.raises(CapacityError) as refused:
        SessionService.change_capacity(session, capacity)

    assert refused.value.messages == [f"A group session needs between 2 and 20 seats (got {capacity})."]


def test_change_capacity_individual_session_refused(provider, clinic):
    session = IndividualSessionFactory(provider=provider, clinic=clinic)

    with pytest.raises(CapacityError) as refused:
        SessionService.change_capacity(session, 2)

    assert refused.value.messages == ["An individual session always has exactly one seat."]


def test_change_capacity_completed_session_refused(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    SessionService.complete_session(session)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.change_capacity(session, 10)

    assert refused.value.messages == ["The session is completed; it can no longer be changed."]


def test_remove_patient_from_session_cancels_the_seat(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic, max_capacity=2)
    leaving, _staying = fill(session, 2)

    removed = SessionService.remove_patient_from_session(session, leaving.patient, reason="Moved away")

    assert removed.pk == leaving.pk
    assert removed.status == SessionParticipant.Status.CANCELLED
    assert removed.cancel_reason == "Moved away"
    assert removed.cancelled_at is not None
    assert session.current_capacity == 1


def test_remove_patient_from_session_patient_not_booked_refused(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    stranger = PatientFactory(tenant=clinic.tenant)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.remove_patient_from_session(session, stranger, reason="Not coming")

    assert refused.value.messages == [f"{stranger.full_name_en} has no active booking in this session."]


def test_remove_patient_from_session_needs_a_reason(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    participant = ParticipantFactory(session=session)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.remove_patient_from_session(session, participant.patient, reason="  ")

    assert refused.value.messages == ["Give a reason for the cancellation."]
    participant.refresh_from_db()
    assert participant.status == SessionParticipant.Status.BOOKED


def test_remove_patient_from_session_after_arrival_refused(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    participant = check_in(ParticipantFactory(session=session))

    with pytest.raises(InvalidTransition) as refused:
        SessionService.remove_patient_from_session(session, participant.patient, reason="Left early")

    assert refused.value.messages == ["Can't change this session participant from arrived to cancelled."]


def test_get_available_group_sessions_lists_open_groups_with_seats_by_date_and_time(provider, clinic):
    later = GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY, scheduled_time=TEN)
    earlier_same_day = GroupSessionFactory(
        provider=provider, clinic=clinic, scheduled_date=DAY, scheduled_time=datetime.time(8, 0)
    )
    next_day = GroupSessionFactory(
        provider=provider, clinic=clinic, scheduled_date=DAY + datetime.timedelta(days=1), scheduled_time=TEN
    )
    fill(later, 3)

    available = SessionService.get_available_group_sessions(
        clinic=clinic, date_from=DAY, date_to=DAY + datetime.timedelta(days=30)
    )

    assert list(available) == [earlier_same_day, later, next_day]
    assert [(s.current_capacity, s.available_spots) for s in available] == [(0, 8), (3, 5), (0, 8)]


def test_get_available_group_sessions_leaves_out_full_cancelled_started_and_individual(provider, clinic):
    open_group = GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY)
    full = GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY, max_capacity=2)
    fill(full, 2)
    cancelled = GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY)
    SessionService.cancel_session(cancelled, reason="Holiday")
    started = GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY)
    SessionService.start_session(started)
    IndividualSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY)

    available = SessionService.get_available_group_sessions(clinic=clinic, date_from=DAY, date_to=DAY)

    assert list(available) == [open_group]


def test_get_available_group_sessions_full_group_returns_after_a_cancellation(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY, max_capacity=2)
    first, _second = fill(session, 2)
    SessionService.cancel_participant(first, reason="Ill")

    available = SessionService.get_available_group_sessions(clinic=clinic, date_from=DAY, date_to=DAY)

    assert [(s, s.available_spots) for s in available] == [(session, 1)]


def test_get_available_group_sessions_only_the_clinic_and_the_dates_asked(provider, clinic):
    other_clinic = ClinicFactory(tenant=clinic.tenant)
    GroupSessionFactory(clinic=other_clinic, scheduled_date=DAY)
    GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY - datetime.timedelta(days=1))
    GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY + datetime.timedelta(days=8))
    first_day = GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY)
    last_day = GroupSessionFactory(
        provider=provider, clinic=clinic, scheduled_date=DAY + datetime.timedelta(days=7)
    )

    available = SessionService.get_available_group_sessions(
        clinic=clinic, date_from=DAY, date_to=DAY + datetime.timedelta(days=7)
    )

    assert list(available) == [first_day, last_day]


def test_get_available_group_sessions_filters_by_service_type(provider, clinic):
    social = GroupSessionFactory(
        provider=provider, clinic=clinic, scheduled_date=DAY, service_type="Social Skills Group"
    )
    GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY, service_type="Parent Training")

    available = SessionService.get_available_group_sessions(
        clinic=clinic, date_from=DAY, date_to=DAY, service_type="social skills group"
    )

    assert list(available) == [social]


def history_row_hash(participant):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_hash FROM appointments_historicalsessionparticipant WHERE id = %s", [participant.pk]
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize(("booked", "elsewhere"), [(1, 0), (12, 5)])
def test_add_patient_to_session_takes_five_statements_whatever_is_booked(
    provider, clinic, django_assert_num_queries, booked, elsewhere
):
    session = create_group(
        provider, clinic, max_capacity=20, scheduled_date=clinic_today(), scheduled_time=datetime.time(19, 0)
    )
    fill(session, booked)
    patient = PatientFactory(tenant=clinic.tenant)
    for _ in range(elsewhere):  # the child's other bookings that day, at other hours
        ParticipantFactory(session=GroupSessionFactory(clinic=clinic), patient=patient)
    desk = UserFactory(tenant=clinic.tenant, role=User.Role.FRONT_DESK)

    # Lock the session, lock the child, check seat, duplicate and overlaps, draw the number,
    # insert the participant with its history row; the test's transaction adds a savepoint pair.
    with django_assert_num_queries(5 + 2):
        participant = SessionService.add_patient_to_session(session, patient, user=desk)

    added = participant.history.get()
    assert (added.history_user, added.history_type) == (desk, "+")
    assert (added.appointment_number, added.status, added.session_id) == (
        participant.appointment_number,
        SessionParticipant.Status.BOOKED,
        session.pk,
    )
    assert history_row_hash(participant) is not None
    assert session.participants.get(pk=participant.pk).booked_at == participant.booked_at
    assert session.participants.count() == booked + 1
