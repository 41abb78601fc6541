"""Read queries for scheduling pages and services: fixed query counts, seats annotated."""

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, F, Q, QuerySet

from appointments.booking_rules import consent_problem
from appointments.models import Appointment, Session, SessionParticipant
from core.models import Clinic, Consent, Patient, Provider, Room, User

ACTIVE_PARTICIPANT = ~Q(participants__status=SessionParticipant.Status.CANCELLED)


class SeatsTaken(TypedDict):
    seats_taken: int


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # A session annotated by ``with_seats_taken`` (quoted where used: no run-time form).
    SessionWithSeats = WithAnnotations[Session, SeatsTaken]


def with_seats_taken(sessions: QuerySet[Session]) -> "QuerySet[SessionWithSeats]":
    """Annotate ``seats_taken`` (active participants), read by ``Session.current_capacity``."""
    return sessions.annotate(seats_taken=Count("participants", filter=ACTIVE_PARTICIPANT))


def available_group_sessions(
    clinic: Clinic,
    date_from: datetime.date,
    date_to: datetime.date,
    service_type: str | None = None,
) -> QuerySet[Session]:
    sessions = Session.objects.filter(
        clinic=clinic,
        session_type=Session.SessionType.GROUP,
        status=Session.Status.SCHEDULED,
        scheduled_date__gte=date_from,
        scheduled_date__lte=date_to,
    )
    if service_type:
        sessions = sessions.filter(service_type__iexact=service_type)
    return (
        with_seats_taken(sessions)
        .filter(seats_taken__lt=F("max_capacity"))
        .select_related("provider__user", "clinic", "room")
        .order_by("scheduled_date", "scheduled_time", "pk")
    )


def sessions_visible_to(user: User) -> "QuerySet[SessionWithSeats]":
    """The user's tenant's sessions with seats annotated and what list pages show joined in."""
    sessions = Session.objects.for_user(user)
    return with_seats_taken(sessions).select_related("clinic", "provider__user", "room__clinic")


def filter_sessions(
    sessions: "QuerySet[SessionWithSeats]",
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    clinic: Clinic | None = None,
    provider: Provider | None = None,
    session_type: str = "",
    status: str = "",
    free_seats_only: bool = False,
) -> "QuerySet[SessionWithSeats]":
    if date_from:
        sessions = sessions.filter(scheduled_date__gte=date_from)
    if date_to:
        sessions = sessions.filter(scheduled_date__lte=date_to)
    if clinic:
        sessions = sessions.filter(clinic=clinic)
    if provider:
        sessions = sessions.filter(provider=provider)
    if session_type:
        sessions = sessions.filter(session_type=session_type)
    if status:
        sessions = sessions.filter(status=status)
    if free_seats_only:
        sessions = sessions.filter(seats_taken__lt=F("max_capacity"))
    return sessions.order_by("scheduled_date", "scheduled_time", "pk")


def session_participants(session: Session) -> list[SessionParticipant]:
    """Participants in booking order, each with ``consent_issue`` (None when a valid consent is on file)."""
    participants = list(
        session.participants.select_related("patient", "finance_cleared_by")
        .prefetch_related("patient__consents")
        .order_by("booked_at", "pk")
    )
    for participant in participants:
        # An attribute for the template, not a field (declaring it on the model would claim every row has it).
        participant.consent_issue = consent_problem(  # type: ignore[attr-defined]
            participant.patient, session.clinic, session.scheduled_date
        )
    return participants


def appointments_visible_to(user: User) -> QuerySet[Appointment]:
    appointments = Appointment.objects.for_user(user)
    return appointments.select_related("clinic", "provider__user", "room__clinic", "patient")


def filter_appointments(
    appointments: QuerySet[Appointment],
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    clinic: Clinic | None = None,
    status: str = "",
) -> QuerySet[Appointment]:
    if date_from:
        appointments = appointments.filter(scheduled_date__gte=date_from)
    if date_to:
        appointments = appointments.filter(scheduled_date__lte=date_to)
    if clinic:
        appointments = appointments.filter(clinic=clinic)
    if status:
        appointments = appointments.filter(status=status)
    return appointments.order_by("scheduled_date", "scheduled_time", "pk")


@dataclass
class ScheduleEntry:
    booking: Session | Appointment

    @property
    def is_session(self) -> bool:
        return isinstance(self.booking, Session)


@dataclass
class ScheduleColumn:
    """One provider's or room's bookings of a day, sessions and legacy appointments by start time."""

    owner: Provider | Room | None
    entries: list[ScheduleEntry] = field(default_factory=list)


