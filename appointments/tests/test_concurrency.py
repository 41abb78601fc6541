"""Invariants under simultaneous requests: real threads, real PostgreSQL transactions.

Each test commits its data (``transaction=True``) so the threads, each on its own
connection, see it; a barrier releases them together so they really race.
"""

import datetime
from collections import Counter

import pytest

from appointments.appointment_service import AppointmentService
from appointments.exceptions import CapacityError, ConflictError
from appointments.models import Appointment, Session, SessionParticipant
from appointments.session_service import SessionService
from appointments.tests.factories import GroupSessionFactory
from appointments.tests.threads import run_together
from core.clock import today as clinic_today
from core.tests.factories import PatientFactory, ProviderFactory, RoomFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("frozen_today")]

DAY = datetime.date(2025, 11, 15)


def kinds(outcomes: list[object]) -> Counter:
    return Counter(type(outcome).__name__ for outcome in outcomes)


def test_concurrency_forty_children_race_for_eight_seats(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic, max_capacity=8)
    children = [PatientFactory(tenant=clinic.tenant) for _ in range(40)]

    outcomes = run_together(
        [lambda child=child: SessionService.add_patient_to_session(session, child) for child in children]
    )

    assert kinds(outcomes) == {"SessionParticipant": 8, "CapacityError": 32}
    refusals = {error.messages[0] for error in outcomes if isinstance(error, CapacityError)}
    assert refusals == {"Session is full (8 of 8)."}
    assert session.participants.count() == 8
    assert session.current_capacity == 8
    seated = {p.patient_id for p in outcomes if isinstance(p, SessionParticipant)}
    assert set(session.participants.values_list("patient_id", flat=True)) == seated


def test_concurrency_sixty_bookings_get_sixty_gap_free_numbers(clinic):
    group_provider = ProviderFactory(clinic=clinic)
    sessions = [
        GroupSessionFactory(
            provider=group_provider,
            clinic=clinic,
            scheduled_date=DAY,
            scheduled_time=datetime.time(8 + i),
            max_capacity=10,
        )
        for i in range(3)
    ]
    legacy_providers = [ProviderFactory(clinic=clinic) for _ in range(3)]
    patients = [PatientFactory(tenant=clinic.tenant) for _ in range(60)]

    def join_group(session, patient):
        return SessionService.add_patient_to_session(session, patient).appointment_number

    def book_legacy(provider, hour, patient):
        return Appointment.objects.create(
            patient=patient,
            provider=provider,
            clinic=clinic,
            scheduled_date=DAY + datetime.timedelta(days=1),
            scheduled_time=datetime.time(hour, 0),
            duration=60,
            service_type="Individual Therapy",
        ).appointment_number

    calls = []
    for i, patient in enumerate(patients[:30]):
        calls.append(lambda s=sessions[i % 3], p=patient: join_group(s, p))
    for i, patient in enumerate(patients[30:]):
        calls.append(lambda pr=legacy_providers[i % 3], h=7 + i // 3, p=patient: book_legacy(pr, h, p))

    outcomes = run_together(calls)

    assert kinds(outcomes) == {"str": 60}
    year = clinic_today().year
    assert sorted(outcomes) == [f"APT-AGDAR-{year}-{n:05d}" for n in range(1, 61)]
    stored = [
        *SessionParticipant.objects.values_list("appointment_number", flat=True),
        *Appointment.objects.values_list("appointment_number", flat=True),
    ]
    assert sorted(stored) == sorted(outcomes)


def test_concurrency_same_provider_slot_booked_once_across_sessions_and_appointments(provider, clinic, room):
    def create_group():
        return SessionService.create_group_session(
            provider=provider,
            clinic=clinic,
            scheduled_date=DAY,
            scheduled_time=datetime.time(10, 0),
            duration=60,
            service_type="Social Skills Group",
            max_capacity=6,
        )

    def book_appointment():
        return AppointmentService.book_appointment(
            patient=PatientFactory(tenant=clinic.tenant),
            provider=provider,
            clinic=clinic,
            scheduled_date=DAY,
            scheduled_time=datetime.time(10, 30),
            duration=60,
            service_type="Individual Therapy",
        )

    outcomes = run_together([create_group] * 6 + [book_appointment] * 6)

    counts = kinds(outcomes)
    assert counts["ConflictError"] == 11
    assert counts["Session"] + counts["Appointment"] == 1
    assert Session.objects.count() + Appointment.objects.count() == 1


def test_concurrency_same_patient_booked_once_into_overlapping_sessions(clinic):
    child = PatientFactory(tenant=clinic.tenant)
    sessions = [
        GroupSessionFactory(
            provider=ProviderFactory(clinic=clinic),
            clinic=clinic,
            scheduled_date=DAY,
            scheduled_time=datetime.time(10, 15 * (i % 2)),
        )
        for i in range(8)
    ]

    outcomes = run_together(
        [
            lambda session=session: SessionService.add_patient_to_session(session, child)
            for session in sessions
        ]
    )

    assert kinds(outcomes) == {"SessionParticipant": 1, "ConflictError": 7}
    assert all(
        error.messages[0].startswith(f"{child.full_name_en} is already booked 15/11/2025 10:")
        for error in outcomes
        if isinstance(error, ConflictError)
    )
    assert child.session_participations.count() == 1


@pytest.mark.parametrize("hour", [9, 11, 13, 15])
def test_concurrency_reschedule_races_a_booking_into_the_same_provider_slot(provider, clinic, room, hour):
    # The reschedule locks the provider, both rooms, the appointment, then its patient;
    # the bookings the provider, the old room, their patient, then the counter - one
    # order (core.locks), so they queue instead of deadlocking, and one wins the slot.
    other_room = RoomFactory(clinic=clinic)
    appointment = AppointmentService.book_appointment(
        patient=PatientFactory(tenant=clinic.tenant),
        provider=provider,
        clinic=clinic,
        room=room,
        scheduled_date=DAY,
        scheduled_time=datetime.time(hour - 2),
        duration=60,
        service_type="Individual Therapy",
    )
    newcomers = [PatientFactory(tenant=clinic.tenant) for _ in range(2)]

    def reschedule():
        return AppointmentService.reschedule(appointment, DAY, datetime.time(hour), room=other_room)

    def book(patient):
        return AppointmentService.book_appointment(
            patient=patient,
            provider=provider,
            clinic=clinic,
            room=room,
            scheduled_date=DAY,
            scheduled_time=datetime.time(hour, 30),
            duration=60,
            service_type="Individual Therapy",
        )

    outcomes = run_together([reschedule, *(lambda patient=patient: book(patient) for patient in newcomers)])

    assert kinds(outcomes) == {"Appointment": 1, "ConflictError": 2}
    (winner,) = [outcome for outcome in outcomes if isinstance(outcome, Appointment)]
    in_the_slot = Appointment.objects.filter(
        provider=provider, scheduled_date=DAY, scheduled_time__gte=datetime.time(hour)
    )
    assert list(in_the_slot.values_list("pk", flat=True)) == [winner.pk]
    appointment.refresh_from_db()
    rescheduled = winner.pk == appointment.pk
    assert appointment.scheduled_time == datetime.time(hour if rescheduled else hour - 2)
    assert appointment.room == (other_room if rescheduled else room)
