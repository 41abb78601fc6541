"""Sending reminders: appointments.reminders.sending (claim, send, record, retry, stale rows)."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.test import override_settings

from appointments.exceptions import InvalidTransition
from appointments.reminders import channels, tokens
from appointments.reminders.models import Reminder
from appointments.reminders.planning import plan_due_reminders
from appointments.reminders.sending import (
    STALE_ERROR,
    SendReport,
    retry_failed,
    send_due_reminders,
    send_reminder,
)
from appointments.session_service import SessionService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory
from appointments.tests.reminder_helpers import (
    REFUSED,
    REFUSING_SMS,
    booked_child,
    guardian,
    local,
    rows_of,
    rule,
    texts_to,
)
from core.models import Guardian

pytestmark = pytest.mark.django_db

DAY = datetime.date(2027, 5, 12)
PHONE = "+966501234567"
MORNING = local(DAY, 9)


class FailingSmsBackend(channels.BaseSmsBackend):
    """A gateway that is down."""

    def send(self, to: str, text: str) -> str:
        raise channels.DeliveryError("The SMS gateway answered 503.")


class WorkerKilled(BaseException):
    """The worker process dies mid-send (nothing in the sender catches it)."""


class DyingSmsBackend(channels.BaseSmsBackend):
    def send(self, to: str, text: str) -> str:
        raise WorkerKilled


@pytest.fixture
def participant(clinic):
    rule(clinic, 24)
    with time_machine.travel(MORNING, tick=False):
        return booked_child(clinic, DAY, 15, phone=PHONE)


def at(moment: datetime.datetime) -> time_machine.travel:
    return time_machine.travel(moment, tick=False)


def test_send_due_reminders_sends_each_due_row_once_and_records_it(participant):
    with at(MORNING):
        report = send_due_reminders()
        again = send_due_reminders()

    assert report == SendReport(planned=1, sent=1)
    assert again == SendReport()
    [text] = texts_to(PHONE)
    [row] = rows_of(participant)
    assert row.status == Reminder.Status.SENT
    assert (row.sent_at, row.attempts, row.claimed_at) == (MORNING, 1, MORNING)
    assert row.masked_address == "+96650•••4567"
    assert row.gateway_message_id == channels.outbox[0].message_id
    assert row.template == row.rule.template
    assert len(row.message_key) == 32
    # the message carries the child's first name, the time and a link naming this row
    assert participant.patient.first_name_en in text
    assert "15:00" in text
    link = text.rsplit(" ", 1)[-1]
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert tokens.read_link_token(token).reminder_ids == (row.pk,)


def test_send_due_reminders_waits_for_send_after(clinic):
    rule(clinic, 2)
    with at(local(DAY, 7)):
        participant = booked_child(clinic, DAY, 10)
        # the 2-hour reminder of a 10:00 session at 08:00: not planned before
        assert send_due_reminders() == SendReport()
    with at(local(DAY, 8)):
        assert send_due_reminders() == SendReport(planned=1, sent=1)
    assert rows_of(participant)[0].sent_at == local(DAY, 8)


def test_send_due_reminders_sends_siblings_one_message(clinic):
    # given two siblings in one group session, their mother's phone on each child's record
    rule(clinic, 24)
    with at(MORNING):
        session = GroupSessionFactory(clinic=clinic, scheduled_date=DAY, scheduled_time=datetime.time(16))
        children = [ParticipantFactory(session=session) for _ in range(2)]
        for child in children:
            guardian(child.patient, phone=PHONE)
        stranger = ParticipantFactory(session=session)
        guardian(stranger.patient, phone="+966507654321")

        # when the reminders go
        report = send_due_reminders()

    # then the mother gets one message naming both, and the other family their own
    assert report.sent == 3
    [text] = texts_to(PHONE)
    assert all(child.patient.first_name_en in text for child in children)
    assert len(texts_to("+966507654321")) == 1
    rows = [rows_of(child)[0] for child in children]
    assert len({(row.message_key, row.gateway_message_id) for row in rows}) == 1
    token = text.rstrip("/").rsplit("/", 1)[-1]
    assert set(tokens.read_link_token(token).reminder_ids) == {row.pk for row in rows}
    assert rows_of(stranger)[0].message_key != rows[0].message_key


def test_send_due_reminders_sends_email_in_the_guardians_language(clinic):
    rule(clinic, 24, Guardian.Channel.EMAIL)
    with at(MORNING):
        participant = booked_child(
            clinic, DAY, 15, preferred_channel=Guardian.Channel.EMAIL, preferred_language="ar"
        )
        assert send_due_reminders().sent == 1

    [message] = mail.outbox
    assert message.to == ["noura@example.org"]
    assert participant.patient.first_name_ar in message.body
    assert rows_of(participant)[0].masked_address == "n•••@example.org"


@override_settings(SMS_BACKEND=f"{__name__}.FailingSmsBackend")
def test_send_due_reminders_retries_with_backoff_then_shows_the_failure(participant):
    # 5, 15 and 45 minutes between the four attempts
    with at(MORNING):
        assert send_due_reminders() == SendReport(planned=1, retrying=1)
    [row] = rows_of(participant)
    assert (row.status, row.attempts, row.send_after) == (
        "pending",
        1,
        MORNING + datetime.timedelta(minutes=5),
    )
    assert row.last_error == "The SMS gateway answered 503."

    with at(MORNING + datetime.timedelta(minutes=4)):
        assert send_due_reminders() == SendReport()
    with at(MORNING + datetime.timedelta(minutes=5)):
        assert send_due_reminders() == SendReport(retrying=1)
    with at(MORNING + datetime.timedelta(minutes=20)):
        assert send_due_reminders() == SendReport(retrying=1)
    row.refresh_from_db()
    assert (row.attempts, row.send_after) == (3, MORNING + datetime.timedelta(minutes=65))

    with at(MORNING + datetime.timedelta(minutes=65)):
        assert send_due_reminders() == SendReport(failed=1)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("failed", 4, "The SMS gateway answered 503.")
    with at(MORNING + datetime.timedelta(hours=3)):
        assert send_due_reminders() == SendReport()


@override_settings(SMS_BACKEND=REFUSING_SMS)
def test_send_due_reminders_fails_at_once_when_the_gateway_refuses_for_good(participant):
    with at(MORNING):
        assert send_due_reminders() == SendReport(planned=1, failed=1)
    [row] = rows_of(participant)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, REFUSED)


def test_send_due_reminders_shows_a_row_left_sending_as_failed_and_never_resends_it(participant):
    # given a worker that died between claiming the row and recording it
    with at(MORNING), override_settings(SMS_BACKEND=f"{__name__}.DyingSmsBackend"):
        with pytest.raises(WorkerKilled):
            send_due_reminders()
    [row] = rows_of(participant)
    assert row.status == Reminder.Status.SENDING

    # when other rounds run: within the timeout it stays "sending", then it is failed
    with at(MORNING + datetime.timedelta(minutes=14)):
        assert send_due_reminders() == SendReport()
    row.refresh_from_db()
    assert row.status == Reminder.Status.SENDING
    with at(MORNING + datetime.timedelta(minutes=16)):
        assert send_due_reminders() == SendReport(stale=1)

    # then it shows as failed, saying why, and nothing was sent again
    row.refresh_from_db()
    assert (row.status, row.last_error) == ("failed", STALE_ERROR)
    assert channels.outbox == []


def test_retry_failed_sends_a_failed_row_again(participant):
    with at(MORNING), override_settings(SMS_BACKEND=REFUSING_SMS):
        send_due_reminders()
    [row] = rows_of(participant)

    later = MORNING + datetime.timedelta(hours=1)
    with at(later):
        retried = retry_failed(row.pk)
        assert (retried.status, retried.send_after, retried.attempts) == ("pending", later, 0)
        assert send_due_reminders().sent == 1
    assert len(texts_to(PHONE)) == 1


def test_retry_failed_refuses_a_row_that_did_not_fail(participant):
    with at(MORNING):
        send_due_reminders()
    [row] = rows_of(participant)

    with pytest.raises(InvalidTransition, match="Only a failed message can be sent again; this one is sent."):
        retry_failed(row.pk)


def test_send_reminder_sends_one_due_row_once(participant):
    with at(MORNING):
        plan_due_reminders()
        [row] = rows_of(participant)
        send_reminder(row.pk)
        send_reminder(row.pk)

    assert len(texts_to(PHONE)) == 1
    row.refresh_from_db()
    assert row.status == Reminder.Status.SENT


def test_send_due_reminders_sends_nothing_for_a_cancelled_participant(participant):
    with at(MORNING):
        plan_due_reminders()
        SessionService.cancel_participant(participant, "Family travelling", cancelled_by="family")
        report = send_due_reminders()

    assert report == SendReport()
    [row] = rows_of(participant)
    assert row.status == Reminder.Status.VOIDED
    assert row.voided_at == MORNING
    assert channels.outbox == []


def test_send_due_reminders_tells_nobody_who_opted_out_since_the_row_was_written(participant):
    with at(MORNING):
        plan_due_reminders()
        channels.record_sms_opt_out(PHONE)
        report = send_due_reminders()

    assert report == SendReport(unreachable=1)
    assert rows_of(participant)[0].status == Reminder.Status.UNREACHABLE
    assert channels.outbox == []
