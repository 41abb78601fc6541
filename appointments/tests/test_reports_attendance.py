"""The attendance report: outcomes by week, discipline, provider, series and child, on services' data.

The fixed data (the clock pinned to Sunday 15/03/2026): a group session on Saturday 07/03
with 3 children attended, 1 no-show, 1 late cancellation (the family, after the window),
1 timely cancellation (the clinic) and 1 turned away; a legacy appointment on Sunday 08/03,
completed and back-filled (one event, not two); a legacy no-show on Monday 09/03 not
back-filled (counted as an appointment).
"""

import dataclasses
import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from appointments.appointment_service import AppointmentService
from appointments.backfill_service import BackfillScope, backfill_sessions
from appointments.exceptions import CheckInBlocked
from appointments.models import Session, SessionParticipant
from appointments.reports.attendance import attendance_report
from appointments.reports.base import ReportFilters
from appointments.session_service import SessionService
from appointments.tests.factories import appointment_under_way, check_in
from core.models import Clinic, User
from core.tests.factories import (
    ClinicFactory,
    ConsentFactory,
    PatientFactory,
    ProviderFactory,
    TenantFactory,
)
from core.tests.view_helpers import group_series, group_session, legacy_appointment, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

CancelledBy = SessionParticipant.CancelledBy
SATURDAY = datetime.date(2026, 3, 7)
SUNDAY = datetime.date(2026, 3, 8)
MONDAY = datetime.date(2026, 3, 9)
FIRST_WEEK = datetime.date(2026, 3, 1)
SECOND_WEEK = datetime.date(2026, 3, 8)
FILTERS = ReportFilters(
    date_from=datetime.date(2026, 3, 1), date_to=datetime.date(2026, 3, 14), missed_at_least=2
)


def child(tenant, first: str, arabic: str = ""):
    patient = PatientFactory(
        tenant=tenant,
        first_name_en=first,
        last_name_en="Test",
        first_name_ar=arabic,
        last_name_ar="اختبار" if arabic else "",
        mrn=f"MRN-{first}",
    )
    ConsentFactory(patient=patient)
    return patient


def book(session: Session, patient) -> SessionParticipant:
    return SessionService.add_patient_to_session(session, patient)


def attend(session: Session, patient) -> SessionParticipant:
    return check_in(book(session, patient))


def turn_away(session: Session, patient) -> SessionParticipant:
    """Booked without finance clearance: refused at the finance gate, then turned away."""
    participant = book(session, patient)
    with pytest.raises(CheckInBlocked):
        SessionService.check_in_participant(participant)
    return SessionService.mark_turned_away(participant)


def completed_appointment(provider, clinic, patient, day: datetime.date):
    appointment = appointment_under_way(legacy_appointment(provider, clinic, patient, day=day))
    return AppointmentService.complete(appointment)


def counts(row: dict) -> tuple:
    return (
        row["attended"],
        row["no_show"],
        row["late_cancellation"],
        row["cancellation"],
        row["turned_away"],
        row["rate"],
    )


def table(report, key: str):
    return next(table for table in report.tables if table.key == key)


@pytest.fixture
def admin(tenant):
    return staff_member(tenant, User.Role.ADMIN)


@pytest.fixture
def children(tenant):
    names = {
        "Amal": "أمل",
        "Badr": "بدر",
        "Dana": "دانة",
        "Fahd": "فهد",
        "Huda": "هدى",
        "Jana": "جنى",
        "Khalid": "خالد",
    }
    return {first: child(tenant, first, arabic) for first, arabic in names.items()}


@pytest.fixture
def example(clinic, provider, children):
    """The module docstring's data."""
    saturday = group_session(provider, clinic, day=SATURDAY, hour=10)
    for name in ("Amal", "Badr", "Dana"):
        attend(saturday, children[name])
    fahd = book(saturday, children["Fahd"])
    SessionService.mark_participant_no_show(fahd)
    SessionService.cancel_participant(
        book(saturday, children["Huda"]), "Ill", cancelled_by=CancelledBy.FAMILY
    )
    SessionService.cancel_participant(
        book(saturday, children["Jana"]), "Room flooded", cancelled_by=CancelledBy.CLINIC
    )
    turn_away(saturday, children["Khalid"])
    SessionService.complete_session(saturday)

    completed_appointment(provider, clinic, children["Amal"], SUNDAY)
    backfill_sessions(BackfillScope(clinic=clinic, since=SUNDAY, until=SUNDAY))
    no_show = legacy_appointment(provider, clinic, children["Fahd"], day=MONDAY)
    AppointmentService.mark_no_show(no_show)
    return saturday


