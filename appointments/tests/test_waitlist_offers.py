"""Clinics that offer a freed seat for a set time (``Clinic.WaitlistMode.OFFER``) instead of booking it.

An offered seat counts against capacity until the front desk accepts it for the family or it runs
out; a lapsed offer passes its seat to the next child - lazily when seats are read for a booking or
a joining child, and by ``manage.py expire_waitlist_offers`` from cron.
"""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction

from appointments.exceptions import CapacityError, ConflictError, InvalidTransition
from appointments.models import Session, SessionParticipant, WaitlistEntry
from appointments.selectors import sessions_visible_to
from appointments.session_service import SessionService
from appointments.tests.factories import GroupSessionFactory
from appointments.tests.test_waitlist import CANCEL_REASON, child, fill, group, statuses
from core import locks
from core.locks import LockOrderError
from core.models import Clinic, User
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = WaitlistEntry.Status
OFFER_HOURS = 24


@pytest.fixture
def clinic(tenant):
    return ClinicFactory(
        tenant=tenant, waitlist_mode=Clinic.WaitlistMode.OFFER, waitlist_offer_hours=OFFER_HOURS
    )


@pytest.fixture
def day(frozen_today):
    return frozen_today + datetime.timedelta(days=3)


@pytest.fixture
def full(provider, clinic, day):
    """A full group of three."""
    session = group(provider, clinic, day, seats=3)
    return session, fill(session)


@pytest.fixture
def offered(full, clinic):
    """A full group whose first booked child cancelled: the seat is offered to the first of two waiting."""
    session, booked = full
    first, second = (SessionService.add_to_waitlist(session, child(clinic)) for _ in range(2))
    SessionService.cancel_participant(booked[0], CANCEL_REASON)
    first.refresh_from_db()
    return session, first, second


def later(hours: float):
    """Travel ``hours`` on from the pinned clock (still ticking)."""
    return time_machine.travel(datetime.timedelta(hours=hours), tick=True)


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("expire_waitlist_offers", *args, stdout=out, verbosity=0)
    return out.getvalue().strip()


def test_freed_seat_is_offered_for_the_clinics_hours_and_counts_against_capacity(offered, frozen_today):
    session, first, second = offered

    assert statuses(first, second) == [Status.OFFERED, Status.WAITING]
    assert first.participant is None
    assert first.offer_expires_at - first.offered_at == datetime.timedelta(hours=OFFER_HOURS)
    assert Session.objects.get(pk=session.pk).current_capacity == 3
    assert sessions_visible_to(UserFactory(tenant=session.clinic.tenant)).get(pk=session.pk).is_full
    assert second.position == 1


def test_an_offered_seat_is_not_free_for_a_booking(offered, clinic):
    session, _first, _second = offered

    with pytest.raises(CapacityError, match="Session is full"):
        SessionService.add_patient_to_session(session, child(clinic))
    with pytest.raises(CapacityError, match="Capacity can't drop below the 3 seats already taken."):
        SessionService.change_capacity(session, 2)


def test_accept_waitlist_offer_books_the_child_and_the_family_knows(offered, tenant):
    session, first, second = offered
    desk = UserFactory(tenant=tenant, role=User.Role.FRONT_DESK)

    participant = SessionService.accept_waitlist_offer(first, user=desk)

    first.refresh_from_db()
    assert (participant.session, participant.patient, participant.status) == (
        session,
        first.patient,
        SessionParticipant.Status.BOOKED,
    )
    assert (first.status, first.participant, first.family_told_at is not None) == (
        Status.BOOKED,
        participant,
        True,
    )
    assert first.history.latest().history_user == desk
    assert statuses(second) == [Status.WAITING]
    assert Session.objects.get(pk=session.pk).current_capacity == 3


def test_accept_waitlist_offer_refuses_an_entry_still_waiting(offered):
    _session, _first, second = offered

    with pytest.raises(
        InvalidTransition, match="has no seat offered yet: they are number 1 on the waiting list"
    ):
        SessionService.accept_waitlist_offer(second)


def test_accept_waitlist_offer_refuses_a_child_booked_elsewhere_since(offered, clinic, day):
    session, first, _second = offered
    elsewhere = GroupSessionFactory(
        provider=ProviderFactory(clinic=clinic),
        clinic=clinic,
        scheduled_date=day,
        scheduled_time=datetime.time(11),
    )
    SessionService.add_patient_to_session(elsewhere, first.patient)

    with pytest.raises(ConflictError, match=f"{first.patient.full_name_en} is already booked"):
        SessionService.accept_waitlist_offer(first)

    assert statuses(first) == [Status.OFFERED]


def test_accept_waitlist_offer_after_it_ran_out_is_refused_and_the_seat_passes_on(offered):
    session, first, second = offered

    with (
        later(OFFER_HOURS + 1),
        pytest.raises(InvalidTransition, match="ran out at .*; the seat passed to the next"),
    ):
        SessionService.accept_waitlist_offer(first)

    assert statuses(first, second) == [Status.EXPIRED, Status.OFFERED]
    assert Session.objects.get(pk=session.pk).current_capacity == 3


def test_withdrawing_an_offer_passes_the_seat_to_the_next_child(offered):
    _session, first, second = offered

    SessionService.withdraw_from_waitlist(first, reason="Family declined")

    assert statuses(first, second) == [Status.WITHDRAWN, Status.OFFERED]
    assert first.history.latest().history_change_reason == "Family declined"


