"""Which reminders are due: rows written for each active rule and each booking it covers.

``plan_due_reminders(now)`` runs at the start of every sending round. A rule of ``H`` hours
covers each booked or confirmed child of a scheduled session in the rule's clinic, and
each booked or confirmed legacy appointment there, starting ``H`` hours after ``now`` or
sooner. Its message is due ``H`` hours (elapsed time, across a DST change too) before the
start, moved out of the clinic's quiet hours (``outbox.shift_for_quiet_hours``); it is
written once that moment has come and the booking hasn't started.

One message per moment: of the rules of one channel due at once, only the one closest
to the start is written (no "in two days" an hour before), and a rule is skipped when a
message to the family is already written to go at or after its moment (a closer rule's,
a move's, a seat from the waiting list). Each rule's message goes to the first guardian
(primary first) who may be told and prefers its channel; when the child's guardians
prefer another channel, that channel's rule covers them. When no guardian at all may be
told, one UNREACHABLE row shows the front desk nobody will hear from the clinic.

Rows are unique per (rule, booking, start) while their links are valid, and inserted
with ``ON CONFLICT DO NOTHING``, so two workers planning at once write each row once.
Queries: the rules, two per clinic (sessions' children and legacy appointments, by a date
window), the guardians, the rows already written, and one insert - whatever the bookings.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from appointments.models import Appointment, Session, SessionParticipant
from appointments.reminders.models import Reminder, ReminderRule
from appointments.reminders.outbox import (
    ACTIVE_APPOINTMENT,
    ACTIVE_PARTICIPANT,
    Booking,
    guardians_to_tell,
    shift_for_quiet_hours,
    utc_now,
)
from core import clock
from core.models import Clinic

# Quiet hours can move a message back to the evening before: look this much further ahead.
QUIET_HOURS_REACH = datetime.timedelta(days=1)
STILL_SHOWN = (Reminder.Status.UNREACHABLE, Reminder.Status.PENDING, Reminder.Status.SENDING)


def plan_due_reminders(now: datetime.datetime | None = None) -> int:
    """Write the rows that came due by ``now`` (default: now); the number of rows offered to insert."""
    now = utc_now(now)
    rules: dict[int, list[ReminderRule]] = defaultdict(list)
    clinics: dict[int, Clinic] = {}
    for rule in ReminderRule.objects.filter(is_active=True).select_related("clinic").order_by("hours_before"):
        rules[rule.clinic_id].append(rule)
        clinics[rule.clinic_id] = rule.clinic
    due: list[tuple[Booking, list[tuple[ReminderRule, datetime.datetime]]]] = []
    for clinic_id, clinic_rules in rules.items():
        for booking in _bookings(clinics[clinic_id], clinic_rules, now):
            came_due = [(rule, moment) for rule in clinic_rules if (moment := _due_at(rule, booking)) <= now]
            if came_due:
                due.append((booking, came_due))
    if not due:
        return 0
    rows = _rows(due, now)
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _due_at(rule: ReminderRule, booking: Booking) -> datetime.datetime:
    moment = booking.start - datetime.timedelta(hours=rule.hours_before)
    return shift_for_quiet_hours(moment, start=booking.start, clinic=booking.clinic)


def _bookings(clinic: Clinic, rules: list[ReminderRule], now: datetime.datetime) -> Iterable[Booking]:
    """The clinic's expected bookings that start after ``now`` and within the widest rule's reach."""
    reach = datetime.timedelta(hours=max(rule.hours_before for rule in rules)) + QUIET_HOURS_REACH
    days = (clock.local_day(now), clock.local_day(now + reach))
    participants = SessionParticipant.objects.filter(
        session__clinic=clinic,
        session__status=Session.Status.SCHEDULED,
        session__scheduled_date__range=days,
        status__in=ACTIVE_PARTICIPANT,
    ).select_related("session")
    for participant in participants:
        booking = Booking.of_participant(participant, participant.session, clinic)
        if now < booking.start:
            yield booking
    # A legacy appointment back-filled into a session is reminded as that session's child.
    appointments = Appointment.objects.filter(
        clinic=clinic,
        scheduled_date__range=days,
        status__in=ACTIVE_APPOINTMENT,
        session_participant__isnull=True,
    )
    for appointment in appointments:
        booking = Booking.of_appointment(appointment, clinic)
        if now < booking.start:
            yield booking


def _rows(
    due: list[tuple[Booking, list[tuple[ReminderRule, datetime.datetime]]]], now: datetime.datetime
) -> list[Reminder]:
    guardians = guardians_to_tell(booking.patient_id for booking, _rules in due)
    written = _written(booking for booking, _rules in due)
    rows = []
    for booking, came_due in due:
        earlier = written.get((*booking.key, booking.start), [])
        chosen = guardians.get(booking.patient_id, [])
        if not chosen:
            # Shown once; a row still to go is shown unreachable by the sender itself.
            if not any(status in STILL_SHOWN for status, _at in earlier):
                rule, moment = min(came_due, key=lambda pair: pair[0].hours_before)
                rows.append(_row(booking, rule, moment, status=Reminder.Status.UNREACHABLE))
            continue
        # A message going at or after a rule's moment (a closer rule's, a move's) makes it moot.
        told_at = max((at for status, at in earlier if status != Reminder.Status.UNREACHABLE), default=None)
        closest: dict[str, tuple[ReminderRule, datetime.datetime]] = {}
        for rule, moment in came_due:
            if rule.channel not in closest or rule.hours_before < closest[rule.channel][0].hours_before:
                closest[rule.channel] = (rule, moment)
        for channel, (rule, moment) in closest.items():
            guardian = next((g for g in chosen if g.preferred_channel == channel), None)
            if guardian is None or (told_at is not None and told_at >= moment):
                continue
            rows.append(_row(booking, rule, moment, guardian_id=guardian.pk))
    return rows


def _row(booking: Booking, rule: ReminderRule, moment: datetime.datetime, **fields: object) -> Reminder:
    return booking.row(
        kind=Reminder.Kind.REMINDER,
        rule=rule,
        channel=rule.channel,
        template_id=rule.template_id,
        send_after=moment,
        **fields,
    )


def _written(
    bookings: Iterable[Booking],
) -> dict[tuple[str, int, datetime.datetime], list[tuple[str, datetime.datetime]]]:
    """The valid rows already written for these bookings: (status, send after) by booking and start."""
    participant_ids: set[int] = set()
    appointment_ids: set[int] = set()
    for booking in bookings:
        kind, pk = booking.key
        (participant_ids if kind == "participant" else appointment_ids).add(pk)
    found: dict[tuple[str, int, datetime.datetime], list[tuple[str, datetime.datetime]]] = defaultdict(list)
    rows = Reminder.objects.filter(
        Q(participant_id__in=participant_ids) | Q(appointment_id__in=appointment_ids), voided_at__isnull=True
    ).values_list("participant_id", "appointment_id", "scheduled_start", "status", "send_after")
    for participant_id, appointment_id, start, status, send_after in rows:
        key = (
            ("participant", participant_id) if participant_id is not None else ("appointment", appointment_id)
        )
        found[(*key, start)].append((status, send_after))
    return found
