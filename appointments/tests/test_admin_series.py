"""Series admin: read-only pages over what ``SeriesService`` wrote, walled to the organisation.

The list shows each series' dates, sessions and enrolled children in a fixed number of
queries; the change page lists its sessions (with seats), children and skipped dates.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import SeriesEnrolment, SeriesSkippedDate, Session, SessionSeries
from appointments.series_service import SeriesService
from core.tests.admin_helpers import admin_url, tenant_admin_staff
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, TenantFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TUESDAY = datetime.date(2026, 3, 17)


def make_series(provider, clinic, *, start=TUESDAY, count=3, **fields) -> SessionSeries:
    return SeriesService.create_series(
        session_type=Session.SessionType.GROUP,
        provider=provider,
        clinic=clinic,
        service_type="Social Skills Group",
        start_date=start,
        scheduled_time=datetime.time(10),
        occurrence_count=count,
        max_capacity=4,
        **fields,
    )


@pytest.fixture
def series(provider, clinic):
    """Three Tuesdays from 17/03/2026, the second one skipped; Sara enrolled, Omar withdrawn."""
    series = make_series(
        provider, clinic, title="Social skills, spring", skip_dates=[TUESDAY + datetime.timedelta(weeks=1)]
    )
    sara = PatientFactory(tenant=clinic.tenant, first_name_en="Sara", last_name_en="Ali")
    omar = PatientFactory(tenant=clinic.tenant, first_name_en="Omar", last_name_en="Hassan")
    SeriesService.enrol_patient(series, sara)
    SeriesService.enrol_patient(series, omar)
    SeriesService.withdraw_patient(series, omar, "Moved away")
    return series


def test_series_admin_changelist_shows_dates_sessions_and_children_enrolled(admin_client, series, clinic):
    response = admin_client.get(admin_url(SessionSeries, "changelist"))

    page = response.content.decode()
    assert response.status_code == 200
    assert '<td class="field-dates">17/03/2026 - 07/04/2026</td>' in page
    assert '<td class="field-session_count">3</td>' in page
    assert '<td class="field-enrolled_count">1</td>' in page
    assert "Social skills, spring" in page


def changelist_query_count(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url(SessionSeries, "changelist"))
    assert response.status_code == 200
    return len(queries)


def test_series_admin_changelist_query_count_does_not_grow_with_rows(admin_client, clinic):
    def add_series(count: int) -> None:
        for _ in range(count):
            series = make_series(ProviderFactory(clinic=clinic), clinic, count=2)
            SeriesService.enrol_patient(series, PatientFactory(tenant=clinic.tenant))

    add_series(2)
    with_two = changelist_query_count(admin_client)
    add_series(6)
    with_eight = changelist_query_count(admin_client)

    # session, user, the clinic and provider filters' choices, filtered and full counts, the
    # page, the date hierarchy's range and days, and the access-log row
    assert with_two == with_eight == 10


def test_series_admin_change_page_lists_sessions_children_and_skipped_dates(admin_client, series):
    response = admin_client.get(admin_url(SessionSeries, "change", series.pk))

    assert response.status_code == 200
    sessions, enrolments, skipped = (
        list(inline.formset.queryset) for inline in response.context["inline_admin_formsets"]
    )
    assert [(s.scheduled_date, s.capacity_display) for s in sessions] == [
        (TUESDAY, "1/4"),
        (TUESDAY + datetime.timedelta(weeks=2), "1/4"),
        (TUESDAY + datetime.timedelta(weeks=3), "1/4"),
    ]
    assert [(e.patient.first_name_en, e.is_active) for e in enrolments] == [("Sara", True), ("Omar", False)]
    assert [(d.date, d.why) for d in skipped] == [
        (TUESDAY + datetime.timedelta(weeks=1), SeriesSkippedDate.Why.CLASH)
    ]


@pytest.mark.parametrize("model", [SessionSeries, SeriesEnrolment, SeriesSkippedDate])
def test_series_admins_are_read_only(admin_client, series, model):
    obj = model.objects.first()
    before = list(model.objects.values())

    assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert admin_client.post(admin_url(model, "change", obj.pk), {"title": "Changed"}).status_code == 403
    assert admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert list(model.objects.values()) == before


@pytest.mark.parametrize("model", [SessionSeries, SeriesEnrolment])
def test_series_admins_list_versions_but_never_revert_one(admin_client, series, model):
    obj = model.objects.first()
    version = obj.history.earliest()

    assert admin_client.get(admin_url(model, "history", obj.pk)).status_code == 200
    assert admin_client.get(admin_url(model, "simple_history", obj.pk, version.history_id)).status_code == 403


def test_series_admin_shows_tenant_staff_only_their_tenant(client, clinic, series):
    other_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    foreign = make_series(
        ProviderFactory(clinic=other_clinic), other_clinic, title="Other organisation's group"
    )
    client.force_login(tenant_admin_staff(clinic.tenant))

    changelist = client.get(admin_url(SessionSeries, "changelist"))

    assert list(changelist.context["cl"].queryset) == [series]
    assert client.get(admin_url(SessionSeries, "change", foreign.pk)).status_code == 302
