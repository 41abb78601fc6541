"""When a session step, a booking or a signature may happen.

Two levels, so the record can still be kept after the fact:

- The services refuse what is never right: running a session before its day
  (``refuse_before_the_day``) and signing the note of a child who didn't come or of a
  session that hasn't started (``signing_problem``). They don't look at the hour, so a
  session completed earlier on its day (the seed's example) or recorded later still works,
  and their tests don't depend on the time they run.
- The pages, forms and admin actions add the time-of-day and calendar rules: start no
  more than the clinic's ``start_lead_minutes`` before the start, complete and no-show
  from the start time (``refuse_early_start``, ``refuse_before_the_start``), and no
  booking in the past, past midnight or beyond the clinic's ``booking_horizon_months``
  (``refuse_past_day``, ``refuse_past_midnight``, ``refuse_beyond_the_horizon``).

Every rule takes ``today`` or ``now`` as a parameter (callers pass ``core.clock``'s), so
tests pin it. Times are wall-clock times in the installation's time zone, as the
bookings store them.
"""

import datetime
import enum

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from appointments.exceptions import BookingWindowError, TooEarly
from appointments.models import Appointment, Session, SessionParticipant
from appointments.notes.models import ClinicalNote
from core.models import Clinic


class Step(enum.StrEnum):
    """The session steps bound to the session's time."""

    START = "start"
    COMPLETE = "complete"
    NO_SHOW = "no_show"


def _day(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _time(moment: datetime.datetime | datetime.time) -> str:
    return time_format(moment, "H:i")


def wall_clock(now: datetime.datetime) -> datetime.datetime:
    """``now`` as a naive wall-clock time in the installation's zone, comparable with ``starts_at``."""
    return timezone.localtime(now, timezone.get_default_timezone()).replace(tzinfo=None)


# Services: the session's day


def refuse_before_the_day(session: Session, today: datetime.date, step: Step) -> None:
    """TooEarly when ``today`` is before the session's day: a step that can't have happened yet."""
    if today >= session.scheduled_date:
        return
    messages = {
        Step.START: _("This session is on %(day)s; it can't be started before that day."),
        Step.COMPLETE: _("This session is on %(day)s; it can't be completed before that day."),
        Step.NO_SHOW: _("This session is on %(day)s; nobody can be marked a no-show before that day."),
    }
    raise TooEarly(messages[step] % {"day": _day(session.scheduled_date)})


# Pages: the time of day


def start_opens_at(session: Session) -> datetime.datetime:
    """The earliest wall-clock moment the pages offer Start: the clinic's lead before the start."""
    return session.starts_at - datetime.timedelta(minutes=session.clinic.start_lead_minutes)


def may_start(session: Session, now: datetime.datetime) -> bool:
    return wall_clock(now) >= start_opens_at(session)


def has_begun(session: Session, now: datetime.datetime) -> bool:
    """Whether the session's start time has come: Complete and No-show are offered from then."""
    return wall_clock(now) >= session.starts_at


def refuse_early_start(session: Session, now: datetime.datetime) -> None:
    """TooEarly when Start is asked for more than the clinic's lead before the start."""
    if may_start(session, now):
        return
    opens = start_opens_at(session)
    raise TooEarly(
        _("This session starts at %(time)s on %(day)s; it can be started from %(opens)s on %(opens_day)s.")
        % {
            "time": _time(session.starts_at),
            "day": _day(session.scheduled_date),
            "opens": _time(opens),
            "opens_day": _day(opens.date()),
        }
    )


def refuse_before_the_start(session: Session, now: datetime.datetime, step: Step) -> None:
    """TooEarly when Complete or No-show is asked for before the session's start time."""
    if has_begun(session, now):
        return
    messages = {
        Step.COMPLETE: _("This session starts at %(time)s on %(day)s; it can be completed from then."),
        Step.NO_SHOW: _("This session starts at %(time)s on %(day)s; a no-show can be marked from then."),
    }
    raise TooEarly(messages[step] % {"time": _time(session.starts_at), "day": _day(session.scheduled_date)})


# Forms: the booking calendar


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` moved on by ``months`` calendar months, kept to the last day of a shorter month."""
    return day + relativedelta(months=months)


def horizon_end(clinic: Clinic, today: datetime.date) -> datetime.date:
    """The last day the pages book for ``clinic``: ``booking_horizon_months`` after today."""
    return add_months(today, clinic.booking_horizon_months)


def refuse_past_day(day: datetime.date, today: datetime.date) -> None:
    """BookingWindowError for a day before today (today is fine; the services accept past days)."""
    if day < today:
        raise BookingWindowError(_("The date is in the past; choose today or a later day."))


def refuse_beyond_the_horizon(day: datetime.date, clinic: Clinic, today: datetime.date) -> None:
    """BookingWindowError for a day after the clinic's booking horizon."""
    last = horizon_end(clinic, today)
    if day > last:
        raise BookingWindowError(
            _("%(clinic)s books up to %(months)d months ahead: choose a date until %(day)s.")
            % {"clinic": clinic, "months": clinic.booking_horizon_months, "day": _day(last)}
        )


def refuse_past_midnight(scheduled_date: datetime.date, scheduled_time: datetime.time, duration: int) -> None:
    """BookingWindowError for a slot that ends after the midnight closing its day (ending at it is fine)."""
    start = datetime.datetime.combine(scheduled_date, scheduled_time)
    midnight = datetime.datetime.combine(scheduled_date + datetime.timedelta(days=1), datetime.time())
    if start + datetime.timedelta(minutes=duration) > midnight:
        raise BookingWindowError(
            _("A slot from %(time)s for %(minutes)d minutes would end after midnight; it must end by 00:00.")
            % {"time": _time(scheduled_time), "minutes": duration}
        )


# Signing

CAME = (SessionParticipant.Status.ARRIVED, SessionParticipant.Status.ATTENDED)
SESSION_STARTED = (Session.Status.IN_PROGRESS, Session.Status.COMPLETED)
APPOINTMENT_STARTED = (Appointment.Status.IN_PROGRESS, Appointment.Status.COMPLETED)


def signing_problem(note: ClinicalNote) -> str | None:
    """Why ``note`` can't be signed yet, or None: its child must have come and its session started.

    A session's note: the participant arrived or attended, the session in progress or
    completed. A legacy appointment's note: the appointment in progress or completed
    (it starts only once the child arrived). A note linked to neither (written before
    the scheduling records) has nothing to wait for.
    """
    participant = note.session_participant if note.session_participant_id else None
    if participant is not None:
        if participant.status not in CAME:
            return _("%(patient)s is marked %(status)s: sign the note once the child has come.") % {
                "patient": note.patient.full_name,
                "status": participant.get_status_display().lower(),
            }
        session = note.session or participant.session  # the same one; the note's comes loaded with it
        if session.status not in SESSION_STARTED:
            return _("The session is %(status)s: sign the note once it has started.") % {
                "status": session.get_status_display().lower()
            }
        return None
    appointment = note.appointment if note.appointment_id else None
    if appointment is not None and appointment.status not in APPOINTMENT_STARTED:
        return _("The appointment is %(status)s: sign the note once it has started.") % {
            "status": appointment.get_status_display().lower()
        }
    return None
