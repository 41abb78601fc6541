"""The finance report: clearance per clinic, billable items waived or not, auto-closed sessions to review.

The fixed data (the clock pinned to Sunday 15/03/2026), in a psychology clinic requiring
finance clearance, provider Dr A:

- a group session on Saturday 07/03: Amal attended (cleared at check-in); Badr cleared, then a
  no-show (billable); Dana not cleared, a no-show, waived ("Hardship"); Fahd a family's late
  cancellation (billable); Huda a family's late cancellation, waived ("Illness"); Jana
  cancelled by the clinic; Khalid turned away;
- a group session on Sunday 08/03 closed automatically: Omar, never cleared, a no-show to review;
- a legacy appointment on Monday 09/03, cleared and completed, back-filled (counted once);
- a legacy no-show on Tuesday 10/03, not cleared, not back-filled.

An ABA clinic requiring clearance has one booked child, not cleared (Thursday 12/03); an OT
clinic that requires none has one attended child (left out). Another organisation's
no-show is never counted.
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from appointments.appointment_service import AppointmentService
from appointments.backfill_service import BackfillScope, backfill_sessions
from appointments.models import SessionParticipant
from appointments.reports.base import ReportFilters
from appointments.reports.finance import finance_report
from appointments.session_service import SessionService
from appointments.tests.factories import check_in
from appointments.tests.report_fixtures import (
    ARABIC_FIRST_NAMES,
    FORTNIGHT,
    MONDAY,
    SATURDAY,
    SUNDAY,
    THURSDAY,
    TUESDAY,
    child,
    completed_appointment,
    other_organisation,
    queries_run,
    table,
    turned_away,
)
from core.models import Clinic, User
from core.tests.factories import ClinicFactory, ProviderFactory
from core.tests.view_helpers import booked, group_session, legacy_appointment, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

CancelledBy = SessionParticipant.CancelledBy


def clearance(row: dict) -> tuple:
    return (row["clinic"], row["cleared"], row["not_cleared"], row["total"], row["share"])


def summary(report) -> list[tuple]:
    return [
        (str(row["outcome"]), row["billable"], row["waived"], row["total"])
        for row in table(report, "billing_summary").rows
    ]


@pytest.fixture
def admin(tenant):
    return staff_member(tenant, User.Role.ADMIN)


@pytest.fixture
def finance(tenant):
    return staff_member(tenant, User.Role.FINANCE, first_name="Fatima", last_name="Clerk")


@pytest.fixture
def psychology(tenant):
    return ClinicFactory(tenant=tenant, name_en="Psychology clinic", name_ar="عيادة النفس")


@pytest.fixture
def doctor(psychology):
    return ProviderFactory(clinic=psychology, user__first_name="Amira", user__last_name="Saleh")


@pytest.fixture
def saturday(psychology, doctor, tenant, finance):
    """The module docstring's Saturday group, completed; its participants by first name."""
    session = group_session(doctor, psychology, day=SATURDAY, hour=10)
    participants = {
        first: booked(session, child(tenant, first, arabic)) for first, arabic in ARABIC_FIRST_NAMES.items()
    }
    check_in(participants["Amal"], user=finance)
    SessionService.clear_finance(participants["Badr"], user=finance)
    SessionService.mark_participant_no_show(participants["Badr"])
    SessionService.mark_participant_no_show(participants["Dana"])
    SessionService.waive_billing(participants["Dana"], reason="Hardship", user=finance)
    SessionService.cancel_participant(participants["Fahd"], "Travelling", cancelled_by=CancelledBy.FAMILY)
    SessionService.cancel_participant(participants["Huda"], "Ill", cancelled_by=CancelledBy.FAMILY)
    SessionService.waive_billing(participants["Huda"], reason="Illness", user=finance)
    SessionService.cancel_participant(participants["Jana"], "Room flooded", cancelled_by=CancelledBy.CLINIC)
    turned_away(participants["Khalid"])
    SessionService.complete_session(session)
    return participants


@pytest.fixture
def auto_closed(psychology, doctor, tenant):
    session = group_session(doctor, psychology, day=SUNDAY, hour=10)
    omar = booked(session, child(tenant, "Omar"))
    SessionService.complete_session(session, auto_closed=True)
    return omar


@pytest.fixture
def legacy(psychology, doctor, tenant):
    completed = completed_appointment(doctor, psychology, child(tenant, "Lina"), MONDAY)
    backfill_sessions(BackfillScope(clinic=psychology, since=MONDAY, until=MONDAY))
    no_show = legacy_appointment(doctor, psychology, child(tenant, "Maha"), day=TUESDAY)
    AppointmentService.mark_no_show(no_show)
    return completed, no_show


