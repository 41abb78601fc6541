"""The reports section's pages: who opens which report, the filters, the tables and chart as shown,
the access log and the query count.

The builders are the registry's (their figures are tested in ``test_reports_<key>.py``); here a
fixed ``Report`` stands in for each, so a page's cells and what the builder was asked are known
by hand. The last tests run the real builders: every report answers, in a fixed number of queries.
"""

import dataclasses
import datetime
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.reports import registry
from appointments.reports.base import Chart, Column, Dataset, Kind, Report, ReportFilters, Table
from core.models import AccessLog, Clinic, User
from core.tests.factories import ClinicFactory, ProviderFactory, TenantFactory
from core.tests.view_helpers import (
    booked,
    consented_patient,
    group_series,
    group_session,
    legacy_appointment,
    staff_member,
    superuser,
    work_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
KEYS = ["utilisation", "attendance", "throughput", "finance", "notes_queue"]
EVERY_REPORT = set(KEYS)
# Who opens which report (the registry's rule): admins and the front desk every one, finance
# the finance report, clinicians their notes queue, anyone else none.
OPENS = {
    Role.ADMIN: EVERY_REPORT,
    Role.FRONT_DESK: EVERY_REPORT,
    Role.FINANCE: {"finance"},
    Role.PSYCHOLOGIST: {"notes_queue"},
    Role.OCCUPATIONAL_THERAPIST: {"notes_queue"},
    Role.ABA_THERAPIST: {"notes_queue"},
    "": set(),
}


def fixed_report(key: str) -> Report:
    """A report with a cell of every kind, a linked row, Arabic text and a formula-like text."""
    columns = (
        Column("name", "Child"),
        Column("attended", "Attended", Kind.NUMBER),
        Column("rate", "Rate", Kind.PERCENT),
        Column("hours", "Hours", Kind.HOURS),
        Column("week", "Week", Kind.DATE),
    )
    rows: list[dict[str, object]] = [
        {
            "name": "سارة علي",
            "attended": 3,
            "rate": Decimal("60.0"),
            "hours": Decimal("12.5"),
            "week": datetime.date(2026, 3, 1),
            "url": "/notes/psychology/7/",
        },
        {"name": "=1+1", "attended": -2, "rate": None, "hours": Decimal("0.25"), "week": None},
    ]
    return Report(
        key=key,
        title=f"Fixed {key}",
        description="A fixed report for the page's tests.",
        tables=(
            Table("children", "Children", columns, rows),
            Table("empty", "Nobody", (Column("name", "Child"),), [], "No child here."),
        ),
        chart=Chart(
            kind="bar",
            labels=[datetime.date(2026, 3, 1), "Total"],
            datasets=[Dataset("Attended", [3, None]), Dataset("Rate", [Decimal("60.0"), 12.5])],
            percent=True,
            y_title="Rate",
        ),
        notes=("Each appointment number counts once.",),
    )


@pytest.fixture
def built(monkeypatch):
    """Every report's builder replaced by ``fixed_report``; the list of (key, user, filters) it was asked."""
    calls: list[tuple[str, User, ReportFilters]] = []

    def builder(key):
        def build(user, filters):
            calls.append((key, user, filters))
            return fixed_report(key)

        return build

    for key, definition in list(registry.REPORTS.items()):
        monkeypatch.setitem(registry.REPORTS, key, dataclasses.replace(definition, build=builder(key)))
    return calls


def signed_in(client, tenant, role: str) -> User:
    user = staff_member(tenant, role)
    client.force_login(user)
    return user


def report_url(key: str) -> str:
    return reverse("reports:report", kwargs={"key": key})


def export_url(key: str, fmt: str = "csv") -> str:
    return reverse("reports:export", kwargs={"key": key, "fmt": fmt})


def last_log() -> AccessLog:
    return AccessLog.objects.order_by("-pk").first()


# Who opens what ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(OPENS))
def test_reports_index_lists_the_reports_of_the_role_or_refuses(client, tenant, role):
    signed_in(client, tenant, role)

    response = client.get(reverse("reports:index"))

    if not OPENS[role]:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    listed = [definition.key for definition in response.context["reports"]]
    assert listed == [key for key in KEYS if key in OPENS[role]]
    assert f'href="{reverse("reports:index")}"' in response.content.decode()  # the navigation's link


def test_reports_nav_link_is_not_offered_to_a_user_without_reports(client, tenant):
    signed_in(client, tenant, "")

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert reverse("reports:index") not in response.content.decode()


@pytest.mark.parametrize("role", list(OPENS))
def test_report_page_and_exports_answer_the_roles_the_registry_allows(client, tenant, built, role):
    signed_in(client, tenant, role)

    outcome = {
        (key, page): client.get(url).status_code
        for key in KEYS
        for page, url in (
            ("page", report_url(key)),
            ("csv", export_url(key)),
            ("xlsx", export_url(key, "xlsx")),
        )
    }

    assert outcome == {
        (key, page): 200 if key in OPENS[role] else 403 for key in KEYS for page in ("page", "csv", "xlsx")
    }


def test_superuser_opens_every_report_of_the_organisation_picked(client, tenant, built):
    client.force_login(superuser())
    work_in(client, tenant)

    assert {key: client.get(report_url(key)).status_code for key in KEYS} == dict.fromkeys(KEYS, 200)


def test_report_page_of_an_unknown_report_is_404(client, tenant, built):
    signed_in(client, tenant, Role.ADMIN)

    assert client.get(report_url("payroll")).status_code == 404
    assert client.get(export_url("payroll")).status_code == 404
    assert client.get(export_url("attendance", "pdf")).status_code == 404
    assert built == []


def test_report_export_refuses_a_post(client, tenant, built):
    signed_in(client, tenant, Role.ADMIN)

    assert client.post(export_url("attendance")).status_code == 405
    assert client.post(report_url("attendance")).status_code == 405


# Filters -----------------------------------------------------------------------------------------


def test_report_page_builds_the_current_month_by_default(client, tenant, built):
    user = signed_in(client, tenant, Role.FRONT_DESK)

    response = client.get(report_url("attendance"))

    assert response.status_code == 200
    assert built == [
        (
            "attendance",
            user,
            ReportFilters(date_from=datetime.date(2026, 3, 1), date_to=datetime.date(2026, 3, 31)),
        )
    ]
    html = response.content.decode()
    assert 'value="01/03/2026"' in html
    assert 'value="31/03/2026"' in html


def test_report_page_passes_every_filter_to_the_builder(client, tenant, built):
    user = signed_in(client, tenant, Role.ADMIN)
    clinic = ClinicFactory(tenant=tenant, specialty=Clinic.Specialty.OT)
    provider = ProviderFactory(clinic=clinic)
    series = group_series(provider, clinic)

    response = client.get(
        report_url("attendance"),
        {
            "date_from": "05/02/2026",  # day first: 5 February
            "date_to": "2026-03-10",
            "clinic": clinic.pk,
            "discipline": "ot",
            "provider": provider.pk,
            "series": series.pk,
            "service_type": " Social Skills Group ",
            "missed_at_least": "2",
        },
    )

    assert response.status_code == 200
    assert built == [
        (
            "attendance",
            user,
            ReportFilters(
                date_from=datetime.date(2026, 2, 5),
                date_to=datetime.date(2026, 3, 10),
                clinic_id=clinic.pk,
                specialty="ot",
                provider_id=provider.pk,
                series_id=series.pk,
                service_type="Social Skills Group",
                missed_at_least=2,
            ),
        )
    ]


def test_report_page_blank_dates_are_the_current_month(client, tenant, built):
    signed_in(client, tenant, Role.ADMIN)

    client.get(report_url("utilisation"), {"date_from": "", "date_to": "", "clinic": ""})

    [(_key, _user, filters)] = built
    assert (filters.date_from, filters.date_to) == (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))


