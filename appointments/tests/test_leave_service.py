"""Leave over existing bookings: ``leave_service.record_leave``, ``bookings_under_leave``, ``move_bookings``.

Dr Huda's Tuesday (17/03/2026, two days after the pinned Sunday) has a social-skills group
at 10:00 with two children, an individual session at 12:00 and a legacy appointment at
15:00. She is then off sick for the whole of Tuesday: leave is recorded over those
bookings, which are listed, and moved to her next free slots, to a colleague, or
cancelled, each on its own.
"""

import datetime
import zoneinfo

import pytest
from django.conf import settings

from appointments.appointment_service import AppointmentService
from appointments.exceptions import ConflictError
from appointments.leave_service import (
    LeaveError,
    MoveAction,
    MoveItem,
    bookings_under_leave,
    move_bookings,
    record_leave,
)
from appointments.models import Appointment, Session, SessionParticipant
from appointments.session_service import SessionService
from core.models import ProviderLeave, ProviderWorkingHours, User
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, RoomFactory, TenantFactory
from core.tests.view_helpers import staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TUESDAY = datetime.date(2026, 3, 17)
WEDNESDAY = datetime.date(2026, 3, 18)
ZONE = zoneinfo.ZoneInfo(settings.TIME_ZONE)
Status = SessionParticipant.Status


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def naive(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute))


def slot_of(booking: Session | Appointment) -> tuple:
    booking.refresh_from_db()
    return (booking.scheduled_date, booking.scheduled_time, booking.provider_id)


@pytest.fixture
def desk(tenant):
    return staff_member(tenant, User.Role.FRONT_DESK)


@pytest.fixture
def colleague(clinic):
    return ProviderFactory(clinic=clinic)


@pytest.fixture
def tuesday(provider, clinic, room):
    """Dr Huda's Tuesday: a group with two children (a third cancelled), a child's session, an appointment."""
    group = SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=TUESDAY,
        scheduled_time=datetime.time(10),
        duration=60,
        service_type="Social Skills Group",
        max_capacity=6,
        room=room,
    )
    children = [PatientFactory(tenant=clinic.tenant) for _ in range(3)]
    participants = [SessionService.add_patient_to_session(group, child) for child in children]
    SessionService.cancel_participant(participants[2], "Moved away")
    individual = SessionService.create_individual_session(
        provider=provider,
        clinic=clinic,
        patient=PatientFactory(tenant=clinic.tenant),
        scheduled_date=TUESDAY,
        scheduled_time=datetime.time(12),
        duration=60,
        service_type="Individual Therapy",
    )
    appointment = AppointmentService.book_appointment(
        patient=PatientFactory(tenant=clinic.tenant),
        provider=provider,
        clinic=clinic,
        scheduled_date=TUESDAY,
        scheduled_time=datetime.time(15),
        duration=45,
        service_type="Assessment",
    )
    return {"group": group, "children": children[:2], "individual": individual, "appointment": appointment}


@pytest.fixture
def sick_tuesday(provider, desk, tuesday):
    return record_leave(
        provider=provider,
        starts_at=at(TUESDAY, 0),
        ends_at=at(WEDNESDAY, 0),
        reason="Sick",
        user=desk,
    )


def listed(leave):
    return {booking.key: booking for booking in bookings_under_leave(leave)}


def items(leave, action, **chosen):
    return [MoveItem(booking, action, **chosen) for booking in bookings_under_leave(leave)]


# Recording leave


def test_record_leave_keeps_who_entered_it_in_its_history(provider, desk):
    leave = record_leave(
        provider=provider, starts_at=at(TUESDAY, 8), ends_at=at(TUESDAY, 12), reason="  Training  ", user=desk
    )

    assert (leave.provider, leave.reason, leave.created_by) == (provider, "Training", desk)
    assert [(row.history_type, row.history_user) for row in leave.history.all()] == [("+", desk)]