@pytest.fixture
def other_clinics(tenant):
    """An ABA clinic needing clearance with one child booked; an OT clinic needing none, one attended."""
    aba = ClinicFactory(tenant=tenant, name_en="ABA clinic", specialty=Clinic.Specialty.ABA)
    booked(group_session(ProviderFactory(clinic=aba), aba, day=THURSDAY, hour=9), child(tenant, "Nour"))
    ot = ClinicFactory(
        tenant=tenant, name_en="OT clinic", specialty=Clinic.Specialty.OT, requires_finance_clearance=False
    )
    ot_session = group_session(ProviderFactory(clinic=ot), ot, day=THURSDAY, hour=9)
    SessionService.check_in_participant(booked(ot_session, child(tenant, "Rami")))
    return aba, ot


@pytest.fixture
def other_tenant():
    """Another organisation's child, cleared, a no-show of an auto-closed session in the same days."""
    clinic, provider = other_organisation(name_en="Their clinic")
    session = group_session(provider, clinic, day=SATURDAY, hour=9)
    participant = booked(session, child(clinic.tenant, "Zaid"))
    SessionService.clear_finance(participant, user=staff_member(clinic.tenant, User.Role.FINANCE))
    SessionService.complete_session(session, auto_closed=True)
    return participant


@pytest.fixture
def example(saturday, auto_closed, legacy, other_clinics, other_tenant):
    return saturday


def test_finance_report_counts_clearance_per_clinic_without_cancellations(admin, example):
    report = finance_report(admin, FORTNIGHT)

    # Psychology: Amal, Badr and the back-filled Lina cleared; Dana, Omar and the legacy
    # no-show Maha not. Fahd, Huda, Jana (cancelled) and Khalid (turned away) need none.
    assert [clearance(row) for row in table(report, "clearance").rows] == [
        ("ABA clinic", 0, 1, 1, Decimal("0.0")),
        ("Psychology clinic", 3, 3, 6, Decimal("50.0")),
        ("All clinics", 3, 4, 7, Decimal("42.9")),
    ]


def test_finance_report_counts_billable_items_waived_or_not(admin, example):
    report = finance_report(admin, FORTNIGHT)

    assert summary(report) == [("No-show", 1, 1, 2), ("Late cancellation", 1, 1, 2)]


def test_finance_report_lists_billable_items_newest_first_with_their_waiver(admin, example, doctor, finance):
    rows = table(finance_report(admin, FORTNIGHT), "billing_items").rows

    session_url = reverse("appointments:session_detail", args=[example["Badr"].session_id])
    assert [
        (row["day"], row["child"], row["mrn"], row["clinic"], row["provider"], str(row["outcome"]))
        for row in rows
    ] == [
        (SATURDAY, "Huda Test", "MRN-HUDA", "Psychology clinic", "Dr Amira Saleh", "Late cancellation"),
        (SATURDAY, "Fahd Test", "MRN-FAHD", "Psychology clinic", "Dr Amira Saleh", "Late cancellation"),
        (SATURDAY, "Dana Test", "MRN-DANA", "Psychology clinic", "Dr Amira Saleh", "No-show"),
        (SATURDAY, "Badr Test", "MRN-BADR", "Psychology clinic", "Dr Amira Saleh", "No-show"),
    ]
    assert [(str(row["waived_by"]), row["reason"]) for row in rows] == [
        ("Fatima Clerk", "Illness"),
        ("Not waived", ""),
        ("Fatima Clerk", "Hardship"),
        ("Not waived", ""),
    ]
    assert {row["url"] for row in rows} == {session_url}
    assert rows[0]["number"] == example["Huda"].appointment_number


def test_finance_report_lists_auto_closed_no_shows_to_review(admin, example, auto_closed):
    report = finance_report(admin, FORTNIGHT)

    assert [
        (row["day"], row["time"], row["session"], row["child"], row["provider"], row["url"])
        for row in table(report, "to_review").rows
    ] == [
        (
            SUNDAY,
            "10:00",
            "Social Skills Group",
            "Omar Test",
            "Dr Amira Saleh",
            reverse("appointments:session_detail", args=[auto_closed.session_id]),
        )
    ]
    assert str(table(report, "to_review").title) == "Auto-closed sessions to review"


def test_finance_report_review_done_leaves_the_list(admin, example, auto_closed, finance):
    SessionService.confirm_billing(auto_closed, user=finance)

    report = finance_report(admin, FORTNIGHT)

    assert table(report, "to_review").rows == []
    assert summary(report) == [("No-show", 2, 1, 3), ("Late cancellation", 1, 1, 2)]


def test_finance_report_chart_draws_the_counts(admin, example):
    chart = finance_report(admin, FORTNIGHT).chart

    assert chart is not None
    assert [str(label) for label in chart.labels] == [
        "Finance cleared",
        "Not cleared",
        "No-shows, billable",
        "No-shows, waived",
        "Late cancellations, billable",
        "Late cancellations, waived",
        "No-shows to review",
    ]
    assert [dataset.values for dataset in chart.datasets] == [[3, 4, 1, 1, 1, 1, 1]]


