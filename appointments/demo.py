"""The demo organisation: reference data, opening and working hours, patients, two weeks of
sessions and a 10-week group series.

Two halves. ``plan_demo(today)`` is pure data: which child gets which booking on
which day and how each booking ends, decided by the booking's place in the demo
fortnight and never by the calendar, so every status appears whatever the date.
``load_demo`` carries the plan out through the same services staff use, so every
number, status and history row is one the product could have produced itself.
"""

import contextlib
import datetime
import enum
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from appointments.appointment_service import AppointmentService
from appointments.exceptions import CheckInBlocked
from appointments.models import Appointment, Session, SessionParticipant
from appointments.notes.registry import note_kinds
from appointments.notes.services import NoteService
from appointments.reminders.messages import DEFAULT_WORDS
from appointments.reminders.models import MessageTemplate, ReminderRule
from appointments.series_service import SeriesService
from appointments.session_service import SessionService
from core import clock
from core.guardian_service import GuardianDetails, GuardianService
from core.models import (
    Clinic,
    ClinicHoliday,
    Consent,
    Guardian,
    OpeningHours,
    OpeningHoursOverride,
    Patient,
    Provider,
    ProviderLeave,
    ProviderWorkingHours,
    Room,
    ServiceName,
    Tenant,
    User,
)

DEMO_TENANT_CODE = "AGDAR"
WORKING_WEEKDAYS = {6, 0, 1, 2, 3}  # Sunday to Thursday
FIRST_NAMES = [
    ("Sara", "سارة"), ("Omar", "عمر"), ("Layla", "ليلى"), ("Yusuf", "يوسف"), ("Noura", "نورة"),
    ("Faisal", "فيصل"), ("Huda", "هدى"), ("Khalid", "خالد"), ("Reem", "ريم"), ("Ali", "علي"),
    ("Maha", "مها"), ("Saad", "سعد"), ("Jana", "جنى"), ("Fahad", "فهد"), ("Lama", "لمى"),
]  # fmt: skip
LAST_NAMES = [
    ("Al-Otaibi", "العتيبي"), ("Al-Harbi", "الحربي"), ("Al-Qahtani", "القحطاني"),
    ("Al-Ghamdi", "الغامدي"),
]  # fmt: skip
CLINICS = [
    (Clinic.Specialty.PSYCHOLOGY, "Psychology Clinic", "عيادة علم النفس", User.Role.PSYCHOLOGIST,
     "Individual Therapy", "Social Skills Group"),
    (Clinic.Specialty.OT, "Occupational Therapy Clinic", "عيادة العلاج الوظيفي",
     User.Role.OCCUPATIONAL_THERAPIST, "OT Session", "Fine Motor Group"),
    (Clinic.Specialty.ABA, "ABA Clinic", "عيادة تحليل السلوك التطبيقي", User.Role.ABA_THERAPIST,
     "ABA Session", "Play Skills Group"),
]  # fmt: skip
STAFF = [
    ("admin", "Amal", "Admin", User.Role.ADMIN),
    ("frontdesk", "Fatimah", "Desk", User.Role.FRONT_DESK),
    ("finance", "Majed", "Finance", User.Role.FINANCE),
]
# The clinic's administrator (``admin``, role administrator) is staff of AGDAR: a tenant
# administrator in Django admin, never a superuser. The platform's operator is the one
# superuser, of no organisation, with a login of its own.
OPERATOR = ("operator", "Osama", "Operator")
# Username, first and last name, and the Arabic name with its title (Provider.name_ar).
CLINICIANS = {
    Clinic.Specialty.PSYCHOLOGY: [
        ("psychologist", "Sara", "Haddad", "د. سارة حداد"),
        ("psychologist2", "Nasser", "Saleh", "د. ناصر صالح"),
    ],
    Clinic.Specialty.OT: [
        ("ot", "Omar", "Rashid", "د. عمر راشد"),
        ("ot2", "Dana", "Yousef", "د. دانة يوسف"),
    ],
    Clinic.Specialty.ABA: [
        ("aba", "Layla", "Karim", "د. ليلى كريم"),
        ("aba2", "Hisham", "Aziz", "د. هشام عزيز"),
    ],
}
# Each clinic's rooms are "<first word of its name> Room <n>" and, in Arabic, "<this> <n>".
ROOM_NAMES_AR = {
    Clinic.Specialty.PSYCHOLOGY: "غرفة علم النفس",
    Clinic.Specialty.OT: "غرفة العلاج الوظيفي",
    Clinic.Specialty.ABA: "غرفة تحليل السلوك",
}
# The catalogue of service names (core.ServiceName): the services the plan books (CLINICS),
# and one offered to every clinic (blank specialty).
SERVICE_NAMES = [
    (Clinic.Specialty.PSYCHOLOGY, "Individual Therapy", "علاج فردي"),
    (Clinic.Specialty.PSYCHOLOGY, "Social Skills Group", "مجموعة المهارات الاجتماعية"),
    (Clinic.Specialty.OT, "OT Session", "جلسة علاج وظيفي"),
    (Clinic.Specialty.OT, "Fine Motor Group", "مجموعة المهارات الحركية الدقيقة"),
    (Clinic.Specialty.ABA, "ABA Session", "جلسة تحليل السلوك التطبيقي"),
    (Clinic.Specialty.ABA, "Play Skills Group", "مجموعة مهارات اللعب"),
    ("", "Assessment", "تقييم"),
]
PATIENT_COUNT = 60
DAY_OFFSETS = range(-7, 8)  # a week back, today, a week ahead


