"""PostgreSQL keeps signed notes and every text within its limit, past the models' own checks.

For each discipline: a signed note, its rows and addenda can't be deleted - not by
``delete()``, a queryset, a cascade from its session or participation, nor raw SQL -
and no text longer than 20,000 characters is stored. Drafts still go with their session.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F, ProtectedError

from aba.models import ABABehaviourRecord, ABASession
from appointments.models import Session, SessionParticipant
from appointments.notes.exceptions import NoteContentError, SignedNoteError
from appointments.notes.services import NoteService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory, under_way
from ot.models import OTSession, OTTargetSkill
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TOO_LONG = "x" * 20_001
CONTENT = {
    PsychologySession: {"progress": "Settling in"},
    OTSession: {"activities": "Obstacle course", "target_skills": [{"skill": "Catching", "rating": 3}]},
    ABASession: {
        "session_summary": "Manding",
        "behaviour_records": [{"behaviour": "Elopement", "antecedent": "Demand", "frequency": 1}],
    },
}
NOTE_MODELS = list(CONTENT)
LABELS = {PsychologySession: "psychology note", OTSession: "OT note", ABASession: "ABA note"}


@pytest.fixture
def participant(clinic, provider):
    """A child who came to a session under way: their note can be signed."""
    return under_way(ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider)))


def write(note_model, participant, provider):
    return NoteService.create_note(
        note_model, participant=participant, provider=provider, user=provider.user, **CONTENT[note_model]
    )


def signed_note(note_model, participant, provider):
    note = write(note_model, participant, provider)
    NoteService.sign_note(note, user=provider.user)
    NoteService.add_addendum(note, text="Mother reports better sleep.", user=provider.user)
    return note


def refused(match: str):
    return pytest.raises(IntegrityError, match=match)


def delete_rows(model, **where) -> None:
    """A raw ``DELETE``, past the model and Django's collector, as a script or a restore would."""
    ((column, value),) = where.items()
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{model._meta.db_table}" WHERE "{column}" = %s', [value])  # noqa: S608


# Deleting


@pytest.mark.parametrize("note_model", NOTE_MODELS)
def test_database_refuses_deleting_a_signed_note_however_asked(note_model, participant, provider):
    note = signed_note(note_model, participant, provider)
    label = LABELS[note_model]

    with pytest.raises(SignedNoteError, match="A signed note is part of the record and can't be deleted."):
        note.delete()
    with refused(f"{label} {note.pk} is signed and can't be deleted"), transaction.atomic():
        delete_rows(note_model, id=note.pk)
    with refused(f"{label} addendum .* is part of the record and can't be deleted"), transaction.atomic():
        delete_rows(type(note.addenda.get()), note_id=note.pk)
    # A queryset deletes the note's addenda and rows first, then the note: the first is refused.
    with refused(f"{label} .*(is part of the record|is signed)"), transaction.atomic():
        note_model.objects.filter(pk=note.pk).delete()

    assert note_model.objects.filter(pk=note.pk, status="signed").exists()
    assert note.addenda.count() == 1


@pytest.mark.parametrize("note_model", NOTE_MODELS)
def test_database_refuses_deleting_the_session_or_participation_of_a_signed_note(
    note_model, participant, provider
):
    note = signed_note(note_model, participant, provider)
    session = participant.session
    label = LABELS[note_model]

    # Django deletes a cascade row by row, in an order of its own (the foreign keys are
    # deferred): whichever row of the signed note, or its booking, goes first is refused.
    kept = f"({label} .*(is part of the record|is signed)|has signed {label}s)"
    with refused(kept), transaction.atomic():
        Session.objects.get(pk=session.pk).delete()
    with refused(kept), transaction.atomic():
        Session.objects.filter(pk=session.pk).delete()
    with refused(kept), transaction.atomic():
        SessionParticipant.objects.get(pk=participant.pk).delete()
    # Raw SQL: the session's and the participation's own triggers.
    with refused(f"session {session.pk} has signed {label}s \\({note.pk}\\)"), transaction.atomic():
        delete_rows(Session, id=session.pk)
    with refused(f"participant {participant.pk} has signed {label}s \\({note.pk}\\)"), transaction.atomic():
        delete_rows(SessionParticipant, id=participant.pk)

    assert Session.objects.filter(pk=session.pk).exists()
    assert note_model.objects.filter(pk=note.pk, session=session, session_participant=participant).exists()