def test_missed_sessions_threshold_is_asked_on_the_attendance_report_only(client, tenant, built):
    signed_in(client, tenant, Role.ADMIN)

    attendance = client.get(report_url("attendance"))
    throughput = client.get(report_url("throughput"), {"missed_at_least": "9"})

    assert "missed_at_least" in attendance.context["form"].fields
    assert "missed_at_least" not in throughput.context["form"].fields
    assert [filters.missed_at_least for _key, _user, filters in built] == [3, 3]


def form_errors(response) -> dict[str, list[str]]:
    return {
        name: [str(error) for error in errors] for name, errors in response.context["form"].errors.items()
    }


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"date_from": "31/02/2026"}, {"date_from": ["Enter a valid date."]}),
        ({"date_from": "tomorrow"}, {"date_from": ["Enter a valid date."]}),
        (
            {"date_from": "10/03/2026", "date_to": "09/03/2026"},
            {"date_to": ["The end date is before the start date."]},
        ),
        (
            {"date_from": "01/01/2025", "date_to": "02/01/2026"},
            {"date_to": ["Choose a period of one year at most (from 01/01/2025, until 01/01/2026)."]},
        ),
        ({"missed_at_least": "0"}, {"missed_at_least": ["Ensure this value is greater than or equal to 1."]}),
        (
            {"discipline": "astrology"},
            {"discipline": ["Select a valid choice. astrology is not one of the available choices."]},
        ),
    ],
    ids=["no-such-day", "not-a-date", "reversed", "over-a-year", "threshold-zero", "unknown-discipline"],
)
def test_report_page_bad_filters_show_a_friendly_error_and_no_figures(client, tenant, built, query, errors):
    signed_in(client, tenant, Role.ADMIN)

    response = client.get(report_url("attendance"), query)

    assert response.status_code == 200
    assert form_errors(response) == errors
    assert response.context["report"] is None
    assert built == []
    html = response.content.decode()
    assert 'data-testid="report-invalid"' in html
    assert "report-chart-data" not in html