# The plan: pure data - no database, no clock. ------------------------------------

SessionStatus = Session.Status
ParticipantStatus = SessionParticipant.Status
AppointmentStatus = Appointment.Status

# One lane per provider, in CLINICS order: lane = clinic index * 2 + provider index.
LANES = [
    (clinic_index, provider_index)
    for clinic_index, (specialty, *_) in enumerate(CLINICS)
    for provider_index in range(len(CLINICIANS[specialty]))
]
# Each lane draws from its own children, so no child is ever booked by two providers at once.
CHILDREN_PER_LANE = PATIENT_COUNT // len(LANES)
GROUP_SIZE = 4
GROUP_CAPACITY = 6
# A provider's day, in time order; the slots don't overlap, so neither do their children.
GROUP_SLOT = (datetime.time(10, 0), 60)
INDIVIDUAL_SLOT = (datetime.time(12, 0), 45)
APPOINTMENT_SLOT = (datetime.time(14, 0), 45)
# Every clinic's week: a split shift on the working days, the sessions in the morning, the
# legacy appointments after the break.
OPENING_HOURS = ((datetime.time(8, 0), datetime.time(13, 0)), (datetime.time(14, 0), datetime.time(18, 0)))
OPEN_DAY = "Weekend open day"
TRAINING_DAY = "Staff training day"
# The providers' week: full days from Sunday to Thursday, but one provider is part-time,
# with a split shift that still takes in each of their daily bookings.
WORKING_HOURS = ((datetime.time(8, 0), datetime.time(17, 0)),)
PART_TIME_LANE = 5
PART_TIME_HOURS = (
    (datetime.time(9, 30), datetime.time(13, 0)),
    (datetime.time(13, 45), datetime.time(15, 0)),
)
HOLIDAY = "Public holiday"
ON_LEAVE_LANE = 1
LEAVE_DAYS = 3
LEAVE_REASON = "Annual leave"
# The children of a day are a rotation of the lane's pool; today's rotation puts the
# lane's lapsed-consent child (pool position 9) last in the morning group.
TODAY_ROTATION = 6
GROUP_NOTES = "Turn-taking and shared play."
UNWELL = "Provider unwell"
TRAVELLING = "Family travelling"
REBOOKED = "Rebooked as a group place"
# A 10-week social-skills group after the lane's day ends, on the holiday's weekday from the
# coming week: it skips the holiday and runs a week longer. Three of the lane's children are
# enrolled in it.
SERIES_LANE = 3
SERIES_SLOT = (datetime.time(15, 30), 60)
SERIES_WEEKS = 10
SERIES_CHILDREN = 3
SERIES_TITLE = "Social skills, 10 weeks"


def has_lapsed_consent(child: int) -> bool:
    """Every tenth child (patients 10, 20, ...) has a lapsed consent, so a refused check-in shows."""
    return (child + 1) % 10 == 0


class Stage(enum.Enum):
    """Where a booking stands when the demo is loaded."""

    OFF_SICK = "off sick"  # a past day the provider was unwell: cancelled
    DONE = "done"  # in the past, or earlier today
    CURRENT = "current"  # under way now
    NEXT = "next"  # the provider's next booking today: its patients are waiting
    LATER = "later"  # later today
    AHEAD = "ahead"  # a future day


@dataclass(frozen=True)
class PlannedParticipant:
    child: int  # index into the demo's patients, 0 to PATIENT_COUNT - 1
    status: str
    cancel_reason: str = ""


@dataclass(frozen=True)
class PlannedSession:
    day: datetime.date
    lane: int
    session_type: str
    start: datetime.time
    duration: int
    status: str
    participants: tuple[PlannedParticipant, ...]
    group_notes: str = ""
    cancel_reason: str = ""


@dataclass(frozen=True)
class PlannedAppointment:
    day: datetime.date
    lane: int
    child: int
    start: datetime.time
    duration: int
    status: str
    cancel_reason: str = ""


@dataclass(frozen=True)
class PlannedOverride:
    """A dated exception to the clinics' week: these intervals that day, or closed when none."""

    day: datetime.date
    intervals: tuple[tuple[datetime.time, datetime.time], ...]
    note: str


