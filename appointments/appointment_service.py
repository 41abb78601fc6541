"""AppointmentService: the legacy individual-booking workflow.

book -> confirm -> check in (arrive) -> start -> complete, with cancel, no-show and
reschedule. Same rules as sessions: scope, no double booking, finance and consent
gates at check-in; numbers from the shared per-tenant counter. Locks go through
``core.locks``, in its order: provider, room(s), the appointment, patient, counter.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from appointments import booking_rules, overlaps
from appointments.exceptions import ConflictError, InvalidTransition
from appointments.models import Appointment
from appointments.reminders import outbox
from appointments.workflow import copy_state, record_finance_clearance, save_with_history, transition
from core import locks
from core.models import Clinic, Patient, Provider, Room, User

AppointmentStatus = Appointment.Status
EXPECTED = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)


def _lock(appointment: Appointment) -> Appointment:
    # Row lock: two clicks on the same button apply the transition once.
    return locks.lock_row(
        Appointment.objects.select_related("clinic__tenant", "patient", "provider__user", "room"),
        appointment.pk,
    )


def _save_slot(appointment: Appointment, user: User | None, fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            save_with_history(appointment, user, fields)
    except IntegrityError as error:
        raise ConflictError(_("The provider, room or patient is already booked at that time.")) from error


def _slot(appointment: Appointment) -> tuple[object, ...]:
    """Who, where and when: what a reschedule changes and checks nobody else changed."""
    return (
        appointment.provider_id,
        appointment.room_id,
        appointment.scheduled_date,
        appointment.scheduled_time,
        appointment.duration,
    )


class AppointmentService:
    """The only writer of legacy appointment statuses."""

    @staticmethod
    @transaction.atomic
    def book_appointment(
        patient: Patient,
        provider: Provider,
        clinic: Clinic,
        scheduled_date: datetime.date,
        scheduled_time: datetime.time,
        duration: int,
        service_type: str,
        room: Room | None = None,
        notes: str = "",
        user: User | None = None,
    ) -> Appointment:
        """Book an appointment with a new number.

        Raises OutOfScope, SlotTimeError, OutsideOpeningHours (outside the clinic's hours
        that day), HolidayClosed, OutsideWorkingHours, ProviderOnLeave
        (``booking_rules.check_availability``) or ConflictError.
        """
        booking_rules.validate_slot_scope(
            provider=provider, clinic=clinic, room=room, duration=duration, patient=patient
        )
        booking_rules.validate_slot_times(
            scheduled_date=scheduled_date, scheduled_time=scheduled_time, duration=duration
        )
        booking_rules.check_within_hours(clinic, scheduled_date, scheduled_time, duration)
        booking_rules.check_availability(clinic, provider, scheduled_date, scheduled_time, duration)
        overlaps.lock_parties(provider, [room], [patient])
        overlaps.raise_on_conflicts(
            provider=provider,
            room=room,
            patients=(patient,),
            day=scheduled_date,
            start=scheduled_time,
            minutes=duration,
        )
        appointment = Appointment(
            patient=patient,
            provider=provider,
            clinic=clinic,
            room=room,
            scheduled_date=scheduled_date,
            scheduled_time=scheduled_time,
            duration=duration,
            service_type=service_type,
            notes=notes,
            created_by=user,
        )
        _save_slot(appointment, user)
        return appointment

    @staticmethod
    @transaction.atomic
    def confirm(appointment: Appointment, user: User | None = None) -> Appointment:
        locked = _lock(appointment)
        transition(
            locked,
            allowed_from=[AppointmentStatus.BOOKED],
            to=AppointmentStatus.CONFIRMED,
            stamp_field="confirmed_at",
            user=user,
        )
        return copy_state(appointment, locked)

    @staticmethod
    @transaction.atomic
    def clear_finance(appointment: Appointment, user: User | None = None) -> Appointment:
        """Record finance clearance (idempotent). InvalidTransition once cancelled or done."""
        locked = _lock(appointment)
        if locked.finance_cleared:
            return copy_state(appointment, locked)
        if locked.status not in (*EXPECTED, AppointmentStatus.ARRIVED):
            raise InvalidTransition(
                _("Finance can't clear an appointment that is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        record_finance_clearance(locked, user)
        return copy_state(appointment, locked)

    @staticmethod
    @transaction.atomic
    def check_in(appointment: Appointment, user: User | None = None) -> Appointment:
        """Booked/confirmed -> arrived, behind the clinic's finance and consent gates."""
        locked = _lock(appointment)
        if locked.status in (AppointmentStatus.ARRIVED, AppointmentStatus.IN_PROGRESS):
            raise InvalidTransition(
                _("%(patient)s is already checked in.") % {"patient": locked.patient.full_name}
            )
        if locked.status not in EXPECTED:
            raise InvalidTransition(
                _("%(patient)s can't be checked in: the appointment is marked %(status)s.")
                % {"patient": locked.patient.full_name, "status": locked.get_status_display().lower()}
            )
        booking_rules.admit(
            locked,
            clinic=locked.clinic,
            day=locked.scheduled_date,
            expected=EXPECTED,
            arrived=AppointmentStatus.ARRIVED,
            user=user,
        )
        return copy_state(appointment, locked)

    @staticmethod
    @transaction.atomic
    def start(appointment: Appointment, user: User | None = None) -> Appointment:
        locked = _lock(appointment)
        transition(
            locked,
            allowed_from=[AppointmentStatus.ARRIVED],
            to=AppointmentStatus.IN_PROGRESS,
            stamp_field="started_at",
            user=user,
        )
        return copy_state(appointment, locked)

    @staticmethod
    @transaction.atomic
    def complete(appointment: Appointment, user: User | None = None) -> Appointment:
        locked = _lock(appointment)
        transition(
            locked,
            allowed_from=[AppointmentStatus.ARRIVED, AppointmentStatus.IN_PROGRESS],
            to=AppointmentStatus.COMPLETED,
            stamp_field="completed_at",
            user=user,
        )
        return copy_state(appointment, locked)

    @staticmethod
    @transaction.atomic
    def cancel(appointment: Appointment, reason: str, user: User | None = None) -> Appointment:
        reason = (reason or "").strip()
        if not reason:
            raise InvalidTransition(_("Give a reason for the cancellation."))
        locked = _lock(appointment)
        transition(
            locked,
            allowed_from=EXPECTED,
            to=AppointmentStatus.CANCELLED,
            stamp_field="cancelled_at",
            user=user,
            cancel_reason=reason,
        )
        outbox.void_links(appointments=[locked])
        return copy_state(appointment, locked)

    @staticmethod
    @transaction.atomic
    def mark_no_show(appointment: Appointment, user: User | None = None) -> Appointment:
        locked = _lock(appointment)
        transition(
            locked, allowed_from=EXPECTED, to=AppointmentStatus.NO_SHOW, stamp_field="no_show_at", user=user
        )
        return copy_state(appointment, locked)

    @staticmethod
    @transaction.atomic
    def reschedule(
        appointment: Appointment,
        scheduled_date: datetime.date,
        scheduled_time: datetime.time,
        room: Room | None = None,
        duration: int | None = None,
        user: User | None = None,
        provider: Provider | None = None,
    ) -> Appointment:
        """Move a booked/confirmed appointment; it keeps its number and needs confirming again.

        ``provider`` (default: the appointment's own) moves it to another provider too.

        The new slot is checked like a new booking (OutOfScope, SlotTimeError) and, as a
        session's reschedule, refused with every clash listed at once (ConflictError): outside
        the clinic's opening hours, the provider, room or patient booked - sessions included.
        The old slot is freed. ConflictError too when someone else changed the appointment
        after ``appointment`` was read.
        """
        # core.locks' order, as SessionService.reschedule_session: the providers and the rooms
        # (old and new) before the appointment, its patient after it. The current provider and
        # room are the caller's reading of the appointment, checked once it is locked. Locking
        # the old room too makes a booking waiting for the slot this frees find it free once
        # this commits.
        new_room = room if room is not None else appointment.room
        new_provider = provider if provider is not None else appointment.provider
        for provider_pk in sorted({appointment.provider_id, new_provider.pk}):
            locks.lock_row_if_exists(Provider, provider_pk)
        overlaps.lock_parties(new_provider, [appointment.room, new_room])
        locked = _lock(appointment)
        if _slot(locked) != _slot(appointment):
            raise ConflictError(
                _("This appointment was changed while you were rescheduling it; reload it and try again.")
            )
        if locked.status not in EXPECTED:
            raise InvalidTransition(
                _("Only a booked or confirmed appointment can be rescheduled; this one is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        new_duration = duration if duration is not None else locked.duration
        booking_rules.validate_slot_scope(
            provider=new_provider, clinic=locked.clinic, room=new_room, duration=new_duration
        )
        booking_rules.validate_slot_times(
            scheduled_date=scheduled_date, scheduled_time=scheduled_time, duration=new_duration
        )
        locks.lock_row_if_exists(Patient, locked.patient_id)
        clashes = booking_rules.slot_clashes(
            clinic=locked.clinic,
            provider=new_provider,
            room=new_room,
            patients=(locked.patient,),
            day=scheduled_date,
            start=scheduled_time,
            minutes=new_duration,
            exclude_appointment=locked,
        )
        if clashes:
            raise ConflictError(clashes)
        locked.scheduled_date = scheduled_date
        locked.scheduled_time = scheduled_time
        locked.room = new_room
        locked.provider = new_provider
        locked.duration = new_duration
        locked.status = AppointmentStatus.BOOKED
        locked.confirmed_at = None
        locked.reschedule_count += 1
        _save_slot(locked, user)
        outbox.queue_moved(appointments=[locked])
        return copy_state(appointment, locked)