def day_schedule(user: User, day: datetime.date, group_by: str) -> list[ScheduleColumn]:
    """The day's active bookings in columns per provider (``group_by="provider"``) or per room."""
    sessions = sessions_visible_to(user).filter(scheduled_date=day).exclude(status=Session.Status.CANCELLED)
    appointments = (
        appointments_visible_to(user).filter(scheduled_date=day).exclude(status=Appointment.Status.CANCELLED)
    )
    columns: dict[int | None, ScheduleColumn] = {}
    bookings: list[Session | Appointment] = [*sessions, *appointments]
    for booking in bookings:
        owner = booking.provider if group_by == "provider" else booking.room
        key = owner.pk if owner is not None else None
        columns.setdefault(key, ScheduleColumn(owner=owner)).entries.append(ScheduleEntry(booking))
    for column in columns.values():
        column.entries.sort(key=lambda entry: (entry.booking.scheduled_time, entry.booking.pk))
    return sorted(columns.values(), key=lambda column: (column.owner is None, str(column.owner or "")))


def sessions_on(user: User, day: datetime.date, provider_user: User | None = None) -> QuerySet[Session]:
    """The day's sessions by start time (only ``provider_user``'s when given)."""
    sessions = sessions_visible_to(user).filter(scheduled_date=day)
    if provider_user is not None:
        sessions = sessions.filter(provider__user=provider_user)
    return sessions.order_by("scheduled_time", "pk")


def appointments_on(
    user: User, day: datetime.date, provider_user: User | None = None
) -> QuerySet[Appointment]:
    appointments = appointments_visible_to(user).filter(scheduled_date=day)
    if provider_user is not None:
        appointments = appointments.filter(provider__user=provider_user)
    return appointments.order_by("scheduled_time", "pk")


def participant_status_counts(
    user: User, day: datetime.date, provider_user: User | None = None
) -> dict[str, int]:
    """How many participants of the day's sessions are in each status (one query)."""
    participants = SessionParticipant.objects.for_user(user).filter(session__scheduled_date=day)
    if provider_user is not None:
        participants = participants.filter(session__provider__user=provider_user)
    rows = participants.values("status").annotate(total=Count("pk")).order_by()
    counts = dict.fromkeys(SessionParticipant.Status.values, 0)
    counts.update({row["status"]: row["total"] for row in rows})
    return counts


AWAITING_CLEARANCE = (
    SessionParticipant.Status.BOOKED,
    SessionParticipant.Status.CONFIRMED,
    SessionParticipant.Status.ARRIVED,
)


def clearance_queue_participants(user: User, from_day: datetime.date) -> QuerySet[SessionParticipant]:
    """Participants from ``from_day`` on whose clinic needs finance clearance they don't have yet."""
    return (
        SessionParticipant.objects.for_user(user)
        .filter(
            finance_cleared=False,
            status__in=AWAITING_CLEARANCE,
            session__status__in=Session.OPEN_STATUSES,
            session__scheduled_date__gte=from_day,
            session__clinic__requires_finance_clearance=True,
        )
        .select_related("patient", "session__clinic", "session__provider__user")
        .order_by("session__scheduled_date", "session__scheduled_time", "pk")
    )


def clearance_queue_appointments(user: User, from_day: datetime.date) -> QuerySet[Appointment]:
    return (
        appointments_visible_to(user)
        .filter(
            finance_cleared=False,
            status__in=[Appointment.Status.BOOKED, Appointment.Status.CONFIRMED, Appointment.Status.ARRIVED],
            scheduled_date__gte=from_day,
            clinic__requires_finance_clearance=True,
        )
        .order_by("scheduled_date", "scheduled_time", "pk")
    )


def patient_participations(patient: Patient) -> QuerySet[SessionParticipant]:
    return patient.session_participations.select_related(
        "session__clinic", "session__provider__user", "session__room"
    ).order_by("session__scheduled_date", "session__scheduled_time", "pk")


def patient_appointments(patient: Patient) -> QuerySet[Appointment]:
    return patient.appointments.select_related("clinic", "provider__user", "room").order_by(
        "scheduled_date", "scheduled_time", "pk"
    )


@dataclass
class PatientChart:
    upcoming_participations: list[SessionParticipant]
    past_participations: list[SessionParticipant]
    upcoming_appointments: list[Appointment]
    past_appointments: list[Appointment]
    consents: list[Consent]


def chart_for_patient(patient: Patient, today: datetime.date) -> PatientChart:
    """Bookings split at ``today`` (today counts as upcoming; past ones newest first), consents."""
    participations = list(patient_participations(patient))
    appointments = list(patient_appointments(patient))
    consents = list(patient.consents.order_by("-signed_at", "pk"))
    for consent in consents:
        # An attribute for the template, not a field (declaring it on the model would claim every row has it).
        consent.valid_today = consent.is_valid_on(today)  # type: ignore[attr-defined]
    return PatientChart(
        upcoming_participations=[p for p in participations if p.session.scheduled_date >= today],
        past_participations=[p for p in reversed(participations) if p.session.scheduled_date < today],
        upcoming_appointments=[a for a in appointments if a.scheduled_date >= today],
        past_appointments=[a for a in reversed(appointments) if a.scheduled_date < today],
        consents=consents,
    )
