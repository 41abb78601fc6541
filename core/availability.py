"""When a provider can be booked at a clinic: holidays, working hours and leave.

Three rules on top of the clinic's opening hours (``core.opening_hours``):

- a clinic's holiday (``ClinicHoliday``) closes it for the whole day;
- a provider with working hours (``ProviderWorkingHours``, several intervals a weekday per
  clinic) is booked only inside them; a provider with none at all, at any clinic, is not
  restricted, so data booked before hours existed and the seed's examples keep working;
- a provider on leave (``ProviderLeave``) is booked for nothing that overlaps it.

Only reads core models, like ``core.opening_hours``, so the model layer of
``appointments`` (``Appointment.save()``, which the seed calls directly) can use it as
well as the booking rules (``appointments.booking_rules.check_availability``). Checking a
slot costs at most three queries, and none when the clinic comes with
``CLINIC_PREFETCH`` and the provider with ``PROVIDER_PREFETCH`` prefetched (a filtered
``Prefetch`` of the same relation, e.g. to a date range, works too).
"""

import datetime
import enum
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from core.models import Clinic, ClinicHoliday, Provider, ProviderLeave, ProviderWorkingHours
from core.opening_hours import Interval, fits, merged

# prefetch_related() these on clinics and providers read in bulk: the checks then run no query.
CLINIC_PREFETCH = ("holidays",)
PROVIDER_PREFETCH = ("working_hours", "leaves")


class Kind(enum.StrEnum):
    """Which rule refused a slot."""

    HOLIDAY = "holiday"
    WORKING_HOURS = "working_hours"
    LEAVE = "leave"


@dataclass(frozen=True)
class Refusal:
    """One rule that refuses a slot, and what the front desk is told."""

    kind: Kind
    message: str


def _prefetched(instance: Clinic | Provider, relation: str) -> list | None:
    cache = getattr(instance, "_prefetched_objects_cache", {})
    return list(cache[relation]) if relation in cache else None


def local_bounds(
    day: datetime.date, start: datetime.time, minutes: int
) -> tuple[datetime.datetime, datetime.datetime]:
    """The slot's start and end as aware moments in the installation's time zone.

    The end is the start plus ``minutes`` on the clock, as bookings count it.
    """
    zone = timezone.get_default_timezone()
    begins = datetime.datetime.combine(day, start)
    return begins.replace(tzinfo=zone), (begins + datetime.timedelta(minutes=minutes)).replace(tzinfo=zone)


def holiday_on(clinic: Clinic, day: datetime.date) -> ClinicHoliday | None:
    """The clinic's holiday on ``day``, or None."""
    rows = _prefetched(clinic, "holidays")
    if rows is None:
        return ClinicHoliday.objects.filter(clinic=clinic, date=day).first()
    return next((row for row in rows if row.date == day), None)


def working_intervals(provider: Provider, clinic: Clinic, day: datetime.date) -> tuple[Interval, ...] | None:
    """The provider's working intervals at the clinic on ``day``, merged and in time order.

    None when the provider has no working hours at all (no restriction); () when they
    have some, but none at this clinic on this weekday (they don't work then).
    """
    rows = _prefetched(provider, "working_hours")
    if rows is None:
        rows = list(ProviderWorkingHours.objects.filter(provider=provider))
    if not rows:
        return None
    return merged(
        (row.starts_at, row.ends_at)
        for row in rows
        if row.clinic_id == clinic.pk and row.weekday == day.weekday()
    )


def leave_during(
    provider: Provider, starts: datetime.datetime, ends: datetime.datetime
) -> ProviderLeave | None:
    """The provider's first leave that overlaps [starts, ends), or None."""
    rows = _prefetched(provider, "leaves")
    if rows is None:
        return (
            ProviderLeave.objects.filter(provider=provider, starts_at__lt=ends, ends_at__gt=starts)
            .order_by("starts_at")
            .first()
        )
    overlapping = sorted(
        (row for row in rows if row.starts_at < ends and row.ends_at > starts), key=lambda row: row.starts_at
    )
    return overlapping[0] if overlapping else None


