"""A clinic's opening hours on a given day, and whether a slot fits inside them.

Each clinic may set weekly intervals (``OpeningHours``: several a weekday, for split
shifts) and dated overrides (``OpeningHoursOverride``: Ramadan hours, a closed day). A
date's overrides replace its weekday's intervals. A clinic with no weekly intervals has
no restriction on the days no override names, so clinics that never set hours, and the
data booked before hours existed, keep booking as before.

Only reads core models, so the model layer of ``appointments`` (``Appointment.save()``,
which the seed calls directly) can use it as well as the booking rules
(``appointments.booking_rules.check_within_hours``). Reading a day costs at most two
queries, and none when the clinic comes with ``HOURS_PREFETCH`` prefetched.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.formats import date_format, time_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from core.models import Clinic, OpeningHours, OpeningHoursOverride

Interval = tuple[datetime.time, datetime.time]

# prefetch_related() these on clinics read in bulk: hours_on then runs no query.
HOURS_PREFETCH = ("opening_hours", "opening_hours_overrides")


@dataclass(frozen=True)
class DayHours:
    """The intervals a clinic is open on one day (none: closed), and the override's note."""

    intervals: tuple[Interval, ...]
    note: str = ""


def _prefetched(clinic: Clinic, relation: str) -> list | None:
    cache = getattr(clinic, "_prefetched_objects_cache", {})
    return list(cache[relation]) if relation in cache else None


def _weekly_rows(clinic: Clinic) -> list[OpeningHours]:
    # The whole week (a few rows): an empty week means "no hours set", not "closed today".
    rows = _prefetched(clinic, "opening_hours")
    return rows if rows is not None else list(OpeningHours.objects.filter(clinic=clinic))


def _override_rows(clinic: Clinic, day: datetime.date) -> list[OpeningHoursOverride]:
    rows = _prefetched(clinic, "opening_hours_overrides")
    if rows is None:
        return list(OpeningHoursOverride.objects.filter(clinic=clinic, date=day))
    return [row for row in rows if row.date == day]


def merged(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """The intervals in time order, with overlapping or touching ones joined.

    08:00-12:00 and 12:00-16:00 are one stretch of opening: a slot across noon fits.
    """
    joined: list[Interval] = []
    for opens, closes in sorted(intervals):
        if joined and opens <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(closes, joined[-1][1]))
        else:
            joined.append((opens, closes))
    return tuple(joined)


def day_hours(clinic: Clinic, day: datetime.date) -> DayHours | None:
    """The clinic's hours on ``day``, or None when it has none set (no restriction).

    The date's overrides win over the weekday; a closed override closes the whole day.
    """
    overrides = _override_rows(clinic, day)
    if overrides:
        note = next((row.note for row in overrides if row.note), "")
        if any(row.closed for row in overrides):
            return DayHours((), note)
        return DayHours(
            merged(
                (row.opens_at, row.closes_at)
                for row in overrides
                if row.opens_at is not None and row.closes_at is not None
            ),
            note,
        )
    weekly = _weekly_rows(clinic)
    if not weekly:
        return None
    return DayHours(merged((row.opens_at, row.closes_at) for row in weekly if row.weekday == day.weekday()))


def hours_on(clinic: Clinic, day: datetime.date) -> list[Interval] | None:
    """The (opens, closes) intervals of ``day`` in time order; [] when closed; None when no hours are set."""
    hours = day_hours(clinic, day)
    return None if hours is None else list(hours.intervals)


def fits(intervals: Iterable[Interval], day: datetime.date, start: datetime.time, minutes: int) -> bool:
    """Whether the slot lies entirely inside one interval (a slot past midnight never does)."""
    begins = datetime.datetime.combine(day, start)
    ends = begins + datetime.timedelta(minutes=minutes)
    return any(
        datetime.datetime.combine(day, opens) <= begins and ends <= datetime.datetime.combine(day, closes)
        for opens, closes in intervals
    )


def _clock(moment: datetime.time) -> str:
    return time_format(moment, "H:i")


def outside_hours_message(
    clinic: Clinic, day: datetime.date, start_time: datetime.time, duration_minutes: int
) -> str | None:
    """Why the slot can't be booked at the clinic, naming the day's hours; None when it fits.

    Dates are day first (06/12/2026), as the clinics write them.
    """
    hours = day_hours(clinic, day)
    if hours is None or fits(hours.intervals, day, start_time, duration_minutes):
        return None
    ends = datetime.datetime.combine(day, start_time) + datetime.timedelta(minutes=duration_minutes)
    words = {
        "clinic": clinic,
        "weekday": date_format(day, "l"),
        "day": date_format(day, "d/m/Y"),
        "note": hours.note,
        "hours": get_text_list(
            [f"{_clock(opens)}-{_clock(closes)}" for opens, closes in hours.intervals], _("and")
        ),
        "start": _clock(start_time),
        "end": _clock(ends.time()),
    }
    if not hours.intervals:
        if hours.note:
            return _("%(clinic)s is closed on %(weekday)s %(day)s (%(note)s).") % words
        return _("%(clinic)s is closed on %(weekday)s %(day)s.") % words
    if hours.note:
        return (
            _(
                "%(clinic)s is open %(hours)s on %(weekday)s %(day)s (%(note)s): "
                "%(start)s-%(end)s is outside those hours."
            )
            % words
        )
    return (
        _("%(clinic)s is open %(hours)s on %(weekday)s %(day)s: %(start)s-%(end)s is outside those hours.")
        % words
    )