def test_database_refuses_deleting_the_rows_of_a_signed_note(participant, provider, clinic):
    ot = signed_note(OTSession, participant, provider)
    other = under_way(ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider)))
    aba = signed_note(ABASession, other, provider)

    with refused(f"OT note {ot.pk} is signed; its rows can't be deleted"), transaction.atomic():
        delete_rows(OTTargetSkill, note_id=ot.pk)
    with refused(f"ABA note {aba.pk} is signed; its rows can't be deleted"), transaction.atomic():
        delete_rows(ABABehaviourRecord, note_id=aba.pk)

    assert (ot.target_skills.count(), aba.behaviour_records.count()) == (1, 1)


@pytest.mark.parametrize("note_model", NOTE_MODELS)
def test_deleting_a_session_takes_its_draft_notes_with_it(note_model, participant, provider):
    note = write(note_model, participant, provider)

    Session.objects.get(pk=participant.session_id).delete()

    assert not note_model.objects.filter(pk=note.pk).exists()


def test_deleting_a_patient_with_notes_is_refused_by_django(participant, provider):
    write(PsychologySession, participant, provider)

    with pytest.raises(ProtectedError):
        participant.patient.delete()


# Text limits


@pytest.mark.parametrize(
    ("note_model", "field"),
    [
        (PsychologySession, "progress"),
        (PsychologySession, "safety_plan"),
        (OTSession, "home_programme"),
        (ABASession, "caregiver_training"),
    ],
)
def test_note_text_over_the_limit_is_refused_by_the_service_and_the_database(
    note_model, field, participant, provider
):
    note = write(note_model, participant, provider)
    prefix = note_model._meta.app_label

    with pytest.raises(NoteContentError) as too_long:
        NoteService.update_note(note, **{field: TOO_LONG})
    with refused(f"{prefix}_note_text_within_limit"), transaction.atomic():
        note_model.objects.filter(pk=note.pk).update(**{field: TOO_LONG}, version=F("version") + 1)

    assert too_long.value.message_dict == {field: ["At most 20,000 characters (you wrote 20,001)."]}
    note_model.objects.filter(pk=note.pk).update(**{field: "x" * 20_000}, version=F("version") + 1)


def test_row_and_addendum_texts_over_the_limit_are_refused_by_the_database(participant, provider, clinic):
    ot = write(OTSession, participant, provider)
    other = ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider))
    aba = write(ABASession, other, provider)
    signed = signed_note(PsychologySession, participant, provider)

    with pytest.raises(NoteContentError, match="Target skill 1: At most 20,000 characters"):
        NoteService.update_note(ot, target_skills=[{"skill": "Catching", "rating": 3, "comments": TOO_LONG}])
    with refused("ot_target_skill_text_within_limit"), transaction.atomic():
        OTTargetSkill.objects.filter(note=ot).update(comments=TOO_LONG)
    with refused("aba_behaviour_record_text_within_limit"), transaction.atomic():
        ABABehaviourRecord.objects.filter(note=aba).update(consequence=TOO_LONG)
    with pytest.raises(NoteContentError) as too_long:
        NoteService.add_addendum(signed, text=TOO_LONG, user=provider.user)
    with refused("psychology_addendum_text_within_limit"), transaction.atomic():
        type(signed.addenda.get()).objects.bulk_create(
            [type(signed.addenda.get())(note=signed, text=TOO_LONG, author=provider.user)]
        )

    assert too_long.value.message_dict == {"text": ["At most 20,000 characters (you wrote 20,001)."]}
