"""Slot times on clock-change days: a start or end the clocks skip or repeat is refused.

Asia/Riyadh (the default) has no daylight saving time, but ``TIME_ZONE`` is
configurable: these tests run in Europe/Berlin, whose clocks go forward from 02:00 to
03:00 on 29/03/2026 and back from 03:00 to 02:00 on 25/10/2026. Every booking path
(group and individual sessions, legacy appointments and their rescheduling, the
booking pages) goes through ``booking_rules.validate_slot_times``.
"""

import datetime
import zoneinfo

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from appointments.appointment_service import AppointmentService
from appointments.booking_rules import local_time_problem, validate_slot_times
from appointments.exceptions import SlotTimeError
from appointments.models import Appointment, Session, SessionParticipant
from appointments.session_service import SessionService
from core.models import User
from core.tests.view_helpers import consented_patient, legacy_appointment, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
SPRING_FORWARD = datetime.date(2026, 3, 29)  # 02:00-02:59 doesn't exist
FALL_BACK = datetime.date(2026, 10, 25)  # 02:00-02:59 happens twice
HALF_PAST_TWO = datetime.time(2, 30)


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


def day(date: datetime.date) -> str:
    return date_format(date, "SHORT_DATE_FORMAT")


def missing_start(date: datetime.date, time: str) -> str:
    return (
        f"{time} on {day(date)} doesn't exist in Europe/Berlin: the clocks go forward that night. "
        "Choose another start time."
    )


def repeated_start(date: datetime.date, time: str) -> str:
    return (
        f"{time} on {day(date)} happens twice in Europe/Berlin: the clocks go back that night. "
        "Choose another start time."
    )


def missing_end(date: datetime.date, time: str) -> str:
    return (
        f"The slot would end at {time} on {day(date)}, which doesn't exist in Europe/Berlin: the clocks "
        "go forward that night. Choose another start time or duration."
    )


def repeated_end(date: datetime.date, time: str) -> str:
    return (
        f"The slot would end at {time} on {day(date)}, which happens twice in Europe/Berlin: the clocks "
        "go back that night. Choose another start time or duration."
    )


def create_group(provider, clinic, scheduled_date, scheduled_time, duration=60):
    return SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=scheduled_date,
        scheduled_time=scheduled_time,
        duration=duration,
        service_type="Social Skills Group",
        max_capacity=4,
    )


# The rule


@pytest.mark.parametrize(
    ("moment", "problem"),
    [
        (datetime.datetime(2026, 3, 29, 1, 59), None),
        (datetime.datetime(2026, 3, 29, 2, 0), "missing"),
        (datetime.datetime(2026, 3, 29, 2, 59), "missing"),
        (datetime.datetime(2026, 3, 29, 3, 0), None),
        (datetime.datetime(2026, 10, 25, 1, 59), None),
        (datetime.datetime(2026, 10, 25, 2, 0), "twice"),
        (datetime.datetime(2026, 10, 25, 2, 59), "twice"),
        (datetime.datetime(2026, 10, 25, 3, 0), None),
        (datetime.datetime(2026, 7, 1, 2, 30), None),
    ],
)
def test_local_time_problem_in_berlin(moment, problem):
    assert local_time_problem(moment, BERLIN) == problem


@pytest.mark.parametrize("date", [SPRING_FORWARD, FALL_BACK])
def test_validate_slot_times_accepts_any_time_in_riyadh_which_keeps_its_clocks(date):
    validate_slot_times(scheduled_date=date, scheduled_time=HALF_PAST_TWO, duration=60)


@pytest.mark.usefixtures("berlin")
@pytest.mark.parametrize(
    ("date", "start", "duration", "message"),
    [
        (SPRING_FORWARD, datetime.time(2, 30), 60, missing_start(SPRING_FORWARD, "02:30")),
        (FALL_BACK, datetime.time(2, 30), 60, repeated_start(FALL_BACK, "02:30")),
        (SPRING_FORWARD, datetime.time(1, 30), 60, missing_end(SPRING_FORWARD, "02:30")),
        (SPRING_FORWARD, datetime.time(1, 0), 60, missing_end(SPRING_FORWARD, "02:00")),
        (FALL_BACK, datetime.time(1, 30), 45, repeated_end(FALL_BACK, "02:15")),
        (
            SPRING_FORWARD - datetime.timedelta(days=1),
            datetime.time(23, 0),
            210,
            missing_end(SPRING_FORWARD, "02:30"),
        ),
    ],
)
def test_validate_slot_times_refuses_a_skipped_or_repeated_start_or_end(date, start, duration, message):
    with pytest.raises(SlotTimeError) as refused:
        validate_slot_times(scheduled_date=date, scheduled_time=start, duration=duration)

    assert refused.value.messages == [message]


