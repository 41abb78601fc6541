"""Overlap rules for bookings: the model layer's share of invariant 5.

The seed books legacy appointments with ``Appointment.objects.create(...)``, so
``Appointment.save()`` must refuse an overlap with a session itself; this module is
what the model layer may call for that (it imports only models and lower modules).
Services use the same functions for their friendly messages before PostgreSQL's
exclusion constraints would refuse the row.
"""

import datetime
from collections.abc import Iterable
from typing import Any, cast

from django.db.models import DateField, IntegerField, Q, QuerySet, TimeField, Value
from django.db.models.functions import Cast
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from appointments.exceptions import ConflictError
from appointments.models import Appointment, Session, SessionParticipant
from appointments.time_slots import SlotRange
from core import locks
from core.models import Patient, Provider, Room


def _slot_label(slot: Session | Appointment) -> str:
    day = date_format(slot.scheduled_date, "SHORT_DATE_FORMAT")
    return f"{day} {time_format(slot.scheduled_time, 'H:i')}-{time_format(slot.end_time, 'H:i')}"


def _overlapping(queryset: QuerySet, day: datetime.date, start: datetime.time, minutes: int) -> QuerySet:
    wanted = SlotRange(
        Cast(Value(day), DateField()), Cast(Value(start), TimeField()), Cast(Value(minutes), IntegerField())
    )
    # A booking lasts at most 480 minutes, so only the day before and the day after
    # can reach into this slot (a late session runs past midnight); the date filter
    # keeps the index on scheduled_date useful.
    nearby_days = (day - datetime.timedelta(days=1), day + datetime.timedelta(days=1))
    return (
        queryset.filter(scheduled_date__range=nearby_days)
        .alias(slot=SlotRange())
        .filter(slot__overlap=wanted)
    )


def _slot_sql(day: str, start: str, minutes: str) -> str:
    """``time_slots.SlotRange`` as SQL, from the SQL of its date, start time and minutes."""
    begins = f"({day} + {start})"
    return f"tsrange({begins}, {begins} + make_interval(mins => {minutes}), '[)')"


_WANTED_SLOT = _slot_sql("%(day)s::date", "%(start)s::time", "%(minutes)s")

# ``find_conflicts`` for one patient as one boolean, for the hot path of a booking, which
# asks it in the statement that reads its seats: building the ORM form costs more than
# the query. The same rows (kept equal by the booking tests): the patient's active
# participations in other sessions that aren't cancelled, and their active legacy
# appointments but the ones back-filled into the excluded session, each overlapping the
# slot. Parameters: patient, session (excluded), day, start, minutes, before, after.
PATIENT_OVERLAP_SQL = f"""
EXISTS (
    SELECT 1 FROM {SessionParticipant._meta.db_table} other
    JOIN {Session._meta.db_table} slot ON slot.id = other.session_id
    WHERE other.patient_id = %(patient)s AND other.status <> ALL(%(inactive)s)
      AND slot.status <> %(session_cancelled)s AND slot.id <> %(session)s
      AND slot.scheduled_date BETWEEN %(before)s AND %(after)s
      AND {_slot_sql("slot.scheduled_date", "slot.scheduled_time", "slot.duration")} && {_WANTED_SLOT}
) OR EXISTS (
    SELECT 1 FROM {Appointment._meta.db_table} legacy
    WHERE legacy.patient_id = %(patient)s AND legacy.status <> %(appointment_cancelled)s
      AND legacy.scheduled_date BETWEEN %(before)s AND %(after)s
      AND {_slot_sql("legacy.scheduled_date", "legacy.scheduled_time", "legacy.duration")} && {_WANTED_SLOT}
      AND NOT EXISTS (
          SELECT 1 FROM {SessionParticipant._meta.db_table} own
          WHERE own.legacy_appointment_id = legacy.id AND own.session_id = %(session)s)
)
"""  # noqa: S608 - model table names, values as parameters


def patient_overlap_params(
    *, patient: Patient, day: datetime.date, start: datetime.time, minutes: int, exclude_session: Session
) -> dict[str, Any]:
    """The parameters of ``PATIENT_OVERLAP_SQL``."""
    return {
        "patient": patient.pk,
        "session": exclude_session.pk,
        "day": day,
        "start": start,
        "minutes": minutes,
        # A booking lasts at most 480 minutes: see _overlapping.
        "before": day - datetime.timedelta(days=1),
        "after": day + datetime.timedelta(days=1),
        "inactive": list(SessionParticipant.INACTIVE_STATUSES),
        "session_cancelled": Session.Status.CANCELLED,
        "appointment_cancelled": Appointment.Status.CANCELLED,
    }


