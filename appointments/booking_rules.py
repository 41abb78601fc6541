"""Rules shared by Session and legacy Appointment bookings: scope, times, opening hours, check-in gates."""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from appointments import overlaps
from appointments.exceptions import (
    CheckInBlocked,
    InvalidTransition,
    OutOfScope,
    OutsideOpeningHours,
    SlotTimeError,
    unavailable,
)
from appointments.models import (
    MAX_DURATION_MINUTES,
    MIN_DURATION_MINUTES,
    Appointment,
    CheckInRefusal,
    Session,
    SessionParticipant,
    WaitlistEntry,
)
from core import availability, clock, history_writes, opening_hours
from core.models import Clinic, Consent, Patient, Provider, Room, User
from core.prepared import PreparedQuery


def validate_slot_scope(
    *, provider: Provider, clinic: Clinic, room: Room | None, duration: int, patient: Patient | None = None
) -> None:
    """Raise OutOfScope unless provider, room and patient belong to the clinic and its tenant."""
    validate_duration(duration)
    if not provider.is_active or not provider.clinics.filter(pk=clinic.pk).exists():
        raise OutOfScope(
            _("%(provider)s does not work in %(clinic)s.") % {"provider": provider, "clinic": clinic}
        )
    validate_room_scope(room, clinic)
    if patient is not None:
        validate_patient_scope(patient, clinic)


def validate_room_scope(room: Room | None, clinic: Clinic) -> None:
    """Raise OutOfScope for a room of another clinic."""
    if room is not None and room.clinic_id != clinic.pk:
        raise OutOfScope(
            _("Room %(room)s is not in %(clinic)s.") % {"room": room.display_name, "clinic": clinic}
        )


def validate_duration(duration: int) -> None:
    """Raise OutOfScope unless a booking may last ``duration`` minutes."""
    if not MIN_DURATION_MINUTES <= duration <= MAX_DURATION_MINUTES:
        raise OutOfScope(
            _("Duration must be between %(min)d and %(max)d minutes (got %(got)d).")
            % {"min": MIN_DURATION_MINUTES, "max": MAX_DURATION_MINUTES, "got": duration}
        )


# The latest moment a slot may end: a day short of the last one Python's calendar holds,
# so the slot's end converts to UTC from any time zone.
LATEST_SLOT_END = datetime.datetime.combine(datetime.date.max - datetime.timedelta(days=1), datetime.time())


def validate_slot_times(
    *, scheduled_date: datetime.date, scheduled_time: datetime.time, duration: int
) -> None:
    """Raise SlotTimeError unless the slot's start and end are each one real local time.

    Times are wall-clock times in the installation's time zone (``TIME_ZONE``). On the
    night the clocks go forward, a time in the skipped hour doesn't exist; on the night
    they go back, a time in the repeated hour happens twice: a booking starting or
    ending at either would mean different moments to different people. The end is the
    start plus ``duration`` minutes on the clock, as the slot range in the database
    (``time_slots.SlotRange``) counts it.
    """
    start = datetime.datetime.combine(scheduled_date, scheduled_time)
    if start > LATEST_SLOT_END - datetime.timedelta(minutes=duration):
        raise SlotTimeError(
            _("A slot can't end after %(day)s.") % {"day": date_format(LATEST_SLOT_END, "SHORT_DATE_FORMAT")}
        )
    zone = timezone.get_default_timezone()
    messages = {
        ("start", "missing"): _(
            "%(time)s on %(day)s doesn't exist in %(zone)s: the clocks go forward that night. "
            "Choose another start time."
        ),
        ("start", "twice"): _(
            "%(time)s on %(day)s happens twice in %(zone)s: the clocks go back that night. "
            "Choose another start time."
        ),
        ("end", "missing"): _(
            "The slot would end at %(time)s on %(day)s, which doesn't exist in %(zone)s: the clocks "
            "go forward that night. Choose another start time or duration."
        ),
        ("end", "twice"): _(
            "The slot would end at %(time)s on %(day)s, which happens twice in %(zone)s: the clocks "
            "go back that night. Choose another start time or duration."
        ),
    }
    for edge, moment in (("start", start), ("end", start + datetime.timedelta(minutes=duration))):
        problem = local_time_problem(moment, zone)
        if problem is not None:
            raise SlotTimeError(
                messages[edge, problem]
                % {
                    "time": time_format(moment.time(), "H:i"),
                    "day": date_format(moment.date(), "SHORT_DATE_FORMAT"),
                    "zone": str(zone),
                }
            )


def local_time_problem(moment: datetime.datetime, zone: datetime.tzinfo) -> str | None:
    """Whether the naive local ``moment`` is skipped ("missing") or repeated ("twice") in ``zone``.

    Skipped: it doesn't survive a round trip through UTC. Repeated: its first and second
    occurrence (``fold`` 0 and 1) have different UTC offsets. None when it is one clear time.
    """
    first, second = moment.replace(tzinfo=zone, fold=0), moment.replace(tzinfo=zone, fold=1)
    if first.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) != moment:
        return "missing"
    if first.utcoffset() != second.utcoffset():
        return "twice"
    return None


