"""Scheduling test data, always reached through the services.

The factories build their inputs (clinic, provider, patient) with the core factories
and then call ``SessionService`` / ``AppointmentService``, so every row under test
was written the way production writes it.
"""

import datetime
import itertools

import factory

from appointments.appointment_service import AppointmentService
from appointments.models import Appointment, Session, SessionParticipant
from appointments.session_service import SessionService
from core.clock import today as clinic_today
from core.models import User
from core.tests.factories import ClinicFactory, ConsentFactory, PatientFactory, ProviderFactory, UserFactory


def hourly_slot(n: int) -> datetime.time:
    """Distinct start times (07:00-18:00) so one provider's factory-made bookings don't collide."""
    return datetime.time(7 + n % 12, 0)


# One counter for every booking factory, reset before each test (root conftest.py): a
# test's factory-made sessions and appointments start at 07:00, 08:00, ... in the order
# the test makes them, whatever ran before it in the worker. Per-factory sequences let a
# group session and an individual one of the same provider land on the same hour.
_slots = itertools.count()


def next_slot() -> datetime.time:
    return hourly_slot(next(_slots))


def reset_slots() -> None:
    global _slots
    _slots = itertools.count()


class GroupSessionFactory(factory.Factory):
    """A scheduled group session created by ``SessionService.create_group_session``."""

    class Meta:
        model = Session

    clinic = factory.SubFactory(ClinicFactory)
    provider = factory.SubFactory(ProviderFactory, clinic=factory.SelfAttribute("..clinic"))
    room = None
    scheduled_date = factory.LazyFunction(clinic_today)
    scheduled_time = factory.LazyFunction(next_slot)
    duration = 60
    service_type = "Social Skills Group"
    max_capacity = 8
    group_notes = ""
    user = None

    @classmethod
    def _create(cls, model_class, **kwargs) -> Session:
        return SessionService.create_group_session(**kwargs)


class IndividualSessionFactory(factory.Factory):
    """A scheduled one-seat session with its patient, from ``create_individual_session``."""

    class Meta:
        model = Session

    clinic = factory.SubFactory(ClinicFactory)
    provider = factory.SubFactory(ProviderFactory, clinic=factory.SelfAttribute("..clinic"))
    patient = factory.SubFactory(PatientFactory, tenant=factory.SelfAttribute("..clinic.tenant"))
    room = None
    scheduled_date = factory.LazyFunction(clinic_today)
    scheduled_time = factory.LazyFunction(next_slot)
    duration = 60
    service_type = "Individual Therapy"
    user = None

    @classmethod
    def _create(cls, model_class, **kwargs) -> Session:
        return SessionService.create_individual_session(**kwargs)


class ParticipantFactory(factory.Factory):
    """A booked participant added by ``SessionService.add_patient_to_session``."""

    class Meta:
        model = SessionParticipant

    session = factory.SubFactory(GroupSessionFactory)
    patient = factory.SubFactory(PatientFactory, tenant=factory.SelfAttribute("..session.clinic.tenant"))
    user = None

    @classmethod
    def _create(cls, model_class, **kwargs) -> SessionParticipant:
        return SessionService.add_patient_to_session(**kwargs)


class AppointmentFactory(factory.Factory):
    """A booked legacy appointment from ``AppointmentService.book_appointment``."""

    class Meta:
        model = Appointment

    clinic = factory.SubFactory(ClinicFactory)
    provider = factory.SubFactory(ProviderFactory, clinic=factory.SelfAttribute("..clinic"))
    patient = factory.SubFactory(PatientFactory, tenant=factory.SelfAttribute("..clinic.tenant"))
    room = None
    scheduled_date = factory.LazyFunction(clinic_today)
    scheduled_time = factory.LazyFunction(next_slot)
    duration = 60
    service_type = "Individual Therapy"
    user = None

    @classmethod
    def _create(cls, model_class, **kwargs) -> Appointment:
        return AppointmentService.book_appointment(**kwargs)


def finance_clerk(tenant) -> User:
    return UserFactory(tenant=tenant, role=User.Role.FINANCE)


def check_in(participant: SessionParticipant, user: User | None = None) -> SessionParticipant:
    """Give the patient a general consent, clear finance and check them in."""
    ConsentFactory(patient=participant.patient)
    SessionService.clear_finance(participant, user=user or finance_clerk(participant.patient.tenant))
    return SessionService.check_in_participant(participant, user=user)


def under_way(participant: SessionParticipant) -> SessionParticipant:
    """Check the child in and start their session (unless started): their notes can be signed."""
    check_in(participant)
    session = Session.objects.get(pk=participant.session_id)
    if session.status == Session.Status.SCHEDULED:
        SessionService.start_session(session)
    participant.refresh_from_db()
    return participant


def appointment_under_way(appointment: Appointment) -> Appointment:
    """Check a legacy appointment's patient in and start it: its notes can be signed."""
    ConsentFactory(patient=appointment.patient)
    AppointmentService.clear_finance(appointment, user=finance_clerk(appointment.patient.tenant))
    AppointmentService.check_in(appointment)
    return AppointmentService.start(appointment)
