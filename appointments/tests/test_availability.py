"""Holidays, working hours and leave: every booking path refuses them, naming what stands in the way."""

import datetime
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import translation

from appointments import booking_rules
from appointments.appointment_service import AppointmentService
from appointments.exceptions import (
    ConflictError,
    HolidayClosed,
    OutsideOpeningHours,
    OutsideWorkingHours,
    ProviderOnLeave,
)
from appointments.models import Appointment, Session
from appointments.session_service import SessionService
from core.availability import availability_problems
from core.models import ClinicHoliday, ProviderLeave, ProviderWorkingHours, User
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory
from core.tests.view_helpers import consented_patient, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

RIYADH = zoneinfo.ZoneInfo("Asia/Riyadh")
# frozen_today is Sunday 15/03/2026.
MONDAY, TUESDAY = datetime.date(2026, 3, 16), datetime.date(2026, 3, 17)
TEN = datetime.time(10)


def at(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


def moment(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, at(hour, minute), tzinfo=RIYADH)


def works(provider, clinic, day: datetime.date, *intervals) -> None:
    for starts, ends in intervals:
        ProviderWorkingHours.objects.create(
            provider=provider, clinic=clinic, weekday=day.weekday(), starts_at=starts, ends_at=ends
        )


def on_leave(provider, starts, ends, reason="Annual leave") -> ProviderLeave:
    return ProviderLeave.objects.create(provider=provider, starts_at=starts, ends_at=ends, reason=reason)


def problems(clinic, provider, day=MONDAY, start=TEN, minutes=60) -> list[str]:
    return availability_problems(clinic=clinic, provider=provider, day=day, start=start, minutes=minutes)


def create_group(provider, clinic, day=MONDAY, start=TEN, duration=60):
    return SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=day,
        scheduled_time=start,
        duration=duration,
        service_type="Social Skills Group",
        max_capacity=4,
    )


def create_individual(provider, clinic, patient, day=MONDAY, start=TEN):
    return SessionService.create_individual_session(
        provider=provider,
        clinic=clinic,
        patient=patient,
        scheduled_date=day,
        scheduled_time=start,
        duration=60,
        service_type="Individual Therapy",
    )


def book(provider, clinic, patient, day=MONDAY, start=TEN):
    return AppointmentService.book_appointment(
        patient=patient,
        provider=provider,
        clinic=clinic,
        scheduled_date=day,
        scheduled_time=start,
        duration=60,
        service_type="Individual Therapy",
    )


@pytest.fixture
def eid(clinic):
    return ClinicHoliday.objects.create(clinic=clinic, date=MONDAY, name="Eid al-Fitr")


@pytest.fixture
def patient(tenant):
    return PatientFactory(tenant=tenant)


# The rules and their messages


def test_availability_problems_name_the_clinics_holiday(clinic, provider, eid):
    assert problems(clinic, provider) == [f"{clinic} is closed on Mon 16/03/2026 for Eid al-Fitr."]


def test_availability_problems_name_the_working_hours_of_the_day(clinic, provider):
    # given a split shift on Mondays
    works(provider, clinic, MONDAY, (at(8), at(12)), (at(14), at(17)))

    # then a slot inside either interval is free; one across the break is named against the day's hours
    assert problems(clinic, provider, start=at(8)) == []
    assert problems(clinic, provider, start=at(16)) == []
    assert problems(clinic, provider, start=at(11, 30)) == [
        f"{provider} works 08:00-12:00 and 14:00-17:00 at {clinic} on Mon 16/03/2026: "
        "11:30-12:30 is outside those hours."
    ]


def test_availability_problems_touching_intervals_are_one_stretch(clinic, provider):
    works(provider, clinic, MONDAY, (at(8), at(12)), (at(12), at(16)))

    assert problems(clinic, provider, start=at(11, 30)) == []


def test_availability_problems_a_day_without_hours_is_a_day_off(clinic, provider):
    works(provider, clinic, MONDAY, (at(8), at(12)))

    assert problems(clinic, provider, day=TUESDAY) == [
        f"{provider} doesn't work at {clinic} on Tue 17/03/2026."
    ]


