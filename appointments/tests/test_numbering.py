"""Appointment numbers: APT-<TENANT>-<YEAR>-<NNNNN>, one gap-free counter per tenant and year."""

import datetime
import re

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments.models import Appointment, AppointmentNumberCounter, SessionParticipant
from appointments.numbering import issue_appointment_number
from appointments.session_service import SessionService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory
from core.clock import today as clinic_today
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, TenantFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

DAY = datetime.date(2025, 11, 15)


class Rollback(Exception):
    """Raised inside a test transaction to undo a booking."""


def legacy(provider, clinic, hour, patient=None):
    # The seed's Example 1: a plain Appointment.objects.create(...).
    return Appointment.objects.create(
        patient=patient or PatientFactory(tenant=clinic.tenant),
        provider=provider,
        clinic=clinic,
        scheduled_date=DAY,
        scheduled_time=datetime.time(hour, 0),
        duration=60,
        service_type="Individual Therapy",
    )


def sequence_of(numbers):
    return [int(number.rsplit("-", 1)[1]) for number in numbers]


def test_numbering_format_is_apt_tenant_year_five_digits(provider, clinic):
    participant = ParticipantFactory(session=GroupSessionFactory(provider=provider, clinic=clinic))

    assert re.fullmatch(rf"APT-AGDAR-{clinic_today().year}-\d{{5}}", participant.appointment_number)
    assert participant.appointment_number.endswith("-00001")


def test_numbering_is_sequential_within_a_session(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)

    numbers = [ParticipantFactory(session=session).appointment_number for _ in range(3)]

    assert sequence_of(numbers) == [1, 2, 3]


def test_numbering_is_shared_by_appointments_and_participants(provider, clinic):
    session = GroupSessionFactory(
        provider=provider, clinic=clinic, scheduled_date=DAY, scheduled_time=datetime.time(8)
    )
    colleague = ProviderFactory(clinic=clinic)

    numbers = [
        legacy(colleague, clinic, 10).appointment_number,
        ParticipantFactory(session=session).appointment_number,
        legacy(colleague, clinic, 11).appointment_number,
        ParticipantFactory(session=session).appointment_number,
    ]

    assert sequence_of(numbers) == [1, 2, 3, 4]
    counter = AppointmentNumberCounter.objects.get(tenant=clinic.tenant, year=clinic_today().year)
    assert counter.last_number == 4


def test_numbering_separate_counter_per_tenant(provider, clinic):
    other_tenant = TenantFactory(code="NOOR", name_en="Noor Centre")
    other_clinic = ClinicFactory(tenant=other_tenant)
    other_session = GroupSessionFactory(clinic=other_clinic, provider=ProviderFactory(clinic=other_clinic))
    session = GroupSessionFactory(provider=provider, clinic=clinic)

    ours = [ParticipantFactory(session=session).appointment_number for _ in range(2)]
    theirs = ParticipantFactory(session=other_session).appointment_number

    year = clinic_today().year
    assert ours == [f"APT-AGDAR-{year}-00001", f"APT-AGDAR-{year}-00002"]
    assert theirs == f"APT-NOOR-{year}-00001"


def test_numbering_rolled_back_booking_returns_its_number(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    first = ParticipantFactory(session=session)

    colleague = ProviderFactory(clinic=clinic)

    # One booking per transaction: a second one would lock its provider or session
    # after the first one's counter, against core.locks' order.
    def book_then_fail(book):
        with transaction.atomic():
            book()
            raise Rollback

    for book in (lambda: ParticipantFactory(session=session), lambda: legacy(colleague, clinic, 10)):
        with pytest.raises(Rollback):
            book_then_fail(book)

    after = ParticipantFactory(session=session)
    assert sequence_of([first.appointment_number, after.appointment_number]) == [1, 2]


def test_numbering_refused_appointment_returns_its_number(provider, clinic):
    patient = PatientFactory(tenant=clinic.tenant)
    first = legacy(provider, clinic, 10, patient=patient)

    with pytest.raises(IntegrityError), transaction.atomic():
        legacy(ProviderFactory(clinic=clinic), clinic, 10, patient=patient)

    after = legacy(provider, clinic, 12)
    assert sequence_of([first.appointment_number, after.appointment_number]) == [1, 2]


def test_numbering_appointment_saved_again_after_a_refused_insert_draws_a_fresh_number(provider, clinic):
    patient = PatientFactory(tenant=clinic.tenant)
    first = legacy(provider, clinic, 10, patient=patient)
    clash = Appointment(
        patient=patient,
        provider=ProviderFactory(clinic=clinic),
        clinic=clinic,
        scheduled_date=DAY,
        scheduled_time=datetime.time(10, 30),
        duration=60,
        service_type="Individual Therapy",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clash.save()
    assert clash.appointment_number == ""

    clash.scheduled_time = datetime.time(12, 0)
    clash.save()
    after = legacy(provider, clinic, 14)

    numbers = [first.appointment_number, clash.appointment_number, after.appointment_number]
    assert sequence_of(numbers) == [1, 2, 3]


def test_numbering_cancelled_participation_keeps_its_number(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    cancelled = ParticipantFactory(session=session)
    SessionService.cancel_participant(cancelled, reason="Ill")

    rebooked = SessionService.add_patient_to_session(session, cancelled.patient)

    cancelled.refresh_from_db()
    assert sequence_of([cancelled.appointment_number, rebooked.appointment_number]) == [1, 2]


def test_numbering_appointment_keeps_its_number_on_later_saves(provider, clinic):
    appointment = legacy(provider, clinic, 10)
    number = appointment.appointment_number

    appointment.notes = "Prefers mornings"
    appointment.save()

    appointment.refresh_from_db()
    assert appointment.appointment_number == number
    assert AppointmentNumberCounter.objects.get().last_number == 1


def test_numbering_year_is_the_clinic_year_at_booking_time(provider, clinic):
    # 21:30 UTC on 31 December is 00:30 on 1 January in Riyadh.
    new_year_in_riyadh = datetime.datetime(2025, 12, 31, 21, 30, tzinfo=datetime.UTC)
    session = GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY)

    with time_machine.travel(new_year_in_riyadh, tick=False), timezone.override("UTC"):
        participant = ParticipantFactory(session=session)

    assert participant.appointment_number == "APT-AGDAR-2026-00001"


def test_numbering_new_year_starts_a_new_counter(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=DAY)
    with time_machine.travel(datetime.datetime(2025, 12, 31, 20, 0, tzinfo=datetime.UTC), tick=False):
        december = ParticipantFactory(session=session)
    with time_machine.travel(datetime.datetime(2025, 12, 31, 21, 0, tzinfo=datetime.UTC), tick=False):
        january = ParticipantFactory(session=session)

    assert [december.appointment_number, january.appointment_number] == [
        "APT-AGDAR-2025-00001",
        "APT-AGDAR-2026-00001",
    ]


@pytest.mark.parametrize("number", ["APT-AGDAR-2025-123", "apt-agdar-2025-00001", "AGDAR-2025-00001", ""])
def test_numbering_malformed_number_refused_by_the_database(provider, clinic, number):
    session = GroupSessionFactory(provider=provider, clinic=clinic)

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        SessionParticipant.objects.create(
            session=session, patient=PatientFactory(tenant=clinic.tenant), appointment_number=number
        )

    assert refused.value.__cause__.diag.constraint_name == "participant_number_format"


@pytest.mark.django_db(transaction=True)
def test_issue_appointment_number_outside_a_transaction_refused(tenant):
    with pytest.raises(RuntimeError, match="must run inside transaction.atomic"):
        issue_appointment_number(tenant)
