"""Psychology note admin: drafts editable and validated, signed notes read-only with addenda."""

import pytest
from simple_history.admin import SimpleHistoryAdmin

from appointments.notes.services import NoteService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory, under_way
from core.tests.admin_helpers import (
    admin_url,
    concrete_models,
    form_data,
    message_texts,
    registered_admins,
    tenant_admin_staff,
)
from core.tests.factories import PatientFactory, TenantFactory
from psychology.models import PsychologyNoteAddendum, PsychologySession
from psychology.tests.factories import PsychologySessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def participant(clinic, provider):
    """A child who came to a session under way: their note can be signed."""
    return under_way(ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider)))


@pytest.fixture
def draft(participant):
    return PsychologySessionFactory(session_participant=participant, progress="Settling in")


@pytest.fixture
def signed(draft):
    NoteService.sign_note(draft, user=draft.provider.user)
    NoteService.add_addendum(draft, text="First addendum", user=draft.provider.user)
    return draft


def test_admin_registers_every_psychology_model():
    assert set(concrete_models("psychology")) == set(registered_admins("psychology"))


def test_admin_pages_load_for_psychology_notes(admin_client, draft):
    addendum_note = PsychologySessionFactory()
    NoteService.sign_note(addendum_note, user=addendum_note.provider.user)
    addendum = NoteService.add_addendum(addendum_note, text="Remark", user=addendum_note.provider.user)

    for model, obj in [(PsychologySession, draft), (PsychologyNoteAddendum, addendum)]:
        assert admin_client.get(admin_url(model, "changelist")).status_code == 200
        assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
        assert isinstance(registered_admins("psychology")[model], SimpleHistoryAdmin)
        assert admin_client.get(admin_url(model, "history", obj.pk)).status_code == 200
    assert admin_client.get(admin_url(PsychologySession, "add")).status_code == 200
    assert admin_client.get(admin_url(PsychologyNoteAddendum, "add")).status_code == 403


@pytest.mark.parametrize("field", ["mrn", "first_name_en", "first_name_ar", "appointment_number"])
def test_psychology_note_admin_search_by_patient_or_number(admin_client, draft, field):
    other = PsychologySessionFactory()
    if field == "appointment_number":
        term = draft.session_participant.appointment_number
    else:
        term = getattr(draft.patient, field)

    response = admin_client.get(admin_url(PsychologySession, "changelist"), {"q": term})

    assert list(response.context["cl"].result_list) == [draft]
    assert other not in response.context["cl"].result_list


def test_psychology_note_admin_edits_a_draft_with_history(admin_client, admin_user, draft):
    page = admin_client.get(admin_url(PsychologySession, "change", draft.pk))
    data = {**form_data(page), "progress": "Making friends"}

    response = admin_client.post(admin_url(PsychologySession, "change", draft.pk), data)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.progress == "Making friends"
    assert draft.history.first().history_user == admin_user


def test_psychology_note_admin_shows_a_missing_safety_plan_as_a_field_error(admin_client, draft):
    page = admin_client.get(admin_url(PsychologySession, "change", draft.pk))
    data = {**form_data(page), "risk_assessment": "high", "safety_plan": ""}

    response = admin_client.post(admin_url(PsychologySession, "change", draft.pk), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"safety_plan": ["A high risk needs a safety plan."]}
    assert PsychologySession.objects.get(pk=draft.pk).risk_assessment == "none"


