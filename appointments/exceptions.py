"""Domain errors raised by the scheduling services.

All are ``ValidationError`` subclasses, so forms and the admin show them like any
other validation message, and each message tells front-desk staff what to do.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.availability import Kind, Refusal


class SchedulingError(ValidationError):
    """Base class for every scheduling rule a request broke."""


class CapacityError(SchedulingError):
    """A seat count or capacity rule was broken (full session, capacity out of range)."""


class ConflictError(SchedulingError):
    """A provider, room or patient would be double-booked, or booked twice in one session."""


class CheckInBlocked(SchedulingError):
    """Check-in is refused: the session is closed, finance or consent is missing."""


class InvalidTransition(SchedulingError):
    """The requested status change is not allowed from the current status."""


class OutOfScope(SchedulingError):
    """Patient, provider, room or clinic don't belong together (tenant, clinic, duration)."""


class SlotTimeError(SchedulingError):
    """A slot's start or end is not one clear local time (a clock change skips or repeats it)."""


class OutsideOpeningHours(SchedulingError):
    """A slot doesn't fit inside its clinic's opening hours that day, or the clinic is closed."""


class HolidayClosed(OutsideOpeningHours):
    """The clinic is closed that day for a holiday."""


class OutsideWorkingHours(SchedulingError):
    """A slot doesn't fit inside the provider's working hours at the clinic that day."""


class ProviderOnLeave(ConflictError):
    """The provider is on leave during the slot."""


def unavailable(refusals: list[Refusal]) -> SchedulingError:
    """The error for a slot ``core.availability`` refuses: the first rule's kind, with every message."""
    error = {
        Kind.HOLIDAY: HolidayClosed,
        Kind.WORKING_HOURS: OutsideWorkingHours,
        Kind.LEAVE: ProviderOnLeave,
    }[refusals[0].kind]
    return error([refusal.message for refusal in refusals])


class TooEarly(InvalidTransition):
    """A session step asked for before its time: before the session's day (services), or on
    its day before the pages offer it (start within the clinic's lead, complete and no-show
    from the start time)."""


class BookingWindowError(SchedulingError):
    """The pages don't book this slot: it ends after midnight or lies beyond the clinic's booking horizon."""


class SeriesRuleError(SchedulingError):
    """A series can't be planned as asked: its count or last date, its seats or its child."""


@dataclass(frozen=True)
class DateClash:
    """One date of a series that can't be booked, and every reason why."""

    date: datetime.date
    reasons: tuple[str, ...]


class SeriesClashError(ConflictError):
    """Dates of a series can't be booked: ``clashes`` holds each one (``DateClash``) with every reason.

    Its messages are one per date, day first ("06/04/2026: Room 2 is already booked ..."), all
    at once, so the front desk can skip those dates or choose another slot.
    """

    def __init__(self, clashes: Iterable[DateClash]) -> None:
        self.clashes = list(clashes)
        super().__init__(
            [
                _("%(day)s: %(reasons)s")
                % {"day": date_format(clash.date, "d/m/Y"), "reasons": " ".join(clash.reasons)}
                for clash in self.clashes
            ]
        )
