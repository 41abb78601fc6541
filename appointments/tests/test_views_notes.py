"""Clinical-note pages end to end through the HTTP client: write, edit, read, sign, addenda,
the notes on the session page and the patient chart, and who may see what."""

import datetime
import re

import pytest
from django.urls import reverse

from aba.models import ABASession
from appointments.notes.models import user_name
from appointments.notes.services import NoteService
from appointments.session_service import SessionService
from appointments.tests.factories import under_way
from core.models import Clinic, User
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, TenantFactory
from core.tests.view_helpers import (
    booked,
    group_session,
    legacy_appointment,
    messages_of,
    staff_member,
    superuser,
    today,
    work_in,
)
from ot.models import OTSession
from psychology.models import PsychologySession
from psychology.tests.factories import PsychologySessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
Specialty = Clinic.Specialty

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
OT_FORM = {
    "activities": "Obstacle course",
    "attention_level": "good",
    "cooperation_level": "fair",
    "sensory_observations": "Seeks deep pressure",
    "recommendations": "Weighted lap pad",
    "home_programme": "Playdough daily",
}
ABA_FORM = {"session_summary": "Manding practice", "caregiver_training": "Token board"}


def rows_data(prefix: str, rows: list[dict], initial_ids: tuple = ()) -> dict:
    """A formset's POST data: the management form and each row, existing rows first with their ids."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(len(initial_ids)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
        if index < len(initial_ids):
            data[f"{prefix}-{index}-id"] = str(initial_ids[index])
    return data


def write_url(participant) -> str:
    return reverse("notes:participant_note_write", args=[participant.pk])


def note_url(note, action: str = "detail") -> str:
    return reverse(f"notes:note_{action}", args=[note.specialty, note.pk])


def logged_in(client, user):
    client.force_login(user)
    return client


def clinic_of(tenant, specialty: str, **fields) -> Clinic:
    return ClinicFactory(tenant=tenant, specialty=specialty, **fields)


def psychology_note(participant, provider, **content) -> PsychologySession:
    return NoteService.create_note(
        PsychologySession,
        participant=participant,
        provider=provider,
        user=provider.user,
        **{**PSYCHOLOGY_FORM, **content},
    )


def signed(note, user):
    """Sign ``note`` once its child came and its session started, as signing needs."""
    under_way(note.session_participant)
    return NoteService.sign_note(note, user=user)


def checked_in(participant):
    """The child came: cleared by finance and checked in, as the session page offers notes then."""
    finance = staff_member(participant.session.clinic.tenant, Role.FINANCE)
    SessionService.clear_finance(participant, user=finance)
    return SessionService.check_in_participant(participant)


@pytest.fixture
def session(provider, clinic):
    return group_session(provider, clinic)


@pytest.fixture
def participant(session):
    return booked(session)


@pytest.fixture
def psychologist(client, provider):
    """The session's own psychologist, signed in."""
    return logged_in(client, provider.user)


@pytest.fixture
def ot_provider(tenant):
    return ProviderFactory(clinic=clinic_of(tenant, Specialty.OT))


@pytest.fixture
def ot_participant(ot_provider):
    return booked(group_session(ot_provider, ot_provider.clinics.get()))


@pytest.fixture
def aba_provider(tenant):
    return ProviderFactory(clinic=clinic_of(tenant, Specialty.ABA))


@pytest.fixture
def aba_participant(aba_provider):
    return booked(group_session(aba_provider, aba_provider.clinics.get()))


# Writing a note


def test_participant_note_write_shows_the_disciplines_form_for_the_participant(psychologist, participant):
    response = psychologist.get(write_url(participant))

    assert response.status_code == 200
    assert tuple(response.context["note_forms"].form.fields) == PsychologySession.CONTENT_FIELDS
    html = response.content.decode()
    assert "New psychology note" in html
    assert participant.patient.full_name_en in html
    assert participant.appointment_number in html


