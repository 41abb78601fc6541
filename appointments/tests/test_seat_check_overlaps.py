"""``booking_rules.seat_check``'s overlap answer, one raw SQL query, agrees with ``overlaps.find_conflicts``.

A booking asks the raw query only (``SessionService.add_patient_to_session``), and the
ORM query only for the messages once the raw one says yes: each scenario checks both
give the expected answer for a child about to be booked into a 10:00-11:00 group.
"""

import datetime
from collections.abc import Callable

import pytest

from appointments import booking_rules, overlaps
from appointments.exceptions import CheckInBlocked
from appointments.models import Session
from appointments.session_service import SessionService
from appointments.tests.factories import AppointmentFactory, GroupSessionFactory, ParticipantFactory
from core.clock import today as clinic_today
from core.models import Clinic, Patient
from core.tests.factories import PatientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TEN = datetime.time(10, 0)


def group(clinic: Clinic, start: datetime.time, *, days_later: int = 0, minutes: int = 60) -> Session:
    # Each group has a provider of its own: only the child can clash.
    return GroupSessionFactory(
        clinic=clinic,
        scheduled_date=clinic_today() + datetime.timedelta(days=days_later),
        scheduled_time=start,
        duration=minutes,
    )


def booked_in_overlapping_group(clinic: Clinic, child: Patient, target: Session) -> None:
    ParticipantFactory(session=group(clinic, datetime.time(10, 30)), patient=child)


def booked_in_group_ending_at_the_start(clinic: Clinic, child: Patient, target: Session) -> None:
    ParticipantFactory(session=group(clinic, datetime.time(9, 0)), patient=child)


def booked_in_group_starting_at_the_end(clinic: Clinic, child: Patient, target: Session) -> None:
    ParticipantFactory(session=group(clinic, datetime.time(11, 0)), patient=child)


def cancelled_from_overlapping_group(clinic: Clinic, child: Patient, target: Session) -> None:
    participant = ParticipantFactory(session=group(clinic, datetime.time(10, 30)), patient=child)
    SessionService.cancel_participant(participant, "Family holiday")


def turned_away_from_overlapping_group(clinic: Clinic, child: Patient, target: Session) -> None:
    participant = ParticipantFactory(session=group(clinic, datetime.time(9, 30)), patient=child)
    with pytest.raises(CheckInBlocked):  # no finance clearance, no consent: refused, recorded
        SessionService.check_in_participant(participant)
    SessionService.mark_turned_away(participant)


def overlapping_group_cancelled(clinic: Clinic, child: Patient, target: Session) -> None:
    session = group(clinic, datetime.time(10, 30))
    ParticipantFactory(session=session, patient=child)
    SessionService.cancel_session(session, "Provider ill")


def legacy_appointment_overlapping(clinic: Clinic, child: Patient, target: Session) -> None:
    AppointmentFactory(
        clinic=clinic,
        patient=child,
        scheduled_date=target.scheduled_date,
        scheduled_time=datetime.time(10, 45),
        duration=30,
    )


def other_child_in_overlapping_group(clinic: Clinic, child: Patient, target: Session) -> None:
    ParticipantFactory(session=group(clinic, datetime.time(10, 30)))


def booked_same_hour_next_day(clinic: Clinic, child: Patient, target: Session) -> None:
    ParticipantFactory(session=group(clinic, TEN, days_later=1), patient=child)


def booked_in_the_session_itself(clinic: Clinic, child: Patient, target: Session) -> None:
    ParticipantFactory(session=target, patient=child)


Arrange = Callable[[Clinic, Patient, Session], None]


@pytest.mark.parametrize(
    ("arrange", "overlapping"),
    [
        (booked_in_overlapping_group, True),
        (booked_in_group_ending_at_the_start, False),
        (booked_in_group_starting_at_the_end, False),
        (cancelled_from_overlapping_group, False),
        (turned_away_from_overlapping_group, False),
        (overlapping_group_cancelled, False),
        (legacy_appointment_overlapping, True),
        (other_child_in_overlapping_group, False),
        (booked_same_hour_next_day, False),
        (booked_in_the_session_itself, False),
    ],
    ids=lambda value: value.__name__ if callable(value) else None,
)
def test_seat_check_overlap_agrees_with_find_conflicts(clinic, arrange: Arrange, overlapping):
    target = group(clinic, TEN)
    child = PatientFactory(tenant=clinic.tenant)
    arrange(clinic, child, target)

    conflicts = overlaps.find_conflicts(
        patients=(child,),
        day=target.scheduled_date,
        start=target.scheduled_time,
        minutes=target.duration,
        exclude_session=target,
    )

    assert booking_rules.seat_check(target, child).overlapping is overlapping
    assert bool(conflicts) is overlapping