def test_a_lapsed_offer_passes_on_when_seats_are_read_for_a_booking(offered, clinic):
    session, first, second = offered

    with later(OFFER_HOURS + 1), pytest.raises(CapacityError, match="Session is full"):
        SessionService.add_patient_to_session(session, child(clinic))

    # The refused booking took its transaction with it; the next read expires the offer again.
    assert statuses(first, second) == [Status.OFFERED, Status.WAITING]


def test_a_lapsed_offer_without_a_next_child_frees_the_seat_for_the_booking(full, clinic):
    session, booked = full
    entry = SessionService.add_to_waitlist(session, child(clinic))
    SessionService.cancel_participant(booked[0], CANCEL_REASON)
    newcomer = child(clinic)

    with later(OFFER_HOURS + 1):
        participant = SessionService.add_patient_to_session(session, newcomer)

    assert participant.patient == newcomer
    assert statuses(entry) == [Status.EXPIRED]
    assert Session.objects.get(pk=session.pk).current_capacity == 3


def test_a_lapsed_offer_passes_on_when_a_child_joins_the_list(offered, clinic):
    session, first, second = offered
    joining = child(clinic)

    with later(OFFER_HOURS + 1):
        entry = SessionService.add_to_waitlist(session, joining)

    assert statuses(first, second) == [Status.EXPIRED, Status.OFFERED]
    assert (entry.status, entry.position) == (Status.WAITING, 1)


def test_expire_waitlist_offers_expires_lapsed_offers_and_offers_the_seat_to_the_next(offered):
    session, first, second = offered

    with later(OFFER_HOURS - 1):
        assert SessionService.expire_waitlist_offers() == 0
    with later(OFFER_HOURS + 1):
        assert SessionService.expire_waitlist_offers() == 1
        assert SessionService.expire_waitlist_offers() == 0

    second.refresh_from_db()
    assert statuses(first) == [Status.EXPIRED]
    assert second.status == Status.OFFERED
    assert second.offered_at > first.offer_expires_at


def test_expire_waitlist_offers_with_now_given(offered):
    _session, first, second = offered

    expired = SessionService.expire_waitlist_offers(first.offer_expires_at)

    assert expired == 1
    assert statuses(first, second) == [Status.EXPIRED, Status.OFFERED]


def test_expire_waitlist_offers_command_expires_and_a_second_run_does_nothing(offered):
    _session, first, second = offered

    with later(OFFER_HOURS + 1):
        first_run = run_command()
        second_run = run_command()

    assert first_run == "Expired 1 waiting-list offer in 1 session."
    assert second_run == "Expired 0 waiting-list offers in 0 sessions."
    assert statuses(first, second) == [Status.EXPIRED, Status.OFFERED]


def test_expire_waitlist_offers_command_dry_run_reports_and_writes_nothing(offered):
    _session, first, second = offered
    history_rows = WaitlistEntry.history.count()

    with later(OFFER_HOURS + 1):
        summary = run_command("--dry-run")

    assert summary == "Dry run, rolled back: 1 waiting-list offer in 1 session would expire."
    assert statuses(first, second) == [Status.OFFERED, Status.WAITING]
    assert WaitlistEntry.history.count() == history_rows


def test_expire_waitlist_offers_command_expires_an_offer_of_a_closed_session_without_passing_it_on(offered):
    session, first, second = offered
    SessionService.cancel_session(session, "Provider ill")

    with later(OFFER_HOURS + 1):
        run_command()

    assert statuses(first, second) == [Status.EXPIRED, Status.WAITING]


def test_the_next_child_who_does_not_fit_is_skipped_for_the_offer(full, clinic):
    session, booked = full
    no_consent = SessionService.add_to_waitlist(session, PatientFactory(tenant=clinic.tenant))
    fits = SessionService.add_to_waitlist(session, child(clinic))

    SessionService.cancel_participant(booked[0], CANCEL_REASON)

    assert statuses(no_consent, fits) == [Status.WAITING, Status.OFFERED]


def offered_twice(provider, clinic, frozen_today):
    """Two full groups on two days, each with a seat offered to a waiting child and nobody behind."""
    sessions = []
    for days in (3, 4):
        session = group(provider, clinic, frozen_today + datetime.timedelta(days=days), seats=3)
        booked = fill(session)
        SessionService.add_to_waitlist(session, child(clinic))
        SessionService.cancel_participant(booked[0], CANCEL_REASON)
        sessions.append(session)
    return sessions


def test_lock_patient_for_bookings_lets_one_transaction_book_a_child_past_lapsed_offers(
    provider, clinic, frozen_today
):
    sessions = offered_twice(provider, clinic, frozen_today)
    newcomer = child(clinic)

    with later(OFFER_HOURS + 1), transaction.atomic():
        locked = locks.lock_rows(Session.objects.filter(pk__in=[session.pk for session in sessions]))
        patient = SessionService.lock_patient_for_bookings(locked, newcomer)
        participants = [SessionService.add_patient_to_session(session, patient) for session in locked]

    assert [participant.patient for participant in participants] == [newcomer, newcomer]
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {Status.EXPIRED}


def test_booking_one_session_after_another_past_lapsed_offers_breaks_the_lock_order(
    provider, clinic, frozen_today
):
    sessions = offered_twice(provider, clinic, frozen_today)
    newcomer = child(clinic)

    with later(OFFER_HOURS + 1), transaction.atomic():
        first, second = locks.lock_rows(Session.objects.filter(pk__in=[session.pk for session in sessions]))
        SessionService.add_patient_to_session(first, newcomer)  # takes the patient and the counter
        with pytest.raises(LockOrderError):
            SessionService.add_patient_to_session(second, newcomer)
