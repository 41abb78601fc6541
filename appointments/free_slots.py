"""The free-slot finder: bookable start times, every rule applied, in a fixed number of queries.

``find_free_slots`` (``SessionService.find_free_slots``) walks each day of a date range on a
grid of ``step_minutes`` from the day's opening time and keeps the times a booking of
``duration`` minutes could take: inside the clinic's opening hours (its dated overrides
included), not on its holidays, inside the provider's working hours and outside their
leave, with the provider, the room and every patient free (active sessions, participations
and legacy appointments), a real local time at both ends (no clock change skips or repeats
it), ending the same day, and not in the past.

Where the clinic sets no opening hours the day opens when the provider's working hours
start; where neither says, the day is ``settings.SCHEDULE_DAY_START`` to
``SCHEDULE_DAY_END``. Everything is read up front (about ten queries whatever the number of
days or bookings), then checked in memory; the rules are those of ``booking_rules`` and
``core.availability``, so a slot found here books.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.formats import date_format, time_format

from appointments import booking_rules
from appointments.exceptions import SlotTimeError
from appointments.models import Appointment, Session, SessionParticipant
from core import availability, clock, opening_hours
from core.models import (
    Clinic,
    ClinicHoliday,
    OpeningHoursOverride,
    Patient,
    Provider,
    ProviderLeave,
    Room,
)
from core.opening_hours import Interval

# (start, end) of a booking on the clock, naive local time.
Span = tuple[datetime.datetime, datetime.datetime]


@dataclass
class _Busy:
    """Every active booking in the range, by (who, id) and by the day it starts."""

    spans: defaultdict[tuple[str, int, datetime.date], list[Span]]

    def add(self, who: str, pk: int | None, day: datetime.date, start: datetime.time, minutes: int) -> None:
        if pk is not None:
            begins = datetime.datetime.combine(day, start)
            self.spans[who, pk, day].append((begins, begins + datetime.timedelta(minutes=minutes)))

    def free(self, who: str, pk: int, slot: Span) -> bool:
        # A booking lasts at most 480 minutes, so only one starting the day before can still
        # run into this slot.
        day = slot[0].date()
        return not any(
            begins < slot[1] and slot[0] < ends
            for earlier in (day - datetime.timedelta(days=1), day)
            for begins, ends in self.spans.get((who, pk, earlier), ())
        )


def _days(first: datetime.date, last: datetime.date) -> Iterator[datetime.date]:
    day = first
    while day <= last:
        yield day
        day += datetime.timedelta(days=1)


def _clinic_with_calendar(clinic: Clinic, first: datetime.date, last: datetime.date) -> Clinic:
    """The clinic with its week, the range's overrides and holidays prefetched (four queries)."""
    return Clinic.objects.prefetch_related(
        "opening_hours",
        Prefetch(
            "opening_hours_overrides", queryset=OpeningHoursOverride.objects.filter(date__range=(first, last))
        ),
        Prefetch("holidays", queryset=ClinicHoliday.objects.filter(date__range=(first, last))),
    ).get(pk=clinic.pk)


def _candidates(
    clinic: Clinic,
    provider: Provider | None,
    specialty: str | None,
    starts: datetime.datetime,
    ends: datetime.datetime,
) -> list[Provider]:
    """The active providers of the clinic who may take the booking, with their hours and leave."""
    providers = Provider.objects.filter(clinics=clinic, is_active=True)
    if provider is not None:
        providers = providers.filter(pk=provider.pk)
    if specialty:
        providers = providers.filter(specialty=specialty)
    return list(
        providers.select_related("user")
        .prefetch_related(
            "working_hours",
            Prefetch("leaves", queryset=ProviderLeave.objects.filter(starts_at__lt=ends, ends_at__gt=starts)),
        )
        .order_by("pk")
    )


def _busy(
    providers: Sequence[Provider],
    room: Room | None,
    patients: Sequence[Patient],
    first: datetime.date,
    last: datetime.date,
) -> _Busy:
    """The range's active bookings of the providers, the room and the patients (three queries).

    Active as ``overlaps.find_conflicts`` counts it: every session and legacy appointment but
    a cancelled one, every participation holding a seat in a session that isn't cancelled.
    """
    busy = _Busy(defaultdict(list))
    days = (first - datetime.timedelta(days=1), last)
    who_or_where = Q(provider__in=providers)
    if room is not None:
        who_or_where |= Q(room=room)
    slot_fields = ("scheduled_date", "scheduled_time", "duration")
    sessions = (
        Session.objects.exclude(status=Session.Status.CANCELLED)
        .filter(who_or_where, scheduled_date__range=days)
        .values_list("provider_id", "room_id", *slot_fields)
    )
    for provider_id, room_id, *slot in sessions:
        busy.add("provider", provider_id, *slot)
        busy.add("room", room_id, *slot)
    if patients:
        participations = (
            SessionParticipant.objects.exclude(status__in=SessionParticipant.INACTIVE_STATUSES)
            .exclude(session__status=Session.Status.CANCELLED)
            .filter(patient__in=patients, session__scheduled_date__range=days)
            .values_list("patient_id", *(f"session__{name}" for name in slot_fields))
        )
        for patient_id, *slot in participations:
            busy.add("patient", patient_id, *slot)
        who_or_where |= Q(patient__in=patients)
    appointments = (
        Appointment.objects.exclude(status=Appointment.Status.CANCELLED)
        .filter(who_or_where, scheduled_date__range=days)
        .values_list("provider_id", "room_id", "patient_id", *slot_fields)
    )
    for provider_id, room_id, patient_id, *slot in appointments:
        busy.add("provider", provider_id, *slot)
        busy.add("room", room_id, *slot)
        busy.add("patient", patient_id, *slot)
    return busy


