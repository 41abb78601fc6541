"""Consent.is_valid_on and Consent.covers: the day rules check-in relies on."""

import datetime

import pytest
from django.utils import timezone

from core.models import Clinic, Consent
from core.tests.factories import ConsentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
DAY = datetime.date(2025, 3, 10)


@pytest.fixture(autouse=True)
def _clinic_time_zone(settings):
    settings.TIME_ZONE = "Asia/Riyadh"


def riyadh(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=timezone.get_default_timezone())


def test_consent_is_valid_on_the_day_it_is_signed():
    consent = ConsentFactory(signed_at=riyadh(DAY, 16))

    assert consent.is_valid_on(DAY)
    assert not consent.is_valid_on(DAY - datetime.timedelta(days=1))


def test_consent_is_valid_on_revoked_that_day_is_invalid():
    consent = ConsentFactory(
        signed_at=riyadh(DAY, 9) - datetime.timedelta(days=30), revoked_at=riyadh(DAY, 9)
    )

    assert not consent.is_valid_on(DAY)
    assert not consent.is_valid_on(DAY + datetime.timedelta(days=1))
    assert consent.is_valid_on(DAY - datetime.timedelta(days=1))


def test_consent_is_valid_on_revoked_later_is_still_valid_before():
    consent = ConsentFactory(
        signed_at=riyadh(DAY, 9) - datetime.timedelta(days=30),
        revoked_at=riyadh(DAY, 9) + datetime.timedelta(days=5),
    )

    assert consent.is_valid_on(DAY)


def test_consent_is_valid_on_expiring_that_day_is_still_valid():
    consent = ConsentFactory(
        signed_at=riyadh(DAY, 9) - datetime.timedelta(days=365), expires_at=riyadh(DAY, 8)
    )

    assert consent.is_valid_on(DAY)
    assert not consent.is_valid_on(DAY + datetime.timedelta(days=1))


def test_consent_is_valid_on_null_expiry_never_expires():
    consent = ConsentFactory(signed_at=riyadh(DAY, 9), expires_at=None)

    assert consent.is_valid_on(DAY + datetime.timedelta(days=365 * 20))


def test_consent_is_valid_on_signed_after_midnight_riyadh_but_before_midnight_utc():
    # 21:30 UTC on the 9th is 00:30 on the 10th in Riyadh: signed on the 10th.
    consent = ConsentFactory(signed_at=datetime.datetime(2025, 3, 9, 21, 30, tzinfo=UTC))

    assert consent.is_valid_on(datetime.date(2025, 3, 10))
    assert not consent.is_valid_on(datetime.date(2025, 3, 9))


def test_consent_is_valid_on_revoked_just_before_midnight_riyadh():
    # 20:59 UTC on the 9th is 23:59 on the 9th in Riyadh: revoked on the 9th.
    consent = ConsentFactory(
        signed_at=datetime.datetime(2025, 1, 1, 8, 0, tzinfo=UTC),
        revoked_at=datetime.datetime(2025, 3, 9, 20, 59, tzinfo=UTC),
    )

    assert consent.is_valid_on(datetime.date(2025, 3, 8))
    assert not consent.is_valid_on(datetime.date(2025, 3, 9))


def test_consent_is_valid_on_expiring_at_midnight_riyadh_counts_as_the_next_day():
    # 21:00 UTC on the 9th is midnight starting the 10th in Riyadh.
    consent = ConsentFactory(
        signed_at=datetime.datetime(2025, 1, 1, 8, 0, tzinfo=UTC),
        expires_at=datetime.datetime(2025, 3, 9, 21, 0, tzinfo=UTC),
    )

    assert consent.is_valid_on(datetime.date(2025, 3, 10))
    assert not consent.is_valid_on(datetime.date(2025, 3, 11))


def test_consent_is_valid_on_uses_clinic_time_zone_whatever_time_zone_is_active():
    consent = ConsentFactory(signed_at=datetime.datetime(2025, 3, 9, 21, 30, tzinfo=UTC))

    with timezone.override("UTC"):
        assert consent.is_valid_on(datetime.date(2025, 3, 10))
        assert not consent.is_valid_on(datetime.date(2025, 3, 9))


def test_consent_covers_general_covers_every_specialty():
    consent = ConsentFactory.build(consent_type=Consent.ConsentType.GENERAL)

    assert all(consent.covers(specialty) for specialty in Clinic.Specialty.values)


def test_consent_covers_specialty_covers_only_its_own():
    consent = ConsentFactory.build(consent_type=Consent.ConsentType.OT)

    assert consent.covers(Clinic.Specialty.OT)
    assert not consent.covers(Clinic.Specialty.PSYCHOLOGY)
    assert not consent.covers(Clinic.Specialty.ABA)
