"""manage.py backfill_sessions: legacy appointments become Sessions, once, safely."""

import datetime
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from appointments import backfill_service
from appointments.backfill_service import CHANGE_REASON
from appointments.models import Appointment, Session, SessionParticipant
from appointments.tests.legacy_data import (
    add_legacy_notes,
    build_legacy_clinic,
    legacy_session_of,
    set_columns,
)
from core import locks
from core.tests.factories import ClinicFactory, ProviderFactory, RoomFactory
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = Appointment.Status
SUMMARY = re.compile(r"(?P<text>.+), \d+\.\d s\.")


def run(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("backfill_sessions", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().splitlines()


def summary(lines: list[str]) -> str:
    match = SUMMARY.fullmatch(lines[-1])
    assert match, lines[-1]
    return match["text"]


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - introspected names
            counts[table] = cursor.fetchone()[0]
    return counts


# The test's savepoint and its release; the locks (providers, rooms, appointments), the
# dirty-row query, a savepoint around one insert of sessions, participants and their
# history; per note discipline the notes' lock and one update with its history.
BATCH_STATEMENTS = 2 + 3 + 1 + 3 + 3 * 2

DIRTY_SUMMARY = (
    "16 appointments seen, 9 sessions created, 4 notes linked, 11 skipped (duplicate_note 2, "
    "note_linked_elsewhere 1, note_patient_mismatch 1, number_in_use 1, patient_overlap 2, "
    "provider_overlap 2, room_overlap 2)"
)


@pytest.fixture
def legacy(clinic, provider, room):
    legacy = build_legacy_clinic(clinic, provider, room)
    legacy.notes = add_legacy_notes(legacy)
    return legacy


def test_backfill_sessions_creates_one_individual_session_per_clean_appointment(legacy):
    # when
    run()

    # then
    assert Session.objects.count() == len(legacy.clean) + 2  # and the two group sessions planted beside
    for appointment in legacy.clean:
        participant = SessionParticipant.objects.get(legacy_appointment=appointment)
        session = participant.session
        assert session.session_type == Session.SessionType.INDIVIDUAL
        assert session.max_capacity == 1
        assert session.participants.count() == 1
        assert (
            session.provider_id,
            session.clinic_id,
            session.room_id,
            session.scheduled_date,
            session.scheduled_time,
            session.duration,
            session.service_type,
        ) == (
            appointment.provider_id,
            appointment.clinic_id,
            appointment.room_id,
            appointment.scheduled_date,
            appointment.scheduled_time,
            appointment.duration,
            appointment.service_type,
        )
        assert participant.patient_id == appointment.patient_id
        assert participant.appointment_number == appointment.appointment_number
    assert not SessionParticipant.objects.filter(legacy_appointment_id__in=legacy.dirty_ids).exists()


@pytest.mark.parametrize(
    ("status", "session_status", "participant_status"),
    [
        (Status.BOOKED, Session.Status.SCHEDULED, SessionParticipant.Status.BOOKED),
        (Status.CONFIRMED, Session.Status.SCHEDULED, SessionParticipant.Status.CONFIRMED),
        (Status.ARRIVED, Session.Status.SCHEDULED, SessionParticipant.Status.ARRIVED),
        (Status.IN_PROGRESS, Session.Status.IN_PROGRESS, SessionParticipant.Status.ARRIVED),
        (Status.COMPLETED, Session.Status.COMPLETED, SessionParticipant.Status.ATTENDED),
        (Status.CANCELLED, Session.Status.CANCELLED, SessionParticipant.Status.CANCELLED),
        (Status.NO_SHOW, Session.Status.COMPLETED, SessionParticipant.Status.NO_SHOW),
    ],
)
def test_backfill_sessions_maps_the_appointment_status(legacy, status, session_status, participant_status):
    # given
    appointment = legacy.by_status[status]

    # when
    run()

    # then
    participant = SessionParticipant.objects.select_related("session").get(legacy_appointment=appointment)
    assert (participant.session.status, participant.status) == (session_status, participant_status)


def test_backfill_sessions_carries_every_timestamp_gate_and_reason(legacy):
    # given
    completed = legacy.by_status[Status.COMPLETED]
    cancelled = legacy.by_status[Status.CANCELLED]
    no_show = legacy.by_status[Status.NO_SHOW]

    # when
    run()

    # then
    done = SessionParticipant.objects.get(legacy_appointment=completed)
    assert (done.finance_cleared, done.finance_cleared_by_id, done.finance_cleared_at) == (
        True,
        completed.finance_cleared_by_id,
        completed.finance_cleared_at,
    )
    assert (done.consent_verified, done.consent_verified_at) == (True, completed.consent_verified_at)
    assert (done.booked_at, done.arrived_at, done.attended_at) == (
        completed.created_at,
        completed.arrived_at,
        completed.completed_at,
    )
    assert (done.session.started_at, done.session.completed_at) == (
        completed.started_at,
        completed.completed_at,
    )
    dropped = SessionParticipant.objects.get(legacy_appointment=cancelled)
    assert (dropped.cancelled_at, dropped.cancel_reason) == (cancelled.cancelled_at, "Family travel")
    assert (dropped.session.cancelled_at, dropped.session.cancel_reason) == (
        cancelled.cancelled_at,
        "Family travel",
    )
    absent = SessionParticipant.objects.get(legacy_appointment=no_show)
    assert (absent.confirmed_at, absent.no_show_at) == (no_show.confirmed_at, no_show.no_show_at)
    assert absent.session.completed_at == no_show.no_show_at


def test_backfill_sessions_writes_history_for_every_created_row(legacy):
    # given
    appointment = legacy.by_status[Status.CONFIRMED]

    # when
    run()

    # then
    participant = SessionParticipant.objects.get(legacy_appointment=appointment)
    [session_record] = participant.session.history.all()
    [participant_record] = participant.history.all()
    assert (session_record.history_type, session_record.history_change_reason) == ("+", CHANGE_REASON)
    assert (participant_record.history_type, participant_record.history_change_reason) == ("+", CHANGE_REASON)
    assert participant_record.booked_at == participant.booked_at == appointment.created_at
    assert participant_record.appointment_number == appointment.appointment_number


def test_backfill_sessions_reports_and_skips_each_dirty_row_by_reason(legacy):
    # given
    provider_a, provider_b = legacy.dirty["provider_overlap"]
    room_a, room_b = legacy.dirty["room_overlap"]
    patient_a, patient_b = legacy.dirty["patient_overlap"]
    [number_taken] = legacy.dirty["number_in_use"]
    holder = SessionParticipant.objects.get(appointment_number=number_taken.appointment_number)
    twin_a, twin_b = legacy.notes.dirty["duplicate_note"]
    [mismatch] = legacy.notes.dirty["note_patient_mismatch"]
    [elsewhere] = legacy.notes.dirty["note_linked_elsewhere"]
    mismatch.refresh_from_db()
    elsewhere.refresh_from_db()
    confirmed = legacy.by_status[Status.CONFIRMED]

    # when
    lines = run()

    # then
    booked = legacy.by_status[Status.BOOKED]
    assert lines[:-1] == [
        f"skipped ABA note {twin_a.pk}: duplicate_note (appointment {booked.pk} has ABA notes {twin_a.pk}, "
        f"{twin_b.pk})",
        f"skipped ABA note {twin_b.pk}: duplicate_note (appointment {booked.pk} has ABA notes {twin_a.pk}, "
        f"{twin_b.pk})",
        f"skipped OT note {mismatch.pk}: note_patient_mismatch (note is about patient {mismatch.patient_id}, "
        f"appointment {confirmed.pk} is patient {confirmed.patient_id}'s)",
        f"skipped appointment {provider_a.pk}: provider_overlap (overlaps appointment {provider_b.pk})",
        f"skipped appointment {provider_b.pk}: provider_overlap (overlaps appointment {provider_a.pk})",
        f"skipped appointment {room_a.pk}: room_overlap (overlaps appointment {room_b.pk})",
        f"skipped appointment {room_b.pk}: room_overlap (overlaps appointment {room_a.pk})",
        f"skipped appointment {patient_a.pk}: patient_overlap (overlaps appointment {patient_b.pk})",
        f"skipped appointment {patient_b.pk}: patient_overlap (overlaps appointment {patient_a.pk})",
        f"skipped appointment {number_taken.pk}: number_in_use (number also on participant {holder.pk})",
        f"skipped psychology note {elsewhere.pk}: note_linked_elsewhere (note is on session "
        f"{elsewhere.session_id}, appointment {legacy.rebooked.pk} became session "
        f"{legacy_session_of(legacy.rebooked).pk})",
    ]
    assert summary(lines) == f"Back-fill done: {DIRTY_SUMMARY}"


def test_backfill_sessions_links_every_clean_note_and_keeps_its_appointment(legacy):
    # when
    run()

    # then
    for note in legacy.notes.clean:
        appointment = note.appointment
        note.refresh_from_db()
        participant = SessionParticipant.objects.get(legacy_appointment=appointment)
        assert (note.session, note.session_participant, note.appointment) == (
            participant.session,
            participant,
            appointment,
        )
        latest = note.history.first()
        assert (latest.history_type, latest.history_change_reason) == ("~", CHANGE_REASON)
    psychology = legacy.notes.clean[0]
    assert psychology.is_signed
    assert psychology.session.psychology_notes.get() == psychology


def note_links(note) -> tuple[int | None, int | None, int | None]:
    return (
        type(note)
        .objects.values_list("session_id", "session_participant_id", "appointment_id")
        .get(pk=note.pk)
    )


def test_backfill_sessions_leaves_each_dirty_note_as_it_was(legacy):
    # given
    dirty = [note for notes in legacy.notes.dirty.values() for note in notes]
    before = {note.pk: note_links(note) for note in dirty}

    # when
    run()

    # then
    assert {note.pk: note_links(note) for note in dirty} == before
    assert all(participant is None for _session, participant, _appointment in before.values())


def test_backfill_sessions_links_a_note_written_after_the_backfill(clinic, provider, room):
    # given a back-filled clinic whose legacy workflow then writes a note on an appointment only
    legacy = build_legacy_clinic(clinic, provider, room, dirty=False)
    run()
    completed = legacy.by_status[Status.COMPLETED]
    late = PsychologySession.objects.create(
        patient=completed.patient,
        appointment=completed,
        session_date=completed.scheduled_date,
        provider=completed.provider,
        presenting_issues="Follow-up",
    )
    assert late.session is None

    # when
    lines = run()

    # then
    late.refresh_from_db()
    assert late.session_participant == SessionParticipant.objects.get(legacy_appointment=completed)
    assert (
        summary(lines) == "Back-fill done: 0 appointments seen, 0 sessions created, 1 notes linked, 0 skipped"
    )


def test_backfill_sessions_skips_an_appointment_overlapping_an_existing_session(clinic, provider, room):
    # given a legacy appointment and a session of the same provider written over it past the rules
    legacy = build_legacy_clinic(clinic, provider, room, dirty=False)
    booked = legacy.by_status[Status.BOOKED]
    run()
    new = Appointment.objects.create(
        patient=booked.patient,
        provider=ProviderFactory(clinic=clinic),
        clinic=clinic,
        room=room,
        scheduled_date=legacy.day,
        scheduled_time=datetime.time(16),
        duration=60,
        service_type="Individual Therapy",
    )
    session = legacy_session_of(legacy.by_status[Status.CONFIRMED])
    set_columns(Session, session.pk, scheduled_time=datetime.time(16, 30))

    # when
    lines = run()

    # then
    assert lines[0] == f"skipped appointment {new.pk}: room_overlap (overlaps session {session.pk})"
    assert summary(lines) == (
        "Back-fill done: 1 appointments seen, 0 sessions created, 0 notes linked, 1 skipped (room_overlap 1)"
    )


def test_backfill_sessions_second_run_creates_nothing(legacy):
    # given
    run()
    counts = row_counts()

    # when
    lines = run()

    # then
    assert row_counts() == counts
    assert summary(lines) == (
        "Back-fill done: 7 appointments seen, 0 sessions created, 0 notes linked, 11 skipped "
        "(duplicate_note 2, note_linked_elsewhere 1, note_patient_mismatch 1, number_in_use 1, "
        "patient_overlap 2, provider_overlap 2, room_overlap 2)"
    )


def test_backfill_sessions_dry_run_writes_nothing_and_prints_the_plan(legacy):
    # given
    counts = row_counts()

    # when
    lines = run("--dry-run", "--batch-size", "10")

    # then
    assert row_counts() == counts
    assert lines[:2] == [
        "batch 1: 10 appointments, 9 sessions, 4 notes linked, 5 skipped",
        "batch 2: 6 appointments, 0 sessions, 0 notes linked, 6 skipped",
    ]
    assert summary(lines) == (
        "Dry run, rolled back: 16 appointments seen, 9 sessions would be created, 4 notes would be linked, "
        "11 skipped (duplicate_note 2, note_linked_elsewhere 1, note_patient_mismatch 1, number_in_use 1, "
        "patient_overlap 2, provider_overlap 2, room_overlap 2)"
    )


def test_backfill_sessions_verbose_plan_names_each_session(clinic, provider, room):
    # given
    legacy = build_legacy_clinic(clinic, provider, room, dirty=False)
    completed = legacy.by_status[Status.COMPLETED]

    # when
    lines = run("--dry-run", "--verbosity", "2")

    # then
    session_line = next(line for line in lines if f"appointment {completed.pk} " in line)
    assert re.fullmatch(
        rf"  appointment {completed.pk} \({completed.appointment_number}\) -> session \d+ completed, "
        r"participant \d+ attended",
        session_line,
    )
    assert not SessionParticipant.objects.exists()


def test_backfill_sessions_database_refusal_skips_only_the_refused_rows(legacy, monkeypatch):
    # given a pre-check that misses everything, as if the rows were booked meanwhile
    monkeypatch.setattr(backfill_service, "find_dirty_appointments", lambda ids: {})
    provider_a, provider_b = legacy.dirty["provider_overlap"]
    room_a, room_b = legacy.dirty["room_overlap"]
    [number_taken] = legacy.dirty["number_in_use"]

    # when
    lines = run()

    # then the database refuses the second of each overlapping pair and the reused number
    assert [line for line in lines if line.startswith("skipped appointment")] == [
        f"skipped appointment {provider_b.pk}: database_refused (session_provider_no_overlap)",
        f"skipped appointment {room_b.pk}: database_refused (session_room_no_overlap)",
        f"skipped appointment {number_taken.pk}: database_refused "
        "(appointments_sessionparticipant_appointment_number_key)",
    ]
    assert SessionParticipant.objects.filter(legacy_appointment__in=[provider_a, room_a]).count() == 2
    assert Session.objects.count() == len(legacy.clean) + 6  # 2 groups, provider_a, room_a, patient pair


@pytest.mark.parametrize("clinic_option", ["id", "name"])
def test_backfill_sessions_clinic_option_limits_the_run(legacy, clinic_option):
    # given another clinic's appointment
    other = ClinicFactory(tenant=legacy.clinic.tenant, name_en="Second Clinic")
    elsewhere = build_legacy_clinic(
        other, ProviderFactory(clinic=other), RoomFactory(clinic=other), dirty=False
    )
    value = str(other.pk) if clinic_option == "id" else "second clinic"

    # when
    lines = run("--clinic", value)

    # then
    assert (
        summary(lines) == "Back-fill done: 9 appointments seen, 9 sessions created, 0 notes linked, 0 skipped"
    )
    assert SessionParticipant.objects.filter(legacy_appointment__clinic=other).count() == len(elsewhere.clean)
    assert not SessionParticipant.objects.filter(legacy_appointment__clinic=legacy.clinic).exists()


def test_backfill_sessions_since_and_until_limit_the_dates(clinic, provider, room):
    # given appointments a week ago and a week ahead
    legacy = build_legacy_clinic(clinic, provider, room, dirty=False)
    ahead = Appointment.objects.create(
        patient=legacy.seed_style.patient,
        provider=provider,
        clinic=clinic,
        scheduled_date=legacy.day + datetime.timedelta(14),
        scheduled_time=datetime.time(9),
        duration=45,
        service_type="Individual Therapy",
    )
    day = legacy.day.isoformat()

    # when
    lines = run("--since", day, "--until", day)

    # then
    assert (
        summary(lines) == "Back-fill done: 9 appointments seen, 9 sessions created, 0 notes linked, 0 skipped"
    )
    assert not SessionParticipant.objects.filter(legacy_appointment=ahead).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2025-02-30"], "--since must be a date written YYYY-MM-DD (got '2025-02-30')."),
        (["--until", "last week"], "--until must be a date written YYYY-MM-DD (got 'last week')."),
        (["--since", "2025-03-02", "--until", "2025-03-01"], "--since must not be after --until."),
        (["--batch-size", "0"], "--batch-size must be at least 1 (got 0)."),
        (["--clinic", "Nowhere"], "No clinic has the id or name 'Nowhere'."),
    ],
)
def test_backfill_sessions_refuses_bad_input(clinic, args, message):
    with pytest.raises(CommandError, match=f"^{re.escape(message)}$"):
        run(*args)


