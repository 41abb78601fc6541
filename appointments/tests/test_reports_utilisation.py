"""The utilisation report: seats and room hours, on data built by the services.

The range is Sunday 01/03/2026 to Saturday 14/03/2026 (two weeks); the clock is pinned
to Sunday 15/03. Alpha (psychology) opens Sunday to Thursday 08:00-16:00, but is closed on
Monday 02/03 (an override), open 10:00-12:00 on Tuesday 03/03 (an override) and on holiday
on Wednesday 04/03: 8 + 2 + 8 = 18 hours the first week, 5 x 8 = 40 the second, 58 in all.
Beta (occupational therapy) has no opening hours.

Seats (offered / taken):

- Alpha A1, Sun 01/03, group of 4, 3 booked and 1 of them cancelled: 4 / 2, 60 minutes;
- Alpha A1, Thu 05/03, individual, 90 minutes: 1 / 1;
- Alpha A2, Sun 08/03, a cancelled group session of 6: not counted, no hours;
- Alpha A2, Sun 08/03, a series' group of 8, 5 booked, 1 no-show (holds the seat), 1 turned
  away (frees it): 8 / 4, 60 minutes;
- Alpha A1, Mon 09/03, a legacy appointment not back-filled: 1 / 1, 45 minutes;
- Alpha A1, Tue 10/03, a legacy appointment back-filled: once, 1 / 1, 45 minutes;
- Alpha, Wed 11/03, a legacy appointment cancelled: not counted;
- Beta B1, Sat 07/03, group of 3, 1 booked: 3 / 1;
- Beta B1, Sun 08/03, group of 2, 1 booked: 2 / 1.
"""

import dataclasses
import datetime
from decimal import Decimal

import pytest

from appointments.appointment_service import AppointmentService
from appointments.backfill_service import BackfillScope, backfill_sessions
from appointments.models import Session
from appointments.reports.utilisation import utilisation_report
from appointments.series_service import SeriesService
from appointments.session_service import SessionService
from appointments.tests.report_fixtures import (
    AT_TWO_SIZES,
    FIRST_WEEK,
    FORTNIGHT,
    SECOND_WEEK,
    march,
    other_organisation,
    queries_run,
    table,
    turned_away,
)
from core.models import Clinic, ClinicHoliday, OpeningHours, OpeningHoursOverride, User
from core.tests.factories import ClinicFactory, ProviderFactory, RoomFactory
from core.tests.view_helpers import booked, consented_patient, group_session, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


