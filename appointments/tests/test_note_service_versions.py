"""Optimistic locking of clinical notes: every save moves the version on, a stale save is refused.

Through NoteService (update, sign, addendum, the admin's save_draft), the model's save()
and PostgreSQL (a change that doesn't move the version on is refused), and with two
threads behind a barrier.
"""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from appointments.notes.exceptions import SignedNoteError, StaleNoteError
from appointments.notes.models import user_name
from appointments.notes.services import NoteService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory, under_way
from appointments.tests.threads import run_together
from core.tests.factories import UserFactory
from ot.models import OTSession
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

UPDATE_HINT = "Compare your text with the saved note, then save again."


@pytest.fixture
def participant(clinic, provider):
    """A child who came to a session under way: their note can be signed."""
    return under_way(ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider)))


@pytest.fixture
def note(participant, provider) -> PsychologySession:
    return NoteService.create_note(
        PsychologySession,
        participant=participant,
        provider=provider,
        user=provider.user,
        presenting_issues="Separation anxiety",
        progress="Settling in",
    )


@pytest.fixture
def colleague(provider):
    return UserFactory(tenant=provider.user.tenant, role=provider.user.role)


def stale_message(user, hint: str) -> str:
    return f"This note was changed by {user_name(user)} at 10:00 while you were editing. {hint}"


def test_create_note_starts_at_version_1(note):
    assert note.version == 1
    assert PsychologySession.objects.get(pk=note.pk).version == 1


def test_update_note_at_the_version_read_saves_and_moves_the_version_on(note, provider):
    NoteService.update_note(note, user=provider.user, expected_version=1, progress="Sleeping better")

    stored = PsychologySession.objects.get(pk=note.pk)
    assert (stored.progress, stored.version, note.version) == ("Sleeping better", 2, 2)
    assert list(stored.history.values_list("version", flat=True)) == [2, 1]


def test_update_note_from_an_older_version_is_refused_and_keeps_the_first_text(note, provider, colleague):
    # given two clinicians who read version 1; the colleague saves first, changing the progress
    NoteService.update_note(note, user=colleague, expected_version=1, progress="Colleague's progress")

    # when the other saves what they typed in another field, from version 1
    with pytest.raises(StaleNoteError) as refused:
        NoteService.update_note(
            note, user=provider.user, expected_version=1, presenting_issues="Mine", progress="Settling in"
        )

    # then they are told who changed it and when, and the colleague's text is kept
    assert refused.value.messages == [stale_message(colleague, UPDATE_HINT)]
    assert (refused.value.current_version, refused.value.changed_by) == (2, colleague)
    stored = PsychologySession.objects.get(pk=note.pk)
    assert (stored.presenting_issues, stored.progress, stored.version) == (
        "Separation anxiety",
        "Colleague's progress",
        2,
    )


def test_update_note_without_a_version_changes_only_the_fields_named(note, provider, colleague):
    NoteService.update_note(PsychologySession.objects.get(pk=note.pk), user=colleague, progress="Colleague's")

    NoteService.update_note(note, user=provider.user, homework="Feelings diary")

    stored = PsychologySession.objects.get(pk=note.pk)
    assert (stored.progress, stored.homework, stored.version) == ("Colleague's", "Feelings diary", 3)


def test_update_note_changing_only_rows_moves_the_version_on(participant, provider):
    note = NoteService.create_note(
        OTSession,
        participant=participant,
        provider=provider,
        target_skills=[{"skill": "Catching", "rating": 3}],
    )

    NoteService.update_note(note, expected_version=1, target_skills=[{"skill": "Catching", "rating": 6}])

    with pytest.raises(StaleNoteError):
        NoteService.update_note(note, expected_version=1, target_skills=[{"skill": "Hopping", "rating": 2}])
    stored = OTSession.objects.get(pk=note.pk)
    assert stored.version == 2
    assert list(stored.target_skills.values_list("skill", "rating")) == [("Catching", 6)]


def test_sign_note_from_an_older_version_is_refused(note, provider, colleague):
    NoteService.update_note(note, user=colleague, expected_version=1, progress="Changed before signing")

    with pytest.raises(StaleNoteError) as refused:
        NoteService.sign_note(note, user=provider.user, expected_version=1)

    assert refused.value.messages == [stale_message(colleague, "Read it again before signing.")]
    assert PsychologySession.objects.get(pk=note.pk).status == PsychologySession.Status.DRAFT


def test_sign_note_at_the_version_read_signs_and_moves_the_version_on(note, provider):
    NoteService.sign_note(note, user=provider.user, expected_version=1)

    assert (note.status, note.version) == (PsychologySession.Status.SIGNED, 2)


