"""No double booking: service refusals with names and times, and the database's own constraints."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from appointments.appointment_service import AppointmentService
from appointments.exceptions import ConflictError
from appointments.models import Appointment, Session, SessionParticipant
from appointments.session_service import SessionService
from appointments.tests.factories import (
    AppointmentFactory,
    GroupSessionFactory,
    IndividualSessionFactory,
    ParticipantFactory,
)
from core.tests.factories import PatientFactory, ProviderFactory, RoomFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 11, 15)
SLOT = "15/11/2025 10:00-11:00"


def at(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


def group(provider, clinic, start, room=None, **overrides):
    return GroupSessionFactory(
        provider=provider, clinic=clinic, room=room, scheduled_date=DAY, scheduled_time=start, **overrides
    )


def constraint_of(error: IntegrityError) -> str:
    return error.__cause__.diag.constraint_name


# Provider, room and patient through the service


def test_create_group_session_provider_double_booking_refused(provider, clinic):
    group(provider, clinic, at(10))

    with pytest.raises(ConflictError) as refused:
        group(provider, clinic, at(10, 30))

    assert refused.value.messages == [f"{provider} already has a booking {SLOT}."]
    assert Session.objects.count() == 1


def test_create_group_session_room_double_booking_refused(provider, clinic, room):
    group(provider, clinic, at(10), room=room)
    colleague = ProviderFactory(clinic=clinic)

    with pytest.raises(ConflictError) as refused:
        group(colleague, clinic, at(9, 30), room=room)

    assert refused.value.messages == [f"Room {room.name} is already booked {SLOT}."]
    assert Session.objects.count() == 1


def test_create_group_session_provider_and_room_busy_in_two_bookings_names_both(provider, clinic, room):
    colleague = ProviderFactory(clinic=clinic)
    group(provider, clinic, at(10))
    group(colleague, clinic, at(11), room=room)

    with pytest.raises(ConflictError) as refused:
        group(provider, clinic, at(10, 30), room=room)

    assert refused.value.messages == [
        f"{provider} already has a booking {SLOT}.",
        f"Room {room.name} is already booked 15/11/2025 11:00-12:00.",
    ]


def test_add_patient_to_session_patient_double_booking_refused(provider, clinic):
    patient = PatientFactory(tenant=clinic.tenant)
    ParticipantFactory(session=group(provider, clinic, at(10)), patient=patient)
    overlapping = group(ProviderFactory(clinic=clinic), clinic, at(10, 45))

    with pytest.raises(ConflictError) as refused:
        SessionService.add_patient_to_session(overlapping, patient)

    assert refused.value.messages == [f"{patient.full_name_en} is already booked {SLOT}."]
    assert not overlapping.participants.exists()


def test_create_individual_session_patient_double_booking_refused_and_nothing_kept(provider, clinic):
    patient = PatientFactory(tenant=clinic.tenant)
    ParticipantFactory(session=group(provider, clinic, at(10)), patient=patient)
    colleague = ProviderFactory(clinic=clinic)

    with pytest.raises(ConflictError) as refused:
        IndividualSessionFactory(
            provider=colleague, clinic=clinic, patient=patient, scheduled_date=DAY, scheduled_time=at(10)
        )

    assert refused.value.messages == [f"{patient.full_name_en} is already booked {SLOT}."]
    assert not Session.objects.filter(provider=colleague).exists()


def test_create_group_session_back_to_back_allowed(provider, clinic, room):
    patient = PatientFactory(tenant=clinic.tenant)
    first = group(provider, clinic, at(10), room=room)
    ParticipantFactory(session=first, patient=patient)

    before = group(provider, clinic, at(9), room=room)
    after = group(provider, clinic, at(11), room=room)
    ParticipantFactory(session=before, patient=patient)
    ParticipantFactory(session=after, patient=patient)

    assert patient.session_participations.count() == 3


def test_create_group_session_same_time_another_day_allowed(provider, clinic):
    group(provider, clinic, at(10))

    other_day = GroupSessionFactory(
        provider=provider,
        clinic=clinic,
        scheduled_date=DAY + datetime.timedelta(days=1),
        scheduled_time=at(10),
    )

    assert other_day.pk is not None


def test_create_group_session_overnight_overlap_across_midnight_refused(provider, clinic):
    GroupSessionFactory(
        provider=provider, clinic=clinic, scheduled_date=DAY, scheduled_time=at(23), duration=120
    )

    with pytest.raises(ConflictError) as refused:
        GroupSessionFactory(
            provider=provider,
            clinic=clinic,
            scheduled_date=DAY + datetime.timedelta(days=1),
            scheduled_time=at(0, 30),
        )

    assert refused.value.messages == [f"{provider} already has a booking 15/11/2025 23:00-01:00."]


def test_add_patient_to_session_patient_overlap_across_midnight_refused(provider, clinic):
    patient = PatientFactory(tenant=clinic.tenant)
    late = GroupSessionFactory(
        provider=provider, clinic=clinic, scheduled_date=DAY, scheduled_time=at(22), duration=180
    )
    ParticipantFactory(session=late, patient=patient)
    early = GroupSessionFactory(
        provider=ProviderFactory(clinic=clinic),
        clinic=clinic,
        scheduled_date=DAY + datetime.timedelta(days=1),
        scheduled_time=at(0),
    )

    with pytest.raises(ConflictError) as refused:
        SessionService.add_patient_to_session(early, patient)

    assert refused.value.messages == [f"{patient.full_name_en} is already booked 15/11/2025 22:00-01:00."]


def test_cancel_session_frees_provider_and_room_time(provider, clinic, room):
    cancelled = group(provider, clinic, at(10), room=room)
    SessionService.cancel_session(cancelled, reason="Therapist ill")

    replacement = group(provider, clinic, at(10), room=room)

    assert replacement.pk != cancelled.pk


def test_cancel_participant_frees_the_patients_time(provider, clinic):
    patient = PatientFactory(tenant=clinic.tenant)
    participant = ParticipantFactory(session=group(provider, clinic, at(10)), patient=patient)
    SessionService.cancel_participant(participant, reason="Moved to the other group")
    other_group = group(ProviderFactory(clinic=clinic), clinic, at(10))

    moved = SessionService.add_patient_to_session(other_group, patient)

    assert moved.session == other_group


def test_cancel_session_frees_its_participants_time(provider, clinic):
    patient = PatientFactory(tenant=clinic.tenant)
    cancelled = group(provider, clinic, at(10))
    ParticipantFactory(session=cancelled, patient=patient)
    SessionService.cancel_session(cancelled, reason="Room flooded")

    moved = ParticipantFactory(session=group(ProviderFactory(clinic=clinic), clinic, at(10)), patient=patient)

    assert moved.status == SessionParticipant.Status.BOOKED


# Sessions against legacy appointments, both directions


def book_legacy(provider, clinic, start, patient=None, room=None):
    return AppointmentFactory(
        provider=provider,
        clinic=clinic,
        patient=patient or PatientFactory(tenant=clinic.tenant),
        room=room,
        scheduled_date=DAY,
        scheduled_time=start,
    )


def test_create_group_session_provider_busy_with_legacy_appointment_refused(provider, clinic):
    book_legacy(provider, clinic, at(10))

    with pytest.raises(ConflictError) as refused:
        group(provider, clinic, at(10, 30))

    assert refused.value.messages == [f"{provider} already has a booking {SLOT}."]


def test_create_group_session_room_busy_with_legacy_appointment_refused(provider, clinic, room):
    book_legacy(ProviderFactory(clinic=clinic), clinic, at(10), room=room)

    with pytest.raises(ConflictError) as refused:
        group(provider, clinic, at(10), room=room)

    assert refused.value.messages == [f"Room {room.name} is already booked {SLOT}."]


def test_add_patient_to_session_patient_busy_with_legacy_appointment_refused(provider, clinic):
    patient = PatientFactory(tenant=clinic.tenant)
    appointment = book_legacy(ProviderFactory(clinic=clinic), clinic, at(10), patient=patient)
    session = group(provider, clinic, at(10, 15))

    with pytest.raises(ConflictError) as refused:
        SessionService.add_patient_to_session(session, patient)

    assert refused.value.messages == [
        f"{patient.full_name_en} already has appointment {appointment.appointment_number} {SLOT}."
    ]


def test_book_appointment_provider_busy_with_session_refused(provider, clinic):
    group(provider, clinic, at(10))

    with pytest.raises(ConflictError) as refused:
        book_legacy(provider, clinic, at(10, 30))

    assert refused.value.messages == [f"{provider} already has a booking {SLOT}."]
    assert not Appointment.objects.exists()


def test_book_appointment_room_busy_with_session_refused(provider, clinic, room):
    group(provider, clinic, at(10), room=room)

    with pytest.raises(ConflictError) as refused:
        book_legacy(ProviderFactory(clinic=clinic), clinic, at(10), room=room)

    assert refused.value.messages == [f"Room {room.name} is already booked {SLOT}."]


def test_book_appointment_patient_busy_in_session_refused(provider, clinic):
    patient = PatientFactory(tenant=clinic.tenant)
    ParticipantFactory(session=group(provider, clinic, at(10)), patient=patient)

    with pytest.raises(ConflictError) as refused:
        book_legacy(ProviderFactory(clinic=clinic), clinic, at(10, 59), patient=patient)

    assert refused.value.messages == [f"{patient.full_name_en} is already booked {SLOT}."]


def test_book_appointment_after_legacy_appointment_cancelled_frees_session_time(provider, clinic, room):
    appointment = book_legacy(provider, clinic, at(10), room=room)
    AppointmentService.cancel(appointment, reason="Parent asked")

    session = group(provider, clinic, at(10), room=room)

    assert session.pk is not None


def test_book_appointment_back_to_back_with_session_allowed(provider, clinic, room):
    patient = PatientFactory(tenant=clinic.tenant)
    ParticipantFactory(session=group(provider, clinic, at(10), room=room), patient=patient)

    appointment = book_legacy(provider, clinic, at(11), patient=patient, room=room)

    assert appointment.pk is not None


def seed_style_appointment(provider, clinic, start, **overrides):
    fields = {
        "patient": PatientFactory(tenant=clinic.tenant),
        "provider": provider,
        "clinic": clinic,
        "scheduled_date": DAY,
        "scheduled_time": start,
        "duration": 60,
        "service_type": "Individual Therapy",
    }
    return Appointment.objects.create(**(fields | overrides))


@pytest.mark.parametrize("busy", ["provider", "room", "patient"])
def test_appointment_objects_create_overlapping_a_session_refused(provider, clinic, room, busy):
    # given a session with a participant, booked with the seed's bare objects.create
    patient = PatientFactory(tenant=clinic.tenant)
    ParticipantFactory(session=group(provider, clinic, at(10), room=room), patient=patient)
    overlapping = {
        "provider": {"provider": provider},
        "room": {"provider": ProviderFactory(clinic=clinic), "room": room},
        "patient": {"provider": ProviderFactory(clinic=clinic), "patient": patient},
    }[busy]
    expected = {
        "provider": f"{provider} already has a booking {SLOT}.",
        "room": f"Room {room.name} is already booked {SLOT}.",
        "patient": f"{patient.full_name_en} is already booked {SLOT}.",
    }[busy]

    # when / then
    with pytest.raises(ConflictError) as refused:
        seed_style_appointment(overlapping.pop("provider"), clinic, at(10, 30), **overlapping)

    assert refused.value.messages == [expected]
    assert not Appointment.objects.exists()


def test_appointment_objects_create_back_to_back_with_a_session_allowed(provider, clinic, room):
    patient = PatientFactory(tenant=clinic.tenant)
    ParticipantFactory(session=group(provider, clinic, at(10), room=room), patient=patient)

    appointment = seed_style_appointment(provider, clinic, at(11), room=room, patient=patient)

    assert appointment.appointment_number.endswith("00002")


# Defence in depth: raw ORM writes past the service


def raw_session(provider, clinic, start, room=None, **overrides):
    fields = {
        "session_type": Session.SessionType.GROUP,
        "provider": provider,
        "clinic": clinic,
        "room": room,
        "scheduled_date": DAY,
        "scheduled_time": start,
        "duration": 60,
        "service_type": "Raw write",
        "max_capacity": 4,
    }
    fields.update(overrides)
    return Session.objects.create(**fields)


def test_session_table_refuses_overlapping_provider_on_raw_write(provider, clinic):
    group(provider, clinic, at(10))

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        raw_session(provider, clinic, at(10, 30))

    assert constraint_of(refused.value) == "session_provider_no_overlap"
    assert Session.objects.count() == 1


def test_session_table_refuses_overlapping_room_on_raw_write(provider, clinic, room):
    group(provider, clinic, at(10), room=room)

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        raw_session(ProviderFactory(clinic=clinic), clinic, at(9, 30), room=room)

    assert constraint_of(refused.value) == "session_room_no_overlap"


def test_session_table_allows_back_to_back_and_cancelled_overlap_on_raw_write(provider, clinic, room):
    group(provider, clinic, at(10), room=room)

    raw_session(provider, clinic, at(11), room=room)
    raw_session(provider, clinic, at(10), room=room, status=Session.Status.CANCELLED)

    assert Session.objects.count() == 3


def test_participant_table_refuses_second_active_row_of_one_patient_on_raw_write(provider, clinic):
    participant = ParticipantFactory(session=group(provider, clinic, at(10)))

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        SessionParticipant.objects.create(
            session=participant.session,
            patient=participant.patient,
            appointment_number="APT-AGDAR-2025-90001",
        )

    assert constraint_of(refused.value) == "participant_one_active_per_patient"
    assert participant.session.participants.count() == 1


def test_participant_table_allows_cancelled_rows_beside_the_active_one_on_raw_write(provider, clinic):
    participant = ParticipantFactory(session=group(provider, clinic, at(10)))

    SessionParticipant.objects.create(
        session=participant.session,
        patient=participant.patient,
        appointment_number="APT-AGDAR-2025-90001",
        status=SessionParticipant.Status.CANCELLED,
    )

    assert participant.session.participants.count() == 2


def test_participant_table_refuses_a_reused_number_on_raw_write(provider, clinic):
    participant = ParticipantFactory(session=group(provider, clinic, at(10)))

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        SessionParticipant.objects.create(
            session=participant.session,
            patient=PatientFactory(tenant=clinic.tenant),
            appointment_number=participant.appointment_number,
        )

    assert constraint_of(refused.value) == "appointments_sessionparticipant_appointment_number_key"


@pytest.mark.parametrize(
    ("session_type", "max_capacity", "constraint"),
    [
        # 0 breaks both checks; PostgreSQL tests check constraints in name order.
        (Session.SessionType.GROUP, 0, "session_capacity_matches_type"),
        (Session.SessionType.GROUP, 21, "session_capacity_range"),
        (Session.SessionType.GROUP, 1, "session_capacity_matches_type"),
        (Session.SessionType.INDIVIDUAL, 2, "session_capacity_matches_type"),
    ],
)
def test_session_table_refuses_capacity_out_of_rule_on_raw_write(
    provider, clinic, session_type, max_capacity, constraint
):
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        raw_session(provider, clinic, at(10), session_type=session_type, max_capacity=max_capacity)

    assert constraint_of(refused.value) == constraint
    assert not Session.objects.exists()


@pytest.mark.parametrize("duration", [14, 481])
def test_session_table_refuses_duration_out_of_range_on_raw_write(provider, clinic, duration):
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        raw_session(provider, clinic, at(10), duration=duration)

    assert constraint_of(refused.value) == "session_duration_range"


@pytest.mark.parametrize(
    ("same", "constraint"),
    [
        ("provider", "appointment_provider_no_overlap"),
        ("room", "appointment_room_no_overlap"),
        ("patient", "appointment_patient_no_overlap"),
    ],
)
def test_appointment_table_refuses_overlap_on_raw_create(provider, clinic, room, same, constraint):
    patient = PatientFactory(tenant=clinic.tenant)
    first = {"provider": provider, "room": room, "patient": patient}
    Appointment.objects.create(
        clinic=clinic, scheduled_date=DAY, scheduled_time=at(10), service_type="Individual Therapy", **first
    )
    second = {
        "provider": ProviderFactory(clinic=clinic),
        "room": RoomFactory(clinic=clinic),
        "patient": PatientFactory(tenant=clinic.tenant),
        same: first[same],
    }

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Appointment.objects.create(
            clinic=clinic,
            scheduled_date=DAY,
            scheduled_time=at(10, 30),
            service_type="Individual Therapy",
            **second,
        )

    assert constraint_of(refused.value) == constraint
    assert Appointment.objects.count() == 1