@dataclass(frozen=True)
class PlannedWorkingHours:
    """One interval of a lane's provider's week, at their clinic."""

    lane: int
    weekday: int
    starts_at: datetime.time
    ends_at: datetime.time


@dataclass(frozen=True)
class PlannedLeave:
    """A lane's provider away from the start of ``first_day`` to the end of ``last_day``."""

    lane: int
    first_day: datetime.date
    last_day: datetime.date
    reason: str


@dataclass(frozen=True)
class PlannedSeries:
    """A lane's weekly group series: ``weeks`` sessions held from ``first_day``, ``children`` enrolled."""

    lane: int
    first_day: datetime.date
    start: datetime.time
    duration: int
    weeks: int
    title: str
    children: tuple[int, ...]


@dataclass(frozen=True)
class DemoPlan:
    """Every booking of the demo with the status it ends in, the clinics' dated hours and
    holidays, and the providers' working hours and leave."""

    today: datetime.date
    days: tuple[datetime.date, ...]
    sessions: tuple[PlannedSession, ...]
    appointments: tuple[PlannedAppointment, ...]
    overrides: tuple[PlannedOverride, ...] = ()
    working_hours: tuple[PlannedWorkingHours, ...] = ()
    holidays: tuple[tuple[datetime.date, str], ...] = ()
    leave: tuple[PlannedLeave, ...] = ()
    series: tuple[PlannedSeries, ...] = ()

    def on(self, day: datetime.date) -> Iterator[PlannedSession | PlannedAppointment]:
        """The bookings of ``day``, provider by provider in time order."""
        for lane in range(len(LANES)):
            for session in self.sessions:
                if session.day == day and session.lane == lane:
                    yield session
            for appointment in self.appointments:
                if appointment.day == day and appointment.lane == lane:
                    yield appointment


def plan_demo(today: datetime.date) -> DemoPlan:
    """The demo fortnight around ``today``: the working days (Sunday to Thursday) of the
    week before and the week after, and today itself even on a weekend, so that the
    day under way always shows.

    Outcomes follow from a booking's place - its lane, the index of its day among the
    past or future working days (a week always holds five) and its slot - never from
    the date itself: past days are done (one sick day per lane, some no-shows, a lapsed
    consent turned away), today every provider is somewhere in their day, the future is
    booked, confirmed or cancelled. So every status of every kind appears on any date.

    The clinics open ``OPENING_HOURS`` on the working days; a weekend "today" opens the
    same hours as a dated override, and the first working day after the fortnight is a
    closed training day, so both kinds of override show. The next working day is a
    holiday of every clinic, and the three working days after it one provider's leave:
    neither touches a booking. A 10-week group series (``SERIES_*``) starts in the coming
    week on the holiday's weekday, after its lane's day, so it skips the holiday and ends a
    week later; three of the lane's children are enrolled.

    The providers work ``WORKING_HOURS`` on the working days, the part-time one
    ``PART_TIME_HOURS``. Working hours are weekly, with no dated exception, so a weekend
    "today" (the open day) makes that weekday a working day of everyone's week.
    """
    past = [today + datetime.timedelta(days=offset) for offset in DAY_OFFSETS if offset < 0]
    future = [today + datetime.timedelta(days=offset) for offset in DAY_OFFSETS if offset > 0]
    past = [day for day in past if day.weekday() in WORKING_WEEKDAYS]
    future = [day for day in future if day.weekday() in WORKING_WEEKDAYS]
    sessions: list[PlannedSession] = []
    appointments: list[PlannedAppointment] = []
    for position, day in enumerate([*past, today, *future]):
        index = position if day < today else 0 if day == today else position - len(past) - 1
        rotation = (TODAY_ROTATION + position - len(past)) % CHILDREN_PER_LANE
        for lane in range(len(LANES)):
            first = lane * CHILDREN_PER_LANE
            pool = [first + (rotation + k) % CHILDREN_PER_LANE for k in range(CHILDREN_PER_LANE)]
            group, individual, appointment = _stages(day, today, index, lane)
            notes = GROUP_NOTES if day <= today else ""
            sessions.append(
                _planned_session(day, lane, index, group, Session.SessionType.GROUP, pool[:GROUP_SIZE], notes)
            )
            sessions.append(
                _planned_session(day, lane, index, individual, Session.SessionType.INDIVIDUAL, pool[5:6])
            )
            appointments.append(_planned_appointment(day, lane, index, appointment, pool[7]))
    overrides = []
    if today.weekday() not in WORKING_WEEKDAYS:
        overrides.append(PlannedOverride(today, OPENING_HOURS, OPEN_DAY))
    closed = future[-1] + datetime.timedelta(days=1)
    while closed.weekday() not in WORKING_WEEKDAYS:
        closed += datetime.timedelta(days=1)
    overrides.append(PlannedOverride(closed, (), TRAINING_DAY))
    holiday = _next_working_day(closed)
    series_start = today + datetime.timedelta(days=1)
    while series_start.weekday() != holiday.weekday():
        series_start += datetime.timedelta(days=1)
    series = PlannedSeries(
        SERIES_LANE,
        series_start,
        *SERIES_SLOT,
        SERIES_WEEKS,
        SERIES_TITLE,
        tuple(SERIES_LANE * CHILDREN_PER_LANE + k for k in range(SERIES_CHILDREN)),
    )
    leave_days = [_next_working_day(holiday)]
    while len(leave_days) < LEAVE_DAYS:
        leave_days.append(_next_working_day(leave_days[-1]))
    return DemoPlan(
        today,
        (*past, today, *future),
        tuple(sessions),
        tuple(appointments),
        tuple(overrides),
        working_hours=_working_hours(WORKING_WEEKDAYS | {today.weekday()}),
        holidays=((holiday, HOLIDAY),),
        leave=(PlannedLeave(ON_LEAVE_LANE, leave_days[0], leave_days[-1], LEAVE_REASON),),
        series=(series,),
    )


