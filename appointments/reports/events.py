"""The events the reports count: one per appointment number, with its outcome.

Each ``SessionParticipant`` is an event. A legacy ``Appointment`` is one too unless a
participant was back-filled from it (``SessionParticipant.legacy_appointment``): the two are
the same booking under the same number, so it is counted once, as the participant. Both
querysets are scoped to the user's organisation and narrowed by the report's filters; each
row carries ``outcome`` (an ``Outcome`` value) and ``day`` (the session's date).

Outcomes (README, Reports):

- attended: a participant marked attended, a legacy appointment completed;
- no-show; late cancellation (a cancelled participant flagged late); cancellation (any other
  cancelled participant or legacy appointment, the clinic's included); turned away;
- pending: booked, confirmed, arrived or in progress: not yet decided, counted nowhere.

The attendance rate is attended / (attended + no-show + late cancellation).
"""

from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext_lazy as _

from appointments.models import Appointment, ParticipantStatus, SessionParticipant
from appointments.reports.base import ReportFilters
from core.models import User


class Outcome(models.TextChoices):
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("No-show")
    LATE_CANCELLATION = "late_cancellation", _("Late cancellation")
    CANCELLATION = "cancellation", _("Cancellation")
    TURNED_AWAY = "turned_away", _("Turned away")
    PENDING = "pending", _("Not yet decided")


# The outcomes a report counts, in column order; the rate's denominator.
COUNTED_OUTCOMES = (
    Outcome.ATTENDED,
    Outcome.NO_SHOW,
    Outcome.LATE_CANCELLATION,
    Outcome.CANCELLATION,
    Outcome.TURNED_AWAY,
)
RATE_OUTCOMES = (Outcome.ATTENDED, Outcome.NO_SHOW, Outcome.LATE_CANCELLATION)
MISSED_OUTCOMES = (Outcome.NO_SHOW, Outcome.LATE_CANCELLATION)

# How the reports counting these events say so, in their notes.
COUNTED_ONCE = _(
    "Each appointment number is counted once: a legacy appointment back-filled into a "
    "session is counted as its participant, one not yet back-filled as itself."
)

PARTICIPANT_OUTCOME = Case(
    When(status=ParticipantStatus.ATTENDED, then=Value(Outcome.ATTENDED.value)),
    When(status=ParticipantStatus.NO_SHOW, then=Value(Outcome.NO_SHOW.value)),
    When(
        status=ParticipantStatus.CANCELLED,
        is_late_cancellation=True,
        then=Value(Outcome.LATE_CANCELLATION.value),
    ),
    When(status=ParticipantStatus.CANCELLED, then=Value(Outcome.CANCELLATION.value)),
    When(status=ParticipantStatus.TURNED_AWAY, then=Value(Outcome.TURNED_AWAY.value)),
    default=Value(Outcome.PENDING.value),
    output_field=models.CharField(),
)

APPOINTMENT_OUTCOME = Case(
    When(status=Appointment.Status.COMPLETED, then=Value(Outcome.ATTENDED.value)),
    When(status=Appointment.Status.NO_SHOW, then=Value(Outcome.NO_SHOW.value)),
    When(status=Appointment.Status.CANCELLED, then=Value(Outcome.CANCELLATION.value)),
    default=Value(Outcome.PENDING.value),
    output_field=models.CharField(),
)


def slot_filters(filters: ReportFilters, prefix: str) -> Q:
    """The filters on the booking's slot (a participant's session, or the appointment itself)."""
    condition = Q(**{f"{prefix}scheduled_date__range": (filters.date_from, filters.date_to)})
    if filters.clinic_id is not None:
        condition &= Q(**{f"{prefix}clinic_id": filters.clinic_id})
    if filters.specialty:
        condition &= Q(**{f"{prefix}clinic__specialty": filters.specialty})
    if filters.provider_id is not None:
        condition &= Q(**{f"{prefix}provider_id": filters.provider_id})
    if filters.service_type:
        condition &= Q(**{f"{prefix}service_type": filters.service_type})
    return condition


def participant_events(
    user: User, filters: ReportFilters, *, patient_id: int | None = None
) -> "models.QuerySet[SessionParticipant]":
    """The user's organisation's participants the filters select, with ``outcome`` and ``day``."""
    condition = slot_filters(filters, "session__")
    if filters.series_id is not None:
        condition &= Q(session__series_id=filters.series_id)
    if patient_id is not None:
        condition &= Q(patient_id=patient_id)
    return (
        SessionParticipant.objects.for_user(user)
        .filter(condition)
        .annotate(outcome=PARTICIPANT_OUTCOME, day=F("session__scheduled_date"))
    )


def appointment_events(
    user: User, filters: ReportFilters, *, patient_id: int | None = None
) -> "models.QuerySet[Appointment]":
    """The legacy appointments the filters select that no participant was back-filled from,
    with ``outcome`` and ``day``. A series filter selects none: legacy bookings have no series."""
    condition = slot_filters(filters, "") & Q(session_participant__isnull=True)
    if patient_id is not None:
        condition &= Q(patient_id=patient_id)
    events = (
        Appointment.objects.for_user(user)
        .filter(condition)
        .annotate(outcome=APPOINTMENT_OUTCOME, day=F("scheduled_date"))
    )
    # Empty, but with its annotations: callers filter and group on ``outcome`` and ``day``.
    return events.none() if filters.series_id is not None else events
