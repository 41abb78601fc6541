"""The home page by role, the layout around every page, login, logout and the language switch."""

import datetime
import re

import pytest
from django.urls import reverse

from appointments.appointment_service import AppointmentService
from appointments.session_service import SessionService
from core.models import User
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, TenantFactory
from core.tests.view_helpers import (
    booked,
    consented_patient,
    group_session,
    legacy_appointment,
    staff_member,
    superuser,
    today,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
Role = User.Role


def login(client, tenant, role, **fields) -> User:
    user = staff_member(tenant, role, **fields)
    client.force_login(user)
    return user


def counts(response) -> dict[str, int]:
    """The numbers on the page's count cards, by card."""
    return {
        key: int(number)
        for key, number in re.findall(r'data-count="(\w+)">(\d+)<', response.content.decode())
    }


@pytest.fixture
def todays_floor(tenant, clinic, provider):
    """Two of today's sessions (one of another provider), one tomorrow, with people in each state."""
    clerk = staff_member(tenant, Role.FINANCE)
    mine = group_session(provider, clinic, hour=9, capacity=5)
    arrived = booked(mine)
    SessionService.clear_finance(arrived, user=clerk)
    SessionService.check_in_participant(arrived)
    booked(mine)
    SessionService.confirm_participant(booked(mine))
    colleague = ProviderFactory(clinic=clinic)
    theirs = group_session(colleague, clinic, hour=11, capacity=3, service_type="Parent training")
    SessionService.mark_participant_no_show(booked(theirs))
    tomorrow = group_session(
        provider, clinic, day=today() + datetime.timedelta(days=1), service_type="Tomorrow"
    )
    booked(tomorrow)
    return {"mine": mine, "theirs": theirs, "tomorrow": tomorrow, "clerk": clerk}


def test_home_front_desk_shows_todays_schedule_with_counts(client, tenant, todays_floor):
    login(client, tenant, Role.FRONT_DESK)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert response.context["view"] == "front_desk"
    assert response.context["sessions"] == [todays_floor["mine"], todays_floor["theirs"]]
    assert counts(response) == {
        "sessions": 2,
        "expected": 2,
        "arrived": 1,
        "attended": 0,
        "no_show": 1,
        "turned_away": 0,
        "free_seats": 4,
    }
    assert "Today's schedule" in response.content.decode()


def test_home_clinician_shows_only_my_sessions_today(client, provider, todays_floor):
    client.force_login(provider.user)

    response = client.get(reverse("home"))

    assert response.context["view"] == "clinician"
    assert response.context["sessions"] == [todays_floor["mine"]]
    assert counts(response)["expected"] == 2
    assert counts(response)["no_show"] == 0
    assert "My sessions today" in response.content.decode()


def test_home_clinician_without_sessions_says_so(client, tenant, todays_floor):
    login(client, tenant, Role.OCCUPATIONAL_THERAPIST)

    response = client.get(reverse("home"))

    assert response.context["sessions"] == []
    assert "You have no sessions today." in response.content.decode()


def test_home_finance_shows_the_clearance_queue_with_counts(client, tenant, clinic, provider, todays_floor):
    no_clearance_clinic = ClinicFactory(tenant=tenant, requires_finance_clearance=False)
    booked(group_session(ProviderFactory(clinic=no_clearance_clinic), no_clearance_clinic))
    yesterday = group_session(provider, clinic, day=today() - datetime.timedelta(days=1), hour=8)
    booked(yesterday)
    appointment = legacy_appointment(provider, clinic, PatientFactory(tenant=tenant), hour=16)
    cancelled = legacy_appointment(provider, clinic, hour=17)
    AppointmentService.cancel(cancelled, "Moved away")
    login(client, tenant, Role.FINANCE)

    response = client.get(reverse("home"))

    queued = [row.booking for row in response.context["queue"]]
    assert response.context["view"] == "finance"
    assert [getattr(b, "session", b) for b in queued] == [
        todays_floor["mine"],
        todays_floor["mine"],
        appointment,
        todays_floor["tomorrow"],
    ]
    assert counts(response) == {"queue_total": 4, "queue_today": 3}
    html = response.content.decode()
    assert reverse("appointments:participant_clear_finance", args=[queued[0].pk]) in html
    assert reverse("appointments:appointment_clear_finance", args=[appointment.pk]) in html
    assert '<input type="hidden" name="next" value="/">' in html
    assert f'href="{reverse("appointments:clearance_queue")}" data-testid="clearance-see-all"' in html


def test_home_finance_shows_the_first_rows_and_counts_what_the_queue_page_lists(
    client, tenant, clinic, provider
):
    session = group_session(provider, clinic, capacity=12)
    for _ in range(7):
        booked(session)
    booked(group_session(provider, clinic, day=today() + datetime.timedelta(days=7), hour=8))
    booked(group_session(provider, clinic, day=today() + datetime.timedelta(days=8), hour=8))
    login(client, tenant, Role.FINANCE)

    home = client.get(reverse("home"))
    queue = client.get(reverse("appointments:clearance_queue"))

    assert counts(home) == {"queue_total": 8, "queue_today": 7}
    assert queue.context["page_obj"].paginator.count == 8
    assert [row.key for row in home.context["queue"]] == [row.key for row in queue.context["rows"]][:5]


def test_home_finance_clearing_from_the_queue_comes_back_to_it(client, tenant, todays_floor):
    login(client, tenant, Role.FINANCE)
    participant = client.get(reverse("home")).context["queue"][0].booking

    response = client.post(
        reverse("appointments:participant_clear_finance", args=[participant.pk]), {"next": "/"}, follow=True
    )

    assert response.redirect_chain == [("/", 302)]
    assert counts(response)["queue_total"] == 2


def test_home_admin_shows_schedule_and_queue(client, tenant, todays_floor):
    login(client, tenant, Role.ADMIN, is_staff=True)

    response = client.get(reverse("home"))

    assert response.context["view"] == "admin"
    assert set(counts(response)) == {
        "sessions",
        "expected",
        "arrived",
        "attended",
        "no_show",
        "turned_away",
        "free_seats",
        "queue_total",
        "queue_today",
    }
    assert reverse("admin:index") in response.content.decode()


def test_home_for_a_user_without_a_known_role_shows_no_data(client, tenant, todays_floor):
    login(client, tenant, "")

    response = client.get(reverse("home"))

    assert response.context["view"] == "no_role"
    assert "sessions" not in response.context
    assert "ask an administrator to set your role" in response.content.decode()


def test_home_hides_other_organisations(client, todays_floor):
    foreign_tenant = TenantFactory(code="OTHER")
    login(client, foreign_tenant, Role.FRONT_DESK)

    response = client.get(reverse("home"))

    assert response.context["sessions"] == []


@pytest.mark.parametrize("sessions", [3, 12])
def test_home_front_desk_query_count_does_not_grow(
    client, tenant, clinic, provider, sessions, django_assert_num_queries
):
    for hour in range(sessions):
        booked(group_session(provider, clinic, hour=7 + hour))
    legacy_appointment(ProviderFactory(clinic=clinic), clinic, hour=12)
    login(client, tenant, Role.FRONT_DESK)

    # session + user, today's sessions, their children, today's appointments, participant counts,
    # the no-shows to review, the reminders to follow up, the tenant (its Hijri-date setting), the
    # access-log row
    with django_assert_num_queries(10):
        response = client.get(reverse("home"))

    assert len(response.context["sessions"]) == sessions


@pytest.mark.parametrize("participants", [3, 12])
def test_home_finance_query_count_does_not_grow(
    client, tenant, clinic, provider, participants, django_assert_num_queries
):
    session = group_session(provider, clinic, capacity=20)
    for _ in range(participants):
        booked(session)
    login(client, tenant, Role.FINANCE)

    # session + user, the clearance queue's first rows, their places (no appointment: no query),
    # its total, its count of today, the no-shows to review, the billable items, the tenant (its
    # Hijri-date setting), the access-log row
    with django_assert_num_queries(10):
        response = client.get(reverse("home"))

    assert len(response.context["queue"]) == min(participants, 5)


# Layout, login, logout, language


def test_login_page_renders_for_anonymous_users_with_the_language_switch(client):
    response = client.get(reverse("login"))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en" dir="ltr">' in html
    assert "vendor/bootstrap/bootstrap.min.css" in html
    assert 'action="/i18n/setlang/"' in html
    assert 'name="username"' in html


def test_login_redirects_to_home_and_logout_is_a_post(client, tenant):
    staff_member(tenant, Role.FRONT_DESK, username="desk")

    logged_in = client.post(reverse("login"), {"username": "desk", "password": "pass12345"})
    home = client.get(reverse("home"))
    logout_by_get = client.get(reverse("logout"))
    logged_out = client.post(reverse("logout"))

    assert logged_in.url == reverse("home")
    assert f'action="{reverse("logout")}" method="post"' in home.content.decode()
    assert logout_by_get.status_code == 405
    assert logged_out.url == reverse("login")
    assert client.get(reverse("home")).status_code == 302


def test_login_with_a_wrong_password_shows_the_error(client, tenant):
    staff_member(tenant, Role.FRONT_DESK, username="desk")

    response = client.post(reverse("login"), {"username": "desk", "password": "wrong"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Please enter a correct username and password. Note that both fields may be case-sensitive."
    ]


def test_arabic_switches_the_page_to_right_to_left(client, tenant):
    login(client, tenant, Role.FRONT_DESK)

    switched = client.post(reverse("set_language"), {"language": "ar", "next": reverse("home")})
    html = client.get(reverse("home")).content.decode()

    assert switched.url == reverse("home")
    assert '<html lang="ar" dir="rtl">' in html
    assert "vendor/bootstrap/bootstrap.rtl.min.css" in html
    assert "vendor/bootstrap/bootstrap.min.css" not in html


def test_arabic_can_be_chosen_on_the_login_page(client):
    client.post(reverse("set_language"), {"language": "ar", "next": reverse("login")})

    html = client.get(reverse("login")).content.decode()

    assert 'dir="rtl"' in html


def test_navigation_follows_the_role(client, tenant):
    links = {
        "book": reverse("appointments:session_create"),
        "schedule": reverse("appointments:session_list"),
        "patients": reverse("core:patient_search"),
        "admin": reverse("admin:index"),
    }

    def visible_links(role, **fields):
        login(client, tenant, role, **fields)
        html = client.get(reverse("home")).content.decode()
        return {name for name, url in links.items() if f'href="{url}"' in html}

    assert visible_links(Role.FRONT_DESK) == {"book", "schedule", "patients"}
    assert visible_links(Role.FINANCE) == {"schedule", "patients"}
    assert visible_links(Role.PSYCHOLOGIST) == {"schedule", "patients"}
    assert visible_links(Role.ADMIN, is_staff=True) == {"book", "schedule", "patients", "admin"}
    assert visible_links("") == set()


def test_messages_are_shown_as_bootstrap_alerts(client, tenant, clinic, provider):
    participant = booked(group_session(provider, clinic), consented_patient(tenant, first_name_en="Sara"))
    login(client, tenant, Role.FRONT_DESK)

    response = client.post(reverse("appointments:participant_check_in", args=[participant.pk]), follow=True)

    html = response.content.decode()
    assert '<div class="alert alert-danger alert-dismissible fade show" role="alert">' in html


def test_superuser_home_is_the_overview_of_the_organisation_they_picked(client, tenant, todays_floor):
    other = TenantFactory(code="OTHER")
    other_clinic = ClinicFactory(tenant=other)
    group_session(ProviderFactory(clinic=other_clinic), other_clinic, hour=9)
    client.force_login(superuser())

    before = client.get(reverse("home"))
    client.post(reverse("core:tenant_pick"), {"tenant": tenant.pk})
    response = client.get(reverse("home"))

    assert before.url == reverse("core:tenant_pick") + "?next=%2F"
    assert response.context["view"] == "admin"
    assert response.context["sessions"] == [todays_floor["mine"], todays_floor["theirs"]]
