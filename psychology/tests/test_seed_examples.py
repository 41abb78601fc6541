"""The seed's usage examples 1-3 as written, with notes in all three disciplines."""

import datetime

import pytest

from aba.models import ABASession
from aba.tests.factories import ABASessionFactory
from appointments.models import Appointment, Session, SessionParticipant
from appointments.notes.services import NoteService
from appointments.session_service import SessionService
from appointments.tests.factories import (
    AppointmentFactory,
    GroupSessionFactory,
    ParticipantFactory,
    appointment_under_way,
)
from core.clock import today as clinic_today
from core.models import User
from core.tests.factories import ConsentFactory, PatientFactory, UserFactory
from ot.models import OTSession
from ot.tests.factories import OTSessionFactory
from psychology.models import PsychologySession
from psychology.tests.factories import PsychologySessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


def test_seed_example_1_individual_appointment_with_psychology_note(clinic, provider):
    patient = PatientFactory(tenant=clinic.tenant)

    # Create appointment (existing workflow)
    appointment = Appointment.objects.create(
        patient=patient,
        provider=provider,
        clinic=clinic,
        scheduled_date=datetime.date(2025, 11, 15),
        scheduled_time=datetime.time(10, 0),
        duration=60,
        service_type="Individual Therapy",
    )
    # Create clinical notes
    psych_session = PsychologySession.objects.create(
        patient=patient,
        appointment=appointment,  # Traditional link
        session_date=appointment.scheduled_date,
        provider=appointment.provider,
        presenting_issues="Anxiety symptoms",
        interventions_used="CBT techniques",
    )

    assert list(appointment.psychology_sessions.all()) == [psych_session]
    stored = PsychologySession.objects.get(pk=psych_session.pk)
    assert (stored.session, stored.session_participant) == (None, None)
    assert (stored.presenting_issues, stored.interventions_used) == ("Anxiety symptoms", "CBT techniques")
    assert not Session.objects.exists()  # no dual writes: the legacy booking stays legacy


def test_seed_example_2_group_session_with_a_note_per_participant(clinic, provider):
    patient1, patient2, patient3 = (PatientFactory(tenant=clinic.tenant) for _ in range(3))
    for patient in (patient1, patient2, patient3):
        ConsentFactory(patient=patient)
    clerk = UserFactory(tenant=clinic.tenant, role=User.Role.FINANCE)

    # 1. Create group session
    session = SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=datetime.date(2025, 11, 15),
        scheduled_time=datetime.time(14, 0),
        duration=90,
        service_type="Social Skills Group",
        max_capacity=6,
        group_notes="Focus on peer interaction skills",
    )
    # 2. Add patients
    participants = []
    for patient in [patient1, patient2, patient3]:
        participant = SessionService.add_patient_to_session(session=session, patient=patient)
        participants.append(participant)
    # 3. Check in patients (on session day), finance having cleared them
    for participant in participants:
        SessionService.clear_finance(participant, user=clerk)
        SessionService.check_in_participant(participant)
    # 4. Create individual clinical notes
    for participant in participants:
        PsychologySession.objects.create(
            patient=participant.patient,
            session=session,
            session_participant=participant,
            session_date=session.scheduled_date,
            provider=session.provider,
            presenting_issues=f"Individual notes for {participant.patient.full_name_en}",
        )
    # The seed's second form: only the links, the rest follows from them.
    OTSession.objects.create(patient=patient2, session=session, session_participant=participants[1])
    # 5. Mark attendance
    for participant in participants:
        SessionService.mark_participant_attended(participant)
    # 6. Complete session
    SessionService.complete_session(session)

    session.refresh_from_db()
    assert session.status == Session.Status.COMPLETED
    assert set(session.participants.values_list("status", flat=True)) == {SessionParticipant.Status.ATTENDED}
    notes = PsychologySession.objects.filter(session=session).order_by("session_participant__booked_at")
    assert [(n.patient, n.session_participant, n.session_date, n.provider) for n in notes] == [
        (p.patient, p, datetime.date(2025, 11, 15), provider) for p in participants
    ]
    assert [n.presenting_issues for n in notes] == [
        f"Individual notes for {p.patient.full_name_en}" for p in participants
    ]
    ot_note = OTSession.objects.get()
    assert (ot_note.patient, ot_note.provider, ot_note.session_date) == (
        patient2,
        provider,
        session.scheduled_date,
    )
    assert list(session.ot_notes.all()) == [ot_note]


