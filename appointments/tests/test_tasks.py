"""The Celery tasks, run eagerly (config.settings.test): each calls its service, takes ids only,
is idempotent, and retries a database that doesn't answer."""

import datetime
import inspect

import pytest
from django.db import OperationalError

from appointments import tasks
from appointments.models import Session, WaitlistEntry
from appointments.reminders import sending
from appointments.reminders.models import Reminder
from appointments.tests import test_waitlist_offers as offers
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory
from appointments.tests.reminder_helpers import booked_in_group, due_reminder
from config.celery import app
from core import tasks as core_tasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

# A clinic offering freed seats, a full group, and an offer to the first of two waiting children.
clinic = offers.clinic
day = offers.day
full = offers.full
offered = offers.offered

ALL_TASKS = {
    "appointments.tasks.send_due_reminders": tasks.send_due_reminders,
    "appointments.tasks.send_reminder": tasks.send_reminder,
    "appointments.tasks.close_stale_sessions": tasks.close_stale_sessions,
    "appointments.tasks.expire_waitlist_offers": tasks.expire_waitlist_offers,
    "core.tasks.seal_audit": core_tasks.seal_audit,
}


def test_tasks_take_ids_only():
    parameters = {
        name: [(p.name, p.annotation) for p in inspect.signature(task.run).parameters.values()]
        for name, task in ALL_TASKS.items()
    }

    assert parameters == {
        "appointments.tasks.send_due_reminders": [],
        "appointments.tasks.send_reminder": [("reminder_id", int)],
        "appointments.tasks.close_stale_sessions": [],
        "appointments.tasks.expire_waitlist_offers": [],
        "core.tasks.seal_audit": [],
    }


def test_tasks_are_registered_under_their_names_and_the_beat_schedule_names_only_them(settings):
    app.loader.import_default_modules()

    assert {name: app.tasks[name] for name in ALL_TASKS} == ALL_TASKS
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} == set(ALL_TASKS) - {
        "appointments.tasks.send_reminder"
    }


def test_tasks_retry_a_database_that_does_not_answer_with_backoff():
    retried = {name: (task.autoretry_for, bool(task.retry_backoff)) for name, task in ALL_TASKS.items()}

    assert retried == {
        "appointments.tasks.send_due_reminders": ((OperationalError,), True),
        "appointments.tasks.send_reminder": ((OperationalError,), True),
        "appointments.tasks.close_stale_sessions": ((OperationalError,), True),
        "appointments.tasks.expire_waitlist_offers": ((OperationalError,), True),
        # and transactions still open past the seal's wait
        "core.tasks.seal_audit": ((OperationalError, core_tasks.TransactionsStillOpen), True),
    }


def test_send_reminder_task_runs_again_after_an_operational_error(monkeypatch, sms_outbox, clinic):
    reminder = due_reminder(booked_in_group(clinic))
    real_send = sending.send_reminder
    calls = []

    def database_down_once(reminder_id: int) -> None:
        calls.append(reminder_id)
        if len(calls) == 1:
            raise OperationalError("the database restarted")
        real_send(reminder_id)

    monkeypatch.setattr(sending, "send_reminder", database_down_once)

    # apply() as a worker runs it: a retry runs again (eagerly, without the backoff's wait).
    result = tasks.send_reminder.apply(args=[reminder.pk], throw=False)

    reminder.refresh_from_db()
    assert (result.state, calls) == ("SUCCESS", [reminder.pk, reminder.pk])
    assert (reminder.status, len(sms_outbox)) == (Reminder.Status.SENT, 1)


def test_send_reminder_task_sends_the_row_once_however_often_it_runs(sms_outbox, clinic):
    reminder = due_reminder(booked_in_group(clinic))

    tasks.send_reminder.delay(reminder.pk)
    tasks.send_reminder.delay(reminder.pk)

    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, [sms.to for sms in sms_outbox]) == (
        Reminder.Status.SENT,
        1,
        [reminder.guardian.phone],
    )


def test_send_due_reminders_task_sends_what_is_due_and_a_second_run_sends_nothing(sms_outbox, clinic):
    reminder = due_reminder(booked_in_group(clinic))

    first = tasks.send_due_reminders.delay().get()
    second = tasks.send_due_reminders.delay().get()

    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert (first["sent"], second["sent"], len(sms_outbox)) == (1, 0, 1)


def test_close_stale_sessions_task_closes_yesterdays_session_not_todays_and_only_once(
    clinic, provider, frozen_today
):
    yesterday = GroupSessionFactory(
        clinic=clinic,
        provider=provider,
        scheduled_date=frozen_today - datetime.timedelta(days=1),
        scheduled_time=datetime.time(9),
    )
    ParticipantFactory(session=yesterday)
    this_morning = GroupSessionFactory(
        clinic=clinic, provider=provider, scheduled_date=frozen_today, scheduled_time=datetime.time(7)
    )

    first = tasks.close_stale_sessions.delay().get()
    second = tasks.close_stale_sessions.delay().get()

    yesterday.refresh_from_db()
    this_morning.refresh_from_db()
    assert (first, second) == (1, 0)
    assert (yesterday.status, yesterday.auto_closed) == (Session.Status.COMPLETED, True)
    assert this_morning.status == Session.Status.SCHEDULED


def test_expire_waitlist_offers_task_passes_the_seat_on_once(offered):
    _session, first, second = offered

    with offers.later(offers.OFFER_HOURS + 1):
        expired = tasks.expire_waitlist_offers.delay().get()
        again = tasks.expire_waitlist_offers.delay().get()

    assert (expired, again) == (1, 0)
    assert offers.statuses(first, second) == [WaitlistEntry.Status.EXPIRED, WaitlistEntry.Status.OFFERED]
