"""Admin: providers' and rooms' Arabic names, and the organisation's catalogue of service names."""

import pytest

from core.models import Clinic, Provider, Room, ServiceName
from core.tests.admin_helpers import admin_url, tenant_admin_staff
from core.tests.factories import ProviderFactory, RoomFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_tenant():
    return TenantFactory(code="OTHER", name_en="Other Centre")


@pytest.fixture
def staff_client(client, tenant):
    client.force_login(tenant_admin_staff(tenant))
    return client


def rows_of(client, model, **query) -> list:
    response = client.get(admin_url(model, "changelist"), query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_provider_admin_lists_and_finds_the_arabic_name(staff_client, clinic):
    sara = ProviderFactory(clinic=clinic, user=UserFactory(first_name="Sara", last_name="Haddad"))
    sara.name_ar = "د. سارة حداد"
    sara.save(update_fields=["name_ar"])
    ProviderFactory(clinic=clinic)

    page = staff_client.get(admin_url(Provider, "changelist")).content.decode()

    assert '<td class="field-name_ar">د. سارة حداد</td>' in page
    assert rows_of(staff_client, Provider, q="حداد") == [sara]
    assert (
        "name_ar" in staff_client.get(admin_url(Provider, "change", sara.pk)).context["adminform"].form.fields
    )


def test_room_admin_lists_and_finds_the_arabic_name(staff_client, clinic):
    play = RoomFactory(clinic=clinic, name="Play Room", name_ar="غرفة اللعب")
    RoomFactory(clinic=clinic, name="Quiet Room")

    page = staff_client.get(admin_url(Room, "changelist")).content.decode()

    assert '<td class="field-name_ar">غرفة اللعب</td>' in page
    assert rows_of(staff_client, Room, q="اللعب") == [play]
    assert "name_ar" in staff_client.get(admin_url(Room, "change", play.pk)).context["adminform"].form.fields


def test_service_name_admin_lists_only_the_organisations_catalogue(staff_client, tenant, other_tenant):
    speech = ServiceName.objects.create(
        tenant=tenant, specialty=Clinic.Specialty.OT, name_en="Speech Therapy", name_ar="علاج النطق"
    )
    ServiceName.objects.create(tenant=other_tenant, name_en="Secret Service", name_ar="خدمة سرية")

    page = staff_client.get(admin_url(ServiceName, "changelist")).content.decode()

    assert rows_of(staff_client, ServiceName) == [speech]
    assert '<td class="field-name_ar">علاج النطق</td>' in page
    assert '<td class="field-specialty">Occupational therapy</td>' in page
    assert "Secret Service" not in page


def test_service_name_admin_adds_an_entry_to_the_organisation_only(staff_client, tenant, other_tenant):
    form = staff_client.get(admin_url(ServiceName, "add")).context["adminform"].form

    response = staff_client.post(
        admin_url(ServiceName, "add"),
        {
            "tenant": tenant.pk,
            "specialty": "",
            "name_en": "Assessment",
            "name_ar": "تقييم",
            "is_active": "on",
        },
    )

    assert list(form.fields["tenant"].queryset) == [tenant]
    assert response.status_code == 302
    entry = ServiceName.objects.get()
    assert (entry.tenant, entry.name_en, entry.name_ar, entry.is_active) == (
        tenant,
        "Assessment",
        "تقييم",
        True,
    )
    assert entry.history.get().history_user is not None


def test_service_name_admin_refuses_another_organisations_tenant_and_a_duplicate(
    staff_client, tenant, other_tenant
):
    ServiceName.objects.create(tenant=tenant, name_en="Assessment")

    foreign = staff_client.post(
        admin_url(ServiceName, "add"), {"tenant": other_tenant.pk, "name_en": "Intake"}
    )
    duplicate = staff_client.post(
        admin_url(ServiceName, "add"), {"tenant": tenant.pk, "name_en": "Assessment"}
    )

    assert foreign.status_code == duplicate.status_code == 200
    assert list(foreign.context["adminform"].form.errors) == ["tenant"]
    assert duplicate.context["adminform"].form.non_field_errors() == [
        "This service name is already in the catalogue."
    ]
    assert ServiceName.objects.count() == 1


def test_service_name_admin_sends_another_organisations_entry_away(staff_client, other_tenant):
    foreign = ServiceName.objects.create(tenant=other_tenant, name_en="Secret Service")

    response = staff_client.get(admin_url(ServiceName, "change", foreign.pk))

    assert response.status_code == 302
    assert response.url == "/admin/"


def test_service_name_admin_is_closed_to_staff_who_are_not_administrators(client, tenant):
    client.force_login(UserFactory(tenant=tenant, is_staff=True))

    assert client.get(admin_url(ServiceName, "changelist")).status_code == 403
