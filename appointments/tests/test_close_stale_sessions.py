"""`manage.py close_stale_sessions`: past sessions nobody completed, closed as complete_session would."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from appointments.exceptions import CheckInBlocked
from appointments.models import Session, SessionParticipant
from appointments.session_service import SessionService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory, check_in
from core.models import User
from core.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = SessionParticipant.Status


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("close_stale_sessions", *args, stdout=out, verbosity=0)
    return out.getvalue().strip()


def session_on(provider, clinic, day: datetime.date, hour: int) -> Session:
    return GroupSessionFactory(
        provider=provider, clinic=clinic, scheduled_date=day, scheduled_time=datetime.time(hour)
    )


@pytest.fixture
def yesterday(frozen_today):
    return frozen_today - datetime.timedelta(days=1)


@pytest.fixture
def forgotten(provider, clinic, yesterday):
    """Yesterday's group nobody completed: one child came, one never did, one a gate sent home."""
    session = session_on(provider, clinic, yesterday, 9)
    came, missed, refused = ParticipantFactory.create_batch(3, session=session)
    check_in(came)
    with pytest.raises(CheckInBlocked):
        SessionService.check_in_participant(refused)  # no consent, not cleared: recorded, refused
    return {"session": session, "came": came, "missed": missed, "refused": refused}


def statuses(*participants: SessionParticipant) -> list[tuple]:
    rows = []
    for participant in participants:
        participant.refresh_from_db()
        rows.append((participant.status, participant.billable, participant.billing_review_pending))
    return rows


def test_close_stale_sessions_closes_yesterdays_session_with_completes_outcomes(forgotten):
    summary = run()

    session = forgotten["session"]
    session.refresh_from_db()
    assert summary == "Closed 1 session: 1 attended, 1 no-shows to review, 1 turned away."
    assert (session.status, session.auto_closed) == (Session.Status.COMPLETED, True)
    assert statuses(forgotten["came"], forgotten["missed"], forgotten["refused"]) == [
        (Status.ATTENDED, False, False),
        (Status.NO_SHOW, False, True),
        (Status.TURNED_AWAY, False, False),
    ]


def test_close_stale_sessions_dry_run_reports_and_writes_nothing(forgotten):
    history_rows = SessionParticipant.history.count() + Session.history.count()

    summary = run("--dry-run")

    session = forgotten["session"]
    session.refresh_from_db()
    assert summary == (
        "Dry run, rolled back: 1 session would be closed: 1 attended, 1 no-shows to review, 1 turned away."
    )
    assert (session.status, session.auto_closed) == (Session.Status.SCHEDULED, False)
    assert statuses(forgotten["missed"], forgotten["refused"]) == [(Status.BOOKED, False, False)] * 2
    assert SessionParticipant.history.count() + Session.history.count() == history_rows


def test_close_stale_sessions_second_run_closes_nothing(forgotten):
    run()

    assert run() == "Closed 0 sessions: 0 attended, 0 no-shows to review, 0 turned away."


def test_close_stale_sessions_leaves_completed_cancelled_today_and_future_sessions(
    provider, clinic, frozen_today, yesterday
):
    done = session_on(provider, clinic, yesterday, 9)
    ParticipantFactory(session=done)
    SessionService.complete_session(done)
    called_off = session_on(provider, clinic, yesterday, 11)
    SessionService.cancel_session(called_off, "Therapist ill")
    this_morning = session_on(provider, clinic, frozen_today, 7)
    tomorrow = session_on(provider, clinic, frozen_today + datetime.timedelta(days=1), 9)
    untouched = {session.pk: session.status for session in (done, called_off, this_morning, tomorrow)}

    assert run() == "Closed 0 sessions: 0 attended, 0 no-shows to review, 0 turned away."

    assert dict(Session.objects.filter(pk__in=untouched).values_list("pk", "status")) == untouched
    assert not Session.objects.filter(auto_closed=True).exists()


def test_close_stale_sessions_closes_a_session_left_in_progress(provider, clinic, yesterday):
    session = session_on(provider, clinic, yesterday, 9)
    missed = ParticipantFactory(session=session)
    SessionService.start_session(session)

    assert run() == "Closed 1 session: 0 attended, 1 no-shows to review, 0 turned away."

    assert statuses(missed) == [(Status.NO_SHOW, False, True)]


def test_close_stale_sessions_until_today_day_first_closes_only_what_has_ended(
    provider, clinic, frozen_today
):
    ended = session_on(provider, clinic, frozen_today, 8)  # 08:00-09:00, it is 10:00
    running = session_on(provider, clinic, frozen_today, 10)  # 10:00-11:00
    ParticipantFactory(session=ended)

    summary = run("--until", frozen_today.strftime("%d/%m/%Y"))

    ended.refresh_from_db()
    running.refresh_from_db()
    assert summary == "Closed 1 session: 0 attended, 1 no-shows to review, 0 turned away."
    assert (ended.status, running.status) == (Session.Status.COMPLETED, Session.Status.SCHEDULED)


def test_close_stale_sessions_until_an_iso_day_leaves_later_days_open(provider, clinic, frozen_today):
    older = session_on(provider, clinic, frozen_today - datetime.timedelta(days=3), 9)
    newer = session_on(provider, clinic, frozen_today - datetime.timedelta(days=1), 9)

    summary = run("--until", (frozen_today - datetime.timedelta(days=2)).isoformat())

    older.refresh_from_db()
    newer.refresh_from_db()
    assert summary == "Closed 1 session: 0 attended, 0 no-shows to review, 0 turned away."
    assert (older.status, older.auto_closed) == (Session.Status.COMPLETED, True)
    assert newer.status == Session.Status.SCHEDULED


@pytest.mark.parametrize("value", ["yesterday", "31/02/2026", "2026-13-01", ""])
def test_close_stale_sessions_until_not_a_date_refused(forgotten, value):
    with pytest.raises(CommandError) as refused:
        run("--until", value)

    assert str(refused.value) == f"--until must be a date written DD/MM/YYYY or YYYY-MM-DD (got {value!r})."
    forgotten["session"].refresh_from_db()
    assert forgotten["session"].status == Session.Status.SCHEDULED


def test_close_stale_sessions_no_show_to_review_becomes_billable_once_confirmed(forgotten, tenant):
    run()
    desk = UserFactory(tenant=tenant, role=User.Role.FRONT_DESK)

    SessionService.confirm_billing(forgotten["missed"], user=desk)

    assert statuses(forgotten["missed"]) == [(Status.NO_SHOW, True, False)]
