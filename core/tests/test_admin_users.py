"""User admin: only superusers manage superusers, tenants and platform-wide powers.

A tenant administrator (staff of one organisation, every model permission, not a
superuser) manages the colleagues of their own organisation: superusers are invisible
to them (list, change, history, password), they can't grant ``is_superuser``
(a forged POST included), and the organisation of a user is theirs to keep. Nobody
deletes a user, superusers included: users are deactivated (``core/tests/test_privileges.py``).
"""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from core.models import User
from core.tests.admin_helpers import admin_url, form_data, tenant_admin_staff
from core.tests.factories import TenantFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

NEW_PASSWORD = "a-Long-pass-9021"


@pytest.fixture
def other_tenant():
    return TenantFactory(code="OTHER", name_en="Other Centre")


@pytest.fixture
def tenant_admin(client, tenant):
    user = tenant_admin_staff(tenant)
    client.force_login(user)
    return user


@pytest.fixture
def superusers(tenant):
    """A superuser inside the organisation and one of none (the platform's operator)."""
    return [
        UserFactory(username="rootintenant", tenant=tenant, is_superuser=True, is_staff=True),
        UserFactory(username="operator", tenant=None, is_superuser=True, is_staff=True),
    ]


def password_url(user: User) -> str:
    # Django's UserAdmin names this page after auth.User whatever the user model.
    return reverse("admin:auth_user_password_change", args=[user.pk])


def password_data(password: str = NEW_PASSWORD) -> dict[str, str]:
    return {"password1": password, "password2": password, "usable_password": "true"}


def test_user_admin_lists_no_superuser_to_a_tenant_admin(client, tenant, tenant_admin, superusers):
    colleague = UserFactory(tenant=tenant)

    response = client.get(admin_url(User, "changelist"))

    assert set(response.context["cl"].result_list) == {tenant_admin, colleague}


@pytest.mark.parametrize("view", ["change", "history"])
def test_user_admin_pages_of_a_superuser_answer_a_tenant_admin_as_for_an_unknown_user(
    client, tenant_admin, superusers, view
):
    unknown = client.get(admin_url(User, view, 987654))

    outcome = [client.get(admin_url(User, view, root.pk)) for root in superusers]

    assert unknown.status_code == 302
    assert [(r.status_code, r.url) for r in outcome] == [(302, unknown.url)] * 2


def test_user_admin_tenant_admin_cant_set_a_superusers_password(client, tenant_admin, superusers):
    outcome = [
        (
            client.get(password_url(root)).status_code,
            client.post(password_url(root), password_data()).status_code,
        )
        for root in superusers
    ]

    assert outcome == [(404, 404)] * 2
    assert [root.check_password(NEW_PASSWORD) for root in User.objects.filter(is_superuser=True)] == [
        False,
        False,
    ]


def test_user_admin_tenant_admin_cant_edit_or_delete_a_superuser_by_forged_post(
    client, tenant_admin, superusers
):
    root = superusers[0]

    changed = client.post(
        admin_url(User, "change", root.pk),
        {"username": root.username, "is_superuser": "", "is_active": "", "tenant": root.tenant_id},
    )
    deleted = client.post(admin_url(User, "delete", root.pk), {"post": "yes"})

    root.refresh_from_db()
    # Nobody deletes a user (they are deactivated): the delete page refuses before looking the user up.
    assert (changed.status_code, deleted.status_code) == (302, 403)
    assert (root.is_superuser, root.is_active) == (True, True)


def test_user_admin_tenant_admin_sets_a_colleagues_password(client, tenant, tenant_admin):
    colleague = UserFactory(tenant=tenant)

    response = client.post(password_url(colleague), password_data())

    colleague.refresh_from_db()
    assert response.status_code == 302
    assert colleague.check_password(NEW_PASSWORD)


def test_user_admin_forged_is_superuser_on_add_takes_no_effect(client, tenant, tenant_admin, other_tenant):
    response = client.post(
        admin_url(User, "add"),
        {
            "username": "sneaky",
            **password_data(),
            "role": User.Role.FRONT_DESK,
            "is_superuser": "on",
            "is_staff": "on",
            "tenant": str(other_tenant.pk),
        },
    )

    user = User.objects.get(username="sneaky")
    assert response.status_code == 302
    assert (user.is_superuser, user.is_staff, user.tenant) == (False, False, tenant)


def test_user_admin_forged_is_superuser_on_own_profile_takes_no_effect(client, tenant_admin, other_tenant):
    url = admin_url(User, "change", tenant_admin.pk)
    page = client.get(url)

    response = client.post(url, form_data(page) | {"is_superuser": "on", "tenant": str(other_tenant.pk)})

    tenant_admin.refresh_from_db()
    assert response.status_code == 302
    assert "is_superuser" not in page.context["adminform"].form.fields
    assert "tenant" not in page.context["adminform"].form.fields
    assert (tenant_admin.is_superuser, tenant_admin.tenant.code) == (False, "AGDAR")


def test_user_admin_tenant_admin_grants_is_staff_inside_the_organisation_only(
    client, tenant, tenant_admin, other_tenant
):
    colleague = UserFactory(tenant=tenant, username="colleague")
    outsider = UserFactory(tenant=other_tenant, username="outsider")
    tenantless = UserFactory(tenant=None, username="tenantless")
    colleague_url = admin_url(User, "change", colleague.pk)

    granted = client.post(colleague_url, form_data(client.get(colleague_url)) | {"is_staff": "on"})
    refused = [
        client.post(
            admin_url(User, "change", user.pk),
            {"username": user.username, "is_staff": "on", "is_active": "on"},
        )
        for user in (outsider, tenantless)
    ]

    assert granted.status_code == 302
    assert [(r.status_code, r.url) for r in refused] == [(302, "/admin/")] * 2
    assert {user.username: user.is_staff for user in User.objects.exclude(pk=tenant_admin.pk)} == {
        "colleague": True,
        "outsider": False,
        "tenantless": False,
    }


def test_user_admin_tenant_admin_of_no_organisation_cant_add_users(client):
    staff = UserFactory(tenant=None, role=User.Role.ADMIN, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="core"))
    client.force_login(staff)

    response = client.post(admin_url(User, "add"), {"username": "orphan", **password_data()})

    assert response.status_code == 403
    assert not User.objects.filter(username="orphan").exists()


def test_user_admin_superuser_manages_superusers_and_moves_users_between_organisations(
    admin_client, tenant, other_tenant, superusers
):
    colleague = UserFactory(tenant=tenant, username="colleague")
    url = admin_url(User, "change", colleague.pk)
    page = admin_client.get(url)

    moved = admin_client.post(url, form_data(page) | {"tenant": str(other_tenant.pk), "is_superuser": "on"})
    listed = admin_client.get(admin_url(User, "changelist")).context["cl"].result_list
    password = admin_client.post(password_url(superusers[1]), password_data())

    colleague.refresh_from_db()
    assert moved.status_code == 302
    assert (colleague.tenant, colleague.is_superuser) == (other_tenant, True)
    assert set(superusers) <= set(listed)
    assert password.status_code == 302
    assert User.objects.get(pk=superusers[1].pk).check_password(NEW_PASSWORD)