def check_within_hours(
    clinic: Clinic, day: datetime.date, start_time: datetime.time, duration_minutes: int
) -> None:
    """Raise OutsideOpeningHours unless the slot fits inside one of the clinic's intervals on ``day``.

    The message names the day's hours (or that the clinic is closed, and why), so the
    front desk can pick a time that fits. A clinic with no hours set refuses nothing
    (``core.opening_hours``). Services call it for every new or moved slot, past dates
    included: recording a visit after the fact still happened inside the hours.
    """
    message = opening_hours.outside_hours_message(clinic, day, start_time, duration_minutes)
    if message is not None:
        raise OutsideOpeningHours(message)


def check_availability(
    clinic: Clinic, provider: Provider, day: datetime.date, start: datetime.time, minutes: int
) -> None:
    """Raise unless the clinic is open and the provider available for the slot on ``day``.

    The clinic's holiday (HolidayClosed), the provider's working hours (OutsideWorkingHours)
    and leave (ProviderOnLeave), from ``core.availability``: the error is the first rule's,
    carrying every message, so the front desk sees all that stands in the way at once.
    Where none are set nothing is refused. Services call it with ``check_within_hours``
    for every new or moved slot, past dates included.
    """
    refusals = availability.availability_refusals(
        clinic=clinic, provider=provider, day=day, start=start, minutes=minutes
    )
    if refusals:
        raise unavailable(refusals)


def validate_patient_scope(patient: Patient, clinic: Clinic) -> None:
    if patient.tenant_id != clinic.tenant_id:
        raise OutOfScope(
            _("%(patient)s is registered with another organisation and can't be booked here.")
            % {"patient": patient.full_name}
        )


@dataclass(frozen=True)
class SeatCheck:
    """What decides whether a patient may take a seat in a locked session."""

    already_booked: bool  # an active participation in this session
    seats_taken: int  # as ``waitlist.seats_taken``: active participants and offered seats
    overlapping: bool  # an active booking elsewhere overlapping the session (``overlaps``)


SEAT_CHECK_SQL = f"""
SELECT
    EXISTS (SELECT 1 FROM {SessionParticipant._meta.db_table}
            WHERE session_id = %(session)s AND patient_id = %(patient)s AND status <> ALL(%(inactive)s)),
    (SELECT count(*) FROM {SessionParticipant._meta.db_table}
     WHERE session_id = %(session)s AND status <> ALL(%(inactive)s))
    + (SELECT count(*) FROM {WaitlistEntry._meta.db_table}
       WHERE session_id = %(session)s AND status = %(offered)s),
    {overlaps.PATIENT_OVERLAP_SQL}
"""  # noqa: S608 - model table names, values as parameters


def seat_check(session: Session, patient: Patient) -> SeatCheck:
    """The duplicate, capacity and overlap rules of booking ``patient`` into ``session``, in one query.

    A booking's hot path: the caller holds the session's and the patient's locks, raises
    with the messages of the usual functions when a rule refuses, and so queries further
    only then.
    """
    params = overlaps.patient_overlap_params(
        patient=patient,
        day=session.scheduled_date,
        start=session.scheduled_time,
        minutes=session.duration,
        exclude_session=session,
    )
    params["offered"] = WaitlistEntry.Status.OFFERED
    with connection.cursor() as cursor:
        cursor.execute(SEAT_CHECK_SQL, params)
        already_booked, seats_taken, overlapping = cursor.fetchone()
    return SeatCheck(already_booked, seats_taken, overlapping)


# A check-in reads the patient's consents: its SQL compiled once per process (core.prepared).
_consents_of_patient = PreparedQuery(lambda patient_id: Consent.objects.filter(patient_id=patient_id))


def _consents(patient: Patient) -> list[Consent]:
    if "consents" in getattr(patient, "_prefetched_objects_cache", {}):
        return list(patient.consents.all())
    return _consents_of_patient.rows(patient.pk)


def consent_problem(patient: Patient, clinic: Clinic, day: datetime.date) -> str | None:
    """Why the patient has no consent valid on ``day`` for this clinic, or None if one is.

    The reason given is the one of the most recently signed covering consent, which
    is the one staff will look for on file.
    """
    covering = sorted(
        (consent for consent in _consents(patient) if consent.covers(clinic.specialty)),
        key=lambda consent: consent.signed_at,
        reverse=True,
    )
    if any(consent.is_valid_on(day) for consent in covering):
        return None
    name = patient.full_name
    if not covering:
        return _("No valid consent on file for %(patient)s.") % {"patient": name}
    latest = covering[0]
    if latest.revoked_at is not None and clock.local_day(latest.revoked_at) <= day:
        return _("The consent of %(patient)s was revoked on %(day)s.") % {
            "patient": name,
            "day": date_format(clock.local_day(latest.revoked_at), "SHORT_DATE_FORMAT"),
        }
    if latest.expires_at is not None and clock.local_day(latest.expires_at) < day:
        return _("The consent of %(patient)s expired on %(day)s.") % {
            "patient": name,
            "day": date_format(clock.local_day(latest.expires_at), "SHORT_DATE_FORMAT"),
        }
    return _("No valid consent on file for %(patient)s on %(day)s.") % {
        "patient": name,
        "day": date_format(day, "SHORT_DATE_FORMAT"),
    }


