"""A legacy clinic as the back-fill finds it: appointments in every status, notes, dirty rows.

Clean rows are written the way the legacy product wrote them, through
``AppointmentService`` (and the seed's bare ``Appointment.objects.create``). Dirty rows
are what older data holds despite today's rules: they are written past the
constraints, which are dropped inside the test's own transaction only.
"""

import contextlib
import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection

from aba.models import ABASession
from appointments.appointment_service import AppointmentService
from appointments.models import Appointment, Session, SessionParticipant
from appointments.notes.models import ClinicalNote
from appointments.notes.services import NoteService
from appointments.session_service import SessionService
from appointments.tests.factories import finance_clerk
from core.clock import today as clinic_today
from core.models import Clinic, Provider, Room
from core.tests.factories import ConsentFactory, PatientFactory, ProviderFactory, RoomFactory
from ot.models import OTSession, OTTargetSkill
from psychology.models import PsychologySession


def at(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


def drop_constraint(model, name: str) -> None:
    """Drop a constraint until the test's transaction rolls back, to plant data it would refuse."""
    with connection.cursor() as cursor:
        # Deferred foreign-key checks queued in this transaction would block the ALTER.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'ALTER TABLE "{model._meta.db_table}" DROP CONSTRAINT "{name}"')
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def drop_unique_index(name: str) -> None:
    """Drop a partial unique constraint, which PostgreSQL holds as an index, until rollback."""
    with connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX "{name}"')


@contextlib.contextmanager
def triggers_off() -> Iterator[None]:
    """Write past the database's triggers (the notes' guards), as a restore or a replica would."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = origin")


def set_columns(model, pk: int, **values) -> None:
    """A raw UPDATE past the model's save(), as legacy scripts and restores write."""
    assignments = ", ".join(f'"{column}" = %s' for column in values)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{model._meta.db_table}" SET {assignments} WHERE id = %s',  # noqa: S608 - test helper
            [*values.values(), pk],
        )


@dataclass
class LegacyClinic:
    clinic: Clinic
    provider: Provider
    room: Room
    day: datetime.date
    by_status: dict[str, Appointment] = field(default_factory=dict)
    rebooked: Appointment | None = None
    seed_style: Appointment | None = None
    dirty: dict[str, list[Appointment]] = field(default_factory=dict)

    @property
    def clean(self) -> list[Appointment]:
        return [*self.by_status.values(), self.rebooked, self.seed_style]

    @property
    def dirty_ids(self) -> set[int]:
        return {appointment.pk for rows in self.dirty.values() for appointment in rows}


def book(
    legacy: LegacyClinic, start: datetime.time, provider: Provider | None = None, **extra
) -> Appointment:
    return AppointmentService.book_appointment(
        patient=extra.pop("patient", None) or PatientFactory(tenant=legacy.clinic.tenant),
        provider=provider or legacy.provider,
        clinic=legacy.clinic,
        scheduled_date=extra.pop("day", legacy.day),
        scheduled_time=start,
        duration=extra.pop("duration", 60),
        service_type="Individual Therapy",
        room=extra.pop("room", legacy.room),
        **extra,
    )


def arrive(appointment: Appointment) -> Appointment:
    ConsentFactory(patient=appointment.patient)
    AppointmentService.clear_finance(appointment, user=finance_clerk(appointment.clinic.tenant))
    return AppointmentService.check_in(appointment)


def appointments_in_every_status(legacy: LegacyClinic) -> dict[str, Appointment]:
    """One appointment per legacy status, each reached through AppointmentService, an hour apart."""
    Status = Appointment.Status
    booked = book(legacy, at(8))
    confirmed = AppointmentService.confirm(book(legacy, at(9)))
    arrived = arrive(book(legacy, at(10)))
    in_progress = AppointmentService.start(arrive(book(legacy, at(11))))
    completed = AppointmentService.complete(AppointmentService.start(arrive(book(legacy, at(12)))))
    cancelled = AppointmentService.cancel(book(legacy, at(13)), reason="Family travel")
    no_show = AppointmentService.mark_no_show(AppointmentService.confirm(book(legacy, at(14))))
    return {
        Status.BOOKED: booked,
        Status.CONFIRMED: confirmed,
        Status.ARRIVED: arrived,
        Status.IN_PROGRESS: in_progress,
        Status.COMPLETED: completed,
        Status.CANCELLED: cancelled,
        Status.NO_SHOW: no_show,
    }


def build_legacy_clinic(
    clinic: Clinic, provider: Provider, room: Room, *, dirty: bool = True
) -> LegacyClinic:
    """Appointments in every status a week ago, a rebooked slot, a seed-style one, and dirty rows."""
    legacy = LegacyClinic(
        clinic=clinic, provider=provider, room=room, day=clinic_today() - datetime.timedelta(7)
    )
    legacy.by_status = appointments_in_every_status(legacy)
    # The cancelled 13:00 slot booked again: cancelled bookings never conflict.
    legacy.rebooked = book(legacy, at(13))
    legacy.seed_style = Appointment.objects.create(
        patient=PatientFactory(tenant=clinic.tenant),
        provider=provider,
        clinic=clinic,
        scheduled_date=legacy.day,
        scheduled_time=at(15),
        duration=60,
        service_type="Individual Therapy",
    )
    if dirty:
        legacy.dirty = plant_dirty_appointments(legacy)
    return legacy


