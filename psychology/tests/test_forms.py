"""PsychologySessionForm: the content a psychologist writes, validated before NoteService saves it."""

import pytest

from appointments.notes.services import NoteService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory
from psychology.forms import PsychologySessionForm
from psychology.models import PsychologySession

pytestmark = pytest.mark.django_db

CONTENT = {
    "presenting_issues": "Worries at school",
    "interventions_used": "CBT, worry time",
    "client_response": "Engaged",
    "progress": "Fewer worries",
    "homework": "Worry box",
    "risk_assessment": "low",
    "safety_plan": "",
    "plan_next_session": "Exposure ladder",
}


def test_psychology_session_form_offers_exactly_the_content_fields():
    form = PsychologySessionForm()

    assert tuple(form.fields) == PsychologySession.CONTENT_FIELDS
    assert form.helper.form_tag is False


def test_psychology_session_form_cleaned_data_writes_a_note_through_the_service(clinic, provider):
    participant = ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider))
    form = PsychologySessionForm(data=CONTENT)

    assert form.is_valid(), form.errors
    note = NoteService.create_note(
        PsychologySession, participant=participant, provider=provider, user=provider.user, **form.cleaned_data
    )

    assert PsychologySession.objects.filter(pk=note.pk, **CONTENT).exists()


@pytest.mark.parametrize(("risk", "label"), [("moderate", "moderate"), ("high", "high")])
def test_psychology_session_form_moderate_or_high_risk_needs_a_safety_plan(risk, label):
    form = PsychologySessionForm(data={**CONTENT, "risk_assessment": risk, "safety_plan": "  "})

    assert not form.is_valid()
    assert form.errors == {"safety_plan": [f"A {label} risk needs a safety plan."]}


def test_psychology_session_form_unknown_risk_is_refused():
    form = PsychologySessionForm(data={**CONTENT, "risk_assessment": "extreme"})

    assert form.errors == {
        "risk_assessment": ["Select a valid choice. extreme is not one of the available choices."]
    }


def test_psychology_session_form_edits_a_draft(clinic, provider):
    participant = ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider))
    note = NoteService.create_note(PsychologySession, participant=participant, provider=provider, **CONTENT)
    form = PsychologySessionForm(data={**CONTENT, "progress": "Much better"}, instance=note)

    assert form.is_valid(), form.errors
    NoteService.update_note(note, user=provider.user, **form.cleaned_data)

    assert PsychologySession.objects.get(pk=note.pk).progress == "Much better"
