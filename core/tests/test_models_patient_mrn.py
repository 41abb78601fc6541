"""Patient MRNs: normalised on every path, unique within a tenant, and PostgreSQL says so too."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from core.models import Patient, normalise_mrn
from core.tests.factories import PatientFactory, TenantFactory

pytestmark = pytest.mark.django_db


def constraint_of(error: IntegrityError) -> str:
    return error.__cause__.diag.constraint_name


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("AG-001", "AG-001"),
        ("  ag-001\t", "AG-001"),
        ("ag-٠٠١", "AG-001"),  # Arabic-Indic digits
        ("AG-۰۰۱", "AG-001"),  # Extended Arabic-Indic (Persian) digits
        ("mrn ٤٥ b", "MRN 45 B"),  # inner spaces are part of the number
        ("straße", "STRASSE"),
    ],
)
def test_normalise_mrn_trims_upper_cases_and_reads_arabic_digits(typed, stored):
    assert normalise_mrn(typed) == stored


def test_patient_save_stores_the_mrn_normalised(tenant):
    patient = PatientFactory(tenant=tenant, mrn=" ag-٧ ")

    patient.refresh_from_db()
    assert patient.mrn == "AG-7"


def test_patient_same_mrn_in_two_tenants_is_allowed(tenant):
    PatientFactory(tenant=tenant, mrn="AG-1")

    PatientFactory(tenant=TenantFactory(code="OTHER"), mrn="ag-1")

    stored = sorted(Patient.objects.values_list("tenant__code", "mrn"))
    assert stored == [("AGDAR", "AG-1"), ("OTHER", "AG-1")]


def test_patient_full_clean_refuses_an_mrn_of_the_same_tenant_typed_differently(tenant):
    PatientFactory(tenant=tenant, mrn="AG-1")
    twin = PatientFactory.build(tenant=tenant, mrn=" ag-١ ")

    with pytest.raises(ValidationError) as refused:
        twin.full_clean()

    assert refused.value.message_dict == {"__all__": ["Another patient already has this MRN."]}
    assert twin.mrn == "AG-1"


@pytest.mark.parametrize(
    ("typed", "message"),
    [("   ", "This field cannot be blank."), ("ß" * 16, r"at most 30 characters \(it has 32\)")],
)
def test_patient_full_clean_refuses_an_mrn_blank_or_too_long_once_normalised(tenant, typed, message):
    patient = PatientFactory.build(tenant=tenant, mrn=typed)

    with pytest.raises(ValidationError, match=message) as refused:
        patient.full_clean()

    assert list(refused.value.message_dict) == ["mrn"]


def test_patient_table_refuses_a_second_mrn_in_one_tenant_on_raw_write(tenant):
    patient = PatientFactory(tenant=tenant, mrn="AG-1")

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Patient.objects.bulk_create([PatientFactory.build(tenant=tenant, mrn="AG-1")])

    assert constraint_of(refused.value) == "patient_unique_mrn_per_tenant"
    assert list(Patient.objects.all()) == [patient]


@pytest.mark.parametrize("raw", ["ag-1", " AG-1", "AG-1 ", "AG-١", "AG-۱", ""])
def test_patient_table_refuses_an_mrn_not_normalised_on_raw_write(tenant, raw):
    patient = PatientFactory(tenant=tenant, mrn="AG-1")

    with pytest.raises(IntegrityError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_patient SET mrn = %s WHERE id = %s", [raw, patient.pk])

    assert constraint_of(refused.value) == "patient_mrn_normalised"
    patient.refresh_from_db()
    assert patient.mrn == "AG-1"
