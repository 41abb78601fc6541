"""The throughput report: sessions held and children seen per provider and week, on services' data.

The clock is pinned to Sunday 15/03/2026; the range is 01/03 to 14/03. Dr P (Alpha):

- Sat 07/03, a group: Amal and Badr attended, Dana a no-show: a group session held, 2 seen;
- Sun 08/03, an individual session, Amal attended: held;
- Sun 08/03, a group where Fahd was a no-show, nobody attended: not held;
- Mon 09/03, a legacy appointment of Amal's, completed, not back-filled: an individual
  session held; Amal was already seen by Dr P that week, so no second child;
- Tue 10/03, Huda's legacy appointment, completed and back-filled: one individual session;
- Wed 11/03, Jana's legacy appointment, completed, not back-filled: held, Jana seen.

Dr R (Beta, occupational therapy), Sun 08/03, a series' group: Amal and Khalid attended.
"""

import dataclasses

import pytest

from appointments.backfill_service import BackfillScope, backfill_sessions
from appointments.reports.throughput import throughput_report
from appointments.tests.report_fixtures import (
    AT_TWO_SIZES,
    FIRST_WEEK,
    FORTNIGHT,
    SECOND_WEEK,
    child,
    completed_appointment,
    groups_attended,
    held,
    individual_attended,
    march,
    other_organisation,
    queries_run,
    table,
)
from core.models import Clinic, User
from core.tests.factories import ClinicFactory, ProviderFactory
from core.tests.view_helpers import group_series, group_session, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


def figures(row: dict) -> tuple[int, int, int]:
    return row["group"], row["individual"], row["children"]


@dataclasses.dataclass
class World:
    alpha: Clinic
    beta: Clinic
    p: object
    r: object
    series: object


@pytest.fixture
def admin(tenant):
    return staff_member(tenant, User.Role.ADMIN)


@pytest.fixture
def world(tenant) -> World:
    alpha = ClinicFactory(tenant=tenant, name_en="Alpha")
    beta = ClinicFactory(tenant=tenant, name_en="Beta", specialty=Clinic.Specialty.OT)
    p = ProviderFactory(clinic=alpha, user__first_name="Peter", user__last_name="Adams")
    r = ProviderFactory(clinic=beta, user__first_name="Rana", user__last_name="Baker")
    kids = {name: child(tenant, name) for name in ("Amal", "Badr", "Dana", "Fahd", "Huda", "Jana", "Khalid")}

    held(group_session(p, alpha, day=march(7), hour=10), [kids["Amal"], kids["Badr"]], [kids["Dana"]])
    individual_attended(p, alpha, kids["Amal"], march(8), 10)
    held(group_session(p, alpha, day=march(8), hour=12), absent=[kids["Fahd"]])
    completed_appointment(p, alpha, kids["Amal"], march(9))
    completed_appointment(p, alpha, kids["Huda"], march(10))
    backfill_sessions(BackfillScope(clinic=alpha, since=march(10), until=march(10)))
    completed_appointment(p, alpha, kids["Jana"], march(11))

    series = group_series(r, beta, day=march(8), hour=12, count=1)
    held(series.sessions.get(), [kids["Amal"], kids["Khalid"]])
    return World(alpha, beta, p, r, series)


def test_throughput_report_per_provider_and_week(admin, world):
    report = throughput_report(admin, FORTNIGHT)

    assert [(row["provider"], row["week"], figures(row)) for row in table(report, "provider_weeks").rows] == [
        (str(world.p), FIRST_WEEK, (1, 0, 2)),
        (str(world.p), SECOND_WEEK, (0, 4, 3)),
        (str(world.r), SECOND_WEEK, (1, 0, 2)),
    ]


def test_throughput_report_per_provider_counts_each_child_once_over_the_range(admin, world):
    report = throughput_report(admin, FORTNIGHT)

    # Dr P saw Amal, Badr, Huda and Jana: Amal three times.
    assert [(row["provider"], figures(row)) for row in table(report, "providers").rows] == [
        (str(world.p), (1, 4, 4)),
        (str(world.r), (1, 0, 2)),
    ]


def test_throughput_report_by_week_and_chart_keep_group_and_individual_apart(admin, world):
    report = throughput_report(admin, FORTNIGHT)

    # The second week: Amal (by both providers and at her legacy appointment), Huda, Khalid, Jana.
    assert [(row["week"], figures(row)) for row in table(report, "weeks").rows] == [
        (FIRST_WEEK, (1, 0, 2)),
        (SECOND_WEEK, (1, 4, 4)),
    ]
    chart = report.chart
    assert chart is not None
    assert chart.stacked
    assert chart.labels == [FIRST_WEEK, SECOND_WEEK]
    assert [(str(dataset.label), dataset.values) for dataset in chart.datasets] == [
        ("Group sessions held", [1, 1]),
        ("Individual sessions held", [0, 4]),
    ]


@pytest.mark.parametrize(
    ("narrowing", "expected"),
    [
        (lambda world: {"provider_id": world.r.pk}, [(SECOND_WEEK, (1, 0, 2))]),
        (lambda world: {"clinic_id": world.beta.pk}, [(SECOND_WEEK, (1, 0, 2))]),
        (lambda world: {"specialty": Clinic.Specialty.OT}, [(SECOND_WEEK, (1, 0, 2))]),
        (lambda world: {"series_id": world.series.pk}, [(SECOND_WEEK, (1, 0, 2))]),
        # The legacy appointments, the back-filled one as its session.
        (lambda world: {"service_type": "Assessment"}, [(SECOND_WEEK, (0, 3, 3))]),
        (lambda world: {"date_from": march(8)}, [(SECOND_WEEK, (0, 4, 3)), (SECOND_WEEK, (1, 0, 2))]),
    ],
)
def test_throughput_report_each_filter_narrows(admin, world, narrowing, expected):
    report = throughput_report(admin, dataclasses.replace(FORTNIGHT, **narrowing(world)))

    assert [(row["week"], figures(row)) for row in table(report, "provider_weeks").rows] == expected


def test_throughput_report_never_counts_another_organisation(admin, world):
    other_clinic, other_provider = other_organisation()
    other = other_clinic.tenant
    held(group_session(other_provider, other_clinic, day=march(7)), [child(other, "Zaid")])
    completed_appointment(other_provider, other_clinic, child(other, "Yara"), march(9))

    report = throughput_report(admin, FORTNIGHT)

    assert [row["provider"] for row in table(report, "providers").rows] == [str(world.p), str(world.r)]
    assert [(row["week"], figures(row)) for row in table(report, "weeks").rows] == [
        (FIRST_WEEK, (1, 0, 2)),
        (SECOND_WEEK, (1, 4, 4)),
    ]


# Query count ---------------------------------------------------------------------------------------


@AT_TWO_SIZES
def test_throughput_report_query_count_is_fixed(admin, clinic, provider, sessions, per_session):
    groups_attended(provider, clinic, march(1), sessions, per_session)
    completed_appointment(provider, clinic, child(clinic.tenant, "Legacy"), march(8))

    _report, queries = queries_run(throughput_report, admin)

    # Attended participants and completed legacy appointments for each of three groupings
    # (provider and week, provider, week): 6; the providers' names: 1.
    assert queries == 7
