"""Messages the services ask for (appointments.reminders.outbox): a move, a cancellation, a seat."""

import datetime

import pytest
import time_machine

from appointments.appointment_service import AppointmentService
from appointments.reminders import channels
from appointments.reminders.models import MessageTemplate, Reminder
from appointments.reminders.planning import plan_due_reminders
from appointments.reminders.sending import SendReport, send_due_reminders
from appointments.series_service import SeriesService
from appointments.session_service import SessionService
from appointments.tests.factories import AppointmentFactory, GroupSessionFactory, ParticipantFactory
from appointments.tests.reminder_helpers import (
    booked_child,
    guardian,
    local,
    rows_of,
    rule,
    template,
    texts_to,
)
from core.models import Guardian
from core.tests.factories import ConsentFactory, PatientFactory, ProviderFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2027, 5, 12)
PHONE = "+966501234567"
Status, Kind = Reminder.Status, Reminder.Kind


def at(moment: datetime.datetime) -> time_machine.travel:
    return time_machine.travel(moment, tick=False)


def test_reschedule_session_voids_earlier_links_and_queues_a_moved_message(clinic):
    # given a sent 48-hour reminder and a pending 24-hour one
    rule(clinic, 48)
    rule(clinic, 24)
    start = local(DAY, 15)
    with at(start - datetime.timedelta(hours=48)):
        participant = booked_child(clinic, DAY, 15, phone=PHONE)
        send_due_reminders()
    moved_at = start - datetime.timedelta(hours=23)
    with at(moved_at):
        plan_due_reminders()
        sent, pending = rows_of(participant)
        assert (sent.status, pending.status) == (Status.SENT, Status.PENDING)

        # when the session moves to the next morning
        SessionService.reschedule_session(
            participant.session,
            scheduled_date=DAY + datetime.timedelta(days=1),
            scheduled_time=datetime.time(11),
        )

    # then the earlier links are void, the pending reminder never goes, and a "moved" row waits
    sent.refresh_from_db()
    pending.refresh_from_db()
    assert (sent.status, sent.voided_at) == (Status.SENT, moved_at)
    assert (pending.status, pending.voided_at) == (Status.VOIDED, moved_at)
    moved = Reminder.objects.get(participant=participant, kind=Kind.MOVED)
    assert moved.scheduled_start == local(DAY + datetime.timedelta(days=1), 11)
    assert (moved.status, moved.send_after, moved.channel, moved.rule, moved.template) == (
        Status.PENDING,
        moved_at,
        "sms",
        None,
        None,
    )
    with at(moved_at):
        # the 48-hour reminder of the new time would go before the "moved" message: moot
        assert send_due_reminders() == SendReport(sent=1)
    [_first, text] = texts_to(PHONE)
    assert "moved" in text
    assert "11:00" in text


def test_reschedule_session_in_quiet_hours_tells_the_family_in_the_morning(clinic):
    with at(local(DAY, 23)):
        participant = booked_child(clinic, DAY + datetime.timedelta(days=2), 15)
        moved_template = template(clinic.tenant, purpose=MessageTemplate.Purpose.MOVED)
        template(clinic.tenant, purpose=MessageTemplate.Purpose.MOVED, channel=Guardian.Channel.EMAIL)

        SessionService.reschedule_session(
            participant.session,
            scheduled_date=DAY + datetime.timedelta(days=3),
            scheduled_time=datetime.time(10),
        )

    [moved] = rows_of(participant)
    assert moved.send_after == local(DAY + datetime.timedelta(days=1), 8)
    assert moved.template == moved_template


def test_reschedule_session_shows_a_family_nobody_may_tell(clinic):
    with at(local(DAY, 9)):
        participant = booked_child(clinic, DAY, 15, consent_to_contact=False)
        SessionService.reschedule_session(
            participant.session, scheduled_date=DAY, scheduled_time=datetime.time(16)
        )

    [moved] = rows_of(participant)
    assert (moved.kind, moved.status, moved.guardian) == (Kind.MOVED, Status.UNREACHABLE, None)


def test_appointment_reschedule_queues_a_moved_message_and_cancel_voids_it(clinic):
    rule(clinic, 24)
    with at(local(DAY, 9)):
        patient = PatientFactory(tenant=clinic.tenant)
        guardian(patient, preferred_channel=Guardian.Channel.EMAIL)
        appointment = AppointmentFactory(
            clinic=clinic, patient=patient, scheduled_date=DAY, scheduled_time=datetime.time(15)
        )

        AppointmentService.reschedule(appointment, DAY, datetime.time(17))
        [moved] = Reminder.objects.filter(appointment=appointment)
        assert (moved.kind, moved.channel, moved.scheduled_start) == (Kind.MOVED, "email", local(DAY, 17))

        AppointmentService.cancel(appointment, "Family asked")

    moved.refresh_from_db()
    assert (moved.status, moved.voided_at) == (Status.VOIDED, local(DAY, 9))


def test_cancel_session_voids_every_childs_rows_and_nothing_more_is_planned(clinic):
    rule(clinic, 24)
    with at(local(DAY, 9)):
        session = GroupSessionFactory(clinic=clinic, scheduled_date=DAY, scheduled_time=datetime.time(15))
        children = [ParticipantFactory(session=session) for _ in range(2)]
        for child in children:
            guardian(child.patient)
        plan_due_reminders()

        SessionService.cancel_session(session, "Provider ill")
        plan_due_reminders()
        assert send_due_reminders() == SendReport()

    assert [row.status for row in Reminder.objects.all()] == [Status.VOIDED, Status.VOIDED]
    assert channels.outbox == []


def test_a_child_booked_from_the_waiting_list_gets_a_seat_message(clinic):
    with at(local(DAY, 9)):
        session = GroupSessionFactory(
            clinic=clinic, scheduled_date=DAY, scheduled_time=datetime.time(15), max_capacity=2
        )
        leaving = ParticipantFactory(session=session)
        ParticipantFactory(session=session)
        waiting = PatientFactory(tenant=clinic.tenant)
        ConsentFactory(patient=waiting)
        guardian(waiting, phone=PHONE)
        SessionService.add_to_waitlist(session, waiting)

        # when a seat frees, the first waiting child is booked into it
        SessionService.cancel_participant(leaving, "Moved away")
        report = send_due_reminders()

    seated = session.participants.get(patient=waiting)
    [row] = rows_of(seated)
    assert (row.kind, row.status, row.scheduled_start) == (Kind.SEAT_OFFERED, Status.SENT, local(DAY, 15))
    assert report.sent == 1
    assert len(texts_to(PHONE)) == 1


def test_moving_a_series_queues_a_moved_message_for_every_moved_session(clinic):
    with at(local(DAY, 9)):
        patient = PatientFactory(tenant=clinic.tenant)
        guardian(patient)
        series = SeriesService.create_series(
            session_type="individual",
            provider=ProviderFactory(clinic=clinic),
            clinic=clinic,
            service_type="Individual Therapy",
            start_date=DAY + datetime.timedelta(days=1),
            scheduled_time=datetime.time(10),
            occurrence_count=3,
            patient=patient,
        )
        first, *later = series.sessions.order_by("scheduled_date")

        SeriesService.move_occurrences(
            later[0], scheduled_date=later[0].scheduled_date, scheduled_time=datetime.time(12), following=True
        )

    moved = Reminder.objects.filter(kind=Kind.MOVED).order_by("scheduled_start")
    assert [(row.participant.session, row.scheduled_start) for row in moved] == [
        (session, local(session.scheduled_date, 12)) for session in later
    ]
    assert not Reminder.objects.filter(participant__session=first).exists()
