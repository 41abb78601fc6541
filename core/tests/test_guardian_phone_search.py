"""The patient search finds a child by any guardian's phone, typed as the desk types it.

``core.guardians.phone_prefixes`` turns what was typed into the E.164 starts it may mean;
``core.selectors.search_patients`` looks them up in ``guardian_phone_prefix_idx``.
"""

import pytest
from django.db import connection

from core.guardians import phone_prefixes
from core.models import Guardian, Patient, User
from core.selectors import search_patients
from core.tests.factories import GuardianFactory, PatientFactory, TenantFactory
from core.tests.view_helpers import staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(tenant) -> User:
    return staff_member(tenant, User.Role.FRONT_DESK)


@pytest.fixture
def noura(tenant) -> Patient:
    """A child whose mother is +966 50 123 4567 and whose father is +966 55 111 2233."""
    child = PatientFactory(tenant=tenant, first_name_en="Noura", last_name_en="Al-Harbi", mrn="AG-0012")
    GuardianFactory(patient=child, phone="+966501234567")
    GuardianFactory(patient=child, phone="+966551112233", is_primary=False, relation=Guardian.Relation.FATHER)
    return child


def found(user: User, query: str) -> list[Patient]:
    return list(search_patients(user, query))


@pytest.mark.parametrize(
    ("typed", "prefixes"),
    [
        ("0501234567", ["+966501234567"]),
        ("+966 50 123 4567", ["+966501234567"]),
        ("٠٥٠١٢٣٤٥٦٧", ["+966501234567"]),
        ("۰۵۰۱۲۳۴۵۶۷", ["+966501234567"]),
        ("(050) 123-4567", ["+966501234567"]),
        ("00966501234567", ["+966501234567"]),
        ("050123", ["+96650123"]),
        ("96650123", ["+96650123", "+96696650123"]),
        ("50123", ["+96650123"]),
        ("+1 202 555 0143", ["+12025550143"]),
    ],
)
def test_phone_prefixes_read_every_way_the_desk_types_a_number(typed, prefixes):
    assert phone_prefixes(typed) == prefixes


@pytest.mark.parametrize("typed", ["", "noura", "ag-0012", "0012", "966", "+9665", "0 5 x", "05-01;"])
def test_phone_prefixes_are_none_for_names_mrns_and_too_few_digits(typed):
    assert phone_prefixes(typed) == []


@pytest.mark.parametrize(
    "typed", ["0501234567", "+966 50 123 4567", "٠٥٠١٢٣٤٥٦٧", "96650123", "050123", "0551112233", "٩٦٦٥٥١"]
)
def test_search_finds_the_child_by_any_guardians_phone(desk, noura, tenant, typed):
    PatientFactory(tenant=tenant, first_name_en="Sara")

    assert found(desk, typed) == [noura]


def test_search_by_phone_finds_siblings_sharing_their_mothers_phone_and_no_one_else(desk, tenant):
    sara, omar = (PatientFactory(tenant=tenant, last_name_en="Otaibi", first_name_en=name) for name in "SO")
    for child in (sara, omar):
        GuardianFactory(patient=child, phone="+966507777777")
    GuardianFactory(patient=PatientFactory(tenant=tenant), phone="+966508888888")

    assert found(desk, "0507777777") == [omar, sara]
    assert found(desk, "0509") == []


def test_search_by_phone_still_finds_by_mrn_digits(desk, noura, tenant):
    by_mrn = PatientFactory(tenant=tenant, mrn="AG-050123", last_name_en="Zahrani")

    assert found(desk, "050123") == [noura, by_mrn]


def test_search_by_phone_never_finds_another_organisations_child(desk, noura):
    foreign = PatientFactory(tenant=TenantFactory(code="OTHER"), first_name_en="Noura")
    GuardianFactory(patient=foreign, phone="+966501234567")

    assert found(desk, "0501234567") == [noura]
    assert found(desk, "96650") == []


def test_search_by_phone_ignores_a_phone_kept_for_review(desk, tenant):
    child = PatientFactory(tenant=tenant)
    GuardianFactory(patient=child, phone="", phone_as_entered="0501234567 x", phone_needs_review=True)

    assert found(desk, "0501234567") == []


def test_search_by_phone_uses_the_guardian_phone_index(desk, tenant):
    patients = Patient.objects.bulk_create(
        Patient(tenant=tenant, mrn=f"IDX-{number}", first_name_en="Child", last_name_en=f"No {number}",
                date_of_birth="2019-01-01")
        for number in range(500)
    )  # fmt: skip
    Guardian.objects.bulk_create(
        Guardian(patient=patient, name_en="Mother", phone=f"+9665{number:08d}", is_primary=True)
        for number, patient in enumerate(patients)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_guardian")
        cursor.execute("ANALYZE core_patient")
        # Few rows: without this the planner rightly reads the table; the point is that it can use the index.
        cursor.execute("SET LOCAL enable_seqscan = off")

        plan = search_patients(desk, "0500000123").explain()

    assert "guardian_phone_prefix_idx" in plan
    assert "patient_search_text_idx" in plan
    assert [patient.mrn for patient in found(desk, "0500000123")] == ["IDX-123"]
