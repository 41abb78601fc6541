"""NoteService (create, update, sign, addendum, back-fill link) and the note selectors."""

import datetime

import pytest
from django.db import transaction

from aba.models import ABASession
from aba.tests.factories import ABASessionFactory, ABASkillTargetFactory
from appointments.notes.exceptions import DuplicateNoteError, NoteContentError, NoteLinkError, SignedNoteError
from appointments.notes.selectors import patient_notes, session_has_notes, session_notes_by_participant
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
from appointments.tests.threads import run_together
from core import locks
from core.models import Clinic, User
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, UserFactory
from ot.models import OTSession, OTTargetSkill
from ot.tests.factories import OTSessionFactory, OTTargetSkillFactory
from psychology.models import PsychologyNoteAddendum, PsychologySession
from psychology.tests.factories import PsychologySessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def group(clinic, provider):
    return GroupSessionFactory(clinic=clinic, provider=provider)


@pytest.fixture
def participant(group):
    return ParticipantFactory(session=group)


@pytest.fixture
def author(provider):
    return provider.user


def write_psychology_note(participant, provider, **content) -> PsychologySession:
    return NoteService.create_note(
        PsychologySession,
        participant=participant,
        provider=provider,
        user=provider.user,
        **{"presenting_issues": "Separation anxiety", **content},
    )


def test_note_model_for_specialty_maps_the_three_disciplines():
    assert NoteService.note_model_for_specialty(Clinic.Specialty.PSYCHOLOGY) is PsychologySession
    assert NoteService.note_model_for_specialty(Clinic.Specialty.OT) is OTSession
    assert NoteService.note_model_for_specialty(Clinic.Specialty.ABA) is ABASession
    assert NoteService.note_model_for_specialty(Clinic.Specialty.SLP) is None


def test_create_note_writes_a_draft_for_the_participant_with_history(participant, provider, author):
    note = write_psychology_note(participant, provider, homework="Feelings diary")

    stored = PsychologySession.objects.get(pk=note.pk)
    assert (stored.patient, stored.session, stored.session_participant) == (
        participant.patient,
        participant.session,
        participant,
    )
    assert (stored.session_date, stored.provider, stored.created_by) == (
        participant.session.scheduled_date,
        provider,
        author,
    )
    assert (stored.presenting_issues, stored.homework, stored.status) == (
        "Separation anxiety",
        "Feelings diary",
        PsychologySession.Status.DRAFT,
    )
    assert stored.history.get().history_user == author


def test_create_note_takes_a_given_session_date(participant, provider):
    note = write_psychology_note(participant, provider, session_date=datetime.date(2025, 11, 16))

    assert note.session_date == datetime.date(2025, 11, 16)


def test_create_note_locks_its_provider_before_the_session_and_participant(participant, provider):
    with transaction.atomic():
        note = write_psychology_note(participant, provider)
        held = locks.held_locks()

    # Inserting the note takes a key-share lock on its provider; held first, it keeps core.locks' order.
    assert held == [
        ("core.Provider", provider.pk),
        ("appointments.Session", participant.session_id),
        ("appointments.SessionParticipant", participant.pk),
    ]
    assert note.provider == provider


def test_create_note_writes_ot_target_skills(participant, provider):
    note = NoteService.create_note(
        OTSession,
        participant=participant,
        provider=provider,
        user=provider.user,
        activities="Obstacle course",
        target_skills=[{"skill": "Pencil grasp", "rating": 0}, {"skill": "Scissors", "rating": 10}],
    )

    assert list(note.target_skills.values_list("skill", "rating")) == [("Pencil grasp", 0), ("Scissors", 10)]
    assert note.target_skills.first().history.get().history_user == provider.user


def test_create_note_writes_aba_records_and_targets(participant, provider):
    note = NoteService.create_note(
        ABASession,
        participant=participant,
        provider=provider,
        session_summary="Manding",
        behaviour_records=[
            {"antecedent": "Demand", "behaviour": "Elopement", "frequency": 2, "intensity": "mild"}
        ],
        skill_targets=[{"target": "Mand for break", "trials": 8, "correct": 6, "prompt_level": "gestural"}],
    )

    assert list(note.behaviour_records.values_list("behaviour", "frequency")) == [("Elopement", 2)]
    assert [target.percent_correct for target in note.skill_targets.all()] == [75]


