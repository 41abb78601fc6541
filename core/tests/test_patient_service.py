"""PatientService: registration and consents, with their refusals and history."""

import datetime

import pytest
from django.utils import timezone

from core.models import Consent, Patient, User
from core.patient_service import PatientError, PatientService
from core.tests.factories import ConsentFactory, PatientFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


def register(tenant, **overrides):
    fields = {
        "tenant": tenant,
        "mrn": " AG-9 ",
        "first_name_en": "Lina",
        "last_name_en": "Omar",
        "date_of_birth": datetime.date(2019, 1, 2),
    }
    fields.update(overrides)
    return PatientService.register_patient(**fields)


def test_register_patient_saves_with_the_acting_user(tenant):
    clerk = UserFactory(tenant=tenant, role=User.Role.FRONT_DESK)

    patient = register(tenant, user=clerk)

    assert patient.mrn == "AG-9"
    assert patient.history.get().history_user == clerk


def test_register_patient_refuses_a_taken_mrn_from_the_unique_index(tenant):
    register(tenant)

    with pytest.raises(PatientError, match=r"^\['A patient with MRN AG-9 already exists.'\]$"):
        register(tenant, first_name_en="Other")


def test_register_patient_stores_the_mrn_normalised(tenant):
    patient = register(tenant, mrn=" ag-٠٠٩ ")

    assert Patient.objects.get(pk=patient.pk).mrn == "AG-009"


def test_register_patient_refuses_an_mrn_of_its_tenant_typed_differently(tenant):
    register(tenant, mrn="AG-9")

    with pytest.raises(PatientError, match=r"^\['A patient with MRN AG-9 already exists.'\]$"):
        register(tenant, mrn="ag-٩", first_name_en="Other")

    assert Patient.objects.count() == 1


def test_register_patient_accepts_an_mrn_used_in_another_tenant(tenant):
    elsewhere = register(TenantFactory(code="OTHER"), mrn="AG-9")

    here = register(tenant, mrn="ag-9")

    assert (here.mrn, here.tenant, elsewhere.mrn) == ("AG-9", tenant, "AG-9")


def test_register_patient_refuses_a_blank_mrn(tenant):
    with pytest.raises(PatientError, match=r"^\['Enter the MRN.'\]$"):
        register(tenant, mrn=" \t ")

    assert Patient.objects.count() == 0


def test_register_patient_refuses_a_birth_in_the_future(tenant):
    with pytest.raises(PatientError, match="The date of birth is in the future."):
        register(tenant, date_of_birth=timezone.localdate() + datetime.timedelta(days=1))


def test_add_consent_defaults_to_signed_now_and_records_the_user(tenant):
    patient = PatientFactory(tenant=tenant)
    clerk = UserFactory(tenant=tenant)

    consent = PatientService.add_consent(patient, Consent.ConsentType.GENERAL, "Guardian", user=clerk)

    assert consent.is_valid_on(timezone.localdate())
    assert consent.history.get().history_user == clerk


def test_add_consent_refuses_an_expiry_before_signing(tenant):
    patient = PatientFactory(tenant=tenant)
    now = timezone.now()

    with pytest.raises(PatientError, match="A consent can't expire before it is signed."):
        PatientService.add_consent(
            patient,
            Consent.ConsentType.OT,
            "Guardian",
            signed_at=now,
            expires_at=now - datetime.timedelta(hours=1),
        )
    assert not patient.consents.exists()


def test_revoke_consent_once_then_refuses(tenant):
    consent = ConsentFactory(patient=PatientFactory(tenant=tenant))
    clerk = UserFactory(tenant=tenant)

    PatientService.revoke_consent(consent, user=clerk)

    assert consent.revoked_at is not None
    assert consent.history.latest().history_user == clerk
    with pytest.raises(PatientError, match="This consent was already revoked."):
        PatientService.revoke_consent(consent)
