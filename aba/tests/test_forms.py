"""ABASessionForm and the record/target formsets: 0 <= correct <= trials, measures not negative."""

import pytest

from aba.forms import ABABehaviourRecordFormSet, ABASessionForm, ABASkillTargetFormSet
from aba.models import ABASession
from appointments.notes.services import NoteService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


def formset_data(prefix: str, rows: list[dict]) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


def test_aba_session_form_offers_exactly_the_content_fields():
    form = ABASessionForm()

    assert tuple(form.fields) == ABASession.CONTENT_FIELDS
    assert form.helper.form_tag is False


def test_aba_formsets_rows_feed_the_note_service(clinic, provider):
    participant = ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider))
    form = ABASessionForm(data={"session_summary": "Manding", "caregiver_training": "Token board"})
    records = ABABehaviourRecordFormSet(
        data=formset_data(
            "behaviour_records",
            [{"antecedent": "Demand", "behaviour": "Elopement", "frequency": "2", "intensity": "moderate"}],
        ),
        instance=ABASession(),
    )
    targets = ABASkillTargetFormSet(
        data=formset_data(
            "skill_targets",
            [
                {"target": "Mand for break", "trials": "10", "correct": "10", "prompt_level": "independent"},
                {"target": "Wait", "trials": "0", "correct": "0"},
            ],
        ),
        instance=ABASession(),
    )

    assert form.is_valid(), form.errors
    assert records.is_valid(), records.errors
    assert targets.is_valid(), targets.errors
    note = NoteService.create_note(
        ABASession,
        participant=participant,
        provider=provider,
        **form.cleaned_data,
        behaviour_records=records.rows(),
        skill_targets=targets.rows(),
    )

    assert [(t.target, t.percent_correct) for t in note.skill_targets.all()] == [
        ("Mand for break", 100),
        ("Wait", None),
    ]
    assert list(note.behaviour_records.values_list("behaviour", "frequency", "duration_seconds")) == [
        ("Elopement", 2, None)
    ]


@pytest.mark.parametrize(
    ("trials", "correct", "errors"),
    [
        ("10", "11", {"correct": ["Correct responses (11) can't exceed the trials run (10)."]}),
        ("0", "1", {"correct": ["Correct responses (1) can't exceed the trials run (0)."]}),
        ("-1", "0", {"trials": ["Trials can't be negative."]}),
        ("5", "-1", {"correct": ["Correct responses can't be negative."]}),
    ],
)
def test_aba_skill_target_formset_refuses_counts_outside_zero_to_trials(trials, correct, errors):
    targets = ABASkillTargetFormSet(
        data=formset_data("skill_targets", [{"target": "Wait", "trials": trials, "correct": correct}]),
        instance=ABASession(),
    )

    assert not targets.is_valid()
    assert targets.errors == [errors]


def test_aba_behaviour_record_formset_refuses_negative_measures():
    records = ABABehaviourRecordFormSet(
        data=formset_data(
            "behaviour_records", [{"behaviour": "Hitting", "frequency": "-1", "duration_seconds": "-5"}]
        ),
        instance=ABASession(),
    )

    assert not records.is_valid()
    assert records.errors == [
        {"frequency": ["Frequency can't be negative."], "duration_seconds": ["Duration can't be negative."]}
    ]
