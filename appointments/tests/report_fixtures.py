"""Set-up shared by the report builders' tests (``test_reports_<key>.py``): the fortnight they
report on, children named by hand, bookings and their outcomes, another organisation, and the
query count at two data sizes."""

import datetime
from collections.abc import Callable, Iterable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.appointment_service import AppointmentService
from appointments.exceptions import CheckInBlocked
from appointments.models import Appointment, Session, SessionParticipant
from appointments.reports.base import Report, ReportFilters, Table
from appointments.session_service import SessionService
from appointments.tests.factories import appointment_under_way, check_in
from core.models import Clinic, Patient, Provider, Tenant, User
from core.tests.factories import ClinicFactory, ProviderFactory, TenantFactory
from core.tests.view_helpers import booked, consented_patient, group_session, legacy_appointment

# Sunday 01/03/2026 to Saturday 14/03/2026: the two weeks before the frozen Sunday 15/03.
FORTNIGHT = ReportFilters(date_from=datetime.date(2026, 3, 1), date_to=datetime.date(2026, 3, 14))
FIRST_WEEK = datetime.date(2026, 3, 1)
SECOND_WEEK = datetime.date(2026, 3, 8)
# The days the examples book on, Saturday 07/03 to Friday 13/03.
SATURDAY = datetime.date(2026, 3, 7)
SUNDAY = datetime.date(2026, 3, 8)
MONDAY = datetime.date(2026, 3, 9)
TUESDAY = datetime.date(2026, 3, 10)
WEDNESDAY = datetime.date(2026, 3, 11)
THURSDAY = datetime.date(2026, 3, 12)
FRIDAY = datetime.date(2026, 3, 13)
# The two data sizes a report's query count is taken at: group sessions, children in each.
AT_TWO_SIZES = pytest.mark.parametrize(("sessions", "per_session"), [(1, 1), (6, 4)])
ARABIC_FIRST_NAMES = {
    "Amal": "أمل",
    "Badr": "بدر",
    "Dana": "دانة",
    "Fahd": "فهد",
    "Huda": "هدى",
    "Jana": "جنى",
    "Khalid": "خالد",
}


def march(number: int) -> datetime.date:
    return datetime.date(2026, 3, number)


def table(report: Report, key: str) -> Table:
    return next(table for table in report.tables if table.key == key)


def child(tenant: Tenant, first: str, arabic: str = "") -> Patient:
    """A consented child "<first> Test" (in Arabic "<arabic> اختبار" when given), MRN "MRN-<FIRST>"."""
    return consented_patient(
        tenant,
        first_name_en=first,
        last_name_en="Test",
        first_name_ar=arabic,
        last_name_ar="اختبار" if arabic else "",
        mrn=f"MRN-{first}",
    )


def named_children(tenant: Tenant) -> dict[str, Patient]:
    """Amal, Badr, Dana, Fahd, Huda, Jana and Khalid, named in English and Arabic."""
    return {first: child(tenant, first, arabic) for first, arabic in ARABIC_FIRST_NAMES.items()}


def attend(session: Session, patient: Patient) -> SessionParticipant:
    return check_in(booked(session, patient))


def turned_away(participant: SessionParticipant) -> SessionParticipant:
    """Not cleared by finance: refused at the check-in gate, then turned away."""
    with pytest.raises(CheckInBlocked):
        SessionService.check_in_participant(participant)
    return SessionService.mark_turned_away(participant)


def held(session: Session, attended: Iterable[Patient] = (), absent: Iterable[Patient] = ()) -> Session:
    """Check ``attended`` in, book ``absent``, and complete: the first attend, the rest no-show."""
    for patient in attended:
        attend(session, patient)
    for patient in absent:
        booked(session, patient)
    return SessionService.complete_session(session)


def individual_attended(
    provider: Provider,
    clinic: Clinic,
    patient: Patient,
    day: datetime.date,
    hour: int,
    *,
    duration: int = 60,
    service_type: str = "Individual Therapy",
) -> Session:
    """An individual session of ``patient``'s on ``day`` at ``hour``: attended and completed."""
    session = SessionService.create_individual_session(
        provider=provider,
        clinic=clinic,
        patient=patient,
        scheduled_date=day,
        scheduled_time=datetime.time(hour),
        duration=duration,
        service_type=service_type,
    )
    check_in(session.participants.get())
    return SessionService.complete_session(session)


def attended_group(
    provider: Provider, clinic: Clinic, day: datetime.date, hour: int, *names: str
) -> dict[str, SessionParticipant]:
    """A group on ``day`` at ``hour`` whose children all attended, by first name."""
    session = group_session(provider, clinic, day=day, hour=hour)
    came = {name: attend(session, child(clinic.tenant, name)) for name in names}
    SessionService.complete_session(session)
    return came


def completed_appointment(
    provider: Provider, clinic: Clinic, patient: Patient, day: datetime.date, hour: int = 15
) -> Appointment:
    appointment = appointment_under_way(legacy_appointment(provider, clinic, patient, day=day, hour=hour))
    return AppointmentService.complete(appointment)


def other_organisation(**clinic_fields) -> tuple[Clinic, Provider]:
    """A clinic of another organisation and its provider: what a report must never count."""
    clinic = ClinicFactory(tenant=TenantFactory(code="OTHER", name_en="Other centre"), **clinic_fields)
    return clinic, ProviderFactory(clinic=clinic)


def groups_attended(
    provider: Provider, clinic: Clinic, day: datetime.date, sessions: int, per_session: int
) -> None:
    """``sessions`` groups on ``day``, hourly from 08:00, each with ``per_session`` children attending."""
    for number in range(sessions):
        session = group_session(provider, clinic, day=day, hour=8 + number)
        held(session, [child(clinic.tenant, f"C{number}x{seat}") for seat in range(per_session)])


def queries_run(
    build: Callable[[User, ReportFilters], Report], user: User, filters: ReportFilters = FORTNIGHT
) -> tuple[Report, int]:
    """The report ``build`` makes for ``user`` and how many queries it ran."""
    with CaptureQueriesContext(connection) as queries:
        report = build(user, filters)
    return report, len(queries)
