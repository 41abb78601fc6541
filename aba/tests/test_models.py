"""ABASession, behaviour records and skill targets: percent correct, 0 <= correct <= trials."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from aba.models import ABABehaviourRecord, ABASession, ABASkillTarget
from aba.tests.factories import ABABehaviourRecordFactory, ABASessionFactory, ABASkillTargetFactory
from appointments.notes.exceptions import NoteContentError, SignedNoteError
from appointments.notes.services import NoteService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory, under_way

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def participant(clinic, provider):
    """A child who came to a session under way: their note can be signed."""
    return under_way(ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider)))


@pytest.fixture
def note(participant):
    return ABASessionFactory(session_participant=participant)


def test_aba_session_links_to_the_session_through_its_participant(participant):
    note = ABASession.objects.create(session_participant=participant, session_summary="Manding practice")

    assert list(participant.session.aba_notes.all()) == [note]
    assert list(participant.aba_notes.all()) == [note]


@pytest.mark.parametrize(
    ("trials", "correct", "percent"),
    [
        (0, 0, None),
        (1, 0, Decimal("0.0")),
        (1, 1, Decimal("100.0")),
        (10, 7, Decimal("70.0")),
        (3, 2, Decimal("66.7")),
        (3, 1, Decimal("33.3")),
        (8, 1, Decimal("12.5")),
        (32767, 32767, Decimal("100.0")),
    ],
)
def test_aba_skill_target_percent_correct(note, trials, correct, percent):
    target = ABASkillTarget.objects.create(note=note, target="Touch nose", trials=trials, correct=correct)

    assert ABASkillTarget.objects.get(pk=target.pk).percent_correct == percent


def test_aba_skill_target_correct_above_trials_is_refused(note):
    with pytest.raises(NoteContentError) as refused:
        ABASkillTarget.objects.create(note=note, target="Touch nose", trials=10, correct=11)

    assert refused.value.message_dict == {
        "correct": ["Correct responses (11) can't exceed the trials run (10)."]
    }
    assert not ABASkillTarget.objects.exists()


@pytest.mark.parametrize(
    ("trials", "correct", "field", "message"),
    [
        (-1, 0, "trials", "Trials can't be negative."),
        (5, -1, "correct", "Correct responses can't be negative."),
    ],
)
def test_aba_skill_target_negative_counts_are_refused(note, trials, correct, field, message):
    with pytest.raises(NoteContentError) as refused:
        ABASkillTarget.objects.create(note=note, target="Touch nose", trials=trials, correct=correct)

    assert refused.value.message_dict[field] == [message]
    assert not ABASkillTarget.objects.exists()


@pytest.mark.parametrize(
    ("trials", "correct", "constraint"),
    [
        (10, 11, "aba_skill_target_correct_within_trials"),
        (0, 1, "aba_skill_target_correct_within_trials"),
        (5, -1, "aba_abaskilltarget_correct_check"),
        (-1, 0, "aba_abaskilltarget_trials_check"),
    ],
)
def test_aba_skill_target_database_refuses_counts_outside_zero_to_trials(note, trials, correct, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        ABASkillTarget.objects.bulk_create(
            [ABASkillTarget(note=note, target="X", trials=trials, correct=correct)]
        )


def test_aba_session_overall_percent_correct(note):
    ABASkillTargetFactory(note=note, trials=10, correct=7)
    ABASkillTargetFactory(note=note, trials=5, correct=5)
    ABASkillTargetFactory(note=note, trials=0, correct=0)

    assert note.overall_percent_correct == Decimal("80.0")


def test_aba_session_overall_percent_correct_without_trials_is_none(note):
    assert note.overall_percent_correct is None


def test_aba_behaviour_record_measures_are_validated(note):
    with pytest.raises(NoteContentError) as refused:
        ABABehaviourRecord.objects.create(
            note=note, behaviour="Hitting", frequency=-2, duration_seconds=-1, intensity="extreme"
        )

    assert refused.value.message_dict == {
        "frequency": ["Frequency can't be negative."],
        "duration_seconds": ["Duration can't be negative."],
        "intensity": ["Value 'extreme' is not a valid choice."],
    }
    assert not ABABehaviourRecord.objects.exists()


def test_aba_behaviour_record_database_refuses_an_unknown_intensity_past_save(note):
    record = ABABehaviourRecordFactory(note=note)

    with pytest.raises(IntegrityError, match="aba_behaviour_intensity_valid"), transaction.atomic():
        ABABehaviourRecord.objects.filter(pk=record.pk).update(intensity="extreme")


def test_aba_rows_of_a_signed_note_are_frozen(note):
    record = ABABehaviourRecordFactory(note=note)
    target = ABASkillTargetFactory(note=note)
    NoteService.sign_note(note, user=note.provider.user)

    record.frequency = 9
    with pytest.raises(SignedNoteError, match="The note is signed; its rows can't be changed."):
        record.save()
    with pytest.raises(SignedNoteError, match="The note is signed; its rows can't be changed."):
        target.delete()
    with pytest.raises(IntegrityError, match=f"ABA note {note.pk} is signed"), transaction.atomic():
        ABASkillTarget.objects.filter(pk=target.pk).update(correct=0)
    with pytest.raises(IntegrityError, match=f"ABA note {note.pk} is signed"), transaction.atomic():
        ABABehaviourRecord.objects.bulk_create([ABABehaviourRecord(note=note, behaviour="Biting")])

    assert list(note.behaviour_records.values_list("frequency", flat=True)) == [3]
    assert list(note.skill_targets.values_list("correct", flat=True)) == [7]


def test_aba_skill_target_str_shows_correct_of_trials(note):
    assert str(ABASkillTargetFactory(note=note, target="Wait 5s", trials=4, correct=3)) == "Wait 5s: 3/4"