def test_create_note_with_an_invalid_row_writes_nothing(participant, provider):
    with pytest.raises(NoteContentError) as refused:
        NoteService.create_note(
            OTSession,
            participant=participant,
            provider=provider,
            target_skills=[{"skill": "Pencil grasp", "rating": 5}, {"skill": "Scissors", "rating": 11}],
        )

    assert refused.value.messages == [
        "Target skill 2: Rate each skill from 0 (not achieved) to 10 (fully independent)."
    ]
    assert not OTSession.objects.exists()
    assert not OTTargetSkill.objects.exists()


def test_create_note_with_correct_above_trials_writes_nothing(participant, provider):
    with pytest.raises(NoteContentError) as refused:
        NoteService.create_note(
            ABASession,
            participant=participant,
            provider=provider,
            skill_targets=[{"target": "Wait", "trials": 4, "correct": 5}],
        )

    assert refused.value.messages == [
        "Skill target 1: Correct responses (5) can't exceed the trials run (4)."
    ]
    assert not ABASession.objects.exists()


def test_create_note_with_high_risk_and_no_safety_plan_writes_nothing(participant, provider):
    with pytest.raises(NoteContentError, match="A high risk needs a safety plan."):
        write_psychology_note(participant, provider, risk_assessment="high")

    assert not PsychologySession.objects.exists()


def test_create_note_second_note_for_the_participant_is_refused(participant, provider):
    first = write_psychology_note(participant, provider)

    with pytest.raises(
        DuplicateNoteError,
        match=f"already has a psychology note for participation {participant.appointment_number}; "
        "edit that note instead.",
    ):
        write_psychology_note(participant, provider)

    assert list(PsychologySession.objects.all()) == [first]


def test_create_note_one_note_per_discipline_not_per_participant(participant, provider):
    write_psychology_note(participant, provider)
    NoteService.create_note(OTSession, participant=participant, provider=provider, activities="Swing")
    NoteService.create_note(ABASession, participant=participant, provider=provider, session_summary="DTT")

    assert (
        participant.psychology_notes.count(),
        participant.ot_notes.count(),
        participant.aba_notes.count(),
    ) == (
        1,
        1,
        1,
    )


def test_create_note_for_a_cancelled_participation_is_refused(participant, provider):
    SessionService.cancel_participant(participant, reason="Family travel")

    with pytest.raises(NoteLinkError) as refused:
        write_psychology_note(participant, provider)

    assert refused.value.messages == [
        f"{participant.patient.full_name_en}'s booking {participant.appointment_number} is cancelled; "
        "a note can't be written for it."
    ]
    assert not PsychologySession.objects.exists()


def test_create_note_unknown_field_is_a_programming_error(participant, provider):
    with pytest.raises(TypeError, match="PsychologySession has no content field"):
        write_psychology_note(participant, provider, mood="calm")


def test_update_note_changes_a_draft_and_replaces_its_rows(participant, provider):
    note = OTSessionFactory(session_participant=participant, activities="Old")
    OTTargetSkillFactory(note=note, skill="Old skill", rating=2)
    editor = UserFactory(tenant=participant.patient.tenant, role=User.Role.OCCUPATIONAL_THERAPIST)

    returned = NoteService.update_note(
        note, user=editor, activities="New", target_skills=[{"skill": "Buttoning", "rating": 8}]
    )

    assert returned is note
    assert note.activities == "New"
    stored = OTSession.objects.get(pk=note.pk)
    assert stored.activities == "New"
    assert list(stored.target_skills.values_list("skill", "rating")) == [("Buttoning", 8)]
    assert stored.history.first().history_user == editor


def test_update_note_keeps_rows_not_mentioned(participant, provider):
    note = ABASessionFactory(session_participant=participant)
    ABASkillTargetFactory(note=note, trials=10, correct=4)

    NoteService.update_note(note, session_summary="Updated summary")

    assert list(note.skill_targets.values_list("correct", flat=True)) == [4]


def test_update_note_with_invalid_content_changes_nothing(participant, provider):
    note = write_psychology_note(participant, provider)

    with pytest.raises(NoteContentError, match="A moderate risk needs a safety plan."):
        NoteService.update_note(note, progress="Better", risk_assessment="moderate")

    stored = PsychologySession.objects.get(pk=note.pk)
    assert (stored.progress, stored.risk_assessment) == ("", "none")


