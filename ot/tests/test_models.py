"""OTSession and its target skills: ratings on the 0-10 scale, frozen once signed."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from appointments.notes.exceptions import NoteContentError, SignedNoteError
from appointments.notes.services import NoteService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory, under_way
from ot.models import OTSession, OTTargetSkill
from ot.tests.factories import OTSessionFactory, OTTargetSkillFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

SCALE = "Rate each skill from 0 (not achieved) to 10 (fully independent)."


@pytest.fixture
def participant(clinic, provider):
    """A child who came to a session under way: their note can be signed."""
    return under_way(ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider)))


@pytest.fixture
def note(participant):
    return OTSessionFactory(session_participant=participant)


def test_ot_session_links_to_the_session_through_its_participant(participant):
    note = OTSession.objects.create(session_participant=participant, activities="Swing, ball pit")

    assert list(participant.session.ot_notes.all()) == [note]
    assert list(participant.ot_notes.all()) == [note]


@pytest.mark.parametrize("rating", [0, 1, 9, 10])
def test_ot_target_skill_rating_on_the_scale_is_saved(note, rating):
    skill = OTTargetSkill.objects.create(note=note, skill="Pencil grasp", rating=rating)

    assert OTTargetSkill.objects.get(pk=skill.pk).rating == rating


@pytest.mark.parametrize("rating", [-1, 11, 100])
def test_ot_target_skill_rating_off_the_scale_is_refused(note, rating):
    with pytest.raises(NoteContentError) as refused:
        OTTargetSkill.objects.create(note=note, skill="Pencil grasp", rating=rating)

    assert refused.value.message_dict == {"rating": [SCALE]}
    assert not OTTargetSkill.objects.exists()


def test_ot_target_skill_database_refuses_a_rating_off_the_scale_past_save(note):
    with pytest.raises(IntegrityError, match="ot_target_skill_rating_on_scale"), transaction.atomic():
        OTTargetSkill.objects.bulk_create([OTTargetSkill(note=note, skill="Pencil grasp", rating=11)])


def test_ot_target_skill_without_a_name_is_refused(note):
    with pytest.raises(NoteContentError, match="This field cannot be blank."):
        OTTargetSkill.objects.create(note=note, skill="", rating=5)


@pytest.mark.parametrize(
    ("ratings", "average"),
    [
        ([], None),
        ([0], Decimal("0.0")),
        ([10], Decimal("10.0")),
        ([0, 10, 7], Decimal("5.7")),
        ([3, 4], Decimal("3.5")),
    ],
)
def test_ot_session_average_rating(note, ratings, average):
    for rating in ratings:
        OTTargetSkillFactory(note=note, rating=rating)

    assert note.average_rating == average


def test_ot_session_unknown_level_is_refused(participant):
    with pytest.raises(NoteContentError, match="Value 'superb' is not a valid choice."):
        OTSession.objects.create(session_participant=participant, attention_level="superb")


def test_ot_session_database_refuses_an_unknown_level_past_save(note):
    with pytest.raises(IntegrityError, match="ot_note_levels_valid"), transaction.atomic():
        OTSession.objects.filter(pk=note.pk).update(cooperation_level="superb")


def test_ot_target_skills_of_a_signed_note_are_frozen(note):
    skill = OTTargetSkillFactory(note=note, rating=4)
    NoteService.sign_note(note, user=note.provider.user)

    skill.rating = 9
    with pytest.raises(SignedNoteError, match="The note is signed; its rows can't be changed."):
        skill.save()
    with pytest.raises(SignedNoteError, match="The note is signed; its rows can't be changed."):
        OTTargetSkill.objects.create(note=note, skill="Scissors", rating=3)
    with pytest.raises(SignedNoteError, match="The note is signed; its rows can't be changed."):
        skill.delete()

    assert list(note.target_skills.values_list("rating", flat=True)) == [4]


def test_ot_target_skills_of_a_signed_note_are_frozen_in_the_database(note):
    skill = OTTargetSkillFactory(note=note, rating=4)
    NoteService.sign_note(note, user=note.provider.user)

    with pytest.raises(IntegrityError, match=f"OT note {note.pk} is signed"), transaction.atomic():
        OTTargetSkill.objects.filter(pk=skill.pk).update(rating=9)
    with pytest.raises(IntegrityError, match=f"OT note {note.pk} is signed"), transaction.atomic():
        OTTargetSkill.objects.bulk_create([OTTargetSkill(note=note, skill="Scissors", rating=3)])


def test_ot_session_database_refuses_updating_a_signed_note(note):
    NoteService.sign_note(note, user=note.provider.user)

    with pytest.raises(IntegrityError, match=f"OT note {note.pk} is signed"), transaction.atomic():
        OTSession.objects.filter(pk=note.pk).update(home_programme="Changed")


def test_ot_target_skill_str_shows_the_rating(note):
    assert str(OTTargetSkillFactory(note=note, skill="Buttoning", rating=7)) == "Buttoning: 7/10"