def test_psychology_note_admin_add_with_another_childs_participation_is_a_form_error(
    admin_client, participant, provider
):
    stranger = PatientFactory(tenant=participant.patient.tenant)
    data = {
        "patient": stranger.pk,
        "provider": provider.pk,
        "session_date": "2025-11-15",
        "session_participant": participant.pk,
        "risk_assessment": "none",
        "addenda-TOTAL_FORMS": "0",
        "addenda-INITIAL_FORMS": "0",
    }

    response = admin_client.post(admin_url(PsychologySession, "add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        f"This note is about {stranger.full_name_en}, but participation "
        f"{participant.appointment_number} is {participant.patient.full_name_en}'s."
    ]
    assert not PsychologySession.objects.exists()


def test_psychology_note_admin_add_fills_links_and_creator(admin_client, admin_user, participant, provider):
    data = {
        "patient": participant.patient.pk,
        "provider": provider.pk,
        "session_date": "2025-11-15",
        "session_participant": participant.pk,
        "presenting_issues": "Shy in groups",
        "risk_assessment": "none",
        "addenda-TOTAL_FORMS": "0",
        "addenda-INITIAL_FORMS": "0",
    }

    response = admin_client.post(admin_url(PsychologySession, "add"), data)

    assert response.status_code == 302
    note = PsychologySession.objects.get()
    assert (note.session, note.created_by, note.presenting_issues) == (
        participant.session,
        admin_user,
        "Shy in groups",
    )


def test_psychology_note_admin_signed_note_is_read_only_and_takes_addenda(admin_client, admin_user, signed):
    page = admin_client.get(admin_url(PsychologySession, "change", signed.pk))
    form = page.context["adminform"].form
    data = {
        **form_data(page),
        "progress": "Rewritten in the admin",
        "addenda-TOTAL_FORMS": "2",
        "addenda-1-text": "Second addendum",
    }

    response = admin_client.post(admin_url(PsychologySession, "change", signed.pk), data)

    assert list(form.fields) == []
    assert response.status_code == 302
    signed.refresh_from_db()
    assert signed.progress == "Settling in"
    assert [(a.text, a.author) for a in signed.addenda.all()] == [
        ("First addendum", signed.provider.user),
        ("Second addendum", admin_user),
    ]


def test_psychology_note_admin_refuses_deleting_a_signed_note(admin_client, signed):
    for response in (
        admin_client.get(admin_url(PsychologySession, "delete", signed.pk), follow=True),
        admin_client.post(admin_url(PsychologySession, "delete", signed.pk), {"post": "yes"}, follow=True),
    ):
        assert response.redirect_chain == [(admin_url(PsychologySession, "change", signed.pk), 302)]
        assert message_texts(response) == [
            "A signed note is part of the record and can't be deleted; add an addendum instead."
        ]
    assert PsychologySession.objects.filter(pk=signed.pk).exists()


def test_psychology_note_admin_offers_signing_not_bulk_delete(admin_client, draft):
    response = admin_client.get(admin_url(PsychologySession, "changelist"))

    actions = [name for name, _label in response.context["action_form"].fields["action"].choices if name]
    assert actions == ["sign_notes"]


def test_psychology_note_admin_sign_action_signs_drafts_and_reports_refusals(admin_client, admin_user, draft):
    already = PsychologySessionFactory()
    NoteService.sign_note(already, user=already.provider.user)

    response = admin_client.post(
        admin_url(PsychologySession, "changelist"),
        {"action": "sign_notes", "_selected_action": [draft.pk, already.pk]},
        follow=True,
    )

    draft.refresh_from_db()
    assert (draft.status, draft.signed_by) == (PsychologySession.Status.SIGNED, admin_user)
    assert message_texts(response) == [f"{already}: This note is already signed.", "1 note signed."]


def test_psychology_note_admin_shows_staff_only_their_tenants_notes(client, draft):
    other_tenant_note = PsychologySessionFactory(patient=PatientFactory(tenant=TenantFactory(code="OTHER")))
    staff = tenant_admin_staff(draft.patient.tenant)
    client.force_login(staff)

    response = client.get(admin_url(PsychologySession, "changelist"))

    assert list(response.context["cl"].result_list) == [draft]
    assert client.get(admin_url(PsychologySession, "change", other_tenant_note.pk)).status_code == 302


def test_psychology_note_admin_never_reverts_a_note_signed_or_draft(admin_client, draft):
    signed = PsychologySessionFactory()
    NoteService.sign_note(signed, user=signed.provider.user)

    for note in (draft, signed):
        version = note.history.earliest().history_id
        version_url = admin_url(PsychologySession, "simple_history", note.pk, version)
        history = admin_client.get(admin_url(PsychologySession, "history", note.pk))

        assert history.status_code == 200
        assert version_url not in history.content.decode()
        assert admin_client.get(version_url).status_code == 403
        assert admin_client.post(version_url, {"presenting_issues": "Rewritten"}).status_code == 403
    assert PsychologySession.objects.filter(presenting_issues="Rewritten").count() == 0