def test_participant_note_write_creates_a_draft_by_the_signed_in_clinician(
    psychologist, provider, participant
):
    response = psychologist.post(write_url(participant), PSYCHOLOGY_FORM)

    note = PsychologySession.objects.get()
    assert response.status_code == 302
    assert response.url == note_url(note)
    assert messages_of(psychologist.get(response.url)) == ["Note saved as a draft."]
    assert PsychologySession.objects.filter(
        pk=note.pk,
        session_participant=participant,
        session=participant.session,
        patient=participant.patient,
        provider=provider,
        created_by=provider.user,
        status=PsychologySession.Status.DRAFT,
        **PSYCHOLOGY_FORM,
    ).exists()
    assert note.history.get().history_user == provider.user


@pytest.mark.parametrize(("risk", "label"), [("moderate", "moderate"), ("high", "high")])
def test_participant_note_write_moderate_or_high_risk_without_safety_plan_is_a_field_error(
    psychologist, participant, risk, label
):
    response = psychologist.post(
        write_url(participant), {**PSYCHOLOGY_FORM, "risk_assessment": risk, "safety_plan": " "}
    )

    assert response.status_code == 200
    assert response.context["note_forms"].form.errors == {
        "safety_plan": [f"A {label} risk needs a safety plan."]
    }
    assert f"A {label} risk needs a safety plan." in response.content.decode()
    assert not PsychologySession.objects.exists()


def test_participant_note_write_double_submit_creates_one_note_and_shows_it(psychologist, participant):
    first = psychologist.post(write_url(participant), PSYCHOLOGY_FORM)
    second = psychologist.post(write_url(participant), PSYCHOLOGY_FORM, follow=True)

    note = PsychologySession.objects.get()
    assert first.url == note_url(note)
    assert second.redirect_chain == [(note_url(note), 302)]
    # The first response's redirect was never followed, so its message shows too.
    assert messages_of(second) == [
        "Note saved as a draft.",
        f"{participant.patient.full_name_en} already has a psychology note for participation "
        f"{participant.appointment_number}; edit that note instead.",
    ]


def test_participant_note_write_opens_the_note_the_participant_already_has(
    psychologist, provider, participant
):
    note = psychology_note(participant, provider)

    response = psychologist.get(write_url(participant))

    assert response.status_code == 302
    assert response.url == note_url(note)


def test_participant_note_write_for_a_cancelled_booking_says_why_not(psychologist, participant):
    SessionService.cancel_participant(participant, "Family travelling")

    response = psychologist.post(write_url(participant), PSYCHOLOGY_FORM)

    assert response.status_code == 200
    assert response.context["note_forms"].form.non_field_errors() == [
        f"{participant.patient.full_name_en}'s booking {participant.appointment_number} is cancelled; "
        "a note can't be written for it."
    ]
    assert "a note can&#x27;t be written for it." in response.content.decode()
    assert not PsychologySession.objects.exists()


def test_participant_note_write_empty_post_shows_the_required_risk_field(psychologist, participant):
    response = psychologist.post(write_url(participant), {})

    assert response.status_code == 200
    assert response.context["note_forms"].form.errors == {"risk_assessment": ["This field is required."]}


def test_participant_note_write_in_a_clinic_without_notes_is_404_saying_why(client, tenant):
    speech = clinic_of(tenant, Specialty.SLP, name_en="Speech Clinic")
    participant = booked(group_session(ProviderFactory(clinic=speech), speech))
    admin = staff_member(tenant, Role.ADMIN)
    ProviderFactory(clinic=speech, user=admin)

    response = logged_in(client, admin).get(write_url(participant))

    assert response.status_code == 404
    html = response.content.decode()
    assert (
        "Speech Clinic is a speech-language pathology clinic; its notes are not kept in this system." in html
    )
    assert participant.session.get_absolute_url() in html


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.FINANCE])
def test_participant_note_write_is_forbidden_to_front_desk_and_finance(client, tenant, participant, role):
    response = logged_in(client, staff_member(tenant, role)).post(write_url(participant), PSYCHOLOGY_FORM)

    assert response.status_code == 403
    assert not PsychologySession.objects.exists()


