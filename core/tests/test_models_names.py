"""Clinic and tenant names follow the active language."""

import pytest
from django.utils import translation

from core.tests.factories import ClinicFactory, TenantFactory

pytestmark = pytest.mark.django_db


def test_clinic_str_in_arabic_uses_the_arabic_name():
    clinic = ClinicFactory(name_en="Psychology Clinic", name_ar="عيادة علم النفس")

    with translation.override("ar"):
        arabic = str(clinic)
    with translation.override("en"):
        english = str(clinic)

    assert (arabic, english) == ("عيادة علم النفس", "Psychology Clinic")


def test_tenant_str_in_arabic_without_an_arabic_name_falls_back_to_english():
    tenant = TenantFactory(code="NOAR", name_en="No Arabic Name", name_ar="")

    with translation.override("ar"):
        assert str(tenant) == "No Arabic Name"
