"""SessionService refuses to run a session before its day, and only that: not the hour.

Start, complete and no-show before the session's day are refused (a session dated 2099
once got completed, marking its child a no-show); on the day, at any hour, and after it
they work as before, so the seed's example (completed earlier on its day) and recording
after the fact keep working. The time-of-day rules are the pages' (test_views_timing.py).
"""

import datetime

import pytest

from appointments.exceptions import InvalidTransition, TooEarly
from appointments.models import Session, SessionParticipant
from appointments.session_service import SessionService
from appointments.tests.factories import check_in
from core.tests.view_helpers import booked, group_session

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = SessionParticipant.Status


def on(frozen_today: datetime.date, days: int) -> datetime.date:
    return frozen_today + datetime.timedelta(days=days)


def test_complete_session_of_a_future_session_is_refused_and_changes_nobody(provider, clinic):
    session = group_session(provider, clinic, day=datetime.date(2099, 1, 5))
    participant = booked(session)

    with pytest.raises(
        TooEarly, match="This session is on 05/01/2099; it can't be completed before that day."
    ):
        SessionService.complete_session(session)

    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED
    assert SessionParticipant.objects.get(pk=participant.pk).status == Status.BOOKED


def test_mark_participant_no_show_before_the_day_is_refused(provider, clinic, frozen_today):
    participant = booked(group_session(provider, clinic, day=on(frozen_today, 1)))

    with pytest.raises(
        TooEarly, match="This session is on 16/03/2026; nobody can be marked a no-show before that day."
    ):
        SessionService.mark_participant_no_show(participant)

    assert SessionParticipant.objects.get(pk=participant.pk).status == Status.BOOKED


def test_start_session_before_the_day_is_refused(provider, clinic, frozen_today):
    session = group_session(provider, clinic, day=on(frozen_today, 1))

    with pytest.raises(TooEarly, match="This session is on 16/03/2026; it can't be started before that day."):
        SessionService.start_session(session)

    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED


def test_too_early_is_an_invalid_transition_for_callers_that_catch_those(provider, clinic, frozen_today):
    session = group_session(provider, clinic, day=on(frozen_today, 1))

    with pytest.raises(InvalidTransition):
        SessionService.start_session(session)


def test_session_steps_on_the_day_work_at_any_hour_before_the_start(provider, clinic):
    # 10:00 now; the session is at 18:00: the services don't look at the hour.
    session = group_session(provider, clinic, hour=18)
    came, absent, another_absent = booked(session), booked(session), booked(session)
    check_in(came)

    SessionService.mark_participant_no_show(absent)
    SessionService.start_session(session)
    SessionService.complete_session(session)

    statuses = dict(SessionParticipant.objects.filter(session=session).values_list("pk", "status"))
    assert statuses == {
        came.pk: Status.ATTENDED,
        absent.pk: Status.NO_SHOW,
        another_absent.pk: Status.NO_SHOW,
    }
    assert Session.objects.get(pk=session.pk).status == Session.Status.COMPLETED


def test_session_steps_after_the_day_are_recorded_after_the_fact(provider, clinic, frozen_today):
    session = group_session(provider, clinic, day=on(frozen_today, -3))
    absent = booked(session)

    SessionService.start_session(session)
    SessionService.mark_participant_no_show(absent)
    SessionService.complete_session(session)

    assert Session.objects.get(pk=session.pk).status == Session.Status.COMPLETED
    assert SessionParticipant.objects.get(pk=absent.pk).status == Status.NO_SHOW


def test_create_group_session_in_the_past_is_accepted_by_the_service(provider, clinic, frozen_today):
    # The pages refuse a past date; the service records after the fact.
    session = group_session(provider, clinic, day=on(frozen_today, -30))

    assert Session.objects.get(pk=session.pk).scheduled_date == on(frozen_today, -30)


def test_create_group_session_beyond_the_horizon_or_past_midnight_is_accepted_by_the_service(
    provider, clinic, frozen_today
):
    far = group_session(provider, clinic, day=on(frozen_today, 800))
    overnight = SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=frozen_today,
        scheduled_time=datetime.time(23, 30),
        duration=60,
        service_type="Sleep clinic",
        max_capacity=4,
    )

    assert (far.scheduled_date, overnight.end_time) == (on(frozen_today, 800), datetime.time(0, 30))