def test_participant_note_write_of_another_discipline_is_forbidden(psychologist, ot_participant):
    response = psychologist.post(write_url(ot_participant), OT_FORM)

    assert response.status_code == 403
    assert not OTSession.objects.exists()


def test_participant_note_write_needs_a_provider_profile(client, tenant, clinic, participant):
    admin = staff_member(tenant, Role.ADMIN)
    logged_in(client, admin)

    assert client.get(write_url(participant)).status_code == 403
    ProviderFactory(clinic=clinic, user=admin)
    assert client.get(write_url(participant)).status_code == 200


def test_participant_note_write_unknown_or_foreign_participant_is_404(psychologist):
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    foreign = booked(group_session(ProviderFactory(clinic=foreign_clinic), foreign_clinic))

    assert psychologist.get(reverse("notes:participant_note_write", args=[987654])).status_code == 404
    assert psychologist.get(write_url(foreign)).status_code == 404


def test_ot_note_write_saves_rated_skills_and_shows_the_average(client, ot_provider, ot_participant):
    logged_in(client, ot_provider.user)
    skills = [
        {"skill": "Catching", "rating": "4", "comments": "Two hands"},
        {"skill": "Threading", "rating": "7", "comments": ""},
        {"skill": "", "rating": "", "comments": ""},
    ]

    response = client.post(write_url(ot_participant), {**OT_FORM, **rows_data("target_skills", skills)})

    note = OTSession.objects.get()
    assert response.url == note_url(note)
    assert list(note.target_skills.values_list("skill", "rating", "comments")) == [
        ("Catching", 4, "Two hands"),
        ("Threading", 7, ""),
    ]
    detail = client.get(note_url(note))
    assert detail.context["note"].average_rating == 5.5
    assert '<td data-testid="average-rating">5.5</td>' in detail.content.decode()


@pytest.mark.parametrize("rating", ["-1", "11"])
def test_ot_note_write_rating_off_the_scale_is_refused(client, ot_provider, ot_participant, rating):
    logged_in(client, ot_provider.user)

    response = client.post(
        write_url(ot_participant),
        {**OT_FORM, **rows_data("target_skills", [{"skill": "Catching", "rating": rating}])},
    )

    assert response.status_code == 200
    assert response.context["note_forms"].formsets[0].errors == [
        {"rating": ["Rate each skill from 0 (not achieved) to 10 (fully independent)."]}
    ]
    assert not OTSession.objects.exists()


def test_ot_note_write_page_offers_an_empty_row_and_a_row_template(client, ot_provider, ot_participant):
    logged_in(client, ot_provider.user)

    html = client.get(write_url(ot_participant)).content.decode()

    assert 'name="target_skills-TOTAL_FORMS" value="1"' in html
    assert 'name="target_skills-0-skill"' in html
    assert 'name="target_skills-__prefix__-skill"' in html
    assert 'data-add-row="target_skills"' in html


def test_ot_note_edit_changes_deletes_and_adds_skill_rows(client, ot_provider, ot_participant):
    note = NoteService.create_note(
        OTSession,
        participant=ot_participant,
        provider=ot_provider,
        **OT_FORM,
        target_skills=[{"skill": "Catching", "rating": 3}, {"skill": "Hopping", "rating": 5}],
    )
    kept, dropped = note.target_skills.all()
    logged_in(client, ot_provider.user)
    rows = [
        {"skill": "Catching", "rating": "6", "comments": "Better"},
        {"skill": "Hopping", "rating": "5", "DELETE": "on"},
        {"skill": "Skipping", "rating": "2"},
    ]

    response = client.post(
        note_url(note, "edit"),
        {
            **OT_FORM,
            **rows_data("target_skills", rows, initial_ids=(kept.pk, dropped.pk)),
            "version": note.version,
        },
    )

    assert response.url == note_url(note)
    assert list(note.target_skills.values_list("skill", "rating", "comments")) == [
        ("Catching", 6, "Better"),
        ("Skipping", 2, ""),
    ]


