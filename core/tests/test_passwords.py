"""Passwords set through a form: at least 12 characters, not a common one, not like the user's name.

Every form that sets a password validates it (``AUTH_PASSWORD_VALIDATORS``): the
password change page, and the admin's add-user and set-password pages.
"""

import pytest
from django.urls import reverse

from core.models import User
from core.tests.admin_helpers import admin_url, tenant_admin_staff
from core.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

ELEVEN = "Kites-fly-9"
TWELVE = "Kites-fly-at"
TOO_SHORT = "This password is too short. It must contain at least 12 characters."


def change_own_password(client, new_password: str):
    return client.post(
        reverse("password_change"),
        {"old_password": "pass12345", "new_password1": new_password, "new_password2": new_password},
    )


@pytest.mark.parametrize(
    ("password", "error"),
    [
        (ELEVEN, TOO_SHORT),
        ("password1234", "This password is too common."),
        ("desk-staffer-1", "The password is too similar to the username."),
    ],
)
def test_password_change_page_refuses_a_weak_password(client, tenant, password, error):
    user = UserFactory(username="deskstaffer", tenant=tenant)
    client.force_login(user)

    response = change_own_password(client, password)

    user.refresh_from_db()
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"] == [error]
    assert user.check_password("pass12345")


def test_password_change_page_takes_twelve_characters_and_keeps_the_user_signed_in(client, tenant):
    user = UserFactory(username="deskstaffer", tenant=tenant)
    client.force_login(user)

    response = change_own_password(client, TWELVE)

    user.refresh_from_db()
    assert response.url == reverse("password_change_done")
    assert user.check_password(TWELVE)
    assert client.get(reverse("home")).status_code == 200


def test_admin_set_password_refuses_eleven_characters_and_takes_twelve(client, tenant):
    client.force_login(tenant_admin_staff(tenant))
    colleague = UserFactory(username="colleague", tenant=tenant)
    url = reverse("admin:auth_user_password_change", args=[colleague.pk])

    refused = client.post(url, {"password1": ELEVEN, "password2": ELEVEN, "usable_password": "true"})
    taken = client.post(url, {"password1": TWELVE, "password2": TWELVE, "usable_password": "true"})

    colleague.refresh_from_db()
    assert refused.status_code == 200
    assert refused.context["form"].errors["password2"] == [TOO_SHORT]
    assert taken.status_code == 302
    assert colleague.check_password(TWELVE)


def test_admin_add_user_refuses_eleven_characters(client, tenant):
    client.force_login(tenant_admin_staff(tenant))

    response = client.post(
        admin_url(User, "add"),
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": ELEVEN,
            "password2": ELEVEN,
            "role": User.Role.FRONT_DESK,
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["password2"] == [TOO_SHORT]
    assert not User.objects.filter(username="newcomer").exists()
