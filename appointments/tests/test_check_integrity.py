"""manage.py check_integrity: passes on clean data, names every planted violation by id."""

import datetime
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from appointments.integrity import all_checks, check_integrity
from appointments.models import Appointment, AppointmentNumberCounter, Session, SessionParticipant
from appointments.notes.models import ClinicalNote, NoteChildRow
from appointments.notes.services import NoteService
from appointments.session_service import SessionService
from appointments.tests.factories import AppointmentFactory, GroupSessionFactory, ParticipantFactory
from appointments.tests.legacy_data import (
    add_legacy_notes,
    at,
    build_legacy_clinic,
    drop_constraint,
    drop_unique_index,
    set_columns,
    triggers_off,
)
from core.clock import today as clinic_today
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

FAILED = re.compile(r"Integrity check failed: (?P<count>\d+) violations \((?P<checks>[^)]*)\), \d+\.\d s\.")


def check_fails() -> tuple[list[str], str]:
    """Run the command expecting violations: (violation lines, summary without the time)."""
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("check_integrity", stdout=out, stderr=io.StringIO())
    assert failed.value.returncode == 1
    match = FAILED.fullmatch(str(failed.value))
    assert match, str(failed.value)
    return out.getvalue().splitlines(), f"{match['count']} ({match['checks']})"


def group(provider, start: datetime.time, day: datetime.date | None = None, **extra) -> Session:
    return GroupSessionFactory(
        provider=provider,
        clinic=provider.clinics.get(),
        scheduled_date=day or clinic_today(),
        scheduled_time=start,
        **extra,
    )


def backfill() -> None:
    call_command("backfill_sessions", stdout=io.StringIO(), stderr=io.StringIO())


def test_check_integrity_passes_on_clean_backfilled_data(clinic, provider, room):
    # given legacy appointments in every status with signed and draft notes, back-filled,
    # beside a live group session
    legacy = build_legacy_clinic(clinic, provider, room, dirty=False)
    add_legacy_notes(legacy, dirty=False)
    backfill()
    session = group(provider, at(9), max_capacity=3)
    for _ in range(3):
        ParticipantFactory(session=session)
    out = io.StringIO()

    # when
    call_command("check_integrity", stdout=out, stderr=io.StringIO())

    # then
    assert re.fullmatch(r"Integrity check passed: 19 checks, no violations, \d+\.\d s\.\n", out.getvalue())


def test_check_integrity_reports_a_capacity_out_of_range_for_the_type(clinic, provider):
    # given an individual session with two seats
    session = SessionService.create_individual_session(
        provider,
        clinic,
        PatientFactory(tenant=clinic.tenant),
        clinic_today(),
        at(9),
        60,
        "Individual Therapy",
    )
    drop_constraint(Session, "session_capacity_matches_type")
    set_columns(Session, session.pk, max_capacity=2)

    # when
    lines, summary = check_fails()

    # then
    assert lines == [f"capacity_range: session {session.pk}: individual session with capacity 2"]
    assert summary == "1 (capacity_range 1)"


def test_check_integrity_reports_more_active_participants_than_seats(provider):
    # given three participants in a session whose capacity was lowered past the service
    session = group(provider, at(9), max_capacity=3)
    for _ in range(3):
        ParticipantFactory(session=session)
    set_columns(Session, session.pk, max_capacity=2)

    # when
    lines, summary = check_fails()

    # then
    assert lines == [f"capacity_exceeded: session {session.pk}: 3 active participants for 2 seats"]
    assert summary == "1 (capacity_exceeded 1)"


def test_check_integrity_reports_a_patient_active_twice_in_one_session(provider):
    # given two active participations of one patient
    session = group(provider, at(9))
    first, second = ParticipantFactory(session=session), ParticipantFactory(session=session)
    drop_unique_index("participant_one_active_per_patient")
    set_columns(SessionParticipant, second.pk, patient_id=first.patient_id)

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"active_participation: session {session.pk}: patient {first.patient_id} is active in participants "
        f"{first.pk}, {second.pk}",
        f"patient_overlap: patient {first.patient_id}: participant {first.pk} overlaps "
        f"participant {second.pk}",
    ]
    assert summary == "2 (active_participation 1, patient_overlap 1)"


