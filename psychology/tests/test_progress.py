"""Psychology progress (psychology/progress.py): the risk level over time, for clinicians only.

Fixed data: risk none on 02/03/2026 (0), moderate on 09/03 (2), low on 16/03 (1).
"""

import datetime

import pytest
from django.utils import translation

from appointments.tests.progress_helpers import clinician, written_note
from core.models import Clinic
from core.tests.factories import PatientFactory
from psychology.models import PsychologySession
from psychology.progress import psychology_progress
from psychology.tests.factories import PsychologySessionFactory

pytestmark = pytest.mark.django_db

Risk = PsychologySession.RiskLevel
MARCH_2 = datetime.date(2026, 3, 2)
MARCH_9 = datetime.date(2026, 3, 9)
MARCH_16 = datetime.date(2026, 3, 16)


@pytest.fixture
def psychologist(tenant):
    return clinician(tenant, Clinic.Specialty.PSYCHOLOGY)


@pytest.fixture
def child(tenant):
    return PatientFactory(tenant=tenant)


def note(patient, provider, day, risk, *, sign=True):
    plan = "Call the crisis line" if risk in PsychologySession.RISKS_NEEDING_SAFETY_PLAN else ""
    return written_note(
        PsychologySessionFactory, patient, provider, day, sign=sign, risk_assessment=risk, safety_plan=plan
    )


def points_of(charts):
    return [
        (point.day, point.value, str(point.detail)) for chart in charts for point in chart.lines[0].points
    ]


@pytest.fixture
def fixed(child, psychologist):
    note(child, psychologist, MARCH_2, Risk.NONE)
    note(child, psychologist, MARCH_9, Risk.MODERATE)
    note(child, psychologist, MARCH_16, Risk.LOW)


def test_psychology_progress_gives_the_risk_level_as_a_step_from_0_to_3_for_clinicians_only(child, fixed):
    charts = psychology_progress(child, MARCH_2, MARCH_16)

    assert [(chart.specialty, chart.kind, chart.clinicians_only) for chart in charts] == [
        ("psychology", "risk", True)
    ]
    assert [str(step) for step in charts[0].steps] == ["None", "Low", "Moderate", "High"]
    assert points_of(charts) == [(MARCH_2, 0, "None"), (MARCH_9, 2, "Moderate"), (MARCH_16, 1, "Low")]


def test_psychology_progress_labels_the_levels_in_arabic(child, fixed):
    charts = psychology_progress(child, MARCH_9, MARCH_9)

    with translation.override("ar"):
        assert points_of(charts) == [(MARCH_9, 2, "متوسط")]


def test_psychology_progress_leaves_out_drafts_other_children_and_days_outside_the_period(
    tenant, child, psychologist, fixed
):
    note(child, psychologist, datetime.date(2026, 3, 10), Risk.HIGH, sign=False)
    note(PatientFactory(tenant=tenant), psychologist, MARCH_9, Risk.HIGH)

    assert points_of(psychology_progress(child, MARCH_9, MARCH_16)) == [
        (MARCH_9, 2, "Moderate"),
        (MARCH_16, 1, "Low"),
    ]
    assert psychology_progress(child, datetime.date(2026, 3, 17), datetime.date(2026, 3, 31)) == []


def test_psychology_progress_reads_with_one_query(child, fixed, django_assert_num_queries):
    with django_assert_num_queries(1):
        psychology_progress(child, MARCH_2, MARCH_16)
