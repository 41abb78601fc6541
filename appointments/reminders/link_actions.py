"""The confirm-or-cancel link: what a token still opens, and the family's confirm and cancel.

A token (``appointments.reminders.tokens``) names reminder rows and the start they were
written for. Each request checks them against the database again: the rows exist, belong to
one organisation and one kind of booking, none was voided by a move, each booking still
starts at the token's start, and that start is still ahead. A refusal says which of these
failed (``LinkRefused``). The writes go through ``SessionService`` and ``AppointmentService``
with no user: the family acts through the link, not a login.
"""

import datetime
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from appointments.appointment_service import AppointmentService
from appointments.models import Appointment, Session, SessionParticipant
from appointments.reminders.models import Reminder
from appointments.reminders.outbox import ACTIVE_APPOINTMENT, ACTIVE_PARTICIPANT
from appointments.reminders.tokens import BadToken, read_link_token
from appointments.session_service import SessionService
from core import clock
from core.models import Guardian, Patient, Tenant, in_active_language

CANCELLED_PARTICIPANT = SessionParticipant.INACTIVE_STATUSES
CancelCategory = SessionParticipant.CancelCategory
# The reasons a family gives; the clinic's own (closure, provider away) are not theirs to pick.
FAMILY_CATEGORIES = (
    CancelCategory.ILLNESS,
    CancelCategory.FAMILY_EMERGENCY,
    CancelCategory.TRANSPORT,
    CancelCategory.SCHEDULE_CONFLICT,
    CancelCategory.WEATHER,
    CancelCategory.OTHER,
)
ALL = "all"


