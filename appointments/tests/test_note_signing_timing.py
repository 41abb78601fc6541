"""A note is signed once its child came and its session started (appointments.timing.signing_problem).

Notes were signed while their session was still "Scheduled", twelve hours before the
slot. Now NoteService.sign_note refuses until the participant has arrived or attended
and the session is in progress or completed (a legacy appointment: in progress or
completed), and the note pages, the session page and the admin action follow it.
"""

import pytest
from django.test import Client
from django.urls import reverse

from appointments.notes.exceptions import NoteTimingError
from appointments.notes.services import NoteService
from appointments.session_service import SessionService
from appointments.tests.factories import appointment_under_way, check_in, under_way
from core.models import User
from core.tests.admin_helpers import admin_url, message_texts
from core.tests.view_helpers import booked, group_session, legacy_appointment, messages_of, staff_member
from psychology.models import PsychologySession
from psychology.tests.factories import PsychologySessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = PsychologySession.Status


@pytest.fixture
def session(provider, clinic):
    """Today's 22:00 session: twelve hours after the pinned 10:00."""
    return group_session(provider, clinic, hour=22)


@pytest.fixture
def participant(session):
    return booked(session)


def write_note(participant, provider) -> PsychologySession:
    return NoteService.create_note(
        PsychologySession, participant=participant, provider=provider, presenting_issues="Worries at school"
    )


def stored_status(note) -> str:
    return PsychologySession.objects.get(pk=note.pk).status


def note_page(note, action: str = "detail") -> str:
    return reverse(f"notes:note_{action}", args=[note.specialty, note.pk])


# The service


def test_sign_note_before_the_child_came_is_refused(participant, provider):
    note = write_note(participant, provider)

    with pytest.raises(
        NoteTimingError, match=f"{participant.patient.full_name_en} is marked booked: sign the note once"
    ):
        NoteService.sign_note(note, user=provider.user)

    assert stored_status(note) == Status.DRAFT


def test_sign_note_of_an_arrived_child_before_the_session_starts_is_refused(participant, provider):
    check_in(participant)
    note = write_note(participant, provider)

    with pytest.raises(NoteTimingError, match="The session is scheduled: sign the note once it has started."):
        NoteService.sign_note(note, user=provider.user)

    assert stored_status(note) == Status.DRAFT


def test_sign_note_once_the_child_came_and_the_session_started(participant, provider):
    note = write_note(under_way(participant), provider)

    NoteService.sign_note(note, user=provider.user)

    assert stored_status(note) == Status.SIGNED


def test_sign_note_after_the_session_completed_signs_an_attended_childs_note(session, participant, provider):
    under_way(participant)
    SessionService.complete_session(session)
    note = write_note(participant, provider)

    NoteService.sign_note(note, user=provider.user)

    assert stored_status(note) == Status.SIGNED


def test_sign_note_of_a_no_show_is_refused_even_once_the_session_completed(session, participant, provider):
    note = write_note(participant, provider)
    SessionService.start_session(session)
    SessionService.complete_session(session)

    with pytest.raises(NoteTimingError, match="is marked no-show: sign the note once the child has come."):
        NoteService.sign_note(note, user=provider.user)


def test_sign_note_of_a_legacy_appointment_waits_for_it_to_start(provider, clinic):
    appointment = legacy_appointment(provider, clinic, hour=20)
    early = PsychologySessionFactory(appointment=appointment)

    with pytest.raises(
        NoteTimingError, match="The appointment is booked: sign the note once it has started."
    ):
        NoteService.sign_note(early, user=provider.user)
    appointment_under_way(appointment)
    NoteService.sign_note(early, user=provider.user)

    assert stored_status(early) == Status.SIGNED


def test_sign_note_linked_to_no_booking_has_nothing_to_wait_for():
    note = PsychologySessionFactory()

    NoteService.sign_note(note, user=note.provider.user)

    assert stored_status(note) == Status.SIGNED


# The pages


@pytest.fixture
def psychologist(provider) -> Client:
    client = Client()
    client.force_login(provider.user)
    return client


def test_note_page_hides_sign_until_the_session_started(psychologist, session, participant, provider):
    check_in(participant)
    note = write_note(participant, provider)

    before = psychologist.get(note_page(note))
    SessionService.start_session(session)
    after = psychologist.get(note_page(note))

    assert not before.context["actions"].can_sign
    assert note_page(note, "sign") not in before.content.decode()
    assert after.context["actions"].can_sign
    assert note_page(note, "sign") in after.content.decode()


def test_note_sign_page_before_the_session_started_says_why_and_signs_nothing(
    psychologist, participant, provider
):
    check_in(participant)
    note = write_note(participant, provider)

    opened = psychologist.get(note_page(note, "sign"), follow=True)
    posted = psychologist.post(note_page(note, "sign"), {"version": note.version}, follow=True)

    assert opened.redirect_chain == [(note_page(note), 302)]
    assert (
        messages_of(opened)
        == messages_of(posted)
        == ["The session is scheduled: sign the note once it has started."]
    )
    assert stored_status(note) == Status.DRAFT


def test_session_page_shows_sign_for_a_note_only_once_the_session_started(
    psychologist, session, participant, provider
):
    check_in(participant)
    note = write_note(participant, provider)

    before = psychologist.get(session.get_absolute_url()).content.decode()
    SessionService.start_session(session)
    after = psychologist.get(session.get_absolute_url()).content.decode()

    assert note_page(note) in before
    assert note_page(note, "sign") not in before
    assert note_page(note, "sign") in after


def test_admin_sign_action_reports_a_note_whose_session_has_not_started(tenant, participant, provider):
    note = write_note(participant, provider)
    client = Client()
    client.force_login(staff_member(tenant, User.Role.ADMIN, is_staff=True))

    response = client.post(
        admin_url(PsychologySession, "changelist"),
        {"action": "sign_notes", "_selected_action": [note.pk]},
        follow=True,
    )

    assert message_texts(response) == [
        f"{note}: {participant.patient.full_name_en} is marked booked: sign the note once the child has come."
    ]
    assert stored_status(note) == Status.DRAFT
