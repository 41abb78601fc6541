"""The note pages' "Save and sign" and "Next child": a group's notes written one child after another.

"Save and sign" saves the draft, then asks the same confirmation as "Sign" (the signing
page): nothing is signed until it is confirmed. "Next child" leads from one participant's
note to the next participant's of the same session, in the session's order, passing over
the children with no note to write (cancelled, turned away, no-show), to their note or to
its writing page; writers of the discipline only.
"""

import pytest
from django.urls import reverse

from appointments.exceptions import CheckInBlocked
from appointments.notes.selectors import next_child
from appointments.notes.services import NoteService
from appointments.session_service import SessionService
from appointments.tests.factories import under_way
from appointments.tests.test_views_notes import OT_FORM, PSYCHOLOGY_FORM, clinic_of, rows_data
from core.models import Clinic, User
from core.tests.factories import ProviderFactory, TenantFactory
from core.tests.view_helpers import booked, group_session, legacy_appointment, messages_of, staff_member
from ot.models import OTSession
from psychology.models import PsychologySession
from psychology.tests.factories import PsychologySessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
Status = PsychologySession.Status


def write_url(participant) -> str:
    return reverse("notes:participant_note_write", args=[participant.pk])


def note_url(note, action: str = "detail") -> str:
    return reverse(f"notes:note_{action}", args=[note.specialty, note.pk])


def draft(participant, provider, **content) -> PsychologySession:
    return NoteService.create_note(
        PsychologySession,
        participant=participant,
        provider=provider,
        user=provider.user,
        **{**PSYCHOLOGY_FORM, **content},
    )


def cancelled(participant):
    return SessionService.cancel_participant(participant, "Family travelling")


def turned_away(participant):
    # Finance hasn't cleared the visit: check-in is refused and recorded, and the child goes home.
    with pytest.raises(CheckInBlocked):
        SessionService.check_in_participant(participant)
    return SessionService.mark_turned_away(participant)


def no_show(participant):
    return SessionService.mark_participant_no_show(participant)


@pytest.fixture
def session(provider, clinic):
    return group_session(provider, clinic, capacity=12)


@pytest.fixture
def clinician(client, provider):
    client.force_login(provider.user)
    return client


@pytest.fixture
def group(session, provider):
    """Six children in booking order: Amal (came, a draft note), Badr (cancelled), Dana (turned
    away), Fahd (no-show), Hind (came, no note yet) and Jana (came, a signed note)."""
    children = {name: booked(session) for name in ("amal", "badr", "dana", "fahd", "hind", "jana")}
    cancelled(children["badr"])
    turned_away(children["dana"])
    no_show(children["fahd"])
    for name in ("amal", "hind", "jana"):
        children[name] = under_way(children[name])
    children["amal_note"] = draft(children["amal"], provider)
    children["jana_note"] = NoteService.sign_note(draft(children["jana"], provider), user=provider.user)
    return children


# Save and sign


@pytest.fixture
def came(session):
    """A child checked in to a session under way: their note can be signed once written."""
    return under_way(booked(session))


def test_save_and_sign_on_a_new_note_saves_the_draft_then_asks_for_the_confirmation(clinician, came):
    response = clinician.post(write_url(came), {**PSYCHOLOGY_FORM, "then": "sign"})

    note = PsychologySession.objects.get(session_participant=came)
    assert response.status_code == 302
    assert response.url == note_url(note, "sign")
    assert note.status == Status.DRAFT
    confirmation = clinician.get(response.url)
    assert confirmation.status_code == 200
    assert messages_of(confirmation) == ["Note saved as a draft."]
    html = confirmation.content.decode()
    assert 'data-testid="confirm-sign"' in html
    assert "Once signed, this psychology note can't be changed. Corrections are added as addenda." in html
    note.refresh_from_db()
    assert note.status == Status.DRAFT


