"""Fixtures shared by every app's tests: one organisation with a psychology clinic."""

import pytest

from core.tests.factories import ClinicFactory, ProviderFactory, RoomFactory, TenantFactory


@pytest.fixture
def tenant(db):
    return TenantFactory()


@pytest.fixture
def clinic(tenant):
    return ClinicFactory(tenant=tenant)


@pytest.fixture
def room(clinic):
    return RoomFactory(clinic=clinic)


@pytest.fixture
def provider(clinic):
    return ProviderFactory(clinic=clinic)
