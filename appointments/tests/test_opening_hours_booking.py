"""Opening hours at booking time: sessions (group and individual), legacy appointments through the
service and the seed's bare ``Appointment.objects.create``, and the booking pages."""

import datetime

import pytest
from django.urls import reverse

from appointments import booking_rules
from appointments.appointment_service import AppointmentService
from appointments.exceptions import OutsideOpeningHours, SchedulingError
from appointments.models import Appointment, AppointmentNumberCounter, Session, SessionParticipant
from appointments.session_service import SessionService
from core.clock import today as clinic_today
from core.models import OpeningHours, OpeningHoursOverride, User
from core.tests.factories import PatientFactory
from core.tests.view_helpers import consented_patient, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

# A week after FROZEN_TODAY (Sunday 15/03/2026): a Sunday.
SUNDAY = datetime.date(2026, 3, 22)
SPLIT_SHIFT = "08:00-12:00 and 16:00-20:00"


def at(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


@pytest.fixture
def hours(clinic):
    """Sunday: a split shift, 08:00-12:00 and 16:00-20:00. No other day is open."""
    for opens, closes in ((at(8), at(12)), (at(16), at(20))):
        OpeningHours.objects.create(
            clinic=clinic, weekday=OpeningHours.Weekday.SUNDAY, opens_at=opens, closes_at=closes
        )
    return clinic


def outside(clinic, slot: str, day: str = "22/03/2026", hours: str = SPLIT_SHIFT) -> str:
    return f"{clinic.name_en} is open {hours} on Sunday {day}: {slot} is outside those hours."


def group(provider, clinic, start, minutes=60, day=SUNDAY):
    return SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=day,
        scheduled_time=start,
        duration=minutes,
        service_type="Social Skills Group",
        max_capacity=6,
    )


def individual(provider, clinic, start, minutes=60, day=SUNDAY):
    return SessionService.create_individual_session(
        provider=provider,
        clinic=clinic,
        patient=PatientFactory(tenant=clinic.tenant),
        scheduled_date=day,
        scheduled_time=start,
        duration=minutes,
        service_type="Individual Therapy",
    )


def legacy(provider, clinic, start, minutes=60, day=SUNDAY, **fields):
    return Appointment.objects.create(
        patient=PatientFactory(tenant=clinic.tenant),
        provider=provider,
        clinic=clinic,
        scheduled_date=day,
        scheduled_time=start,
        duration=minutes,
        service_type="Individual Therapy",
        **fields,
    )


def book(provider, clinic, start, minutes=60, day=SUNDAY):
    return AppointmentService.book_appointment(
        patient=PatientFactory(tenant=clinic.tenant),
        provider=provider,
        clinic=clinic,
        scheduled_date=day,
        scheduled_time=start,
        duration=minutes,
        service_type="Individual Therapy",
    )


def issued_numbers() -> int:
    return sum(AppointmentNumberCounter.objects.values_list("last_number", flat=True))


# The rule as other services call it ----------------------------------------------------------------


def test_check_within_hours_raises_a_scheduling_error_naming_the_hours(hours):
    booking_rules.check_within_hours(hours, SUNDAY, at(16), 240)

    with pytest.raises(OutsideOpeningHours) as refused:
        booking_rules.check_within_hours(hours, SUNDAY, at(11, 30), 60)

    assert isinstance(refused.value, SchedulingError)
    assert refused.value.messages == [outside(hours, "11:30-12:30")]


# No hours set: no restriction --------------------------------------------------------------------


def test_a_clinic_without_hours_books_at_any_time(provider, clinic):
    early = group(provider, clinic, at(5), day=SUNDAY)
    late = individual(provider, clinic, at(22), day=SUNDAY)
    appointment = legacy(provider, clinic, at(3), day=SUNDAY)

    assert [early.scheduled_time, late.scheduled_time, appointment.scheduled_time] == [at(5), at(22), at(3)]


# Sessions ----------------------------------------------------------------------------------------


def test_group_session_inside_either_shift_is_booked(provider, hours):
    morning = group(provider, hours, at(8))
    afternoon = group(provider, hours, at(18), minutes=120)

    assert [morning.scheduled_time, afternoon.scheduled_time] == [at(8), at(18)]


@pytest.mark.parametrize(
    ("start", "minutes", "slot"),
    [
        (at(11, 30), 60, "11:30-12:30"),
        (at(13), 60, "13:00-14:00"),
        (at(11), 360, "11:00-17:00"),
        (at(19, 45), 30, "19:45-20:15"),
        (at(7), 60, "07:00-08:00"),
    ],
    ids=["straddling the morning's closing", "in the break", "across the break", "past closing", "before"],
)
def test_group_session_outside_the_shifts_is_refused_naming_them(provider, hours, start, minutes, slot):
    with pytest.raises(OutsideOpeningHours) as refused:
        group(provider, hours, start, minutes)

    assert refused.value.messages == [outside(hours, slot)]
    assert not Session.objects.exists()


def test_individual_session_outside_hours_is_refused_and_books_nobody(provider, hours):
    with pytest.raises(OutsideOpeningHours) as refused:
        individual(provider, hours, at(12), minutes=45)

    assert refused.value.messages == [outside(hours, "12:00-12:45")]
    assert not Session.objects.exists()
    assert not SessionParticipant.objects.exists()
    assert issued_numbers() == 0