def test_add_addendum_moves_a_signed_notes_version_on_and_refuses_an_older_one(note, provider, colleague):
    NoteService.sign_note(note, user=provider.user)
    NoteService.add_addendum(note, text="Mother reports nightmares.", user=colleague, expected_version=2)

    with pytest.raises(StaleNoteError) as refused:
        NoteService.add_addendum(note, text="School reports calm.", user=provider.user, expected_version=2)

    assert refused.value.messages == [stale_message(colleague, "Read it again; your addendum is kept below.")]
    stored = PsychologySession.objects.get(pk=note.pk)
    assert stored.version == 3
    assert list(stored.addenda.values_list("text", flat=True)) == ["Mother reports nightmares."]


def test_save_draft_refuses_an_older_version_and_a_signed_note(note, provider, colleague):
    edited = PsychologySession.objects.get(pk=note.pk)
    edited.homework = "From the admin"
    NoteService.update_note(note, user=colleague, expected_version=1, progress="Colleague's")

    with pytest.raises(StaleNoteError):
        NoteService.save_draft(edited, expected_version=1, user=provider.user)
    NoteService.sign_note(note, user=provider.user)
    with pytest.raises(SignedNoteError):
        NoteService.save_draft(edited, expected_version=3, user=provider.user)

    assert PsychologySession.objects.get(pk=note.pk).homework == ""


def test_save_of_a_note_loaded_before_another_save_is_refused(note, colleague):
    stale = PsychologySession.objects.get(pk=note.pk)
    NoteService.update_note(note, user=colleague, progress="Colleague's")

    stale.homework = "Written over the colleague"
    with pytest.raises(StaleNoteError) as refused:
        stale.save()

    assert refused.value.messages == [stale_message(colleague, "Reload the note and make the change again.")]
    assert (stale.version, PsychologySession.objects.get(pk=note.pk).progress) == (1, "Colleague's")


def test_database_refuses_a_change_that_does_not_move_the_version_on(note):
    with pytest.raises(IntegrityError, match=f"psychology note {note.pk}: version 1 written over version 1"):
        with transaction.atomic():
            PsychologySession.objects.filter(pk=note.pk).update(progress="Behind the model's back")
    with pytest.raises(IntegrityError, match="version 5 written over version 1"), transaction.atomic():
        PsychologySession.objects.filter(pk=note.pk).update(version=5)
    with pytest.raises(IntegrityError, match="psychology_note_version_positive"), transaction.atomic():
        PsychologySession.objects.filter(pk=note.pk).update(version=0)

    PsychologySession.objects.filter(pk=note.pk).update(progress="A new version", version=F("version") + 1)
    assert PsychologySession.objects.get(pk=note.pk).version == 2


def test_database_lets_links_change_without_a_new_version(note):
    PsychologySession.objects.filter(pk=note.pk).update(appointment=None)

    assert PsychologySession.objects.get(pk=note.pk).version == 1


# Two clinicians at once


@pytest.mark.django_db(transaction=True)
def test_update_note_two_clinicians_from_one_version_at_once_one_wins(clinic, provider):
    participant = ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider))
    note = NoteService.create_note(PsychologySession, participant=participant, provider=provider)
    texts = ["First clinician's progress", "Second clinician's progress"]

    outcomes = run_together(
        [
            lambda text=text: NoteService.update_note(
                PsychologySession.objects.get(pk=note.pk), expected_version=1, progress=text
            )
            for text in texts
        ]
    )

    saved = [outcome for outcome in outcomes if isinstance(outcome, PsychologySession)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, StaleNoteError)]
    assert (len(saved), len(refused)) == (1, 1), outcomes
    stored = PsychologySession.objects.get(pk=note.pk)
    assert (stored.progress, stored.version) == (saved[0].progress, 2)
    assert refused[0].current_version == 2


@pytest.mark.django_db(transaction=True)
def test_save_two_stale_instances_at_once_the_database_lets_one_win(clinic, provider):
    participant = ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider))
    note = NoteService.create_note(PsychologySession, participant=participant, provider=provider)
    loaded = [PsychologySession.objects.get(pk=note.pk) for _ in range(2)]

    def save(instance: PsychologySession, text: str) -> PsychologySession:
        instance.progress = text
        instance.save()
        return instance

    outcomes = run_together([lambda: save(loaded[0], "First"), lambda: save(loaded[1], "Second")])

    saved = [outcome for outcome in outcomes if isinstance(outcome, PsychologySession)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, StaleNoteError)]
    assert (len(saved), len(refused)) == (1, 1), outcomes
    stored = PsychologySession.objects.get(pk=note.pk)
    assert (stored.progress, stored.version) == (saved[0].progress, 2)
