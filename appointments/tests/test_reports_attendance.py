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
from django.utils import translation

from appointments.appointment_service import AppointmentService
from appointments.backfill_service import BackfillScope, backfill_sessions
from appointments.models import SessionParticipant
from appointments.reports.attendance import attendance_report
from appointments.reports.base import ReportFilters
from appointments.session_service import SessionService
from appointments.tests.report_fixtures import (
    AT_TWO_SIZES,
    FIRST_WEEK,
    FORTNIGHT,
    MONDAY,
    SATURDAY,
    SECOND_WEEK,
    SUNDAY,
    attend,
    child,
    completed_appointment,
    groups_attended,
    held,
    individual_attended,
    named_children,
    other_organisation,
    queries_run,
    table,
    turned_away,
)
from core.models import Clinic, User
from core.tests.factories import ClinicFactory, ProviderFactory
from core.tests.view_helpers import booked, group_series, group_session, legacy_appointment, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

CancelledBy = SessionParticipant.CancelledBy
FILTERS = dataclasses.replace(FORTNIGHT, missed_at_least=2)


def counts(row: dict) -> tuple:
    return (
        row["attended"],
        row["no_show"],
        row["late_cancellation"],
        row["cancellation"],
        row["turned_away"],
        row["rate"],
    )


@pytest.fixture
def admin(tenant):
    return staff_member(tenant, User.Role.ADMIN)


@pytest.fixture
def example(tenant, clinic, provider):
    """The module docstring's data."""
    children = named_children(tenant)
    saturday = group_session(provider, clinic, day=SATURDAY, hour=10)
    for name in ("Amal", "Badr", "Dana"):
        attend(saturday, children[name])
    fahd = booked(saturday, children["Fahd"])
    SessionService.mark_participant_no_show(fahd)
    SessionService.cancel_participant(
        booked(saturday, children["Huda"]), "Ill", cancelled_by=CancelledBy.FAMILY
    )
    SessionService.cancel_participant(
        booked(saturday, children["Jana"]), "Room flooded", cancelled_by=CancelledBy.CLINIC
    )
    turned_away(booked(saturday, children["Khalid"]))
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
    individual_attended(therapist, ot_clinic, child(tenant, "Omar"), SATURDAY, 9, service_type="Sensory play")
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
    other_clinic, other_provider = other_organisation()
    other = other_clinic.tenant
    held(group_session(other_provider, other_clinic, day=SATURDAY, hour=10), [child(other, "Zaid")])
    AppointmentService.mark_no_show(
        legacy_appointment(other_provider, other_clinic, child(other, "Yara"), day=MONDAY)
    )

    report = attendance_report(admin, FILTERS)

    assert [counts(row) for row in table(report, "weeks").rows] == [
        (3, 1, 1, 1, 1, Decimal("60.0")),
        (1, 1, 0, 0, 0, Decimal("50.0")),
    ]
    assert "Zaid Test" not in [row["name"] for row in table(report, "children").rows]


# Query count ---------------------------------------------------------------------------------------


def build(clinic, provider, sessions: int, per_session: int) -> None:
    """``sessions`` group sessions on the Saturday, each with ``per_session`` children attended,
    and a legacy no-show: every query of the report has rows to read."""
    groups_attended(provider, clinic, SATURDAY, sessions, per_session)
    AppointmentService.mark_no_show(
        legacy_appointment(provider, clinic, child(clinic.tenant, "Legacy"), day=MONDAY)
    )


@AT_TWO_SIZES
def test_attendance_report_query_count_is_fixed(admin, clinic, provider, sessions, per_session):
    build(clinic, provider, sessions, per_session)

    _report, queries = queries_run(attendance_report, admin, FILTERS)

    # Participants and legacy appointments by week, discipline, provider and series
    # together, and by child (4); then the providers and children named (2). None of the
    # bookings is in a series, so there is no series to name and no query for one.
    assert queries == 6