def test_aba_note_write_saves_records_and_targets_and_shows_percent_correct(
    client, aba_provider, aba_participant
):
    logged_in(client, aba_provider.user)
    records = [{"antecedent": "Demand", "behaviour": "Elopement", "frequency": "2", "intensity": "moderate"}]
    targets = [
        {"target": "Mand for break", "trials": "8", "correct": "6", "prompt_level": "verbal"},
        {"target": "Wait", "trials": "2", "correct": "2", "prompt_level": ""},
        {"target": "Imitate", "trials": "0", "correct": "0", "prompt_level": ""},
    ]

    response = client.post(
        write_url(aba_participant),
        {**ABA_FORM, **rows_data("behaviour_records", records), **rows_data("skill_targets", targets)},
    )

    note = ABASession.objects.get()
    assert response.url == note_url(note)
    assert list(note.behaviour_records.values_list("behaviour", "frequency", "intensity")) == [
        ("Elopement", 2, "moderate")
    ]
    html = client.get(note_url(note)).content.decode()
    assert '<td data-testid="percent-correct">75.0%</td>' in html
    assert '<td data-testid="percent-correct">100.0%</td>' in html
    assert '<td data-testid="percent-correct">—</td>' in html
    assert '<td data-testid="overall-percent-correct">80.0%</td>' in html


def test_aba_note_write_correct_above_trials_is_refused(client, aba_provider, aba_participant):
    logged_in(client, aba_provider.user)
    targets = [{"target": "Wait", "trials": "4", "correct": "5"}]

    response = client.post(
        write_url(aba_participant),
        {**ABA_FORM, **rows_data("behaviour_records", []), **rows_data("skill_targets", targets)},
    )

    assert response.status_code == 200
    assert response.context["note_forms"].formsets[1].errors == [
        {"correct": ["Correct responses (5) can't exceed the trials run (4)."]}
    ]
    assert "Correct responses (5) can&#x27;t exceed the trials run (4)." in response.content.decode()
    assert not ABASession.objects.exists()


# Editing a draft


def test_note_edit_shows_the_draft_and_saves_changes(psychologist, provider, participant):
    note = psychology_note(participant, provider)

    page = psychologist.get(note_url(note, "edit"))
    response = psychologist.post(
        note_url(note, "edit"), {**PSYCHOLOGY_FORM, "progress": "Sleeping better", "version": note.version}
    )

    assert page.context["note_forms"].form.initial["progress"] == "Fewer worries"
    assert '<input type="hidden" name="version" value="1"' in page.content.decode()
    assert "Edit the psychology note" in page.content.decode()
    assert response.url == note_url(note)
    note.refresh_from_db()
    assert note.progress == "Sleeping better"
    assert note.history.first().history_user == provider.user


def test_note_edit_refuses_invalid_content_and_keeps_the_draft(psychologist, provider, participant):
    note = psychology_note(participant, provider)

    response = psychologist.post(
        note_url(note, "edit"), {**PSYCHOLOGY_FORM, "risk_assessment": "high", "version": note.version}
    )

    assert response.status_code == 200
    assert response.context["note_forms"].form.errors == {"safety_plan": ["A high risk needs a safety plan."]}
    note.refresh_from_db()
    assert note.risk_assessment == "low"


def test_note_edit_of_a_signed_note_is_refused(psychologist, provider, participant):
    note = signed(psychology_note(participant, provider), provider.user)

    response = psychologist.get(note_url(note, "edit"), follow=True)

    assert response.redirect_chain == [(note_url(note), 302)]
    assert messages_of(response) == ["This note is signed and can't be changed; add an addendum instead."]


