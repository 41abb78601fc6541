"""Read queries for scheduling pages and services: fixed query counts, seats annotated."""

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from appointments.booking_rules import consent_problem
from appointments.models import Appointment, CheckInRefusal, Session, SessionParticipant, WaitlistEntry
from core.models import Clinic, Consent, Patient, Provider, Room, User


def _count_per_session(rows: QuerySet) -> Coalesce:
    """``count(*)`` of ``rows`` (filtered on ``session=OuterRef("pk")``) as a per-row subquery.

    Per row, not a join and GROUP BY: a page of sessions counts only its own rows' seats,
    however many participants the table holds, and the session queryset stays ungrouped
    (its filters stay WHERE clauses, its ordering can use an index).
    """
    counted = rows.order_by().annotate(total=Func(F("pk"), function="COUNT")).values("total")
    return Coalesce(Subquery(counted), 0)


ACTIVE_SEATS = _count_per_session(
    SessionParticipant.objects.filter(session=OuterRef("pk")).exclude(
        status__in=SessionParticipant.INACTIVE_STATUSES
    )
)
# A waiting-list offer holds its seat until accepted or expired.
OFFERED_SEATS = _count_per_session(
    WaitlistEntry.objects.filter(session=OuterRef("pk"), status=WaitlistEntry.Status.OFFERED)
)


class SeatsTaken(TypedDict):
    seats_taken: int


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # A session annotated by ``with_seats_taken`` (quoted where used: no run-time form).
    SessionWithSeats = WithAnnotations[Session, SeatsTaken]


def with_seats_taken(sessions: QuerySet[Session]) -> "QuerySet[SessionWithSeats]":
    """Annotate ``seats_taken`` (active participants and waiting-list offers), read by
    ``Session.current_capacity``."""
    return sessions.annotate(seats_taken=ACTIVE_SEATS + OFFERED_SEATS)


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


def with_children(sessions: "QuerySet[SessionWithSeats]") -> "QuerySet[SessionWithSeats]":
    """Prefetch each session's participants with their patients into ``children`` (booking order),
    so schedule rows name the children in one more query however many rows there are."""
    children = SessionParticipant.objects.select_related("patient").order_by("booked_at", "pk")
    return sessions.prefetch_related(Prefetch("participants", queryset=children, to_attr="children"))


def sessions_visible_to(user: User) -> "QuerySet[SessionWithSeats]":
    """The user's tenant's sessions with seats annotated, what list pages show joined in and
    their children prefetched (``with_children``)."""
    sessions = with_seats_taken(Session.objects.for_user(user))
    return with_children(sessions).select_related("clinic", "provider__user", "room__clinic")


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


def _start_of(day: datetime.date) -> datetime.datetime:
    """The first moment of ``day`` in the installation's time zone (``core.clock``'s)."""
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time.min), timezone.get_default_timezone()
    )


def refused_for_the_day(session: Session) -> QuerySet[CheckInRefusal]:
    """The session's check-ins refused at a gate for its day: from the start of that day on.

    Check-in before the session's day stops before the gates, so a refusal can only be
    on the day or later (recording after the fact, the gates judged as of the day). One
    from before the day was for a day the session has since moved from: it doesn't count.
    """
    return CheckInRefusal.objects.filter(
        participant__session=session, refused_at__gte=_start_of(session.scheduled_date)
    )


