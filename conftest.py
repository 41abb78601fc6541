"""Fixtures shared by every app's tests: one organisation with a psychology clinic, and the clock.

The clock: ``--pin-date=YYYY-MM-DD`` (or ``CLINIC_PIN_DATE``) runs the whole suite as
if it were 10:00 installation time on that day, time still moving, to show the suite
is green on any day. Tests that build data relative to today ask for ``frozen_today``
instead, which pins its own literal day inside whatever the session pinned.
"""

import datetime
import os
import zoneinfo
from collections.abc import Iterator

import pytest
import time_machine
from django.conf import settings
from django.utils import translation

from appointments.reminders import channels
from appointments.tests.factories import reset_slots
from core.models import User
from core.tests.factories import ClinicFactory, ProviderFactory, RoomFactory, TenantFactory
from core.tests.view_helpers import staff_member

PIN_DATE_VARIABLE = "CLINIC_PIN_DATE"
# A Sunday (a working day), months from a year's end.
FROZEN_TODAY = datetime.date(2026, 3, 15)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--pin-date",
        metavar="YYYY-MM-DD",
        default=os.environ.get(PIN_DATE_VARIABLE) or None,
        help=f"Run every test as if it were 10:00 (TIME_ZONE) on this day; time still moves. "
        f"Default: ${PIN_DATE_VARIABLE}.",
    )


def pin_date(config: pytest.Config) -> datetime.date | None:
    value = config.getoption("--pin-date")
    if not value:
        return None
    try:
        return datetime.datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 (a date, no time)
    except ValueError:
        raise pytest.UsageError(
            f"--pin-date / {PIN_DATE_VARIABLE} must be a date as YYYY-MM-DD, got {value!r}."
        ) from None


def pytest_configure(config: pytest.Config) -> None:
    pin_date(config)  # a bad date stops the run before any test


def pytest_report_header(config: pytest.Config) -> str | None:
    day = pin_date(config)
    return f"clock pinned to {day:%Y-%m-%d (%A)} 10:00, ticking" if day else None


def ten_o_clock(day: datetime.date) -> datetime.datetime:
    """10:00 on ``day`` in the installation's time zone."""
    return datetime.datetime.combine(day, datetime.time(10), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


@pytest.fixture(scope="session", autouse=True)
def pinned_clock(request: pytest.FixtureRequest) -> Iterator[datetime.date | None]:
    """The whole session at --pin-date, when given; tests' own time_machine pins nest inside."""
    day = pin_date(request.config)
    if day is None:
        yield None
        return
    with time_machine.travel(ten_o_clock(day), tick=True):
        yield day


@pytest.fixture
def frozen_today() -> Iterator[datetime.date]:
    """Pin the clock to 10:00 on FROZEN_TODAY, still ticking (threads and the live server
    wait on it), and give that day: for tests that build data relative to today."""
    with time_machine.travel(ten_o_clock(FROZEN_TODAY), tick=True):
        yield FROZEN_TODAY


@pytest.fixture(autouse=True)
def _english_until_asked() -> Iterator[None]:
    """Every test starts in the default language: a request in Arabic (LocaleMiddleware) leaves
    Arabic active in the worker's thread, and a later test would read Arabic messages. So each
    test ends with the thread back to no active language (``LANGUAGE_CODE``)."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_booking_slots() -> None:
    """Factory-made bookings start at 07:00 in every test, whatever ran before it."""
    reset_slots()


@pytest.fixture(autouse=True)
def sms_outbox() -> list[channels.SentSms]:
    """The text messages sent by this test (the test settings' LocmemSmsBackend): emptied before
    each test, as pytest-django empties ``mail.outbox``."""
    channels.outbox.clear()
    return channels.outbox


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


@pytest.fixture
def desk_user(tenant):
    """A front-desk member of ``tenant``."""
    return staff_member(tenant, User.Role.FRONT_DESK)


@pytest.fixture
def desk(client, desk_user):
    """The test client, signed in as ``desk_user``."""
    client.force_login(desk_user)
    return client
