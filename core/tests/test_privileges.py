"""Privilege history (role, organisation, staff, superuser, active) and the sessions a change ends.

Every path that saves a user keeps the history: the model's save (shell, commands),
the admin's change form and its bulk action. Users are deactivated, never deleted.
"""

import pytest
from django.test import Client
from django.urls import reverse

from core.models import User, UserPrivilegeChange
from core.privileges import deactivate_users
from core.tests.admin_helpers import admin_url, form_data, tenant_admin_staff
from core.tests.factories import TenantFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role


@pytest.fixture
def other_tenant():
    return TenantFactory(code="OTHER", name_en="Other Centre")


def mark() -> int:
    """The newest privilege row's id: the history is append-only, so a test reads what came after."""
    return UserPrivilegeChange.objects.order_by("-id").values_list("id", flat=True).first() or 0


def history(user: User, after: int = 0) -> list[tuple[str, str, str, str | None, str | None]]:
    """(field, old, new, changed by, organisation after) of the user's privilege rows, oldest first."""
    rows = UserPrivilegeChange.objects.filter(user=user, id__gt=after).select_related("changed_by", "tenant")
    return [
        (
            row.field,
            row.old_value,
            row.new_value,
            row.changed_by.username if row.changed_by else None,
            row.tenant.code if row.tenant else None,
        )
        for row in rows.order_by("id")
    ]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get(reverse("home")).status_code == 200
    return client


def is_signed_out(client: Client) -> bool:
    response = client.get(reverse("home"))
    return response.status_code == 302 and response.url.startswith(reverse("login"))


def test_creating_a_user_records_the_privileges_given_with_no_old_value(tenant):
    user = UserFactory(username="desk", tenant=tenant, role=Role.FRONT_DESK)

    assert history(user) == [
        ("role", "", "front_desk", None, "AGDAR"),
        ("tenant", "", "AGDAR", None, "AGDAR"),
        ("is_staff", "", "False", None, "AGDAR"),
        ("is_superuser", "", "False", None, "AGDAR"),
        ("is_active", "", "True", None, "AGDAR"),
    ]


def test_saving_a_user_records_each_changed_privilege_once_and_nothing_else(tenant):
    user = UserFactory(username="desk", tenant=tenant, role=Role.FRONT_DESK)
    start = mark()

    user.role = Role.PSYCHOLOGIST
    user.is_staff = True
    user.first_name = "Renamed"
    user.save()
    user.set_password("another-Long-pass-77")
    user.save()
    user.save()

    assert history(user, after=start) == [
        ("role", "front_desk", "psychologist", None, "AGDAR"),
        ("is_staff", "False", "True", None, "AGDAR"),
    ]


def test_password_and_last_login_changes_are_never_recorded(client, tenant):
    user = UserFactory(username="desk", tenant=tenant)
    start = mark()

    client.post(reverse("login"), {"username": "desk", "password": "pass12345"})
    user.refresh_from_db()
    user.set_password("another-Long-pass-77")
    user.save(update_fields=["password"])

    assert user.last_login is not None
    assert history(user, after=start) == []


def test_changing_the_role_ends_the_users_sessions_but_staff_status_does_not(tenant):
    user = UserFactory(username="desk", tenant=tenant, role=Role.FRONT_DESK)
    staff_change = signed_in(user)

    user.is_staff = True
    user.save()
    kept = not is_signed_out(staff_change)
    user.role = Role.FINANCE
    user.save()

    assert kept
    assert is_signed_out(staff_change)
    assert not is_signed_out(signed_in(user))


def test_a_save_limited_to_the_role_still_ends_the_sessions_and_is_recorded(tenant):
    user = UserFactory(username="desk", tenant=tenant, role=Role.FRONT_DESK)
    session = signed_in(user)
    generation = user.session_generation

    user.role = Role.FINANCE
    user.save(update_fields=["role"])

    assert user.session_generation == generation + 1
    assert User.objects.get(pk=user.pk).session_generation == generation + 1
    assert is_signed_out(session)
    assert history(user)[-1] == ("role", "front_desk", "finance", None, "AGDAR")


def test_saving_a_stale_copy_of_a_user_never_brings_back_an_ended_session(tenant):
    user = UserFactory(username="desk", tenant=tenant)
    stale_copy = User.objects.get(pk=user.pk)
    old_session = signed_in(user)
    old_session.post(reverse("logout"))
    still_open = signed_in(User.objects.get(pk=user.pk))

    stale_copy.first_name = "Renamed"
    stale_copy.save()

    assert User.objects.get(pk=user.pk).session_generation == user.session_generation + 1
    assert not is_signed_out(still_open)


def test_logout_ends_the_users_other_sessions_and_writes_no_privilege_row(tenant):
    user = UserFactory(username="desk", tenant=tenant)
    start = mark()
    at_the_desk = signed_in(user)
    in_the_office = signed_in(user)
    colleague = signed_in(UserFactory(username="colleague", tenant=tenant))

    at_the_desk.post(reverse("logout"))

    assert is_signed_out(in_the_office)
    assert not is_signed_out(colleague)
    assert history(user, after=start) == []


