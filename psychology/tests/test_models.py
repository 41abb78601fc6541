"""PsychologySession.save(): invariant 7, the safety-plan rule and read-only signed notes."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from appointments.notes.exceptions import DuplicateNoteError, NoteContentError, NoteLinkError, SignedNoteError
from appointments.notes.services import NoteService
from appointments.session_service import SessionService
from appointments.tests.factories import (
    AppointmentFactory,
    GroupSessionFactory,
    IndividualSessionFactory,
    ParticipantFactory,
    appointment_under_way,
    under_way,
)
from core.tests.factories import PatientFactory
from psychology.models import PsychologyNoteAddendum, PsychologySession
from psychology.tests.factories import PsychologySessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

# After every factory-made session slot (07:00-18:00): a legacy appointment never collides with them.
EVENING = datetime.time(19, 0)


@pytest.fixture
def group(clinic, provider):
    return GroupSessionFactory(clinic=clinic, provider=provider)


@pytest.fixture
def participant(group):
    return ParticipantFactory(session=group)


def signed_note(**links) -> PsychologySession:
    """A note on ``links``, signed once its child came and its session (or appointment) started."""
    note = PsychologySessionFactory(**links)
    if note.session_participant is not None:
        under_way(note.session_participant)
    else:
        appointment_under_way(note.appointment)
    return NoteService.sign_note(note, user=note.provider.user)


def test_psychology_session_participant_given_alone_fills_session_patient_provider_and_date(participant):
    note = PsychologySession.objects.create(session_participant=participant, presenting_issues="Shy")

    note.refresh_from_db()
    assert note.session == participant.session
    assert note.patient == participant.patient
    assert note.provider == participant.session.provider
    assert note.session_date == participant.session.scheduled_date
    assert note.status == PsychologySession.Status.DRAFT


def test_psychology_session_individual_session_without_participant_takes_its_participant(clinic, provider):
    session = IndividualSessionFactory(clinic=clinic, provider=provider)
    only_participant = session.participants.get()

    note = PsychologySession.objects.create(session=session, patient=only_participant.patient)

    assert note.session_participant == only_participant


def test_psychology_session_group_session_without_participant_is_refused(group, participant):
    with pytest.raises(
        NoteLinkError, match="A note on a group session must name the participant it is about."
    ):
        PsychologySession.objects.create(session=group, patient=participant.patient)

    assert not PsychologySession.objects.exists()


def test_psychology_session_individual_session_with_no_active_participant_is_refused(clinic, provider):
    session = IndividualSessionFactory(clinic=clinic, provider=provider)
    patient = session.participants.get().patient
    SessionService.cancel_participant(session.participants.get(), reason="Ill")

    with pytest.raises(
        NoteLinkError, match="This individual session has no active participant to write a note for."
    ):
        PsychologySession.objects.create(session=session, patient=patient)

    assert not PsychologySession.objects.exists()


def test_psychology_session_participant_of_another_session_is_refused(clinic, provider, participant):
    other_session = GroupSessionFactory(clinic=clinic, provider=provider)

    with pytest.raises(
        NoteLinkError,
        match=f"Participation {participant.appointment_number} belongs to another session, "
        "not to this note's session.",
    ):
        PsychologySession.objects.create(
            session=other_session, session_participant=participant, patient=participant.patient
        )

    assert not PsychologySession.objects.exists()


def test_psychology_session_patient_other_than_participants_is_refused(participant):
    stranger = PatientFactory(tenant=participant.patient.tenant)

    with pytest.raises(NoteLinkError) as refused:
        PsychologySession.objects.create(session_participant=participant, patient=stranger)

    assert refused.value.messages == [
        f"This note is about {stranger.full_name_en}, but participation "
        f"{participant.appointment_number} is {participant.patient.full_name_en}'s."
    ]
    assert not PsychologySession.objects.exists()


def test_psychology_session_patient_other_than_appointments_is_refused(clinic, provider):
    appointment = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=EVENING)
    stranger = PatientFactory(tenant=clinic.tenant)

    with pytest.raises(NoteLinkError) as refused:
        PsychologySession.objects.create(appointment=appointment, patient=stranger, provider=provider)

    assert refused.value.messages == [
        f"This note is about {stranger.full_name_en}, but appointment "
        f"{appointment.appointment_number} is {appointment.patient.full_name_en}'s."
    ]
    assert not PsychologySession.objects.exists()


def test_psychology_session_appointment_and_participant_of_different_bookings_are_refused(
    clinic, provider, participant
):
    appointment = AppointmentFactory(
        clinic=clinic, provider=provider, patient=participant.patient, scheduled_time=EVENING
    )

    with pytest.raises(
        NoteLinkError,
        match=f"Appointment {appointment.appointment_number} and participation "
        f"{participant.appointment_number} are different bookings; link the note to one of them.",
    ):
        PsychologySession.objects.create(session_participant=participant, appointment=appointment)

    assert not PsychologySession.objects.exists()


def test_psychology_session_without_any_patient_is_refused(provider):
    with pytest.raises(NoteLinkError, match="A note needs a patient."):
        PsychologySession.objects.create(provider=provider, session_date=datetime.date(2025, 11, 15))


def test_psychology_session_second_note_for_a_participant_is_refused(participant):
    first = PsychologySession.objects.create(session_participant=participant)

    with pytest.raises(DuplicateNoteError) as refused:
        PsychologySession.objects.create(session_participant=participant, presenting_issues="Again")

    assert refused.value.messages == [
        f"{participant.patient.full_name_en} already has a psychology note for participation "
        f"{participant.appointment_number}; edit that note instead."
    ]
    assert list(PsychologySession.objects.all()) == [first]


def test_psychology_session_database_refuses_a_second_note_past_save(participant):
    first = PsychologySession.objects.create(session_participant=participant)
    copy = PsychologySession(
        patient=first.patient,
        provider=first.provider,
        session_date=first.session_date,
        session=first.session,
        session_participant=participant,
    )

    with pytest.raises(IntegrityError, match="psychology_one_note_per_participant"), transaction.atomic():
        PsychologySession.objects.bulk_create([copy])


def test_psychology_session_database_refuses_a_participant_of_another_patient_past_save(participant):
    note = PsychologySession.objects.create(session_participant=participant)
    stranger = PatientFactory(tenant=participant.patient.tenant)

    with pytest.raises(IntegrityError, match="is not patient"), transaction.atomic():
        PsychologySession.objects.filter(pk=note.pk).update(patient=stranger)


def test_psychology_session_database_refuses_a_participant_outside_the_session_past_save(
    clinic, provider, participant
):
    note = PsychologySession.objects.create(session_participant=participant)
    other_session = GroupSessionFactory(clinic=clinic, provider=provider)

    with pytest.raises(IntegrityError, match="is not patient"), transaction.atomic():
        PsychologySession.objects.filter(pk=note.pk).update(session=other_session)


def test_psychology_session_database_refuses_a_participant_without_session(participant):
    note = PsychologySession.objects.create(session_participant=participant)

    with (
        pytest.raises(IntegrityError, match="psychology_note_participant_needs_session"),
        transaction.atomic(),
    ):
        PsychologySession.objects.filter(pk=note.pk).update(session=None)


@pytest.mark.parametrize("risk", [PsychologySession.RiskLevel.MODERATE, PsychologySession.RiskLevel.HIGH])
def test_psychology_session_moderate_or_high_risk_without_safety_plan_is_refused(participant, risk):
    with pytest.raises(NoteContentError) as refused:
        PsychologySession.objects.create(
            session_participant=participant, risk_assessment=risk, safety_plan=" "
        )

    assert refused.value.message_dict == {
        "safety_plan": [f"A {risk.label.lower()} risk needs a safety plan."]
    }
    assert not PsychologySession.objects.exists()


@pytest.mark.parametrize(
    ("risk", "safety_plan"),
    [
        (PsychologySession.RiskLevel.NONE, ""),
        (PsychologySession.RiskLevel.LOW, ""),
        (PsychologySession.RiskLevel.HIGH, "Remove means; crisis line; daily check-in"),
    ],
)
def test_psychology_session_risk_with_what_it_needs_is_saved(participant, risk, safety_plan):
    note = PsychologySession.objects.create(
        session_participant=participant, risk_assessment=risk, safety_plan=safety_plan
    )

    assert PsychologySession.objects.get(pk=note.pk).risk_assessment == risk


def test_psychology_session_unknown_risk_level_is_refused(participant):
    with pytest.raises(NoteContentError, match="Value 'extreme' is not a valid choice."):
        PsychologySession.objects.create(session_participant=participant, risk_assessment="extreme")


def test_psychology_session_database_refuses_high_risk_without_safety_plan_past_save(participant):
    note = PsychologySession.objects.create(session_participant=participant)

    with pytest.raises(IntegrityError, match="psychology_risk_needs_safety_plan"), transaction.atomic():
        PsychologySession.objects.filter(pk=note.pk).update(risk_assessment="high")


def test_psychology_session_signed_note_refuses_save(participant):
    note = signed_note(session_participant=participant)
    signed_on = note.signed_at

    note.progress = "Rewritten after signing"
    with pytest.raises(SignedNoteError) as refused:
        note.save()

    assert refused.value.messages == [
        f"This note was signed on {timezone.localtime(signed_on):%d/%m/%Y} and can't be changed; "
        "add an addendum instead."
    ]
    assert PsychologySession.objects.get(pk=note.pk).progress != "Rewritten after signing"


def test_psychology_session_signed_note_refuses_even_an_unchanged_save(participant):
    note = signed_note(session_participant=participant)

    with pytest.raises(SignedNoteError):
        note.save()


def test_psychology_session_database_refuses_updating_a_signed_note_past_save(participant):
    note = signed_note(session_participant=participant)

    with pytest.raises(IntegrityError, match=f"psychology note {note.pk} is signed"), transaction.atomic():
        PsychologySession.objects.filter(pk=note.pk).update(progress="Changed behind the model's back")
    with pytest.raises(IntegrityError, match="is signed"), transaction.atomic():
        PsychologySession.objects.filter(pk=note.pk).update(status="draft", signed_by=None, signed_at=None)

    assert PsychologySession.objects.get(pk=note.pk).status == PsychologySession.Status.SIGNED


def test_psychology_session_signed_note_refuses_delete(participant):
    note = signed_note(session_participant=participant)

    with pytest.raises(SignedNoteError, match="A signed note is part of the record and can't be deleted."):
        note.delete()

    assert PsychologySession.objects.filter(pk=note.pk).exists()


def test_psychology_session_signed_legacy_note_accepts_its_session_links_once(clinic, provider):
    appointment = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=EVENING)
    note = signed_note(appointment=appointment)
    group = GroupSessionFactory(clinic=clinic, provider=provider)
    participant = ParticipantFactory(session=group, patient=appointment.patient)
    other = GroupSessionFactory(clinic=clinic, provider=provider)
    other_participant = ParticipantFactory(session=other, patient=appointment.patient)

    note.appointment = None
    note.session_participant = participant
    note.save()
    note.session_participant = other_participant
    note.session = other
    with pytest.raises(SignedNoteError):
        note.save()

    stored = PsychologySession.objects.get(pk=note.pk)
    assert (stored.session, stored.session_participant, stored.appointment) == (group, participant, None)


def test_psychology_note_addendum_is_refused_on_a_draft_and_frozen_once_written(participant):
    draft = PsychologySessionFactory(session_participant=under_way(participant))
    author = draft.provider.user

    with pytest.raises(SignedNoteError, match="Only a signed note takes addenda; edit the draft instead."):
        PsychologyNoteAddendum.objects.create(note=draft, text="Late remark", author=author)
    signed = NoteService.sign_note(draft, user=author)
    addendum = PsychologyNoteAddendum.objects.create(note=signed, text="Late remark", author=author)
    addendum.text = "Edited remark"
    with pytest.raises(SignedNoteError, match="An addendum can't be changed; add another one."):
        addendum.save()
    with pytest.raises(SignedNoteError, match="An addendum is part of the record and can't be deleted."):
        addendum.delete()
    with pytest.raises(IntegrityError, match="can't be changed"), transaction.atomic():
        PsychologyNoteAddendum.objects.filter(pk=addendum.pk).update(text="Edited remark")

    assert list(signed.addenda.values_list("text", flat=True)) == ["Late remark"]


def test_psychology_note_addendum_blank_text_is_refused(participant):
    note = signed_note(session_participant=participant)

    with pytest.raises(NoteContentError, match="Write the text of the addendum."):
        PsychologyNoteAddendum.objects.create(note=note, text="  ", author=note.provider.user)
    with pytest.raises(IntegrityError, match="psychology_addendum_text_not_blank"), transaction.atomic():
        PsychologyNoteAddendum.objects.bulk_create(
            [PsychologyNoteAddendum(note=note, text=" ", author=note.provider.user)]
        )


def test_psychology_session_str_names_discipline_patient_and_day(participant):
    note = PsychologySessionFactory(session_participant=participant)

    assert str(note) == f"psychology note - {participant.patient.full_name_en} - {note.session_date:%d/%m/%Y}"


def test_psychology_session_history_keeps_each_save(participant):
    note = PsychologySessionFactory(session_participant=participant, progress="First")
    note.progress = "Second"
    note.save()

    assert list(note.history.order_by("history_date").values_list("progress", flat=True)) == [
        "First",
        "Second",
    ]


def test_psychology_session_table_has_its_guard_triggers(participant):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'psychology_psychologysession'::regclass "
            "AND NOT tgisinternal ORDER BY tgname"
        )
        triggers = [row[0] for row in cursor.fetchall()]

    assert triggers == [
        "psychology_note_participant_matches",
        "psychology_note_signed_is_kept",
        "psychology_note_signed_is_read_only",
        "psychology_note_version_moves_on",
    ]


def test_psychology_session_appointment_given_alone_fills_patient_provider_and_date(clinic, provider):
    appointment = AppointmentFactory(clinic=clinic, provider=provider)

    note = PsychologySession.objects.create(appointment=appointment)

    assert (note.patient, note.provider, note.session_date) == (
        appointment.patient,
        appointment.provider,
        appointment.scheduled_date,
    )
    assert note.session is None
    assert note.session_participant is None
