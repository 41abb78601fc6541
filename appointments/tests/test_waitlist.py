"""The waiting list through ``SessionService``: joining it, its order, and automatic booking of a freed seat.

The clinics here keep the default setting (``Clinic.WaitlistMode.AUTO_BOOK``): a freed seat is
booked for the first waiting child who fits, in the transaction that freed it. Offers are in
``test_waitlist_offers.py``, simultaneous cancellations in ``test_waitlist_concurrency.py``.
"""

import datetime

import pytest

from appointments.exceptions import (
    CapacityError,
    CheckInBlocked,
    ConflictError,
    InvalidTransition,
    OutOfScope,
)
from appointments.models import Session, SessionParticipant, SessionSeries, WaitlistEntry
from appointments.session_service import SessionService
from appointments.tests.factories import GroupSessionFactory
from core.models import User
from core.tests.factories import ConsentFactory, PatientFactory, ProviderFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = WaitlistEntry.Status
CANCEL_REASON = "Family moved away"


def child(clinic, **fields):
    """A child of the clinic's organisation with a general consent on file."""
    patient = PatientFactory(tenant=clinic.tenant, **fields)
    ConsentFactory(patient=patient)
    return patient


def group(provider, clinic, day, *, seats=2, hour=11):
    return GroupSessionFactory(
        provider=provider,
        clinic=clinic,
        max_capacity=seats,
        scheduled_date=day,
        scheduled_time=datetime.time(hour),
    )


def fill(session):
    """Book a child into every free seat; their participations."""
    return [
        SessionService.add_patient_to_session(session, child(session.clinic))
        for _ in range(session.max_capacity - session.current_capacity)
    ]


@pytest.fixture
def day(frozen_today):
    return frozen_today + datetime.timedelta(days=2)


@pytest.fixture
def desk(tenant):
    return UserFactory(tenant=tenant, role=User.Role.FRONT_DESK)


@pytest.fixture
def full(provider, clinic, day):
    """A full group of two, and its two booked children."""
    session = group(provider, clinic, day)
    return session, fill(session)


def statuses(*entries):
    for entry in entries:
        entry.refresh_from_db()
    return [entry.status for entry in entries]


def active_patients(session):
    return set(
        session.participants.exclude(status__in=SessionParticipant.INACTIVE_STATUSES).values_list(
            "patient_id", flat=True
        )
    )


# Joining the list


def test_add_to_waitlist_returns_the_entry_last_in_line(full, clinic, desk):
    session, _booked = full
    first, second = child(clinic), child(clinic)

    one = SessionService.add_to_waitlist(session, first, user=desk)
    two = SessionService.add_to_waitlist(session, second, user=desk)

    assert (one.session, one.patient, one.status, one.position) == (session, first, Status.WAITING, 1)
    assert (two.session, two.patient, two.status, two.position) == (session, second, Status.WAITING, 2)
    assert two.priority > one.priority
    assert (two.added_by, two.history.get().history_user) == (desk, desk)


def test_add_to_waitlist_refuses_a_session_with_a_free_seat(provider, clinic, day):
    session = group(provider, clinic, day, seats=3)
    fill(session)
    SessionService.cancel_participant(session.participants.first(), CANCEL_REASON)

    with pytest.raises(CapacityError, match=r"^\['There is a free seat: book instead.'\]$"):
        SessionService.add_to_waitlist(session, child(clinic))

    assert not WaitlistEntry.objects.exists()


def test_add_to_waitlist_refuses_a_child_already_booked(full):
    session, booked = full
    patient = booked[0].patient

    with pytest.raises(ConflictError, match=f"{patient.full_name_en} is already booked in this session."):
        SessionService.add_to_waitlist(session, patient)


