"""SessionService: every state change of a Session or SessionParticipant.

Each method runs in one transaction. Seats are counted only after the session row
is locked, so two front-desk screens can't both take the last seat. Locks go through
``core.locks``, in its order - provider, room, session, participant, patient, then the
number counter - so concurrent bookings queue instead of deadlocking.
"""

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from appointments import booking_rules, overlaps
from appointments.exceptions import CapacityError, CheckInBlocked, ConflictError, InvalidTransition
from appointments.models import MAX_GROUP_CAPACITY, Session, SessionParticipant
from appointments.numbering import issue_appointment_number
from appointments.selectors import available_group_sessions
from appointments.workflow import copy_state, record_finance_clearance, save_with_history, transition
from core import locks
from core.models import Clinic, Patient, Provider, Room, User

ParticipantStatus = SessionParticipant.Status
ACTIVE_BEFORE_ARRIVAL = (ParticipantStatus.BOOKED, ParticipantStatus.CONFIRMED)


def _lock_session(session_id: int) -> Session:
    # Row lock on the session: seat counts and status checks below see every
    # committed booking and no other transaction can add one until we commit.
    return locks.lock_row(
        Session.objects.select_related("clinic__tenant", "provider__user", "room"), session_id
    )


def _lock_participant(participant: SessionParticipant) -> SessionParticipant:
    # Session first, then the participant: core.locks' order.
    _lock_session(participant.session_id)
    return locks.lock_row(
        SessionParticipant.objects.select_related("session__clinic", "patient"), participant.pk
    )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidTransition(_("Give a reason for the cancellation."))
    return reason


def _seats_taken(session: Session) -> int:
    return session.participants.exclude(status=ParticipantStatus.CANCELLED).count()


