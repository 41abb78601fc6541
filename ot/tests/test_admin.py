"""OT note admin: target skills inline, validated on the 0-10 scale, frozen once signed."""

import pytest

from appointments.notes.services import NoteService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory, under_way
from core.tests.admin_helpers import admin_url, concrete_models, form_data, registered_admins
from ot.models import OTNoteAddendum, OTSession, OTTargetSkill
from ot.tests.factories import OTSessionFactory, OTTargetSkillFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(clinic, provider):
    note = OTSessionFactory(
        session_participant=under_way(ParticipantFactory(session=GroupSessionFactory(clinic=clinic)))
    )
    OTTargetSkillFactory(note=note, skill="Buttoning", rating=4)
    return note


def test_admin_registers_every_ot_model():
    assert set(concrete_models("ot")) == set(registered_admins("ot"))


def test_admin_pages_load_for_ot_models(admin_client, draft):
    NoteService.sign_note(draft, user=draft.provider.user)
    addendum = NoteService.add_addendum(draft, text="Remark", user=draft.provider.user)

    for model, obj in [
        (OTSession, draft),
        (OTTargetSkill, draft.target_skills.get()),
        (OTNoteAddendum, addendum),
    ]:
        assert admin_client.get(admin_url(model, "changelist")).status_code == 200
        assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
        assert admin_client.get(admin_url(model, "history", obj.pk)).status_code == 200
    assert admin_client.get(admin_url(OTSession, "add")).status_code == 200


def test_ot_note_admin_adds_a_skill_to_a_draft(admin_client, draft):
    page = admin_client.get(admin_url(OTSession, "change", draft.pk))
    data = {
        **form_data(page),
        "target_skills-TOTAL_FORMS": "2",
        "target_skills-1-skill": "Scissors",
        "target_skills-1-rating": "10",
    }

    response = admin_client.post(admin_url(OTSession, "change", draft.pk), data)

    assert response.status_code == 302
    assert list(draft.target_skills.values_list("skill", "rating")) == [("Buttoning", 4), ("Scissors", 10)]


def test_ot_note_admin_refuses_a_rating_off_the_scale(admin_client, draft):
    page = admin_client.get(admin_url(OTSession, "change", draft.pk))
    data = {**form_data(page), "target_skills-0-rating": "11"}

    response = admin_client.post(admin_url(OTSession, "change", draft.pk), data)

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors == [
        {"rating": ["Rate each skill from 0 (not achieved) to 10 (fully independent)."]}
    ]
    assert list(draft.target_skills.values_list("rating", flat=True)) == [4]


def test_ot_note_admin_signed_note_skills_are_read_only(admin_client, draft):
    NoteService.sign_note(draft, user=draft.provider.user)
    page = admin_client.get(admin_url(OTSession, "change", draft.pk))
    skills = page.context["inline_admin_formsets"][0]
    data = {**form_data(page), "target_skills-0-rating": "9", "activities": "Rewritten"}

    response = admin_client.post(admin_url(OTSession, "change", draft.pk), data)

    assert skills.has_change_permission is False
    assert skills.has_add_permission is False
    assert response.status_code == 302
    assert list(draft.target_skills.values_list("rating", flat=True)) == [4]
    assert OTSession.objects.get(pk=draft.pk).activities == draft.activities