def test_save_and_sign_is_signed_only_once_confirmed(clinician, provider, came):
    saved = clinician.post(write_url(came), {**PSYCHOLOGY_FORM, "then": "sign"})
    note = PsychologySession.objects.get(session_participant=came)
    clinician.get(saved.url)

    response = clinician.post(saved.url, {"version": note.version})

    note.refresh_from_db()
    assert response.url == note_url(note)
    assert (note.status, note.signed_by) == (Status.SIGNED, provider.user)
    assert messages_of(clinician.get(response.url)) == [
        "Note signed. Corrections from now on go in an addendum."
    ]


def test_save_and_sign_on_the_edit_page_saves_the_change_and_asks_for_the_confirmation(
    clinician, provider, came
):
    note = draft(came, provider)

    response = clinician.post(
        note_url(note, "edit"),
        {**PSYCHOLOGY_FORM, "homework": "Worry diary", "version": note.version, "then": "sign"},
    )

    note.refresh_from_db()
    assert response.url == note_url(note, "sign")
    assert (note.homework, note.status, note.version) == ("Worry diary", Status.DRAFT, 2)
    assert messages_of(clinician.get(response.url)) == ["Note saved."]


def test_save_and_sign_with_an_invalid_form_saves_and_signs_nothing(clinician, came):
    response = clinician.post(write_url(came), {**PSYCHOLOGY_FORM, "risk_assessment": "", "then": "sign"})

    assert response.status_code == 200
    assert response.context["note_forms"].form.errors == {"risk_assessment": ["This field is required."]}
    assert not PsychologySession.objects.exists()


def test_save_and_sign_is_offered_once_the_note_could_be_signed(clinician, provider, session):
    child = booked(session)
    waiting = clinician.get(write_url(child))
    under_way(child)
    came = clinician.get(write_url(child))

    assert waiting.context["can_save_and_sign"] is False
    assert 'data-testid="save-and-sign"' not in waiting.content.decode()
    assert came.context["can_save_and_sign"] is True
    assert (
        '<button type="submit" name="then" value="sign" class="btn btn-success" data-testid="save-and-sign">'
        "Save and sign</button>" in came.content.decode()
    )


def test_save_and_sign_is_not_offered_on_a_colleagues_draft(client, clinic, provider, came):
    note = draft(came, provider)
    colleague = ProviderFactory(clinic=clinic)
    client.force_login(colleague.user)

    response = client.get(note_url(note, "edit"))

    assert response.status_code == 200
    assert response.context["can_save_and_sign"] is False
    assert 'data-testid="save-and-sign"' not in response.content.decode()


def test_save_and_sign_of_a_colleagues_draft_posted_anyway_saves_and_the_signing_refuses(
    client, clinic, provider, came
):
    note = draft(came, provider)
    colleague = ProviderFactory(clinic=clinic)
    client.force_login(colleague.user)

    saved = client.post(
        note_url(note, "edit"),
        {**PSYCHOLOGY_FORM, "homework": "Diary", "version": note.version, "then": "sign"},
    )
    signing = client.post(saved.url, {"version": note.version + 1})

    note.refresh_from_db()
    assert (note.homework, note.status) == ("Diary", Status.DRAFT)
    assert messages_of(client.get(signing.url)) == [
        "Note saved.",
        f"Only {provider}, who wrote this note, can sign it.",
    ]


# Next child


def test_next_child_passes_over_cancelled_turned_away_and_no_show_children(clinician, group):
    response = clinician.get(note_url(group["amal_note"]))

    assert response.context["next_child_url"] == write_url(group["hind"])
    link = f'<a class="btn btn-primary" href="{write_url(group["hind"])}" data-testid="next-child">'
    assert f"{link}Next child</a>" in response.content.decode()


def test_next_child_opens_a_signed_note_to_read_and_a_draft_to_edit(clinician, provider, session, group):
    after_jana = under_way(booked(session))
    kim_note = draft(after_jana, provider)

    from_hind = clinician.get(write_url(group["hind"]))
    from_jana = clinician.get(note_url(group["jana_note"]))

    assert from_hind.context["next_child_url"] == note_url(group["jana_note"])
    assert from_jana.context["next_child_url"] == note_url(kim_note, "edit")