@dataclass(frozen=True)
class GateRefusal:
    """One check-in gate that refused: which (``CheckInRefusal.Gate``) and what staff are told."""

    gate: str
    message: str


def gate_refusals(
    *, patient: Patient, clinic: Clinic, day: datetime.date, finance_cleared: bool
) -> tuple[bool, list[GateRefusal]]:
    """(consent valid, the gates that refuse) for checking a patient in on ``day``."""
    refusals: list[GateRefusal] = []
    if clinic.requires_finance_clearance and not finance_cleared:
        refusals.append(
            GateRefusal(
                CheckInRefusal.Gate.FINANCE,
                _("Finance clearance is missing for %(patient)s: ask finance to clear the visit.")
                % {"patient": patient.full_name},
            )
        )
    problem = consent_problem(patient, clinic, day)
    if clinic.requires_consent and problem:
        refusals.append(GateRefusal(CheckInRefusal.Gate.CONSENT, problem))
    return problem is None, refusals


def raise_unless_checkin_day(day: datetime.date, today: datetime.date) -> None:
    if today < day:
        raise CheckInBlocked(
            _("Check-in opens on the day of the visit (%(day)s).")
            % {"day": date_format(day, "SHORT_DATE_FORMAT")}
        )


def try_admit(
    booking: SessionParticipant | Appointment,
    *,
    clinic: Clinic,
    day: datetime.date,
    expected: tuple[str, ...],
    arrived: str,
    user: User | None,
) -> list[GateRefusal]:
    """Check a locked participant or appointment in unless a gate refuses: the refusals, or [].

    With no refusal the booking is arrived, recording whether a valid consent was on
    file (``consent_verified``) even where the clinic doesn't require one; with
    refusals nothing is written, so the caller decides what outlives them. Raises
    CheckInBlocked before ``day``: check-in isn't open yet, which is no gate's refusal.
    """
    raise_unless_checkin_day(day, clock.today())
    consent_valid, refusals = gate_refusals(
        patient=booking.patient, clinic=clinic, day=day, finance_cleared=booking.finance_cleared
    )
    if refusals:
        return refusals
    if booking.status not in expected:  # the callers refuse it first, in their own words
        raise InvalidTransition(
            _("Can't change this %(what)s from %(current)s to %(target)s.")
            % {
                "what": booking._meta.verbose_name,
                "current": booking.get_status_display().lower(),
                "target": type(booking).Status(arrived).label.lower(),
            }
        )
    now = clock.now()
    booking.status = arrived
    booking.arrived_at = now
    booking.consent_verified = consent_valid
    booking.consent_verified_at = now if consent_valid else None
    fields = ["status", "arrived_at", "consent_verified", "consent_verified_at"]
    if any(field.name == "updated_at" for field in booking._meta.concrete_fields):
        fields.append("updated_at")
    # The check-in is the front desk's busiest write: the update and its history row in one
    # statement, without simple-history's Python (core.history_writes).
    history_writes.update_with_history(booking, fields, user)
    return []


def admit(
    booking: SessionParticipant | Appointment,
    *,
    clinic: Clinic,
    day: datetime.date,
    expected: tuple[str, ...],
    arrived: str,
    user: User | None,
) -> None:
    """Check a locked participant or appointment in: day, finance and consent gates, then arrived.

    Raises CheckInBlocked naming every missing item (``try_admit``).
    """
    refusals = try_admit(booking, clinic=clinic, day=day, expected=expected, arrived=arrived, user=user)
    if refusals:
        raise CheckInBlocked([refusal.message for refusal in refusals])


def slot_clashes(
    *,
    clinic: Clinic,
    provider: Provider,
    room: Room | None,
    patients: tuple[Patient, ...],
    day: datetime.date,
    start: datetime.time,
    minutes: int,
    exclude_session: Session | None = None,
    exclude_appointment: Appointment | None = None,
) -> list[str]:
    """Every reason a booking can't move to this slot, all at once: [] when it can.

    A reschedule is refused with the whole list, so the front desk sees in one go that the
    clinic is closed then, the room is taken and which children are booked elsewhere,
    instead of fixing one clash only to meet the next. Opening hours come first, then the
    clinic's holiday, the provider's working hours and leave (``core.availability``), then
    ``overlaps.find_conflicts`` (the provider, the room, each patient's sessions and legacy
    appointments). The caller holds the locks that keep the answer true until it commits.
    """
    clashes: list[str] = []
    try:
        check_within_hours(clinic, day, start, minutes)
    except OutsideOpeningHours as outside:
        clashes.extend(outside.messages)
    clashes.extend(
        availability.availability_problems(
            clinic=clinic, provider=provider, day=day, start=start, minutes=minutes
        )
    )
    clashes.extend(
        overlaps.find_conflicts(
            provider=provider,
            room=room,
            patients=patients,
            day=day,
            start=start,
            minutes=minutes,
            exclude_session=exclude_session,
            exclude_appointment=exclude_appointment,
        )
    )
    return clashes
