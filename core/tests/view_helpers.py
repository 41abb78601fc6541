"""Builders for the HTTP view tests: staff of each role and bookings made by the services."""

import datetime
import html

from django.utils import timezone
from django.utils.html import strip_tags

from appointments.appointment_service import AppointmentService
from appointments.models import Appointment, Session, SessionParticipant, SessionSeries
from appointments.series_service import SeriesService
from appointments.session_service import SessionService
from core.middleware import ACTING_TENANT_SESSION_KEY
from core.models import Clinic, Patient, Provider, Room, Tenant, User
from core.tests.factories import ConsentFactory, PatientFactory, UserFactory

Role = User.Role
ALL_ROLES = tuple(Role)
CLINICIANS = (Role.PSYCHOLOGIST, Role.OCCUPATIONAL_THERAPIST, Role.ABA_THERAPIST)


def staff_member(tenant: Tenant, role: str, **fields) -> User:
    return UserFactory(tenant=tenant, role=role, **fields)


def superuser() -> User:
    return UserFactory(tenant=None, role=Role.ADMIN, is_superuser=True, is_staff=True)


def work_in(client, tenant: Tenant) -> None:
    """The superuser signed in on ``client`` works in ``tenant`` on the staff pages, as if
    picked on ``core:tenant_pick`` (``core/tests/test_views_tenant_pick.py`` tests the page)."""
    session = client.session
    session[ACTING_TENANT_SESSION_KEY] = tenant.pk
    session.save()


def today() -> datetime.date:
    return timezone.localdate()


def group_session(
    provider: Provider,
    clinic: Clinic,
    *,
    day: datetime.date | None = None,
    hour: int = 10,
    capacity: int = 8,
    room: Room | None = None,
    service_type: str = "Social Skills Group",
) -> Session:
    return SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=day or today(),
        scheduled_time=datetime.time(hour, 0),
        duration=60,
        service_type=service_type,
        max_capacity=capacity,
        room=room,
    )


def group_series(
    provider: Provider,
    clinic: Clinic,
    *,
    day: datetime.date | None = None,
    hour: int = 12,
    count: int = 2,
    capacity: int = 8,
) -> SessionSeries:
    """A weekly group series of ``count`` sessions from ``day`` (today), made by the series service."""
    return SeriesService.create_series(
        session_type=Session.SessionType.GROUP,
        provider=provider,
        clinic=clinic,
        service_type="Social Skills Group",
        title="Social skills",
        start_date=day or today(),
        scheduled_time=datetime.time(hour, 0),
        duration=60,
        occurrence_count=count,
        max_capacity=capacity,
    )


def consented_patient(tenant: Tenant, **fields) -> Patient:
    patient = PatientFactory(tenant=tenant, **fields)
    ConsentFactory(patient=patient)
    return patient


def booked(session: Session, patient: Patient | None = None) -> SessionParticipant:
    patient = patient or consented_patient(session.clinic.tenant)
    return SessionService.add_patient_to_session(session, patient)


def legacy_appointment(
    provider: Provider,
    clinic: Clinic,
    patient: Patient | None = None,
    *,
    day: datetime.date | None = None,
    hour: int = 15,
) -> Appointment:
    return AppointmentService.book_appointment(
        patient=patient or consented_patient(clinic.tenant),
        provider=provider,
        clinic=clinic,
        scheduled_date=day or today(),
        scheduled_time=datetime.time(hour, 0),
        duration=45,
        service_type="Assessment",
    )


def messages_of(response) -> list[str]:
    """The flash messages as the reader sees them: the text, without the ``<bdi>`` isolation
    (core/bidi.py) around names and numbers; core/tests/test_dates_formats.py checks that markup."""
    return [html.unescape(strip_tags(str(message))) for message in response.context["messages"]]