def _next_working_day(day: datetime.date) -> datetime.date:
    day += datetime.timedelta(days=1)
    while day.weekday() not in WORKING_WEEKDAYS:
        day += datetime.timedelta(days=1)
    return day


def _working_hours(weekdays: set[int]) -> tuple[PlannedWorkingHours, ...]:
    return tuple(
        PlannedWorkingHours(lane, weekday, starts_at, ends_at)
        for lane in range(len(LANES))
        for weekday in sorted(weekdays)
        for starts_at, ends_at in (PART_TIME_HOURS if lane == PART_TIME_LANE else WORKING_HOURS)
    )


def _stages(day: datetime.date, today: datetime.date, index: int, lane: int) -> list[Stage]:
    """The stages of a lane's group, individual session and appointment on ``day``."""
    if day < today:
        # One past day per lane at most is a sick day; lane 0's first past day always is.
        return [Stage.OFF_SICK if (index + lane) % 6 == 0 else Stage.DONE] * 3
    if day > today:
        return [Stage.AHEAD] * 3
    # Today each provider is at a different point of the day: lanes 0 and 3 run the
    # group, 1 and 4 the individual session, 2 and 5 the legacy appointment.
    current = lane % 3
    return [
        Stage.DONE if slot < current else Stage.CURRENT if slot == current
        else Stage.NEXT if slot == current + 1 else Stage.LATER
        for slot in range(3)
    ]  # fmt: skip


def _planned_session(
    day: datetime.date,
    lane: int,
    index: int,
    stage: Stage,
    session_type: str,
    children: list[int],
    group_notes: str = "",
) -> PlannedSession:
    start, duration = GROUP_SLOT if session_type == Session.SessionType.GROUP else INDIVIDUAL_SLOT
    status = {
        Stage.OFF_SICK: SessionStatus.CANCELLED,
        Stage.DONE: SessionStatus.COMPLETED,
        Stage.CURRENT: SessionStatus.IN_PROGRESS,
    }.get(stage, SessionStatus.SCHEDULED)
    return PlannedSession(
        day=day,
        lane=lane,
        session_type=session_type,
        start=start,
        duration=duration,
        status=status,
        participants=tuple(
            _planned_participant(stage, index, lane, child, last=len(children) > 1 and k == len(children) - 1)
            for k, child in enumerate(children)
        ),
        group_notes=group_notes,
        cancel_reason=UNWELL if stage == Stage.OFF_SICK else "",
    )


def _planned_participant(stage: Stage, index: int, lane: int, child: int, last: bool) -> PlannedParticipant:
    """A place's outcome; ``last`` is a group's last place. A lapsed consent is never checked in."""
    admissible = not has_lapsed_consent(child)
    if stage == Stage.OFF_SICK:
        return PlannedParticipant(child, ParticipantStatus.CANCELLED, UNWELL)
    if stage == Stage.DONE:
        # A lapsed consent came and was refused at check-in: completing the session turns them
        # away. Whoever else never arrived is a no-show: the last child didn't come.
        if not admissible:
            return PlannedParticipant(child, ParticipantStatus.TURNED_AWAY)
        return PlannedParticipant(child, ParticipantStatus.NO_SHOW if last else ParticipantStatus.ATTENDED)
    if stage == Stage.CURRENT:
        # The last child (today: the lapsed consent) hasn't been checked in.
        return PlannedParticipant(
            child, ParticipantStatus.ARRIVED if admissible and not last else ParticipantStatus.BOOKED
        )
    if stage == Stage.NEXT:
        return PlannedParticipant(
            child, ParticipantStatus.ARRIVED if admissible else ParticipantStatus.CONFIRMED
        )
    if stage == Stage.LATER:
        return PlannedParticipant(child, ParticipantStatus.CONFIRMED)
    if last and (index + lane) % 2 == 0:
        return PlannedParticipant(child, ParticipantStatus.CANCELLED, TRAVELLING)
    # Families confirm for the next two working days; later places are only booked.
    return PlannedParticipant(child, ParticipantStatus.CONFIRMED if index <= 1 else ParticipantStatus.BOOKED)


