"""ABA note admin: records and targets inline with percent correct, frozen once signed."""

import pytest

from aba.models import ABABehaviourRecord, ABANoteAddendum, ABASession, ABASkillTarget
from aba.tests.factories import ABABehaviourRecordFactory, ABASessionFactory, ABASkillTargetFactory
from appointments.notes.services import NoteService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory, under_way
from core.tests.admin_helpers import admin_url, concrete_models, form_data, registered_admins

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(clinic):
    note = ABASessionFactory(
        session_participant=under_way(ParticipantFactory(session=GroupSessionFactory(clinic=clinic)))
    )
    ABABehaviourRecordFactory(note=note)
    ABASkillTargetFactory(note=note, trials=3, correct=2)
    return note


def test_admin_registers_every_aba_model():
    assert set(concrete_models("aba")) == set(registered_admins("aba"))


def test_admin_pages_load_for_aba_models(admin_client, draft):
    NoteService.sign_note(draft, user=draft.provider.user)
    addendum = NoteService.add_addendum(draft, text="Remark", user=draft.provider.user)
    rows = [
        (ABASession, draft),
        (ABABehaviourRecord, draft.behaviour_records.get()),
        (ABASkillTarget, draft.skill_targets.get()),
        (ABANoteAddendum, addendum),
    ]

    for model, obj in rows:
        assert admin_client.get(admin_url(model, "changelist")).status_code == 200
        assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
        assert admin_client.get(admin_url(model, "history", obj.pk)).status_code == 200
    assert admin_client.get(admin_url(ABASession, "add")).status_code == 200


def test_aba_note_admin_shows_percent_correct(admin_client, draft):
    response = admin_client.get(admin_url(ABASession, "change", draft.pk))

    assert "66.7%" in response.content.decode()


def test_aba_note_admin_refuses_correct_above_trials(admin_client, draft):
    page = admin_client.get(admin_url(ABASession, "change", draft.pk))
    data = {**form_data(page), "skill_targets-0-correct": "4"}

    response = admin_client.post(admin_url(ABASession, "change", draft.pk), data)

    assert response.status_code == 200
    targets = next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is ABASkillTarget
    )
    assert targets.errors == [{"correct": ["Correct responses (4) can't exceed the trials run (3)."]}]
    assert list(draft.skill_targets.values_list("correct", flat=True)) == [2]


def test_aba_note_admin_signed_note_rows_are_read_only(admin_client, draft):
    NoteService.sign_note(draft, user=draft.provider.user)
    page = admin_client.get(admin_url(ABASession, "change", draft.pk))
    data = {**form_data(page), "skill_targets-0-correct": "0", "behaviour_records-0-frequency": "9"}

    response = admin_client.post(admin_url(ABASession, "change", draft.pk), data)

    assert response.status_code == 302
    assert list(draft.skill_targets.values_list("correct", flat=True)) == [2]
    assert list(draft.behaviour_records.values_list("frequency", flat=True)) == [3]