def test_note_edit_posted_to_a_signed_note_keeps_the_text_and_points_to_an_addendum(
    psychologist, provider, participant
):
    note = signed(psychology_note(participant, provider), provider.user)

    response = psychologist.post(
        note_url(note, "edit"), {**PSYCHOLOGY_FORM, "progress": "Changed", "version": note.version - 1}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["conflict"].signed
    assert response.context["conflict"].headline.startswith(
        f"This note was signed by {user_name(provider.user)} at 10:"
    )
    assert re.search(r'<textarea name="progress"[^>]*>\s*Changed</textarea>', html)
    assert 'data-testid="save-note"' not in html
    assert 'data-testid="go-to-addendum"' in html
    note.refresh_from_db()
    assert note.progress == "Fewer worries"


def test_note_edit_needs_a_writer_of_the_discipline(client, tenant, provider, participant):
    note = psychology_note(participant, provider)

    assert logged_in(client, staff_member(tenant, Role.ADMIN)).get(note_url(note, "edit")).status_code == 403


# Reading a note


def test_note_detail_shows_content_status_and_the_authors_actions(psychologist, provider, participant):
    under_way(participant)
    note = psychology_note(participant, provider, risk_assessment="moderate", safety_plan="Call the guardian")

    response = psychologist.get(note_url(note))

    html = response.content.decode()
    assert response.context["actions"].can_edit
    assert response.context["actions"].can_sign
    assert not response.context["actions"].can_add_addendum
    assert '<span class="badge text-bg-warning" data-note-status="draft">Draft</span>' in html
    assert "Worries at school" in html
    assert "Moderate" in html
    assert "Call the guardian" in html
    assert note_url(note, "edit") in html
    assert note_url(note, "sign") in html
    assert participant.session.get_absolute_url() in html
    assert "/admin/" not in html.split("<main", 1)[1]


def test_note_detail_of_a_signed_note_shows_signer_addenda_and_the_history_for_admins(
    client, tenant, provider, participant
):
    note = signed(psychology_note(participant, provider), provider.user)
    NoteService.add_addendum(note, text="Guardian called back", user=provider.user)
    admin = staff_member(tenant, Role.ADMIN, is_staff=True)

    response = logged_in(client, admin).get(note_url(note))

    html = response.content.decode()
    assert '<span class="badge text-bg-success" data-note-status="signed">Signed</span>' in html
    assert str(provider.user) in html
    assert "Guardian called back" in html
    assert reverse("admin:psychology_psychologysession_history", args=[note.pk]) in html
    assert note_url(note, "edit") not in html
    assert note_url(note, "sign") not in html
    assert note_url(note, "add_addendum") in html


@pytest.mark.parametrize(
    "role", [Role.FRONT_DESK, Role.FINANCE, Role.OCCUPATIONAL_THERAPIST, Role.ABA_THERAPIST]
)
def test_note_detail_is_forbidden_outside_the_discipline(client, tenant, provider, participant, role):
    note = psychology_note(participant, provider)
    logged_in(client, staff_member(tenant, role))

    assert client.get(note_url(note)).status_code == 403


def test_note_detail_of_an_ot_note_is_forbidden_to_a_psychologist(psychologist, ot_provider, ot_participant):
    note = NoteService.create_note(OTSession, participant=ot_participant, provider=ot_provider, **OT_FORM)

    assert psychologist.get(note_url(note)).status_code == 403


def test_note_detail_unknown_discipline_id_or_organisation_is_404(
    client, psychologist, provider, participant
):
    note = psychology_note(participant, provider)
    foreign_admin = staff_member(TenantFactory(code="OTHER"), Role.ADMIN)

    assert psychologist.get(reverse("notes:note_detail", args=["psychology", 987654])).status_code == 404
    assert psychologist.get(reverse("notes:note_detail", args=["slp", note.pk])).status_code == 404
    assert psychologist.get(reverse("notes:note_detail", args=["astrology", note.pk])).status_code == 404
    assert logged_in(client, foreign_admin).get(note_url(note)).status_code == 404


@pytest.mark.parametrize("rows", [2, 10])
def test_note_detail_query_count_does_not_grow_with_rows_and_addenda(
    client, aba_provider, aba_participant, rows, django_assert_num_queries
):
    note = NoteService.create_note(
        ABASession,
        participant=aba_participant,
        provider=aba_provider,
        **ABA_FORM,
        behaviour_records=[{"behaviour": f"Behaviour {n}", "frequency": n} for n in range(rows)],
        skill_targets=[{"target": f"Target {n}", "trials": 10, "correct": n} for n in range(rows)],
    )
    signed(note, aba_provider.user)
    for n in range(rows):
        NoteService.add_addendum(note, text=f"Remark {n}", user=aba_provider.user)
    logged_in(client, aba_provider.user)

    # session, user, the note with its links, addenda with authors, behaviour records, skill
    # targets, the viewer's provider profile and the next child ("Next child"), the access-log
    # row (its patient looked up inside the INSERT)
    with django_assert_num_queries(9):
        response = client.get(note_url(note))

    assert len(response.context["note"].addenda.all()) == rows


def test_note_detail_and_edit_of_a_legacy_appointment_note(psychologist, provider, clinic):
    appointment = legacy_appointment(provider, clinic)
    note = PsychologySessionFactory(appointment=appointment)

    detail = psychologist.get(note_url(note))
    edited = psychologist.post(
        note_url(note, "edit"), {**PSYCHOLOGY_FORM, "homework": "Breathing", "version": note.version}
    )

    assert detail.status_code == 200
    assert appointment.appointment_number in detail.content.decode()
    assert edited.url == note_url(note)
    note.refresh_from_db()
    assert (note.homework, note.appointment, note.session) == ("Breathing", appointment, None)


# Signing


def test_note_sign_asks_for_confirmation_then_signs(psychologist, provider, participant):
    under_way(participant)
    note = psychology_note(participant, provider)

    confirmation = psychologist.get(note_url(note, "sign"))
    response = psychologist.post(note_url(note, "sign"), follow=True)

    assert confirmation.status_code == 200
    assert "Once signed, this psychology note can't be changed." in confirmation.content.decode()
    note.refresh_from_db()
    assert note.status == "signed"
    assert note.signed_by == provider.user
    assert response.redirect_chain == [(note_url(note), 302)]
    assert messages_of(response) == ["Note signed. Corrections from now on go in an addendum."]


def test_note_sign_a_second_time_says_it_is_signed(psychologist, provider, participant):
    note = signed(psychology_note(participant, provider), provider.user)

    posted = psychologist.post(note_url(note, "sign"), follow=True)
    opened = psychologist.get(note_url(note, "sign"), follow=True)

    assert messages_of(posted) == ["This note is already signed."]
    assert opened.redirect_chain == [(note_url(note), 302)]
    assert messages_of(opened) == ["This note is already signed."]


def test_note_sign_by_another_psychologist_is_refused(client, clinic, provider, participant):
    note = psychology_note(participant, provider)
    colleague = ProviderFactory(clinic=clinic)

    response = logged_in(client, colleague.user).post(note_url(note, "sign"), follow=True)

    assert messages_of(response) == [f"Only {provider}, who wrote this note, can sign it."]
    note.refresh_from_db()
    assert note.status == "draft"


def test_note_sign_by_an_administrator_without_provider_profile(client, tenant, provider, participant):
    under_way(participant)
    note = psychology_note(participant, provider)
    admin = staff_member(tenant, Role.ADMIN)

    logged_in(client, admin).post(note_url(note, "sign"))

    note.refresh_from_db()
    assert (note.status, note.signed_by) == ("signed", admin)


def test_note_sign_an_empty_note_is_refused(client, ot_provider, ot_participant):
    logged_in(client, ot_provider.user)
    client.post(write_url(ot_participant), rows_data("target_skills", []), follow=True)
    note = OTSession.objects.get()

    response = client.post(note_url(note, "sign"), follow=True)

    assert messages_of(response) == ["This note is empty; write it before signing."]
    note.refresh_from_db()
    assert note.status == "draft"


def test_note_sign_is_forbidden_to_front_desk(client, tenant, provider, participant):
    note = psychology_note(participant, provider)

    response = logged_in(client, staff_member(tenant, Role.FRONT_DESK)).post(note_url(note, "sign"))

    assert response.status_code == 403
    note.refresh_from_db()
    assert note.status == "draft"


# Addenda


def test_note_add_addendum_to_a_signed_note_records_its_author(psychologist, provider, participant):
    note = signed(psychology_note(participant, provider), provider.user)

    response = psychologist.post(
        note_url(note, "add_addendum"), {"text": "  Mother reports nightmares  "}, follow=True
    )

    addendum = note.addenda.get()
    assert (addendum.text, addendum.author) == ("Mother reports nightmares", provider.user)
    assert response.redirect_chain == [(note_url(note), 302)]
    assert messages_of(response) == ["Addendum added."]
    assert "Mother reports nightmares" in response.content.decode()


@pytest.mark.parametrize("text", ["", "   "])
def test_note_add_addendum_blank_is_refused(psychologist, provider, participant, text):
    note = signed(psychology_note(participant, provider), provider.user)

    response = psychologist.post(note_url(note, "add_addendum"), {"text": text}, follow=True)

    assert messages_of(response) == ["Write the text of the addendum."]
    assert not note.addenda.exists()


def test_note_add_addendum_to_a_draft_is_refused(psychologist, provider, participant):
    note = psychology_note(participant, provider)

    response = psychologist.post(note_url(note, "add_addendum"), {"text": "Later remark"}, follow=True)

    assert messages_of(response) == ["Only a signed note takes addenda; edit the draft instead."]
    assert not note.addenda.exists()


def test_note_add_addendum_answers_only_posts(psychologist, provider, participant):
    note = signed(psychology_note(participant, provider), provider.user)

    assert psychologist.get(note_url(note, "add_addendum")).status_code == 405


# The session page


def test_session_detail_shows_each_participants_note_and_the_clinicians_buttons(
    psychologist, provider, session
):
    drafted, signed_one, came, waiting, cancelled = (booked(session) for _ in range(5))
    draft = psychology_note(checked_in(drafted), provider)
    done = signed(psychology_note(signed_one, provider), provider.user)
    checked_in(came)
    SessionService.cancel_participant(cancelled, "Family travelling")

    response = psychologist.get(session.get_absolute_url())

    html = response.content.decode()
    by_pk = {p.pk: p for p in response.context["participants"]}
    assert by_pk[drafted.pk].readable_notes == [draft]
    assert by_pk[signed_one.pk].readable_notes == [done]
    assert [p.can_write_note for p in by_pk.values()] == [False, False, True, False, False]
    assert note_url(draft) in html
    assert note_url(draft, "edit") in html
    assert note_url(draft, "sign") in html
    assert note_url(done) in html
    assert note_url(done, "edit") not in html
    assert note_url(done, "sign") not in html
    assert write_url(came) in html
    assert write_url(waiting) not in html
    assert write_url(cancelled) not in html
    assert '<span class="badge text-bg-success" data-note-status="signed">Signed</span>' in html


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.FINANCE])
def test_session_detail_shows_front_desk_and_finance_nothing_of_the_notes(
    client, tenant, provider, participant, role
):
    note = psychology_note(participant, provider, presenting_issues="Private worry")

    response = logged_in(client, staff_member(tenant, role)).get(participant.session.get_absolute_url())

    html = response.content.decode()
    assert response.context["shows_notes"] is False
    assert "participant-notes" not in html
    assert "/notes/" not in html
    assert "Private worry" not in html
    assert note.get_status_display() not in html