def test_finance_report_names_children_and_clinics_in_the_active_language(admin, example):
    with translation.override("ar"):
        report = finance_report(admin, FORTNIGHT)

    assert [row["child"] for row in table(report, "billing_items").rows][:2] == ["هدى اختبار", "فهد اختبار"]
    assert "عيادة النفس" in [row["clinic"] for row in table(report, "clearance").rows]


def test_finance_report_filters_narrow_every_table(admin, example, other_clinics, psychology):
    aba, _ot = other_clinics

    only_aba = finance_report(admin, ReportFilters(FORTNIGHT.date_from, FORTNIGHT.date_to, clinic_id=aba.pk))
    from_sunday = finance_report(admin, ReportFilters(SUNDAY, FORTNIGHT.date_to, clinic_id=psychology.pk))

    assert [clearance(row) for row in table(only_aba, "clearance").rows] == [
        ("ABA clinic", 0, 1, 1, Decimal("0.0")),
        ("All clinics", 0, 1, 1, Decimal("0.0")),
    ]
    assert summary(only_aba) == [("No-show", 0, 0, 0), ("Late cancellation", 0, 0, 0)]
    assert table(only_aba, "to_review").rows == []
    # From Sunday: Omar (not cleared), Lina (cleared), Maha (not cleared); no billable item.
    assert [clearance(row) for row in table(from_sunday, "clearance").rows] == [
        ("Psychology clinic", 1, 2, 3, Decimal("33.3")),
        ("All clinics", 1, 2, 3, Decimal("33.3")),
    ]
    assert table(from_sunday, "billing_items").rows == []
    assert len(table(from_sunday, "to_review").rows) == 1


def test_finance_report_of_another_organisation_counts_only_its_own(example, other_tenant):
    their_admin = staff_member(other_tenant.patient.tenant, User.Role.ADMIN)

    report = finance_report(their_admin, FORTNIGHT)

    assert [clearance(row) for row in table(report, "clearance").rows] == [
        ("Their clinic", 1, 0, 1, Decimal("100.0")),
        ("All clinics", 1, 0, 1, Decimal("100.0")),
    ]
    assert summary(report) == [("No-show", 0, 0, 0), ("Late cancellation", 0, 0, 0)]
    assert [row["child"] for row in table(report, "to_review").rows] == ["Zaid Test"]


def test_finance_report_empty_range(admin, example):
    report = finance_report(admin, ReportFilters(datetime.date(2026, 4, 5), datetime.date(2026, 4, 11)))

    assert table(report, "clearance").rows == []
    assert summary(report) == [("No-show", 0, 0, 0), ("Late cancellation", 0, 0, 0)]
    assert table(report, "billing_items").rows == []
    assert report.chart is not None
    assert report.chart.datasets[0].values == [0, 0, 0, 0, 0, 0, 0]


def test_finance_report_bounded_list_says_so(admin, example, monkeypatch):
    monkeypatch.setattr("appointments.reports.finance.LIST_LIMIT", 3)

    report = finance_report(admin, FORTNIGHT)

    items = table(report, "billing_items")
    assert [row["child"] for row in items.rows] == ["Huda Test", "Fahd Test", "Dana Test"]
    assert str(items.title) == "Billable items: the newest 3 of 4"
    # The counts still cover every item.
    assert summary(report) == [("No-show", 1, 1, 2), ("Late cancellation", 1, 1, 2)]


def more_data(tenant, psychology, doctor, finance) -> None:
    """Another session of each kind: billable, waived, to review, cleared and not."""
    session = group_session(doctor, psychology, day=datetime.date(2026, 3, 11), hour=8)
    billable, waived, came = (booked(session, child(tenant, name)) for name in ("Yara", "Yusuf", "Yasmin"))
    SessionService.mark_participant_no_show(billable)
    SessionService.mark_participant_no_show(waived)
    SessionService.waive_billing(waived, reason="Goodwill", user=finance)
    check_in(came, user=finance)
    SessionService.complete_session(session)
    review = group_session(doctor, psychology, day=datetime.date(2026, 3, 11), hour=12)
    booked(review, child(tenant, "Yahya"))
    SessionService.complete_session(review, auto_closed=True)
    legacy_appointment(doctor, psychology, child(tenant, "Yousef"), day=datetime.date(2026, 3, 13))


def test_finance_report_query_count_is_the_same_at_two_sizes(
    admin, example, tenant, psychology, doctor, finance
):
    small_report, small = queries_run(finance_report, admin)
    more_data(tenant, psychology, doctor, finance)
    larger_report, larger = queries_run(finance_report, admin)

    assert (
        len(table(larger_report, "billing_items").rows) == len(table(small_report, "billing_items").rows) + 2
    )
    assert small == 6
    assert larger == 6