def test_next_child_of_the_last_child_is_not_shown(clinician, group):
    detail = clinician.get(note_url(group["jana_note"]))

    assert detail.context["next_child_url"] == ""
    assert 'data-testid="next-child"' not in detail.content.decode()
    assert 'data-testid="back-to-session"' in detail.content.decode()


def test_next_child_ends_at_children_who_have_no_note_to_write(clinician, provider, session, group):
    for inactive in (cancelled, turned_away, no_show):
        inactive(booked(session))

    assert clinician.get(note_url(group["jana_note"])).context["next_child_url"] == ""


def test_next_child_order_is_the_sessions_booking_order(provider, session):
    first, second, third = (under_way(booked(session)) for _ in range(3))

    assert next_child(PsychologySession, first, provider.user).participant == second
    assert next_child(PsychologySession, second, provider.user).participant == third
    assert next_child(PsychologySession, third, provider.user) is None


def test_next_child_is_never_on_another_session(provider, clinic, session):
    child = under_way(booked(session))
    under_way(booked(group_session(provider, clinic, hour=12)))

    assert next_child(PsychologySession, child, provider.user) is None


def test_next_child_of_another_discipline_looks_for_that_disciplines_note(tenant):
    ot_provider = ProviderFactory(clinic=clinic_of(tenant, Clinic.Specialty.OT))
    ot_session = group_session(ot_provider, ot_provider.clinics.get())
    first, second = under_way(booked(ot_session)), under_way(booked(ot_session))
    note = NoteService.create_note(OTSession, participant=second, provider=ot_provider, **OT_FORM)

    following = next_child(OTSession, first, ot_provider.user)

    assert (following.participant, following.note_pk, following.note_signed) == (second, note.pk, False)


def test_save_and_next_child_saves_then_opens_the_next_childs_note(clinician, group):
    note = group["amal_note"]

    response = clinician.post(
        note_url(note, "edit"),
        {**PSYCHOLOGY_FORM, "homework": "Breathing", "version": note.version, "then": "next"},
    )

    note.refresh_from_db()
    assert response.url == write_url(group["hind"])
    assert note.homework == "Breathing"
    assert messages_of(clinician.get(response.url)) == ["Note saved."]


def test_save_and_next_child_from_a_new_note_creates_it_then_opens_the_next(clinician, group):
    response = clinician.post(write_url(group["hind"]), {**PSYCHOLOGY_FORM, "then": "next"})

    assert PsychologySession.objects.filter(session_participant=group["hind"], status=Status.DRAFT).exists()
    assert response.url == note_url(group["jana_note"])


def test_save_and_next_child_on_the_last_child_shows_the_saved_note(clinician, provider, session):
    last = under_way(booked(session))

    page = clinician.get(write_url(last))
    response = clinician.post(write_url(last), {**PSYCHOLOGY_FORM, "then": "next"})

    assert 'data-testid="save-and-next"' not in page.content.decode()
    assert response.url == note_url(PsychologySession.objects.get(session_participant=last))


def test_next_child_is_offered_on_the_writing_and_edit_pages(clinician, group):
    writing = clinician.get(write_url(group["hind"])).content.decode()
    editing = clinician.get(note_url(group["amal_note"], "edit")).content.decode()

    button = (
        '<button type="submit" name="then" value="next" class="btn btn-outline-primary" '
        'data-testid="save-and-next">Save and next child</button>'
    )
    assert button in writing
    assert button in editing


def test_next_child_is_not_shown_to_an_administrator_who_writes_no_notes(client, tenant, group):
    client.force_login(staff_member(tenant, Role.ADMIN))

    response = client.get(note_url(group["amal_note"]))

    assert response.status_code == 200
    assert response.context["next_child_url"] == ""


