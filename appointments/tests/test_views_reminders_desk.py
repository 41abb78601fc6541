"""The front desk's reminders page: failed and unreachable messages of upcoming bookings, "Try again",
and the count on the front desk's home page."""

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from appointments.reminders import sending
from appointments.reminders.desk_views import PAGE_SIZE
from appointments.reminders.models import Reminder
from appointments.session_service import SessionService
from appointments.tests.reminder_helpers import (
    REFUSED,
    booked_in_group,
    due_reminder,
    failed_reminder,
    unreachable_reminder,
)
from core.models import AccessLog, User
from core.tests.factories import ClinicFactory, TenantFactory
from core.tests.view_helpers import staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
Status = Reminder.Status
URL = reverse("appointments:reminders")


@pytest.fixture
def desk(client, tenant):
    user = staff_member(tenant, Role.FRONT_DESK)
    client.force_login(user)
    return user


def listed(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-reminder="(\d+)"', response.content.decode())]


def retry_url(reminder: Reminder) -> str:
    return reverse("appointments:reminder_retry", args=[reminder.pk])


def test_reminder_list_shows_failed_and_unreachable_reminders_of_upcoming_bookings_soonest_first(
    client, desk, clinic, settings
):
    failed = failed_reminder(booked_in_group(clinic, days_ahead=2))
    unreachable = unreachable_reminder(booked_in_group(clinic, days_ahead=1, hour=9))
    sent = due_reminder(booked_in_group(clinic, days_ahead=1, hour=12))
    sending.send_reminder(sent.pk)
    waiting = due_reminder(booked_in_group(clinic, days_ahead=3))

    response = client.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert listed(response) == [unreachable.pk, failed.pk]
    assert {sent.pk, waiting.pk}.isdisjoint(listed(response))
    assert REFUSED in html
    assert failed.participant.patient.first_name_en in html
    # "Try again" on the failed row only
    assert re.findall(r'action="/appointments/reminders/(\d+)/retry/"', html) == [str(failed.pk)]
    assert "no-store" in response["Cache-Control"]


def test_reminder_list_leaves_out_cancelled_and_begun_bookings(client, desk, clinic):
    cancelled = failed_reminder(booked_in_group(clinic, days_ahead=1))
    SessionService.cancel_participant(cancelled.participant, "Family moved away")
    begun = failed_reminder(booked_in_group(clinic, days_ahead=2, hour=9))

    assert listed(client.get(URL)) == [begun.pk]
    with time_machine.travel(datetime.timedelta(days=2, hours=1)):
        assert listed(client.get(URL)) == []


def test_reminder_list_hides_other_organisations(client, desk, clinic):
    other_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    mine = failed_reminder(booked_in_group(clinic))
    theirs = failed_reminder(booked_in_group(other_clinic))

    response = client.get(URL)

    assert listed(response) == [mine.pk]
    assert client.post(retry_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.FAILED


def test_reminder_list_is_logged_as_a_listing(client, desk, tenant):
    client.get(URL, {"page": "2"})

    assert list(AccessLog.objects.values_list("action", "object_type", "object_id", "patient_id")) == [
        ("view", "reminders", "page=2", None)
    ]


def test_reminder_list_pages_by_25(client, desk, clinic):
    reminders = [
        failed_reminder(booked_in_group(clinic, days_ahead=1 + n // 8, hour=8 + n % 8)) for n in range(26)
    ]

    first = client.get(URL)
    second = client.get(URL, {"page": "2"})

    assert PAGE_SIZE == 25
    assert listed(first) == [r.pk for r in reminders[:25]]
    assert listed(second) == [reminders[25].pk]
    assert "?page=2" in first.content.decode()


@pytest.mark.parametrize("rows", [2, 12])
def test_reminder_list_query_count_does_not_grow(client, desk, clinic, rows, django_assert_num_queries):
    for n in range(rows):
        (failed_reminder if n % 2 else unreachable_reminder)(
            booked_in_group(clinic, days_ahead=1 + n // 8, hour=8 + n % 8)
        )

    # session + user, the page of reminders with their bookings, children and guardians, the
    # access-log row
    with django_assert_num_queries(4):
        response = client.get(URL)

    assert len(listed(response)) == rows


def test_reminder_retry_puts_a_failed_reminder_back_in_the_queue_and_returns_to_the_page(
    client, desk, clinic
):
    reminder = failed_reminder(booked_in_group(clinic))

    response = client.post(retry_url(reminder), {"next": f"{URL}?page=1"}, follow=True)

    reminder.refresh_from_db()
    assert response.redirect_chain == [(f"{URL}?page=1", 302)]
    assert (reminder.status, reminder.attempts) == (Status.PENDING, 0)
    assert "The reminder will be sent again within a minute." in response.content.decode()
    assert listed(response) == []


def test_reminder_retry_of_a_reminder_not_failed_says_so(client, desk, clinic):
    reminder = unreachable_reminder(booked_in_group(clinic))

    response = client.post(retry_url(reminder), follow=True)

    reminder.refresh_from_db()
    assert response.redirect_chain == [(URL, 302)]
    assert reminder.status == Status.UNREACHABLE
    assert (
        "Only a failed message can be sent again; this one is no one to send to." in response.content.decode()
    )


def test_reminder_retry_needs_the_csrf_token(tenant, clinic):
    reminder = failed_reminder(booked_in_group(clinic))
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_member(tenant, Role.FRONT_DESK))

    assert client.post(retry_url(reminder)).status_code == 403
    assert client.get(retry_url(reminder)).status_code == 405
    reminder.refresh_from_db()
    assert reminder.status == Status.FAILED


@pytest.mark.parametrize("role", [Role.FINANCE, Role.PSYCHOLOGIST])
def test_reminder_pages_are_the_front_desks(client, tenant, clinic, role):
    reminder = failed_reminder(booked_in_group(clinic))
    client.force_login(staff_member(tenant, role))

    assert client.get(URL).status_code == 403
    assert client.post(retry_url(reminder)).status_code == 403


def test_home_tells_the_front_desk_how_many_reminders_to_follow_up(client, desk, clinic):
    assert 'data-testid="reminders-to-follow-up"' not in client.get(reverse("home")).content.decode()
    failed_reminder(booked_in_group(clinic))
    unreachable_reminder(booked_in_group(clinic, days_ahead=3))

    html = client.get(reverse("home")).content.decode()

    assert re.search(rf'<a class="alert-link" href="{URL}">\s*2 reminders to follow up</a>', html)