def _planned_appointment(
    day: datetime.date, lane: int, index: int, stage: Stage, child: int
) -> PlannedAppointment:
    start, duration = APPOINTMENT_SLOT
    admissible = not has_lapsed_consent(child)
    reason = ""
    if stage == Stage.OFF_SICK:
        status, reason = AppointmentStatus.CANCELLED, UNWELL
    elif stage == Stage.DONE:
        missed = not admissible or (index + lane) % 4 == 1
        status = AppointmentStatus.NO_SHOW if missed else AppointmentStatus.COMPLETED
    elif stage == Stage.CURRENT:
        status = AppointmentStatus.IN_PROGRESS if admissible else AppointmentStatus.BOOKED
    elif stage == Stage.NEXT:
        status = AppointmentStatus.ARRIVED if admissible else AppointmentStatus.BOOKED
    elif stage == Stage.LATER:
        status = AppointmentStatus.CONFIRMED
    elif (index + lane) % 5 == 4:
        status, reason = AppointmentStatus.CANCELLED, REBOOKED
    else:
        status = AppointmentStatus.CONFIRMED if index <= 1 else AppointmentStatus.BOOKED
    return PlannedAppointment(day, lane, child, start, duration, status, reason)


# The execution: the plan, through the services. -----------------------------------


@dataclass
class DemoSummary:
    created: bool
    logins: list[tuple[str, str]] = field(default_factory=list)
    operator_login: tuple[str, str] | None = None
    patients: int = 0
    sessions: int = 0
    participants: int = 0
    appointments: int = 0
    notes: int = 0


def demo_already_loaded() -> bool:
    return Session.objects.filter(clinic__tenant__code=DEMO_TENANT_CODE).exists()


@transaction.atomic
def load_demo(password: str, progress: Callable[[int], None] = lambda steps: None) -> DemoSummary:
    """Create the demo organisation once; later calls change nothing."""
    logins = [(username, password) for username, *_ in STAFF] + [
        (username, password) for people in CLINICIANS.values() for username, *_ in people
    ]
    operator_login = (OPERATOR[0], password)
    if demo_already_loaded():
        return DemoSummary(created=False, logins=logins, operator_login=operator_login)
    tenant, _ = Tenant.objects.get_or_create(
        code=DEMO_TENANT_CODE,
        defaults={"name_en": "Agdar Child Therapy Centre", "name_ar": "مركز أجدر", "show_hijri_dates": True},
    )
    for username, first, last, role in STAFF:
        _user(tenant, username, first, last, role, password, staff=role == User.Role.ADMIN)
    _user(None, *OPERATOR, User.Role.ADMIN, password, staff=True, superuser=True)
    clinics = [_clinic(tenant, password, *spec) for spec in CLINICS]
    _reminders(tenant, [demo_clinic.clinic for demo_clinic in clinics])
    for specialty, name_en, name_ar in SERVICE_NAMES:
        ServiceName.objects.get_or_create(
            tenant=tenant, name_en=name_en, defaults={"specialty": specialty, "name_ar": name_ar}
        )
    now = clock.now()
    patients = _patients(tenant, now)
    progress(1)
    summary = DemoSummary(created=True, logins=logins, operator_login=operator_login, patients=len(patients))
    finance = User.objects.get(username="finance")
    today = now.date()
    plan = plan_demo(today)
    for demo_clinic in clinics:
        _opening_hours(demo_clinic.clinic, plan)
    lanes = [clinics[clinic_index].lane(provider_index) for clinic_index, provider_index in LANES]
    _availability(plan, lanes, User.objects.get(username="admin"))
    for offset in DAY_OFFSETS:
        for booking in plan.on(today + datetime.timedelta(days=offset)):
            if isinstance(booking, PlannedSession):
                _carry_out_session(booking, lanes[booking.lane], patients, finance, summary)
            else:
                _carry_out_appointment(booking, lanes[booking.lane], patients, finance, summary)
        progress(1)
    for planned_series in plan.series:
        _carry_out_series(planned_series, lanes[planned_series.lane], patients, summary)
    _write_notes(tenant, summary)
    return summary


# Of the children who came, every NOTE_LEFT_UNWRITTEN-th has no note yet and every
# NOTE_LEFT_UNSIGNED-th a draft, so the notes queue has work in it; the rest are signed.
NOTE_LEFT_UNWRITTEN = 9
NOTE_LEFT_UNSIGNED = 7