def test_check_integrity_reports_a_participant_still_expected_in_a_closed_session(provider):
    # given a completed session whose participant was never marked
    session = group(provider, at(9))
    participant = ParticipantFactory(session=session)
    set_columns(Session, session.pk, status=Session.Status.COMPLETED)

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"participant_status: session {session.pk} is completed but participant {participant.pk} is booked"
    ]
    assert summary == "1 (participant_status 1)"


def test_check_integrity_reports_malformed_numbers_and_foreign_tenant_codes(clinic, provider):
    # given a participant number past the format constraint and an appointment of another tenant's code
    participant = ParticipantFactory(session=group(provider, at(9)))
    appointment = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=at(11))
    drop_constraint(SessionParticipant, "participant_number_format")
    set_columns(SessionParticipant, participant.pk, appointment_number="APT-agdar-2025-7")
    set_columns(Appointment, appointment.pk, appointment_number="APT-OTHER-2025-00001")

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"number_format: appointment {appointment.pk}: number APT-OTHER-2025-00001 is not of the form "
        "APT-AGDAR-YYYY-NNNNN",
        f"number_format: participant {participant.pk}: number APT-agdar-2025-7 is not of the form "
        "APT-AGDAR-YYYY-NNNNN",
    ]
    assert summary == "2 (number_format 2)"


def test_check_integrity_reports_a_number_shared_by_an_appointment_and_another_booking(clinic, provider):
    # given a participant given an unrelated appointment's number
    appointment = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=at(11))
    participant = ParticipantFactory(session=group(provider, at(9)))
    set_columns(SessionParticipant, participant.pk, appointment_number=appointment.appointment_number)

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"number_unique: number {appointment.appointment_number} is held by appointment {appointment.pk}, "
        f"participant {participant.pk}"
    ]
    assert summary == "1 (number_unique 1)"


def test_check_integrity_reports_a_backfilled_participant_with_another_number(clinic, provider):
    # given a back-filled participant renumbered past the rules
    appointment = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=at(11))
    backfill()
    participant = SessionParticipant.objects.get(legacy_appointment=appointment)
    set_columns(SessionParticipant, participant.pk, appointment_number="APT-AGDAR-2020-00001")

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"backfilled_number: participant {participant.pk} has number APT-AGDAR-2020-00001 but its "
        f"appointment {appointment.pk} has {appointment.appointment_number}",
        "number_counter: tenant AGDAR, 2020: numbers go up to 1 but the counter is at 0 "
        "(the next bookings would reuse numbers)",
    ]
    assert summary == "2 (backfilled_number 1, number_counter 1)"


def test_check_integrity_reports_a_counter_behind_the_numbers_issued(clinic, provider):
    # given three numbers issued and the counter set back
    for hour in (9, 10, 11):
        AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=at(hour))
    year = clinic_today().year
    AppointmentNumberCounter.objects.filter(tenant=clinic.tenant, year=year).update(last_number=1)

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"number_counter: tenant AGDAR, {year}: numbers go up to 3 but the counter is at 1 "
        "(the next bookings would reuse numbers)"
    ]
    assert summary == "1 (number_counter 1)"


def test_check_integrity_reports_a_provider_booked_in_a_session_and_an_appointment_at_once(clinic, provider):
    # given a session moved over the provider's appointment past the service
    appointment = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=at(10))
    session = group(provider, at(12))
    set_columns(Session, session.pk, scheduled_time=at(10, 30))

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"provider_overlap: provider {provider.pk}: appointment {appointment.pk} overlaps "
        f"session {session.pk}"
    ]
    assert summary == "1 (provider_overlap 1)"