def test_seed_example_3_queries_return_exactly_their_rows(clinic, provider):
    session = GroupSessionFactory(
        clinic=clinic, provider=provider, scheduled_date=datetime.date(2025, 11, 15)
    )
    first, second = (ParticipantFactory(session=session) for _ in range(2))
    other_session = GroupSessionFactory(
        clinic=clinic, provider=provider, scheduled_date=datetime.date(2025, 11, 15)
    )
    outsider = ParticipantFactory(session=other_session)
    legacy = AppointmentFactory(clinic=clinic, provider=provider)

    psych_first = PsychologySessionFactory(session_participant=first)
    psych_second = PsychologySessionFactory(session_participant=second)
    ot_second = OTSessionFactory(session_participant=second)
    aba_first = ABASessionFactory(session_participant=first)
    PsychologySessionFactory(session_participant=outsider)
    OTSessionFactory(session_participant=outsider)
    ABASessionFactory(session_participant=outsider)
    PsychologySessionFactory(appointment=legacy)
    upcoming = GroupSessionFactory(
        clinic=clinic, provider=provider, scheduled_date=clinic_today() + datetime.timedelta(3)
    )
    ParticipantFactory(session=upcoming)
    full = GroupSessionFactory(
        clinic=clinic,
        provider=provider,
        scheduled_date=clinic_today() + datetime.timedelta(4),
        max_capacity=2,
    )
    ParticipantFactory(session=full)
    ParticipantFactory(session=full)
    SessionService.complete_session(other_session)

    # Get all group sessions
    group_sessions = Session.objects.filter(
        session_type=Session.SessionType.GROUP, status=Session.Status.SCHEDULED
    )
    # Get available group sessions
    available = SessionService.get_available_group_sessions(
        clinic=clinic, date_from=clinic_today(), date_to=clinic_today() + datetime.timedelta(days=30)
    )
    # Get clinical notes for a session
    psychology_notes = session.psychology_notes.all()
    ot_notes = session.ot_notes.all()
    aba_notes = session.aba_notes.all()
    # Get clinical notes for a specific participant
    participant_psych_notes = first.psychology_notes.all()

    assert set(group_sessions) == {session, upcoming, full}
    assert list(available) == [upcoming]
    assert set(psychology_notes) == {psych_first, psych_second}
    assert list(ot_notes) == [ot_second]
    assert list(aba_notes) == [aba_first]
    assert list(participant_psych_notes) == [psych_first]
    assert list(second.ot_notes.all()) == [ot_second]
    assert list(first.aba_notes.all()) == [aba_first]
    assert list(legacy.psychology_sessions.all()) == list(
        PsychologySession.objects.filter(appointment=legacy)
    )


def test_deleting_a_legacy_appointment_keeps_its_notes_with_the_link_cleared(clinic, provider):
    appointment = AppointmentFactory(clinic=clinic, provider=provider)
    drafts = [
        PsychologySessionFactory(appointment=appointment),
        OTSessionFactory(appointment=appointment),
        ABASessionFactory(appointment=appointment),
    ]
    appointment_under_way(appointment)  # its notes are signed once it has started
    signed = [
        NoteService.sign_note(factory(appointment=appointment), user=provider.user)
        for factory in (PsychologySessionFactory, OTSessionFactory, ABASessionFactory)
    ]

    appointment.delete()

    for note in [*drafts, *signed]:
        stored = type(note).objects.get(pk=note.pk)
        assert stored.appointment is None
        assert (stored.patient, stored.provider, stored.session_date, stored.status) == (
            note.patient,
            note.provider,
            note.session_date,
            note.status,
        )
    assert not ABASession.objects.filter(appointment__isnull=False).exists()
