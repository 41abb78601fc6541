"""OT progress (ot/progress.py): the rating (0 to 10) of each target skill across signed notes.

Fixed data: "Pencil grip" rated 4 on 03/03/2026 and 7 on 10/03/2026; "Scissors" 0 on 10/03.
"""

import datetime

import pytest

from appointments.tests.progress_helpers import clinician, lines_of, written_note
from core.models import Clinic
from core.tests.factories import PatientFactory
from ot.progress import ot_progress
from ot.tests.factories import OTSessionFactory, OTTargetSkillFactory

pytestmark = pytest.mark.django_db

MARCH_3 = datetime.date(2026, 3, 3)
MARCH_10 = datetime.date(2026, 3, 10)


@pytest.fixture
def therapist(tenant):
    return clinician(tenant, Clinic.Specialty.OT)


@pytest.fixture
def child(tenant):
    return PatientFactory(tenant=tenant)


def note(patient, provider, day, skills, *, sign=True):
    rows = [(OTTargetSkillFactory, {"skill": name, "rating": rating}) for name, rating in skills]
    return written_note(OTSessionFactory, patient, provider, day, rows=rows, sign=sign)


@pytest.fixture
def fixed(child, therapist):
    note(child, therapist, MARCH_3, [("Pencil grip", 4)])
    note(child, therapist, MARCH_10, [("Pencil grip", 7), ("Scissors", 0)])


def test_ot_progress_gives_each_skills_rating_per_session(child, fixed):
    charts = ot_progress(child, MARCH_3, MARCH_10)

    assert [(chart.specialty, chart.kind, chart.clinicians_only) for chart in charts] == [
        ("ot", "rating", False)
    ]
    assert lines_of(charts) == {
        "Pencil grip": [(MARCH_3, 4, "4/10"), (MARCH_10, 7, "7/10")],
        "Scissors": [(MARCH_10, 0, "0/10")],
    }


def test_ot_progress_leaves_out_drafts_other_children_and_days_outside_the_period(
    tenant, child, therapist, fixed
):
    note(child, therapist, datetime.date(2026, 3, 5), [("Pencil grip", 10)], sign=False)
    note(PatientFactory(tenant=tenant), therapist, MARCH_3, [("Pencil grip", 9)])

    assert lines_of(ot_progress(child, MARCH_3, datetime.date(2026, 3, 9))) == {
        "Pencil grip": [(MARCH_3, 4, "4/10")]
    }
    assert ot_progress(child, datetime.date(2026, 3, 11), datetime.date(2026, 3, 31)) == []


def test_ot_progress_reads_with_one_query_at_any_number_of_notes(
    child, therapist, fixed, django_assert_num_queries
):
    for week in range(1, 6):
        day = MARCH_3 - datetime.timedelta(weeks=week)
        note(child, therapist, day, [(f"Skill {index}", index) for index in range(5)])

    with django_assert_num_queries(1):
        charts = ot_progress(child, datetime.date(2026, 1, 1), MARCH_10)

    assert len(charts[0].lines) == 7