def _write_notes(tenant: Tenant, summary: DemoSummary) -> None:
    """Each child who came gets their clinician's note, oldest session first, so a child's
    progress (the discipline's ``NoteKind.demo_content``) rises from session to session."""
    kinds = note_kinds()
    attended = (
        SessionParticipant.objects.filter(session__clinic__tenant=tenant, status=ParticipantStatus.ATTENDED)
        .select_related("session__clinic", "session__provider__user", "patient")
        .order_by("session__scheduled_date", "session__scheduled_time", "pk")
    )
    sessions_before: dict[tuple[int, str], int] = {}
    for index, participant in enumerate(attended, start=1):
        session = participant.session
        kind = kinds.get(session.clinic.specialty)
        if kind is None or kind.demo_content is None or index % NOTE_LEFT_UNWRITTEN == 0:
            continue
        sequence = sessions_before.get((participant.patient_id, kind.specialty), 0)
        sessions_before[(participant.patient_id, kind.specialty)] = sequence + 1
        author = session.provider.user
        note = NoteService.create_note(
            kind.model,
            participant=participant,
            provider=session.provider,
            user=author,
            **kind.demo_content(sequence),
        )
        if index % NOTE_LEFT_UNSIGNED != 0:
            NoteService.sign_note(note, user=author)
        summary.notes += 1


def demo_steps() -> int:
    """Progress steps of load_demo: the reference data, then one per day."""
    return 1 + len(DAY_OFFSETS)


def _user(tenant, username, first, last, role, password, *, staff=False, superuser=False) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "tenant": tenant,
            "role": role,
            "is_staff": staff,
            "is_superuser": superuser,
            "email": f"{username}@agdar.example",
        },
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


@dataclass
class DemoClinic:
    clinic: Clinic
    providers: list[tuple[Provider, Room]]
    individual_service: str
    group_service: str

    def lane(self, provider_index: int) -> "DemoLane":
        provider, room = self.providers[provider_index]
        return DemoLane(self.clinic, provider, room, self.individual_service, self.group_service)


@dataclass
class DemoLane:
    """One provider's column of the plan: their clinic, room and services."""

    clinic: Clinic
    provider: Provider
    room: Room
    individual_service: str
    group_service: str


def _clinic(tenant, password, specialty, name_en, name_ar, role, individual_service, group_service):
    clinic, _ = Clinic.objects.get_or_create(
        tenant=tenant, name_en=name_en, defaults={"name_ar": name_ar, "specialty": specialty}
    )
    providers = []
    for index, (username, first, last, provider_ar) in enumerate(CLINICIANS[specialty], start=1):
        user = _user(tenant, username, first, last, role, password)
        provider, _ = Provider.objects.get_or_create(
            user=user, defaults={"specialty": specialty, "title": "Dr", "name_ar": provider_ar}
        )
        provider.clinics.add(clinic)
        room, _ = Room.objects.get_or_create(
            clinic=clinic,
            name=f"{name_en.split()[0]} Room {index}",
            defaults={"name_ar": f"{ROOM_NAMES_AR[specialty]} {index}"},
        )
        providers.append((provider, room))
    return DemoClinic(clinic, providers, individual_service, group_service)


# Each clinic's reminders: (hours before, channel).
REMINDER_RULES = ((48, Guardian.Channel.SMS), (2, Guardian.Channel.SMS), (48, Guardian.Channel.EMAIL))
TEMPLATE_NAMES: dict[tuple[str, str], str] = {
    (MessageTemplate.Purpose.REMINDER, Guardian.Channel.SMS): "Reminder by text message",
    (MessageTemplate.Purpose.REMINDER, Guardian.Channel.EMAIL): "Reminder by e-mail",
    (MessageTemplate.Purpose.MOVED, Guardian.Channel.SMS): "Session moved, by text message",
    (MessageTemplate.Purpose.MOVED, Guardian.Channel.EMAIL): "Session moved, by e-mail",
    (MessageTemplate.Purpose.SEAT_OFFERED, Guardian.Channel.SMS): "Waiting-list seat, by text message",
    (MessageTemplate.Purpose.SEAT_OFFERED, Guardian.Channel.EMAIL): "Waiting-list seat, by e-mail",
}


def _reminders(tenant: Tenant, clinics: list[Clinic]) -> None:
    """The built-in words as the organisation's templates (with the Hijri date it shows), and each
    clinic's rules: 48 and 2 hours before by text message, 48 hours before by e-mail."""
    templates = {}
    for (purpose, channel), words in DEFAULT_WORDS.items():
        (subject_en, body_en), (subject_ar, body_ar) = words["en"], words["ar"]
        templates[purpose, channel], _ = MessageTemplate.objects.get_or_create(
            tenant=tenant,
            name=TEMPLATE_NAMES[purpose, channel],
            defaults={
                "purpose": purpose,
                "channel": channel,
                "subject_en": subject_en,
                "subject_ar": subject_ar,
                "body_en": body_en.replace("{date}", "{date} ({hijri_date})"),
                "body_ar": body_ar.replace("{date}", "{date} ({hijri_date})"),
            },
        )
    for clinic in clinics:
        for hours_before, channel in REMINDER_RULES:
            ReminderRule.objects.get_or_create(
                clinic=clinic,
                hours_before=hours_before,
                channel=channel,
                defaults={"template": templates[MessageTemplate.Purpose.REMINDER, channel]},
            )