class SessionService:
    """The only writer of sessions, participants, seats and their statuses."""

    @staticmethod
    def create_group_session(
        provider: Provider,
        clinic: Clinic,
        scheduled_date: datetime.date,
        scheduled_time: datetime.time,
        duration: int,
        service_type: str,
        max_capacity: int,
        group_notes: str = "",
        room: Room | None = None,
        user: User | None = None,
    ) -> Session:
        """Create a scheduled GROUP session with 2-20 seats.

        Raises CapacityError (capacity out of range), OutOfScope (provider not in the
        clinic, room of another clinic, duration outside 15-480), SlotTimeError (start
        or end skipped or repeated by a clock change) and ConflictError (provider or
        room already booked at that time).
        """
        if not 2 <= max_capacity <= MAX_GROUP_CAPACITY:
            raise CapacityError(
                _("A group session needs between 2 and %(max)d seats (got %(got)d).")
                % {"max": MAX_GROUP_CAPACITY, "got": max_capacity}
            )
        return SessionService._create_session(
            session_type=Session.SessionType.GROUP,
            provider=provider,
            clinic=clinic,
            room=room,
            scheduled_date=scheduled_date,
            scheduled_time=scheduled_time,
            duration=duration,
            service_type=service_type,
            max_capacity=max_capacity,
            group_notes=group_notes,
            user=user,
        )

    @staticmethod
    @transaction.atomic
    def create_individual_session(
        provider: Provider,
        clinic: Clinic,
        patient: Patient,
        scheduled_date: datetime.date,
        scheduled_time: datetime.time,
        duration: int,
        service_type: str,
        room: Room | None = None,
        user: User | None = None,
    ) -> Session:
        """Create an INDIVIDUAL session (one seat) and book ``patient`` into it.

        Raises OutOfScope, SlotTimeError and ConflictError as ``create_group_session``
        does, and ConflictError when the patient is already booked at that time.
        """
        booking_rules.validate_patient_scope(patient, clinic)
        session = SessionService._create_session(
            session_type=Session.SessionType.INDIVIDUAL,
            provider=provider,
            clinic=clinic,
            room=room,
            scheduled_date=scheduled_date,
            scheduled_time=scheduled_time,
            duration=duration,
            service_type=service_type,
            max_capacity=1,
            group_notes="",
            user=user,
        )
        SessionService.add_patient_to_session(session, patient, user=user)
        return session

    @staticmethod
    @transaction.atomic
    def _create_session(
        *, provider: Provider, clinic: Clinic, room: Room | None, user: User | None, **fields: Any
    ) -> Session:
        booking_rules.validate_slot_scope(
            provider=provider, clinic=clinic, room=room, duration=fields["duration"]
        )
        booking_rules.validate_slot_times(
            scheduled_date=fields["scheduled_date"],
            scheduled_time=fields["scheduled_time"],
            duration=fields["duration"],
        )
        overlaps.lock_parties(provider, [room])
        overlaps.raise_on_conflicts(
            provider=provider,
            room=room,
            day=fields["scheduled_date"],
            start=fields["scheduled_time"],
            minutes=fields["duration"],
        )
        session = Session(provider=provider, clinic=clinic, room=room, created_by=user, **fields)
        try:
            with transaction.atomic():
                save_with_history(session, user)
        except IntegrityError as error:
            raise ConflictError(
                _("%(provider)s or the room is already booked at that time.") % {"provider": provider}
            ) from error
        return session

    @staticmethod
    @transaction.atomic
    def add_patient_to_session(
        session: Session, patient: Patient, user: User | None = None
    ) -> SessionParticipant:
        """Book ``patient`` into ``session`` with a new appointment number.

        Enforces: session open (InvalidTransition), patient of the clinic's tenant
        (OutOfScope), one active participation per patient (ConflictError), seats
        within capacity (CapacityError), and no overlapping booking of the patient
        elsewhere (ConflictError).
        """
        locked = _lock_session(session.pk)
        if not locked.is_open:
            raise InvalidTransition(
                _("Patients can only be added to a scheduled or in-progress session; this one is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        booking_rules.validate_patient_scope(patient, locked.clinic)
        patient = locks.lock_row(Patient, patient.pk)  # after the session: core.locks' order
        if locked.participants.filter(patient=patient).exclude(status=ParticipantStatus.CANCELLED).exists():
            raise ConflictError(
                _("%(patient)s is already booked in this session.") % {"patient": patient.full_name_en}
            )
        taken = _seats_taken(locked)
        if taken >= locked.max_capacity:
            raise CapacityError(
                _("Session is full (%(taken)d of %(capacity)d).")
                % {"taken": taken, "capacity": locked.max_capacity}
            )
        overlaps.raise_on_conflicts(
            patients=(patient,),
            day=locked.scheduled_date,
            start=locked.scheduled_time,
            minutes=locked.duration,
            exclude_session=locked,
        )
        participant = SessionParticipant(
            session=locked,
            patient=patient,
            appointment_number=issue_appointment_number(locked.clinic.tenant),
        )
        save_with_history(participant, user)
        return participant

    @staticmethod
    @transaction.atomic
    def remove_patient_from_session(
        session: Session, patient: Patient, reason: str, user: User | None = None
    ) -> SessionParticipant:
        """Take ``patient`` out of ``session``: their active participation is cancelled.

        The row stays (its appointment number is never reused). Raises
        InvalidTransition when the patient holds no cancellable seat there.
        """
        _lock_session(session.pk)
        participant = (
            session.participants.filter(patient=patient).exclude(status=ParticipantStatus.CANCELLED).first()
        )
        if participant is None:
            raise InvalidTransition(
                _("%(patient)s has no active booking in this session.") % {"patient": patient.full_name_en}
            )
        return SessionService.cancel_participant(participant, reason, user=user)

    @staticmethod
    @transaction.atomic
    def confirm_participant(participant: SessionParticipant, user: User | None = None) -> SessionParticipant:
        """Booked -> confirmed. Raises InvalidTransition from any other status or a closed session."""
        locked = _lock_participant(participant)
        SessionService._require_open(locked.session)
        transition(
            locked,
            allowed_from=[ParticipantStatus.BOOKED],
            to=ParticipantStatus.CONFIRMED,
            stamp_field="confirmed_at",
            user=user,
        )
        return copy_state(participant, locked)

    @staticmethod
    @transaction.atomic
    def clear_finance(participant: SessionParticipant, user: User | None = None) -> SessionParticipant:
        """Record finance clearance (who and when). Idempotent; refused once cancelled or done."""
        locked = _lock_participant(participant)
        if locked.finance_cleared:
            return copy_state(participant, locked)
        if locked.status not in (
            ParticipantStatus.BOOKED,
            ParticipantStatus.CONFIRMED,
            ParticipantStatus.ARRIVED,
        ):
            raise InvalidTransition(
                _("Finance can't clear a participation that is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        record_finance_clearance(locked, user)
        return copy_state(participant, locked)

    @staticmethod
    @transaction.atomic
    def check_in_participant(participant: SessionParticipant, user: User | None = None) -> SessionParticipant:
        """Booked/confirmed -> arrived, setting ``consent_verified`` from the patient's consents.

        Raises CheckInBlocked when the session is not open, it is before the session's
        day, or the clinic requires finance clearance or a valid consent that is
        missing (every missing item is named); InvalidTransition from other statuses.
        """
        locked = _lock_participant(participant)
        session = locked.session
        if not session.is_open:
            raise CheckInBlocked(
                _("Check-in is closed: the session is %(status)s.")
                % {"status": session.get_status_display().lower()}
            )
        if locked.status == ParticipantStatus.ARRIVED:
            raise InvalidTransition(
                _("%(patient)s is already checked in.") % {"patient": locked.patient.full_name_en}
            )
        if locked.status not in ACTIVE_BEFORE_ARRIVAL:
            raise InvalidTransition(
                _("%(patient)s can't be checked in: the booking is marked %(status)s.")
                % {"patient": locked.patient.full_name_en, "status": locked.get_status_display().lower()}
            )
        booking_rules.admit(
            locked,
            clinic=session.clinic,
            day=session.scheduled_date,
            expected=ACTIVE_BEFORE_ARRIVAL,
            arrived=ParticipantStatus.ARRIVED,
            user=user,
        )
        return copy_state(participant, locked)

    @staticmethod
    @transaction.atomic
    def mark_participant_attended(
        participant: SessionParticipant, user: User | None = None
    ) -> SessionParticipant:
        """Arrived -> attended. Raises InvalidTransition otherwise (check in first)."""
        locked = _lock_participant(participant)
        SessionService._require_open(locked.session)
        transition(
            locked,
            allowed_from=[ParticipantStatus.ARRIVED],
            to=ParticipantStatus.ATTENDED,
            stamp_field="attended_at",
            user=user,
        )
        return copy_state(participant, locked)

    @staticmethod
    @transaction.atomic
    def mark_participant_no_show(
        participant: SessionParticipant, user: User | None = None
    ) -> SessionParticipant:
        """Booked/confirmed -> no-show; the seat stays taken. InvalidTransition otherwise."""
        locked = _lock_participant(participant)
        SessionService._require_open(locked.session)
        transition(
            locked,
            allowed_from=ACTIVE_BEFORE_ARRIVAL,
            to=ParticipantStatus.NO_SHOW,
            stamp_field="no_show_at",
            user=user,
        )
        return copy_state(participant, locked)

    @staticmethod
    @transaction.atomic
    def cancel_participant(
        participant: SessionParticipant, reason: str, user: User | None = None
    ) -> SessionParticipant:
        """Booked/confirmed -> cancelled, freeing the seat. Needs a reason; InvalidTransition otherwise."""
        reason = _require_reason(reason)
        locked = _lock_participant(participant)
        transition(
            locked,
            allowed_from=ACTIVE_BEFORE_ARRIVAL,
            to=ParticipantStatus.CANCELLED,
            stamp_field="cancelled_at",
            user=user,
            cancel_reason=reason,
        )
        return copy_state(participant, locked)

    @staticmethod
    @transaction.atomic
    def start_session(session: Session, user: User | None = None) -> Session:
        """Scheduled -> in progress. InvalidTransition otherwise."""
        locked = _lock_session(session.pk)
        transition(
            locked,
            allowed_from=[Session.Status.SCHEDULED],
            to=Session.Status.IN_PROGRESS,
            stamp_field="started_at",
            user=user,
        )
        return copy_state(session, locked)

    @staticmethod
    @transaction.atomic
    def complete_session(session: Session, user: User | None = None) -> Session:
        """Scheduled/in progress -> completed: arrived become attended, never-arrived no-show."""
        locked = _lock_session(session.pk)
        transition(
            locked,
            allowed_from=Session.OPEN_STATUSES,
            to=Session.Status.COMPLETED,
            stamp_field="completed_at",
            user=user,
        )
        for participant in locks.lock_rows(
            locked.participants.filter(status__in=[ParticipantStatus.ARRIVED, *ACTIVE_BEFORE_ARRIVAL])
        ):
            if participant.status == ParticipantStatus.ARRIVED:
                transition(
                    participant,
                    allowed_from=[ParticipantStatus.ARRIVED],
                    to=ParticipantStatus.ATTENDED,
                    stamp_field="attended_at",
                    user=user,
                )
            else:
                transition(
                    participant,
                    allowed_from=ACTIVE_BEFORE_ARRIVAL,
                    to=ParticipantStatus.NO_SHOW,
                    stamp_field="no_show_at",
                    user=user,
                )
        return copy_state(session, locked)

    @staticmethod
    @transaction.atomic
    def cancel_session(session: Session, reason: str, user: User | None = None) -> Session:
        """Scheduled/in progress -> cancelled; every participant still expected is cancelled too."""
        reason = _require_reason(reason)
        locked = _lock_session(session.pk)
        transition(
            locked,
            allowed_from=Session.OPEN_STATUSES,
            to=Session.Status.CANCELLED,
            stamp_field="cancelled_at",
            user=user,
            cancel_reason=reason,
        )
        for participant in locks.lock_rows(
            locked.participants.filter(status__in=[*ACTIVE_BEFORE_ARRIVAL, ParticipantStatus.ARRIVED])
        ):
            transition(
                participant,
                allowed_from=[*ACTIVE_BEFORE_ARRIVAL, ParticipantStatus.ARRIVED],
                to=ParticipantStatus.CANCELLED,
                stamp_field="cancelled_at",
                user=user,
                cancel_reason=reason,
            )
        return copy_state(session, locked)

    @staticmethod
    @transaction.atomic
    def change_capacity(session: Session, max_capacity: int, user: User | None = None) -> Session:
        """Set a group session's seats (2-20, never below seats taken). Raises CapacityError."""
        locked = _lock_session(session.pk)
        SessionService._require_open(locked)
        if not locked.is_group:
            raise CapacityError(_("An individual session always has exactly one seat."))
        if not 2 <= max_capacity <= MAX_GROUP_CAPACITY:
            raise CapacityError(
                _("A group session needs between 2 and %(max)d seats (got %(got)d).")
                % {"max": MAX_GROUP_CAPACITY, "got": max_capacity}
            )
        taken = _seats_taken(locked)
        if max_capacity < taken:
            raise CapacityError(
                _("Capacity can't drop below the %(taken)d seats already taken.") % {"taken": taken}
            )
        locked.max_capacity = max_capacity
        save_with_history(locked, user, ["max_capacity", "updated_at"])
        return copy_state(session, locked)

    @staticmethod
    @transaction.atomic
    def update_group_notes(session: Session, group_notes: str, user: User | None = None) -> Session:
        """Replace the notes shared by every participant of the session."""
        locked = _lock_session(session.pk)
        locked.group_notes = group_notes
        save_with_history(locked, user, ["group_notes", "updated_at"])
        return copy_state(session, locked)

    @staticmethod
    def get_available_group_sessions(
        clinic: Clinic,
        date_from: datetime.date,
        date_to: datetime.date,
        service_type: str | None = None,
    ) -> QuerySet[Session]:
        """Scheduled group sessions of the clinic with free seats, by date and time."""
        return available_group_sessions(clinic, date_from, date_to, service_type)

    @staticmethod
    def _require_open(session: Session) -> None:
        if not session.is_open:
            raise InvalidTransition(
                _("The session is %(status)s; it can no longer be changed.")
                % {"status": session.get_status_display().lower()}
            )
