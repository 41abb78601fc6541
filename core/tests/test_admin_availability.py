"""Availability admin: working hours on the provider's page, holidays on the clinic's, leave on its own."""

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Clinic, ClinicHoliday, Provider, ProviderLeave, ProviderWorkingHours
from core.tests.admin_helpers import admin_url, form_data, tenant_admin_staff
from core.tests.factories import ClinicFactory, ProviderFactory, TenantFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

RIYADH = zoneinfo.ZoneInfo("Asia/Riyadh")


def moment(day: int, hour: int) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, tzinfo=RIYADH)


def changelist_query_count(client, model) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return len(queries)


def test_provider_admin_sets_several_working_intervals_a_day(admin_client, provider, clinic):
    url = admin_url(Provider, "change", provider.pk)
    page = admin_client.get(url)
    data = form_data(page)
    prefix = "working_hours"
    data |= {
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-0-clinic": str(clinic.pk),
        f"{prefix}-0-weekday": "6",
        f"{prefix}-0-starts_at": "08:00",
        f"{prefix}-0-ends_at": "12:00",
        f"{prefix}-1-clinic": str(clinic.pk),
        f"{prefix}-1-weekday": "6",
        f"{prefix}-1-starts_at": "14:00",
        f"{prefix}-1-ends_at": "17:00",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 302
    assert list(provider.working_hours.values_list("weekday", "starts_at", "ends_at")) == [
        (6, datetime.time(8), datetime.time(12)),
        (6, datetime.time(14), datetime.time(17)),
    ]


def test_provider_admin_refuses_working_hours_ending_before_they_start(admin_client, provider, clinic):
    url = admin_url(Provider, "change", provider.pk)
    data = form_data(admin_client.get(url)) | {
        "working_hours-TOTAL_FORMS": "1",
        "working_hours-0-clinic": str(clinic.pk),
        "working_hours-0-weekday": "0",
        "working_hours-0-starts_at": "12:00",
        "working_hours-0-ends_at": "08:00",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "The end of the working hours must be after their start." in response.content.decode()
    assert not provider.working_hours.exists()


def test_clinic_admin_adds_a_holiday_inline(admin_client, clinic):
    url = admin_url(Clinic, "change", clinic.pk)
    data = form_data(admin_client.get(url)) | {
        "holidays-TOTAL_FORMS": "1",
        "holidays-0-date": "2026-03-30",
        "holidays-0-name": "Eid al-Fitr",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 302
    assert list(clinic.holidays.values_list("date", "name")) == [(datetime.date(2026, 3, 30), "Eid al-Fitr")]


def test_leave_admin_records_who_entered_the_leave(client, tenant, provider):
    staff = tenant_admin_staff(tenant)
    client.force_login(staff)

    response = client.post(
        admin_url(ProviderLeave, "add"),
        {
            "provider": str(provider.pk),
            "starts_at_0": "2026-03-22",
            "starts_at_1": "00:00",
            "ends_at_0": "2026-03-26",
            "ends_at_1": "00:00",
            "reason": "Annual leave",
        },
    )

    assert response.status_code == 302
    leave = ProviderLeave.objects.get()
    assert (leave.created_by, leave.reason, leave.starts_at) == (staff, "Annual leave", moment(22, 0))


def test_leave_admin_lists_only_the_users_organisation(client, tenant, provider):
    other = ProviderFactory(clinic=ClinicFactory(tenant=TenantFactory(code="OTHER")))
    own = ProviderLeave.objects.create(
        provider=provider, starts_at=moment(22, 8), ends_at=moment(22, 12), reason="Own"
    )
    ProviderLeave.objects.create(
        provider=other, starts_at=moment(22, 8), ends_at=moment(22, 12), reason="Other"
    )
    client.force_login(tenant_admin_staff(tenant))

    response = client.get(admin_url(ProviderLeave, "changelist"))

    assert list(response.context["cl"].result_list) == [own]


def test_availability_changelists_query_count_does_not_grow_with_rows(admin_client, clinic):
    def add_rows(count: int) -> None:
        for index in range(count):
            provider = ProviderFactory(clinic=clinic)
            ProviderWorkingHours.objects.create(
                provider=provider,
                clinic=clinic,
                weekday=index % 7,
                starts_at=datetime.time(8),
                ends_at=datetime.time(12),
            )
            ProviderLeave.objects.create(
                provider=provider,
                starts_at=moment(20 + index, 8),
                ends_at=moment(20 + index, 12),
                reason="Course",
            )
            ClinicHoliday.objects.create(
                clinic=ClinicFactory(tenant=clinic.tenant),
                date=datetime.date(2026, 4, 1 + index),
                name="Holiday",
            )

    models = (ProviderWorkingHours, ProviderLeave, ClinicHoliday)
    add_rows(2)
    with_two = [changelist_query_count(admin_client, model) for model in models]
    add_rows(6)
    with_eight = [changelist_query_count(admin_client, model) for model in models]

    assert with_two == with_eight