def test_availability_problems_hours_at_another_clinic_only_mean_no_hours_here(clinic, provider):
    other = ClinicFactory(tenant=clinic.tenant)
    works(provider, other, MONDAY, (at(8), at(12)))

    assert problems(clinic, provider) == [f"{provider} doesn't work at {clinic} on Mon 16/03/2026."]


def test_availability_problems_none_set_means_no_restriction(clinic, provider):
    assert problems(clinic, provider, start=at(5)) == []
    assert problems(clinic, provider, start=at(22, 30), minutes=480) == []


@pytest.mark.parametrize(
    ("starts", "ends", "reason", "named"),
    [
        (moment(MONDAY, 0), moment(TUESDAY, 0), "Sick", "on 16/03/2026 (Sick)"),
        (
            moment(MONDAY, 0),
            moment(MONDAY + datetime.timedelta(days=3), 0),
            "Annual leave",
            "from 16/03/2026 to 18/03/2026 (Annual leave)",
        ),
        (
            moment(MONDAY, 9),
            moment(MONDAY, 11),
            "Dentist",
            "from 16/03/2026 09:00 to 16/03/2026 11:00 (Dentist)",
        ),
    ],
    ids=["one day", "whole days", "hours"],
)
def test_availability_problems_name_the_leaves_dates_and_reason(
    clinic, provider, starts, ends, reason, named
):
    on_leave(provider, starts, ends, reason)

    assert problems(clinic, provider) == [f"{provider} is on leave {named}."]


def test_availability_problems_leave_touching_the_slot_doesnt_refuse_it(clinic, provider):
    on_leave(provider, moment(MONDAY, 8), moment(MONDAY, 10))
    on_leave(provider, moment(MONDAY, 11), moment(MONDAY, 12))

    assert problems(clinic, provider) == []


def test_availability_problems_list_every_rule_at_once(clinic, provider, eid):
    works(provider, clinic, MONDAY, (at(12), at(16)))
    on_leave(provider, moment(MONDAY, 9), moment(MONDAY, 11), "Training")

    assert problems(clinic, provider) == [
        f"{clinic} is closed on Mon 16/03/2026 for Eid al-Fitr.",
        f"{provider} works 12:00-16:00 at {clinic} on Mon 16/03/2026: 10:00-11:00 is outside those hours.",
        f"{provider} is on leave from 16/03/2026 09:00 to 16/03/2026 11:00 (Training).",
    ]


def test_availability_problems_in_arabic(clinic, provider, eid):
    with translation.override("ar"):
        (message,) = problems(clinic, provider)

    assert message.startswith(f"{clinic.name_ar} مغلقة يوم ")
    assert message.endswith("16/03/2026 بسبب Eid al-Fitr.")


def test_check_availability_raises_the_first_rules_error_with_every_message(clinic, provider, eid):
    on_leave(provider, moment(MONDAY, 9), moment(MONDAY, 11))

    with pytest.raises(HolidayClosed) as refused:
        booking_rules.check_availability(clinic, provider, MONDAY, at(10), 60)

    assert len(refused.value.messages) == 2
    assert isinstance(refused.value, OutsideOpeningHours)


# Holidays


def test_create_group_session_on_a_holiday_refused(clinic, provider, eid):
    with pytest.raises(HolidayClosed, match="is closed on Mon 16/03/2026 for Eid al-Fitr"):
        create_group(provider, clinic)

    assert not Session.objects.exists()


def test_single_bookings_on_a_holiday_refused_on_every_path(clinic, provider, patient, eid):
    with pytest.raises(HolidayClosed):
        create_individual(provider, clinic, patient)
    with pytest.raises(HolidayClosed):
        book(provider, clinic, patient)
    # the seed's bare create too
    with pytest.raises(HolidayClosed):
        Appointment.objects.create(
            patient=patient,
            provider=provider,
            clinic=clinic,
            scheduled_date=MONDAY,
            scheduled_time=at(10),
            duration=60,
            service_type="Individual Therapy",
        )
    assert not Session.objects.exists()
    assert not Appointment.objects.exists()


def test_another_clinics_holiday_refuses_nothing_here(clinic, provider):
    ClinicHoliday.objects.create(clinic=ClinicFactory(tenant=clinic.tenant), date=MONDAY, name="Local feast")

    assert create_group(provider, clinic).scheduled_date == MONDAY