def test_update_note_signed_note_is_refused(participant, provider, author):
    under_way(participant)
    note = NoteService.sign_note(write_psychology_note(participant, provider), user=author)

    with pytest.raises(
        SignedNoteError, match="This note is signed and can't be changed; add an addendum instead."
    ):
        NoteService.update_note(note, progress="Rewritten")

    assert PsychologySession.objects.get(pk=note.pk).progress == ""


def test_sign_note_records_signer_and_time(participant, provider, author):
    under_way(participant)
    note = write_psychology_note(participant, provider)

    NoteService.sign_note(note, user=author)

    stored = PsychologySession.objects.get(pk=note.pk)
    assert (stored.status, stored.signed_by) == (PsychologySession.Status.SIGNED, author)
    assert stored.signed_at is not None
    assert note.is_signed
    assert stored.history.first().history_user == author


def test_sign_note_twice_is_refused(participant, provider, author):
    under_way(participant)
    note = NoteService.sign_note(write_psychology_note(participant, provider), user=author)

    with pytest.raises(SignedNoteError, match="This note is already signed."):
        NoteService.sign_note(note, user=author)


def test_sign_note_by_another_clinician_is_refused(participant, provider):
    note = write_psychology_note(participant, provider)
    colleague = ProviderFactory(clinic=participant.session.clinic)

    with pytest.raises(NoteLinkError, match=f"Only {provider}, who wrote this note, can sign it."):
        NoteService.sign_note(note, user=colleague.user)

    assert PsychologySession.objects.get(pk=note.pk).status == PsychologySession.Status.DRAFT


def test_sign_note_by_an_administrator_is_allowed(participant, provider):
    under_way(participant)
    note = write_psychology_note(participant, provider)
    administrator = UserFactory(tenant=participant.patient.tenant, role=User.Role.ADMIN)

    NoteService.sign_note(note, user=administrator)

    assert PsychologySession.objects.get(pk=note.pk).signed_by == administrator


@pytest.mark.parametrize("note_model", [PsychologySession, OTSession])
def test_sign_note_empty_note_is_refused(participant, provider, author, note_model):
    # a blank psychology note still holds its defaults (risk "none"): that isn't writing
    note = NoteService.create_note(note_model, participant=participant, provider=provider)

    with pytest.raises(NoteContentError, match="This note is empty; write it before signing."):
        NoteService.sign_note(note, user=author)


def test_sign_note_with_only_rows_is_allowed(participant, provider, author):
    under_way(participant)
    note = NoteService.create_note(
        OTSession,
        participant=participant,
        provider=provider,
        target_skills=[{"skill": "Jumping", "rating": 6}],
    )

    assert NoteService.sign_note(note, user=author).is_signed


def test_add_addendum_to_a_signed_note(participant, provider, author):
    under_way(participant)
    note = NoteService.sign_note(write_psychology_note(participant, provider), user=author)

    addendum = NoteService.add_addendum(note, text="  Mother reported improved sleep.  ", user=author)

    stored = PsychologyNoteAddendum.objects.get(pk=addendum.pk)
    assert (stored.note, stored.text, stored.author) == (note, "Mother reported improved sleep.", author)
    assert stored.created_at is not None
    assert stored.history.get().history_user == author
    assert list(note.addenda.all()) == [stored]


def test_add_addendum_to_a_draft_is_refused(participant, provider, author):
    note = write_psychology_note(participant, provider)

    with pytest.raises(SignedNoteError, match="Only a signed note takes addenda; edit the draft instead."):
        NoteService.add_addendum(note, text="Remark", user=author)

    assert not PsychologyNoteAddendum.objects.exists()


def test_add_addendum_blank_text_is_refused(participant, provider, author):
    under_way(participant)
    note = NoteService.sign_note(write_psychology_note(participant, provider), user=author)

    with pytest.raises(NoteContentError, match="Write the text of the addendum."):
        NoteService.add_addendum(note, text="   ", user=author)