def test_backfill_sessions_refuses_an_ambiguous_clinic_name(clinic):
    # given two organisations with a clinic of the same name
    twin = ClinicFactory(name_en=clinic.name_en, tenant__code="OTHER")

    # when / then
    with pytest.raises(CommandError, match=rf"ids {clinic.pk}, {twin.pk}\); pass the id instead\.$"):
        run("--clinic", clinic.name_en)


@pytest.mark.django_db(transaction=True)
def test_backfill_sessions_interrupted_in_batch_3_keeps_batches_1_and_2_and_rerun_finishes(
    clinic, provider, room, monkeypatch
):
    # given nine clean appointments with notes, and a failure once batch 3 has written everything
    legacy = build_legacy_clinic(clinic, provider, room, dirty=False)
    notes = add_legacy_notes(legacy, dirty=False).clean
    ordered = sorted(legacy.clean, key=lambda appointment: appointment.pk)
    real_link = backfill_service.link_notes_batch
    calls = []

    def link_then_fail_in_batch_3(appointment_ids, result):
        calls.append(appointment_ids)
        real_link(appointment_ids, result)
        if len(calls) == 3:
            raise RuntimeError("disk full")

    monkeypatch.setattr(backfill_service, "link_notes_batch", link_then_fail_in_batch_3)

    # when
    with pytest.raises(CommandError) as interrupted:
        run("--batch-size", "2")

    # then batches 1-2 are committed with their notes and batch 3 left no trace
    assert str(interrupted.value) == (
        "Batch 3 failed and was rolled back (disk full); batches 1-2 are saved. Run again to resume."
    )
    backfilled = set(SessionParticipant.objects.values_list("legacy_appointment_id", flat=True))
    assert backfilled == {appointment.pk for appointment in ordered[:4]}
    assert Session.objects.count() == 4
    assert Session.history.count() == SessionParticipant.history.count() == 4
    # (model, pk): notes of two disciplines may share a primary key.
    linked = {
        (type(note), note.pk) for note in notes if type(note).objects.get(pk=note.pk).session_participant_id
    }
    assert linked == {(type(note), note.pk) for note in notes if note.appointment in ordered[:4]}
    assert len(linked) == 2

    # when the run is repeated
    monkeypatch.setattr(backfill_service, "link_notes_batch", real_link)
    lines = run("--batch-size", "2")

    # then it resumes with the rest
    assert (
        summary(lines) == "Back-fill done: 5 appointments seen, 5 sessions created, 2 notes linked, 0 skipped"
    )
    assert SessionParticipant.objects.count() == len(ordered)
    assert all(type(note).objects.get(pk=note.pk).session_participant_id for note in notes)