def test_session_detail_shows_a_psychologist_no_ot_note_and_no_write_button(
    psychologist, ot_provider, ot_participant
):
    checked_in(ot_participant)
    note = NoteService.create_note(OTSession, participant=ot_participant, provider=ot_provider, **OT_FORM)
    came_without_note = checked_in(booked(ot_participant.session))

    html = psychologist.get(ot_participant.session.get_absolute_url()).content.decode()

    assert note_url(note) not in html
    assert write_url(came_without_note) not in html
    assert "No notes yet." in html


def test_session_detail_shows_an_administrator_the_notes_but_no_write_button(
    client, tenant, provider, session
):
    with_note, without = under_way(booked(session)), checked_in(booked(session))
    note = psychology_note(with_note, provider)

    html = (
        logged_in(client, staff_member(tenant, Role.ADMIN)).get(session.get_absolute_url()).content.decode()
    )

    assert note_url(note) in html
    assert note_url(note, "sign") in html
    assert note_url(note, "edit") not in html
    assert write_url(without) not in html


@pytest.mark.parametrize("participants", [3, 12])
def test_session_detail_query_count_with_notes_does_not_grow(
    psychologist, provider, clinic, participants, django_assert_num_queries
):
    session = group_session(provider, clinic, capacity=20)
    for index in range(participants):
        note = psychology_note(booked(session), provider)
        if index % 2:
            NoteService.add_addendum(signed(note, provider.user), text="Remark", user=provider.user)

    # session, user, the session, participants with patients, their consents, the waiting
    # list, the viewer's provider profile, participants again for the notes, the
    # psychology notes, their addenda, the user's organisation (whether it shows Hijri dates),
    # the access-log row
    with django_assert_num_queries(12):
        response = psychologist.get(session.get_absolute_url())

    assert sum(len(p.readable_notes) for p in response.context["participants"]) == participants