def test_attendance_report_rate_is_attended_over_attended_no_show_and_late_cancellation(admin, example):
    report = attendance_report(admin, FILTERS)

    weeks = table(report, "weeks").rows
    assert [row["week"] for row in weeks] == [FIRST_WEEK, SECOND_WEEK]
    # The example: 3 attended, 1 no-show, 1 late cancellation: 60%; the timely
    # cancellation and the child turned away are counted apart, outside the rate.
    assert counts(weeks[0]) == (3, 1, 1, 1, 1, Decimal("60.0"))
    # The back-filled appointment once (attended), the legacy no-show as an appointment.
    assert counts(weeks[1]) == (1, 1, 0, 0, 0, Decimal("50.0"))


def test_attendance_report_per_discipline_provider_and_series(admin, example, provider):
    report = attendance_report(admin, FILTERS)

    total = (4, 2, 1, 1, 1, Decimal("57.1"))
    assert [(row["name"], counts(row)) for row in table(report, "disciplines").rows] == [
        ("Psychology", total)
    ]
    assert [(row["name"], counts(row)) for row in table(report, "providers").rows] == [(str(provider), total)]
    assert [(row["name"], counts(row)) for row in table(report, "series").rows] == [
        ("Not in a series", total)
    ]


def test_attendance_report_per_child_and_the_children_who_missed_enough(admin, example):
    report = attendance_report(admin, FILTERS)

    assert [(row["name"], row["mrn"], counts(row)) for row in table(report, "children").rows] == [
        ("Amal Test", "MRN-AMAL", (2, 0, 0, 0, 0, Decimal("100.0"))),
        ("Badr Test", "MRN-BADR", (1, 0, 0, 0, 0, Decimal("100.0"))),
        ("Dana Test", "MRN-DANA", (1, 0, 0, 0, 0, Decimal("100.0"))),
        ("Fahd Test", "MRN-FAHD", (0, 2, 0, 0, 0, Decimal("0.0"))),
        ("Huda Test", "MRN-HUDA", (0, 0, 1, 0, 0, Decimal("0.0"))),
        ("Jana Test", "MRN-JANA", (0, 0, 0, 1, 0, None)),
        ("Khalid Test", "MRN-KHALID", (0, 0, 0, 0, 1, None)),
    ]
    missed = table(report, "missed")
    assert str(missed.title) == "Children who missed 2 sessions or more"
    assert missed.rows == [
        {
            "name": "Fahd Test",
            "mrn": "MRN-FAHD",
            "no_show": 2,
            "late_cancellation": 0,
            "missed": 2,
            "attended": 0,
            "rate": Decimal("0.0"),
        }
    ]


def test_attendance_report_missed_list_most_missed_first(admin, example):
    report = attendance_report(admin, ReportFilters(FILTERS.date_from, FILTERS.date_to, missed_at_least=1))

    assert [(row["name"], row["missed"]) for row in table(report, "missed").rows] == [
        ("Fahd Test", 2),
        ("Huda Test", 1),
    ]


def test_attendance_report_names_children_in_the_active_language(admin, example):
    with translation.override("ar"):
        report = attendance_report(admin, FILTERS)

    names = [row["name"] for row in table(report, "children").rows]
    assert "أمل اختبار" in names
    assert "فهد اختبار" in names


def test_attendance_report_chart_stacks_the_outcomes_by_week(admin, example):
    chart = attendance_report(admin, FILTERS).chart

    assert chart is not None
    assert chart.labels == [FIRST_WEEK, SECOND_WEEK]
    assert chart.stacked
    assert [(str(dataset.label), dataset.values) for dataset in chart.datasets] == [
        ("Attended", [3, 1]),
        ("No-show", [1, 1]),
        ("Late cancellation", [1, 0]),
        ("Cancellation", [1, 0]),
        ("Turned away", [1, 0]),
    ]


def test_attendance_report_empty_range_has_no_rate(admin, example):
    report = attendance_report(admin, ReportFilters(datetime.date(2026, 4, 5), datetime.date(2026, 4, 11)))

    assert [counts(row) for row in table(report, "weeks").rows] == [(0, 0, 0, 0, 0, None)]
    assert table(report, "children").rows == []


# Filters ------------------------------------------------------------------------------------------


