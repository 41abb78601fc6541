"""Reminder rows for the jobs' and the front desk's tests, brought to each state by the sender.

A row is written pending, as the planner writes it (``appointments.reminders.planning``); it
fails or turns out unreachable only through ``sending.send_due_reminders``, with the test
gateways below.
"""

import datetime

from django.test import override_settings

from appointments.models import SessionParticipant
from appointments.reminders import sending
from appointments.reminders.channels import BaseSmsBackend, DeliveryError
from appointments.reminders.models import Reminder
from appointments.reminders.outbox import booking_start
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory
from core import clock
from core.models import Guardian
from core.tests.factories import GuardianFactory

LOCMEM_SMS = "appointments.reminders.channels.LocmemSmsBackend"
REFUSING_SMS = "appointments.tests.reminder_rows.RefusingSmsBackend"
REFUSED = "The SMS gateway answered 400."


class RefusingSmsBackend(BaseSmsBackend):
    """A gateway that refuses every message for good (a number it won't send to)."""

    def send(self, to: str, text: str) -> str:
        raise DeliveryError(REFUSED, permanent=True)


def booked_child(clinic, *, days_ahead: int = 2, hour: int = 11) -> SessionParticipant:
    """A child booked into a group of ``clinic`` ``days_ahead`` days from today."""
    session = GroupSessionFactory(
        clinic=clinic,
        provider__clinic=clinic,
        scheduled_date=clock.today() + datetime.timedelta(days=days_ahead),
        scheduled_time=datetime.time(hour),
    )
    return ParticipantFactory(session=session)


def guardian_of(participant: SessionParticipant, **fields) -> Guardian:
    """The child's mother, who consents to text messages in English."""
    return GuardianFactory(
        patient=participant.patient, preferred_language=Guardian.Language.ENGLISH, **fields
    )


def due_reminder(participant: SessionParticipant, guardian: Guardian | None = None) -> Reminder:
    """A text-message reminder of the child's booking, pending and due a minute ago."""
    session = participant.session
    return Reminder.objects.create(
        tenant=session.clinic.tenant,
        participant=participant,
        guardian=guardian if guardian is not None else guardian_of(participant),
        channel=Guardian.Channel.SMS,
        scheduled_start=booking_start(session.scheduled_date, session.scheduled_time),
        send_after=clock.now() - datetime.timedelta(minutes=1),
    )


def failed_reminder(participant: SessionParticipant) -> Reminder:
    """A reminder the gateway refused for good: failed, shown to the front desk."""
    reminder = due_reminder(participant)
    with override_settings(SMS_BACKEND=REFUSING_SMS):
        sending.send_reminder(reminder.pk)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.FAILED
    return reminder


def unreachable_reminder(participant: SessionParticipant) -> Reminder:
    """A reminder whose guardian withdrew consent before it went: no one to send to."""
    reminder = due_reminder(participant, guardian_of(participant, consent_to_contact=False))
    with override_settings(SMS_BACKEND=LOCMEM_SMS):
        sending.send_reminder(reminder.pk)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.UNREACHABLE
    return reminder