def _window(
    clinic_hours: tuple[Interval, ...] | None, working: tuple[Interval, ...] | None
) -> tuple[Interval, ...]:
    """Where a provider may be booked on a day: inside the clinic's hours and their own."""
    if clinic_hours is None:
        return working if working is not None else ((settings.SCHEDULE_DAY_START, settings.SCHEDULE_DAY_END),)
    if working is None:
        return clinic_hours
    return availability.intersection(clinic_hours, working)


def _valid_times(day: datetime.date, start: datetime.time, minutes: int) -> bool:
    try:
        booking_rules.validate_slot_times(scheduled_date=day, scheduled_time=start, duration=minutes)
    except SlotTimeError:
        return False
    return True


def _day_slots(
    *,
    clinic: Clinic,
    day: datetime.date,
    providers: Sequence[Provider],
    room: Room | None,
    patients: Sequence[Patient],
    minutes: int,
    step: datetime.timedelta,
    busy: _Busy,
    now: datetime.datetime,
) -> Iterator[datetime.datetime]:
    """The free start times of one day, on the grid from its opening time, in time order."""
    if availability.holiday_on(clinic, day) is not None:
        return
    clinic_hours = opening_hours.day_hours(clinic, day)
    clinic_intervals = None if clinic_hours is None else clinic_hours.intervals
    windows = {
        provider.pk: window
        for provider in providers
        if (window := _window(clinic_intervals, availability.working_intervals(provider, clinic, day)))
    }
    if not windows:
        return
    if clinic_intervals:
        origin = clinic_intervals[0][0]
    else:
        origin = min(window[0][0] for window in windows.values())
    closing = datetime.datetime.combine(day, max(window[-1][1] for window in windows.values()))
    zone = timezone.get_default_timezone()
    duration = datetime.timedelta(minutes=minutes)
    begins = datetime.datetime.combine(day, origin)
    while begins + duration <= closing:
        slot = (begins, begins + duration)
        starts_at, ends_at = begins.replace(tzinfo=zone), slot[1].replace(tzinfo=zone)
        if (
            starts_at >= now
            and (room is None or busy.free("room", room.pk, slot))
            and all(busy.free("patient", patient.pk, slot) for patient in patients)
            and any(
                opening_hours.fits(windows[provider.pk], day, begins.time(), minutes)
                and busy.free("provider", provider.pk, slot)
                and availability.leave_during(provider, starts_at, ends_at) is None
                for provider in providers
                if provider.pk in windows
            )
            and _valid_times(day, begins.time(), minutes)
        ):
            yield starts_at
        begins += step


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
    """Up to ``limit`` free start times from ``date_from`` to ``date_to``, earliest first.

    Aware datetimes in the installation's time zone, never before ``clock.now()``. With no
    ``provider``, a time is free when any active provider of the clinic (of ``specialty``,
    when given) is; with no ``room``, rooms don't constrain it. Raises OutOfScope for a
    duration outside 15-480 minutes, a provider not working in the clinic, a room of another
    clinic or a patient of another organisation (what booking would refuse), and ValueError
    for a step under one minute.
    """
    if step_minutes < 1:
        raise ValueError("step_minutes must be at least 1.")
    patients = tuple(patients)
    if provider is not None:
        booking_rules.validate_slot_scope(provider=provider, clinic=clinic, room=room, duration=duration)
    else:
        booking_rules.validate_duration(duration)
        booking_rules.validate_room_scope(room, clinic)
    for patient in patients:
        booking_rules.validate_patient_scope(patient, clinic)
    now = clock.now()
    first, last = max(date_from, now.date()), date_to
    if limit < 1 or first > last:
        return []
    zone = timezone.get_default_timezone()
    starts = datetime.datetime.combine(first, datetime.time(), tzinfo=zone)
    ends = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(), tzinfo=zone)
    providers = _candidates(clinic, provider, specialty, starts, ends)
    if not providers:
        return []
    clinic = _clinic_with_calendar(clinic, first, last)
    busy = _busy(providers, room, patients, first, last)
    found: list[datetime.datetime] = []
    for day in _days(first, last):
        for slot in _day_slots(
            clinic=clinic,
            day=day,
            providers=providers,
            room=room,
            patients=patients,
            minutes=duration,
            step=datetime.timedelta(minutes=step_minutes),
            busy=busy,
            now=now,
        ):
            found.append(slot)
            if len(found) == limit:
                return found
    return found


def slot_label(moment: datetime.datetime) -> str:
    """How a free slot reads on a page: weekday, day-first date and time ("Tue 08/12 10:00")."""
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return f"{date_format(local, 'D')} {date_format(local, 'd/m')} {time_format(local, 'H:i')}"