@pytest.fixture
def elsewhere(tenant, clinic, provider):
    """One attended child in each of: an OT clinic (its own provider and service type), a series."""
    ot_clinic = ClinicFactory(tenant=tenant, specialty=Clinic.Specialty.OT)
    therapist = ProviderFactory(clinic=ot_clinic)
    ot_session = SessionService.create_individual_session(
        provider=therapist,
        clinic=ot_clinic,
        patient=child(tenant, "Omar"),
        scheduled_date=SATURDAY,
        scheduled_time=datetime.time(9),
        duration=60,
        service_type="Sensory play",
    )
    check_in(ot_session.participants.get())
    SessionService.complete_session(ot_session)
    series = group_series(provider, clinic, day=SUNDAY, hour=12, count=1)
    series_session = series.sessions.get()
    attend(series_session, child(tenant, "Sami"))
    SessionService.complete_session(series_session)
    return ot_clinic, therapist, series


def attended_total(report) -> int:
    return sum(row["attended"] for row in table(report, "weeks").rows)


def narrowed(**filters) -> ReportFilters:
    return dataclasses.replace(FILTERS, **filters)


def test_attendance_report_each_filter_narrows(admin, example, elsewhere, clinic, provider):
    ot_clinic, therapist, series = elsewhere

    assert attended_total(attendance_report(admin, FILTERS)) == 4 + 1 + 1
    assert attended_total(attendance_report(admin, narrowed(clinic_id=ot_clinic.pk))) == 1
    assert attended_total(attendance_report(admin, narrowed(clinic_id=clinic.pk))) == 5
    assert attended_total(attendance_report(admin, narrowed(specialty=Clinic.Specialty.OT))) == 1
    assert attended_total(attendance_report(admin, narrowed(provider_id=therapist.pk))) == 1
    assert attended_total(attendance_report(admin, narrowed(provider_id=provider.pk))) == 5
    assert attended_total(attendance_report(admin, narrowed(series_id=series.pk))) == 1
    assert attended_total(attendance_report(admin, narrowed(service_type="Sensory play"))) == 1
    assert attended_total(attendance_report(admin, narrowed(date_from=SUNDAY))) == 1 + 1


def test_attendance_report_series_table_names_the_series(admin, example, elsewhere):
    _ot_clinic, _therapist, series = elsewhere

    rows = table(attendance_report(admin, FILTERS), "series").rows

    assert [(row["name"], row["attended"]) for row in rows] == [(str(series), 1), ("Not in a series", 5)]


def test_attendance_report_never_counts_another_organisation(admin, example):
    other = TenantFactory(code="OTHER", name_en="Other centre")
    other_clinic = ClinicFactory(tenant=other)
    other_session = group_session(ProviderFactory(clinic=other_clinic), other_clinic, day=SATURDAY, hour=10)
    attend(other_session, child(other, "Zaid"))
    SessionService.complete_session(other_session)
    other_appointment = legacy_appointment(
        other_session.provider, other_clinic, child(other, "Yara"), day=MONDAY
    )
    AppointmentService.mark_no_show(other_appointment)

    report = attendance_report(admin, FILTERS)

    assert [counts(row) for row in table(report, "weeks").rows] == [
        (3, 1, 1, 1, 1, Decimal("60.0")),
        (1, 1, 0, 0, 0, Decimal("50.0")),
    ]
    assert "Zaid Test" not in [row["name"] for row in table(report, "children").rows]


# Query count ---------------------------------------------------------------------------------------


def build(tenant, clinic, provider, sessions: int, per_session: int) -> None:
    """``sessions`` group sessions on the Saturday, each with ``per_session`` children attended,
    and a legacy no-show: every query of the report has rows to read."""
    for number in range(sessions):
        session = group_session(provider, clinic, day=SATURDAY, hour=8 + number)
        for seat in range(per_session):
            attend(session, child(tenant, f"C{number}x{seat}"))
        SessionService.complete_session(session)
    AppointmentService.mark_no_show(legacy_appointment(provider, clinic, child(tenant, "Legacy"), day=MONDAY))


def queries_for(user) -> int:
    with CaptureQueriesContext(connection) as queries:
        attendance_report(user, FILTERS)
    return len(queries)


@pytest.mark.parametrize(("sessions", "per_session"), [(1, 1), (6, 4)])
def test_attendance_report_query_count_is_fixed(admin, tenant, clinic, provider, sessions, per_session):
    build(tenant, clinic, provider, sessions, per_session)

    # Participants and legacy appointments by week, discipline, provider and series
    # together, and by child (4); then the providers and children named (2). None of the
    # bookings is in a series, so there is no series to name and no query for one.
    assert queries_for(admin) == 6