def _opening_hours(clinic: Clinic, plan: DemoPlan) -> None:
    """The clinic's week and the plan's dated overrides: every planned booking fits inside them."""
    for weekday in sorted(WORKING_WEEKDAYS):
        for opens, closes in OPENING_HOURS:
            OpeningHours.objects.get_or_create(
                clinic=clinic, weekday=weekday, opens_at=opens, closes_at=closes
            )
    for override in plan.overrides:
        if not override.intervals:
            OpeningHoursOverride.objects.get_or_create(
                clinic=clinic, date=override.day, closed=True, defaults={"note": override.note}
            )
        for opens, closes in override.intervals:
            OpeningHoursOverride.objects.get_or_create(
                clinic=clinic,
                date=override.day,
                opens_at=opens,
                closes_at=closes,
                defaults={"note": override.note},
            )


def _availability(plan: DemoPlan, lanes: list[DemoLane], admin: User) -> None:
    """The plan's working hours and leave of each lane's provider, and the clinics' holidays."""
    for hours in plan.working_hours:
        lane = lanes[hours.lane]
        ProviderWorkingHours.objects.get_or_create(
            provider=lane.provider,
            clinic=lane.clinic,
            weekday=hours.weekday,
            starts_at=hours.starts_at,
            ends_at=hours.ends_at,
        )
    for clinic in {lane.clinic for lane in lanes}:
        for day, name in plan.holidays:
            ClinicHoliday.objects.get_or_create(clinic=clinic, date=day, defaults={"name": name})
    zone = timezone.get_default_timezone()
    for leave in plan.leave:
        ProviderLeave.objects.get_or_create(
            provider=lanes[leave.lane].provider,
            starts_at=datetime.datetime.combine(leave.first_day, datetime.time(), tzinfo=zone),
            ends_at=datetime.datetime.combine(
                leave.last_day + datetime.timedelta(days=1), datetime.time(), tzinfo=zone
            ),
            defaults={"reason": leave.reason, "created_by": admin},
        )


MOTHERS = [("Huda", "هدى"), ("Amal", "أمل"), ("Mona", "منى"), ("Hessa", "حصة"), ("Nada", "ندى")]
# Children 1 and 2 (Sara and Omar Al-Otaibi) are siblings: one mother, one phone.
SIBLINGS = (1, 2)
# Child 7's father is on file but, under a court order, is told nothing.
FATHER_TOLD_NOTHING = 7


def _add_guardians(patient: Patient, number: int, last_en: str, last_ar: str) -> Guardian:
    """The child's mother (primary) and, for one child, a father who receives nothing.

    Most consent to be contacted (every tenth does not yet); a third read English, a quarter
    prefer e-mail.
    """
    family = SIBLINGS[0] if number in SIBLINGS else number
    first_en, first_ar = MOTHERS[family % len(MOTHERS)]
    email_preferred = family % 4 == 0
    mother = GuardianService.add_guardian(
        patient,
        GuardianDetails(
            name_en=f"{first_en} {last_en}",
            name_ar=f"{first_ar} {last_ar}",
            relation=Guardian.Relation.MOTHER,
            phone=f"+9665{family:08d}",
            email=f"mother{family}@example.org",
            preferred_language=Guardian.Language.ENGLISH if family % 3 == 0 else Guardian.Language.ARABIC,
            preferred_channel=Guardian.Channel.EMAIL if email_preferred else Guardian.Channel.SMS,
            consent_to_contact=family % 10 != 0,
            is_primary=True,
        ),
    )
    if number == FATHER_TOLD_NOTHING:
        GuardianService.add_guardian(
            patient,
            GuardianDetails(
                name_en=f"Father {last_en}",
                name_ar=f"والد {last_ar}",
                relation=Guardian.Relation.FATHER,
                phone=f"+9665{number + 50:08d}",
                may_receive_appointment_info=False,
            ),
        )
    return mother


def _patients(tenant, now: datetime.datetime) -> list[Patient]:
    names = itertools.product(LAST_NAMES, FIRST_NAMES)
    patients = []
    for number, ((last_en, last_ar), (first_en, first_ar)) in zip(
        range(1, PATIENT_COUNT + 1), names, strict=False
    ):
        patient, created = Patient.objects.get_or_create(
            tenant=tenant,
            mrn=f"AG{number:05d}",
            defaults={
                "first_name_en": first_en,
                "last_name_en": last_en,
                "first_name_ar": first_ar,
                "last_name_ar": last_ar,
                # Children of 4 to 11 whatever the year.
                "date_of_birth": datetime.date(now.year - 4 - number % 8, 1 + number % 12, 1 + number % 28),
                "sex": Patient.Sex.FEMALE if number % 2 else Patient.Sex.MALE,
            },
        )
        if created:
            mother = _add_guardians(patient, number, last_en, last_ar)
            lapsed = has_lapsed_consent(number - 1)
            Consent.objects.create(
                patient=patient,
                consent_type=Consent.ConsentType.GENERAL,
                signed_by=mother.name_en,
                signed_at=now - datetime.timedelta(days=400),
                expires_at=now - datetime.timedelta(days=30) if lapsed else None,
            )
        patients.append(patient)
    return patients


