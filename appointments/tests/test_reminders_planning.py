"""Which reminders come due: appointments.reminders.planning through send_due_reminders' first step."""

import datetime

import pytest
import time_machine
from django.db import IntegrityError
from django.test import override_settings

from appointments.appointment_service import AppointmentService
from appointments.reminders.models import Reminder
from appointments.reminders.planning import plan_due_reminders
from appointments.session_service import SessionService
from appointments.tests.factories import AppointmentFactory, GroupSessionFactory, ParticipantFactory
from appointments.tests.reminder_helpers import booked_child, guardian, local, rows_of, rule, utc
from core.models import Guardian
from core.tests.factories import ClinicFactory, PatientFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2027, 5, 12)  # a Wednesday, far from any clock change


@pytest.fixture
def clinic(tenant):
    # No quiet hours unless a test sets them.
    return ClinicFactory(tenant=tenant, quiet_hours_start=datetime.time(0), quiet_hours_end=datetime.time(0))


@pytest.mark.parametrize(
    ("session_day", "before_due", "due"),
    [
        # Clocks go forward on 28 March 2027 at 02:00: 48 hours before 10:00 CEST on the 29th
        # is 09:00 CET on the 27th, not 10:00.
        (datetime.date(2027, 3, 29), utc(2027, 3, 27, 7, 59), utc(2027, 3, 27, 8, 0)),
        # Clocks go back on 31 October 2027 at 03:00: 48 hours before 10:00 CET on 1 November
        # is 11:00 CEST on 30 October.
        (datetime.date(2027, 11, 1), utc(2027, 10, 30, 8, 59), utc(2027, 10, 30, 9, 0)),
    ],
    ids=["march", "october"],
)
def test_plan_due_reminders_counts_elapsed_hours_across_a_clock_change(clinic, session_day, before_due, due):
    with override_settings(TIME_ZONE="Europe/Berlin"):
        rule(clinic, 48)
        with time_machine.travel(before_due - datetime.timedelta(days=3), tick=False):
            participant = booked_child(clinic, session_day, 10)

        # a minute before the 48 hours: nothing yet
        with time_machine.travel(before_due, tick=False):
            plan_due_reminders()
        assert rows_of(participant) == []

        # at the 48 hours: one row, due then, for the session's start in UTC
        with time_machine.travel(due, tick=False):
            assert plan_due_reminders() == 1
        [row] = rows_of(participant)
        assert row.send_after == due
        assert row.scheduled_start == due + datetime.timedelta(hours=48)
        assert row.status == Reminder.Status.PENDING


def test_plan_due_reminders_writes_only_the_rule_closest_to_the_start(clinic):
    # given 48-hour and 2-hour rules, and a child booked an hour before the start
    later = rule(clinic, 2)
    rule(clinic, 48)
    with time_machine.travel(local(DAY, 9), tick=False):
        participant = booked_child(clinic, DAY, 10)

        # when planning runs twice
        plan_due_reminders()
        plan_due_reminders()

    # then only the 2-hour reminder is written, once
    [row] = rows_of(participant)
    assert row.rule == later
    assert row.send_after == local(DAY, 8)


def test_plan_due_reminders_writes_the_closer_rule_after_the_earlier_one(clinic):
    early, late = rule(clinic, 48), rule(clinic, 2)
    with time_machine.travel(local(DAY, 10) - datetime.timedelta(hours=47), tick=False):
        participant = booked_child(clinic, DAY, 10)
        plan_due_reminders()
    with time_machine.travel(local(DAY, 8, 30), tick=False):
        plan_due_reminders()

    assert [row.rule for row in rows_of(participant)] == [early, late]


def test_plan_due_reminders_skips_bookings_not_yet_due_or_begun_or_not_expected(clinic):
    rule(clinic, 24)
    with time_machine.travel(local(DAY, 7), tick=False):
        too_early = booked_child(clinic, DAY + datetime.timedelta(days=2), 10)
        begun = booked_child(clinic, DAY, 7)
        cancelled = booked_child(clinic, DAY, 12)
        SessionService.cancel_participant(cancelled, "ill", cancelled_by="family")
        other_clinic = booked_child(ClinicFactory(tenant=clinic.tenant), DAY, 13)

        assert plan_due_reminders() == 0

    assert Reminder.objects.filter(participant__in=[too_early, begun, cancelled, other_clinic]).count() == 0


def test_plan_due_reminders_covers_legacy_appointments(clinic):
    rule(clinic, 24)
    with time_machine.travel(local(DAY, 7), tick=False):
        patient = PatientFactory(tenant=clinic.tenant)
        guardian(patient)
        appointment = AppointmentFactory(
            clinic=clinic, patient=patient, scheduled_date=DAY, scheduled_time=datetime.time(11)
        )
        cancelled = AppointmentFactory(clinic=clinic, scheduled_date=DAY, scheduled_time=datetime.time(12))
        AppointmentService.cancel(cancelled, "Family asked")

        plan_due_reminders()

    [row] = Reminder.objects.all()
    assert (row.appointment, row.participant, row.scheduled_start) == (appointment, None, local(DAY, 11))
    assert row.tenant == clinic.tenant