def test_add_to_waitlist_refuses_a_child_already_waiting(full, clinic):
    session, _booked = full
    patient = child(clinic)
    SessionService.add_to_waitlist(session, patient)

    with pytest.raises(
        ConflictError, match=f"{patient.full_name_en} is already on the waiting list for this session."
    ):
        SessionService.add_to_waitlist(session, patient)

    assert session.waitlist_entries.count() == 1


def test_add_to_waitlist_refuses_a_closed_session(full, clinic):
    session, _booked = full
    SessionService.cancel_session(session, "Provider ill")

    with pytest.raises(
        InvalidTransition,
        match="Only a scheduled or in-progress session has a waiting list; this one is cancelled.",
    ):
        SessionService.add_to_waitlist(session, child(clinic))


def test_add_to_waitlist_refuses_a_child_of_another_organisation(full):
    session, _booked = full
    stranger = PatientFactory(tenant=TenantFactory(code="OTHER"))

    with pytest.raises(OutOfScope, match="is registered with another organisation"):
        SessionService.add_to_waitlist(session, stranger)

    assert not WaitlistEntry.objects.exists()


def test_waitlist_position_counts_only_the_children_still_waiting(full, clinic):
    session, booked = full
    entries = [SessionService.add_to_waitlist(session, child(clinic)) for _ in range(3)]

    SessionService.withdraw_from_waitlist(entries[0], reason="Found another group")
    SessionService.cancel_participant(booked[0], CANCEL_REASON)  # the seat goes to entries[1]

    positions = [WaitlistEntry.objects.get(pk=entry.pk).position for entry in entries]
    assert positions == [None, None, 1]


# Promotion when a seat frees


def test_cancel_participant_books_the_first_waiting_child_in_the_same_transaction(full, clinic, desk):
    session, booked = full
    first, second = (SessionService.add_to_waitlist(session, child(clinic)) for _ in range(2))

    SessionService.cancel_participant(booked[0], CANCEL_REASON, user=desk)

    first.refresh_from_db()
    participant = first.participant
    assert statuses(first, second) == [Status.BOOKED, Status.WAITING]
    assert (participant.session, participant.patient, participant.status) == (
        session,
        first.patient,
        SessionParticipant.Status.BOOKED,
    )
    assert participant.appointment_number == "APT-AGDAR-2026-00003"
    assert first.resolved_at is not None
    assert first.family_told_at is None
    assert session.current_capacity == 2
    assert second.position == 1


def test_promotion_is_in_the_history_of_the_entry_and_participant_with_who_freed_the_seat(full, clinic, desk):
    session, booked = full
    entry = SessionService.add_to_waitlist(session, child(clinic))

    SessionService.cancel_participant(booked[0], CANCEL_REASON, user=desk)

    entry.refresh_from_db()
    versions = list(entry.history.order_by("history_id").values_list("status", "history_user"))
    assert versions == [(Status.WAITING, None), (Status.BOOKED, desk.pk)]
    created = entry.participant.history.get()
    assert (created.history_type, created.history_user, created.status) == ("+", desk, "booked")


def test_remove_patient_from_session_passes_the_seat_on(full, clinic):
    session, booked = full
    entry = SessionService.add_to_waitlist(session, child(clinic))

    SessionService.remove_patient_from_session(session, booked[1].patient, "Booked in error")

    assert statuses(entry) == [Status.BOOKED]
    assert entry.patient_id in active_patients(session)


def test_turned_away_child_frees_the_seat_for_the_waiting_child(provider, clinic, frozen_today):
    session = group(provider, clinic, frozen_today)
    booked = fill(session)
    entry = SessionService.add_to_waitlist(session, child(clinic))
    with pytest.raises(CheckInBlocked, match="Finance clearance is missing"):
        SessionService.check_in_participant(booked[0])  # not cleared: refused at the gate, recorded

    SessionService.mark_turned_away(booked[0])

    assert statuses(entry) == [Status.BOOKED]
    assert active_patients(session) == {booked[1].patient_id, entry.patient_id}