def test_check_integrity_reports_two_sessions_of_one_provider_at_once(provider):
    # given two sessions of the provider, one moved over the other past the exclusion constraint
    first, second = group(provider, at(9)), group(provider, at(11))
    drop_constraint(Session, "session_provider_no_overlap")
    set_columns(Session, second.pk, scheduled_time=at(9, 30))

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"provider_overlap: provider {provider.pk}: session {first.pk} overlaps session {second.pk}"
    ]
    assert summary == "1 (provider_overlap 1)"


def test_check_integrity_reports_a_room_booked_twice_across_midnight(clinic, provider, room):
    # given a late session running past midnight into another provider's early appointment in that room
    today = clinic_today()
    session = group(provider, at(23, 30), room=room)
    appointment = AppointmentFactory(
        clinic=clinic,
        provider=ProviderFactory(clinic=clinic),
        room=room,
        scheduled_date=today + datetime.timedelta(1),
        scheduled_time=at(1),
    )
    set_columns(Session, session.pk, duration=120)

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"room_overlap: room {room.pk}: session {session.pk} overlaps appointment {appointment.pk}"
    ]
    assert summary == "1 (room_overlap 1)"


def test_check_integrity_reports_a_patient_in_a_session_and_an_appointment_at_once(clinic, provider):
    # given a patient's appointment and a group session of another provider moved over it
    patient = PatientFactory(tenant=clinic.tenant)
    appointment = AppointmentFactory(clinic=clinic, provider=provider, patient=patient, scheduled_time=at(10))
    session = group(ProviderFactory(clinic=clinic), at(12))
    participant = ParticipantFactory(session=session, patient=patient)
    set_columns(Session, session.pk, scheduled_time=at(10, 15))

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"patient_overlap: patient {patient.pk}: appointment {appointment.pk} overlaps "
        f"participant {participant.pk}"
    ]
    assert summary == "1 (patient_overlap 1)"


def test_check_integrity_ignores_cancelled_bookings_and_a_backfilled_pair(clinic, provider, room):
    # given a back-filled appointment (its session overlaps it by design) and a cancelled overlap
    appointment = AppointmentFactory(clinic=clinic, provider=provider, room=room, scheduled_time=at(10))
    backfill()
    cancelled = group(provider, at(12), room=room)
    SessionService.cancel_session(cancelled, reason="Therapist ill")
    set_columns(Session, cancelled.pk, scheduled_time=at(10))
    out = io.StringIO()

    # when
    call_command("check_integrity", stdout=out, stderr=io.StringIO())

    # then
    assert out.getvalue().startswith("Integrity check passed: 19 checks, no violations")
    assert SessionParticipant.objects.get(legacy_appointment=appointment).session.provider == provider


def test_check_integrity_ignores_a_backfilled_pair_whose_session_moved(clinic, provider):
    # given a back-filled appointment whose session moved half an hour, still over its appointment
    appointment = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=at(10))
    backfill()
    participant = SessionParticipant.objects.get(legacy_appointment=appointment)
    set_columns(Session, participant.session_id, scheduled_time=at(10, 30))

    # when
    report = check_integrity(["provider_overlap", "room_overlap", "patient_overlap"])

    # then the booking overlaps only itself
    assert report.violations == []


@pytest.mark.parametrize(
    "own_session_change",
    [
        pytest.param(lambda clinic: {"status": "cancelled"}, id="cancelled"),
        pytest.param(lambda clinic: {"scheduled_time": at(15)}, id="moved-away"),
        pytest.param(lambda clinic: {"scheduled_time": at(9, 30)}, id="moved-half-off"),
        pytest.param(lambda clinic: {"provider_id": ProviderFactory(clinic=clinic).pk}, id="other-provider"),
    ],
)
def test_check_integrity_reports_a_backfilled_appointment_its_own_session_no_longer_covers(
    clinic, provider, own_session_change
):
    # given a back-filled appointment whose own session no longer holds its slot for the
    # provider, and another session of the provider moved over the appointment
    appointment = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=at(10))
    backfill()
    own_session = SessionParticipant.objects.get(legacy_appointment=appointment).session_id
    set_columns(Session, own_session, **own_session_change(clinic))
    clash = group(provider, at(12))
    set_columns(Session, clash.pk, scheduled_time=at(10, 30))

    # when
    report = check_integrity(["provider_overlap"])

    # then
    assert [violation.message for violation in report.violations] == [
        f"provider {provider.pk}: appointment {appointment.pk} overlaps session {clash.pk}"
    ]


