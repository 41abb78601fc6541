"""Two workers sending reminders at the same moment: every row goes out once.

Real threads on their own connections, released together by a barrier (``threads.run_together``);
the data is committed first (``transaction=True``) so every thread sees it.
"""

import datetime
from collections import Counter

import pytest
import time_machine

from appointments.reminders import channels
from appointments.reminders.models import Reminder
from appointments.reminders.sending import SendReport, send_due_reminders
from appointments.tests.reminder_helpers import booked_child, local, rule
from appointments.tests.threads import run_together
from core.tests.factories import ClinicFactory

pytestmark = pytest.mark.django_db(transaction=True)

DAY = datetime.date(2027, 5, 12)


def test_two_workers_at_once_send_each_reminder_once(tenant):
    # given six families due a reminder
    clinic = ClinicFactory(tenant=tenant)
    rule(clinic, 24)
    phones = [f"+96650000000{n}" for n in range(6)]
    with time_machine.travel(local(DAY, 9), tick=False):
        for hour, phone in enumerate(phones, start=10):
            booked_child(clinic, DAY, hour, phone=phone)

        # when two workers plan and send at the same moment, three rows a round each
        outcomes = run_together([lambda: send_due_reminders(limit=3), lambda: send_due_reminders(limit=3)])

    # then each family got exactly one message, and every row is recorded sent once
    assert all(isinstance(outcome, SendReport) for outcome in outcomes), outcomes
    assert sum(outcome.sent for outcome in outcomes) == 6  # type: ignore[union-attr]
    assert Counter(sms.to for sms in channels.outbox) == dict.fromkeys(phones, 1)
    rows = Reminder.objects.all()
    assert [row.status for row in rows] == [Reminder.Status.SENT] * 6
    assert {row.attempts for row in rows} == {1}
