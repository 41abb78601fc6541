"""Reads of the week calendar: one owner's bookings, leave and weekly hours, in a fixed number of queries.

The owner is one provider, one room or one clinic (``Owner``). Every read goes through the
user's tenant scope (``for_user``). Times are the installation's wall-clock times (naive),
as sessions store them; leave, stored as moments, is turned into them.
"""

import datetime
from dataclasses import dataclass
from typing import Literal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from appointments.models import Appointment, Session, SessionParticipant
from core.models import (
    Clinic,
    OpeningHours,
    Patient,
    Provider,
    ProviderLeave,
    ProviderWorkingHours,
    Room,
    User,
)
from core.opening_hours import Interval, merged

OwnerKind = Literal["provider", "room", "clinic"]
Owner = Provider | Room | Clinic


@dataclass(frozen=True)
class WeekBooking:
    """A session or legacy appointment of the window, with the children it holds a seat for."""

    booking: Session | Appointment
    children: list[Patient]


@dataclass(frozen=True)
class LeaveBlock:
    """A provider's leave, cut to wall-clock times in the installation's time zone."""

    leave: ProviderLeave
    starts: datetime.datetime
    ends: datetime.datetime


def _local(moment: datetime.datetime) -> datetime.datetime:
    return timezone.make_naive(moment, timezone.get_default_timezone())


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time.min), timezone.get_default_timezone()
    )


def week_bookings(
    user: User, kind: OwnerKind, owner: Owner, start: datetime.date, end: datetime.date
) -> list[WeekBooking]:
    """The owner's sessions and legacy appointments from ``start`` up to (not including) ``end``.

    Cancelled ones are left out, as on the day view: their slot is free. Each session comes
    with its active children in booking order. Three queries, however many bookings.
    """
    active = SessionParticipant.objects.exclude(status__in=SessionParticipant.INACTIVE_STATUSES)
    sessions: QuerySet[Session] = (
        Session.objects.for_user(user)
        .filter(scheduled_date__gte=start, scheduled_date__lt=end, **{kind: owner})
        .exclude(status=Session.Status.CANCELLED)
        .select_related("provider__user", "room", "clinic")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=active.select_related("patient").order_by("booked_at", "pk"),
                to_attr="active_participants",
            )
        )
    )
    appointments: QuerySet[Appointment] = (
        Appointment.objects.for_user(user)
        .filter(scheduled_date__gte=start, scheduled_date__lt=end, **{kind: owner})
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("provider__user", "room", "clinic", "patient")
    )
    bookings = [
        WeekBooking(session, [participant.patient for participant in session.active_participants])  # type: ignore[attr-defined]
        for session in sessions
    ]
    bookings.extend(WeekBooking(appointment, [appointment.patient]) for appointment in appointments)
    return sorted(bookings, key=lambda entry: (entry.booking.starts_at, entry.booking.pk))


def leave_blocks(
    user: User, provider: Provider, start: datetime.date, end: datetime.date
) -> list[LeaveBlock]:
    """The provider's leave overlapping the days ``start`` up to ``end`` (one query)."""
    leaves = ProviderLeave.objects.for_user(user).filter(
        provider=provider, starts_at__lt=_aware(end), ends_at__gt=_aware(start)
    )
    return [LeaveBlock(leave, _local(leave.starts_at), _local(leave.ends_at)) for leave in leaves]


def weekly_hours(user: User, owner: Owner) -> dict[int, tuple[Interval, ...]]:
    """When the owner is free to book, by weekday (``date.weekday()``), intervals merged.

    A provider: their working hours (at every clinic) where any are set, else the opening
    hours of their clinics. A room: its clinic's opening hours; a clinic: its own. Empty
    when none are set (no restriction). Dated overrides are not weekly and not shown here.
    """
    rows: list[tuple[int, datetime.time, datetime.time]] = []
    clinics: QuerySet[Clinic] | list[Clinic]
    if isinstance(owner, Provider):
        rows = [
            (row.weekday, row.starts_at, row.ends_at)
            for row in ProviderWorkingHours.objects.for_user(user).filter(provider=owner)
        ]
        clinics = Clinic.objects.for_user(user).filter(providers=owner)
    elif isinstance(owner, Room):
        clinics = [owner.clinic]
    else:
        clinics = [owner]
    if not rows:
        rows = [
            (row.weekday, row.opens_at, row.closes_at)
            for row in OpeningHours.objects.for_user(user).filter(clinic__in=clinics)
        ]
    return {
        weekday: merged((starts, ends) for day, starts, ends in rows if day == weekday)
        for weekday in sorted({day for day, _starts, _ends in rows})
    }