# The patient chart


@pytest.fixture
def charted_patient(tenant, provider, ot_provider, aba_provider):
    """A patient with a psychology note (oldest), an OT note and an ABA note (newest)."""
    patient = PatientFactory(tenant=tenant)
    for days_ago, note_provider, note_model, content in (
        (3, provider, PsychologySession, PSYCHOLOGY_FORM),
        (2, ot_provider, OTSession, OT_FORM),
        (1, aba_provider, ABASession, ABA_FORM),
    ):
        day = today() - datetime.timedelta(days=days_ago)
        participant = booked(group_session(note_provider, note_provider.clinics.get(), day=day), patient)
        NoteService.create_note(note_model, participant=participant, provider=note_provider, **content)
    return patient


def chart_url(patient) -> str:
    return reverse("core:patient_chart", args=[patient.pk])


def test_patient_chart_lists_every_note_an_administrator_may_read_newest_first(
    client, tenant, charted_patient
):
    response = logged_in(client, staff_member(tenant, Role.ADMIN)).get(chart_url(charted_patient))

    notes = response.context["notes"]
    assert [type(note) for note in notes] == [ABASession, OTSession, PsychologySession]
    html = response.content.decode()
    for note in notes:
        assert note_url(note) in html
    assert "ABA note" in html


def test_patient_chart_lists_a_clinician_only_their_disciplines_notes(psychologist, charted_patient):
    response = psychologist.get(chart_url(charted_patient))

    assert [type(note) for note in response.context["notes"]] == [PsychologySession]
    assert "/notes/ot/" not in response.content.decode()
    assert "/notes/aba/" not in response.content.decode()