def test_record_leave_refuses_an_end_before_the_start_and_a_blank_reason_naming_both(provider, desk):
    with pytest.raises(LeaveError) as refused:
        record_leave(
            provider=provider, starts_at=at(TUESDAY, 12), ends_at=at(TUESDAY, 12), reason=" ", user=desk
        )

    assert refused.value.messages == ["The leave must end after it starts.", "Give a reason for the leave."]
    assert not ProviderLeave.objects.exists()


def test_record_leave_refuses_a_reason_longer_than_the_field(provider, desk):
    with pytest.raises(LeaveError, match="Keep the reason to 200 characters"):
        record_leave(
            provider=provider, starts_at=at(TUESDAY, 8), ends_at=at(TUESDAY, 9), reason="x" * 201, user=desk
        )


def test_record_leave_refuses_a_provider_of_another_organisation(desk):
    stranger = ProviderFactory(clinic=ClinicFactory(tenant=TenantFactory(code="OTHER")))

    with pytest.raises(LeaveError, match="That provider is not in your organisation."):
        record_leave(
            provider=stranger, starts_at=at(TUESDAY, 8), ends_at=at(TUESDAY, 9), reason="Sick", user=desk
        )

    assert not ProviderLeave.objects.exists()


# The bookings under a leave


def test_leave_over_bookings_lists_sessions_with_their_children_and_legacy_appointments(
    sick_tuesday, tuesday
):
    bookings = bookings_under_leave(sick_tuesday)

    assert [booking.booking for booking in bookings] == [
        tuesday["group"],
        tuesday["individual"],
        tuesday["appointment"],
    ]
    assert [booking.key for booking in bookings] == [
        f"session-{tuesday['group'].pk}",
        f"session-{tuesday['individual'].pk}",
        f"appointment-{tuesday['appointment'].pk}",
    ]
    # The cancelled child holds no seat: only the two children still booked.
    assert list(bookings[0].patients) == tuesday["children"]
    assert list(bookings[2].patients) == [tuesday["appointment"].patient]


def test_bookings_under_leave_are_those_overlapping_it_not_those_touching_it(provider, desk, tuesday):
    # 11:00-12:30: the group ends at 11:00 (touching), the individual session runs 12:00-13:00.
    leave = record_leave(
        provider=provider, starts_at=at(TUESDAY, 11), ends_at=at(TUESDAY, 12, 30), reason="Dentist", user=desk
    )

    assert [booking.booking for booking in bookings_under_leave(leave)] == [tuesday["individual"]]


def test_bookings_under_leave_leave_out_other_providers_and_closed_bookings(
    provider, clinic, colleague, desk, tuesday
):
    SessionService.cancel_session(tuesday["individual"], "Family holiday")
    AppointmentService.cancel(tuesday["appointment"], "Family holiday")
    SessionService.create_group_session(
        provider=colleague,
        clinic=clinic,
        scheduled_date=TUESDAY,
        scheduled_time=datetime.time(9),
        duration=60,
        service_type="Colleague's group",
        max_capacity=4,
    )
    leave = record_leave(
        provider=provider, starts_at=at(TUESDAY, 0), ends_at=at(WEDNESDAY, 0), reason="Sick", user=desk
    )

    assert [booking.booking for booking in bookings_under_leave(leave)] == [tuesday["group"]]


# Moving to the provider's next free slot