def _carry_out_session(
    planned: PlannedSession, lane: DemoLane, patients: list[Patient], finance: User, summary: DemoSummary
) -> None:
    """Book the planned session, then take it and each place to its planned status."""
    slot: dict[str, Any] = {
        "provider": lane.provider,
        "clinic": lane.clinic,
        "room": lane.room,
        "scheduled_date": planned.day,
        "scheduled_time": planned.start,
        "duration": planned.duration,
    }
    if planned.session_type == Session.SessionType.GROUP:
        session = SessionService.create_group_session(
            **slot,
            service_type=lane.group_service,
            max_capacity=GROUP_CAPACITY,
            group_notes=planned.group_notes,
        )
        participants = [
            SessionService.add_patient_to_session(session, patients[place.child])
            for place in planned.participants
        ]
    else:
        (place,) = planned.participants
        session = SessionService.create_individual_session(
            **slot, service_type=lane.individual_service, patient=patients[place.child]
        )
        participants = list(session.participants.all())
    for participant, place in zip(participants, planned.participants, strict=True):
        if place.status == ParticipantStatus.CONFIRMED:
            SessionService.confirm_participant(participant)
        elif place.status in (ParticipantStatus.ARRIVED, ParticipantStatus.ATTENDED):
            SessionService.clear_finance(participant, user=finance)
            SessionService.check_in_participant(participant)
        elif place.status == ParticipantStatus.CANCELLED and planned.status != SessionStatus.CANCELLED:
            SessionService.cancel_participant(participant, place.cancel_reason)
        elif place.status == ParticipantStatus.NO_SHOW and planned.status != SessionStatus.COMPLETED:
            SessionService.mark_participant_no_show(participant)
        elif place.status == ParticipantStatus.TURNED_AWAY:
            # The consent gate refuses the check-in and the refusal is recorded.
            with contextlib.suppress(CheckInBlocked):
                SessionService.check_in_participant(participant)
    # Completing marks arrived places attended, the refused turned away and the others no-shows;
    # cancelling cancels them.
    if planned.status == SessionStatus.IN_PROGRESS:
        SessionService.start_session(session)
    elif planned.status == SessionStatus.COMPLETED:
        SessionService.complete_session(session)
    elif planned.status == SessionStatus.CANCELLED:
        SessionService.cancel_session(session, planned.cancel_reason)
    summary.sessions += 1
    summary.participants += len(participants)


def _carry_out_series(
    planned: PlannedSeries, lane: DemoLane, patients: list[Patient], summary: DemoSummary
) -> None:
    """Create the planned series and enrol its children, each in every session."""
    series = SeriesService.create_series(
        session_type=Session.SessionType.GROUP,
        provider=lane.provider,
        clinic=lane.clinic,
        room=lane.room,
        service_type=lane.group_service,
        title=planned.title,
        start_date=planned.first_day,
        scheduled_time=planned.start,
        duration=planned.duration,
        occurrence_count=planned.weeks,
        max_capacity=GROUP_CAPACITY,
    )
    for child in planned.children:
        SeriesService.enrol_patient(series, patients[child])
    summary.sessions += planned.weeks
    summary.participants += planned.weeks * len(planned.children)


def _carry_out_appointment(
    planned: PlannedAppointment, lane: DemoLane, patients: list[Patient], finance: User, summary: DemoSummary
) -> None:
    """Book the planned legacy appointment, then walk it to its planned status."""
    appointment = AppointmentService.book_appointment(
        patient=patients[planned.child],
        provider=lane.provider,
        clinic=lane.clinic,
        room=lane.room,
        scheduled_date=planned.day,
        scheduled_time=planned.start,
        duration=planned.duration,
        service_type=lane.individual_service,
    )
    summary.appointments += 1
    if planned.status == AppointmentStatus.CONFIRMED:
        AppointmentService.confirm(appointment)
    elif planned.status == AppointmentStatus.CANCELLED:
        AppointmentService.cancel(appointment, planned.cancel_reason)
    elif planned.status == AppointmentStatus.NO_SHOW:
        AppointmentService.mark_no_show(appointment)
    elif planned.status != AppointmentStatus.BOOKED:
        AppointmentService.clear_finance(appointment, user=finance)
        AppointmentService.check_in(appointment)
        if planned.status in (AppointmentStatus.IN_PROGRESS, AppointmentStatus.COMPLETED):
            AppointmentService.start(appointment)
        if planned.status == AppointmentStatus.COMPLETED:
            AppointmentService.complete(appointment)
