"""The legacy Appointment workflow: book, confirm, clear, check in, start, complete, cancel,
no-show, reschedule; and the seed's plain ``Appointment.objects.create``."""

import datetime
import re

import pytest
from django.db import transaction
from django.utils.formats import date_format

from appointments import overlaps
from appointments.appointment_service import AppointmentService
from appointments.exceptions import CheckInBlocked, ConflictError, InvalidTransition, OutOfScope
from appointments.models import Appointment
from appointments.tests.factories import AppointmentFactory, GroupSessionFactory, finance_clerk
from core import locks
from core.clock import today as clinic_today
from core.models import User
from core.tests.factories import (
    ClinicFactory,
    ConsentFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    TenantFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = Appointment.Status
DAY = datetime.date(2025, 11, 15)


def at(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


@pytest.fixture
def desk(tenant):
    return UserFactory(tenant=tenant, role=User.Role.FRONT_DESK)


@pytest.fixture
def clerk(tenant):
    return finance_clerk(tenant)


@pytest.fixture
def appointment(provider, clinic, desk):
    return AppointmentFactory(provider=provider, clinic=clinic, user=desk)


def book(provider, clinic, start, **extra):
    extra.setdefault("patient", PatientFactory(tenant=clinic.tenant))
    return AppointmentService.book_appointment(
        provider=provider,
        clinic=clinic,
        scheduled_date=extra.pop("scheduled_date", DAY),
        scheduled_time=start,
        duration=extra.pop("duration", 60),
        service_type="Individual Therapy",
        **extra,
    )


def arrive(appointment, clerk):
    ConsentFactory(patient=appointment.patient)
    AppointmentService.clear_finance(appointment, user=clerk)
    return AppointmentService.check_in(appointment)


def statuses(appointment):
    return list(appointment.history.order_by("history_date").values_list("status", "history_user"))


# Book


def test_book_appointment_assigns_a_number_and_records_the_booker(appointment, desk):
    appointment.refresh_from_db()
    assert re.fullmatch(rf"APT-AGDAR-{clinic_today().year}-00001", appointment.appointment_number)
    assert appointment.status == Status.BOOKED
    assert appointment.created_by == desk
    assert statuses(appointment) == [(Status.BOOKED, desk.pk)]


def test_book_appointment_patient_of_another_tenant_refused(provider, clinic):
    outsider = PatientFactory(tenant=TenantFactory(code="OTHER", name_en="Other Centre"))

    with pytest.raises(OutOfScope) as refused:
        book(provider, clinic, at(10), patient=outsider)

    assert refused.value.messages == [
        f"{outsider.full_name_en} is registered with another organisation and can't be booked here."
    ]
    assert not Appointment.objects.exists()


def test_book_appointment_provider_not_working_in_clinic_refused(clinic):
    elsewhere = ProviderFactory(clinic=ClinicFactory(tenant=clinic.tenant))

    with pytest.raises(OutOfScope) as refused:
        book(elsewhere, clinic, at(10))

    assert refused.value.messages == [f"{elsewhere} does not work in {clinic.name_en}."]


@pytest.mark.parametrize("duration", [14, 481])
def test_book_appointment_duration_out_of_range_refused(provider, clinic, duration):
    with pytest.raises(OutOfScope) as refused:
        book(provider, clinic, at(10), duration=duration)

    assert refused.value.messages == [f"Duration must be between 15 and 480 minutes (got {duration})."]


def test_book_appointment_provider_double_booking_refused(provider, clinic):
    book(provider, clinic, at(10))

    with pytest.raises(ConflictError) as refused:
        book(provider, clinic, at(10, 30))

    assert refused.value.messages == [f"{provider} already has a booking 15/11/2025 10:00-11:00."]
    assert Appointment.objects.count() == 1


def test_book_appointment_room_double_booking_refused(provider, clinic, room):
    book(provider, clinic, at(10), room=room)

    with pytest.raises(ConflictError) as refused:
        book(ProviderFactory(clinic=clinic), clinic, at(9, 15), room=room)

    assert refused.value.messages == [f"Room {room.name} is already booked 15/11/2025 10:00-11:00."]


def test_book_appointment_patient_double_booking_refused(provider, clinic):
    patient = PatientFactory(tenant=clinic.tenant)
    first = book(provider, clinic, at(10), patient=patient)

    with pytest.raises(ConflictError) as refused:
        book(ProviderFactory(clinic=clinic), clinic, at(10), patient=patient)

    assert refused.value.messages == [
        f"{patient.full_name_en} already has appointment {first.appointment_number} 15/11/2025 10:00-11:00."
    ]


def test_book_appointment_back_to_back_allowed(provider, clinic, room):
    patient = PatientFactory(tenant=clinic.tenant)
    book(provider, clinic, at(10), patient=patient, room=room)

    book(provider, clinic, at(11), patient=patient, room=room)

    assert Appointment.objects.count() == 2


# Confirm and finance


def test_confirm_booked_to_confirmed(appointment, desk):
    returned = AppointmentService.confirm(appointment, user=desk)

    assert returned is appointment
    assert appointment.status == Status.CONFIRMED
    assert appointment.confirmed_at is not None
    assert statuses(appointment) == [(Status.BOOKED, desk.pk), (Status.CONFIRMED, desk.pk)]


def test_confirm_twice_raises_invalid_transition(appointment):
    AppointmentService.confirm(appointment)

    with pytest.raises(InvalidTransition) as refused:
        AppointmentService.confirm(appointment)

    assert refused.value.messages == ["This appointment is already confirmed."]


def test_clear_finance_records_who_and_when_once(appointment, clerk, tenant):
    AppointmentService.clear_finance(appointment, user=clerk)
    AppointmentService.clear_finance(appointment, user=finance_clerk(tenant))

    appointment.refresh_from_db()
    assert appointment.finance_cleared
    assert appointment.finance_cleared_by == clerk
    assert appointment.finance_cleared_at is not None
    assert appointment.history.latest().history_user == clerk
    assert appointment.history.count() == 2


def test_clear_finance_cancelled_appointment_refused(appointment, clerk):
    AppointmentService.cancel(appointment, reason="Parent asked")

    with pytest.raises(InvalidTransition) as refused:
        AppointmentService.clear_finance(appointment, user=clerk)

    assert refused.value.messages == ["Finance can't clear an appointment that is cancelled."]


# Check-in


def test_check_in_refused_without_finance_clearance(appointment):
    ConsentFactory(patient=appointment.patient)

    with pytest.raises(CheckInBlocked) as refused:
        AppointmentService.check_in(appointment)

    name = appointment.patient.full_name_en
    assert refused.value.messages == [
        f"Finance clearance is missing for {name}: ask finance to clear the visit."
    ]


def test_check_in_refused_without_consent(appointment, clerk):
    AppointmentService.clear_finance(appointment, user=clerk)

    with pytest.raises(CheckInBlocked) as refused:
        AppointmentService.check_in(appointment)

    assert refused.value.messages == [f"No valid consent on file for {appointment.patient.full_name_en}."]


def test_check_in_both_missing_names_both(appointment):
    with pytest.raises(CheckInBlocked) as refused:
        AppointmentService.check_in(appointment)

    name = appointment.patient.full_name_en
    assert refused.value.messages == [
        f"Finance clearance is missing for {name}: ask finance to clear the visit.",
        f"No valid consent on file for {name}.",
    ]
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def test_check_in_accepted_with_finance_and_consent(appointment, clerk, desk):
    AppointmentService.confirm(appointment)
    ConsentFactory(patient=appointment.patient)
    AppointmentService.clear_finance(appointment, user=clerk)

    AppointmentService.check_in(appointment, user=desk)

    appointment.refresh_from_db()
    assert appointment.status == Status.ARRIVED
    assert appointment.arrived_at is not None
    assert appointment.consent_verified
    assert appointment.consent_verified_at is not None
    assert appointment.history.latest().history_user == desk


def test_check_in_refused_before_the_day(provider, clinic, clerk):
    tomorrow = clinic_today() + datetime.timedelta(days=1)
    appointment = AppointmentFactory(provider=provider, clinic=clinic, scheduled_date=tomorrow)
    ConsentFactory(patient=appointment.patient)
    AppointmentService.clear_finance(appointment, user=clerk)

    with pytest.raises(CheckInBlocked) as refused:
        AppointmentService.check_in(appointment)

    assert refused.value.messages == [
        f"Check-in opens on the day of the visit ({date_format(tomorrow, 'SHORT_DATE_FORMAT')})."
    ]


def test_check_in_clinic_without_requirements_checks_in_directly(tenant):
    open_clinic = ClinicFactory(tenant=tenant, requires_finance_clearance=False, requires_consent=False)
    appointment = AppointmentFactory(clinic=open_clinic, provider=ProviderFactory(clinic=open_clinic))

    AppointmentService.check_in(appointment)

    assert appointment.status == Status.ARRIVED
    assert not appointment.consent_verified


def test_check_in_twice_raises_invalid_transition(appointment, clerk):
    arrive(appointment, clerk)

    with pytest.raises(InvalidTransition) as refused:
        AppointmentService.check_in(appointment)

    assert refused.value.messages == [f"{appointment.patient.full_name_en} is already checked in."]


def test_check_in_cancelled_appointment_raises_invalid_transition(appointment):
    AppointmentService.cancel(appointment, reason="Parent asked")

    with pytest.raises(InvalidTransition) as refused:
        AppointmentService.check_in(appointment)

    assert refused.value.messages == [
        f"{appointment.patient.full_name_en} can't be checked in: the appointment is marked cancelled."
    ]


# Start and complete


def test_start_arrived_to_in_progress(appointment, clerk, desk):
    arrive(appointment, clerk)

    AppointmentService.start(appointment, user=desk)

    assert appointment.status == Status.IN_PROGRESS
    assert appointment.started_at is not None
    assert appointment.history.latest().history_user == desk


def test_start_before_check_in_raises_invalid_transition(appointment):
    with pytest.raises(InvalidTransition) as refused:
        AppointmentService.start(appointment)

    assert refused.value.messages == ["Can't change this appointment from booked to in progress."]


def test_complete_in_progress_to_completed(appointment, clerk, desk):
    arrive(appointment, clerk)
    AppointmentService.start(appointment)

    AppointmentService.complete(appointment, user=desk)

    appointment.refresh_from_db()
    assert appointment.status == Status.COMPLETED
    assert appointment.completed_at is not None
    assert [status for status, _user in statuses(appointment)] == [
        "booked",
        "booked",
        "arrived",
        "in_progress",
        "completed",
    ]


def test_complete_straight_from_arrived(appointment, clerk):
    arrive(appointment, clerk)

    AppointmentService.complete(appointment)

    assert appointment.status == Status.COMPLETED


def test_complete_before_check_in_raises_invalid_transition(appointment):
    with pytest.raises(InvalidTransition) as refused:
        AppointmentService.complete(appointment)

    assert refused.value.messages == ["Can't change this appointment from booked to completed."]


def test_complete_twice_raises_invalid_transition(appointment, clerk):
    arrive(appointment, clerk)
    AppointmentService.complete(appointment)

    with pytest.raises(InvalidTransition) as refused:
        AppointmentService.complete(appointment)

    assert refused.value.messages == ["This appointment is already completed."]


# Cancel and no-show


@pytest.mark.parametrize("confirm_first", [False, True])
def test_cancel_booked_or_confirmed_keeps_reason(appointment, desk, confirm_first):
    if confirm_first:
        AppointmentService.confirm(appointment)

    AppointmentService.cancel(appointment, reason=" Parent asked ", user=desk)

    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert appointment.cancel_reason == "Parent asked"
    assert appointment.cancelled_at is not None
    assert appointment.history.latest().history_user == desk


@pytest.mark.parametrize("reason", ["", "  ", None])
def test_cancel_without_reason_refused(appointment, reason):
    with pytest.raises(InvalidTransition) as refused:
        AppointmentService.cancel(appointment, reason=reason)

    assert refused.value.messages == ["Give a reason for the cancellation."]
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def test_cancel_after_arrival_raises_invalid_transition(appointment, clerk):
    arrive(appointment, clerk)

    with pytest.raises(InvalidTransition) as refused:
        AppointmentService.cancel(appointment, reason="Went home")

    assert refused.value.messages == ["Can't change this appointment from arrived to cancelled."]


def test_cancel_frees_the_slot(provider, clinic, room):
    patient = PatientFactory(tenant=clinic.tenant)
    cancelled = book(provider, clinic, at(10), patient=patient, room=room)
    AppointmentService.cancel(cancelled, reason="Parent asked")

    rebooked = book(provider, clinic, at(10), patient=patient, room=room)

    assert rebooked.appointment_number != cancelled.appointment_number


@pytest.mark.parametrize("confirm_first", [False, True])
def test_mark_no_show_booked_or_confirmed(appointment, desk, confirm_first):
    if confirm_first:
        AppointmentService.confirm(appointment)

    AppointmentService.mark_no_show(appointment, user=desk)

    appointment.refresh_from_db()
    assert appointment.status == Status.NO_SHOW
    assert appointment.no_show_at is not None
    assert appointment.history.latest().history_user == desk


def test_mark_no_show_after_arrival_raises_invalid_transition(appointment, clerk):
    arrive(appointment, clerk)

    with pytest.raises(InvalidTransition) as refused:
        AppointmentService.mark_no_show(appointment)

    assert refused.value.messages == ["Can't change this appointment from arrived to no-show."]


# Reschedule


def test_reschedule_keeps_the_number_and_asks_for_confirmation_again(provider, clinic, desk):
    appointment = book(provider, clinic, at(10))
    number = appointment.appointment_number
    AppointmentService.confirm(appointment)
    new_room = RoomFactory(clinic=clinic)

    AppointmentService.reschedule(
        appointment, DAY + datetime.timedelta(days=2), at(14), room=new_room, duration=45, user=desk
    )

    appointment.refresh_from_db()
    assert appointment.appointment_number == number
    assert (appointment.scheduled_date, appointment.scheduled_time) == (
        DAY + datetime.timedelta(days=2),
        at(14),
    )
    assert appointment.room == new_room
    assert appointment.duration == 45
    assert appointment.status == Status.BOOKED
    assert appointment.confirmed_at is None
    assert appointment.reschedule_count == 1
    assert appointment.history.latest().history_user == desk


def test_reschedule_overlapping_its_own_old_slot_allowed(provider, clinic):
    appointment = book(provider, clinic, at(10))

    AppointmentService.reschedule(appointment, DAY, at(10, 30))

    assert appointment.scheduled_time == at(10, 30)


def test_reschedule_frees_the_old_slot(provider, clinic):
    appointment = book(provider, clinic, at(10))
    AppointmentService.reschedule(appointment, DAY, at(15))

    taken_over = book(provider, clinic, at(10))

    assert taken_over.scheduled_time == at(10)


def test_reschedule_onto_another_appointment_of_the_provider_refused(provider, clinic):
    appointment = book(provider, clinic, at(10))
    book(provider, clinic, at(14))

    with pytest.raises(ConflictError) as refused:
        AppointmentService.reschedule(appointment, DAY, at(14, 30))

    assert refused.value.messages == [f"{provider} already has a booking 15/11/2025 14:00-15:00."]
    appointment.refresh_from_db()
    assert appointment.scheduled_time == at(10)
    assert appointment.reschedule_count == 0


def test_reschedule_onto_a_session_of_the_provider_refused(provider, clinic):
    appointment = book(provider, clinic, at(10))
    GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY, scheduled_time=at(14))

    with pytest.raises(ConflictError) as refused:
        AppointmentService.reschedule(appointment, DAY, at(13, 30))

    assert refused.value.messages == [f"{provider} already has a booking 15/11/2025 14:00-15:00."]


def test_reschedule_onto_another_booking_of_the_patient_refused(provider, clinic):
    patient = PatientFactory(tenant=clinic.tenant)
    appointment = book(provider, clinic, at(10), patient=patient)
    other = book(ProviderFactory(clinic=clinic), clinic, at(14), patient=patient)

    with pytest.raises(ConflictError) as refused:
        AppointmentService.reschedule(appointment, DAY, at(14))

    assert refused.value.messages == [
        f"{patient.full_name_en} already has appointment {other.appointment_number} 15/11/2025 14:00-15:00."
    ]


def test_reschedule_into_a_room_of_another_clinic_refused(provider, clinic):
    appointment = book(provider, clinic, at(10))
    elsewhere = RoomFactory(clinic=ClinicFactory(tenant=clinic.tenant), name="Gym")

    with pytest.raises(OutOfScope) as refused:
        AppointmentService.reschedule(appointment, DAY, at(12), room=elsewhere)

    assert refused.value.messages == [f"Room Gym is not in {clinic.name_en}."]


def test_reschedule_after_arrival_raises_invalid_transition(appointment, clerk):
    arrive(appointment, clerk)

    with pytest.raises(InvalidTransition) as refused:
        AppointmentService.reschedule(appointment, DAY, at(12))

    assert refused.value.messages == [
        "Only a booked or confirmed appointment can be rescheduled; this one is arrived."
    ]


def test_reschedule_locks_provider_both_rooms_appointment_then_patient(provider, clinic):
    low_room, high_room = RoomFactory(clinic=clinic), RoomFactory(clinic=clinic)
    appointment = book(provider, clinic, at(10), room=high_room)

    with transaction.atomic():
        AppointmentService.reschedule(appointment, DAY, at(12), room=low_room)
        held = locks.held_locks()

    assert held == [
        ("core.Provider", provider.pk),
        ("core.Room", low_room.pk),
        ("core.Room", high_room.pk),
        ("appointments.Appointment", appointment.pk),
        ("core.Patient", appointment.patient_id),
    ]


def test_reschedule_of_an_appointment_moved_meanwhile_refused(provider, clinic, monkeypatch):
    first_room, second_room = RoomFactory(clinic=clinic), RoomFactory(clinic=clinic)
    appointment = book(provider, clinic, at(10), room=first_room)
    lock_parties = overlaps.lock_parties

    def lock_parties_while_someone_moves_it(*args, **kwargs):
        lock_parties(*args, **kwargs)
        # Another front desk moved it between the read of its room and its lock.
        Appointment.objects.filter(pk=appointment.pk).update(room=second_room)

    monkeypatch.setattr(overlaps, "lock_parties", lock_parties_while_someone_moves_it)

    with pytest.raises(ConflictError) as refused:
        AppointmentService.reschedule(appointment, DAY, at(12))

    assert refused.value.messages == [
        "This appointment was changed while you were rescheduling it; reload it and try again."
    ]
    appointment.refresh_from_db()
    assert (appointment.room, appointment.scheduled_time, appointment.reschedule_count) == (
        first_room,
        at(10),
        0,
    )


# The seed's Example 1


def test_appointment_objects_create_as_in_seed_example_1_assigns_a_number(provider, clinic):
    patient = PatientFactory(tenant=clinic.tenant)

    appointment = Appointment.objects.create(
        patient=patient,
        provider=provider,
        clinic=clinic,
        scheduled_date=datetime.date(2025, 11, 15),
        scheduled_time=datetime.time(10, 0),
        duration=60,
        service_type="Individual Therapy",
    )

    appointment.refresh_from_db()
    assert appointment.appointment_number == f"APT-AGDAR-{clinic_today().year}-00001"
    assert appointment.status == Status.BOOKED
    assert appointment.history.count() == 1


def test_appointment_objects_create_then_the_workflow_runs_on_it(provider, clinic, clerk):
    appointment = Appointment.objects.create(
        patient=PatientFactory(tenant=clinic.tenant),
        provider=provider,
        clinic=clinic,
        scheduled_date=clinic_today(),
        scheduled_time=datetime.time(10, 0),
        duration=60,
        service_type="Individual Therapy",
    )

    AppointmentService.confirm(appointment)
    arrive(appointment, clerk)
    AppointmentService.complete(appointment)

    appointment.refresh_from_db()
    assert appointment.status == Status.COMPLETED
