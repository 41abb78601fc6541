"""Reference data with consistent tenants: one organisation unless told otherwise."""

import datetime

import factory

from core.models import Clinic, Consent, Guardian, Patient, Provider, Room, Tenant, User


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("code",)

    code = "AGDAR"
    name_en = "Agdar Centre"
    name_ar = "مركز أجدر"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    tenant = factory.SubFactory(TenantFactory)
    role = User.Role.FRONT_DESK
    password = factory.PostGenerationMethodCall("set_password", "pass12345")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    tenant = factory.SubFactory(TenantFactory)
    name_en = factory.Sequence(lambda n: f"Clinic {n}")
    name_ar = factory.Sequence(lambda n: f"عيادة {n}")
    specialty = Clinic.Specialty.PSYCHOLOGY


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    clinic = factory.SubFactory(ClinicFactory)
    name = factory.Sequence(lambda n: f"Room {n}")


ROLE_BY_SPECIALTY = {
    Clinic.Specialty.PSYCHOLOGY: User.Role.PSYCHOLOGIST,
    Clinic.Specialty.OT: User.Role.OCCUPATIONAL_THERAPIST,
    Clinic.Specialty.ABA: User.Role.ABA_THERAPIST,
}


class ProviderFactory(factory.django.DjangoModelFactory):
    """A provider working in ``clinic`` (one is made when not given)."""

    class Meta:
        model = Provider

    clinic = factory.SubFactory(ClinicFactory)
    specialty = factory.LazyAttribute(lambda provider: provider.clinic.specialty)
    user = factory.SubFactory(
        UserFactory,
        tenant=factory.SelfAttribute("..clinic.tenant"),
        role=factory.LazyAttribute(
            lambda user: ROLE_BY_SPECIALTY.get(user.factory_parent.clinic.specialty, User.Role.PSYCHOLOGIST)
        ),
    )
    title = "Dr"

    @classmethod
    def _create(cls, model_class, *args, clinic, **kwargs):
        provider = super()._create(model_class, *args, **kwargs)
        provider.clinics.add(clinic)
        return provider


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    tenant = factory.SubFactory(TenantFactory)
    mrn = factory.Sequence(lambda n: f"MRN{n:06d}")
    first_name_en = factory.Faker("first_name")
    last_name_en = factory.Faker("last_name")
    first_name_ar = factory.Sequence(lambda n: f"سارة{n}")
    last_name_ar = "العتيبي"
    date_of_birth = datetime.date(2018, 5, 1)
    sex = Patient.Sex.FEMALE


class GuardianFactory(factory.django.DjangoModelFactory):
    """A consenting primary mother, reached by text message in Arabic, unless told otherwise."""

    class Meta:
        model = Guardian

    patient = factory.SubFactory(PatientFactory)
    name_en = factory.Faker("name")
    name_ar = "هدى العتيبي"
    relation = Guardian.Relation.MOTHER
    # Valid Saudi mobile numbers (+9665...), one per guardian.
    phone = factory.Sequence(lambda n: f"+9665{n % 10**8:08d}")
    email = factory.LazyAttribute(lambda guardian: f"guardian{guardian.phone[-8:]}@example.org")
    preferred_language = Guardian.Language.ARABIC
    preferred_channel = Guardian.Channel.SMS
    consent_to_contact = True
    may_receive_appointment_info = True
    is_primary = True


# Long before any day the tests book or pin the clock to (fixed dates are literals); a
# minute apart in creation order, so "the most recently signed" is always well defined.
CONSENTS_SIGNED_FROM = datetime.datetime(2020, 1, 5, 9, 0, tzinfo=datetime.UTC)


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    patient = factory.SubFactory(PatientFactory)
    consent_type = Consent.ConsentType.GENERAL
    signed_by = "Huda Al-Otaibi"
    signed_at = factory.Sequence(lambda n: CONSENTS_SIGNED_FROM + datetime.timedelta(minutes=n))
    expires_at = None
    revoked_at = None
