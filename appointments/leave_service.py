"""Leave: recording a provider's time away, and moving or cancelling the bookings it covers.

Leave is a fact: it is recorded even over existing bookings, which the front desk then
sees (``bookings_under_leave``) and deals with one by one or all at once
(``move_bookings``): each to the provider's next free slot, to another provider, or
cancelled. Every booking is moved or cancelled through ``SessionService`` or
``AppointmentService`` in a transaction of its own, so one refusal never undoes the
others, and each comes back with its own result.
"""

import datetime
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from appointments.appointment_service import AppointmentService
from appointments.exceptions import ConflictError, InvalidTransition, OutOfScope, SchedulingError
from appointments.leave_selectors import LeaveBooking, bookings_under_leave
from appointments.models import Session, SessionParticipant
from appointments.session_service import SessionService
from appointments.workflow import save_with_history
from core import clock, locks
from core.models import Provider, ProviderLeave, User
from core.tenancy import for_user

# How far past the leave (or the booking's day, for another provider) a free slot is looked for.
SEARCH_DAYS = 28
REASON_MAX_LENGTH = cast(int, ProviderLeave._meta.get_field("reason").max_length)


class LeaveError(ValidationError):
    """The leave as entered can't be recorded (dates, reason, provider)."""


class MoveAction(enum.StrEnum):
    """What the front desk chose for one booking under a leave."""

    NEXT_FREE = "next_free"  # the same provider's next free slot
    OTHER_PROVIDER = "other_provider"  # another provider: same time if free, else their next free slot
    CANCEL = "cancel"


@dataclass(frozen=True)
class MoveItem:
    """One booking and what to do with it; ``provider`` for OTHER_PROVIDER, ``reason`` for CANCEL."""

    booking: LeaveBooking
    action: MoveAction
    provider: Provider | None = None
    reason: str = ""


@dataclass(frozen=True)
class MoveResult:
    """What became of one booking: moved (where, with whom), cancelled, or refused (why)."""

    booking: LeaveBooking
    action: MoveAction
    ok: bool
    moved_to: datetime.datetime | None = None  # naive, the installation's local time, as bookings are
    provider: Provider | None = None
    errors: tuple[str, ...] = ()

    @property
    def outcome(self) -> str:
        """``moved``, ``cancelled`` or ``refused``."""
        if not self.ok:
            return "refused"
        return "cancelled" if self.action == MoveAction.CANCEL else "moved"


@transaction.atomic
def record_leave(
    *,
    provider: Provider,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    reason: str,
    user: User,
) -> ProviderLeave:
    """Record ``provider``'s leave from ``starts_at`` until ``ends_at`` (aware moments), entered by ``user``.

    Raises LeaveError when the end is not after the start, the reason is blank or too long,
    or the provider is not of the organisation ``user`` works in. Bookings already inside
    the leave stay as they are: ``bookings_under_leave`` lists them.
    """
    reason = (reason or "").strip()
    problems = []
    if not for_user(Provider.objects.filter(pk=provider.pk), user).exists():
        problems.append(_("That provider is not in your organisation."))
    if ends_at <= starts_at:
        problems.append(_("The leave must end after it starts."))
    if not reason:
        problems.append(_("Give a reason for the leave."))
    elif len(reason) > REASON_MAX_LENGTH:
        problems.append(
            _("Keep the reason to %(max)d characters (it has %(got)d).")
            % {"max": REASON_MAX_LENGTH, "got": len(reason)}
        )
    if problems:
        raise LeaveError(problems)
    # The provider's row, as every booking takes it before checking their leave (core.locks'
    # order): a booking being made right now commits first and is listed under the leave, or
    # waits and is refused by it.
    locks.lock_row(Provider, provider.pk)
    leave = ProviderLeave(
        provider=provider, starts_at=starts_at, ends_at=ends_at, reason=reason, created_by=user
    )
    save_with_history(leave, user)
    return leave


def move_bookings(leave: ProviderLeave, *, items: Sequence[MoveItem], user: User) -> list[MoveResult]:
    """Move or cancel each item's booking as chosen, each in a transaction of its own.

    Returns one result per item, in order. A refusal (the booking is no longer under the
    leave, no free slot within ``SEARCH_DAYS`` days, a clash, a blank cancellation reason,
    a provider who doesn't work in the booking's clinic...) is that item's result and never
    undoes another item.
    """
    under_leave = {booking.key for booking in bookings_under_leave(leave)}
    return [_move_one(leave, item, user, under_leave) for item in items]