def test_raising_the_capacity_books_as_many_waiting_children_as_seats_added(full, clinic):
    session, _booked = full
    entries = [SessionService.add_to_waitlist(session, child(clinic)) for _ in range(4)]

    SessionService.change_capacity(session, 5)

    assert statuses(*entries) == [Status.BOOKED, Status.BOOKED, Status.BOOKED, Status.WAITING]
    assert Session.objects.get(pk=session.pk).current_capacity == 5
    assert entries[3].position == 1


def test_a_waiting_child_who_does_not_fit_is_skipped_and_keeps_their_place(full, clinic, provider, day):
    session, booked = full
    busy = child(clinic)
    elsewhere = GroupSessionFactory(
        provider=ProviderFactory(clinic=clinic),
        clinic=clinic,
        scheduled_date=day,
        scheduled_time=datetime.time(11, 30),
    )
    SessionService.add_patient_to_session(elsewhere, busy)  # overlaps the session's 11:00-12:00
    no_consent = PatientFactory(tenant=clinic.tenant)
    skipped_busy = SessionService.add_to_waitlist(session, busy)
    skipped_consent = SessionService.add_to_waitlist(session, no_consent)
    fits = SessionService.add_to_waitlist(session, child(clinic))

    SessionService.cancel_participant(booked[0], CANCEL_REASON)

    assert statuses(skipped_busy, skipped_consent, fits) == [Status.WAITING, Status.WAITING, Status.BOOKED]
    assert [skipped_busy.position, skipped_consent.position] == [1, 2]


def test_a_child_without_consent_fits_where_the_clinic_does_not_ask_for_one(full, clinic):
    session, booked = full
    clinic.requires_consent = False
    clinic.save()
    entry = SessionService.add_to_waitlist(session, PatientFactory(tenant=clinic.tenant))

    SessionService.cancel_participant(booked[0], CANCEL_REASON)

    assert statuses(entry) == [Status.BOOKED]


def test_nobody_who_fits_leaves_the_seat_free(full, clinic):
    session, booked = full
    entry = SessionService.add_to_waitlist(session, PatientFactory(tenant=clinic.tenant))  # no consent

    SessionService.cancel_participant(booked[0], CANCEL_REASON)

    assert statuses(entry) == [Status.WAITING]
    assert Session.objects.get(pk=session.pk).current_capacity == 1


def test_cancelling_the_whole_session_promotes_nobody(full, clinic):
    session, _booked = full
    entry = SessionService.add_to_waitlist(session, child(clinic))

    SessionService.cancel_session(session, "Provider ill")

    assert statuses(entry) == [Status.WAITING]
    assert SessionParticipant.objects.filter(patient=entry.patient).count() == 0


# Withdrawal, reordering and telling the family


def test_withdraw_from_waitlist_keeps_the_reason_in_the_history(full, clinic, desk):
    session, _booked = full
    entry = SessionService.add_to_waitlist(session, child(clinic))

    SessionService.withdraw_from_waitlist(entry, reason="Family found another group", user=desk)

    latest = entry.history.latest()
    assert (entry.status, latest.history_change_reason, latest.history_user) == (
        Status.WITHDRAWN,
        "Family found another group",
        desk,
    )
    with pytest.raises(InvalidTransition, match="no longer on the waiting list: the entry is withdrawn"):
        SessionService.withdraw_from_waitlist(entry)


def test_reorder_waitlist_moves_a_child_up_with_the_reason_in_the_history(full, clinic):
    session, _booked = full
    admin = UserFactory(tenant=clinic.tenant, role=User.Role.ADMIN)
    first, second, third = (SessionService.add_to_waitlist(session, child(clinic)) for _ in range(3))

    SessionService.reorder_waitlist(third, position=1, reason="Referral marked urgent", user=admin)

    order = list(session.waitlist_entries.order_by("priority", "pk").values_list("pk", flat=True))
    assert order == [third.pk, first.pk, second.pk]
    latest = third.history.latest()
    assert (latest.history_change_reason, latest.history_user) == ("Referral marked urgent", admin)
    assert first.history.count() == second.history.count() == 1  # only the moved child's row changed