def test_next_child_is_shown_to_an_administrator_with_a_provider_profile(client, tenant, clinic, group):
    admin = staff_member(tenant, Role.ADMIN)
    ProviderFactory(clinic=clinic, user=admin)
    client.force_login(admin)

    assert client.get(note_url(group["amal_note"])).context["next_child_url"] == write_url(group["hind"])


@pytest.mark.parametrize("role", [Role.OCCUPATIONAL_THERAPIST, Role.FRONT_DESK])
def test_next_childs_pages_stay_closed_to_other_roles(client, tenant, group, role):
    client.force_login(staff_member(tenant, role))

    assert client.get(note_url(group["amal_note"])).status_code == 403
    assert client.post(write_url(group["hind"]), {**PSYCHOLOGY_FORM, "then": "next"}).status_code == 403


def test_next_child_of_another_organisations_note_is_404(client, group):
    client.force_login(staff_member(TenantFactory(code="OTHER"), Role.PSYCHOLOGIST))

    assert client.get(note_url(group["amal_note"])).status_code == 404


def test_next_child_of_a_legacy_appointment_note_is_not_shown(clinician, provider, clinic):
    note = PsychologySessionFactory(appointment=legacy_appointment(provider, clinic))

    assert clinician.get(note_url(note)).context["next_child_url"] == ""


# Query counts: the next child is one query, whatever the size of the group.


def group_of(provider, clinic, size: int):
    session = group_session(provider, clinic, capacity=20)
    children = [under_way(booked(session)) for _ in range(size)]
    first = draft(children[0], provider)
    for child in children[1:-1]:
        draft(child, provider)
    return first, children[-1]


@pytest.mark.parametrize("size", [3, 9])
def test_note_detail_query_count_with_next_child_does_not_grow_with_the_group(
    clinician, provider, clinic, size, django_assert_num_queries
):
    first, _ = group_of(provider, clinic, size)

    # session, user, the note with its links, its addenda, the viewer's provider profile,
    # the next child with their note, the access-log row
    with django_assert_num_queries(7):
        response = clinician.get(note_url(first))

    assert response.context["next_child_url"]


@pytest.mark.parametrize("size", [3, 9])
def test_note_edit_query_count_with_next_child_does_not_grow_with_the_group(
    clinician, provider, clinic, size, django_assert_num_queries
):
    first, _ = group_of(provider, clinic, size)

    # session, user, the note with its links, its addenda, the viewer's provider profile, the
    # participant's session and patient for the heading, the next child with their note, the
    # access-log row
    with django_assert_num_queries(9):
        response = clinician.get(note_url(first, "edit"))

    assert response.context["next_child_url"]


@pytest.mark.parametrize("size", [3, 9])
def test_note_writing_page_query_count_with_next_child_does_not_grow_with_the_group(
    clinician, provider, clinic, size, django_assert_num_queries
):
    _, last = group_of(provider, clinic, size)

    # session, user, the participant with session, clinic, provider and patient, the viewer's
    # provider profile, no note yet, the next child (none), the access-log row
    with django_assert_num_queries(7):
        response = clinician.get(write_url(last))

    assert response.context["next_child_url"] == ""


def test_ot_save_and_sign_keeps_the_rows(client, tenant):
    ot_provider = ProviderFactory(clinic=clinic_of(tenant, Clinic.Specialty.OT))
    child = under_way(booked(group_session(ot_provider, ot_provider.clinics.get())))
    client.force_login(ot_provider.user)

    response = client.post(
        write_url(child),
        {**OT_FORM, **rows_data("target_skills", [{"skill": "Catching", "rating": "6"}]), "then": "sign"},
    )

    note = OTSession.objects.get()
    assert response.url == note_url(note, "sign")
    assert list(note.target_skills.values_list("skill", "rating")) == [("Catching", 6)]
    assert note.status == Status.DRAFT