@pytest.mark.usefixtures("berlin")
@pytest.mark.parametrize(
    ("date", "start", "duration"),
    [
        (SPRING_FORWARD, datetime.time(3, 0), 60),
        (SPRING_FORWARD, datetime.time(1, 0), 59),
        (FALL_BACK, datetime.time(3, 0), 60),
        (FALL_BACK, datetime.time(0, 30), 60),
        (FALL_BACK, datetime.time(1, 0), 59),
    ],
)
def test_validate_slot_times_accepts_slots_around_the_changed_hour(date, start, duration):
    validate_slot_times(scheduled_date=date, scheduled_time=start, duration=duration)


def test_validate_slot_times_refuses_a_slot_ending_past_the_calendar():
    with pytest.raises(SlotTimeError) as refused:
        validate_slot_times(
            scheduled_date=datetime.date(9999, 12, 31), scheduled_time=datetime.time(23, 0), duration=480
        )

    assert refused.value.messages == [f"A slot can't end after {day(datetime.date(9999, 12, 30))}."]


# The services


@pytest.mark.usefixtures("berlin")
def test_create_group_session_starting_in_the_skipped_hour_refused(provider, clinic):
    with pytest.raises(SlotTimeError) as refused:
        create_group(provider, clinic, SPRING_FORWARD, HALF_PAST_TWO)

    assert refused.value.messages == [missing_start(SPRING_FORWARD, "02:30")]
    assert not Session.objects.exists()


@pytest.mark.usefixtures("berlin")
def test_create_group_session_ending_in_the_skipped_hour_refused(provider, clinic):
    with pytest.raises(SlotTimeError) as refused:
        create_group(provider, clinic, SPRING_FORWARD, datetime.time(1, 30))

    assert refused.value.messages == [missing_end(SPRING_FORWARD, "02:30")]
    assert not Session.objects.exists()


@pytest.mark.usefixtures("berlin")
def test_create_individual_session_starting_in_the_repeated_hour_refused(provider, clinic):
    patient = consented_patient(clinic.tenant)

    with pytest.raises(SlotTimeError) as refused:
        SessionService.create_individual_session(
            provider=provider,
            clinic=clinic,
            patient=patient,
            scheduled_date=FALL_BACK,
            scheduled_time=HALF_PAST_TWO,
            duration=60,
            service_type="Assessment",
        )

    assert refused.value.messages == [repeated_start(FALL_BACK, "02:30")]
    assert not Session.objects.exists()
    assert not SessionParticipant.objects.exists()


@pytest.mark.usefixtures("berlin")
def test_create_group_session_after_the_clock_change_accepted(provider, clinic):
    session = create_group(provider, clinic, SPRING_FORWARD, datetime.time(3, 0))

    assert (session.scheduled_date, session.scheduled_time) == (SPRING_FORWARD, datetime.time(3, 0))


@pytest.mark.usefixtures("berlin")
def test_book_appointment_in_the_repeated_hour_refused(provider, clinic):
    with pytest.raises(SlotTimeError) as refused:
        AppointmentService.book_appointment(
            patient=consented_patient(clinic.tenant),
            provider=provider,
            clinic=clinic,
            scheduled_date=FALL_BACK,
            scheduled_time=HALF_PAST_TWO,
            duration=45,
            service_type="Assessment",
        )

    assert refused.value.messages == [repeated_start(FALL_BACK, "02:30")]
    assert not Appointment.objects.exists()


@pytest.mark.usefixtures("berlin")
def test_reschedule_appointment_to_end_in_the_skipped_hour_refused(provider, clinic):
    appointment = legacy_appointment(provider, clinic, day=datetime.date(2026, 3, 28), hour=10)

    with pytest.raises(SlotTimeError) as refused:
        AppointmentService.reschedule(appointment, SPRING_FORWARD, datetime.time(1, 45))

    assert refused.value.messages == [missing_end(SPRING_FORWARD, "02:30")]
    appointment.refresh_from_db()
    assert (appointment.scheduled_date, appointment.scheduled_time, appointment.reschedule_count) == (
        datetime.date(2026, 3, 28),
        datetime.time(10, 0),
        0,
    )


# The booking pages


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    return client


@pytest.mark.usefixtures("berlin")
def test_session_create_page_shows_a_skipped_start_time_as_a_form_error(desk, clinic, provider):
    response = desk.post(
        reverse("appointments:session_create"),
        {
            "clinic": clinic.pk,
            "provider": provider.pk,
            "scheduled_date": SPRING_FORWARD.isoformat(),
            "scheduled_time": "02:30",
            "duration": "60",
            "service_type": "Social Skills Group",
            "max_capacity": "4",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [missing_start(SPRING_FORWARD, "02:30")]
    assert not Session.objects.exists()


@pytest.mark.usefixtures("berlin")
def test_appointment_book_page_shows_a_repeated_end_time_as_a_form_error(desk, clinic, provider):
    patient = consented_patient(clinic.tenant)

    response = desk.post(
        reverse("appointments:appointment_book"),
        {
            "patient": patient.mrn,
            "clinic": clinic.pk,
            "provider": provider.pk,
            "scheduled_date": FALL_BACK.isoformat(),
            "scheduled_time": "01:30",
            "duration": "45",
            "service_type": "Assessment",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [repeated_end(FALL_BACK, "02:15")]
    assert not Appointment.objects.exists()