def test_reorder_waitlist_between_two_children_and_to_the_end(full, clinic):
    session, _booked = full
    entries = [SessionService.add_to_waitlist(session, child(clinic)) for _ in range(4)]

    SessionService.reorder_waitlist(entries[0], position=3, reason="Family asked to wait", user=None)
    SessionService.reorder_waitlist(entries[1], position=4, reason="Family away a month", user=None)

    order = list(session.waitlist_entries.order_by("priority", "pk").values_list("pk", flat=True))
    assert order == [entries[2].pk, entries[0].pk, entries[3].pk, entries[1].pk]
    assert [WaitlistEntry.objects.get(pk=pk).position for pk in order] == [1, 2, 3, 4]


def test_reorder_waitlist_renumbers_when_there_is_no_room_between_two_children(full, clinic):
    session, _booked = full
    entries = [SessionService.add_to_waitlist(session, child(clinic)) for _ in range(3)]
    for _ in range(11):  # halving the gap of 1000 ten times leaves none
        SessionService.reorder_waitlist(
            WaitlistEntry.objects.get(pk=entries[2].pk), position=2, reason="Swap", user=None
        )
        SessionService.reorder_waitlist(
            WaitlistEntry.objects.get(pk=entries[1].pk), position=2, reason="Swap back", user=None
        )

    order = list(session.waitlist_entries.order_by("priority", "pk").values_list("pk", "priority"))
    assert [pk for pk, _priority in order] == [entries[0].pk, entries[1].pk, entries[2].pk]
    assert len({priority for _pk, priority in order}) == 3


@pytest.mark.parametrize(
    ("position", "reason", "message"),
    [
        (1, "  ", "Give a reason for changing the order of the waiting list."),
        (0, "Urgent", "Choose a position from 1 to 2."),
        (3, "Urgent", "Choose a position from 1 to 2."),
        (2, "Urgent", "is already number 2 on the waiting list."),
    ],
    ids=["no reason", "before the first", "after the last", "same place"],
)
def test_reorder_waitlist_refusals(full, clinic, position, reason, message):
    session, _booked = full
    SessionService.add_to_waitlist(session, child(clinic))
    second = SessionService.add_to_waitlist(session, child(clinic))

    with pytest.raises(InvalidTransition, match=message):
        SessionService.reorder_waitlist(second, position=position, reason=reason, user=None)

    assert second.history.count() == 1


def test_reorder_waitlist_refuses_a_child_no_longer_waiting(full, clinic):
    session, booked = full
    entry = SessionService.add_to_waitlist(session, child(clinic))
    SessionService.cancel_participant(booked[0], CANCEL_REASON)

    with pytest.raises(InvalidTransition, match="no longer on the waiting list: the entry is booked"):
        SessionService.reorder_waitlist(entry, position=1, reason="Urgent", user=None)


def test_mark_waitlist_family_told_records_once_and_only_for_a_promoted_child(full, clinic, desk):
    session, booked = full
    promoted = SessionService.add_to_waitlist(session, child(clinic))
    waiting = SessionService.add_to_waitlist(session, child(clinic))
    SessionService.cancel_participant(booked[0], CANCEL_REASON)

    SessionService.mark_waitlist_family_told(promoted, user=desk)
    told_at = promoted.family_told_at
    SessionService.mark_waitlist_family_told(promoted, user=desk)

    promoted.refresh_from_db()
    assert promoted.family_told_at == told_at is not None
    assert promoted.history.latest().history_user == desk
    with pytest.raises(InvalidTransition, match="was not booked from the waiting list"):
        SessionService.mark_waitlist_family_told(waiting)


# A series' waiting list


