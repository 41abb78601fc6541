"""Sign-in lockout (django-axes, core/logins.py), with the clock pinned.

Five failures within fifteen minutes lock a username on the staff and the admin login,
whether the user exists or not, with one message that doesn't say which; the lock
lifts fifteen minutes later or when an administrator unlocks the user; every sign-in
and every failure is logged.
"""

import datetime
import re
import zoneinfo

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from core.logins import lockout_response
from core.models import User
from core.tests.admin_helpers import admin_url, tenant_admin_staff
from core.tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

MOMENT = datetime.datetime(2026, 3, 15, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Riyadh"))
PASSWORD = "pass12345"
LOCKED = (
    "Too many failed sign-in attempts with this username. Try again in 15 minutes, "
    "or ask an administrator to unlock it."
)
WRONG = "Please enter a correct username and password. Note that both fields may be case-sensitive."


@pytest.fixture
def clock():
    with time_machine.travel(MOMENT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk(tenant):
    return UserFactory(username="desk", tenant=tenant)


def sign_in(client: Client, username: str, password: str, url: str | None = None):
    return client.post(url or reverse("login"), {"username": username, "password": password})


def errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def fail(client: Client, username: str, times: int, url: str | None = None) -> list[int]:
    return [sign_in(client, username, "wrong-password", url).status_code for _ in range(times)]


def test_five_wrong_passwords_lock_the_username_and_then_the_right_password_is_refused(client, clock, desk):
    four = fail(client, "desk", 4)
    fifth = sign_in(client, "desk", "wrong-password")
    right = sign_in(client, "desk", PASSWORD)

    assert four == [200] * 4
    assert (fifth.status_code, errors(fifth)) == (429, [LOCKED])
    assert (right.status_code, errors(right)) == (429, [LOCKED])
    assert right.templates[0].name == "registration/login.html"
    assert right["Retry-After"] == "900"
    assert client.get(reverse("home")).status_code == 302


def test_an_unknown_username_is_locked_the_same_way_with_the_same_page(client, clock, desk):
    known = [sign_in(client, "desk", "wrong-password") for _ in range(6)]
    unknown = [sign_in(client, "nobody", "wrong-password") for _ in range(6)]

    def seen(response):
        # The page as shown, but for the username typed and the CSRF token (new on every page).
        html = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", response.content.decode())
        return (response.status_code, errors(response), html.replace("nobody", "desk"))

    assert [seen(response) for response in unknown] == [seen(response) for response in known]
    assert [errors(response) for response in known] == [[WRONG]] * 4 + [[LOCKED]] * 2


def test_the_lock_lifts_fifteen_minutes_after_the_last_failure(client, clock, desk):
    fail(client, "desk", 5)

    clock.shift(datetime.timedelta(minutes=15, seconds=1))
    response = sign_in(client, "desk", PASSWORD)

    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_a_try_during_the_lock_is_refused_and_starts_the_fifteen_minutes_again(client, clock, desk):
    fail(client, "desk", 5)

    clock.shift(datetime.timedelta(minutes=14))
    during = sign_in(client, "desk", PASSWORD)
    clock.shift(datetime.timedelta(minutes=14))
    still = sign_in(client, "desk", PASSWORD)
    clock.shift(datetime.timedelta(minutes=15, seconds=1))
    after = sign_in(client, "desk", PASSWORD)

    assert (during.status_code, still.status_code, after.status_code) == (429, 429, 302)


def test_failures_more_than_fifteen_minutes_apart_do_not_add_up(client, clock, desk):
    fail(client, "desk", 4)
    clock.shift(datetime.timedelta(minutes=16))
    fail(client, "desk", 4)

    assert sign_in(client, "desk", PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_the_failures(client, clock, desk):
    fail(client, "desk", 4)
    sign_in(client, "desk", PASSWORD)
    client.post(reverse("logout"))

    assert fail(client, "desk", 4) == [200] * 4
    assert sign_in(client, "desk", PASSWORD).status_code == 302


def test_the_admin_login_locks_the_username_too(client, clock, tenant):
    tenant_admin_staff(tenant)
    admin_login = reverse("admin:login")

    statuses = fail(client, "tenantadmin", 5, admin_login)
    admin_right = sign_in(client, "tenantadmin", PASSWORD, admin_login)
    staff_right = sign_in(client, "tenantadmin", PASSWORD)

    assert statuses == [200] * 4 + [429]
    assert admin_right.status_code == 429
    assert admin_right.templates[0].name == "admin/login.html"
    assert LOCKED in admin_right.content.decode()
    assert staff_right.status_code == 429
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_lockout_message_is_in_arabic_on_the_arabic_page(client, clock, desk):
    client.cookies["django_language"] = "ar"

    fail(client, "desk", 4)
    response = sign_in(client, "desk", "wrong-password")

    assert response.status_code == 429
    assert errors(response) != [LOCKED]
    assert "15" in errors(response)[0]


def test_every_sign_in_and_failure_is_logged(client, clock, desk):
    fail(client, "desk", 2)
    fail(client, "nobody", 1)
    sign_in(client, "desk", PASSWORD)

    failures = list(AccessFailureLog.objects.order_by("id").values_list("username", "locked_out"))
    assert failures == [("desk", False), ("desk", False), ("nobody", False)]
    assert list(AccessLog.objects.values_list("username", flat=True)) == ["desk"]
    assert AccessLog.objects.get().attempt_time == MOMENT


def test_a_tenant_administrator_unlocks_a_colleague_from_the_user_admin(clock, tenant):
    administrator = tenant_admin_staff(tenant)
    colleague = UserFactory(username="desk", tenant=tenant)
    outsider = UserFactory(username="outsider", tenant=TenantFactory(code="OTHER"))
    visitor = Client()
    fail(visitor, "desk", 5)
    fail(visitor, "outsider", 5)
    admin = Client()
    admin.force_login(administrator)

    response = admin.post(
        admin_url(User, "changelist"),
        {"action": "unlock_logins", "_selected_action": [colleague.pk, outsider.pk]},
        follow=True,
    )

    assert [str(message) for message in response.context["messages"]] == ["Sign-in unlocked: desk."]
    assert sign_in(visitor, "desk", PASSWORD).status_code == 302
    assert sign_in(Client(), "outsider", PASSWORD).status_code == 429
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["outsider"]


def test_axes_admin_pages_are_for_superusers_only(client, admin_client, tenant):
    client.force_login(tenant_admin_staff(tenant))
    pages = [
        reverse(f"admin:axes_{model}_changelist")
        for model in ("accessattempt", "accesslog", "accessfailurelog")
    ]

    assert [client.get(page).status_code for page in pages] == [403] * 3
    assert [admin_client.get(page).status_code for page in pages] == [200] * 3


def test_a_lockout_outside_a_login_page_answers_the_staff_login_page_with_the_message(rf):
    request = rf.post("/elsewhere/", {"username": "desk"})

    response = lockout_response(request, HttpResponse("elsewhere"), {"username": "desk"})

    assert response.status_code == 429
    assert response.template_name == "registration/login.html"
    assert LOCKED in response.content.decode()
