"""ABA progress (aba/progress.py): percent correct per skill target across the child's signed notes.

Fixed data, worked by hand: "Imitation" 7 of 10 correct on 01/03/2026 (70.0%) and 9 of 12 on
08/03/2026 (75.0%); "Waiting" 2 of 3 on 08/03 (66.7%, half up) and 0 trials on 10/03 (no value).
"""

import datetime
from decimal import Decimal

import pytest

from aba.progress import aba_progress
from aba.tests.factories import ABASessionFactory, ABASkillTargetFactory
from appointments.tests.progress_helpers import clinician, lines_of, written_note
from core.models import Clinic
from core.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

MARCH_1 = datetime.date(2026, 3, 1)
MARCH_8 = datetime.date(2026, 3, 8)
MARCH_10 = datetime.date(2026, 3, 10)


@pytest.fixture
def therapist(tenant):
    return clinician(tenant, Clinic.Specialty.ABA)


@pytest.fixture
def child(tenant):
    return PatientFactory(tenant=tenant)


def note(patient, provider, day, targets, *, sign=True):
    """A note on ``day`` with ``targets`` ((name, trials, correct), ...), signed unless told."""
    rows = [
        (ABASkillTargetFactory, {"target": name, "trials": trials, "correct": correct})
        for name, trials, correct in targets
    ]
    return written_note(ABASessionFactory, patient, provider, day, rows=rows, sign=sign)


@pytest.fixture
def fixed(child, therapist):
    note(child, therapist, MARCH_1, [("Imitation", 10, 7)])
    note(child, therapist, MARCH_8, [("Imitation", 12, 9), ("Waiting", 3, 2)])
    note(child, therapist, MARCH_10, [("Waiting", 0, 0)])


def test_aba_progress_gives_percent_correct_per_target_with_the_trial_counts(child, fixed):
    charts = aba_progress(child, MARCH_1, MARCH_10)

    assert [(chart.specialty, chart.kind, chart.clinicians_only) for chart in charts] == [
        ("aba", "percent", False)
    ]
    assert lines_of(charts) == {
        "Imitation": [(MARCH_1, Decimal("70.0"), "7/10 trials"), (MARCH_8, Decimal("75.0"), "9/12 trials")],
        "Waiting": [(MARCH_8, Decimal("66.7"), "2/3 trials"), (MARCH_10, None, "0/0 trials")],
    }
    assert [line.latest.value for line in charts[0].lines] == [Decimal("75.0"), None]


def test_aba_progress_leaves_out_drafts_other_children_and_days_outside_the_period(
    tenant, child, therapist, fixed
):
    note(child, therapist, datetime.date(2026, 3, 9), [("Imitation", 10, 1)], sign=False)
    note(PatientFactory(tenant=tenant), therapist, MARCH_8, [("Imitation", 10, 2)])

    assert lines_of(aba_progress(child, MARCH_8, MARCH_8)) == {
        "Imitation": [(MARCH_8, Decimal("75.0"), "9/12 trials")],
        "Waiting": [(MARCH_8, Decimal("66.7"), "2/3 trials")],
    }
    assert lines_of(aba_progress(child, datetime.date(2026, 3, 2), datetime.date(2026, 3, 7))) == {}


def test_aba_progress_without_signed_notes_gives_no_chart(child, therapist):
    note(child, therapist, MARCH_1, [("Imitation", 10, 7)], sign=False)

    assert aba_progress(child, MARCH_1, MARCH_10) == []


def test_aba_progress_reads_with_one_query_at_any_number_of_notes(
    child, therapist, fixed, django_assert_num_queries
):
    for week in range(1, 6):
        day = MARCH_1 - datetime.timedelta(weeks=week)
        note(child, therapist, day, [(f"Target {index}", 10, index) for index in range(5)])

    with django_assert_num_queries(1):
        charts = aba_progress(child, datetime.date(2026, 1, 1), MARCH_10)

    assert len(charts[0].lines) == 7
