"""Shared set-up of the reminder tests: guardians, templates, rules, the texts sent, and rows
brought to each state by the sender.

A row is written pending, as the planner writes it (``appointments.reminders.planning``); it
fails or turns out unreachable only through ``sending.send_due_reminders``, with the test
gateways below.
"""

import datetime
import itertools

from django.test import override_settings
from django.utils import timezone

from appointments.models import Session, SessionParticipant
from appointments.reminders import channels, sending
from appointments.reminders.models import MessageTemplate, Reminder, ReminderRule
from appointments.reminders.outbox import booking_start
from appointments.tests.factories import GroupSessionFactory, IndividualSessionFactory, ParticipantFactory
from core import clock
from core.models import Clinic, Guardian, Patient, Tenant
from core.tests.factories import GuardianFactory, PatientFactory, ProviderFactory

REFUSED = "The SMS gateway answered 400."

_names = itertools.count()


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """``hour``:``minute`` on ``day`` in the installation's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def utc(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=datetime.UTC)


def guardian(patient: Patient, **fields: object) -> Guardian:
    """A guardian who consents, may be told, and prefers text messages in English (primary)."""
    values: dict[str, object] = {
        "name_en": "Noura",
        "phone": "+966501234567",
        "email": "noura@example.org",
        "consent_to_contact": True,
        "may_receive_appointment_info": True,
        "preferred_channel": Guardian.Channel.SMS,
        "preferred_language": "en",
        "is_primary": True,
    }
    values.update(fields)
    return Guardian.objects.create(patient=patient, **values)


def template(
    tenant: Tenant, *, channel: str = Guardian.Channel.SMS, purpose: str = MessageTemplate.Purpose.REMINDER
) -> MessageTemplate:
    return MessageTemplate.objects.create(
        tenant=tenant,
        name=f"{purpose} {channel} {next(_names)}",
        purpose=purpose,
        channel=channel,
        subject_en="Session of {first_name}",
        body_en="{first_name} on {date} at {time}: {link}",
        body_ar="{first_name} يوم {date} الساعة {time}: {link}",
    )


def rule(clinic: Clinic, hours: int, channel: str = Guardian.Channel.SMS) -> ReminderRule:
    return ReminderRule.objects.create(
        clinic=clinic, hours_before=hours, channel=channel, template=template(clinic.tenant, channel=channel)
    )


def booked_child(
    clinic: Clinic, day: datetime.date, hour: int, minute: int = 0, **guardian_fields: object
) -> SessionParticipant:
    """A child with a guardian, booked alone in ``clinic`` at ``hour``:``minute`` on ``day``."""
    patient = PatientFactory(tenant=clinic.tenant)
    guardian(patient, **guardian_fields)
    session: Session = IndividualSessionFactory(
        clinic=clinic,
        provider=ProviderFactory(clinic=clinic),
        patient=patient,
        scheduled_date=day,
        scheduled_time=datetime.time(hour, minute),
    )
    return session.participants.get()


def rows_of(participant: SessionParticipant) -> list[Reminder]:
    return list(Reminder.objects.filter(participant=participant).order_by("pk"))


def texts_to(phone: str) -> list[str]:
    return [sms.text for sms in channels.outbox if sms.to == phone]


class RefusingSmsBackend(channels.BaseSmsBackend):
    """A gateway that refuses every message for good (a number it won't send to)."""

    def send(self, to: str, text: str) -> str:
        raise channels.DeliveryError(REFUSED, permanent=True)


REFUSING_SMS = f"{__name__}.RefusingSmsBackend"


def booked_in_group(clinic, *, days_ahead: int = 2, hour: int = 11) -> SessionParticipant:
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
    sending.send_reminder(reminder.pk)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.UNREACHABLE
    return reminder