def test_superuser_moving_a_user_in_the_admin_records_the_change_by_them_and_ends_the_users_sessions(
    admin_client, admin_user, tenant, other_tenant
):
    user = UserFactory(username="colleague", tenant=tenant, role=Role.FRONT_DESK)
    session = signed_in(user)
    start = mark()
    url = admin_url(User, "change", user.pk)

    response = admin_client.post(
        url, form_data(admin_client.get(url)) | {"tenant": str(other_tenant.pk), "role": Role.FINANCE}
    )

    assert response.status_code == 302
    assert history(user, after=start) == [
        ("role", "front_desk", "finance", admin_user.username, "OTHER"),
        ("tenant", "AGDAR", "OTHER", admin_user.username, "OTHER"),
    ]
    assert is_signed_out(session)


def test_tenant_admin_deactivating_a_colleague_on_the_change_form_records_it_and_signs_them_out(
    client, tenant
):
    administrator = tenant_admin_staff(tenant)
    colleague = UserFactory(username="colleague", tenant=tenant)
    session = signed_in(colleague)
    client.force_login(administrator)
    url = admin_url(User, "change", colleague.pk)
    data = form_data(client.get(url))
    del data["is_active"]

    client.post(url, data)

    assert history(colleague)[-1] == ("is_active", "True", "False", "tenantadmin", "AGDAR")
    assert is_signed_out(session)


def test_admin_bulk_deactivation_records_each_user_and_keeps_to_the_organisation(
    client, tenant, other_tenant
):
    administrator = tenant_admin_staff(tenant)
    colleagues = [UserFactory(username=f"colleague{n}", tenant=tenant) for n in (1, 2)]
    outsider = UserFactory(username="outsider", tenant=other_tenant)
    sessions = [signed_in(user) for user in colleagues]
    client.force_login(administrator)

    response = client.post(
        admin_url(User, "changelist"),
        {"action": "deactivate_users", "_selected_action": [user.pk for user in [*colleagues, outsider]]},
        follow=True,
    )

    assert [str(message) for message in response.context["messages"]] == [
        "Deactivated: colleague1, colleague2."
    ]
    assert {user.username: user.is_active for user in User.objects.exclude(pk=administrator.pk)} == {
        "colleague1": False,
        "colleague2": False,
        "outsider": True,
    }
    assert [history(user)[-1] for user in colleagues] == [
        ("is_active", "True", "False", "tenantadmin", "AGDAR")
    ] * 2
    assert all(is_signed_out(session) for session in sessions)


def test_deactivate_users_outside_a_request_records_no_actor_and_skips_inactive_users(tenant):
    active = UserFactory(username="active", tenant=tenant)
    inactive = UserFactory(username="inactive", tenant=tenant, is_active=False)

    deactivated = deactivate_users(User.objects.filter(pk__in=[active.pk, inactive.pk]))

    assert deactivated == ["active"]
    assert history(active)[-1] == ("is_active", "True", "False", None, "AGDAR")
    assert history(inactive)[-1] == ("is_active", "", "False", None, "AGDAR")


def test_nobody_deletes_a_user_in_the_admin_not_even_a_superuser(admin_client, tenant):
    user = UserFactory(username="colleague", tenant=tenant)

    page = admin_client.get(admin_url(User, "delete", user.pk))
    posted = admin_client.post(admin_url(User, "delete", user.pk), {"post": "yes"})
    bulk = admin_client.post(
        admin_url(User, "changelist"), {"action": "delete_selected", "_selected_action": [user.pk]}
    )
    actions = admin_client.get(admin_url(User, "changelist")).context["action_form"].fields["action"].choices

    assert (page.status_code, posted.status_code) == (403, 403)
    assert bulk.status_code == 302
    assert User.objects.filter(pk=user.pk).exists()
    names = {name for name, _label in actions if name}
    assert "delete_selected" not in names
    assert {"deactivate_users", "unlock_logins"} <= names


def test_a_user_added_in_the_admin_has_their_first_privileges_recorded_by_the_administrator(client, tenant):
    client.force_login(tenant_admin_staff(tenant))

    client.post(
        admin_url(User, "add"),
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": "Kites-fly-at-9",
            "password2": "Kites-fly-at-9",
            "role": Role.FINANCE,
        },
    )

    assert history(User.objects.get(username="newcomer")) == [
        ("role", "", "finance", "tenantadmin", "AGDAR"),
        ("tenant", "", "AGDAR", "tenantadmin", "AGDAR"),
        ("is_staff", "", "False", "tenantadmin", "AGDAR"),
        ("is_superuser", "", "False", "tenantadmin", "AGDAR"),
        ("is_active", "", "True", "tenantadmin", "AGDAR"),
    ]