def plant_dirty_appointments(legacy: LegacyClinic) -> dict[str, list[Appointment]]:
    """Overlapping provider, room and patient bookings, and a number a participant also carries."""
    for constraint in ("provider", "room", "patient"):
        drop_constraint(Appointment, f"appointment_{constraint}_no_overlap")
    tenant = legacy.clinic.tenant
    other_provider = ProviderFactory(clinic=legacy.clinic)
    third_provider = ProviderFactory(clinic=legacy.clinic)
    other_room = RoomFactory(clinic=legacy.clinic)
    shared_patient = PatientFactory(tenant=tenant)

    def legacy_row(start, provider, room=None, patient=None) -> Appointment:
        return Appointment.objects.create(
            patient=patient or PatientFactory(tenant=tenant),
            provider=provider,
            clinic=legacy.clinic,
            room=room,
            scheduled_date=legacy.day,
            scheduled_time=start,
            duration=60,
            service_type="Individual Therapy",
        )

    provider_pair = [legacy_row(at(16), legacy.provider), legacy_row(at(16, 30), legacy.provider)]
    room_pair = [
        legacy_row(at(17), other_provider, other_room),
        legacy_row(at(17, 30), third_provider, other_room),
    ]
    patient_pair = [
        legacy_row(at(18), other_provider, patient=shared_patient),
        legacy_row(at(18, 30), third_provider, patient=shared_patient),
    ]
    number_taken = legacy_row(at(19), legacy.provider)
    group = SessionService.create_group_session(
        provider=third_provider,
        clinic=legacy.clinic,
        scheduled_date=legacy.day + datetime.timedelta(1),
        scheduled_time=at(9),
        duration=60,
        service_type="Social Skills Group",
        max_capacity=4,
    )
    participant = SessionService.add_patient_to_session(group, PatientFactory(tenant=tenant))
    set_columns(SessionParticipant, participant.pk, appointment_number=number_taken.appointment_number)
    return {
        "provider_overlap": provider_pair,
        "room_overlap": room_pair,
        "patient_overlap": patient_pair,
        "number_in_use": [number_taken],
    }


@dataclass
class LegacyNotes:
    clean: list[ClinicalNote]
    dirty: dict[str, list[ClinicalNote]]


def add_legacy_notes(legacy: LegacyClinic, *, dirty: bool = True) -> LegacyNotes:
    """Notes of all three disciplines on the legacy appointments, as the seed writes them.

    Clean: a signed psychology note and a signed OT note with a target skill, a draft
    ABA note and the seed's own psychology note. Dirty (by default): an OT note about
    another patient than its appointment's, two ABA notes on one appointment, and a
    psychology note already pointing at another session.
    """
    Status = Appointment.Status
    signer = legacy.provider.user

    def note(model, appointment: Appointment, **content) -> ClinicalNote:
        return model.objects.create(
            patient=appointment.patient,
            appointment=appointment,
            session_date=appointment.scheduled_date,
            provider=appointment.provider,
            **content,
        )

    psychology = note(
        PsychologySession,
        legacy.by_status[Status.COMPLETED],
        presenting_issues="Anxiety symptoms",
        interventions_used="CBT techniques",
    )
    NoteService.sign_note(psychology, user=signer)
    ot = note(OTSession, legacy.by_status[Status.IN_PROGRESS], activities="Bead threading")
    OTTargetSkill.objects.create(note=ot, skill="Pincer grasp", rating=6)
    NoteService.sign_note(ot, user=signer)
    aba = note(ABASession, legacy.by_status[Status.ARRIVED], session_summary="Worked on requesting")
    seed = note(PsychologySession, legacy.seed_style, presenting_issues="Anxiety symptoms")
    notes = LegacyNotes(clean=[psychology, ot, aba, seed], dirty={})
    if dirty:
        mismatch = note(OTSession, legacy.by_status[Status.CONFIRMED], activities="Obstacle course")
        set_columns(
            OTSession,
            mismatch.pk,
            patient_id=PatientFactory(tenant=legacy.clinic.tenant).pk,
            version=mismatch.version + 1,  # a change the database takes only as a new version
        )
        twins = [
            note(ABASession, legacy.by_status[Status.BOOKED], session_summary=text) for text in ("A", "B")
        ]
        elsewhere = note(PsychologySession, legacy.rebooked, presenting_issues="Sleep")
        other_session = SessionService.create_group_session(
            provider=legacy.provider,
            clinic=legacy.clinic,
            scheduled_date=legacy.day + datetime.timedelta(2),
            scheduled_time=at(9),
            duration=60,
            service_type="Social Skills Group",
            max_capacity=4,
        )
        set_columns(PsychologySession, elsewhere.pk, session_id=other_session.pk)
        notes.dirty = {
            "note_patient_mismatch": [mismatch],
            "duplicate_note": twins,
            "note_linked_elsewhere": [elsewhere],
        }
    return notes


def legacy_session_of(appointment: Appointment) -> Session:
    return SessionParticipant.objects.get(legacy_appointment=appointment).session