def _move_one(leave: ProviderLeave, item: MoveItem, user: User, under_leave: set[str]) -> MoveResult:
    try:
        if item.booking.key not in under_leave:
            raise InvalidTransition(_("This booking is no longer under this leave."))
        if item.action == MoveAction.CANCEL:
            _cancel(item.booking, item.reason, user)
            return MoveResult(item.booking, item.action, ok=True)
        if item.action == MoveAction.NEXT_FREE:
            return _move_to_next_free(leave, item, user)
        return _move_to_other_provider(item, user)
    except SchedulingError as error:
        return MoveResult(item.booking, item.action, ok=False, errors=tuple(error.messages))


def _cancel(booking: LeaveBooking, reason: str, user: User) -> None:
    if isinstance(booking.booking, Session):
        SessionService.cancel_session(
            booking.booking,
            reason,
            user=user,
            category=SessionParticipant.CancelCategory.PROVIDER_UNAVAILABLE,
        )
    else:
        AppointmentService.cancel(booking.booking, reason, user=user)


def _reschedule(booking: LeaveBooking, when: datetime.datetime, provider: Provider, user: User) -> None:
    """Move ``booking`` to ``when`` (a naive local moment) with ``provider``."""
    if isinstance(booking.booking, Session):
        SessionService.reschedule_session(
            booking.booking,
            scheduled_date=when.date(),
            scheduled_time=when.time(),
            provider=provider,
            reason=_("Provider on leave"),
            user=user,
        )
    else:
        AppointmentService.reschedule(booking.booking, when.date(), when.time(), provider=provider, user=user)


def _next_free(
    booking: LeaveBooking, provider: Provider, date_from: datetime.date, date_to: datetime.date
) -> datetime.datetime | None:
    """The first slot where ``provider`` could take the booking as it is (clinic, room, duration
    and children), as a naive local moment, or None."""
    slots = SessionService.find_free_slots(
        clinic=booking.booking.clinic,
        duration=booking.booking.duration,
        date_from=date_from,
        date_to=date_to,
        provider=provider,
        room=booking.room,
        patients=booking.patients,
        limit=1,
    )
    if not slots:
        return None
    return timezone.localtime(slots[0], timezone.get_default_timezone()).replace(tzinfo=None)


def _moved(item: MoveItem, when: datetime.datetime, provider: Provider) -> MoveResult:
    return MoveResult(
        item.booking,
        item.action,
        ok=True,
        moved_to=when,
        provider=provider,
    )


def _first_day(booking: LeaveBooking) -> datetime.date:
    """Where the search for a new slot starts: the booking's day, or today for one already past."""
    return max(booking.scheduled_date, clock.today())


def _move_to_next_free(leave: ProviderLeave, item: MoveItem, user: User) -> MoveResult:
    booking = item.booking
    date_from = _first_day(booking)
    # From the end of the leave on: after a long leave the next free slot lies past it.
    date_to = max(date_from, clock.local_day(leave.ends_at)) + datetime.timedelta(days=SEARCH_DAYS)
    when = _next_free(booking, booking.provider, date_from, date_to)
    if when is None:
        raise InvalidTransition(
            _("%(provider)s has no free slot for this booking until %(day)s.")
            % {"provider": booking.provider, "day": date_format(date_to, "d/m/Y")}
        )
    _reschedule(booking, when, booking.provider, user)
    return _moved(item, when, booking.provider)


def _move_to_other_provider(item: MoveItem, user: User) -> MoveResult:
    booking, provider = item.booking, item.provider
    if provider is None:
        raise OutOfScope(_("Choose the provider to move this booking to."))
    if provider.pk == booking.booking.provider_id:
        raise OutOfScope(_("Choose a provider other than the one on leave."))
    same_time = datetime.datetime.combine(booking.scheduled_date, booking.scheduled_time)
    try:
        _reschedule(booking, same_time, provider, user)
    except ConflictError as busy:
        # Not free at the same time (a clash, their hours, their own leave): their next free slot.
        date_from = _first_day(booking)
        date_to = date_from + datetime.timedelta(days=SEARCH_DAYS)
        when = _next_free(booking, provider, date_from, date_to)
        if when is None:
            raise ConflictError(
                [
                    *busy.messages,
                    _("%(provider)s has no free slot for this booking until %(day)s either.")
                    % {"provider": provider, "day": date_format(date_to, "d/m/Y")},
                ]
            ) from busy
        _reschedule(booking, when, provider, user)
        return _moved(item, when, provider)
    return _moved(item, same_time, provider)