# Working hours


def test_booking_inside_any_interval_of_the_working_hours(clinic, provider, patient):
    works(provider, clinic, MONDAY, (at(8), at(12)), (at(14), at(17)))

    create_group(provider, clinic, start=at(9))
    create_individual(provider, clinic, patient, start=at(14))
    assert book(provider, clinic, PatientFactory(tenant=clinic.tenant), start=at(16)).scheduled_time == at(16)


@pytest.mark.parametrize(("day", "start"), [(MONDAY, at(11, 30)), (MONDAY, at(7)), (TUESDAY, at(9))])
def test_booking_outside_the_working_hours_refused_on_every_path(clinic, provider, patient, day, start):
    works(provider, clinic, MONDAY, (at(8), at(12)), (at(14), at(17)))

    with pytest.raises(OutsideWorkingHours, match=re.escape(str(provider))):
        create_group(provider, clinic, day=day, start=start)
    with pytest.raises(OutsideWorkingHours):
        create_individual(provider, clinic, patient, day=day, start=start)
    with pytest.raises(OutsideWorkingHours):
        book(provider, clinic, patient, day=day, start=start)


def test_a_provider_without_working_hours_books_any_time(clinic, provider, patient):
    create_group(provider, clinic, start=at(6))
    create_individual(provider, clinic, patient, start=at(20))

    # and the seed's bare create books as before
    appointment = Appointment.objects.create(
        patient=PatientFactory(tenant=clinic.tenant),
        provider=provider,
        clinic=clinic,
        scheduled_date=MONDAY,
        scheduled_time=at(22),
        duration=60,
        service_type="Individual Therapy",
    )
    assert appointment.appointment_number


def test_bare_appointment_create_refuses_outside_working_hours(clinic, provider, patient):
    works(provider, clinic, MONDAY, (at(8), at(12)))

    with pytest.raises(OutsideWorkingHours):
        Appointment.objects.create(
            patient=patient,
            provider=provider,
            clinic=clinic,
            scheduled_date=MONDAY,
            scheduled_time=at(13),
            duration=60,
            service_type="Individual Therapy",
        )


# Leave


def test_booking_inside_leave_refused_on_every_path(clinic, provider, patient):
    on_leave(provider, moment(MONDAY, 0), moment(TUESDAY, 0), "Sick")
    expected = f"{provider} is on leave on 16/03/2026 (Sick)."

    for attempt in (
        lambda: create_group(provider, clinic),
        lambda: create_individual(provider, clinic, patient),
        lambda: book(provider, clinic, patient),
        lambda: Appointment.objects.create(
            patient=patient,
            provider=provider,
            clinic=clinic,
            scheduled_date=MONDAY,
            scheduled_time=at(10),
            duration=60,
            service_type="Individual Therapy",
        ),
    ):
        with pytest.raises(ProviderOnLeave) as refused:
            attempt()
        assert refused.value.messages == [expected]
        assert isinstance(refused.value, ConflictError)
    # and the day after is free again
    assert create_group(provider, clinic, day=TUESDAY).scheduled_date == TUESDAY


def test_reschedule_session_into_leave_holiday_or_off_hours_refused_naming_each(clinic, provider, patient):
    # given a session on Tuesday with a child
    works(provider, clinic, MONDAY, (at(8), at(12)))
    works(provider, clinic, TUESDAY, (at(8), at(12)))
    session = create_individual(provider, clinic, patient, day=TUESDAY, start=at(9))
    ClinicHoliday.objects.create(clinic=clinic, date=MONDAY + datetime.timedelta(days=7), name="Founding Day")
    on_leave(provider, moment(MONDAY, 9), moment(MONDAY, 11), "Course")

    # then each move is refused with its reason
    with pytest.raises(ConflictError) as refused:
        SessionService.reschedule_session(session, scheduled_date=MONDAY, scheduled_time=at(10))
    assert refused.value.messages == [
        f"{provider} is on leave from 16/03/2026 09:00 to 16/03/2026 11:00 (Course)."
    ]
    with pytest.raises(ConflictError) as refused:
        SessionService.reschedule_session(
            session, scheduled_date=MONDAY + datetime.timedelta(days=7), scheduled_time=at(10)
        )
    assert refused.value.messages == [f"{clinic} is closed on Mon 23/03/2026 for Founding Day."]
    with pytest.raises(ConflictError) as refused:
        SessionService.reschedule_session(session, scheduled_date=TUESDAY, scheduled_time=at(13))
    assert refused.value.messages == [
        f"{provider} works 08:00-12:00 at {clinic} on Tue 17/03/2026: 13:00-14:00 is outside those hours."
    ]
    # and the session stayed where it was
    session.refresh_from_db()
    assert (session.scheduled_date, session.scheduled_time) == (TUESDAY, at(9))
    # while a free slot moves it
    SessionService.reschedule_session(session, scheduled_date=MONDAY, scheduled_time=at(11))


