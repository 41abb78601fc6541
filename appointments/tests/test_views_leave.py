"""The leave pages end to end through the HTTP client: list, record, and the bookings under a leave.

The clock is pinned to Sunday 15/03/2026 10:00; Dr Huda's Tuesday (17/03) has a group at
10:00 with two children and a legacy appointment at 15:00 when her leave is recorded.
"""

import datetime
import zoneinfo

import pytest
from django.conf import settings
from django.urls import reverse

from appointments.leave_service import record_leave
from appointments.models import Appointment, Session
from core.models import AccessLog, ProviderLeave, User
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, TenantFactory
from core.tests.view_helpers import booked, group_session, legacy_appointment, messages_of, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
TUESDAY = datetime.date(2026, 3, 17)
WEDNESDAY = datetime.date(2026, 3, 18)
ZONE = zoneinfo.ZoneInfo(settings.TIME_ZONE)


def at(day: datetime.date, hour: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


@pytest.fixture
def colleague(clinic):
    return ProviderFactory(clinic=clinic)


@pytest.fixture
def tuesday(provider, clinic, room):
    group = group_session(provider, clinic, day=TUESDAY, hour=10, room=room, capacity=4)
    sara = booked(group, PatientFactory(tenant=clinic.tenant, first_name_en="Sara", last_name_en="Ali"))
    omar = booked(group, PatientFactory(tenant=clinic.tenant, first_name_en="Omar", last_name_en="Hasan"))
    appointment = legacy_appointment(
        provider,
        clinic,
        PatientFactory(tenant=clinic.tenant, first_name_en="Lina", last_name_en="Saad"),
        day=TUESDAY,
        hour=15,
    )
    return {"group": group, "participants": [sara, omar], "appointment": appointment}


def leave_of(provider, user, *, starts=None, ends=None, reason="Sick"):
    return record_leave(
        provider=provider,
        starts_at=starts or at(TUESDAY),
        ends_at=ends or at(WEDNESDAY),
        reason=reason,
        user=user,
    )


@pytest.fixture
def sick_tuesday(provider, desk_user, tuesday):
    return leave_of(provider, desk_user)


def detail_url(leave) -> str:
    return reverse("appointments:leave_detail", args=[leave.pk])


# List


def test_leave_list_shows_current_and_upcoming_leave_with_the_bookings_it_covers(
    desk, provider, colleague, desk_user, sick_tuesday
):
    past = leave_of(
        provider,
        desk_user,
        starts=at(TUESDAY - datetime.timedelta(days=10)),
        ends=at(TUESDAY - datetime.timedelta(days=8)),
    )
    current = leave_of(
        colleague,
        desk_user,
        starts=at(TUESDAY - datetime.timedelta(days=3)),
        ends=at(WEDNESDAY),
        reason="Course",
    )

    response = desk.get(reverse("appointments:leave_list"))

    rows = list(response.context["page_obj"].object_list)
    assert past not in rows
    assert rows == [current, sick_tuesday]
    assert [row.bookings_affected for row in rows] == [0, 2]
    html = response.content.decode()
    assert "17/03/2026 00:00" in html
    assert "18/03/2026 00:00" in html
    assert f'<td data-affected="{sick_tuesday.pk}">' in html


def test_leave_list_filters_by_provider(desk, provider, colleague, desk_user, sick_tuesday):
    leave_of(colleague, desk_user, reason="Course")

    response = desk.get(reverse("appointments:leave_list"), {"provider": provider.pk})

    assert list(response.context["page_obj"].object_list) == [sick_tuesday]


def test_leave_list_shows_nothing_of_another_organisation(desk, sick_tuesday):
    other = TenantFactory(code="OTHER")
    stranger = ProviderFactory(clinic=ClinicFactory(tenant=other))
    ProviderLeave.objects.create(
        provider=stranger, starts_at=at(TUESDAY), ends_at=at(WEDNESDAY), reason="Abroad"
    )

    response = desk.get(reverse("appointments:leave_list"), {"provider": stranger.pk})

    assert list(response.context["page_obj"].object_list) == [sick_tuesday]
    assert "Abroad" not in response.content.decode()


@pytest.mark.parametrize("count", [2, 8])
def test_leave_list_query_count_does_not_grow_with_rows(
    desk, clinic, desk_user, count, django_assert_num_queries
):
    for number in range(count):
        provider = ProviderFactory(clinic=clinic)
        group_session(provider, clinic, day=TUESDAY, hour=9 + number % 8)
        leave_of(provider, desk_user)

    # session + user, provider choices, page count, page rows with their counts, the access-log row
    with django_assert_num_queries(6):
        response = desk.get(reverse("appointments:leave_list"))

    assert [row.bookings_affected for row in response.context["page_obj"].object_list] == [1] * count


# Record


def test_leave_create_records_whole_days_and_goes_to_the_bookings_under_it(
    desk, desk_user, provider, tuesday
):
    response = desk.post(
        reverse("appointments:leave_create"),
        {"provider": provider.pk, "starts_on": "2026-03-17", "ends_on": "2026-03-17", "reason": "Sick"},
    )

    leave = ProviderLeave.objects.get()
    assert response.url == detail_url(leave)
    assert (leave.starts_at, leave.ends_at, leave.reason, leave.created_by) == (
        at(TUESDAY),
        at(WEDNESDAY),
        "Sick",
        desk_user,
    )
    page = desk.get(response.url)
    assert messages_of(page) == ["Leave recorded. Any booking inside it is listed below."]
    assert [booking.booking for booking in page.context["form"].bookings] == [
        tuesday["group"],
        tuesday["appointment"],
    ]


def test_leave_create_takes_times_when_given(desk, provider):
    desk.post(
        reverse("appointments:leave_create"),
        {
            "provider": provider.pk,
            "starts_on": "2026-03-17",
            "starts_time": "13:30",
            "ends_on": "2026-03-19",
            "ends_time": "09:00",
            "reason": "Conference",
        },
    )

    leave = ProviderLeave.objects.get()
    assert (leave.starts_at, leave.ends_at) == (
        datetime.datetime(2026, 3, 17, 13, 30, tzinfo=ZONE),
        datetime.datetime(2026, 3, 19, 9, tzinfo=ZONE),
    )


def test_leave_create_refuses_an_end_before_the_start(desk, provider):
    response = desk.post(
        reverse("appointments:leave_create"),
        {
            "provider": provider.pk,
            "starts_on": "2026-03-17",
            "starts_time": "12:00",
            "ends_on": "2026-03-17",
            "ends_time": "09:00",
            "reason": "Sick",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"ends_on": ["The leave must end after it starts."]}
    assert not ProviderLeave.objects.exists()


def test_leave_create_refuses_a_provider_of_another_organisation(desk):
    stranger = ProviderFactory(clinic=ClinicFactory(tenant=TenantFactory(code="OTHER")))

    response = desk.post(
        reverse("appointments:leave_create"),
        {"provider": stranger.pk, "starts_on": "2026-03-17", "ends_on": "2026-03-17", "reason": "Sick"},
    )

    assert "provider" in response.context["form"].errors
    assert not ProviderLeave.objects.exists()


@pytest.mark.parametrize("role", [Role.FINANCE, Role.PSYCHOLOGIST, Role.OCCUPATIONAL_THERAPIST])
def test_leave_pages_are_refused_to_finance_and_clinicians(client, tenant, provider, role, sick_tuesday):
    client.force_login(staff_member(tenant, role))

    create = client.post(
        reverse("appointments:leave_create"),
        {"provider": provider.pk, "starts_on": "2026-03-20", "ends_on": "2026-03-20", "reason": "Sick"},
    )

    assert create.status_code == 403
    assert client.get(reverse("appointments:leave_create")).status_code == 403
    assert client.get(reverse("appointments:leave_list")).status_code == 403
    assert (
        client.post(detail_url(sick_tuesday), {"bulk_action": "cancel", "bulk_reason": "x"}).status_code
        == 403
    )
    assert ProviderLeave.objects.count() == 1
    assert Session.objects.get().status == Session.Status.SCHEDULED


def test_administrator_records_leave(client, tenant, provider):
    client.force_login(staff_member(tenant, Role.ADMIN))

    response = client.post(
        reverse("appointments:leave_create"),
        {
            "provider": provider.pk,
            "starts_on": "2026-03-20",
            "ends_on": "2026-03-21",
            "reason": "Annual leave",
        },
    )

    assert response.status_code == 302
    assert ProviderLeave.objects.get().ends_at == at(datetime.date(2026, 3, 22))


# The bookings under a leave


def test_leave_detail_lists_each_booking_with_its_children_and_room(desk, sick_tuesday, tuesday, room):
    response = desk.get(detail_url(sick_tuesday))

    html = response.content.decode()
    group, appointment = tuesday["group"], tuesday["appointment"]
    assert f'data-booking="session-{group.pk}"' in html
    assert f'data-booking="appointment-{appointment.pk}"' in html
    for name in ("Sara Ali", "Omar Hasan", "Lina Saad", room.name, "Tue 17/03/2026", "10:00", "15:00"):
        assert name in html
    assert "17/03/2026 00:00" in html


def test_leave_detail_is_access_logged_without_one_patient(desk, desk_user, sick_tuesday):
    desk.get(detail_url(sick_tuesday))

    row = AccessLog.objects.latest("pk")
    assert (row.action, row.object_type, row.object_id, row.patient_id, row.user_id) == (
        "view",
        "leave",
        str(sick_tuesday.pk),
        None,
        desk_user.pk,
    )


def test_leave_detail_bulk_move_to_next_free_slots_reports_each_booking(
    desk, sick_tuesday, tuesday, provider
):
    response = desk.post(detail_url(sick_tuesday), {"bulk_action": "next_free"}, follow=True)

    group, appointment = tuesday["group"], tuesday["appointment"]
    group.refresh_from_db()
    appointment.refresh_from_db()
    assert (group.scheduled_date, group.scheduled_time) == (WEDNESDAY, datetime.time(8))
    assert (appointment.scheduled_date, appointment.scheduled_time) == (WEDNESDAY, datetime.time(9))
    group_label = "Tue 17/03/2026 10:00 Social Skills Group (Sara Ali, Omar Hasan)"
    assert messages_of(response) == [
        f"{group_label}: moved to Wed 18/03/2026 08:00 with {provider}.",
        f"Tue 17/03/2026 15:00 Assessment (Lina Saad): moved to Wed 18/03/2026 09:00 with {provider}.",
    ]
    assert "No booking is inside this leave." in response.content.decode()


def test_leave_detail_row_choices_win_over_the_choice_for_all(desk, sick_tuesday, tuesday, colleague):
    group, appointment = tuesday["group"], tuesday["appointment"]

    response = desk.post(
        detail_url(sick_tuesday),
        {
            "bulk_action": "cancel",
            "bulk_reason": "Dr off sick",
            f"action-session-{group.pk}": "other_provider",
            f"provider-session-{group.pk}": colleague.pk,
            f"action-appointment-{appointment.pk}": "keep",
        },
        follow=True,
    )

    group.refresh_from_db()
    appointment.refresh_from_db()
    assert (group.provider, group.scheduled_time, group.status) == (colleague, datetime.time(10), "scheduled")
    assert appointment.status == Appointment.Status.BOOKED
    group_label = "Tue 17/03/2026 10:00 Social Skills Group (Sara Ali, Omar Hasan)"
    assert messages_of(response) == [f"{group_label}: moved to Tue 17/03/2026 10:00 with {colleague}."]


def test_leave_detail_partial_failure_shows_each_result_and_keeps_the_others(desk, sick_tuesday, tuesday):
    group, appointment = tuesday["group"], tuesday["appointment"]

    response = desk.post(
        detail_url(sick_tuesday),
        {
            f"action-session-{group.pk}": "cancel",
            f"reason-session-{group.pk}": "Dr off sick",
            f"action-appointment-{appointment.pk}": "other_provider",
        },
        follow=True,
    )

    group.refresh_from_db()
    appointment.refresh_from_db()
    assert group.status == Session.Status.CANCELLED
    assert appointment.status == Appointment.Status.BOOKED
    assert messages_of(response) == [
        "Tue 17/03/2026 10:00 Social Skills Group (Sara Ali, Omar Hasan): cancelled.",
        "Tue 17/03/2026 15:00 Assessment (Lina Saad): refused: Choose the provider to move this booking to.",
    ]
    assert [row[0].booking for row in response.context["form"].rows()] == [appointment]


def test_leave_detail_with_nothing_chosen_asks_for_a_choice(desk, sick_tuesday, tuesday):
    response = desk.post(detail_url(sick_tuesday), {})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Choose what to do with at least one booking."]
    tuesday["group"].refresh_from_db()
    assert tuesday["group"].status == Session.Status.SCHEDULED


def test_leave_detail_offers_per_booking_only_providers_of_its_clinic(
    desk, sick_tuesday, tuesday, colleague, clinic
):
    elsewhere = ProviderFactory(clinic=ClinicFactory(tenant=clinic.tenant))

    form = desk.get(detail_url(sick_tuesday)).context["form"]

    row_choices = dict(form.fields[f"provider-session-{tuesday['group'].pk}"].choices)
    all_choices = dict(form.fields["bulk_provider"].choices)
    assert set(row_choices) == {"", colleague.pk}
    assert set(all_choices) == {"", colleague.pk, elsewhere.pk}


def test_leave_of_another_organisation_is_404(desk, tenant):
    stranger = ProviderFactory(clinic=ClinicFactory(tenant=TenantFactory(code="OTHER")))
    foreign = ProviderLeave.objects.create(
        provider=stranger, starts_at=at(TUESDAY), ends_at=at(WEDNESDAY), reason="Abroad"
    )

    assert desk.get(detail_url(foreign)).status_code == 404
    assert desk.post(detail_url(foreign), {"bulk_action": "next_free"}).status_code == 404


@pytest.mark.parametrize("groups", [2, 6])
def test_leave_detail_query_count_does_not_grow_with_bookings(
    desk, provider, colleague, clinic, desk_user, groups, django_assert_num_queries
):
    for hour in range(groups):
        session = group_session(provider, clinic, day=TUESDAY, hour=8 + hour)
        booked(session)
        booked(session)
        legacy_appointment(provider, clinic, day=WEDNESDAY, hour=8 + hour)
    leave = leave_of(provider, desk_user, ends=at(WEDNESDAY + datetime.timedelta(days=1)))

    # session + user, the leave, sessions, their participants, appointments, providers with
    # their clinics (two), the access-log row
    with django_assert_num_queries(9):
        response = desk.get(detail_url(leave))

    assert len(response.context["form"].bookings) == 2 * groups
