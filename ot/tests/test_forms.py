"""OTSessionForm and OTTargetSkillFormSet: ratings validated on the 0-10 scale."""

import pytest

from appointments.notes.services import NoteService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory
from ot.forms import OTSessionForm, OTTargetSkillFormSet
from ot.models import OTSession
from ot.tests.factories import OTSessionFactory, OTTargetSkillFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

SCALE = "Rate each skill from 0 (not achieved) to 10 (fully independent)."


def skills_data(rows, initial_ids=()) -> dict:
    data = {
        "target_skills-TOTAL_FORMS": str(len(rows)),
        "target_skills-INITIAL_FORMS": str(len(initial_ids)),
        "target_skills-MIN_NUM_FORMS": "0",
        "target_skills-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"target_skills-{index}-{name}"] = value
        if index < len(initial_ids):
            data[f"target_skills-{index}-id"] = str(initial_ids[index])
    return data


def test_ot_session_form_offers_exactly_the_content_fields():
    form = OTSessionForm()

    assert tuple(form.fields) == OTSession.CONTENT_FIELDS
    assert form.helper.form_tag is False


def test_ot_target_skill_formset_rows_feed_the_note_service(clinic, provider):
    participant = ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider))
    form = OTSessionForm(
        data={"activities": "Ball skills", "attention_level": "good", "cooperation_level": ""}
    )
    formset = OTTargetSkillFormSet(
        data=skills_data(
            [
                {"skill": "Catching", "rating": "0"},
                {"skill": "Throwing", "rating": "10"},
                {"skill": "", "rating": ""},
            ]
        ),
        instance=OTSession(),
    )

    assert form.is_valid(), form.errors
    assert formset.is_valid(), formset.errors
    note = NoteService.create_note(
        OTSession,
        participant=participant,
        provider=provider,
        **form.cleaned_data,
        target_skills=formset.rows(),
    )

    assert formset.rows() == [
        {"skill": "Catching", "rating": 0, "comments": ""},
        {"skill": "Throwing", "rating": 10, "comments": ""},
    ]
    assert list(note.target_skills.values_list("skill", "rating")) == [("Catching", 0), ("Throwing", 10)]


@pytest.mark.parametrize("rating", ["-1", "11"])
def test_ot_target_skill_formset_rating_off_the_scale_is_refused(rating):
    formset = OTTargetSkillFormSet(
        data=skills_data([{"skill": "Catching", "rating": rating}]), instance=OTSession()
    )

    assert not formset.is_valid()
    assert formset.errors == [{"rating": [SCALE]}]


def test_ot_target_skill_formset_leaves_out_deleted_rows(clinic, provider):
    participant = ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider))
    note = OTSessionFactory(session_participant=participant)
    kept, dropped = OTTargetSkillFactory(note=note, rating=3), OTTargetSkillFactory(note=note, rating=4)
    data = skills_data(
        [{"skill": kept.skill, "rating": "5"}, {"skill": dropped.skill, "rating": "4", "DELETE": "on"}],
        initial_ids=(kept.pk, dropped.pk),
    )
    formset = OTTargetSkillFormSet(data=data, instance=note)

    assert formset.is_valid(), formset.errors
    NoteService.update_note(note, target_skills=formset.rows())

    assert list(note.target_skills.values_list("skill", "rating")) == [(kept.skill, 5)]


def test_ot_session_form_unknown_level_is_refused():
    form = OTSessionForm(data={"attention_level": "superb"})

    assert form.errors == {
        "attention_level": ["Select a valid choice. superb is not one of the available choices."]
    }