@pytest.mark.parametrize(
    ("quiet", "start", "send_after"),
    [
        # 21:00-08:00: the 2-hour reminder of a 09:00 session (07:00) waits for 08:00
        ((21, 8), (DAY, 9, 0), (DAY, 8, 0)),
        # the end of the quiet hours would be after a 07:30 start: the evening before
        ((21, 8), (DAY, 7, 30), (DAY - datetime.timedelta(days=1), 21, 0)),
        # quiet hours inside one day, 13:00-16:00: 14:00 waits for 16:00
        ((13, 16), (DAY, 16, 30), (DAY, 16, 0)),
        # outside the quiet hours: as the rule says
        ((21, 8), (DAY, 12, 0), (DAY, 10, 0)),
    ],
    ids=["overnight-to-morning", "overnight-to-evening-before", "daytime", "outside"],
)
def test_plan_due_reminders_keeps_out_of_quiet_hours(clinic, quiet, start, send_after):
    clinic.quiet_hours_start, clinic.quiet_hours_end = datetime.time(quiet[0]), datetime.time(quiet[1])
    clinic.save()
    rule(clinic, 2)
    with time_machine.travel(local(DAY - datetime.timedelta(days=2), 10), tick=False):
        participant = booked_child(clinic, *start)
    with time_machine.travel(local(*start) - datetime.timedelta(minutes=1), tick=False):
        plan_due_reminders()

    [row] = rows_of(participant)
    assert row.send_after == local(*send_after)


def test_plan_due_reminders_chooses_the_guardian_by_channel_primary_first(clinic):
    by_sms, by_email = rule(clinic, 24), rule(clinic, 24, Guardian.Channel.EMAIL)
    with time_machine.travel(local(DAY, 7), tick=False):
        participant = booked_child(clinic, DAY, 10, is_primary=False, name_en="Second")
        primary = guardian(participant.patient, name_en="First", phone="+966509999999")
        emailed = booked_child(clinic, DAY, 11, preferred_channel=Guardian.Channel.EMAIL)

        plan_due_reminders()

    [texted] = rows_of(participant)
    assert (texted.rule, texted.guardian, texted.channel) == (by_sms, primary, "sms")
    [mailed] = rows_of(emailed)
    assert (mailed.rule, mailed.channel) == (by_email, "email")


@pytest.mark.parametrize(
    "fields",
    [
        {"consent_to_contact": False},
        {"may_receive_appointment_info": False},
        {"sms_opted_out_at": utc(2027, 1, 1)},
        {"phone": ""},
    ],
    ids=["no-consent", "no-custody", "opted-out", "no-phone"],
)
def test_plan_due_reminders_writes_nobody_who_may_not_be_told_and_shows_it_once(clinic, fields):
    # given text-message rules and the child's only guardian who may not be told by text
    rule(clinic, 24)
    rule(clinic, 2)
    with time_machine.travel(local(DAY, 7), tick=False):
        participant = booked_child(clinic, DAY, 10, **fields)
        plan_due_reminders()
    with time_machine.travel(local(DAY, 8, 30), tick=False):
        plan_due_reminders()

    # then one row shows the front desk nobody will hear, never sent
    [row] = rows_of(participant)
    assert row.status == Reminder.Status.UNREACHABLE
    assert row.guardian is None


def test_plan_due_reminders_leaves_a_family_reached_by_another_channel_to_its_rule(clinic):
    rule(clinic, 24)  # text messages only
    with time_machine.travel(local(DAY, 7), tick=False):
        participant = booked_child(clinic, DAY, 10, preferred_channel=Guardian.Channel.EMAIL)
        plan_due_reminders()

    assert rows_of(participant) == []


def test_plan_due_reminders_runs_a_fixed_number_of_queries(clinic, django_assert_num_queries):
    rule(clinic, 24)
    rule(clinic, 2)
    with time_machine.travel(local(DAY, 6), tick=False):
        for hour in (7, 8):
            booked_child(clinic, DAY, hour)
        AppointmentFactory(clinic=clinic, scheduled_date=DAY, scheduled_time=datetime.time(9))
    # rules; the clinic's children and appointments; guardians; rows written; the insert
    with time_machine.travel(local(DAY, 6), tick=False), django_assert_num_queries(6):
        assert plan_due_reminders() == 3

    with time_machine.travel(local(DAY, 6), tick=False):
        session = GroupSessionFactory(clinic=clinic, scheduled_date=DAY, scheduled_time=datetime.time(11))
        for _ in range(4):
            guardian(ParticipantFactory(session=session).patient)
        for hour in (12, 13):
            booked_child(clinic, DAY, hour)
    with time_machine.travel(local(DAY, 6), tick=False), django_assert_num_queries(6):
        assert plan_due_reminders() == 6


def test_reminder_rows_are_unique_per_rule_booking_and_start_while_valid(clinic):
    reminder_rule = rule(clinic, 24)
    with time_machine.travel(local(DAY, 7), tick=False):
        participant = booked_child(clinic, DAY, 10)
        plan_due_reminders()
    [row] = rows_of(participant)

    with pytest.raises(IntegrityError):
        Reminder.objects.create(
            tenant=row.tenant,
            rule=reminder_rule,
            participant=participant,
            channel="sms",
            scheduled_start=row.scheduled_start,
            send_after=row.send_after,
        )