def find_conflicts(
    *,
    provider: Provider | None = None,
    room: Room | None = None,
    patients: tuple[Patient, ...] = (),
    day: datetime.date,
    start: datetime.time,
    minutes: int,
    exclude_session: Session | None = None,
    exclude_appointment: Appointment | None = None,
    include_appointments: bool = True,
) -> list[str]:
    """Messages for every active booking of the provider, room or patients that overlaps.

    A back-filled participant and its own legacy appointment are one booking, so
    the legacy appointment of an excluded session's participants is excluded too.
    ``include_appointments=False`` looks at sessions only.
    """
    sessions = Session.objects.exclude(status=Session.Status.CANCELLED)
    appointments = Appointment.objects.exclude(status=Appointment.Status.CANCELLED)
    if not include_appointments:
        appointments = appointments.none()
    participants = SessionParticipant.objects.exclude(
        status__in=SessionParticipant.INACTIVE_STATUSES
    ).exclude(session__status=Session.Status.CANCELLED)
    if exclude_session is not None and exclude_session.pk:
        sessions = sessions.exclude(pk=exclude_session.pk)
        participants = participants.exclude(session=exclude_session)
        appointments = appointments.exclude(session_participant__session=exclude_session)
    if exclude_appointment is not None and exclude_appointment.pk:
        appointments = appointments.exclude(pk=exclude_appointment.pk)
        sessions = sessions.exclude(participants__legacy_appointment=exclude_appointment)
        participants = participants.exclude(legacy_appointment=exclude_appointment)

    messages: list[str] = []
    who_or_where = Q(pk__in=[])
    if provider is not None:
        who_or_where |= Q(provider=provider)
    if room is not None:
        who_or_where |= Q(room=room)
    for bookings in (sessions, appointments):
        overlapping = _overlapping(bookings.filter(who_or_where), day, start, minutes)
        for booking in overlapping.select_related("provider__user", "room"):
            messages.append(_conflict_message(booking, provider))
    if patients:
        patient_sessions = participants.filter(patient__in=patients).select_related("session", "patient")
        overlapping_ids = _overlapping(
            Session.objects.filter(pk__in=patient_sessions.values("session_id")), day, start, minutes
        ).values("pk")
        for participation in patient_sessions.filter(session_id__in=overlapping_ids):
            messages.append(
                _("%(patient)s is already booked %(slot)s.")
                % {"patient": participation.patient.full_name, "slot": _slot_label(participation.session)}
            )
        for booking in _overlapping(
            appointments.filter(patient__in=patients), day, start, minutes
        ).select_related("patient"):
            messages.append(
                _("%(patient)s already has appointment %(number)s %(slot)s.")
                % {
                    "patient": booking.patient.full_name,
                    "number": booking.appointment_number,
                    "slot": _slot_label(booking),
                }
            )
    return messages


def _conflict_message(booking: Session | Appointment, provider: Provider | None) -> str:
    if provider is not None and booking.provider_id == provider.pk:
        return _("%(provider)s already has a booking %(slot)s.") % {
            "provider": booking.provider,
            "slot": _slot_label(booking),
        }
    # Not the provider's booking, so it was found by its room.
    room = cast(Room, booking.room)
    return _("Room %(room)s is already booked %(slot)s.") % {
        "room": room.display_name,
        "slot": _slot_label(booking),
    }


def raise_on_conflicts(**slot: Any) -> None:
    """Raise ConflictError with every message of ``find_conflicts(**slot)``."""
    messages = find_conflicts(**slot)
    if messages:
        raise ConflictError(messages)


def lock_parties(
    provider: Provider, rooms: Iterable[Room | None] = (), patients: Iterable[Patient] = ()
) -> None:
    """Lock the provider, the rooms and the patients, in core.locks' order, before an overlap check.

    Sessions and legacy appointments live in two tables, so no constraint spans
    them: these locks serialise bookings of the same person and place while the
    check runs. Every booking path takes them in the same order, so none deadlock.
    A caller that locks a session or appointment too locks the patients after it,
    with ``locks.lock_row_if_exists``, not here.
    """
    locks.lock_row_if_exists(Provider, provider.pk)
    for room_pk in sorted({room.pk for room in rooms if room is not None}):
        locks.lock_row_if_exists(Room, room_pk)
    for patient_pk in sorted({patient.pk for patient in patients}):
        locks.lock_row_if_exists(Patient, patient_pk)


def refuse_overlap_with_sessions(appointment: Appointment) -> None:
    """Refuse a new legacy appointment that overlaps a session of its provider, room or patient.

    The seed books with ``Appointment.objects.create(...)``, past any service; the
    appointment table's own exclusion constraints cover appointment against
    appointment, and this covers the sessions side. Raises ConflictError.
    """
    if appointment.status in Appointment.INACTIVE_STATUSES:
        return
    lock_parties(appointment.provider, [appointment.room], [appointment.patient])
    raise_on_conflicts(
        provider=appointment.provider,
        room=appointment.room,
        patients=(appointment.patient,),
        day=appointment.scheduled_date,
        start=appointment.scheduled_time,
        minutes=appointment.duration,
        include_appointments=False,
    )
