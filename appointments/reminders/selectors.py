"""Reads for the front desk's reminders page: the messages that need someone to call the family.

A reminder needs attention when it failed after its retries (``FAILED``) or had no one to go
to (``UNREACHABLE``: no guardian who consents and may be told, or every one opted out), for a
booking that hasn't started yet and wasn't moved or cancelled since (its links are not void).
"""

import datetime

from django.db.models import Q

from appointments.models import Appointment, SessionParticipant
from appointments.reminders.models import Reminder
from core.models import User
from core.tenancy import TenantScopedQuerySet

ATTENTION_STATUSES = (Reminder.Status.FAILED, Reminder.Status.UNREACHABLE)


def reminders_needing_attention(user: User, now: datetime.datetime) -> TenantScopedQuerySet[Reminder]:
    """The reminders of the user's organisation that need attention (see the module docstring),
    soonest booking first, with the booking, its child and its guardian: a page runs one query."""
    return (
        Reminder.objects.for_user(user)
        .filter(status__in=ATTENTION_STATUSES, scheduled_start__gt=now, voided_at__isnull=True)
        .filter(
            Q(participant__isnull=True) | ~Q(participant__status__in=SessionParticipant.INACTIVE_STATUSES),
            Q(appointment__isnull=True) | ~Q(appointment__status__in=Appointment.INACTIVE_STATUSES),
        )
        .select_related("participant__patient", "appointment__patient", "guardian")
        .order_by("scheduled_start", "pk")
    )