def at(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


def children(tenant, count: int) -> list:
    return [consented_patient(tenant) for _ in range(count)]


def book_all(session: Session, patients) -> list:
    return [booked(session, patient) for patient in patients]


def legacy(provider, clinic, room, when: datetime.date):
    return AppointmentService.book_appointment(
        patient=consented_patient(clinic.tenant),
        provider=provider,
        clinic=clinic,
        room=room,
        scheduled_date=when,
        scheduled_time=at(10),
        duration=45,
        service_type="Assessment",
    )


def seats(rows, *names: str) -> list[tuple]:
    return [
        (*(row[name] for name in names), row["offered"], row["taken"], row["utilisation"]) for row in rows
    ]


@dataclasses.dataclass
class World:
    alpha: Clinic
    beta: Clinic
    provider: object
    therapist: object
    series: object
    rooms: dict


@pytest.fixture
def admin(tenant):
    return staff_member(tenant, User.Role.ADMIN)


@pytest.fixture
def world(tenant) -> World:
    alpha = ClinicFactory(tenant=tenant, name_en="Alpha", specialty=Clinic.Specialty.PSYCHOLOGY)
    beta = ClinicFactory(tenant=tenant, name_en="Beta", specialty=Clinic.Specialty.OT)
    for weekday in (6, 0, 1, 2, 3):  # Sunday to Thursday
        OpeningHours.objects.create(clinic=alpha, weekday=weekday, opens_at=at(8), closes_at=at(16))
    OpeningHoursOverride.objects.create(clinic=alpha, date=march(2), closed=True)
    OpeningHoursOverride.objects.create(clinic=alpha, date=march(3), opens_at=at(10), closes_at=at(12))
    ClinicHoliday.objects.create(clinic=alpha, date=march(4), name="Holiday")
    rooms = {name: RoomFactory(clinic=alpha, name=name) for name in ("A1", "A2", "A3")}
    rooms["B1"] = RoomFactory(clinic=beta, name="B1")
    provider = ProviderFactory(clinic=alpha)
    therapist = ProviderFactory(clinic=beta)

    first = group_session(provider, alpha, day=march(1), capacity=4, room=rooms["A1"])
    *_, dana = book_all(first, children(tenant, 3))
    SessionService.cancel_participant(dana, "Travelling")
    SessionService.create_individual_session(
        provider=provider,
        clinic=alpha,
        patient=children(tenant, 1)[0],
        scheduled_date=march(5),
        scheduled_time=at(10),
        duration=90,
        service_type="Individual Therapy",
        room=rooms["A1"],
    )
    cancelled = group_session(provider, alpha, day=march(8), capacity=6, room=rooms["A2"])
    book_all(cancelled, children(tenant, 2))
    SessionService.cancel_session(cancelled, "Provider ill")
    series = SeriesService.create_series(
        session_type=Session.SessionType.GROUP,
        provider=provider,
        clinic=alpha,
        service_type="Social Skills Group",
        title="Social skills",
        start_date=march(8),
        scheduled_time=at(12),
        occurrence_count=1,
        max_capacity=8,
        room=rooms["A2"],
    )
    in_series = book_all(series.sessions.get(), children(tenant, 5))
    SessionService.mark_participant_no_show(in_series[0])
    turned_away(in_series[1])

    legacy(provider, alpha, rooms["A1"], march(9))
    legacy(provider, alpha, rooms["A1"], march(10))
    backfill_sessions(BackfillScope(clinic=alpha, since=march(10), until=march(10)))
    AppointmentService.cancel(legacy(provider, alpha, rooms["A1"], march(11)), "Family moved")

    book_all(group_session(therapist, beta, day=march(7), capacity=3, room=rooms["B1"]), children(tenant, 1))
    book_all(group_session(therapist, beta, day=march(8), capacity=2, room=rooms["B1"]), children(tenant, 1))
    return World(alpha, beta, provider, therapist, series, rooms)


def test_utilisation_report_seats_by_week_start_on_sunday(admin, world):
    report = utilisation_report(admin, FORTNIGHT)

    # Beta's Saturday 07/03 and Sunday 08/03 fall in different weeks.
    assert seats(table(report, "weeks").rows, "week") == [
        (FIRST_WEEK, 8, 4, Decimal("50.0")),
        (SECOND_WEEK, 12, 7, Decimal("58.3")),
    ]


def test_utilisation_report_seats_per_clinic_room_provider_and_series(admin, world):
    report = utilisation_report(admin, FORTNIGHT)

    assert seats(table(report, "clinics").rows, "name") == [
        ("Alpha", 15, 9, Decimal("60.0")),
        ("Beta", 5, 2, Decimal("40.0")),
    ]
    assert seats(table(report, "rooms").rows, "clinic", "room") == [
        ("Alpha", "A1", 7, 5, Decimal("71.4")),
        ("Alpha", "A2", 8, 4, Decimal("50.0")),
        ("Beta", "B1", 5, 2, Decimal("40.0")),
    ]
    assert seats(table(report, "providers").rows, "name") == sorted(
        [(str(world.provider), 15, 9, Decimal("60.0")), (str(world.therapist), 5, 2, Decimal("40.0"))],
        key=lambda row: row[0].casefold(),
    )
    assert seats(table(report, "series").rows, "name") == [
        ("Social skills", 8, 4, Decimal("50.0")),
        ("Not in a series", 12, 7, Decimal("58.3")),
    ]


def test_utilisation_report_room_hours_only_where_opening_hours_are_set(admin, world):
    report = utilisation_report(admin, FORTNIGHT)

    # A1: 60 + 90 + 45 + 45 minutes; A2: the series' 60 (the cancelled session takes none);
    # A3 unused. Beta has no opening hours: B1 is left out.
    assert table(report, "room_hours").rows == [
        {
            "clinic": "Alpha",
            "room": "A1",
            "used": Decimal("4.0"),
            "open": Decimal("58.0"),
            "share": Decimal("6.9"),
        },
        {
            "clinic": "Alpha",
            "room": "A2",
            "used": Decimal("1.0"),
            "open": Decimal("58.0"),
            "share": Decimal("1.7"),
        },
        {
            "clinic": "Alpha",
            "room": "A3",
            "used": Decimal("0.0"),
            "open": Decimal("58.0"),
            "share": Decimal("0.0"),
        },
    ]
    beta_only = utilisation_report(admin, dataclasses.replace(FORTNIGHT, clinic_id=world.beta.pk))
    assert table(beta_only, "room_hours").rows == []


def test_utilisation_report_chart_is_seats_offered_and_taken_by_week(admin, world):
    chart = utilisation_report(admin, FORTNIGHT).chart

    assert chart is not None
    assert chart.labels == [FIRST_WEEK, SECOND_WEEK]
    assert [(str(dataset.label), dataset.values) for dataset in chart.datasets] == [
        ("Seats offered", [8, 12]),
        ("Seats taken", [4, 7]),
    ]


def totals(report) -> tuple[int, int]:
    rows = table(report, "weeks").rows
    return sum(row["offered"] for row in rows), sum(row["taken"] for row in rows)


@pytest.mark.parametrize(
    ("narrowing", "expected"),
    [
        (lambda world: {"clinic_id": world.beta.pk}, (5, 2)),
        (lambda world: {"specialty": Clinic.Specialty.OT}, (5, 2)),
        (lambda world: {"specialty": Clinic.Specialty.PSYCHOLOGY}, (15, 9)),
        (lambda world: {"provider_id": world.provider.pk}, (15, 9)),
        # The series' session only: legacy appointments have no series.
        (lambda world: {"series_id": world.series.pk}, (8, 4)),
        # The legacy appointment and the one back-filled (its session keeps the service type).
        (lambda world: {"service_type": "Assessment"}, (2, 2)),
        (lambda world: {"date_to": datetime.date(2026, 3, 7)}, (8, 4)),
    ],
)
def test_utilisation_report_each_filter_narrows(admin, world, narrowing, expected):
    report = utilisation_report(admin, dataclasses.replace(FORTNIGHT, **narrowing(world)))

    assert totals(report) == expected


def test_utilisation_report_never_counts_another_organisation(admin, world):
    other_clinic, other_provider = other_organisation(name_en="Gamma")
    other_room = RoomFactory(clinic=other_clinic, name="G1")
    OpeningHours.objects.create(clinic=other_clinic, weekday=6, opens_at=at(8), closes_at=at(16))
    session = group_session(other_provider, other_clinic, day=march(1), room=other_room)
    book_all(session, children(other_clinic.tenant, 2))

    report = utilisation_report(admin, FORTNIGHT)

    assert totals(report) == (20, 11)
    assert [row["name"] for row in table(report, "clinics").rows] == ["Alpha", "Beta"]
    assert [row["room"] for row in table(report, "room_hours").rows] == ["A1", "A2", "A3"]


# Query count ---------------------------------------------------------------------------------------


def build(tenant, sessions: int, per_session: int) -> None:
    clinic = ClinicFactory(tenant=tenant, name_en="Alpha")
    OpeningHours.objects.create(clinic=clinic, weekday=6, opens_at=at(7), closes_at=at(20))
    room = RoomFactory(clinic=clinic)
    provider = ProviderFactory(clinic=clinic)
    for number in range(sessions):
        session = group_session(provider, clinic, day=march(1), hour=8 + number, capacity=8, room=room)
        book_all(session, children(tenant, per_session))
    legacy(provider, clinic, room, march(8))


@AT_TWO_SIZES
def test_utilisation_report_query_count_is_fixed(admin, tenant, sessions, per_session):
    build(tenant, sessions, per_session)

    _report, queries = queries_run(utilisation_report, admin)

    # Sessions, seat-holding participants, legacy appointments (3); the clinics with their
    # opening hours, overrides and holidays (4); the rooms and the providers (2). No
    # booking is in a series, so no series query.
    assert queries == 9
