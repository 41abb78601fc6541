"""SessionService.find_free_slots: a grid from opening time, every booking rule, a fixed number of queries."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import transaction

from appointments.appointment_service import AppointmentService
from appointments.exceptions import OutOfScope, SchedulingError
from appointments.session_service import SessionService
from core.models import (
    Clinic,
    ClinicHoliday,
    OpeningHours,
    OpeningHoursOverride,
    ProviderLeave,
    ProviderWorkingHours,
)
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, RoomFactory

pytestmark = pytest.mark.django_db

RIYADH = zoneinfo.ZoneInfo("Asia/Riyadh")
SUNDAY = datetime.date(2026, 3, 15)
MONDAY, TUESDAY, WEDNESDAY = (SUNDAY + datetime.timedelta(days=n) for n in (1, 2, 3))


def at(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


def moment(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, at(hour, minute), tzinfo=RIYADH)


@pytest.fixture(autouse=True)
def sunday_ten_o_clock():
    """10:00 on Sunday 15/03/2026, standing still: "now" is exact."""
    with time_machine.travel(moment(SUNDAY, 10), tick=False):
        yield


def open_week(clinic, *intervals: tuple[datetime.time, datetime.time]) -> None:
    for weekday in range(7):
        for opens, closes in intervals:
            OpeningHours.objects.create(clinic=clinic, weekday=weekday, opens_at=opens, closes_at=closes)


def works(provider, clinic, weekday: int, *intervals: tuple[datetime.time, datetime.time]) -> None:
    for starts, ends in intervals:
        ProviderWorkingHours.objects.create(
            provider=provider, clinic=clinic, weekday=weekday, starts_at=starts, ends_at=ends
        )


def group(provider, clinic, day, start, duration=60, room=None):
    return SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=day,
        scheduled_time=start,
        duration=duration,
        service_type="Social Skills Group",
        max_capacity=4,
        room=room,
    )


def find(clinic, **options):
    options = {"duration": 60, "date_from": MONDAY, "date_to": MONDAY, **options}
    return SessionService.find_free_slots(clinic=clinic, **options)


def times(slots) -> list[str]:
    return [f"{slot:%a %H:%M}" for slot in slots]


def test_find_free_slots_lie_on_the_grid_from_the_clinics_opening_time(clinic, provider):
    # given a clinic opening at 08:10
    open_week(clinic, (at(8, 10), at(12)))

    # when
    slots = find(clinic, provider=provider, step_minutes=20, limit=4)

    # then the grid starts at opening, step_minutes apart, as aware datetimes in the installation's zone
    assert slots == [
        moment(MONDAY, 8, 10),
        moment(MONDAY, 8, 30),
        moment(MONDAY, 8, 50),
        moment(MONDAY, 9, 10),
    ]
    assert all(slot.tzinfo == RIYADH for slot in slots)
    # and the last slot ends at closing
    assert times(find(clinic, provider=provider, step_minutes=20, limit=50))[-1] == "Mon 10:50"


def test_find_free_slots_split_shift_keeps_the_days_grid_and_each_slot_inside_one_interval(clinic, provider):
    # given a split shift whose second half opens off the morning's 30-minute grid
    open_week(clinic, (at(8), at(10)), (at(13, 15), at(15)))

    # then the afternoon follows the grid from 08:00, and no slot spans the break
    assert times(find(clinic, provider=provider, step_minutes=30, limit=50)) == [
        "Mon 08:00",
        "Mon 08:30",
        "Mon 09:00",
        "Mon 13:30",
        "Mon 14:00",
    ]


def test_find_free_slots_follow_the_days_override_and_skip_a_closed_day(clinic, provider):
    # given Monday opens late by override and Tuesday is closed
    open_week(clinic, (at(8), at(10)))
    OpeningHoursOverride.objects.create(
        clinic=clinic, date=MONDAY, opens_at=at(12), closes_at=at(14), note="Ramadan"
    )
    OpeningHoursOverride.objects.create(clinic=clinic, date=TUESDAY, closed=True)

    # then
    slots = find(clinic, provider=provider, date_to=WEDNESDAY, step_minutes=60, limit=50)
    assert times(slots) == ["Mon 12:00", "Mon 13:00", "Wed 08:00", "Wed 09:00"]


def test_find_free_slots_skip_the_clinics_holidays(clinic, provider):
    # given Monday is a holiday
    open_week(clinic, (at(8), at(10)))
    ClinicHoliday.objects.create(clinic=clinic, date=MONDAY, name="Eid al-Fitr")

    # then
    assert times(find(clinic, provider=provider, date_to=TUESDAY, step_minutes=60)) == [
        "Tue 08:00",
        "Tue 09:00",
    ]


def test_find_free_slots_without_any_hours_search_the_default_day(clinic, provider, settings):
    # given neither the clinic nor the provider sets hours
    settings.SCHEDULE_DAY_START, settings.SCHEDULE_DAY_END = at(9), at(12)

    # then the day is the setting's, and a long slot still ends inside it
    assert times(find(clinic, provider=provider, step_minutes=60)) == ["Mon 09:00", "Mon 10:00", "Mon 11:00"]
    assert times(find(clinic, provider=provider, duration=180, step_minutes=60)) == ["Mon 09:00"]
    assert find(clinic, provider=provider, duration=240) == []


def test_find_free_slots_without_clinic_hours_start_at_the_working_hours(clinic, provider):
    # given a provider working two intervals on Mondays, starting off the quarter hour
    works(provider, clinic, MONDAY.weekday(), (at(9, 10), at(11, 10)), (at(14), at(15, 10)))

    # then
    assert times(find(clinic, provider=provider, step_minutes=30, limit=50)) == [
        "Mon 09:10",
        "Mon 09:40",
        "Mon 10:10",
        "Mon 14:10",
    ]


def test_find_free_slots_inside_both_the_clinics_hours_and_the_working_hours(clinic, provider):
    # given a clinic open 08:00-16:00 and a provider working 07:00-09:00 and 12:00-18:00
    open_week(clinic, (at(8), at(16)))
    works(provider, clinic, MONDAY.weekday(), (at(7), at(9)), (at(12), at(18)))

    # then
    assert times(find(clinic, provider=provider, step_minutes=60, limit=50)) == [
        "Mon 08:00",
        "Mon 12:00",
        "Mon 13:00",
        "Mon 14:00",
        "Mon 15:00",
    ]


def test_find_free_slots_a_provider_with_hours_elsewhere_only_is_never_free_here(clinic, provider):
    # given the provider works Mondays at another clinic only
    other = ClinicFactory(tenant=clinic.tenant)
    works(provider, other, MONDAY.weekday(), (at(8), at(12)))

    # then
    assert find(clinic, provider=provider) == []


def test_find_free_slots_skip_the_providers_leave(clinic, provider):
    # given leave from 09:30 to 11:00 on Monday
    open_week(clinic, (at(8), at(13)))
    ProviderLeave.objects.create(
        provider=provider, starts_at=moment(MONDAY, 9, 30), ends_at=moment(MONDAY, 11), reason="Training"
    )

    # then no slot overlaps it; touching its edges is fine
    assert times(find(clinic, provider=provider, step_minutes=30, limit=50)) == [
        "Mon 08:00",
        "Mon 08:30",
        "Mon 11:00",
        "Mon 11:30",
        "Mon 12:00",
    ]


def test_find_free_slots_skip_the_providers_sessions_and_appointments_but_not_cancelled_ones(
    clinic, provider
):
    # given a session at 09:00 and a legacy appointment at 11:00; a cancelled session at 08:00
    open_week(clinic, (at(8), at(13)))
    group(provider, clinic, MONDAY, at(9))
    AppointmentService.book_appointment(
        patient=PatientFactory(tenant=clinic.tenant),
        provider=provider,
        clinic=clinic,
        scheduled_date=MONDAY,
        scheduled_time=at(11),
        duration=30,
        service_type="Individual Therapy",
    )
    SessionService.cancel_session(group(provider, clinic, MONDAY, at(8)), "Provider unwell")

    # then
    assert times(find(clinic, provider=provider, step_minutes=30, limit=50)) == [
        "Mon 08:00",
        "Mon 10:00",
        "Mon 11:30",
        "Mon 12:00",
    ]


def test_find_free_slots_a_session_running_past_midnight_blocks_the_next_morning(clinic, provider):
    # given a session from 23:00 on Sunday until 01:00 on Monday, and the provider working Monday 00:00-03:00
    group(provider, clinic, SUNDAY, at(23), duration=120)
    works(provider, clinic, MONDAY.weekday(), (at(0), at(3)))

    # then
    assert times(find(clinic, provider=provider, step_minutes=60)) == ["Mon 01:00", "Mon 02:00"]


def test_find_free_slots_skip_the_rooms_bookings_and_each_patients(clinic, provider):
    # given the room taken at 08:00 by a colleague, a child at 09:00 elsewhere and another at 10:00
    open_week(clinic, (at(8), at(12)))
    room = RoomFactory(clinic=clinic)
    colleague = ProviderFactory(clinic=clinic)
    group(colleague, clinic, MONDAY, at(8), room=room)
    sara, omar = PatientFactory(tenant=clinic.tenant), PatientFactory(tenant=clinic.tenant)
    SessionService.add_patient_to_session(group(colleague, clinic, MONDAY, at(9)), sara)
    AppointmentService.book_appointment(
        patient=omar,
        provider=colleague,
        clinic=clinic,
        scheduled_date=MONDAY,
        scheduled_time=at(10),
        duration=60,
        service_type="Individual Therapy",
    )

    # then each constraint counts only when asked for
    assert times(find(clinic, provider=provider, step_minutes=60)) == [
        "Mon 08:00",
        "Mon 09:00",
        "Mon 10:00",
        "Mon 11:00",
    ]
    assert times(find(clinic, provider=provider, room=room, step_minutes=60)) == [
        "Mon 09:00",
        "Mon 10:00",
        "Mon 11:00",
    ]
    assert times(find(clinic, provider=provider, room=room, patients=[sara, omar], step_minutes=60)) == [
        "Mon 11:00"
    ]


def test_find_free_slots_a_cancelled_participation_frees_the_child(clinic, provider):
    open_week(clinic, (at(8), at(10)))
    sara = PatientFactory(tenant=clinic.tenant)
    colleague = ProviderFactory(clinic=clinic)
    participant = SessionService.add_patient_to_session(group(colleague, clinic, MONDAY, at(8)), sara)
    assert times(find(clinic, provider=provider, patients=[sara], step_minutes=60)) == ["Mon 09:00"]

    # when
    SessionService.cancel_participant(participant, "Family travelling")

    # then
    assert times(find(clinic, provider=provider, patients=[sara], step_minutes=60)) == [
        "Mon 08:00",
        "Mon 09:00",
    ]


def test_find_free_slots_any_provider_of_the_clinic_who_is_free(clinic, provider):
    # given the provider busy at 08:00 and a colleague busy at 09:00; an inactive one and an OT are free
    open_week(clinic, (at(8), at(11)))
    colleague = ProviderFactory(clinic=clinic)
    group(provider, clinic, MONDAY, at(8))
    group(colleague, clinic, MONDAY, at(9))
    group(provider, clinic, MONDAY, at(10))
    group(colleague, clinic, MONDAY, at(10))
    ProviderFactory(clinic=clinic, is_active=False)

    # then 08:00 and 09:00 have someone free, 10:00 nobody
    assert times(find(clinic, step_minutes=60)) == ["Mon 08:00", "Mon 09:00"]
    # and a specialty nobody of the clinic has finds nothing
    assert find(clinic, specialty=Clinic.Specialty.OT) == []
    assert times(find(clinic, specialty=Clinic.Specialty.PSYCHOLOGY, step_minutes=60)) == [
        "Mon 08:00",
        "Mon 09:00",
    ]


def test_find_free_slots_never_in_the_past(clinic, provider):
    # given it is 10:00 on Sunday
    open_week(clinic, (at(8), at(12)))

    # then today's slots start at 10:00, and a range in the past finds nothing
    assert times(find(clinic, provider=provider, date_from=SUNDAY, step_minutes=30, limit=3)) == [
        "Sun 10:00",
        "Sun 10:30",
        "Sun 11:00",
    ]
    assert (
        find(
            clinic,
            provider=provider,
            date_from=SUNDAY - datetime.timedelta(days=7),
            date_to=SUNDAY - datetime.timedelta(days=1),
        )
        == []
    )


def test_find_free_slots_stop_at_the_limit_earliest_first(clinic, provider):
    open_week(clinic, (at(8), at(10)))

    slots = find(clinic, provider=provider, date_to=WEDNESDAY, step_minutes=60, limit=3)

    assert times(slots) == ["Mon 08:00", "Mon 09:00", "Tue 08:00"]
    assert find(clinic, provider=provider, limit=0) == []


def test_find_free_slots_on_a_clock_change_day_skip_the_missing_hour(clinic, provider, settings):
    # given Europe/Berlin, whose clocks go forward from 02:00 to 03:00 on 29/03/2026
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    spring_forward = datetime.date(2026, 3, 29)
    works(provider, clinic, spring_forward.weekday(), (at(0), at(5)))

    # when
    with time_machine.travel(datetime.datetime(2026, 3, 28, 12, tzinfo=berlin), tick=False):
        slots = find(
            clinic, provider=provider, date_from=spring_forward, date_to=spring_forward, step_minutes=60
        )

    # then no slot starts or ends inside the missing hour
    assert [f"{slot:%H:%M}" for slot in slots] == ["00:00", "03:00", "04:00"]
    assert all(slot.tzinfo == berlin for slot in slots)


def test_find_free_slots_refuse_what_booking_refuses(clinic, provider):
    other_clinic = ClinicFactory(tenant=clinic.tenant)
    with pytest.raises(OutOfScope, match="Duration must be between 15 and 480 minutes"):
        find(clinic, provider=provider, duration=10)
    with pytest.raises(OutOfScope, match="does not work in"):
        find(other_clinic, provider=provider)
    with pytest.raises(OutOfScope, match="is not in"):
        find(other_clinic, room=RoomFactory(clinic=clinic))
    with pytest.raises(ValueError, match="step_minutes"):
        find(clinic, provider=provider, step_minutes=0)


def _bookable(provider, clinic, room, patient, slot: datetime.datetime, duration: int) -> bool:
    """Whether the service books this slot, rolled back either way."""
    try:
        with transaction.atomic():
            SessionService.create_individual_session(
                provider=provider,
                clinic=clinic,
                patient=patient,
                scheduled_date=slot.date(),
                scheduled_time=slot.time(),
                duration=duration,
                service_type="Individual Therapy",
                room=room,
            )
            raise _RolledBack
    except _RolledBack:
        return True
    except SchedulingError:
        return False


class _RolledBack(Exception):
    pass


def test_find_free_slots_are_exactly_the_grid_points_the_service_books(clinic, provider):
    # given a week crowded by every rule at once
    open_week(clinic, (at(8), at(12)), (at(13), at(17)))
    OpeningHoursOverride.objects.create(clinic=clinic, date=TUESDAY, opens_at=at(10), closes_at=at(14))
    ClinicHoliday.objects.create(clinic=clinic, date=WEDNESDAY, name="Founding Day")
    for weekday in range(7):
        works(provider, clinic, weekday, (at(8, 30), at(11, 45)), (at(13), at(16)))
    ProviderLeave.objects.create(
        provider=provider, starts_at=moment(MONDAY, 14, 20), ends_at=moment(TUESDAY, 11), reason="Course"
    )
    room = RoomFactory(clinic=clinic)
    colleague = ProviderFactory(clinic=clinic)
    sara = PatientFactory(tenant=clinic.tenant)
    group(provider, clinic, SUNDAY, at(10, 45), duration=45)
    group(colleague, clinic, SUNDAY, at(13, 15), room=room)
    SessionService.add_patient_to_session(group(colleague, clinic, MONDAY, at(9), duration=30), sara)
    AppointmentService.book_appointment(
        patient=PatientFactory(tenant=clinic.tenant),
        provider=provider,
        clinic=clinic,
        scheduled_date=MONDAY,
        scheduled_time=at(11),
        duration=30,
        service_type="Individual Therapy",
    )
    duration, step = 45, 15

    # when
    found = set(
        SessionService.find_free_slots(
            clinic=clinic,
            duration=duration,
            date_from=SUNDAY,
            date_to=WEDNESDAY,
            provider=provider,
            room=room,
            patients=[sara],
            limit=1000,
            step_minutes=step,
        )
    )

    # then every grid point of the days from 08:00 books exactly when it was found (and from now on)
    assert found
    for day in (SUNDAY, MONDAY, TUESDAY, WEDNESDAY):
        for minutes in range(0, 9 * 60, step):
            slot = moment(day, 8) + datetime.timedelta(minutes=minutes)
            expected = slot in found
            if slot < moment(SUNDAY, 10):
                assert not expected, slot
                continue
            assert _bookable(provider, clinic, room, sara, slot, duration) == expected, slot


def _crowd(clinic, providers, room, patients, days: int) -> None:
    """Each day: a session of each provider (the first in the room), a legacy appointment of
    each patient, an hour of each provider's leave, and a holiday months later."""
    for offset in range(days):
        day = MONDAY + datetime.timedelta(days=offset)
        ClinicHoliday.objects.create(clinic=clinic, date=day + datetime.timedelta(days=100), name="Later")
        for index, provider in enumerate(providers):
            group(provider, clinic, day, at(9 + index), room=room if index == 0 else None)
            ProviderLeave.objects.create(
                provider=provider, starts_at=moment(day, 16), ends_at=moment(day, 17), reason="Errand"
            )
        for index, patient in enumerate(patients):
            AppointmentService.book_appointment(
                patient=patient,
                provider=providers[0],
                clinic=clinic,
                scheduled_date=day,
                scheduled_time=at(12 + index),
                duration=30,
                service_type="Individual Therapy",
            )


@pytest.mark.parametrize("days", [1, 6])
def test_find_free_slots_query_count_does_not_grow_with_days_or_bookings(
    clinic, provider, days, django_assert_num_queries
):
    # given a week of hours, and more days of bookings, leave and holidays in the larger world
    open_week(clinic, (at(8), at(18)))
    colleague = ProviderFactory(clinic=clinic)
    for someone in (provider, colleague):
        for weekday in range(7):
            works(someone, clinic, weekday, (at(8), at(17)))
    room = RoomFactory(clinic=clinic)
    patients = [PatientFactory(tenant=clinic.tenant), PatientFactory(tenant=clinic.tenant)]
    _crowd(clinic, [provider, colleague], room, patients, days)

    # then the search over the days runs the same queries however much there is
    with django_assert_num_queries(10):
        slots = SessionService.find_free_slots(
            clinic=clinic,
            duration=30,
            date_from=MONDAY,
            date_to=MONDAY + datetime.timedelta(days=days + 7),
            room=room,
            patients=patients,
            limit=500,
        )
    assert slots
