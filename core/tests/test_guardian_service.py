"""GuardianService: phones stored in E.164, one primary guardian, the ways to reach a consenting one;
PatientService.register_patient registers the primary guardian in the same transaction."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from core.guardian_service import GuardianDetails, GuardianError, GuardianService, one_name
from core.models import Guardian, Patient
from core.patient_service import PatientService
from core.tests.factories import GuardianFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_add_guardian_stores_the_phone_in_e164_and_records_who(tenant):
    patient = PatientFactory(tenant=tenant)
    desk = UserFactory(tenant=tenant)

    guardian = GuardianService.add_guardian(
        patient, GuardianDetails(name_ar=" هدى ", phone="٠٥٠ ١٢٣ ٤٥٦٧", is_primary=True), user=desk
    )

    guardian.refresh_from_db()
    assert (guardian.name_ar, guardian.phone, guardian.is_primary) == ("هدى", "+966501234567", True)
    assert guardian.history.get().history_user == desk


@pytest.mark.parametrize("phone", ["12345", "call the school", "+966 12"])
def test_add_guardian_refuses_a_phone_that_is_no_mobile_number(tenant, phone):
    patient = PatientFactory(tenant=tenant)

    with pytest.raises(GuardianError, match="is not a mobile number we can read"):
        GuardianService.add_guardian(patient, GuardianDetails(name_en="Huda", phone=phone))

    assert not Guardian.objects.exists()


def test_add_guardian_refuses_a_guardian_without_a_name(tenant):
    with pytest.raises(GuardianError, match="Give the guardian's name in English or Arabic."):
        GuardianService.add_guardian(
            PatientFactory(tenant=tenant), GuardianDetails(name_en="  ", phone="0501234567")
        )


@pytest.mark.parametrize(
    ("details", "message"),
    [
        (GuardianDetails(name_en="Huda", consent_to_contact=True), "Text messages need a mobile number."),
        (
            GuardianDetails(
                name_en="Huda", phone="0501234567", preferred_channel="email", consent_to_contact=True
            ),
            "E-mail needs an e-mail address.",
        ),
    ],
)
def test_add_guardian_refuses_consent_by_a_channel_with_no_address(tenant, details, message):
    with pytest.raises(GuardianError, match=message):
        GuardianService.add_guardian(PatientFactory(tenant=tenant), details)


def test_a_new_primary_guardian_takes_over_from_the_previous_one(tenant):
    patient = PatientFactory(tenant=tenant)
    mother = GuardianFactory(patient=patient)

    father = GuardianService.add_guardian(patient, GuardianDetails(name_en="Ali", is_primary=True))

    mother.refresh_from_db()
    assert (mother.is_primary, father.is_primary) == (False, True)
    assert [row.is_primary for row in mother.history.order_by("history_id")] == [True, False]


def test_the_database_refuses_two_primary_guardians_written_past_the_service(tenant):
    patient = PatientFactory(tenant=tenant)
    GuardianFactory(patient=patient)

    with pytest.raises(IntegrityError), transaction.atomic():
        Guardian.objects.create(patient=patient, name_en="Ali", is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Guardian.objects.create(patient=patient, name_en="Ali", phone="0501234567")


def test_update_guardian_settles_a_phone_kept_for_review(tenant):
    guardian = GuardianFactory(
        patient=PatientFactory(tenant=tenant),
        phone="",
        phone_as_entered="05O1234567",
        phone_needs_review=True,
    )

    GuardianService.update_guardian(
        guardian,
        GuardianDetails(name_en="Huda", phone="0501234567", consent_to_contact=True, is_primary=True),
    )

    guardian.refresh_from_db()
    assert (guardian.phone, guardian.phone_as_entered, guardian.phone_needs_review) == (
        "+966501234567",
        "",
        False,
    )
    assert guardian.consent_to_contact is True


def test_one_name_puts_an_arabic_name_in_arabic():
    assert one_name(" هدى العتيبي ") == ("", "هدى العتيبي")
    assert one_name("Huda Al-Otaibi") == ("Huda Al-Otaibi", "")


def register(tenant, **guardian):
    return PatientService.register_patient(
        tenant=tenant,
        mrn="AG-9",
        first_name_en="Yousef",
        last_name_en="Hamad",
        date_of_birth=datetime.date(2019, 3, 4),
        **guardian,
    )


def test_register_patient_makes_the_named_guardian_primary(tenant):
    patient = register(
        tenant, guardian_name="منى حمد", guardian_relation="mother", guardian_phone="0500000001"
    )

    guardian = patient.guardians.get()
    assert (guardian.name_en, guardian.name_ar, guardian.relation, guardian.phone, guardian.is_primary) == (
        "",
        "منى حمد",
        "mother",
        "+966500000001",
        True,
    )
    assert guardian.consent_to_contact is False


def test_register_patient_without_a_guardian_makes_none(tenant):
    assert not register(tenant).guardians.exists()


def test_register_patient_registers_nothing_when_the_guardians_phone_is_refused(tenant):
    with pytest.raises(GuardianError):
        register(tenant, guardian_name="Mona", guardian_phone="12")

    assert not Patient.objects.exists()
