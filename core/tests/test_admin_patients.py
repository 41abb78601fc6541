"""Patient admin: the MRN is stored normalised and unique within the organisation."""

import pytest

from core.models import Patient
from core.tests.admin_helpers import admin_url, tenant_admin_staff
from core.tests.factories import PatientFactory, TenantFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


def patient_form(tenant, mrn: str) -> dict[str, str]:
    return {
        "tenant": str(tenant.pk),
        "mrn": mrn,
        "first_name_en": "Huda",
        "last_name_en": "Saeed",
        "date_of_birth": "2019-03-04",
        # The guardians inline, empty.
        "guardians-TOTAL_FORMS": "0",
        "guardians-INITIAL_FORMS": "0",
    }


def test_patient_admin_add_stores_the_mrn_normalised(client, tenant):
    client.force_login(tenant_admin_staff(tenant))

    response = client.post(admin_url(Patient, "add"), patient_form(tenant, " ag-٠٤٢ "))

    assert response.status_code == 302
    assert Patient.objects.get().mrn == "AG-042"


def test_patient_admin_add_refuses_an_mrn_of_the_organisation_typed_differently(client, tenant):
    PatientFactory(tenant=tenant, mrn="AG-42")
    client.force_login(tenant_admin_staff(tenant))

    response = client.post(admin_url(Patient, "add"), patient_form(tenant, "ag-٤٢"))

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == ["Another patient already has this MRN."]
    assert Patient.objects.count() == 1


def test_patient_admin_add_accepts_an_mrn_used_in_another_organisation(client, tenant):
    PatientFactory(tenant=TenantFactory(code="OTHER"), mrn="AG-42")
    client.force_login(tenant_admin_staff(tenant))

    response = client.post(admin_url(Patient, "add"), patient_form(tenant, "ag-42"))

    assert response.status_code == 302
    assert Patient.objects.filter(mrn="AG-42").count() == 2
