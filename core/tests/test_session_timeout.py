"""Idle timeout (core/session_timeout.py), with the clock pinned: 15 minutes without activity sign out.

The last-activity stamp is written at most once a minute; background requests (the
page's own checks and autosaves) never extend the session; a session ends 12 hours
after signing in however active; the page gets what static/js/idle.js needs.
"""

import datetime
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from core.session_timeout import LAST_ACTIVITY_KEY, SIGNED_IN_KEY
from core.tests.view_helpers import Role, messages_of, staff_member

pytestmark = pytest.mark.django_db

MOMENT = datetime.datetime(2026, 3, 15, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Riyadh"))
BACKGROUND = {"HTTP_X_BACKGROUND_REQUEST": "1"}
IDLE_MESSAGE = "You were signed out after 15 minutes without activity."


@pytest.fixture
def clock():
    with time_machine.travel(MOMENT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def signed_in(client, clock, tenant):
    client.force_login(staff_member(tenant, Role.FRONT_DESK))
    return client


def minutes(count: float) -> datetime.timedelta:
    return datetime.timedelta(minutes=count)


def home_after(client, clock, wait: datetime.timedelta, **headers):
    clock.shift(wait)
    return client.get(reverse("home"), **headers)


def sent_to_login(response) -> bool:
    return response.status_code == 302 and response.url == f"{reverse('login')}?next=/"


def test_sixteen_idle_minutes_sign_out_to_the_login_page_with_a_message(signed_in, clock):
    response = home_after(signed_in, clock, minutes(16))
    login_page = signed_in.get(response.url)

    assert sent_to_login(response)
    assert messages_of(login_page) == [IDLE_MESSAGE]
    assert sent_to_login(signed_in.get(reverse("home")))


def test_fourteen_idle_minutes_keep_the_session(signed_in, clock):
    assert home_after(signed_in, clock, minutes(14)).status_code == 200


def test_activity_every_ten_minutes_keeps_the_session_for_an_hour(signed_in, clock):
    statuses = [home_after(signed_in, clock, minutes(10)).status_code for _ in range(6)]

    assert statuses == [200] * 6


def test_background_requests_do_not_extend_the_session(signed_in, clock):
    status_url = reverse("core:session_status")

    checks = []
    for wait in (5, 5, 4):
        clock.shift(minutes(wait))
        checks.append(signed_in.get(status_url, **BACKGROUND).json())
    clock.shift(minutes(1))
    response = signed_in.get(status_url, **BACKGROUND)

    assert checks == [{"seconds_left": 600}, {"seconds_left": 300}, {"seconds_left": 60}]
    assert response.status_code == 401
    assert response.json() == {"signed_out": True}
    assert sent_to_login(signed_in.get(reverse("home")))


def test_a_background_request_after_the_timeout_leaves_the_message_for_the_login_page(signed_in, clock):
    clock.shift(minutes(16))
    signed_in.get(reverse("core:session_status"), **BACKGROUND)

    assert messages_of(signed_in.get(reverse("login"))) == [IDLE_MESSAGE]


def test_the_activity_stamp_is_written_at_most_once_a_minute(signed_in, clock):
    signed_in_at = signed_in.session[LAST_ACTIVITY_KEY]

    stamps = []
    for wait in (30, 29, 2, 59, 1):
        clock.shift(datetime.timedelta(seconds=wait))
        signed_in.get(reverse("home"))
        stamps.append(signed_in.session[LAST_ACTIVITY_KEY] - signed_in_at)

    assert stamps == [0, 0, 61, 61, 121]


def test_stay_signed_in_is_activity_and_answers_the_time_left(signed_in, clock):
    clock.shift(minutes(14))

    stay = signed_in.post(reverse("core:session_status"))
    clock.shift(minutes(14))
    later = signed_in.get(reverse("core:session_status"), **BACKGROUND)

    assert stay.json() == {"seconds_left": 900}
    assert later.json() == {"seconds_left": 60}


def test_twelve_hours_after_signing_in_the_session_ends_however_active(signed_in, clock):
    session = signed_in.session
    session[SIGNED_IN_KEY] -= settings.SESSION_COOKIE_AGE - 60
    session.save()

    just_before = home_after(signed_in, clock, datetime.timedelta(seconds=59))
    response = home_after(signed_in, clock, datetime.timedelta(seconds=2))

    assert just_before.status_code == 200
    assert sent_to_login(response)
    assert messages_of(signed_in.get(response.url)) == [
        "You were signed out 12 hours after signing in. Please sign in again."
    ]


def test_a_timeout_ends_only_that_session_not_the_users_others(clock, tenant, client):
    user = staff_member(tenant, Role.FRONT_DESK)
    client.force_login(user)
    clock.shift(minutes(10))
    other = Client()
    other.force_login(user)

    clock.shift(minutes(6))
    timed_out = client.get(reverse("home"))
    still = other.get(reverse("home"))

    assert sent_to_login(timed_out)
    assert still.status_code == 200


def test_the_idle_timeout_follows_session_idle_minutes(signed_in, clock, settings):
    settings.SESSION_IDLE_MINUTES = 5

    assert home_after(signed_in, clock, minutes(4)).status_code == 200
    assert sent_to_login(home_after(signed_in, clock, minutes(5)))


def test_a_signed_in_page_hands_the_timeout_to_the_script_and_the_login_page_does_not(
    signed_in, clock, client
):
    page = signed_in.get(reverse("home")).content.decode()
    signed_in.post(reverse("logout"))
    login_page = client.get(reverse("login")).content.decode()

    assert '<body data-session-status-url="/session/" data-login-url="/accounts/login/">' in page
    assert '<script src="/static/js/idle.js" defer></script>' in page
    assert 'id="idle-warning"' in page
    assert "<body>" in login_page
    assert 'id="idle-warning"' not in login_page


def test_sessions_last_twelve_hours_at_most_and_the_idle_script_keeps_nothing_in_the_browser():
    script = (Path(settings.BASE_DIR) / "static" / "js" / "idle.js").read_text()

    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60
    assert "localStorage" not in script
    assert "sessionStorage" not in script
    assert "X-Background-Request" in script
