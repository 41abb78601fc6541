"""`manage.py send_reminders`: cron's way to send the due reminders where no Celery beat runs."""

import io

import pytest
from django.core.management import CommandError, call_command

from appointments.reminders.models import Reminder
from appointments.tests.reminder_helpers import booked_in_group, due_reminder

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("send_reminders", *args, stdout=out, verbosity=0)
    return out.getvalue().strip()


def test_send_reminders_sends_every_due_reminder_in_batches_and_a_second_run_sends_none(sms_outbox, clinic):
    reminders = [due_reminder(booked_in_group(clinic, hour=8 + n)) for n in range(3)]

    first = run("--batch-size", "2")
    second = run()

    assert first == (
        "Reminders: 0 written, 3 sent, 0 to retry, 0 failed, 0 with no one to send to, 0 voided, "
        "0 stale shown failed."
    )
    assert second.startswith("Reminders: 0 written, 0 sent,")
    assert {r.status for r in Reminder.objects.filter(pk__in=[r.pk for r in reminders])} == {
        Reminder.Status.SENT
    }
    assert len(sms_outbox) == 3


def test_send_reminders_refuses_a_batch_size_below_one():
    with pytest.raises(CommandError, match=r"^--batch-size must be at least 1 \(got 0\)\.$"):
        run("--batch-size", "0")