def test_report_page_takes_a_whole_year(client, tenant, built):
    signed_in(client, tenant, Role.ADMIN)

    response = client.get(report_url("attendance"), {"date_from": "01/01/2025", "date_to": "01/01/2026"})

    assert form_errors(response) == {}
    assert len(built) == 1


@pytest.mark.parametrize("field", ["clinic", "provider", "series"])
def test_report_page_another_organisations_choice_is_an_error_and_shows_nothing(client, tenant, built, field):
    signed_in(client, tenant, Role.ADMIN)
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"), name_en="Foreign clinic")
    foreign_provider = ProviderFactory(clinic=foreign_clinic)
    foreign = {
        "clinic": foreign_clinic,
        "provider": foreign_provider,
        "series": group_series(foreign_provider, foreign_clinic),
    }[field]

    response = client.get(report_url("attendance"), {field: foreign.pk})

    assert form_errors(response) == {
        field: ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert built == []
    assert "Foreign clinic" not in response.content.decode()


def test_report_export_with_bad_filters_goes_back_to_the_page_that_says_why(client, tenant, built):
    signed_in(client, tenant, Role.ADMIN)
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    first = last_log().pk if last_log() else 0

    response = client.get(export_url("attendance"), {"clinic": foreign_clinic.pk})

    assert response.status_code == 302
    assert response.url == f"{report_url('attendance')}?clinic={foreign_clinic.pk}"
    assert built == []
    assert not AccessLog.objects.filter(pk__gt=first).exists()  # a redirect shows nothing


# What the page shows -------------------------------------------------------------------------------


def table_cells(html: str, key: str) -> list[list[str]]:
    """The cells (their markup: class and content) of the body rows of table ``key``."""
    table = html.split(f'data-testid="report-table-{key}"', 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)
    return [re.findall(r'<td(?:[^>]*class="([^"]*)")?[^>]*>(.*?)</td>', row, re.S) for row in rows]


def test_report_page_formats_each_kind_of_cell_and_links_a_rows_first_cell(client, tenant, built):
    signed_in(client, tenant, Role.ADMIN)

    response = client.get(report_url("attendance"), {"date_from": "01/03/2026"})

    html = response.content.decode()
    figure, day = "text-end text-nowrap", "text-nowrap"
    assert table_cells(html, "children") == [
        [
            ("", '<a href="/notes/psychology/7/">سارة علي</a>'),
            (figure, "3"),
            (figure, "60.0%"),
            (figure, "12.5"),
            (day, "01/03/2026"),
        ],
        # A page is no spreadsheet: "=1+1" is shown as it is; hours are rounded half up, as rates.
        [("", "=1+1"), (figure, "-2"), (figure, "-"), (figure, "0.3"), (day, "-")],
    ]
    assert table_cells(html, "empty") == [[("text-body-secondary", "No child here.")]]
    assert "Each appointment number counts once." in html
    query = "date_from=01%2F03%2F2026"
    assert f'href="/reports/attendance/export.csv?{query}"' in html
    assert f'href="/reports/attendance/export.xlsx?{query}"' in html
    assert 'href="/reports/attendance/export.csv"' in client.get(report_url("attendance")).content.decode()


@pytest.mark.parametrize(("language", "rtl"), [("en", False), ("ar", True)])
def test_report_page_sends_the_chart_through_json_script_under_the_csp(client, tenant, built, language, rtl):
    signed_in(client, tenant, Role.ADMIN)
    client.cookies["django_language"] = language

    response = client.get(report_url("attendance"))

    html = response.content.decode()
    start = html.index('<script id="report-chart-data" type="application/json">') + len(
        '<script id="report-chart-data" type="application/json">'
    )
    data = json.loads(html[start : html.index("</script>", start)])
    assert data == {
        "kind": "bar",
        "labels": ["01/03/2026", "Total"],
        "datasets": [{"label": "Attended", "values": [3.0, None]}, {"label": "Rate", "values": [60.0, 12.5]}],
        "stacked": False,
        "percent": True,
        "yTitle": "Rate",
        "rtl": rtl,
    }
    assert '<canvas id="report-chart" role="img" aria-label="Fixed attendance: ' in html
    assert "<script>" not in html  # no inline script: the CSP would refuse it
    assert " style=" not in html


def test_report_page_and_exports_are_never_cached(client, tenant, built):
    signed_in(client, tenant, Role.ADMIN)

    for url in (report_url("attendance"), export_url("attendance"), export_url("attendance", "xlsx")):
        assert "no-store" in client.get(url)["Cache-Control"]


# The access log ------------------------------------------------------------------------------------


def test_report_page_is_logged_as_a_view_with_its_filters(client, tenant, built):
    user = signed_in(client, tenant, Role.FRONT_DESK)

    client.get(report_url("attendance"), {"date_from": "01/03/2026", "clinic": ""})

    log = last_log()
    assert (log.action, log.object_type, log.object_id, log.patient_id, log.user_id, log.tenant_id) == (
        AccessLog.Action.VIEW,
        "report_attendance",
        "key=attendance&date_from=01%2F03%2F2026&clinic=",
        None,
        user.pk,
        tenant.pk,
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_report_export_is_logged_as_an_export_with_its_filters(client, tenant, built, fmt):
    user = signed_in(client, tenant, Role.FINANCE)

    client.get(export_url("finance", fmt), {"date_from": "01/03/2026"})

    log = last_log()
    assert (log.action, log.object_type, log.object_id, log.patient_id, log.user_id) == (
        AccessLog.Action.EXPORT,
        "report_finance",
        f"fmt={fmt}&key=finance&date_from=01%2F03%2F2026",
        None,
        user.pk,
    )


def test_report_page_refused_is_logged_as_denied(client, tenant, built):
    user = signed_in(client, tenant, Role.FINANCE)

    assert client.get(report_url("attendance")).status_code == 403

    log = last_log()
    assert (log.action, log.object_type, log.user_id) == (
        AccessLog.Action.DENIED,
        "report_attendance",
        user.pk,
    )


def test_reports_index_is_not_logged(client, tenant):
    signed_in(client, tenant, Role.ADMIN)
    before = AccessLog.objects.count()

    client.get(reverse("reports:index"))

    assert AccessLog.objects.count() == before


# The real builders ---------------------------------------------------------------------------------


def bookings(tenant, count: int) -> None:
    """``count`` group sessions in March with two children each, one attended and one no-show,
    and as many legacy appointments, in two clinics of two providers."""
    clinics = [ClinicFactory(tenant=tenant, specialty=specialty) for specialty in ("psychology", "ot")]
    providers = [ProviderFactory(clinic=clinic) for clinic in clinics]
    for index in range(count):
        clinic, provider = clinics[index % 2], providers[index % 2]
        day = datetime.date(2026, 3, 2 + index)
        session = group_session(provider, clinic, day=day, hour=9)
        booked(session)
        booked(session)
        legacy_appointment(provider, clinic, consented_patient(tenant), day=day)


@pytest.mark.parametrize("key", KEYS)
def test_every_real_report_page_answers_an_allowed_role(client, tenant, key):
    bookings(tenant, 3)
    signed_in(client, tenant, Role.ADMIN)

    page = client.get(report_url(key))
    csv = client.get(export_url(key))
    xlsx = client.get(export_url(key, "xlsx"))

    assert (page.status_code, csv.status_code, xlsx.status_code) == (200, 200, 200)
    assert page.context["report"].key == key


# The page's own: session, user, the clinic, provider and series choices, the service names
# offered, the access-log row; the rest is the builder's (its own tests pin its count).
PAGE_QUERIES = 7


def builder_queries(user: User, key: str) -> int:
    """How many queries the real builder runs for the default month."""
    filters = ReportFilters(date_from=datetime.date(2026, 3, 1), date_to=datetime.date(2026, 3, 31))
    with CaptureQueriesContext(connection) as queries:
        registry.REPORTS[key].build(user, filters)
    return len(queries)


@pytest.mark.parametrize("key", KEYS)
def test_report_page_query_count_does_not_grow_with_the_data(client, tenant, key):
    user = signed_in(client, tenant, Role.ADMIN)
    counts = []
    for size in (2, 6):
        bookings(tenant, size)
        built_alone = builder_queries(user, key)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(report_url(key))
        assert response.status_code == 200
        counts.append((len(queries), built_alone))

    [(small, small_builder), (large, large_builder)] = counts
    assert small == large == PAGE_QUERIES + small_builder == PAGE_QUERIES + large_builder


@pytest.mark.parametrize("size", [2, 6])
def test_report_page_query_count_of_the_page_itself(client, tenant, built, size, django_assert_num_queries):
    signed_in(client, tenant, Role.ADMIN)
    bookings(tenant, size)

    with django_assert_num_queries(PAGE_QUERIES):
        client.get(report_url("attendance"), {"clinic": "", "series": ""})