def series_of(provider, clinic, days, *, seats=2):
    """A group series whose sessions are on ``days`` (the series service is another unit's test)."""
    series = SessionSeries.objects.create(
        session_type=Session.SessionType.GROUP,
        provider=provider,
        clinic=clinic,
        service_type="Social Skills Group",
        start_date=days[0],
        scheduled_time=datetime.time(11),
        max_capacity=seats,
        occurrence_count=len(days),
    )
    sessions = [group(provider, clinic, day, seats=seats) for day in days]
    Session.objects.filter(pk__in=[session.pk for session in sessions]).update(series=series)
    return series, sessions


def test_add_to_series_waitlist_waits_for_every_remaining_full_session(provider, clinic, frozen_today, desk):
    days = [frozen_today + datetime.timedelta(days=7 * week) for week in range(-1, 4)]
    series, (past, this_week, later, free, booked_in) = series_of(provider, clinic, days)
    for session in (past, this_week, later, booked_in):
        fill(session)
    patient = child(clinic)
    SessionService.cancel_participant(booked_in.participants.first(), CANCEL_REASON)
    SessionService.add_patient_to_session(booked_in, patient)
    SessionService.add_to_waitlist(later, patient)

    entries = SessionService.add_to_series_waitlist(series, patient, user=desk)

    assert [(entry.session, entry.series, entry.status) for entry in entries] == [
        (this_week, series, Status.WAITING)
    ]
    assert entries.free_sessions == [free]
    assert not past.waitlist_entries.exists()


def test_add_to_series_waitlist_refuses_when_every_remaining_session_has_a_free_seat(
    provider, clinic, frozen_today
):
    days = [frozen_today + datetime.timedelta(days=7 * week) for week in (1, 2)]
    series, _sessions = series_of(provider, clinic, days)

    with pytest.raises(
        CapacityError, match="There is a free seat on 22/03/2026 11:00, 29/03/2026 11:00: book"
    ):
        SessionService.add_to_series_waitlist(series, child(clinic))

    assert not WaitlistEntry.objects.exists()


def test_add_to_series_waitlist_refuses_a_child_in_every_remaining_session(provider, clinic, frozen_today):
    days = [frozen_today + datetime.timedelta(days=7 * week) for week in (1, 2)]
    series, sessions = series_of(provider, clinic, days)
    patient = child(clinic)
    for session in sessions:
        SessionService.add_patient_to_session(session, patient)

    with pytest.raises(ConflictError, match="already booked or waiting in every remaining session"):
        SessionService.add_to_series_waitlist(series, patient)


def test_add_to_series_waitlist_refuses_a_series_with_nothing_left(provider, clinic, frozen_today):
    series, _sessions = series_of(provider, clinic, [frozen_today - datetime.timedelta(days=7)])

    with pytest.raises(InvalidTransition, match="This series has no sessions left to wait for."):
        SessionService.add_to_series_waitlist(series, child(clinic))


def test_add_to_series_waitlist_refuses_a_child_of_another_organisation(provider, clinic, frozen_today):
    series, _sessions = series_of(provider, clinic, [frozen_today + datetime.timedelta(days=7)])

    with pytest.raises(OutOfScope, match="is registered with another organisation"):
        SessionService.add_to_series_waitlist(series, PatientFactory(tenant=TenantFactory(code="OTHER")))


def test_a_series_waiting_child_is_booked_in_each_session_where_a_seat_frees(provider, clinic, frozen_today):
    days = [frozen_today + datetime.timedelta(days=7 * week) for week in (1, 2)]
    series, sessions = series_of(provider, clinic, days)
    booked = [fill(session) for session in sessions]
    patient = child(clinic)
    entries = SessionService.add_to_series_waitlist(series, patient)

    SessionService.cancel_participant(booked[1][0], CANCEL_REASON)

    assert statuses(*entries) == [Status.WAITING, Status.BOOKED]
    assert patient.pk in active_patients(sessions[1])