def test_backfill_sessions_refuses_to_run_beside_another_run(clinic, provider, room):
    # given another connection holding the back-fill's run lock
    build_legacy_clinic(clinic, provider, room, dirty=False)
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [backfill_service.RUN_LOCK_KEY])

        # when / then
        with pytest.raises(
            CommandError, match=r"^Another back-fill is running on this database; wait for it to finish\.$"
        ):
            run()
    finally:
        other.close()
    assert not SessionParticipant.objects.exists()


def test_backfill_sessions_batch_locks_providers_rooms_appointments_then_notes(legacy):
    # given the pending appointments, as a run lists them
    pending = backfill_service.pending_appointments(backfill_service.BackfillScope())
    ids = list(pending.values_list("pk", flat=True))
    providers = sorted(set(pending.values_list("provider_id", flat=True)))
    rooms = sorted(set(pending.exclude(room=None).values_list("room_id", flat=True)))

    # when one batch runs in a transaction
    with transaction.atomic():
        backfill_service.backfill_batch(ids, backfill_service.BatchResult(number=1))
        held = locks.held_locks()

    # then providers and rooms (which its inserts reference) come before the appointments,
    # and the notes after them, as core.locks orders them
    parties_and_bookings = (
        [("core.Provider", pk) for pk in providers]
        + [("core.Room", pk) for pk in rooms]
        + [("appointments.Appointment", pk) for pk in sorted(ids)]
    )
    assert held[: len(parties_and_bookings)] == parties_and_bookings
    notes = held[len(parties_and_bookings) :]
    assert {label for label, _ in notes} == {"psychology.PsychologySession", "ot.OTSession", "aba.ABASession"}
    order = locks.lock_order()
    assert notes == sorted(notes, key=lambda lock: (order.index(lock[0]), lock[1]))