def test_link_note_to_participant_links_a_signed_legacy_note(clinic, provider, author):
    appointment = appointment_under_way(AppointmentFactory(clinic=clinic, provider=provider))
    note = NoteService.sign_note(PsychologySessionFactory(appointment=appointment), user=author)
    session = IndividualSessionFactory(
        clinic=clinic, provider=provider, patient=appointment.patient, scheduled_time=datetime.time(19, 0)
    )
    participant = session.participants.get()
    participant.legacy_appointment = appointment
    participant.save(update_fields=["legacy_appointment"])

    NoteService.link_note_to_participant(note, participant=participant)
    NoteService.link_note_to_participant(note, participant=participant)

    stored = PsychologySession.objects.get(pk=note.pk)
    assert (stored.session, stored.session_participant, stored.appointment) == (
        session,
        participant,
        appointment,
    )
    assert (stored.status, stored.presenting_issues) == (
        PsychologySession.Status.SIGNED,
        note.presenting_issues,
    )


def test_link_note_to_participant_of_another_patient_is_refused(clinic, provider, participant):
    note = PsychologySessionFactory(patient=PatientFactory(tenant=clinic.tenant), provider=provider)

    with pytest.raises(NoteLinkError, match=f"but participation {participant.appointment_number} is"):
        NoteService.link_note_to_participant(note, participant=participant)

    assert PsychologySession.objects.get(pk=note.pk).session_participant is None


def test_link_note_to_participant_of_another_booking_is_refused(clinic, provider, participant):
    appointment = AppointmentFactory(
        clinic=clinic, provider=provider, patient=participant.patient, scheduled_time=datetime.time(19, 0)
    )
    note = PsychologySessionFactory(appointment=appointment)

    with pytest.raises(NoteLinkError, match="are different bookings; link the note to one of them."):
        NoteService.link_note_to_participant(note, participant=participant)


def test_link_note_to_participant_already_linked_elsewhere_is_refused(group, participant, provider):
    note = write_psychology_note(participant, provider)
    other = ParticipantFactory(session=GroupSessionFactory(clinic=group.clinic, provider=provider))

    with pytest.raises(
        NoteLinkError, match=f"This note is already linked to participation {participant.appointment_number}."
    ):
        NoteService.link_note_to_participant(note, participant=other)


def test_session_notes_by_participant_groups_notes_per_child(group, provider):
    first, second, third = (ParticipantFactory(session=group) for _ in range(3))
    psych_first = PsychologySessionFactory(session_participant=first)
    ot_first = OTSessionFactory(session_participant=first)
    aba_second = ABASessionFactory(session_participant=second)
    PsychologySessionFactory(
        session_participant=ParticipantFactory(session=GroupSessionFactory(clinic=group.clinic))
    )

    grouped = session_notes_by_participant(group)

    assert [(entry.participant, entry.notes) for entry in grouped] == [
        (first, {"psychology": psych_first, "ot": ot_first}),
        (second, {"aba": aba_second}),
        (third, {}),
    ]


def test_session_notes_by_participant_shows_only_the_disciplines_the_user_reads(group, provider):
    child = ParticipantFactory(session=group)
    psych = PsychologySessionFactory(session_participant=child)
    OTSessionFactory(session_participant=child)
    tenant = group.clinic.tenant

    def readable(role):
        return session_notes_by_participant(group, UserFactory(tenant=tenant, role=role))[0].notes

    assert readable(User.Role.PSYCHOLOGIST) == {"psychology": psych}
    assert readable(User.Role.ABA_THERAPIST) == {}
    assert readable(User.Role.FRONT_DESK) == {}
    assert set(readable(User.Role.ADMIN)) == {"psychology", "ot"}


def fill_session(group, children: int) -> None:
    for _ in range(children):
        child = under_way(ParticipantFactory(session=group))
        author = group.provider.user
        for factory in (PsychologySessionFactory, OTSessionFactory, ABASessionFactory):
            note = factory(session_participant=child)
            NoteService.sign_note(note, user=author)
            NoteService.add_addendum(note, text="Later remark", user=author)
        OTTargetSkillFactory(
            note=OTSession.objects.create(appointment=AppointmentFactory(clinic=group.clinic))
        )


@pytest.mark.parametrize("children", [1, 4])
def test_session_notes_by_participant_runs_a_fixed_number_of_queries(
    group, children, django_assert_num_queries
):
    fill_session(group, children)
    administrator = UserFactory(tenant=group.clinic.tenant, role=User.Role.ADMIN)

    # participants, then per discipline: notes, addenda, and OT's skills / ABA's records and targets
    with django_assert_num_queries(1 + 3 * 2 + 1 + 2):
        grouped = session_notes_by_participant(group, administrator)
        texts = [
            (note.provider.user.username, [a.author.username for a in note.addenda.all()])
            for entry in grouped
            for note in entry.notes.values()
        ]

    assert len(texts) == 3 * children


