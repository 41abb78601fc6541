"""The note admin never loses an update or a signed note: versions on its change page, and
delete pages (of notes, patients, participations) that refuse with a message, never a 500."""

import pytest
from django.test import Client

from appointments.models import SessionParticipant
from appointments.notes.models import user_name
from appointments.notes.services import NoteService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory, under_way
from core.models import Patient
from core.tests.admin_helpers import admin_url, form_data
from core.tests.factories import UserFactory
from ot.models import OTSession
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def participant(clinic, provider):
    """A child who came to a session under way: their note can be signed."""
    return under_way(ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider)))


@pytest.fixture
def draft(participant, provider):
    return NoteService.create_note(
        PsychologySession,
        participant=participant,
        provider=provider,
        progress="Settling in",
        homework="Diary",
    )


def admin_client_of(username: str) -> tuple[Client, object]:
    user = UserFactory(username=username, tenant=None, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client, user


def test_note_admin_change_page_carries_the_version_it_shows(draft):
    client, _user = admin_client_of("admin1")

    page = client.get(admin_url(PsychologySession, "change", draft.pk))

    assert '<input type="hidden" name="loaded_version" value="1"' in page.content.decode()


def test_note_admin_two_admins_save_one_draft_the_second_is_refused_and_loses_nothing(draft):
    # given two administrators who opened the same draft
    (first, first_user), (second, _second_user) = admin_client_of("admin1"), admin_client_of("admin2")
    first_page = first.get(admin_url(PsychologySession, "change", draft.pk))
    second_page = second.get(admin_url(PsychologySession, "change", draft.pk))

    # when both save, each a different field
    saved = first.post(
        admin_url(PsychologySession, "change", draft.pk), {**form_data(first_page), "progress": "Admin one's"}
    )
    refused = second.post(
        admin_url(PsychologySession, "change", draft.pk),
        {**form_data(second_page), "homework": "Admin two's"},
    )

    # then the second sees why, with the typed text, and the first's change is kept
    assert saved.status_code == 302
    assert refused.status_code == 200
    form = refused.context["adminform"].form
    assert form.non_field_errors() == [
        f"This note was changed by {user_name(first_user)} at 10:00 while you were editing. "
        "Compare your text with the saved note, then save again."
    ]
    assert form["homework"].value() == "Admin two's"
    assert form["progress"].value() == "Admin one's"  # untouched by the second: brought up to date
    assert form["loaded_version"].value() == "2"
    stored = PsychologySession.objects.get(pk=draft.pk)
    assert (stored.progress, stored.homework, stored.version) == ("Admin one's", "Diary", 2)

    # and saving the page shown again (now at the current version) saves the second's change
    again = second.post(admin_url(PsychologySession, "change", draft.pk), form_data(refused))
    assert again.status_code == 302
    stored.refresh_from_db()
    assert (stored.progress, stored.homework, stored.version) == ("Admin one's", "Admin two's", 3)


def test_note_admin_save_refused_with_the_note_locked_when_it_changed_after_validation(draft, monkeypatch):
    # given a page whose version was current when the form validated, then a clinician saves
    client, _user = admin_client_of("admin1")
    page = client.get(admin_url(PsychologySession, "change", draft.pk))
    save_draft = NoteService.save_draft

    def clinician_first(note, **kwargs):
        NoteService.update_note(PsychologySession.objects.get(pk=note.pk), progress="The clinician's")
        return save_draft(note, **kwargs)

    monkeypatch.setattr(NoteService, "save_draft", staticmethod(clinician_first))

    # when the admin's save reaches the service
    response = client.post(
        admin_url(PsychologySession, "change", draft.pk), {**form_data(page), "homework": "X"}
    )

    # then the service refuses on the form and the clinician's text stays
    assert response.status_code == 200
    assert "while you were editing" in response.context["adminform"].form.non_field_errors()[0]
    assert PsychologySession.objects.get(pk=draft.pk).progress == "Settling in"


def test_note_admin_ot_draft_with_rows_saves_and_moves_the_version_on(clinic, provider):
    note = NoteService.create_note(
        OTSession,
        participant=ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider)),
        provider=provider,
        activities="Obstacle course",
        target_skills=[{"skill": "Catching", "rating": 3}],
    )
    client, _user = admin_client_of("admin1")
    page = client.get(admin_url(OTSession, "change", note.pk))

    response = client.post(
        admin_url(OTSession, "change", note.pk), {**form_data(page), "target_skills-0-rating": "7"}
    )

    assert response.status_code == 302
    stored = OTSession.objects.get(pk=note.pk)
    assert (stored.version, stored.target_skills.get().rating) == (2, 7)


# Delete pages


def test_patient_admin_delete_page_lists_the_patients_signed_note_and_deletes_nothing(draft, provider):
    NoteService.sign_note(draft, user=provider.user)
    client, _user = admin_client_of("admin1")
    patient = draft.patient

    page = client.get(admin_url(Patient, "delete", patient.pk))
    posted = client.post(admin_url(Patient, "delete", patient.pk), {"post": "yes"})

    assert page.status_code == posted.status_code == 200
    assert any(str(draft) in str(item) for item in page.context["protected"])
    assert PsychologySession.objects.filter(pk=draft.pk).exists()
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_participant_admin_offers_no_delete(draft):
    client, _user = admin_client_of("admin1")

    response = client.get(admin_url(SessionParticipant, "delete", draft.session_participant_id))

    assert response.status_code == 403
    assert SessionParticipant.objects.filter(pk=draft.session_participant_id).exists()
