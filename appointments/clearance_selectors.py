"""The finance clearance queue: session places and legacy appointments waiting for finance, as one list.

Both kinds are read as rows of the same columns and merged by PostgreSQL (``UNION ALL``),
ordered by day, time, clinic and number, so a paginator counts and slices the one list
(``queue_rows``); the bookings of a page are then fetched with what the table shows
(``queue_page``). A page costs the same few queries however long the queue is.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, F, QuerySet, Value

from appointments.models import Appointment, Session, SessionParticipant
from core.models import Clinic, Patient, User
from core.selectors import search_patients

PARTICIPANT = "participant"
APPOINTMENT = "appointment"
# The queue's default span: today and the next week.
DEFAULT_DAYS_AHEAD = 7

PARTICIPANT_STATUSES = (
    SessionParticipant.Status.BOOKED,
    SessionParticipant.Status.CONFIRMED,
    SessionParticipant.Status.ARRIVED,
)
APPOINTMENT_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED, Appointment.Status.ARRIVED)


@dataclass(frozen=True)
class QueueFilters:
    """Which bookings the queue lists: from ``date_from`` to ``date_to`` (both included), in
    ``clinic`` (None: every clinic), of the children ``query`` finds by name or MRN (blank: all)."""

    date_from: datetime.date
    date_to: datetime.date
    clinic: Clinic | None = None
    query: str = ""

    @classmethod
    def default(cls, today: datetime.date) -> "QueueFilters":
        return cls(today, today + datetime.timedelta(days=DEFAULT_DAYS_AHEAD))


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue: a session place or a legacy appointment, and the slot it is in."""

    booking: SessionParticipant | Appointment

    @property
    def kind(self) -> str:
        return PARTICIPANT if isinstance(self.booking, SessionParticipant) else APPOINTMENT

    @property
    def slot(self) -> Session | Appointment:
        """Where the date, time, clinic and service are: the session of a place, else the appointment."""
        return self.booking.session if isinstance(self.booking, SessionParticipant) else self.booking

    @property
    def key(self) -> str:
        """What the page's checkbox sends for this row (``participant-12``, ``appointment-7``)."""
        return f"{self.kind}-{self.booking.pk}"


def _found_patients(user: User, query: str) -> QuerySet[Patient, Any]:
    return search_patients(user, query).order_by().values("pk")


def waiting_participants(user: User, filters: QueueFilters) -> QuerySet[SessionParticipant]:
    """Places in open sessions of clinics needing clearance, expected or arrived, not cleared yet."""
    participants = SessionParticipant.objects.for_user(user).filter(
        finance_cleared=False,
        status__in=PARTICIPANT_STATUSES,
        session__status__in=Session.OPEN_STATUSES,
        session__scheduled_date__range=(filters.date_from, filters.date_to),
        session__clinic__requires_finance_clearance=True,
    )
    if filters.clinic is not None:
        participants = participants.filter(session__clinic=filters.clinic)
    if filters.query:
        participants = participants.filter(patient__in=_found_patients(user, filters.query))
    return participants


def waiting_appointments(user: User, filters: QueueFilters) -> QuerySet[Appointment]:
    """Legacy appointments of clinics needing clearance, expected or arrived, not cleared yet.

    An appointment back-filled into a session is one booking with its participant (same
    number, DESIGN "Decisions"): the participant stands for it in the queue.
    """
    appointments = Appointment.objects.for_user(user).filter(
        finance_cleared=False,
        status__in=APPOINTMENT_STATUSES,
        scheduled_date__range=(filters.date_from, filters.date_to),
        clinic__requires_finance_clearance=True,
        session_participant__isnull=True,
    )
    if filters.clinic is not None:
        appointments = appointments.filter(clinic=filters.clinic)
    if filters.query:
        appointments = appointments.filter(patient__in=_found_patients(user, filters.query))
    return appointments


def _columns(kind: str, slot: str) -> dict[str, Any]:
    """The columns both kinds share, in one order (a UNION pairs them by position); ``slot`` leads
    from the row to its date, time and clinic."""
    return {
        "kind": Value(kind, output_field=CharField()),
        "row_id": F("pk"),
        "day": F(f"{slot}scheduled_date"),
        "time": F(f"{slot}scheduled_time"),
        "clinic_name": F(f"{slot}clinic__name_en"),
        "number": F("appointment_number"),
    }


def queue_rows(user: User, filters: QueueFilters) -> QuerySet[Any, dict[str, Any]]:
    """Every booking waiting for clearance that ``filters`` keep, as ``kind``/``row_id`` rows in
    queue order: day, time, clinic, then number (unique in an organisation, so pages never overlap)."""
    # Typed as rows of no one model: the union's columns are its own, not a model's fields.
    participants: QuerySet[Any, Any] = (
        waiting_participants(user, filters).order_by().values(**_columns(PARTICIPANT, "session__"))
    )
    appointments = waiting_appointments(user, filters).order_by().values(**_columns(APPOINTMENT, ""))
    return participants.union(appointments, all=True).order_by("day", "time", "clinic_name", "number")


def queue_page(user: User, rows: Iterable[dict[str, Any]]) -> list[QueueRow]:
    """The bookings of ``rows`` (a page of ``queue_rows``), in its order: two queries at most.

    A row gone since the page was counted (its booking deleted) is left out.
    """
    rows = list(rows)
    ids: dict[str, list[int]] = {PARTICIPANT: [], APPOINTMENT: []}
    for row in rows:
        ids[row["kind"]].append(row["row_id"])
    found: dict[str, dict[Any, SessionParticipant] | dict[Any, Appointment]] = {
        PARTICIPANT: SessionParticipant.objects.for_user(user)
        .select_related("patient", "session__clinic")
        .in_bulk(ids[PARTICIPANT]),
        APPOINTMENT: Appointment.objects.for_user(user)
        .select_related("patient", "clinic")
        .in_bulk(ids[APPOINTMENT]),
    }
    bookings = (found[row["kind"]].get(row["row_id"]) for row in rows)
    return [QueueRow(booking) for booking in bookings if booking is not None]