def test_check_integrity_reports_an_appointment_moved_into_a_session_backfilled_from_another(
    clinic, provider
):
    # given two back-filled appointments, the later one's participant moved into the first
    # one's session, which now runs over both
    first = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=at(10))
    later = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=at(11))
    backfill()
    session = SessionParticipant.objects.get(legacy_appointment=first).session_id
    moved = SessionParticipant.objects.get(legacy_appointment=later)
    set_columns(Session, moved.session_id, status="cancelled")
    set_columns(SessionParticipant, moved.pk, session_id=session)
    set_columns(Session, session, duration=120)

    # when
    report = check_integrity(["provider_overlap"])

    # then the session is the first appointment's booking, not the later one's
    assert [violation.message for violation in report.violations] == [
        f"provider {provider.pk}: appointment {later.pk} overlaps session {session}"
    ]


def test_check_integrity_reports_an_appointment_under_the_providers_session_in_another_clinic(
    clinic, provider
):
    # given the provider's session in another clinic moved over one appointment, after
    # another that ends as it starts and over a cancelled one
    other_clinic = ClinicFactory(tenant=clinic.tenant)
    provider.clinics.add(other_clinic)
    AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=at(10))
    cancelled = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=at(11))
    set_columns(Appointment, cancelled.pk, status="cancelled")
    under = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=at(12))
    session = GroupSessionFactory(
        provider=provider, clinic=other_clinic, scheduled_date=clinic_today(), scheduled_time=at(16)
    )
    set_columns(Session, session.pk, scheduled_time=at(11), duration=120)

    # when
    report = check_integrity(["provider_overlap"])

    # then only the appointment under it is reported
    assert [violation.message for violation in report.violations] == [
        f"provider {provider.pk}: appointment {under.pk} overlaps session {session.pk}"
    ]


def test_check_integrity_runs_only_the_named_checks(provider):
    # given a capacity violation
    session = group(provider, at(9), max_capacity=3)
    for _ in range(3):
        ParticipantFactory(session=session)
    set_columns(Session, session.pk, max_capacity=2)
    out = io.StringIO()

    # when only the overlap checks run
    call_command("check_integrity", "--check", "provider_overlap", "--check", "room_overlap", stdout=out)

    # then
    assert out.getvalue().startswith("Integrity check passed: 2 checks, no violations")