class LinkRefused(Exception):
    """The link opens nothing: ``message`` tells the family why; ``gone`` when it once worked, and
    then ``language`` is the guardian's."""

    def __init__(self, message: str | Promise, *, gone: bool = True, language: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.gone = gone
        self.language = language


NOT_VALID = _("This link is not valid. Please check that you opened the whole link from the message.")
EXPIRED = _("This link has expired: the session has already started.")
MOVED = _(
    "This link no longer works because the session was moved. "
    "A new message with the new time has been sent; please use that one."
)
CANCELLED = _("This link no longer works because the session was cancelled.")
NOT_CHANGEABLE = _("This booking can no longer be changed through the link. Please call the centre.")


@dataclass(frozen=True)
class LinkedBooking:
    """One child's booking the link covers, as the family sees it."""

    reminder: Reminder
    booking: SessionParticipant | Appointment

    @property
    def key(self) -> str:
        return str(self.reminder.pk)

    @property
    def number(self) -> str:
        return self.booking.appointment_number

    @property
    def patient(self) -> Patient:
        return self.booking.patient

    @property
    def first_name(self) -> str:
        patient = self.booking.patient
        return in_active_language(patient.first_name_en, patient.first_name_ar)

    @property
    def status_label(self) -> str:
        return str(self.booking.get_status_display())

    @property
    def is_cancelled(self) -> bool:
        if isinstance(self.booking, Appointment):
            return self.booking.status == Appointment.Status.CANCELLED
        return (
            self.booking.status in CANCELLED_PARTICIPANT
            or self.booking.session.status == Session.Status.CANCELLED
        )

    @property
    def is_open(self) -> bool:
        """Booked or confirmed in a session still to come: the family may confirm or cancel."""
        if isinstance(self.booking, Appointment):
            return self.booking.status in ACTIVE_APPOINTMENT
        return (
            self.booking.status in ACTIVE_PARTICIPANT
            and self.booking.session.status == Session.Status.SCHEDULED
        )

    @property
    def can_confirm(self) -> bool:
        return self.is_open and self.booking.status == SessionParticipant.Status.BOOKED

    @property
    def starts_at(self) -> datetime.datetime:
        slot = self.booking if isinstance(self.booking, Appointment) else self.booking.session
        return timezone.make_aware(slot.starts_at, timezone.get_default_timezone())

    def cancelling_is_late(self, now: datetime.datetime) -> bool:
        """A family's cancellation now would be late and may be charged (sessions only: a legacy
        appointment records no late cancellation)."""
        if isinstance(self.booking, Appointment):
            return False
        window = datetime.timedelta(hours=self.booking.session.clinic.late_cancellation_hours)
        return self.starts_at - now < window


@dataclass(frozen=True)
class FamilyLink:
    """What a working link opens: one organisation's bookings of one start, for one guardian."""

    tenant: Tenant
    guardian: Guardian | None
    starts_at: datetime.datetime
    bookings: tuple[LinkedBooking, ...]

    @property
    def language(self) -> str:
        # A row whose guardian was since deleted: the language a new guardian gets by default.
        return self.guardian.preferred_language if self.guardian is not None else Guardian.Language.ARABIC

    @property
    def open_bookings(self) -> tuple[LinkedBooking, ...]:
        return tuple(booking for booking in self.bookings if booking.is_open)

    def chosen(self, key: str) -> tuple[LinkedBooking, ...]:
        """The open bookings ``key`` names: one (a reminder's id) or every one (``ALL``)."""
        return tuple(booking for booking in self.open_bookings if key in (ALL, booking.key))


def open_link(token: str, now: datetime.datetime | None = None) -> FamilyLink:
    """The bookings ``token`` still opens; LinkRefused, with the reason, when it opens none."""
    try:
        claim = read_link_token(token)
    except BadToken:
        raise LinkRefused(NOT_VALID, gone=False) from None
    rows = list(
        Reminder.objects.filter(pk__in=claim.reminder_ids)
        .select_related(
            "tenant",
            "guardian",
            "participant__patient",
            "participant__session__clinic",
            "appointment__patient",
            "appointment__clinic",
        )
        .order_by("pk")
    )
    if (
        len(rows) != len(claim.reminder_ids)
        or len({row.tenant_id for row in rows}) != 1
        or len({row.participant_id is None for row in rows}) != 1
    ):
        raise LinkRefused(NOT_VALID, gone=False)
    bookings = tuple(LinkedBooking(row, row.participant or row.appointment) for row in rows)
    # The rows' own tenant and their children's agree: one link never mixes organisations.
    if any(booking.patient.tenant_id != rows[0].tenant_id for booking in bookings):
        raise LinkRefused(NOT_VALID, gone=False)
    link = FamilyLink(
        tenant=rows[0].tenant,
        guardian=rows[0].guardian,
        starts_at=claim.scheduled_start,
        bookings=bookings,
    )
    if (now or clock.now()) >= claim.scheduled_start:
        raise LinkRefused(EXPIRED, language=link.language)
    for booking in bookings:
        # A booking the family (or the clinic) cancelled stays on the page as cancelled; one
        # still active whose row was voided, or that starts at another time, was moved.
        if not booking.is_cancelled and (
            booking.reminder.voided_at or booking.starts_at != claim.scheduled_start
        ):
            raise LinkRefused(MOVED, language=link.language)
    if all(booking.is_cancelled for booking in bookings):
        raise LinkRefused(CANCELLED, language=link.language)
    return link


Notice = tuple[str, str]  # (level: "success", "info" or "error"; the text for the family)


def confirm(link: FamilyLink, key: str) -> list[Notice]:
    """Confirm the bookings ``key`` names (one child, or every one): booked -> confirmed."""
    chosen = link.chosen(key)
    if not chosen:
        return [("error", str(NOT_CHANGEABLE))]
    notices: list[Notice] = []
    for booking in chosen:
        name = {"name": booking.first_name}
        if not booking.can_confirm:
            notices.append(("info", str(_("%(name)s's session was already confirmed.") % name)))
            continue
        try:
            if isinstance(booking.booking, Appointment):
                AppointmentService.confirm(booking.booking)
            else:
                SessionService.confirm_participant(booking.booking, user=None)
        except ValidationError as error:
            notices.extend(("error", message) for message in error.messages)
        else:
            notices.append(("success", str(_("%(name)s's session is confirmed. Thank you.") % name)))
    return notices


def cancel(link: FamilyLink, key: str, *, reason: str, category: str) -> list[Notice]:
    """Cancel the bookings ``key`` names as the family's cancellation (late inside the clinic's window)."""
    chosen = link.chosen(key)
    if not chosen:
        return [("error", str(NOT_CHANGEABLE))]
    notices: list[Notice] = []
    for booking in chosen:
        name = {"name": booking.first_name}
        try:
            if isinstance(booking.booking, Appointment):
                AppointmentService.cancel(booking.booking, reason)
                late = False
            else:
                participant = SessionService.cancel_participant(
                    booking.booking,
                    reason,
                    user=None,
                    cancelled_by=SessionParticipant.CancelledBy.FAMILY,
                    category=category,
                )
                late = participant.is_late_cancellation
        except ValidationError as error:
            notices.extend(("error", message) for message in error.messages)
            continue
        notices.append(("success", str(_("%(name)s's session is cancelled.") % name)))
        if late:
            notices.append(("info", str(_("The cancellation was late: the session may be charged."))))
    return notices


class CancelForm(forms.Form):
    """Why the family cancels; inside the late window they also say they know it may be charged."""

    reason = forms.CharField(
        label=_("Why are you cancelling?"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    category = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", _("Choose…")), *((value, CancelCategory(value).label) for value in FAMILY_CATEGORIES)],
    )
    accept_late = forms.BooleanField(
        label=_("I understand that this late cancellation may be charged."), required=False
    )

    def __init__(self, *args: object, late: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.late = late
        if not late:
            del self.fields["accept_late"]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if self.late and not cleaned.get("accept_late"):
            self.add_error(
                "accept_late",
                _("Tick the box to confirm that you know this late cancellation may be charged."),
            )
        return cleaned