@pytest.mark.parametrize("sessions", [1, 3])
def test_patient_notes_across_disciplines_runs_a_fixed_number_of_queries(
    clinic, provider, sessions, django_assert_num_queries
):
    patient = PatientFactory(tenant=clinic.tenant)
    for _ in range(sessions):
        child = ParticipantFactory(
            session=GroupSessionFactory(clinic=clinic, provider=provider), patient=patient
        )
        for factory in (PsychologySessionFactory, OTSessionFactory, ABASessionFactory):
            factory(session_participant=child)
    administrator = UserFactory(tenant=clinic.tenant, role=User.Role.ADMIN)

    with django_assert_num_queries(3 * 2 + 1 + 2):
        notes = patient_notes(patient, administrator)
        details = [
            (str(note.provider), note.session.service_type, list(note.addenda.all())) for note in notes
        ]

    assert len(details) == 3 * sessions


def test_patient_notes_newest_first_and_only_readable_disciplines(clinic, provider):
    patient = PatientFactory(tenant=clinic.tenant)
    ot_clinic = ClinicFactory(tenant=clinic.tenant, specialty=Clinic.Specialty.OT)
    older = PsychologySessionFactory(
        appointment=AppointmentFactory(
            clinic=clinic, provider=provider, patient=patient, scheduled_date=datetime.date(2025, 1, 5)
        )
    )
    newer = PsychologySessionFactory(
        appointment=AppointmentFactory(
            clinic=clinic, provider=provider, patient=patient, scheduled_date=datetime.date(2025, 3, 5)
        )
    )
    ot_note = OTSessionFactory(
        appointment=AppointmentFactory(
            clinic=ot_clinic,
            provider=ProviderFactory(clinic=ot_clinic),
            patient=patient,
            scheduled_date=datetime.date(2025, 2, 5),
        )
    )
    PsychologySessionFactory()  # another patient's
    psychologist = UserFactory(tenant=clinic.tenant, role=User.Role.PSYCHOLOGIST)
    administrator = UserFactory(tenant=clinic.tenant, role=User.Role.ADMIN)

    assert patient_notes(patient, psychologist) == [newer, older]
    assert patient_notes(patient, administrator) == [newer, ot_note, older]
    assert patient_notes(patient, UserFactory(tenant=clinic.tenant, role=User.Role.FINANCE)) == []


def test_session_has_notes_in_any_discipline(group):
    child = ParticipantFactory(session=group)
    assert session_has_notes(group) is False

    ABASessionFactory(session_participant=child)

    assert session_has_notes(group) is True


@pytest.mark.django_db(transaction=True)
def test_create_note_two_clinicians_at_once_write_one_note_for_the_child(clinic, provider):
    participant = ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider))

    outcomes = run_together([lambda: write_psychology_note(participant, provider) for _ in range(2)])

    written = [outcome for outcome in outcomes if isinstance(outcome, PsychologySession)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, DuplicateNoteError)]
    assert (len(written), len(refused)) == (1, 1)
    assert refused[0].messages == [
        f"{participant.patient.full_name_en} already has a psychology note for participation "
        f"{participant.appointment_number}; edit that note instead."
    ]
    assert list(PsychologySession.objects.values_list("pk", flat=True)) == [written[0].pk]


@pytest.mark.django_db(transaction=True)
def test_sign_note_and_update_at_once_never_change_a_signed_note(clinic, provider):
    participant = under_way(ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider)))
    note = write_psychology_note(participant, provider)

    outcomes = run_together(
        [
            lambda: NoteService.sign_note(PsychologySession.objects.get(pk=note.pk), user=provider.user),
            lambda: NoteService.update_note(PsychologySession.objects.get(pk=note.pk), progress="Late edit"),
        ]
    )

    assert isinstance(outcomes[0], PsychologySession)
    assert isinstance(outcomes[1], PsychologySession | SignedNoteError)
    stored = PsychologySession.objects.get(pk=note.pk)
    at_signing = stored.history.get(status=PsychologySession.Status.SIGNED)
    assert stored.progress == at_signing.progress
    assert stored.progress == ("Late edit" if isinstance(outcomes[1], PsychologySession) else "")
