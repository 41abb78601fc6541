"""Read queries of the leave pages: the bookings a provider's leave covers, and the leave to list.

A booking is under a leave when its slot (``date + time``, ``duration`` minutes on the
clock, in the installation's time zone) overlaps the leave's ``[starts_at, ends_at)``, as
``core.availability.leave_during`` judges a new booking. The comparison runs in SQL on
wall-clock ranges: the leave's moments are read ``AT TIME ZONE`` the installation's zone.

Only the bookings the front desk can still act on count: scheduled sessions (with their
active participants) and legacy appointments booked or confirmed. A legacy appointment
back-filled into a scheduled session is that session's booking, listed once, as the session.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField
from django.db.models import (
    Count,
    DateTimeField,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce

from appointments.models import Appointment, Session, SessionParticipant
from appointments.time_slots import SlotRange
from core.models import Patient, Provider, ProviderLeave, Room, User

# The legacy appointments still to come: the ones a move or a cancellation applies to.
OPEN_APPOINTMENT_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


class LocalTime(Func):
    """``moment AT TIME ZONE zone``: an aware moment as wall-clock time in the installation's zone."""

    arg_joiner = " AT TIME ZONE "
    template = "(%(expressions)s)"
    output_field = DateTimeField()

    def __init__(self, moment: str | Combinable) -> None:
        super().__init__(moment, Value(settings.TIME_ZONE))


class LeaveSpan(Func):
    """A leave's wall-clock range, ``tsrange(local start, local end, '[)')``.

    Comparable with ``SlotRange``, which holds bookings in the installation's local time.
    """

    function = "tsrange"
    output_field = DateTimeRangeField()

    def __init__(self, starts_at: str | Combinable, ends_at: str | Combinable) -> None:
        super().__init__(LocalTime(starts_at), LocalTime(ends_at), Value("[)"))


def _span_of(leave: ProviderLeave) -> LeaveSpan:
    return LeaveSpan(
        Value(leave.starts_at, output_field=DateTimeField()),
        Value(leave.ends_at, output_field=DateTimeField()),
    )


def _sessions_under(span: LeaveSpan, provider: int | OuterRef) -> QuerySet[Session]:
    return (
        Session.objects.filter(provider=provider, status=Session.Status.SCHEDULED)
        .alias(slot=SlotRange())
        .filter(slot__overlap=span)
    )


def _appointments_under(span: LeaveSpan, provider: int | OuterRef) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(provider=provider, status__in=OPEN_APPOINTMENT_STATUSES)
        # Back-filled into a scheduled session: that session is the booking, listed once.
        .exclude(session_participant__session__status=Session.Status.SCHEDULED)
        .alias(slot=SlotRange())
        .filter(slot__overlap=span)
    )


@dataclass(frozen=True)
class LeaveBooking:
    """One booking under a leave: a scheduled session with its active children, or a legacy appointment.

    Where and when it was as read (``scheduled_date``, ``scheduled_time``, ``provider``,
    ``room``), kept as such after the services move ``booking`` (which they update in place).
    """

    booking: Session | Appointment
    patients: tuple[Patient, ...]
    scheduled_date: datetime.date
    scheduled_time: datetime.time
    provider: Provider
    room: Room | None

    @classmethod
    def of(cls, booking: Session | Appointment, patients: tuple[Patient, ...]) -> "LeaveBooking":
        return cls(
            booking, patients, booking.scheduled_date, booking.scheduled_time, booking.provider, booking.room
        )

    @property
    def is_session(self) -> bool:
        return isinstance(self.booking, Session)

    @property
    def key(self) -> str:
        """Names the booking in a form: ``session-12``, ``appointment-7``."""
        return f"{'session' if self.is_session else 'appointment'}-{self.booking.pk}"


def bookings_under_leave(leave: ProviderLeave) -> list[LeaveBooking]:
    """Every booking of the leave's provider the leave covers, by date and time (three queries).

    Sessions come with their active participants' patients, appointments with their patient;
    both with clinic, provider and room joined.
    """
    span = _span_of(leave)
    active = SessionParticipant.objects.exclude(status__in=SessionParticipant.INACTIVE_STATUSES)
    sessions = (
        _sessions_under(span, leave.provider_id)
        .select_related("clinic", "provider__user", "room")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=active.select_related("patient").order_by("booked_at", "pk"),
                to_attr="active_participants",
            )
        )
    )
    appointments = _appointments_under(span, leave.provider_id).select_related(
        "clinic", "provider__user", "room", "patient"
    )
    bookings = [
        LeaveBooking.of(session, tuple(p.patient for p in session.active_participants))
        for session in sessions
    ]
    bookings += [LeaveBooking.of(appointment, (appointment.patient,)) for appointment in appointments]
    return sorted(
        bookings, key=lambda b: (b.scheduled_date, b.scheduled_time, not b.is_session, b.booking.pk)
    )


def _count_under(bookings: QuerySet[Session] | QuerySet[Appointment]) -> Subquery:
    counted = bookings.order_by().values("provider").annotate(count=Count("pk")).values("count")
    return Subquery(counted, output_field=IntegerField())


def leave_to_list(
    user: User, *, now: datetime.datetime, provider: Provider | None = None
) -> QuerySet[ProviderLeave]:
    """The current and upcoming leave of the user's organisation's providers, earliest first.

    Each row has ``bookings_affected`` (the count ``bookings_under_leave`` would list) and its
    provider joined: one query whatever the number of rows.
    """
    leave = ProviderLeave.objects.for_user(user).filter(ends_at__gt=now)
    if provider is not None:
        leave = leave.filter(provider=provider)
    span = LeaveSpan(OuterRef("starts_at"), OuterRef("ends_at"))
    sessions = _count_under(_sessions_under(span, OuterRef("provider")))
    appointments = _count_under(_appointments_under(span, OuterRef("provider")))
    return (
        leave.select_related("provider__user")
        .annotate(bookings_affected=Coalesce(sessions, 0) + Coalesce(appointments, 0))
        .order_by("starts_at", "pk")
    )