def intersection(first: tuple[Interval, ...], second: tuple[Interval, ...]) -> tuple[Interval, ...]:
    """The stretches of time inside both lists of merged intervals."""
    return tuple(
        (max(opens, starts), min(closes, ends))
        for opens, closes in first
        for starts, ends in second
        if max(opens, starts) < min(closes, ends)
    )


def _clock(moment: datetime.time) -> str:
    return time_format(moment, "H:i")


def _leave_message(provider: Provider, leave: ProviderLeave) -> str:
    zone = timezone.get_default_timezone()
    starts, ends = timezone.localtime(leave.starts_at, zone), timezone.localtime(leave.ends_at, zone)
    words = {"provider": provider, "reason": leave.reason}
    if starts.time() == ends.time() == datetime.time():
        # Whole days: the leave ends at midnight after its last day.
        first, last = starts.date(), ends.date() - datetime.timedelta(days=1)
        if first == last:
            return _("%(provider)s is on leave on %(day)s (%(reason)s).") % {
                **words,
                "day": date_format(first, "d/m/Y"),
            }
        return _("%(provider)s is on leave from %(first)s to %(last)s (%(reason)s).") % {
            **words,
            "first": date_format(first, "d/m/Y"),
            "last": date_format(last, "d/m/Y"),
        }
    return _("%(provider)s is on leave from %(first)s to %(last)s (%(reason)s).") % {
        **words,
        "first": f"{date_format(starts, 'd/m/Y')} {_clock(starts.time())}",
        "last": f"{date_format(ends, 'd/m/Y')} {_clock(ends.time())}",
    }


def availability_refusals(
    *, clinic: Clinic, provider: Provider, day: datetime.date, start: datetime.time, minutes: int
) -> list[Refusal]:
    """Every rule of holidays, working hours and leave that refuses the slot: [] when it is free.

    In that order: the clinic's holiday, the provider's working hours that day (naming
    them, or saying the provider doesn't work then), the provider's leave (naming its
    dates and reason). Dates are day first (06/12/2026), as the clinics write them.
    """
    refusals: list[Refusal] = []
    words = {
        "clinic": clinic,
        "provider": provider,
        "weekday": date_format(day, "D"),
        "day": date_format(day, "d/m/Y"),
    }
    holiday = holiday_on(clinic, day)
    if holiday is not None:
        refusals.append(
            Refusal(
                Kind.HOLIDAY,
                _("%(clinic)s is closed on %(weekday)s %(day)s for %(holiday)s.")
                % {**words, "holiday": holiday.name},
            )
        )
    hours = working_intervals(provider, clinic, day)
    if hours is not None and not fits(hours, day, start, minutes):
        if not hours:
            message = _("%(provider)s doesn't work at %(clinic)s on %(weekday)s %(day)s.") % words
        else:
            ends = datetime.datetime.combine(day, start) + datetime.timedelta(minutes=minutes)
            message = _(
                "%(provider)s works %(hours)s at %(clinic)s on %(weekday)s %(day)s: "
                "%(start)s-%(end)s is outside those hours."
            ) % {
                **words,
                "hours": get_text_list(
                    [f"{_clock(opens)}-{_clock(closes)}" for opens, closes in hours], _("and")
                ),
                "start": _clock(start),
                "end": _clock(ends.time()),
            }
        refusals.append(Refusal(Kind.WORKING_HOURS, message))
    leave = leave_during(provider, *local_bounds(day, start, minutes))
    if leave is not None:
        refusals.append(Refusal(Kind.LEAVE, _leave_message(provider, leave)))
    return refusals


def availability_problems(
    *, clinic: Clinic, provider: Provider, day: datetime.date, start: datetime.time, minutes: int
) -> list[str]:
    """The messages of ``availability_refusals``: [] when the slot is free of them."""
    return [
        refusal.message
        for refusal in availability_refusals(
            clinic=clinic, provider=provider, day=day, start=start, minutes=minutes
        )
    ]