def test_bulk_move_to_next_free_slots_puts_each_booking_in_a_free_slot_after_the_leave(
    sick_tuesday, tuesday, provider
):
    numbers = sorted(tuesday["group"].participants.values_list("patient_id", "appointment_number", "status"))
    appointment_number = tuesday["appointment"].appointment_number

    results = move_bookings(
        sick_tuesday, items=items(sick_tuesday, MoveAction.NEXT_FREE), user=sick_tuesday.created_by
    )

    # Wednesday from 08:00 (no hours set: the finder's default day), one after the other.
    assert [(result.outcome, result.moved_to, result.provider) for result in results] == [
        ("moved", naive(WEDNESDAY, 8), provider),
        ("moved", naive(WEDNESDAY, 9), provider),
        ("moved", naive(WEDNESDAY, 10), provider),
    ]
    assert slot_of(tuesday["group"]) == (WEDNESDAY, datetime.time(8), provider.pk)
    assert slot_of(tuesday["individual"]) == (WEDNESDAY, datetime.time(9), provider.pk)
    assert slot_of(tuesday["appointment"]) == (WEDNESDAY, datetime.time(10), provider.pk)
    # Every child keeps their seat and number; the cancelled one stays cancelled.
    assert (
        sorted(tuesday["group"].participants.values_list("patient_id", "appointment_number", "status"))
        == numbers
    )
    assert tuesday["appointment"].appointment_number == appointment_number
    assert bookings_under_leave(sick_tuesday) == []


def test_move_to_next_free_slot_skips_times_a_child_is_booked_elsewhere(
    sick_tuesday, tuesday, clinic, colleague
):
    # One of the group's children sees another therapist first thing on Wednesday.
    SessionService.create_individual_session(
        provider=colleague,
        clinic=clinic,
        patient=tuesday["children"][0],
        scheduled_date=WEDNESDAY,
        scheduled_time=datetime.time(8),
        duration=90,
        service_type="Individual Therapy",
    )
    group = listed(sick_tuesday)[f"session-{tuesday['group'].pk}"]

    [result] = move_bookings(
        sick_tuesday, items=[MoveItem(group, MoveAction.NEXT_FREE)], user=sick_tuesday.created_by
    )

    assert result.moved_to == naive(WEDNESDAY, 9, 30)
    assert slot_of(tuesday["group"])[:2] == (WEDNESDAY, datetime.time(9, 30))


def test_move_to_next_free_slot_looks_past_a_long_leave(provider, desk, tuesday):
    leave = record_leave(
        provider=provider,
        starts_at=at(TUESDAY, 0),
        ends_at=at(TUESDAY + datetime.timedelta(days=40), 0),
        reason="Maternity leave",
        user=desk,
    )
    appointment = listed(leave)[f"appointment-{tuesday['appointment'].pk}"]

    [result] = move_bookings(leave, items=[MoveItem(appointment, MoveAction.NEXT_FREE)], user=desk)

    assert result.moved_to == naive(TUESDAY + datetime.timedelta(days=40), 8)


def test_move_to_next_free_slot_refused_when_the_provider_has_none(sick_tuesday, tuesday, provider):
    # Her working hours, set after the bookings, are at another clinic only: never here.
    ProviderWorkingHours.objects.create(
        provider=provider,
        clinic=ClinicFactory(tenant=provider.user.tenant),
        weekday=0,
        starts_at=datetime.time(8),
        ends_at=datetime.time(12),
    )
    appointment = listed(sick_tuesday)[f"appointment-{tuesday['appointment'].pk}"]

    [result] = move_bookings(
        sick_tuesday, items=[MoveItem(appointment, MoveAction.NEXT_FREE)], user=sick_tuesday.created_by
    )

    assert (result.outcome, result.errors) == (
        "refused",
        (f"{provider} has no free slot for this booking until 15/04/2026.",),
    )
    assert slot_of(tuesday["appointment"])[:2] == (TUESDAY, datetime.time(15))


# Moving to another provider


