"""Read queries for the series pages: one query per list, whatever the number of series or sessions.

The counts and dates of a series are annotated as correlated subqueries rather than joined
aggregates: two ``Count``s over different relations in one query multiply each other's rows.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, IntegerField, Max, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from appointments.models import SeriesEnrolment, SeriesSkippedDate, Session, SessionSeries
from appointments.selectors import with_seats_taken
from core.models import Clinic, User

NOT_CANCELLED = ~Q(status=Session.Status.CANCELLED)


class SeriesCounts(TypedDict):
    sessions_planned: int
    sessions_held: int
    enrolled: int


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from appointments.selectors import SessionWithSeats

    # A series annotated by ``series_visible_to`` (quoted where used: no run-time form).
    SeriesWithCounts = WithAnnotations[SessionSeries, SeriesCounts]


def _of_series(
    queryset: QuerySet, aggregate: Count | Min | Max, output: IntegerField | None = None
) -> Subquery:
    """``aggregate`` over the rows of ``queryset`` belonging to the outer series."""
    rows = queryset.filter(series=OuterRef("pk")).order_by().values("series")
    return Subquery(rows.annotate(value=aggregate).values("value")[:1], output_field=output)


def series_visible_to(user: User) -> "QuerySet[SeriesWithCounts]":
    """The user's organisation's series, each with what the list shows.

    ``sessions_planned``: its sessions not cancelled; ``sessions_held``: those completed;
    ``first_date``/``last_date``: of the sessions not cancelled; ``enrolled``: children
    enrolled now (a group), or its one child (an individual series).
    """
    sessions = Session.objects.all()
    active = SeriesEnrolment.objects.filter(withdrawn_at__isnull=True)
    count = IntegerField()
    return (
        SessionSeries.objects.for_user(user)
        .select_related("clinic", "provider__user", "room", "patient")
        .annotate(
            sessions_planned=Coalesce(
                _of_series(sessions.filter(NOT_CANCELLED), Count("pk"), count), Value(0)
            ),
            sessions_held=Coalesce(
                _of_series(sessions.filter(status=Session.Status.COMPLETED), Count("pk"), count), Value(0)
            ),
            first_date=_of_series(sessions.filter(NOT_CANCELLED), Min("scheduled_date")),
            last_date=_of_series(sessions.filter(NOT_CANCELLED), Max("scheduled_date")),
            enrolled=Coalesce(_of_series(active, Count("pk"), count), Value(0)),
        )
    )


def filter_series(
    series: "QuerySet[SeriesWithCounts]", *, clinic: Clinic | None = None
) -> "QuerySet[SeriesWithCounts]":
    if clinic:
        series = series.filter(clinic=clinic)
    return series.order_by("-start_date", "scheduled_time", "pk")


def series_occurrences(series: SessionSeries) -> "list[SessionWithSeats]":
    """The series' sessions in date order, seats annotated (``Session.current_capacity``)."""
    sessions = with_seats_taken(series.sessions.all()).select_related("provider__user", "room")
    return list(sessions.order_by("scheduled_date", "scheduled_time", "pk"))


def series_skipped_dates(series: SessionSeries) -> list[SeriesSkippedDate]:
    return list(series.skipped_dates.order_by("date"))


def series_enrolments(series: SessionSeries) -> list[SeriesEnrolment]:
    """Every enrolment, the children enrolled now first, then those withdrawn."""
    enrolments = series.enrolments.select_related("patient", "enrolled_by", "withdrawn_by")
    return sorted(
        enrolments, key=lambda enrolment: (not enrolment.is_active, enrolment.enrolled_at, enrolment.pk)
    )


@dataclass(frozen=True)
class SeriesPosition:
    """Where a session stands in its series: ``number`` of ``total`` sessions not cancelled."""

    series: SessionSeries
    number: int | None  # None for a cancelled session
    total: int


def series_position(session: Session) -> SeriesPosition | None:
    """The session's place in its series (None outside one), in one query.

    The session's ``series`` is read as loaded: the access helper joins it in.
    """
    series = session.series
    if series is None:
        return None
    earlier = Q(scheduled_date__lt=session.scheduled_date) | Q(
        scheduled_date=session.scheduled_date, scheduled_time__lte=session.scheduled_time
    )
    counts = series.sessions.filter(NOT_CANCELLED).aggregate(
        number=Count("pk", filter=earlier), total=Count("pk")
    )
    number = None if session.status == Session.Status.CANCELLED else counts["number"]
    return SeriesPosition(series=series, number=number, total=counts["total"])
