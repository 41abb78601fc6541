"""SessionService: every state change of a Session or SessionParticipant.

Each method runs in one transaction. Seats are counted only after the session row
is locked, so two front-desk screens can't both take the last seat. Locks go through
``core.locks``, in its order - provider, room, session, participant, patient, then the
number counter - so concurrent bookings queue instead of deadlocking.
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from appointments import booking_rules, free_slots, overlaps, timing, waitlist
from appointments.exceptions import CapacityError, CheckInBlocked, ConflictError, InvalidTransition
from appointments.models import (
    MAX_GROUP_CAPACITY,
    CheckInRefusal,
    Session,
    SessionParticipant,
    SessionSeries,
    WaitlistEntry,
)
from appointments.numbering import issue_appointment_number
from appointments.reminders import outbox
from appointments.selectors import available_group_sessions, refused_for_the_day
from appointments.workflow import copy_state, record_finance_clearance, save_with_history, transition
from core import clock, history_writes, locks
from core.models import Clinic, Patient, Provider, Room, User

ParticipantStatus = SessionParticipant.Status
ACTIVE_BEFORE_ARRIVAL = (ParticipantStatus.BOOKED, ParticipantStatus.CONFIRMED)
CancelledBy = SessionParticipant.CancelledBy
CancelCategory = SessionParticipant.CancelCategory


# The hot row locks, their SQL compiled once per process (core.locks.PreparedRowLock):
# compiling these queries cost a booking or a check-in more than running them.
_lock_session_with_parties = locks.PreparedRowLock(
    lambda: Session.objects.select_related("clinic__tenant", "provider__user", "room")
)
# A booking reads only the clinic and its tenant (scope, number): no other joins.
_lock_session_for_booking = locks.PreparedRowLock(lambda: Session.objects.select_related("clinic__tenant"))
_lock_session_with_clinic = locks.PreparedRowLock(lambda: Session.objects.select_related("clinic"))
_lock_participant_with_patient = locks.PreparedRowLock(
    lambda: SessionParticipant.objects.select_related("patient")
)


def _lock_session(session_id: int) -> Session:
    # Row lock on the session: seat counts and status checks below see every
    # committed booking and no other transaction can add one until we commit.
    return _lock_session_with_parties(session_id)


# What a check-in reads of the session and its clinic (``check_in_participant``, ``try_admit``).
CHECK_IN_SESSION_FIELDS = (
    "status",
    "scheduled_date",
    "clinic",
    "clinic__requires_finance_clearance",
    "clinic__requires_consent",
    "clinic__specialty",
)
# The check-in, the front desk's busiest write, compiles and converts 8 of the 37 columns.
_lock_session_for_check_in = locks.PreparedRowLock(
    lambda: Session.objects.select_related("clinic").only(*CHECK_IN_SESSION_FIELDS)
)


def _lock_participant(
    participant: SessionParticipant,
    lock_session: locks.PreparedRowLock[Session] = _lock_session_with_clinic,
) -> SessionParticipant:
    # Session first, then the participant: core.locks' order. The session row read under its
    # lock (with its clinic, which the gates read) becomes the participant's: no second copy.
    # ``lock_session`` may narrow that read for a caller that reads no more and keeps the
    # session to itself (``_lock_session_for_check_in``).
    session = lock_session(participant.session_id)
    locked = _lock_participant_with_patient(participant.pk)
    if locked.session_id == session.pk:
        locked.session = session
    return locked


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidTransition(_("Give a reason for the cancellation."))
    return reason


def _is_late_cancellation(session: Session, cancelled_by: str) -> bool:
    """A family cancelling closer to the start than the clinic's window: billable to the family.

    The clinic's or a provider's cancellation is never late: the family did nothing wrong.
    """
    if cancelled_by != CancelledBy.FAMILY:
        return False
    starts_at = timezone.make_aware(session.starts_at, timezone.get_default_timezone())
    window = datetime.timedelta(hours=session.clinic.late_cancellation_hours)
    return starts_at - clock.now() < window


def _require_cancellation_kind(cancelled_by: str, category: str) -> None:
    if cancelled_by not in CancelledBy.values:
        raise InvalidTransition(_("Say who cancelled: the family, the clinic or the provider."))
    if category and category not in CancelCategory.values:
        raise InvalidTransition(_("Choose a cancellation category from the list."))


def _seats_taken(session: Session) -> int:
    return waitlist.seats_taken(session)


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
        or end skipped or repeated by a clock change), OutsideOpeningHours (the slot
        doesn't fit inside the clinic's hours that day), HolidayClosed, OutsideWorkingHours
        and ProviderOnLeave (the clinic's holiday, the provider's working hours or leave:
        ``booking_rules.check_availability``) and ConflictError (provider or room already
        booked at that time).
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

        Raises OutOfScope, SlotTimeError, OutsideOpeningHours and ConflictError as ``create_group_session``
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
        booking_rules.check_within_hours(
            clinic, fields["scheduled_date"], fields["scheduled_time"], fields["duration"]
        )
        booking_rules.check_availability(
            clinic, provider, fields["scheduled_date"], fields["scheduled_time"], fields["duration"]
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
        locked = _lock_session_for_booking(session.pk)
        if not locked.is_open:
            raise InvalidTransition(
                _("Patients can only be added to a scheduled or in-progress session; this one is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        booking_rules.validate_patient_scope(patient, locked.clinic)
        # After the session (core.locks' order); offers that ran out pass their seats on first.
        patient = waitlist.lock_patient_for_booking(locked, patient, user=user)
        # Every rule below in one query; the messages' own queries run only when one refuses.
        check = booking_rules.seat_check(locked, patient)
        if check.already_booked:
            raise ConflictError(
                _("%(patient)s is already booked in this session.") % {"patient": patient.full_name}
            )
        if check.seats_taken >= locked.max_capacity:
            raise CapacityError(
                _("Session is full (%(taken)d of %(capacity)d).")
                % {"taken": check.seats_taken, "capacity": locked.max_capacity}
            )
        if check.overlapping:
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
        # The participant and its history row in one statement (core.history_writes).
        return history_writes.insert_with_history(participant, user)

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
            session.participants.filter(patient=patient)
            .exclude(status__in=SessionParticipant.INACTIVE_STATUSES)
            .first()
        )
        if participant is None:
            raise InvalidTransition(
                _("%(patient)s has no active booking in this session.") % {"patient": patient.full_name}
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
    def check_in_participant(participant: SessionParticipant, user: User | None = None) -> SessionParticipant:
        """Booked/confirmed -> arrived, setting ``consent_verified`` from the patient's consents.

        Raises CheckInBlocked when the session is not open, it is before the session's
        day, or the clinic requires finance clearance or a valid consent that is
        missing (every missing item is named); InvalidTransition from other statuses.

        A refusal at a gate (finance or consent) is recorded, one ``CheckInRefusal`` per
        gate with who tried and when, and committed before CheckInBlocked is raised: the
        record is what later tells a child turned away from a no-show, so it must not go
        down with the refused check-in's transaction. The other refusals record nothing.
        """
        with transaction.atomic():
            locked = _lock_participant(participant, _lock_session_for_check_in)
            session = locked.session
            if not session.is_open:
                raise CheckInBlocked(
                    _("Check-in is closed: the session is %(status)s.")
                    % {"status": session.get_status_display().lower()}
                )
            if locked.status == ParticipantStatus.ARRIVED:
                raise InvalidTransition(
                    _("%(patient)s is already checked in.") % {"patient": locked.patient.full_name}
                )
            if locked.status not in ACTIVE_BEFORE_ARRIVAL:
                raise InvalidTransition(
                    _("%(patient)s can't be checked in: the booking is marked %(status)s.")
                    % {"patient": locked.patient.full_name, "status": locked.get_status_display().lower()}
                )
            refusals = booking_rules.try_admit(
                locked,
                clinic=session.clinic,
                day=session.scheduled_date,
                expected=ACTIVE_BEFORE_ARRIVAL,
                arrived=ParticipantStatus.ARRIVED,
                user=user,
            )
            if not refusals:
                return copy_state(participant, locked)
        SessionService._record_refusals(participant, refusals, user)
        raise CheckInBlocked([refusal.message for refusal in refusals])

    @staticmethod
    @transaction.atomic
    def _record_refusals(
        participant: SessionParticipant, refusals: list[booking_rules.GateRefusal], user: User | None
    ) -> None:
        """Write the refused check-in's records in a transaction of their own (see check_in_participant)."""
        # The record's foreign key takes the participant's row: lock it in core.locks' order first.
        locked = _lock_participant(participant)
        refused_at = clock.now()
        for refusal in refusals:
            CheckInRefusal.objects.create(
                participant=locked,
                gate=refusal.gate,
                message=refusal.message,
                refused_at=refused_at,
                refused_by=user,
            )

    @staticmethod
    @transaction.atomic
    def mark_turned_away(participant: SessionParticipant, *, user: User | None = None) -> SessionParticipant:
        """Booked/confirmed -> turned away, freeing the seat: refused at a check-in gate, sent home.

        Only for a child a gate refused for the session's day (``refused_for_the_day``):
        without that record the child is simply not here yet, or a no-show. Raises
        InvalidTransition without such a refusal, once the session is closed, and from
        any other status (a child who arrived was let in after all). The freed seat goes to the
        session's waiting list in the same transaction.
        """
        locked = _lock_participant(participant)
        SessionService._require_open(locked.session)
        if (
            locked.status in ACTIVE_BEFORE_ARRIVAL
            and not refused_for_the_day(locked.session).filter(participant=locked).exists()
        ):
            raise InvalidTransition(
                _(
                    "%(patient)s was not refused at check-in for this session; only a child refused "
                    "at a check-in gate can be marked turned away."
                )
                % {"patient": locked.patient.full_name}
            )
        transition(
            locked,
            allowed_from=ACTIVE_BEFORE_ARRIVAL,
            to=ParticipantStatus.TURNED_AWAY,
            stamp_field="turned_away_at",
            user=user,
        )
        waitlist.fill_freed_seats([locked.session], user=user)
        outbox.void_links(participants=[locked])
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
        """Booked/confirmed -> no-show; the seat stays taken. InvalidTransition otherwise,
        TooEarly before the session's day (the pages also wait for its start time)."""
        locked = _lock_participant(participant)
        timing.refuse_before_the_day(locked.session, clock.today(), timing.Step.NO_SHOW)
        SessionService._require_open(locked.session)
        transition(
            locked,
            allowed_from=ACTIVE_BEFORE_ARRIVAL,
            to=ParticipantStatus.NO_SHOW,
            stamp_field="no_show_at",
            user=user,
            billable=True,  # the family kept the seat and didn't come: finance may bill or waive
        )
        return copy_state(participant, locked)

    @staticmethod
    @transaction.atomic
    def cancel_participant(
        participant: SessionParticipant,
        reason: str,
        user: User | None = None,
        *,
        cancelled_by: str = CancelledBy.CLINIC,
        category: str = "",
    ) -> SessionParticipant:
        """Booked/confirmed -> cancelled, freeing the seat. Needs a reason; InvalidTransition otherwise.

        Records who cancelled (the family, the clinic - the default - or the provider) and
        the category (``SessionParticipant.CancelCategory``, optional). A family's
        cancellation closer to the start than the clinic's ``late_cancellation_hours`` is
        late and billable; the clinic's or the provider's never is. The freed seat goes to the
        session's waiting list in the same transaction (``waitlist.fill_freed_seats``).
        """
        reason = _require_reason(reason)
        _require_cancellation_kind(cancelled_by, category)
        locked = _lock_participant(participant)
        is_late = _is_late_cancellation(locked.session, cancelled_by)
        transition(
            locked,
            allowed_from=ACTIVE_BEFORE_ARRIVAL,
            to=ParticipantStatus.CANCELLED,
            stamp_field="cancelled_at",
            user=user,
            cancel_reason=reason,
            cancelled_by=cancelled_by,
            cancel_category=category,
            is_late_cancellation=is_late,
            billable=is_late,
        )
        waitlist.fill_freed_seats([locked.session], user=user)
        outbox.void_links(participants=[locked])
        return copy_state(participant, locked)

    @staticmethod
    @transaction.atomic
    def waive_billing(participant: SessionParticipant, *, reason: str, user: User) -> SessionParticipant:
        """Finance waives a billable no-show or late cancellation (or one waiting for review).

        The flag goes off and who, when and why are kept on the row (its history keeps it
        billable before). Raises InvalidTransition without a reason, when there is nothing
        billable to waive, or when it was already waived.
        """
        reason = (reason or "").strip()
        if not reason:
            raise InvalidTransition(_("Give a reason for waiving the charge."))
        locked = _lock_participant(participant)
        names = {"patient": locked.patient.full_name, "number": locked.appointment_number}
        if locked.billing_waived_at is not None:
            raise InvalidTransition(_("The charge for %(patient)s (%(number)s) is already waived.") % names)
        if not (locked.billable or locked.billing_review_pending):
            raise InvalidTransition(_("%(patient)s (%(number)s) has no charge to waive.") % names)
        locked.billable = False
        locked.billing_review_pending = False
        locked.billing_waived_by = user
        locked.billing_waived_at = clock.now()
        locked.billing_waived_reason = reason
        save_with_history(
            locked,
            user,
            [
                "billable",
                "billing_review_pending",
                "billing_waived_by",
                "billing_waived_at",
                "billing_waived_reason",
            ],
        )
        return copy_state(participant, locked)

    @staticmethod
    @transaction.atomic
    def confirm_billing(participant: SessionParticipant, *, user: User) -> SessionParticipant:
        """Confirm an auto-closed session's no-show: it becomes billable.

        Nobody saw the child not come when ``close_stale_sessions`` closed the session, so
        a front-desk or finance user confirms it. Raises InvalidTransition when the
        participation is not waiting for that review.
        """
        locked = _lock_participant(participant)
        if not locked.billing_review_pending:
            raise InvalidTransition(
                _("%(patient)s (%(number)s) has no no-show waiting for review.")
                % {"patient": locked.patient.full_name, "number": locked.appointment_number}
            )
        locked.billing_review_pending = False
        locked.billable = True
        save_with_history(locked, user, ["billing_review_pending", "billable"])
        return copy_state(participant, locked)

    @staticmethod
    @transaction.atomic
    def start_session(session: Session, user: User | None = None) -> Session:
        """Scheduled -> in progress. InvalidTransition otherwise, TooEarly before the session's
        day (the pages also keep to the clinic's ``start_lead_minutes`` before its start)."""
        locked = _lock_session(session.pk)
        timing.refuse_before_the_day(locked, clock.today(), timing.Step.START)
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
    def complete_session(session: Session, user: User | None = None, *, auto_closed: bool = False) -> Session:
        """Scheduled/in progress -> completed: arrived become attended, never-arrived no-show,
        except a child a check-in gate refused for the day (``refused_for_the_day``): turned away.

        No-shows are billable. ``auto_closed`` (``manage.py close_stale_sessions``: nobody
        completed it) marks the session so, and its no-shows wait for review instead: nobody
        saw them not come, so a front-desk or finance user confirms before they are billable.

        TooEarly before the session's day; on the day any time (the pages wait for its start).
        """
        locked = _lock_session(session.pk)
        timing.refuse_before_the_day(locked, clock.today(), timing.Step.COMPLETE)
        transition(
            locked,
            allowed_from=Session.OPEN_STATUSES,
            to=Session.Status.COMPLETED,
            stamp_field="completed_at",
            user=user,
            auto_closed=auto_closed,
        )
        refused = set(refused_for_the_day(locked).values_list("participant_id", flat=True))
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
            elif participant.pk in refused:
                transition(
                    participant,
                    allowed_from=ACTIVE_BEFORE_ARRIVAL,
                    to=ParticipantStatus.TURNED_AWAY,
                    stamp_field="turned_away_at",
                    user=user,
                )
            else:
                transition(
                    participant,
                    allowed_from=ACTIVE_BEFORE_ARRIVAL,
                    to=ParticipantStatus.NO_SHOW,
                    stamp_field="no_show_at",
                    user=user,
                    billable=not auto_closed,
                    billing_review_pending=auto_closed,
                )
        return copy_state(session, locked)

    @staticmethod
    @transaction.atomic
    def cancel_session(
        session: Session,
        reason: str,
        user: User | None = None,
        *,
        category: str = CancelCategory.SESSION_CANCELLED,
    ) -> Session:
        """Scheduled/in progress -> cancelled; every participant still expected is cancelled too.

        Each child's cancellation is the clinic's (never late, never billable), with
        ``category`` (default: the whole session was cancelled).
        """
        reason = _require_reason(reason)
        _require_cancellation_kind(CancelledBy.CLINIC, category)
        locked = _lock_session(session.pk)
        transition(
            locked,
            allowed_from=Session.OPEN_STATUSES,
            to=Session.Status.CANCELLED,
            stamp_field="cancelled_at",
            user=user,
            cancel_reason=reason,
        )
        cancelled = locks.lock_rows(
            locked.participants.filter(status__in=[*ACTIVE_BEFORE_ARRIVAL, ParticipantStatus.ARRIVED])
        )
        for participant in cancelled:
            transition(
                participant,
                allowed_from=[*ACTIVE_BEFORE_ARRIVAL, ParticipantStatus.ARRIVED],
                to=ParticipantStatus.CANCELLED,
                stamp_field="cancelled_at",
                user=user,
                cancel_reason=reason,
                cancelled_by=CancelledBy.CLINIC,
                cancel_category=category,
                is_late_cancellation=False,
                billable=False,
            )
        outbox.void_links(participants=cancelled)
        return copy_state(session, locked)

    @staticmethod
    @transaction.atomic
    def change_capacity(session: Session, max_capacity: int, user: User | None = None) -> Session:
        """Set a group session's seats (2-20, never below seats taken, offered ones included).

        Seats added go to the waiting list at once. Raises CapacityError.
        """
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
        raised = max_capacity > locked.max_capacity
        locked.max_capacity = max_capacity
        save_with_history(locked, user, ["max_capacity", "updated_at"])
        if raised:
            waitlist.fill_freed_seats([locked], user=user)
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
    @transaction.atomic
    def reschedule_session(
        session: Session,
        *,
        scheduled_date: datetime.date,
        scheduled_time: datetime.time,
        duration: int | None = None,
        provider: Provider | None = None,
        room: Room | None = None,
        reason: str = "",
        user: User | None = None,
    ) -> Session:
        """Move a scheduled session to a new slot; every participant keeps their seat and number.

        ``duration``, ``provider`` and ``room`` default to the session's own. The old date and
        time stay on the session (``moved_from_date`` / ``moved_from_time``, shown as "moved
        from" until ``mark_families_told``) and in its history, with ``reason`` as the change
        reason.

        Raises InvalidTransition unless the session is scheduled and no child has arrived,
        attended or been marked no-show (attendance recorded at the old time), or when nothing
        changes; OutOfScope and SlotTimeError as for a new booking; ConflictError listing every
        clash of the new slot at once - outside the clinic's opening hours, the clinic's holiday,
        outside the provider's working hours or inside their leave, the provider or room booked,
        each active child booked elsewhere, by name - and when the session was changed by someone
        else after ``session`` was read.
        """
        new_provider = provider if provider is not None else session.provider
        new_room = room if room is not None else session.room
        # core.locks' order: the old and new providers, the old and new rooms, then the session,
        # its participants and their patients. The current provider and room are the caller's
        # reading of the session, checked once it is locked. Holding the old provider and room
        # too makes a booking waiting for the slot this frees find it free once this commits.
        for provider_pk in sorted({session.provider_id, new_provider.pk}):
            locks.lock_row_if_exists(Provider, provider_pk)
        room_pks = {pk for pk in (session.room_id, getattr(new_room, "pk", None)) if pk is not None}
        for room_pk in sorted(room_pks):
            locks.lock_row_if_exists(Room, room_pk)
        locked = _lock_session(session.pk)
        if SessionService._slot(locked) != SessionService._slot(session):
            raise ConflictError(
                _("This session was changed while you were rescheduling it; reload it and try again.")
            )
        if locked.status != Session.Status.SCHEDULED:
            raise InvalidTransition(
                _("Only a scheduled session can be rescheduled; this one is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        participants = locks.lock_rows(
            locked.participants.exclude(status__in=SessionParticipant.INACTIVE_STATUSES).select_related(
                "patient"
            )
        )
        settled = [p.patient.full_name for p in participants if p.status not in ACTIVE_BEFORE_ARRIVAL]
        if settled:
            raise InvalidTransition(
                _("Attendance is already recorded for %(patients)s; a session under way can't be moved.")
                % {"patients": ", ".join(settled)}
            )
        new_duration = duration if duration is not None else locked.duration
        booking_rules.validate_slot_scope(
            provider=new_provider, clinic=locked.clinic, room=new_room, duration=new_duration
        )
        booking_rules.validate_slot_times(
            scheduled_date=scheduled_date, scheduled_time=scheduled_time, duration=new_duration
        )
        new_room_pk = getattr(new_room, "pk", None)
        wanted = (new_provider.pk, new_room_pk, scheduled_date, scheduled_time, new_duration)
        if wanted == SessionService._slot(locked):
            raise InvalidTransition(_("The session is already at that time, with that provider and room."))
        patients = locks.lock_rows(Patient.objects.filter(pk__in=[p.patient_id for p in participants]))
        clashes = booking_rules.slot_clashes(
            clinic=locked.clinic,
            provider=new_provider,
            room=new_room,
            patients=tuple(patients),
            day=scheduled_date,
            start=scheduled_time,
            minutes=new_duration,
            exclude_session=locked,
        )
        if clashes:
            raise ConflictError(clashes)
        locked.moved_from_date, locked.moved_from_time = locked.scheduled_date, locked.scheduled_time
        locked.moved_at, locked.families_told_at = clock.now(), None
        locked.scheduled_date, locked.scheduled_time = scheduled_date, scheduled_time
        locked.duration, locked.provider, locked.room = new_duration, new_provider, new_room
        # simple-history keeps the reason on the version this save writes.
        locked._change_reason = (reason or "").strip()  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                save_with_history(locked, user)
        except IntegrityError as error:
            # The exclusion constraints: a booking the checks above could not see.
            raise ConflictError(
                _("%(provider)s or the room is already booked at that time.") % {"provider": new_provider}
            ) from error
        # The families hear of the move; their earlier links stop working.
        outbox.queue_moved(participants=participants)
        return copy_state(session, locked)

    @staticmethod
    @transaction.atomic
    def mark_families_told(session: Session, *, user: User | None = None) -> Session:
        """Record that the families know where the session moved: the page stops saying "moved from".

        Idempotent (a second click changes nothing); InvalidTransition when the session was
        never moved.
        """
        locked = _lock_session(session.pk)
        if locked.moved_at is None:
            raise InvalidTransition(_("This session was never moved; there is nothing to tell the families."))
        if locked.families_told_at is None:
            locked.families_told_at = clock.now()
            save_with_history(locked, user, ["families_told_at", "updated_at"])
        return copy_state(session, locked)

    @staticmethod
    def _slot(session: Session) -> tuple[Any, ...]:
        """Who, where and when: what a reschedule changes and checks nobody else changed."""
        return (
            session.provider_id,
            session.room_id,
            session.scheduled_date,
            session.scheduled_time,
            session.duration,
        )

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
    def find_free_slots(
        *,
        clinic: Clinic,
        duration: int,
        date_from: datetime.date,
        date_to: datetime.date,
        provider: Provider | None = None,
        specialty: str | None = None,
        room: Room | None = None,
        patients: Iterable[Patient] = (),
        limit: int = 10,
        step_minutes: int = 15,
    ) -> list[datetime.datetime]:
        """Free start times (aware, installation time zone), earliest first: ``free_slots.find_free_slots``.

        Each satisfies every booking rule: opening hours, holidays, working hours, leave, the
        provider, room and patients free, real local times, the same day, not in the past.
        """
        return free_slots.find_free_slots(
            clinic=clinic,
            duration=duration,
            date_from=date_from,
            date_to=date_to,
            provider=provider,
            specialty=specialty,
            room=room,
            patients=patients,
            limit=limit,
            step_minutes=step_minutes,
        )

    # The waiting list (appointments.waitlist holds the rules; these are its entry points).

    @staticmethod
    def add_to_waitlist(session: Session, patient: Patient, user: User | None = None) -> WaitlistEntry:
        """Put ``patient`` last on the waiting list of a full ``session`` (``waitlist.add_to_waitlist``).

        Raises InvalidTransition (closed session), OutOfScope (another organisation's child),
        ConflictError (already booked or waiting there) and CapacityError ("There is a free
        seat: book instead.").
        """
        return waitlist.add_to_waitlist(session, patient, user)

    @staticmethod
    def add_to_series_waitlist(
        series: SessionSeries, patient: Patient, user: User | None = None
    ) -> waitlist.SeriesWaitlist:
        """Put ``patient`` on the waiting list of every remaining full session of ``series``.

        Returns the entries made (a list) with ``free_sessions``: the remaining sessions with a
        free seat, to book instead (``waitlist.add_to_series_waitlist``, which names the refusals).
        """
        return waitlist.add_to_series_waitlist(series, patient, user)

    @staticmethod
    def lock_patient_for_bookings(
        sessions: list[Session], patient: Patient, user: User | None = None
    ) -> Patient:
        """For code booking ``patient`` into several locked ``sessions`` in one transaction (a
        series enrolment): call before the first ``add_patient_to_session``. Passes on the seats
        of lapsed waiting-list offers in all of them, then locks the patient, in core.locks' order
        (``waitlist.lock_patient_for_bookings``)."""
        return waitlist.lock_patient_for_bookings(sessions, patient, user=user)

    @staticmethod
    def accept_waitlist_offer(entry: WaitlistEntry, user: User | None = None) -> SessionParticipant:
        """Book the child of an offered seat, accepted by the front desk for the family.

        Refused when the offer ran out (its seat has passed on), when there is no offer, or
        when the child no longer fits (``waitlist.accept_offer``).
        """
        return waitlist.accept_offer(entry, user)

    @staticmethod
    def withdraw_from_waitlist(
        entry: WaitlistEntry, reason: str = "", user: User | None = None
    ) -> WaitlistEntry:
        """Take the child off the list, ``reason`` in the history; an offered seat passes on."""
        return waitlist.withdraw(entry, reason, user)

    @staticmethod
    def reorder_waitlist(
        entry: WaitlistEntry, *, position: int, reason: str, user: User | None
    ) -> WaitlistEntry:
        """Move a waiting child to ``position`` (1-based), the required ``reason`` kept in the history."""
        return waitlist.reorder(entry, position=position, reason=reason, user=user)

    @staticmethod
    def mark_waitlist_family_told(entry: WaitlistEntry, user: User | None = None) -> WaitlistEntry:
        """Record that the family of a child booked from the list knows (idempotent)."""
        return waitlist.mark_family_told(entry, user)

    @staticmethod
    def expire_waitlist_offers(
        now: datetime.datetime | None = None, *, session: Session | None = None
    ) -> int:
        """Expire the offers that ran out by ``now`` (of ``session`` only, when given); each seat
        passes to the next child who fits. Returns how many expired; idempotent."""
        return waitlist.expire_offers(now, session=session)

    @staticmethod
    def _require_open(session: Session) -> None:
        if not session.is_open:
            raise InvalidTransition(
                _("The session is %(status)s; it can no longer be changed.")
                % {"status": session.get_status_display().lower()}
            )