def test_patient_chart_shows_front_desk_no_notes(client, tenant, charted_patient):
    response = logged_in(client, staff_member(tenant, Role.FRONT_DESK)).get(chart_url(charted_patient))

    assert response.context["notes"] == []
    assert "patient-notes" not in response.content.decode()
    assert "/notes/" not in response.content.decode()


@pytest.mark.parametrize("visits", [3, 12])
def test_patient_chart_query_count_with_notes_does_not_grow(
    client, tenant, provider, clinic, visits, django_assert_num_queries
):
    patient = PatientFactory(tenant=tenant)
    for day in range(visits):
        participant = booked(
            group_session(provider, clinic, day=today() - datetime.timedelta(days=day)), patient
        )
        psychology_note(participant, provider)
    work_in(logged_in(client, superuser()), tenant)

    # session, user, patient, per timeline (upcoming, past) a count and a page of keys, the
    # pages' session places (no appointments: none asked for), consents, guardians, the viewer's provider
    # profile, then each discipline's notes (psychology's with their addenda; no OT or ABA note,
    # so nothing of theirs to prefetch), the progress section's sessions and legacy appointments
    # and each discipline's progress (psychology's, OT's, ABA's), the access-log row
    with django_assert_num_queries(21):
        response = client.get(chart_url(patient))

    assert len(response.context["notes"]) == visits