def test_session_on_a_weekday_without_hours_is_refused_as_closed(provider, hours):
    monday = SUNDAY + datetime.timedelta(days=1)

    with pytest.raises(OutsideOpeningHours) as refused:
        group(provider, hours, at(9), day=monday)

    assert refused.value.messages == [f"{hours.name_en} is closed on Monday 23/03/2026."]


def test_ramadan_hours_replace_the_weekday_on_their_date(provider, hours):
    OpeningHoursOverride.objects.create(
        clinic=hours, date=SUNDAY, opens_at=at(20), closes_at=at(23, 30), note="Ramadan hours"
    )

    evening = group(provider, hours, at(21))
    with pytest.raises(OutsideOpeningHours) as refused:
        group(provider, hours, at(9))
    next_sunday = group(provider, hours, at(9), day=SUNDAY + datetime.timedelta(days=7))

    assert evening.scheduled_time == at(21)
    assert refused.value.messages == [
        f"{hours.name_en} is open 20:00-23:30 on Sunday 22/03/2026 (Ramadan hours): "
        "09:00-10:00 is outside those hours."
    ]
    assert next_sunday.scheduled_time == at(9)


def test_a_closed_day_refuses_every_booking(provider, hours):
    OpeningHoursOverride.objects.create(clinic=hours, date=SUNDAY, closed=True, note="Eid holiday")
    closed = f"{hours.name_en} is closed on Sunday 22/03/2026 (Eid holiday)."

    for make in (group, individual, book, legacy):
        with pytest.raises(OutsideOpeningHours) as refused:
            make(provider, hours, at(9))
        assert refused.value.messages == [closed]
    assert not Session.objects.exists()
    assert not Appointment.objects.exists()


# Legacy appointments -------------------------------------------------------------------------------


def test_book_appointment_outside_hours_is_refused_and_returns_no_number(provider, hours):
    with pytest.raises(OutsideOpeningHours) as refused:
        book(provider, hours, at(19, 30))

    assert refused.value.messages == [outside(hours, "19:30-20:30")]
    assert not Appointment.objects.exists()
    assert issued_numbers() == 0


def test_seed_style_objects_create_outside_hours_is_refused_and_the_number_returned(provider, hours):
    with pytest.raises(OutsideOpeningHours) as refused:
        legacy(provider, hours, at(12), minutes=30)
    inside = legacy(provider, hours, at(10))

    assert refused.value.messages == [outside(hours, "12:00-12:30")]
    assert inside.appointment_number == f"APT-AGDAR-{clinic_today().year}-00001"


def test_seed_style_objects_create_keeps_a_cancelled_record_outside_hours(provider, hours):
    record = legacy(provider, hours, at(22), status=Appointment.Status.CANCELLED, cancel_reason="Old")

    assert record.pk is not None


def test_reschedule_appointment_outside_hours_is_refused_and_nothing_moves(provider, hours):
    appointment = book(provider, hours, at(9))

    with pytest.raises(SchedulingError) as refused:
        AppointmentService.reschedule(appointment, SUNDAY, at(12, 30))

    assert outside(hours, "12:30-13:30") in refused.value.messages
    appointment.refresh_from_db()
    assert (appointment.scheduled_time, appointment.reschedule_count) == (at(9), 0)


# The pages ---------------------------------------------------------------------------------------


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    return client


@pytest.fixture
def monday_hours(clinic):
    """Tomorrow (Monday 16/03/2026) the clinic opens 08:00-13:00 only."""
    OpeningHours.objects.create(
        clinic=clinic, weekday=OpeningHours.Weekday.MONDAY, opens_at=at(8), closes_at=at(13)
    )
    return clinic


def test_session_create_page_refuses_a_slot_outside_hours_naming_them(desk, provider, monday_hours):
    tomorrow = clinic_today() + datetime.timedelta(days=1)
    data = {
        "clinic": monday_hours.pk,
        "provider": provider.pk,
        "room": "",
        "scheduled_date": tomorrow.isoformat(),
        "scheduled_time": "12:30",
        "duration": 60,
        "service_type": "Social Skills Group",
        "max_capacity": 6,
        "group_notes": "",
    }

    response = desk.post(reverse("appointments:session_create"), data)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"{monday_hours.name_en} is open 08:00-13:00 on Monday 16/03/2026: "
        "12:30-13:30 is outside those hours."
    ]
    assert not Session.objects.exists()


def test_appointment_book_page_refuses_a_slot_outside_hours_naming_them(desk, provider, monday_hours):
    consented_patient(monday_hours.tenant, mrn="AG-1")
    tomorrow = clinic_today() + datetime.timedelta(days=1)
    data = {
        "patient": "AG-1",
        "clinic": monday_hours.pk,
        "provider": provider.pk,
        "room": "",
        "scheduled_date": tomorrow.isoformat(),
        "scheduled_time": "07:30",
        "duration": 45,
        "service_type": "Assessment",
        "notes": "",
    }

    response = desk.post(reverse("appointments:appointment_book"), data)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"{monday_hours.name_en} is open 08:00-13:00 on Monday 16/03/2026: "
        "07:30-08:15 is outside those hours."
    ]
    assert not Appointment.objects.exists()
