"""A superuser works on the staff pages in one organisation they pick; Django admin still shows all."""

import pytest
from django.urls import reverse

from core.middleware import ACTING_TENANT_SESSION_KEY
from core.models import Patient, User
from core.tests.admin_helpers import admin_url
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, TenantFactory
from core.tests.view_helpers import group_session, messages_of, staff_member, superuser

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

PICK_URL = reverse("core:tenant_pick")


@pytest.fixture
def other():
    return TenantFactory(code="OTHER", name_en="Other Centre", name_ar="مركز آخر")


@pytest.fixture
def root(client):
    """A superuser of no organisation, signed in, who has picked none yet."""
    user = superuser()
    client.force_login(user)
    return user


def test_tenant_pick_is_where_a_superuser_of_no_organisation_is_sent_from_a_staff_page(client, root):
    page = client.get(reverse("core:patient_search"), {"q": "sara"})
    action = client.post(reverse("core:patient_create"), {"mrn": "AG-1"})

    assert page.url == f"{PICK_URL}?next=%2Fpatients%2F%3Fq%3Dsara"
    assert action.url == f"{PICK_URL}?next=%2Fpatients%2Fadd%2F"
    assert Patient.objects.count() == 0


def test_tenant_pick_not_needed_for_the_admin_signing_out_password_and_language(client, root):
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("password_change")).status_code == 200
    assert client.post(reverse("set_language"), {"language": "ar", "next": "/"}).url == "/"
    assert client.post(reverse("logout")).url == reverse("login")


def test_tenant_pick_lists_every_organisation_and_keeps_the_choice_for_the_session(
    client, root, tenant, other
):
    form_page = client.get(PICK_URL, {"next": "/appointments/sessions/"})
    picked = client.post(PICK_URL, {"tenant": other.pk, "next": "/appointments/sessions/"}, follow=True)

    html = form_page.content.decode()
    assert form_page.status_code == 200
    assert list(form_page.context["form"].fields["tenant"].queryset) == [tenant, other]
    assert 'name="next" value="/appointments/sessions/"' in html
    assert picked.redirect_chain == [("/appointments/sessions/", 302)]
    assert messages_of(picked) == ["You are working in Other Centre."]
    assert client.session[ACTING_TENANT_SESSION_KEY] == other.pk


def test_tenant_pick_scopes_every_staff_page_to_the_picked_organisation(client, root, tenant, other):
    own = PatientFactory(tenant=tenant, last_name_en="Here")
    foreign = PatientFactory(tenant=other, last_name_en="There")
    foreign_clinic = ClinicFactory(tenant=other)
    foreign_session = group_session(ProviderFactory(clinic=foreign_clinic), foreign_clinic)

    client.post(PICK_URL, {"tenant": tenant.pk})
    in_tenant = list(client.get(reverse("core:patient_search")).context["page_obj"].object_list)
    sessions_in_tenant = client.get(reverse("appointments:session_list")).context["page_obj"].object_list
    foreign_chart = client.get(reverse("core:patient_chart", args=[foreign.pk]))
    client.post(PICK_URL, {"tenant": other.pk})
    in_other = list(client.get(reverse("core:patient_search")).context["page_obj"].object_list)

    assert in_tenant == [own]
    assert list(sessions_in_tenant) == []
    assert foreign_chart.status_code == 404
    assert in_other == [foreign]
    assert client.get(foreign_session.get_absolute_url()).status_code == 200


def test_tenant_pick_leaves_django_admin_showing_every_organisation(client, root, tenant, other):
    own = PatientFactory(tenant=tenant)
    foreign = PatientFactory(tenant=other)
    client.post(PICK_URL, {"tenant": tenant.pk})

    changelist = client.get(admin_url(Patient, "changelist"))

    assert set(changelist.context["cl"].result_list) == {own, foreign}


def test_tenant_pick_superuser_of_an_organisation_works_in_it_until_picking_another(client, tenant, other):
    client.force_login(staff_member(tenant, User.Role.ADMIN, is_superuser=True, is_staff=True))
    own = PatientFactory(tenant=tenant)
    foreign = PatientFactory(tenant=other)

    before = list(client.get(reverse("core:patient_search")).context["page_obj"].object_list)
    form = client.get(PICK_URL).context["form"]
    client.post(PICK_URL, {"tenant": other.pk})
    after = list(client.get(reverse("core:patient_search")).context["page_obj"].object_list)

    assert (before, form["tenant"].value(), after) == ([own], tenant.pk, [foreign])


@pytest.mark.parametrize(
    "unsafe", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", ""], ids=repr
)
def test_tenant_pick_sends_an_unsafe_next_home(client, root, tenant, unsafe):
    response = client.post(PICK_URL, {"tenant": tenant.pk, "next": unsafe})

    assert response.url == reverse("home")


NOT_LISTED = "Choose one of the organisations listed."


@pytest.mark.parametrize(
    ("choice", "error"),
    [("987654", NOT_LISTED), ("x", NOT_LISTED), ("-1", NOT_LISTED), ("", "This field is required.")],
)
def test_tenant_pick_refuses_a_choice_that_is_not_listed(client, root, tenant, choice, error):
    response = client.post(PICK_URL, {"tenant": choice})

    assert response.status_code == 200
    assert response.context["form"].errors == {"tenant": [error]}
    assert ACTING_TENANT_SESSION_KEY not in client.session
    assert client.get(reverse("home")).url == f"{PICK_URL}?next=%2F"


@pytest.mark.parametrize("role", [*User.Role.values, ""])
def test_tenant_pick_is_refused_to_staff_who_are_not_superusers(client, tenant, other, role):
    client.force_login(staff_member(tenant, role, is_staff=True))

    assert client.get(PICK_URL).status_code == 403
    assert client.post(PICK_URL, {"tenant": other.pk}).status_code == 403
    assert ACTING_TENANT_SESSION_KEY not in client.session


def test_tenant_pick_navigation_offers_the_switch_to_superusers_only(client, root, tenant):
    client.post(PICK_URL, {"tenant": tenant.pk})
    superuser_home = client.get(reverse("home")).content.decode()
    client.force_login(staff_member(tenant, User.Role.ADMIN, is_staff=True))
    admin_home = client.get(reverse("home")).content.decode()

    assert f'href="{PICK_URL}"' in superuser_home
    assert f'href="{PICK_URL}"' not in admin_home