def test_reschedule_appointment_into_leave_refused(clinic, provider, patient):
    appointment = book(provider, clinic, patient, day=TUESDAY, start=at(9))
    on_leave(provider, moment(MONDAY, 0), moment(TUESDAY, 0), "Sick")

    with pytest.raises(ConflictError) as refused:
        AppointmentService.reschedule(appointment, scheduled_date=MONDAY, scheduled_time=at(10))

    assert refused.value.messages == [f"{provider} is on leave on 16/03/2026 (Sick)."]
    appointment.refresh_from_db()
    assert appointment.scheduled_date == TUESDAY


def test_reschedule_session_to_another_provider_checks_the_new_providers_availability(
    clinic, provider, patient
):
    colleague = ProviderFactory(clinic=clinic)
    on_leave(colleague, moment(MONDAY, 0), moment(TUESDAY, 0), "Sick")
    session = create_individual(provider, clinic, patient)

    with pytest.raises(ConflictError, match=re.escape(f"{colleague} is on leave on 16/03/2026")):
        SessionService.reschedule_session(
            session, scheduled_date=MONDAY, scheduled_time=at(10), provider=colleague
        )


# The booking forms


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    return client


def _slot(clinic, provider, **fields):
    return {
        "clinic": clinic.pk,
        "provider": provider.pk,
        "room": "",
        "scheduled_date": MONDAY.isoformat(),
        "scheduled_time": "10:00",
        "duration": 60,
        "service_type": "Assessment",
        **fields,
    }


@pytest.mark.parametrize(
    ("page", "extra"),
    [
        ("session_create", {"max_capacity": 6, "group_notes": ""}),
        ("session_book_individual", {"patient": "AG-7"}),
        ("appointment_book", {"patient": "AG-7", "notes": ""}),
    ],
)
def test_booking_forms_refuse_a_holiday_as_a_form_error(desk, tenant, clinic, provider, eid, page, extra):
    consented_patient(tenant, mrn="AG-7")

    response = desk.post(reverse(f"appointments:{page}"), _slot(clinic, provider, **extra))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"{clinic} is closed on Mon 16/03/2026 for Eid al-Fitr."
    ]
    assert not Session.objects.exists()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("page", "extra"),
    [
        ("session_create", {"max_capacity": 6, "group_notes": ""}),
        ("session_book_individual", {"patient": "AG-7"}),
        ("appointment_book", {"patient": "AG-7", "notes": ""}),
    ],
)
def test_booking_forms_refuse_leave_and_off_hours_as_form_errors(desk, tenant, clinic, provider, page, extra):
    consented_patient(tenant, mrn="AG-7")
    works(provider, clinic, MONDAY, (at(8), at(12)))
    on_leave(provider, moment(MONDAY, 8), moment(MONDAY, 10, 30), "Course")

    response = desk.post(
        reverse(f"appointments:{page}"), _slot(clinic, provider, scheduled_time="11:30", **extra)
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"{provider} works 08:00-12:00 at {clinic} on Mon 16/03/2026: 11:30-12:30 is outside those hours."
    ]
    response = desk.post(reverse(f"appointments:{page}"), _slot(clinic, provider, **extra))
    assert response.context["form"].non_field_errors() == [
        f"{provider} is on leave from 16/03/2026 08:00 to 16/03/2026 10:30 (Course)."
    ]
