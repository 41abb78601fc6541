"""The time rules of appointments.timing, each given its ``today`` or ``now``: no clock involved."""

import datetime
import zoneinfo

import pytest
from django.conf import settings

from appointments import timing
from appointments.exceptions import BookingWindowError, TooEarly
from core.tests.factories import ClinicFactory
from core.tests.view_helpers import group_session

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 15)


def local(hour: int, minute: int = 0, day: datetime.date = DAY) -> datetime.datetime:
    """An aware moment at ``hour:minute`` on ``day`` in the installation's time zone."""
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)
    )


@pytest.fixture
def session(provider, clinic):
    """A 16:00 session on DAY at a clinic whose Start opens 30 minutes before (the default)."""
    return group_session(provider, clinic, day=DAY, hour=16)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2026, 3, 15), 12, datetime.date(2027, 3, 15)),
        (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2024, 2, 29), 12, datetime.date(2025, 2, 28)),
        (datetime.date(2026, 11, 30), 3, datetime.date(2027, 2, 28)),
        (datetime.date(2026, 12, 15), 1, datetime.date(2027, 1, 15)),
        (datetime.date(2026, 3, 15), 0, datetime.date(2026, 3, 15)),
    ],
)
def test_add_months_keeps_the_day_or_the_last_day_of_a_shorter_month(day, months, expected):
    assert timing.add_months(day, months) == expected


def test_refuse_early_start_allows_from_the_clinics_lead_before_the_start(session):
    timing.refuse_early_start(session, local(15, 30))
    timing.refuse_early_start(session, local(18, 0))

    with pytest.raises(
        TooEarly,
        match=r"This session starts at 16:00 on 15/03/2026; it can be started from 15:30 on 15/03/2026\.",
    ):
        timing.refuse_early_start(session, local(15, 29))
    with pytest.raises(TooEarly):
        timing.refuse_early_start(session, local(4, 48))


def test_refuse_early_start_follows_the_clinics_own_lead(provider, clinic):
    clinic.start_lead_minutes = 90
    clinic.save()
    early = group_session(provider, clinic, day=DAY, hour=8)

    timing.refuse_early_start(early, local(6, 30))
    with pytest.raises(TooEarly, match=r"it can be started from 06:30 on 15/03/2026\."):
        timing.refuse_early_start(early, local(6, 29))


def test_refuse_early_start_names_the_day_before_when_the_lead_crosses_midnight(provider, clinic):
    clinic.start_lead_minutes = 60
    clinic.save()
    at_midnight = group_session(provider, clinic, day=DAY, hour=0)

    with pytest.raises(TooEarly, match=r"it can be started from 23:00 on 14/03/2026\."):
        timing.refuse_early_start(at_midnight, local(22, 59, DAY - datetime.timedelta(days=1)))


def test_refuse_before_the_start_allows_complete_and_no_show_from_the_start_time(session):
    for step in (timing.Step.COMPLETE, timing.Step.NO_SHOW):
        timing.refuse_before_the_start(session, local(16, 0), step)

    with pytest.raises(
        TooEarly, match="This session starts at 16:00 on 15/03/2026; it can be completed from"
    ):
        timing.refuse_before_the_start(session, local(15, 59), timing.Step.COMPLETE)
    with pytest.raises(TooEarly, match="a no-show can be marked from then"):
        timing.refuse_before_the_start(session, local(15, 59), timing.Step.NO_SHOW)


def test_a_moment_given_in_another_zone_is_read_as_the_installations_wall_clock(session):
    # 13:00 UTC is 16:00 in Riyadh (UTC+3, no clock changes).
    at_start = datetime.datetime(2026, 3, 15, 13, 0, tzinfo=datetime.UTC)

    assert timing.has_begun(session, at_start)
    assert not timing.has_begun(session, at_start - datetime.timedelta(seconds=1))


def test_refuse_before_the_day_refuses_each_step_before_the_sessions_day_only(session):
    for step in timing.Step:
        timing.refuse_before_the_day(session, DAY, step)
        timing.refuse_before_the_day(session, DAY + datetime.timedelta(days=3), step)

    messages = {}
    for step in timing.Step:
        with pytest.raises(TooEarly) as refused:
            timing.refuse_before_the_day(session, DAY - datetime.timedelta(days=1), step)
        messages[step] = refused.value.messages
    assert messages == {
        timing.Step.START: ["This session is on 15/03/2026; it can't be started before that day."],
        timing.Step.COMPLETE: ["This session is on 15/03/2026; it can't be completed before that day."],
        timing.Step.NO_SHOW: [
            "This session is on 15/03/2026; nobody can be marked a no-show before that day."
        ],
    }


def test_refuse_beyond_the_horizon_allows_up_to_the_clinics_last_day(tenant):
    clinic = ClinicFactory(tenant=tenant, name_en="Psychology Clinic", booking_horizon_months=2)

    timing.refuse_beyond_the_horizon(datetime.date(2026, 5, 15), clinic, DAY)
    with pytest.raises(
        BookingWindowError,
        match=r"Psychology Clinic books up to 2 months ahead: choose a date until 15/05/2026\.",
    ):
        timing.refuse_beyond_the_horizon(datetime.date(2026, 5, 16), clinic, DAY)


def test_refuse_past_day_allows_today_and_refuses_yesterday():
    timing.refuse_past_day(DAY, DAY)

    with pytest.raises(BookingWindowError, match=r"The date is in the past; choose today or a later day\."):
        timing.refuse_past_day(DAY - datetime.timedelta(days=1), DAY)


@pytest.mark.parametrize(
    ("start", "minutes"),
    [(datetime.time(23, 0), 60), (datetime.time(22, 30), 90), (datetime.time(0, 0), 480)],
)
def test_refuse_past_midnight_allows_a_slot_ending_by_midnight(start, minutes):
    timing.refuse_past_midnight(DAY, start, minutes)


@pytest.mark.parametrize(("start", "minutes"), [(datetime.time(23, 30), 60), (datetime.time(23, 59), 15)])
def test_refuse_past_midnight_refuses_a_slot_ending_after_midnight(start, minutes):
    with pytest.raises(
        BookingWindowError,
        match=rf"A slot from {start:%H:%M} for {minutes} minutes would end after midnight; it must end by",
    ):
        timing.refuse_past_midnight(DAY, start, minutes)