def test_move_to_another_provider_keeps_the_date_and_time_when_they_are_free(
    sick_tuesday, tuesday, colleague
):
    numbers = sorted(tuesday["group"].participants.values_list("appointment_number", flat=True))

    results = move_bookings(
        sick_tuesday,
        items=items(sick_tuesday, MoveAction.OTHER_PROVIDER, provider=colleague),
        user=sick_tuesday.created_by,
    )

    assert [(result.outcome, result.moved_to, result.provider) for result in results] == [
        ("moved", naive(TUESDAY, 10), colleague),
        ("moved", naive(TUESDAY, 12), colleague),
        ("moved", naive(TUESDAY, 15), colleague),
    ]
    assert slot_of(tuesday["group"]) == (TUESDAY, datetime.time(10), colleague.pk)
    assert slot_of(tuesday["appointment"]) == (TUESDAY, datetime.time(15), colleague.pk)
    assert sorted(tuesday["group"].participants.values_list("appointment_number", flat=True)) == numbers
    assert tuesday["group"].history.first().history_change_reason == "Provider on leave"


def test_move_to_another_provider_busy_then_takes_their_next_free_slot(
    sick_tuesday, tuesday, clinic, colleague
):
    SessionService.create_group_session(
        provider=colleague,
        clinic=clinic,
        scheduled_date=TUESDAY,
        scheduled_time=datetime.time(9, 30),
        duration=60,
        service_type="Colleague's group",
        max_capacity=4,
    )
    group = listed(sick_tuesday)[f"session-{tuesday['group'].pk}"]

    [result] = move_bookings(
        sick_tuesday,
        items=[MoveItem(group, MoveAction.OTHER_PROVIDER, provider=colleague)],
        user=sick_tuesday.created_by,
    )

    # 08:00-09:00 is free for the colleague, the room and both children.
    assert (result.outcome, result.moved_to, result.provider) == ("moved", naive(TUESDAY, 8), colleague)
    assert slot_of(tuesday["group"]) == (TUESDAY, datetime.time(8), colleague.pk)


def test_move_to_another_provider_refused_without_one_or_with_the_one_on_leave(
    sick_tuesday, tuesday, provider
):
    group = listed(sick_tuesday)[f"session-{tuesday['group'].pk}"]

    results = move_bookings(
        sick_tuesday,
        items=[
            MoveItem(group, MoveAction.OTHER_PROVIDER),
            MoveItem(group, MoveAction.OTHER_PROVIDER, provider=provider),
        ],
        user=sick_tuesday.created_by,
    )

    assert [result.errors for result in results] == [
        ("Choose the provider to move this booking to.",),
        ("Choose a provider other than the one on leave.",),
    ]


def test_move_to_a_provider_of_another_clinic_is_refused_naming_the_clinic(sick_tuesday, tuesday, clinic):
    elsewhere = ProviderFactory(clinic=ClinicFactory(tenant=clinic.tenant))
    appointment = listed(sick_tuesday)[f"appointment-{tuesday['appointment'].pk}"]

    [result] = move_bookings(
        sick_tuesday,
        items=[MoveItem(appointment, MoveAction.OTHER_PROVIDER, provider=elsewhere)],
        user=sick_tuesday.created_by,
    )

    assert result.errors == (f"{elsewhere} does not work in {clinic}.",)
    assert slot_of(tuesday["appointment"]) == (TUESDAY, datetime.time(15), tuesday["appointment"].provider_id)


# Cancelling


def test_cancel_cancels_sessions_as_the_provider_being_unavailable_and_appointments_with_the_reason(
    sick_tuesday, tuesday
):
    results = move_bookings(
        sick_tuesday,
        items=items(sick_tuesday, MoveAction.CANCEL, reason="Dr Huda is off sick"),
        user=sick_tuesday.created_by,
    )

    assert [result.outcome for result in results] == ["cancelled"] * 3
    group, appointment = tuesday["group"], tuesday["appointment"]
    group.refresh_from_db()
    appointment.refresh_from_db()
    assert (group.status, group.cancel_reason) == (Session.Status.CANCELLED, "Dr Huda is off sick")
    assert set(
        group.participants.filter(patient__in=tuesday["children"]).values_list(
            "status", "cancelled_by", "cancel_category", "billable"
        )
    ) == {(Status.CANCELLED, "clinic", "provider_unavailable", False)}
    assert (appointment.status, appointment.cancel_reason) == (
        Appointment.Status.CANCELLED,
        "Dr Huda is off sick",
    )
    assert bookings_under_leave(sick_tuesday) == []