def skipped_lines(lines: list[str]) -> list[str]:
    # A rolled-back run still draws session ids, so a later run's new session has another id.
    return [
        re.sub(r"became session \d+", "became session N", line)
        for line in lines
        if line.startswith("skipped ")
    ]


def test_backfill_sessions_reports_the_same_skips_whatever_the_batch_boundaries(legacy):
    # given each overlapping pair split across batches, then three to a batch (dry runs)
    one_by_one = run("--dry-run", "--batch-size", "1")
    by_three = run("--dry-run", "--batch-size", "3")

    # when the whole set is one batch, each pair clashing inside it
    at_once = run()

    # then every run skips the same rows for the same reasons, in the same words
    assert len(skipped_lines(at_once)) == 11
    assert skipped_lines(one_by_one) == skipped_lines(by_three) == skipped_lines(at_once)
    assert summary(at_once) == f"Back-fill done: {DIRTY_SUMMARY}"


def build_clean_clinics(clinic, provider, room, count: int) -> list[int]:
    """``count`` clinics of clean legacy appointments, each with its notes: the pending ids."""
    add_legacy_notes(build_legacy_clinic(clinic, provider, room, dirty=False), dirty=False)
    for number in range(1, count):
        other = ClinicFactory(tenant=clinic.tenant, name_en=f"Back-fill clinic {number}")
        more = build_legacy_clinic(
            other, ProviderFactory(clinic=other), RoomFactory(clinic=other), dirty=False
        )
        add_legacy_notes(more, dirty=False)
    pending = backfill_service.pending_appointments(backfill_service.BackfillScope())
    return list(pending.values_list("pk", flat=True))


@pytest.mark.parametrize("clinics", [1, 3])
def test_backfill_batch_sends_as_many_statements_for_three_times_the_rows(
    clinic, provider, room, clinics, django_assert_num_queries
):
    # given one or three clinics' appointments, with notes of every discipline
    ids = build_clean_clinics(clinic, provider, room, clinics)
    result = backfill_service.BatchResult(number=1)

    # when they are back-filled as one batch
    with django_assert_num_queries(BATCH_STATEMENTS), transaction.atomic():
        backfill_service.backfill_batch(ids, result)

    # then the statements are set-based: as many for 27 rows as for 9
    assert len(result.created) == len(ids) == 9 * clinics
    assert SessionParticipant.history.filter(legacy_appointment_id__in=ids).count() == len(ids)
