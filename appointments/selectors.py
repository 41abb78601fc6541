"""Read queries for scheduling pages and services: fixed query counts, seats annotated."""

import datetime

from django.db.models import Count, F, Q, QuerySet

from appointments.models import Session, SessionParticipant
from core.models import Clinic

ACTIVE_PARTICIPANT = ~Q(participants__status=SessionParticipant.Status.CANCELLED)


def with_seats_taken(sessions: QuerySet[Session]) -> QuerySet[Session]:
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