# One at a time


def test_partial_failure_reports_each_booking_and_keeps_the_others(sick_tuesday, tuesday, colleague, clinic):
    booked = listed(sick_tuesday)
    not_here = ProviderFactory(clinic=ClinicFactory(tenant=clinic.tenant))

    results = move_bookings(
        sick_tuesday,
        items=[
            MoveItem(booked[f"session-{tuesday['group'].pk}"], MoveAction.NEXT_FREE),
            MoveItem(
                booked[f"session-{tuesday['individual'].pk}"], MoveAction.OTHER_PROVIDER, provider=not_here
            ),
            MoveItem(booked[f"appointment-{tuesday['appointment'].pk}"], MoveAction.CANCEL, reason=""),
        ],
        user=sick_tuesday.created_by,
    )

    assert [(result.outcome, result.errors) for result in results] == [
        ("moved", ()),
        ("refused", (f"{not_here} does not work in {clinic}.",)),
        ("refused", ("Give a reason for the cancellation.",)),
    ]
    assert slot_of(tuesday["group"])[:2] == (WEDNESDAY, datetime.time(8))
    assert slot_of(tuesday["individual"])[:2] == (TUESDAY, datetime.time(12))
    tuesday["appointment"].refresh_from_db()
    assert tuesday["appointment"].status == Appointment.Status.BOOKED
    assert [booking.booking for booking in bookings_under_leave(sick_tuesday)] == [
        tuesday["individual"],
        tuesday["appointment"],
    ]


def test_a_booking_no_longer_under_the_leave_is_refused(sick_tuesday, tuesday):
    group = listed(sick_tuesday)[f"session-{tuesday['group'].pk}"]
    move_bookings(sick_tuesday, items=[MoveItem(group, MoveAction.NEXT_FREE)], user=sick_tuesday.created_by)

    [again] = move_bookings(
        sick_tuesday, items=[MoveItem(group, MoveAction.CANCEL, reason="Sick")], user=sick_tuesday.created_by
    )

    assert (again.outcome, again.errors) == ("refused", ("This booking is no longer under this leave.",))
    tuesday["group"].refresh_from_db()
    assert tuesday["group"].status == Session.Status.SCHEDULED


def test_a_booking_of_another_leave_is_refused(sick_tuesday, tuesday, provider, desk):
    other = record_leave(
        provider=provider, starts_at=at(TUESDAY, 14), ends_at=at(TUESDAY, 18), reason="Training", user=desk
    )
    group = listed(sick_tuesday)[f"session-{tuesday['group'].pk}"]

    [result] = move_bookings(other, items=[MoveItem(group, MoveAction.CANCEL, reason="Training")], user=desk)

    assert result.errors == ("This booking is no longer under this leave.",)


def test_appointment_reschedule_to_another_provider_checks_their_bookings(tuesday, clinic, colleague):
    AppointmentService.book_appointment(
        patient=PatientFactory(tenant=clinic.tenant),
        provider=colleague,
        clinic=clinic,
        scheduled_date=TUESDAY,
        scheduled_time=datetime.time(15, 30),
        duration=30,
        service_type="Assessment",
    )
    appointment = tuesday["appointment"]

    with pytest.raises(ConflictError, match="already has a booking"):
        AppointmentService.reschedule(appointment, TUESDAY, datetime.time(15), provider=colleague)

    moved = AppointmentService.reschedule(
        appointment, TUESDAY, datetime.time(16), provider=colleague, room=RoomFactory(clinic=clinic)
    )
    assert (moved.provider, moved.scheduled_time) == (colleague, datetime.time(16))
