"""Bad input on the staff pages: a ``next`` that is no page of ours, days out of range.

Each case used to answer 500 (the fuzz, ``config/tests/test_fuzz.py``, walks every page).
"""

import datetime

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from appointments.models import SessionParticipant
from core.form_fields import EARLIEST_DATE, LATEST_DATE
from core.models import User
from core.tests.factories import UserFactory
from core.tests.view_helpers import booked, group_session, legacy_appointment, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

NOT_OUR_PAGES = [
    "abc\u202edef",  # no "/": redirect() took it for a URL name and raised NoReverseMatch
    "confirm",
    "https://evil.example",
    "//evil",
    "///evil",
    "\\\\evil",
    "/\\evil",
    "javascript:alert(1)",
    "/\x00",
    "/\r\nSet-Cookie: a=b",
    "/\u202e",
    "http://testserver/appointments/",
    "x" * 10_001,
]


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    return client


@pytest.mark.parametrize("next_page", NOT_OUR_PAGES)
def test_participant_action_ignores_a_next_that_is_not_a_page_of_ours(desk, provider, clinic, next_page):
    participant = booked(group_session(provider, clinic))

    response = desk.post(
        reverse("appointments:participant_confirm", args=[participant.pk]), {"next": next_page}
    )

    assert (response.status_code, response.url) == (302, participant.session.get_absolute_url())
    participant.refresh_from_db()
    assert participant.status == SessionParticipant.Status.CONFIRMED


def test_participant_action_returns_to_a_page_of_ours(desk, provider, clinic):
    participant = booked(group_session(provider, clinic))
    schedule = f"{reverse('appointments:schedule_by_room')}?day=2026-03-15"

    response = desk.post(
        reverse("appointments:participant_confirm", args=[participant.pk]), {"next": schedule}
    )

    assert (response.status_code, response.url) == (302, schedule)


@pytest.mark.parametrize("next_page", ["abc\u202edef", "//evil", "javascript:alert(1)"])
def test_appointment_action_ignores_a_next_that_is_not_a_page_of_ours(desk, provider, clinic, next_page):
    appointment = legacy_appointment(provider, clinic)

    response = desk.post(
        reverse("appointments:appointment_confirm", args=[appointment.pk]), {"next": next_page}
    )

    assert (response.status_code, response.url) == (302, appointment.get_absolute_url())


def range_error() -> str:
    return (
        f"Enter a date between {date_format(EARLIEST_DATE, 'SHORT_DATE_FORMAT')} "
        f"and {date_format(LATEST_DATE, 'SHORT_DATE_FORMAT')}."
    )


@pytest.mark.parametrize("name", ["appointments:schedule_by_provider", "appointments:schedule_by_room"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "2101-01-01"])
def test_schedule_day_out_of_range_shows_today_and_says_why(desk, frozen_today, name, day):
    response = desk.get(reverse(name), {"day": day})

    assert response.status_code == 200
    assert response.context["day"] == frozen_today
    assert response.context["form"].errors == {"day": [range_error()]}
    assert f"{range_error()} That is not a valid day; showing today." in response.content.decode()


@pytest.mark.parametrize("name", ["appointments:schedule_by_provider", "appointments:schedule_by_room"])
@pytest.mark.parametrize("day", ["10000-01-01", "0000-01-01", "2026-02-30", "\x00"])
def test_schedule_day_that_is_no_date_shows_today(desk, frozen_today, name, day):
    response = desk.get(reverse(name), {"day": day})

    assert response.status_code == 200
    assert response.context["day"] == frozen_today
    assert "That is not a valid day; showing today." in response.content.decode()


@pytest.mark.parametrize("day", [EARLIEST_DATE, LATEST_DATE])
def test_schedule_day_at_the_ends_of_the_range_shows_that_day(desk, day):
    response = desk.get(reverse("appointments:schedule_by_provider"), {"day": day.isoformat()})

    assert response.status_code == 200
    assert (response.context["previous_day"], response.context["day"], response.context["next_day"]) == (
        day - datetime.timedelta(days=1),
        day,
        day + datetime.timedelta(days=1),
    )


@pytest.mark.parametrize("next_page", ["confirm", "abc\u202edef", "//evil", "https://evil.example", "/\x00"])
def test_tenant_pick_ignores_a_next_that_is_not_a_page_of_ours(client, tenant, next_page):
    client.force_login(UserFactory(tenant=None, role=User.Role.ADMIN, is_superuser=True, is_staff=True))

    response = client.post(reverse("core:tenant_pick"), {"tenant": tenant.pk, "next": next_page})

    assert (response.status_code, response.url) == (302, reverse("home"))


def test_tenant_pick_returns_to_a_page_of_ours(client, tenant):
    client.force_login(UserFactory(tenant=None, role=User.Role.ADMIN, is_superuser=True, is_staff=True))
    sessions = reverse("appointments:session_list")

    response = client.post(reverse("core:tenant_pick"), {"tenant": tenant.pk, "next": sessions})

    assert (response.status_code, response.url) == (302, sessions)
