"""Shared set-up of the reminder tests: guardians, templates, rules, and the texts sent."""

import datetime
import itertools

from django.utils import timezone

from appointments.models import Session, SessionParticipant
from appointments.reminders import channels
from appointments.reminders.models import MessageTemplate, Reminder, ReminderRule
from appointments.tests.factories import IndividualSessionFactory
from core.models import Clinic, Guardian, Patient, Tenant
from core.tests.factories import PatientFactory, ProviderFactory

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