def test_check_integrity_lists_every_check_with_its_invariant():
    out = io.StringIO()

    call_command("check_integrity", "--list", stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 19
    assert lines[0] == "capacity_range: Capacity is 1 for an individual session and 2-20 for a group."
    assert lines[-1].startswith("audit_chain: Audit rows (access log, privilege changes, history)")


# Constraints the checks rely on instead of scanning


def alter(sql: str) -> None:
    """Change a table's constraints until the test's transaction rolls back."""
    with connection.cursor() as cursor:
        # Deferred foreign-key checks queued in this transaction would block the ALTER.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def run_check_integrity() -> tuple[list[str], list[str]]:
    """Run the command expecting no violation: (stdout lines, stderr lines)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("check_integrity", stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue().splitlines()


def test_check_integrity_relies_on_every_constraint_as_migrated_and_times_each_check(provider):
    # given clean data under the constraints the migrations made
    group(provider, at(9))

    # when
    lines, diagnostics = run_check_integrity()

    # then no check had to scan around a constraint, and each says how long it took
    assert lines[0].startswith("Integrity check passed: 19 checks, no violations")
    timed = [re.fullmatch(r"(\w+) +\d+\.\d\d s", line) for line in diagnostics]
    assert all(timed), diagnostics
    assert [match[1] for match in timed] == [check.name for check in all_checks()]


def test_check_integrity_scans_pairs_a_missing_exclusion_constraint_ruled_out_and_says_so(clinic, provider):
    # given one child's two appointments at once, with two providers, past a dropped constraint
    patient = PatientFactory(tenant=clinic.tenant)
    first = AppointmentFactory(clinic=clinic, provider=provider, patient=patient, scheduled_time=at(10))
    second = AppointmentFactory(
        clinic=clinic, provider=ProviderFactory(clinic=clinic), patient=patient, scheduled_time=at(12)
    )
    drop_constraint(Appointment, "appointment_patient_no_overlap")
    set_columns(Appointment, second.pk, scheduled_time=at(10, 30))
    err = io.StringIO()

    # when
    with pytest.raises(CommandError, match=r"violations \(patient_overlap 1\)"):
        call_command("check_integrity", "--check", "patient_overlap", stdout=io.StringIO(), stderr=err)

    # then the overlap is found, and the missing constraint named
    assert (
        "patient_overlap: constraint appointment_patient_no_overlap on appointments_appointment is "
        "missing; scanned what it rules out instead." in err.getvalue().splitlines()
    )
    assert check_integrity(["patient_overlap"]).violations[0].message == (
        f"patient {patient.pk}: appointment {first.pk} overlaps appointment {second.pk}"
    )


def test_check_integrity_does_not_rely_on_a_not_valid_number_constraint(provider):
    # given a malformed number planted, then the format constraint added back NOT VALID over it
    participant = ParticipantFactory(session=group(provider, at(9)))
    drop_constraint(SessionParticipant, "participant_number_format")
    set_columns(SessionParticipant, participant.pk, appointment_number="APT-AGDAR-2025-7")
    alter(
        "ALTER TABLE appointments_sessionparticipant ADD CONSTRAINT participant_number_format "
        "CHECK (appointment_number ~ '^APT-[A-Z0-9]+-[0-9]{4}-[0-9]{5,}$') NOT VALID"
    )

    # when
    report = check_integrity(["number_format", "number_counter"])

    # then the number is reported, and the constraint as not to be relied on, by both checks
    assert [violation.message for violation in report.violations] == [
        f"participant {participant.pk}: number APT-AGDAR-2025-7 is not of the form APT-AGDAR-YYYY-NNNNN"
    ]
    problem = (
        "constraint participant_number_format on appointments_sessionparticipant is NOT VALID (rows from "
        "before it are unchecked); scanned what it rules out instead."
    )
    assert [(notice.check, notice.message) for notice in report.notices] == [
        ("number_format", problem),
        ("number_counter", problem),
    ]


def test_check_integrity_scans_statuses_an_altered_exclusion_constraint_leaves_out(clinic, provider, room):
    # given the room constraint narrowed to sessions not completed, and two completed sessions at once there
    alter("ALTER TABLE appointments_session DROP CONSTRAINT session_room_no_overlap")
    alter(
        "ALTER TABLE appointments_session ADD CONSTRAINT session_room_no_overlap EXCLUDE USING gist ("
        "int8range(room_id, room_id, '[]') WITH &&, tsrange(scheduled_date + scheduled_time, "
        "scheduled_date + scheduled_time + make_interval(mins => duration), '[)') WITH &&) "
        "WHERE (status NOT IN ('cancelled', 'completed') AND room_id IS NOT NULL)"
    )
    first = group(provider, at(9), room=room)
    second = group(ProviderFactory(clinic=clinic), at(11), room=room)
    for session in (first, second):
        set_columns(Session, session.pk, status="completed")
    set_columns(Session, second.pk, scheduled_time=at(9, 30))

    # when
    report = check_integrity(["room_overlap"])

    # then
    assert [violation.message for violation in report.violations] == [
        f"room {room.pk}: session {first.pk} overlaps session {second.pk}"
    ]
    [notice] = report.notices
    assert notice.message.startswith(
        "constraint session_room_no_overlap on appointments_session is not defined as expected: EXCLUDE"
    )


# Invariant 7: clinical notes


@pytest.fixture
def linked(clinic, provider, room):
    """A back-filled legacy clinic whose clean notes (two of them signed) point at their sessions."""
    legacy = build_legacy_clinic(clinic, provider, room, dirty=False)
    legacy.notes = add_legacy_notes(legacy, dirty=False)
    backfill()
    for note in legacy.notes.clean:
        note.refresh_from_db()
    return legacy


def test_check_integrity_reports_a_note_whose_participant_is_in_another_session(linked, provider):
    # given a signed psychology note moved to another session past its triggers
    note = linked.notes.clean[0]
    other = group(provider, at(17))
    with triggers_off():
        set_columns(type(note), note.pk, session_id=other.pk)

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"note_participant_session: psychology note {note.pk} is on session {other.pk} but its participant "
        f"{note.session_participant_id} is in session {note.session_id}",
        f"signed_note_unchanged: psychology note {note.pk}: the note changed after it was signed",
    ]
    assert summary == "2 (note_participant_session 1, signed_note_unchanged 1)"


def test_check_integrity_reports_a_note_about_another_patient_than_its_bookings(linked):
    # given a draft ABA note moved to another patient past its triggers
    note = linked.notes.clean[2]
    stranger = PatientFactory(tenant=linked.clinic.tenant)
    with triggers_off():
        set_columns(type(note), note.pk, patient_id=stranger.pk)

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"note_patient: ABA note {note.pk} is about patient {stranger.pk} but appointment "
        f"{note.appointment_id} is patient {note.patient_id}'s",
        f"note_patient: ABA note {note.pk} is about patient {stranger.pk} but participant "
        f"{note.session_participant_id} is patient {note.patient_id}'s",
    ]
    assert summary == "2 (note_patient 2)"


def test_check_integrity_reports_a_note_naming_two_different_bookings(linked):
    # given a draft note whose appointment link points at another appointment of the same patient
    note = linked.notes.clean[2]
    later = AppointmentFactory(
        clinic=linked.clinic,
        provider=linked.provider,
        patient=note.patient,
        scheduled_date=linked.day + datetime.timedelta(1),
        scheduled_time=at(9),
    )
    set_columns(type(note), note.pk, appointment_id=later.pk)

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"note_booking: ABA note {note.pk}: appointment {later.pk} and participant "
        f"{note.session_participant_id} are different bookings"
    ]
    assert summary == "1 (note_booking 1)"


def test_check_integrity_reports_a_group_session_note_without_its_participant(provider):
    # given a psychology note pointed at a group session only
    session = group(provider, at(9))
    participant = ParticipantFactory(session=session)
    note = PsychologySession.objects.create(
        patient=participant.patient, session_participant=participant, presenting_issues="Turn taking"
    )
    set_columns(PsychologySession, note.pk, session_participant_id=None)

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"note_group_participant: psychology note {note.pk} is on group session {session.pk} without "
        "naming its participant"
    ]
    assert summary == "1 (note_group_participant 1)"


def test_check_integrity_reports_two_notes_of_one_discipline_for_one_participant(linked):
    # given a second psychology note on the seed-style appointment, linked past the unique constraint
    first = linked.notes.clean[3]
    second = PsychologySession.objects.create(
        patient=first.patient,
        appointment=first.appointment,
        session_date=first.session_date,
        provider=first.provider,
        presenting_issues="Second opinion",
    )
    drop_constraint(PsychologySession, "psychology_one_note_per_participant")
    set_columns(
        PsychologySession,
        second.pk,
        session_id=first.session_id,
        session_participant_id=first.session_participant_id,
    )

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"note_unique: participant {first.session_participant_id} has more than one psychology note: "
        f"{first.pk}, {second.pk}"
    ]
    assert summary == "1 (note_unique 1)"


def test_check_integrity_reports_signed_content_changed_without_history(linked):
    # given a signed psychology note rewritten in the table, past its trigger and its history
    note = linked.notes.clean[0]
    with triggers_off():
        set_columns(type(note), note.pk, presenting_issues="Rewritten later")

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"signed_note_unchanged: psychology note {note.pk}: the note changed after it was signed"
    ]
    assert summary == "1 (signed_note_unchanged 1)"


def test_check_integrity_reports_a_signed_note_changed_and_changed_back(linked):
    # given a signed OT note edited and restored by a code path that skipped the guard
    note = linked.notes.clean[1]
    original = note.activities
    with triggers_off():
        for text in ("Edited after signing", original):
            note.activities = text
            super(ClinicalNote, note).save(update_fields=["activities"])

    # when
    lines, summary = check_fails()

    # then the history still shows the change
    assert lines == [f"signed_note_unchanged: OT note {note.pk}: the note changed after it was signed"]
    assert summary == "1 (signed_note_unchanged 1)"


def test_check_integrity_reports_a_row_of_a_signed_note_changed_after_signing(linked, monkeypatch):
    # given the target skill of a signed OT note re-rated by a code path that skipped the guard
    note = linked.notes.clean[1]
    skill = note.target_skills.get()
    monkeypatch.setattr(NoteChildRow, "refuse_if_note_signed", lambda row: None)
    with triggers_off():
        skill.rating = 9
        skill.save()

    # when
    lines, summary = check_fails()

    # then
    assert lines == [
        f"signed_note_unchanged: OT note {note.pk}: target skill {skill.pk} changed after it was signed"
    ]
    assert summary == "1 (signed_note_unchanged 1)"


def test_check_integrity_accepts_a_signed_note_whose_legacy_appointment_was_deleted(linked):
    # given the legacy appointment of a signed, back-filled note deleted (its link is cleared)
    note = linked.notes.clean[0]
    note.appointment.delete()
    out = io.StringIO()

    # when
    call_command("check_integrity", stdout=out, stderr=io.StringIO())

    # then
    note.refresh_from_db()
    assert (note.appointment, note.session_participant.legacy_appointment) == (None, None)
    assert out.getvalue().startswith("Integrity check passed: 19 checks, no violations")


def test_check_integrity_reports_a_signed_note_whose_signing_is_missing_from_its_history(linked):
    # given a signed psychology note whose history lost the record of its signing (history
    # rows are append-only: only the database owner, past the trigger, can delete one)
    note = linked.notes.clean[0]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL audit.maintenance = 'on'")
        note.history.filter(status=PsychologySession.Status.SIGNED).delete()
        cursor.execute("SET LOCAL audit.maintenance = 'off'")

    # when
    lines, summary = check_fails()

    # then its content can't be checked against the signing, and that is reported
    assert lines == [
        f"signed_note_history: psychology note {note.pk} is signed but its history has no record "
        "of the signing"
    ]
    assert summary == "1 (signed_note_history 1)"


def test_check_integrity_accepts_a_signed_note_whose_version_moved_on_with_addenda(linked):
    # given a signed note that took two addenda (each moves its version on)
    note = linked.notes.clean[0]
    for text in ("Mother reports better sleep.", "School confirms."):
        NoteService.add_addendum(note, text=text, user=note.signed_by, expected_version=note.version)
    out = io.StringIO()

    # when
    call_command("check_integrity", stdout=out, stderr=io.StringIO())

    # then
    assert PsychologySession.objects.get(pk=note.pk).version == 4
    assert out.getvalue().startswith("Integrity check passed: 19 checks, no violations")
