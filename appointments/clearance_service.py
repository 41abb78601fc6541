"""Finance clears many bookings at once, each through its own service call and with its own result.

The clearance queue sends the rows ticked (``participant-12``, ``appointment-7``). Each is
looked up inside the user's organisation and cleared by ``SessionService.clear_finance`` or
``AppointmentService.clear_finance``, in a transaction of its own, so one refusal never undoes
another. A row not found - deleted, or an id of another organisation - is refused like any other
and names nothing of it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from appointments.appointment_service import AppointmentService
from appointments.clearance_selectors import APPOINTMENT, PARTICIPANT
from appointments.models import Appointment, SessionParticipant
from appointments.session_service import SessionService
from core.models import User


@dataclass(frozen=True)
class BookingKey:
    """A row of the queue: ``kind`` (``PARTICIPANT`` or ``APPOINTMENT``) and its id."""

    kind: str
    pk: int


@dataclass(frozen=True)
class ClearanceResult:
    """What became of one row: cleared, or refused and why; its number and child when found."""

    key: BookingKey
    cleared: bool
    message: str
    number: str = ""
    patient: str = ""


def clear_finance_many(keys: Sequence[BookingKey], *, user: User) -> list[ClearanceResult]:
    """Clear each booking of ``keys`` for ``user``, in order, each in its own transaction.

    Returns one result per key. Refused: a booking not in ``user``'s organisation, one already
    cleared, and whatever the clearing service refuses (a cancelled or finished booking), with
    the service's message.
    """
    participants = (
        SessionParticipant.objects.for_user(user)
        .select_related("patient")
        .in_bulk([key.pk for key in keys if key.kind == PARTICIPANT])
    )
    appointments = (
        Appointment.objects.for_user(user)
        .select_related("patient")
        .in_bulk([key.pk for key in keys if key.kind == APPOINTMENT])
    )
    found: dict[str, dict[int, SessionParticipant] | dict[int, Appointment]] = {
        PARTICIPANT: participants,
        APPOINTMENT: appointments,
    }
    return [_clear_one(key, found[key.kind].get(key.pk), user) for key in keys]


def _clear_one(
    key: BookingKey, booking: SessionParticipant | Appointment | None, user: User
) -> ClearanceResult:
    if booking is None:
        return ClearanceResult(key, cleared=False, message=_("Not found."))
    about = {"number": booking.appointment_number, "patient": booking.patient.full_name}
    if booking.finance_cleared:
        return ClearanceResult(key, cleared=False, message=_("Already cleared by finance."), **about)
    try:
        if isinstance(booking, SessionParticipant):
            SessionService.clear_finance(booking, user=user)
        else:
            AppointmentService.clear_finance(booking, user=user)
    except ValidationError as error:
        return ClearanceResult(key, cleared=False, message=" ".join(error.messages), **about)
    return ClearanceResult(key, cleared=True, message=_("Cleared."), **about)