def session_participants(session: Session) -> list[SessionParticipant]:
    """Participants in booking order, each with ``consent_issue`` (None when a valid consent is on
    file) and ``refused_for_the_day`` (a check-in gate refused them for the session's day)."""
    participants: list[SessionParticipant] = list(
        session.participants.select_related("patient", "finance_cleared_by")
        .prefetch_related("patient__consents")
        .annotate(refused_for_the_day=Exists(refused_for_the_day(session).filter(participant=OuterRef("pk"))))
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
    sessions = (
        sessions_visible_to(user)
        .filter(scheduled_date=day)
        .exclude(status=Session.Status.CANCELLED)
        .annotate(
            turned_away=Count(
                "participants", filter=Q(participants__status=SessionParticipant.Status.TURNED_AWAY)
            )
        )
    )
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


# The bookings a page of the patient chart shows in each of its timelines (upcoming, past).
CHART_PAGE_SIZE = 25


@dataclass
class ChartBookings:
    """One page of a patient's bookings, session places and legacy appointments in one timeline."""

    page: Page
    bookings: list[SessionParticipant | Appointment]

    @property
    def participations(self) -> list[SessionParticipant]:
        return [booking for booking in self.bookings if isinstance(booking, SessionParticipant)]

    @property
    def appointments(self) -> list[Appointment]:
        return [booking for booking in self.bookings if isinstance(booking, Appointment)]


@dataclass
class PatientChart:
    upcoming: ChartBookings
    past: ChartBookings
    consents: list[Consent]


def _booking_keys(patient: Patient, *, upcoming: bool, today: datetime.date) -> QuerySet:
    """The patient's session places and legacy appointments as one timeline of keys (day, start,
    kind, row): upcoming ones (today included) soonest first, past ones newest first. Each side
    reads the patient's own rows through its patient index, so a page costs what the child's
    history costs, not the size of the organisation."""
    when = "gte" if upcoming else "lt"
    places = (
        SessionParticipant.objects.filter(patient=patient, **{f"session__scheduled_date__{when}": today})
        .order_by()
        .values(
            day=F("session__scheduled_date"),
            start=F("session__scheduled_time"),
            kind=Value("participant"),
            row=F("pk"),
        )
    )
    appointments = (
        Appointment.objects.filter(patient=patient, **{f"scheduled_date__{when}": today})
        .order_by()
        .values(day=F("scheduled_date"), start=F("scheduled_time"), kind=Value("appointment"), row=F("pk"))
    )
    timeline = places.union(appointments, all=True)
    return (
        timeline.order_by("day", "start", "kind", "row")
        if upcoming
        else timeline.order_by("-day", "-start", "kind", "-row")
    )


def chart_for_patient(
    patient: Patient, today: datetime.date, *, upcoming_page: str | None = None, past_page: str | None = None
) -> PatientChart:
    """Bookings split at ``today`` (today counts as upcoming), a page of each: upcoming soonest
    first, past newest first; consents. Seven queries whatever the length of the history: a
    count and a page of keys per timeline, the places and appointments of both pages, consents."""
    upcoming = Paginator(_booking_keys(patient, upcoming=True, today=today), CHART_PAGE_SIZE)
    past = Paginator(_booking_keys(patient, upcoming=False, today=today), CHART_PAGE_SIZE)
    pages = (upcoming.get_page(upcoming_page), past.get_page(past_page))
    keys = [key for page in pages for key in page.object_list]
    # Django asks nothing for an empty ``pk__in``: a page without appointments is a query less.
    places = SessionParticipant.objects.filter(
        pk__in=[key["row"] for key in keys if key["kind"] == "participant"]
    ).select_related("session__clinic", "session__provider__user", "session__room")
    appointments = Appointment.objects.filter(
        pk__in=[key["row"] for key in keys if key["kind"] == "appointment"]
    ).select_related("clinic", "provider__user", "room")
    rows: dict[tuple[str, int], SessionParticipant | Appointment] = {
        **{("participant", place.pk): place for place in places},
        **{("appointment", appointment.pk): appointment for appointment in appointments},
    }
    consents = list(patient.consents.order_by("-signed_at", "pk"))
    for consent in consents:
        # An attribute for the template, not a field (declaring it on the model would claim every row has it).
        consent.valid_today = consent.is_valid_on(today)  # type: ignore[attr-defined]
    upcoming_bookings, past_bookings = (
        ChartBookings(page, [rows[key["kind"], key["row"]] for key in page.object_list]) for page in pages
    )
    return PatientChart(upcoming=upcoming_bookings, past=past_bookings, consents=consents)


def billing_queue(user: User, today: datetime.date) -> QuerySet[SessionParticipant]:
    """Billable no-shows and late cancellations (not waived), the latest first, for finance.

    A no-show is billable from its session's start, a late cancellation at most the clinic's
    window (``late_cancellation_hours``) before it: no billable booking lies further ahead
    than today plus the organisation's longest window. Bounding the sessions there lets
    PostgreSQL walk back by date from that day, rather than through a year of bookings
    ahead that can't be billable yet.
    """
    longest_window = Subquery(
        Clinic.objects.for_user(user)
        .order_by()
        .annotate(whole=Value(1))
        .values("whole")
        .annotate(hours=Max("late_cancellation_hours"))
        .values("hours")
    )
    # Days, rounded up: date + integer is a date in PostgreSQL.
    last_day = ExpressionWrapper(
        Value(today) + Coalesce(longest_window, 0) / 24 + 1, output_field=DateField()
    )
    return (
        SessionParticipant.objects.for_user(user)
        .filter(billable=True, session__scheduled_date__lte=last_day)
        .select_related("patient", "session__clinic")
        .order_by("-session__scheduled_date", "-session__scheduled_time", "-pk")
    )


def billing_review_queue(user: User) -> QuerySet[SessionParticipant]:
    """No-shows of sessions closed automatically, waiting for someone to confirm them, oldest first."""
    return (
        SessionParticipant.objects.for_user(user)
        .filter(billing_review_pending=True)
        .select_related("patient", "session__clinic")
        .order_by("session__scheduled_date", "session__scheduled_time", "pk")
    )


def stale_sessions(ended_by: datetime.datetime) -> list[Session]:
    """Sessions still scheduled or in progress that ended by ``ended_by``: nobody completed them.

    In every organisation (for ``close_stale_sessions``), by date and time.
    """
    zone = timezone.get_default_timezone()
    candidates = Session.objects.filter(
        status__in=Session.OPEN_STATUSES, scheduled_date__lte=timezone.localtime(ended_by, zone).date()
    ).order_by("scheduled_date", "scheduled_time", "pk")
    return [session for session in candidates if timezone.make_aware(session.ends_at, zone) <= ended_by]


@dataclass
class CompletionPreview:
    """What completing a session now does to each child still expected or arrived."""

    attended: list[SessionParticipant] = field(default_factory=list)
    turned_away: list[SessionParticipant] = field(default_factory=list)
    no_show: list[SessionParticipant] = field(default_factory=list)


def outcome_counts(session: Session) -> dict[str, int]:
    """How many of ``session``'s children attended, were no-shows and were turned away (one query)."""
    Status = SessionParticipant.Status
    return session.participants.aggregate(
        attended=Count("pk", filter=Q(status=Status.ATTENDED)),
        no_show=Count("pk", filter=Q(status=Status.NO_SHOW)),
        turned_away=Count("pk", filter=Q(status=Status.TURNED_AWAY)),
    )


def completion_preview(session: Session) -> CompletionPreview:
    """The outcome ``SessionService.complete_session`` gives each participant, for its confirmation page.

    Arrived: attended. Booked or confirmed: turned away when a check-in gate refused them for
    the session's day (``refused_for_the_day``, each with ``refusals``, the messages they
    were given), else no-show. In booking order, in two queries.
    """
    Status = SessionParticipant.Status
    participants = (
        session.participants.filter(status__in=[Status.ARRIVED, Status.BOOKED, Status.CONFIRMED])
        .select_related("patient")
        .prefetch_related(
            Prefetch("check_in_refusals", queryset=refused_for_the_day(session), to_attr="refusals")
        )
        .order_by("booked_at", "pk")
    )
    preview = CompletionPreview()
    for participant in participants:
        if participant.status == Status.ARRIVED:
            preview.attended.append(participant)
        elif participant.refusals:
            preview.turned_away.append(participant)
        else:
            preview.no_show.append(participant)
    return preview


# Waiting list


def with_waiting_position(entries: QuerySet[WaitlistEntry]) -> QuerySet[WaitlistEntry]:
    """Annotate ``waiting_position``, read by ``WaitlistEntry.position``: how many of the session's
    waiting entries come first, plus one. A subquery, so a filtered list keeps true positions."""
    ahead = (
        WaitlistEntry.objects.filter(session=OuterRef("session"), status=WaitlistEntry.Status.WAITING)
        .filter(
            Q(priority__lt=OuterRef("priority")) | Q(priority=OuterRef("priority"), pk__lt=OuterRef("pk"))
        )
        .order_by()
        .values("session")
        .annotate(ahead=Count("pk"))
        .values("ahead")
    )
    return entries.annotate(waiting_position=Coalesce(Subquery(ahead), 0) + 1)


def session_waitlist(session: Session, participants: list[SessionParticipant]) -> list[WaitlistEntry]:
    """The session's open waiting-list entries (offers first, then the waiting children in order),
    each with its child, in one query.

    Sets ``waitlist_promotion`` on each of ``participants``: the entry that booked them from the
    list while their family isn't told yet, else None.
    """
    Status = WaitlistEntry.Status
    entries = list(
        with_waiting_position(
            session.waitlist_entries.filter(
                Q(status__in=WaitlistEntry.OPEN_STATUSES)
                | Q(status=Status.BOOKED, family_told_at__isnull=True)
            )
        )
        .select_related("patient")
        .order_by("priority", "pk")
    )
    untold = {entry.participant_id: entry for entry in entries if entry.status == Status.BOOKED}
    for participant in participants:
        # An attribute for the template, not a field (declaring it on the model would claim every row has it).
        participant.waitlist_promotion = untold.get(participant.pk)  # type: ignore[attr-defined]
    return sorted(
        (entry for entry in entries if entry.status != Status.BOOKED),
        key=lambda entry: entry.status != Status.OFFERED,
    )


def sessions_with_lapsed_offers(now: datetime.datetime) -> list[Session]:
    """Sessions holding a waiting-list offer that ran out by ``now``, in every organisation (for
    ``manage.py expire_waitlist_offers``), by id."""
    lapsed = WaitlistEntry.objects.filter(status=WaitlistEntry.Status.OFFERED, offer_expires_at__lte=now)
    return list(Session.objects.filter(pk__in=lapsed.values("session_id")).order_by("pk"))
