"""Notes pages never lose a word: two clinicians on one draft, a note signed or changed while
someone edits, addenda added at once, and texts over the limit - through the HTTP client."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from appointments.notes.models import user_name
from appointments.notes.services import NoteService
from appointments.tests.factories import under_way
from core.models import Clinic
from core.tests.factories import ClinicFactory, ProviderFactory
from core.tests.view_helpers import booked, group_session, messages_of
from ot.models import OTSession
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

PSYCHOLOGY_FORM = {
    "presenting_issues": "Worries at school",
    "interventions_used": "CBT, worry time",
    "client_response": "Engaged",
    "progress": "Fewer worries",
    "homework": "Worry box",
    "risk_assessment": "low",
    "safety_plan": "",
    "plan_next_session": "Exposure ladder",
}
TOO_LONG = "x" * 20_001


def note_url(note, action: str = "detail") -> str:
    return reverse(f"notes:note_{action}", args=[note.specialty, note.pk])


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def edit_page_data(page) -> dict[str, str]:
    """What the edit page posts back unchanged: the content form, the version, each formset."""
    note_forms = page.context["note_forms"]
    data = {"version": str(note_forms.version_form["version"].value())}
    forms = [note_forms.form]
    for formset in note_forms.formsets:
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value not in (None, False):
                data[form.add_prefix(name)] = str(value)
    return data


@pytest.fixture
def participant(provider, clinic):
    """A child who came to a session under way: their note can be signed."""
    return under_way(booked(group_session(provider, clinic)))


@pytest.fixture
def colleague(tenant, clinic):
    """A second psychologist of the clinic, who may edit the same drafts."""
    return ProviderFactory(clinic=clinic)


@pytest.fixture
def note(participant, provider) -> PsychologySession:
    return NoteService.create_note(
        PsychologySession, participant=participant, provider=provider, user=provider.user, **PSYCHOLOGY_FORM
    )


def test_note_edit_two_clinicians_post_the_same_version_the_second_sees_both_texts(provider, colleague, note):
    # given both clinicians opened the draft
    first, second = client_of(provider.user), client_of(colleague.user)
    first_page, second_page = first.get(note_url(note, "edit")), second.get(note_url(note, "edit"))

    # when the first saves a new progress and the second, later, new homework
    saved = first.post(note_url(note, "edit"), {**edit_page_data(first_page), "progress": "Sleeping better"})
    refused = second.post(note_url(note, "edit"), {**edit_page_data(second_page), "homework": "Breathing"})

    # then the first is saved and the second comes back with its text beside the saved one
    assert saved.status_code == 302
    assert refused.status_code == 200
    html = refused.content.decode()
    conflict = refused.context["conflict"]
    assert conflict.headline == (
        f"This note was changed by {user_name(provider.user)} at 10:00 while you were editing. "
        "Compare your text with the saved note, then save again."
    )
    changed = {
        str(field.label): (field.changed_by, field.mine, field.saved)
        for field in conflict.fields
        if field.changed_by != "none"
    }
    assert changed == {
        "progress": ("theirs", "Fewer worries", "Sleeping better"),
        "homework": ("mine", "Breathing", "Worry box"),
    }
    assert 'data-testid="note-conflict"' in html
    # the form keeps what the second typed and takes the first's text where the second typed nothing
    assert re.search(r'<textarea name="homework"[^>]*>\s*Breathing</textarea>', html)
    assert re.search(r'<textarea name="progress"[^>]*>\s*Sleeping better</textarea>', html)
    assert '<input type="hidden" name="version" value="2"' in html
    stored = PsychologySession.objects.get(pk=note.pk)
    assert (stored.progress, stored.homework, stored.version) == ("Sleeping better", "Worry box", 2)


def test_note_edit_after_the_conflict_page_saves_the_clinicians_version(provider, colleague, note):
    first, second = client_of(provider.user), client_of(colleague.user)
    first_page, second_page = first.get(note_url(note, "edit")), second.get(note_url(note, "edit"))
    first.post(note_url(note, "edit"), {**edit_page_data(first_page), "progress": "Sleeping better"})
    conflict_page = second.post(
        note_url(note, "edit"), {**edit_page_data(second_page), "homework": "Breathing"}
    )

    # when the second saves the conflict page as it is
    response = second.post(note_url(note, "edit"), edit_page_data(conflict_page))

    assert response.status_code == 302
    stored = PsychologySession.objects.get(pk=note.pk)
    assert (stored.progress, stored.homework, stored.version) == ("Sleeping better", "Breathing", 3)


def test_note_edit_of_ot_rows_replaced_meanwhile_keeps_the_rows_typed(tenant):
    clinic = ClinicFactory(tenant=tenant, specialty=Clinic.Specialty.OT)
    therapist, colleague = ProviderFactory(clinic=clinic), ProviderFactory(clinic=clinic)
    note = NoteService.create_note(
        OTSession,
        participant=booked(group_session(therapist, clinic)),
        provider=therapist,
        activities="Obstacle course",
        target_skills=[{"skill": "Catching", "rating": 3}],
    )
    first, second = client_of(therapist.user), client_of(colleague.user)
    first_page, second_page = first.get(note_url(note, "edit")), second.get(note_url(note, "edit"))
    first.post(note_url(note, "edit"), {**edit_page_data(first_page), "target_skills-0-rating": "6"})

    # when the colleague, from the old page (its row id is gone), rates the skill 8
    refused = second.post(
        note_url(note, "edit"), {**edit_page_data(second_page), "target_skills-0-rating": "8"}
    )
    # and saves again from the conflict page
    saved = second.post(note_url(note, "edit"), edit_page_data(refused))

    assert refused.status_code == 200
    assert 'id="target-skills"' in refused.content.decode()  # the saved rows, shown beside
    assert refused.context["note_forms"].formsets[0].forms[0]["rating"].value() == "8"
    assert saved.status_code == 302
    assert list(OTSession.objects.get(pk=note.pk).target_skills.values_list("skill", "rating")) == [
        ("Catching", 8)
    ]


def test_note_edit_both_changed_one_field_keeps_mine_in_the_form_and_marks_it(provider, colleague, note):
    first, second = client_of(provider.user), client_of(colleague.user)
    first_page, second_page = first.get(note_url(note, "edit")), second.get(note_url(note, "edit"))
    first.post(note_url(note, "edit"), {**edit_page_data(first_page), "progress": "First's progress"})

    response = second.post(note_url(note, "edit"), {**edit_page_data(second_page), "progress": "Second's"})

    [field] = [field for field in response.context["conflict"].fields if field.changed_by != "none"]
    assert (str(field.label), field.changed_by, field.mine, field.saved) == (
        "progress",
        "both",
        "Second's",
        "First's progress",
    )
    assert response.context["note_forms"].form["progress"].value() == "Second's"
    assert '<tr data-changed-by="both" class="table-warning">' in response.content.decode()


def test_note_edit_posted_without_a_version_is_shown_again_to_compare(provider, note):
    response = client_of(provider.user).post(note_url(note, "edit"), {**PSYCHOLOGY_FORM, "homework": "Mine"})

    assert response.status_code == 200
    assert response.context["conflict"].headline == (
        "This page didn't say which version of the note it edits. "
        "Compare your text with the saved note, then save again."
    )
    assert PsychologySession.objects.get(pk=note.pk).homework == "Worry box"


def test_note_edit_signed_while_editing_keeps_the_text_and_says_who_signed(provider, colleague, note):
    page = client_of(colleague.user).get(note_url(note, "edit"))
    NoteService.sign_note(note, user=provider.user)

    response = client_of(colleague.user).post(
        note_url(note, "edit"), {**edit_page_data(page), "homework": "Late"}
    )

    assert response.status_code == 200
    assert response.context["conflict"].headline == (
        f"This note was signed by {user_name(provider.user)} at 10:00 while you were editing, so it can't "
        "be changed any more. Your text is kept below: add what is still needed as an addendum."
    )
    assert re.search(r'<textarea name="homework"[^>]*>\s*Late</textarea>', response.content.decode())
    assert PsychologySession.objects.get(pk=note.pk).homework == "Worry box"


def test_note_edit_text_over_the_limit_is_a_field_error_that_keeps_the_text(provider, note):
    client = client_of(provider.user)
    page = client.get(note_url(note, "edit"))

    response = client.post(note_url(note, "edit"), {**edit_page_data(page), "progress": TOO_LONG})

    assert "At most 20,000 characters." in page.content.decode()
    assert 'maxlength="' not in page.content.decode()  # the browser would cut pasted text silently
    assert response.status_code == 200
    assert response.context["note_forms"].form.errors == {
        "progress": ["At most 20,000 characters (you wrote 20,001)."]
    }
    assert TOO_LONG in response.content.decode()
    assert PsychologySession.objects.get(pk=note.pk).version == 1


# Signing


def test_note_sign_of_a_note_changed_since_it_was_read_asks_to_read_it_again(provider, colleague, note):
    client = client_of(provider.user)
    confirmation = client.get(note_url(note, "sign"))
    NoteService.update_note(note, user=colleague.user, progress="Changed by a colleague")

    response = client.post(note_url(note, "sign"), {"version": "1"}, follow=True)

    assert '<input type="hidden" name="version" value="1"' in confirmation.content.decode()
    assert response.redirect_chain == [(note_url(note, "sign"), 302)]
    assert messages_of(response) == [
        f"This note was changed by {user_name(colleague.user)} at 10:00 while you were editing. "
        "Read it again before signing."
    ]
    assert "Changed by a colleague" in response.content.decode()
    assert PsychologySession.objects.get(pk=note.pk).status == PsychologySession.Status.DRAFT


# Addenda


def test_note_add_addendum_two_at_once_the_second_is_kept_in_its_form(provider, colleague, note):
    NoteService.sign_note(note, user=provider.user)
    first, second = client_of(provider.user), client_of(colleague.user)
    first_page, second_page = first.get(note_url(note)), second.get(note_url(note))
    version = first_page.context["addendum_form"]["version"].value()

    first.post(note_url(note, "add_addendum"), {"text": "Mother reports nightmares.", "version": version})
    response = second.post(
        note_url(note, "add_addendum"), {"text": "School reports calm.", "version": version}
    )

    assert second_page.context["addendum_form"]["version"].value() == version == 2
    assert response.status_code == 200
    form = response.context["addendum_form"]
    assert form.non_field_errors() == [
        f"This note was changed by {user_name(provider.user)} at 10:00 while you were editing. "
        "Read it again; your addendum is kept below."
    ]
    assert form["version"].value() == "3"
    html = response.content.decode()
    assert "Mother reports nightmares." in html
    assert "School reports calm.</textarea>" in html
    assert list(note.addenda.values_list("text", flat=True)) == ["Mother reports nightmares."]


def test_note_add_addendum_over_the_limit_keeps_the_text_with_the_reason(provider, note):
    NoteService.sign_note(note, user=provider.user)

    response = client_of(provider.user).post(
        note_url(note, "add_addendum"), {"text": TOO_LONG, "version": "2"}
    )

    assert response.status_code == 200
    assert response.context["addendum_form"].errors == {
        "text": ["At most 20,000 characters (you wrote 20,001)."]
    }
    assert TOO_LONG in response.content.decode()
    assert not note.addenda.exists()
