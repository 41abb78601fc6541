"""Seats freed at the same moment: each goes to a different waiting child, never beyond capacity.

Real threads on their own connections, released together by a barrier (``threads.run_together``);
the data is committed first (``transaction=True``) so every thread sees it.
"""

import datetime
from collections import Counter

import pytest

from appointments.models import SessionParticipant, WaitlistEntry
from appointments.session_service import SessionService
from appointments.tests.factories import GroupSessionFactory
from appointments.tests.test_waitlist import child, fill
from appointments.tests.threads import run_together
from core.tests.factories import ProviderFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("frozen_today")]

Status = WaitlistEntry.Status


def session_of(provider, clinic, frozen_today, seats):
    return GroupSessionFactory(
        provider=provider,
        clinic=clinic,
        max_capacity=seats,
        scheduled_date=frozen_today + datetime.timedelta(days=1),
        scheduled_time=datetime.time(11),
    )


def cancel(participant):
    return lambda: SessionService.cancel_participant(participant, "Family cancelled")


def active(session):
    return session.participants.exclude(status__in=SessionParticipant.INACTIVE_STATUSES)


def test_two_cancellations_at_once_promote_two_different_children(provider, clinic, frozen_today):
    session = session_of(provider, clinic, frozen_today, seats=2)
    booked = fill(session)
    waiting = [SessionService.add_to_waitlist(session, child(clinic)) for _ in range(3)]

    outcomes = run_together([cancel(participant) for participant in booked])

    assert Counter(type(outcome).__name__ for outcome in outcomes) == {"SessionParticipant": 2}
    entries = list(WaitlistEntry.objects.filter(pk__in=[entry.pk for entry in waiting]).order_by("priority"))
    assert [entry.status for entry in entries] == [Status.BOOKED, Status.BOOKED, Status.WAITING]
    assert len({entry.participant_id for entry in entries[:2]}) == 2
    assert set(active(session).values_list("patient_id", flat=True)) == {
        entry.patient_id for entry in entries[:2]
    }
    assert entries[2].position == 1


def test_eight_cancellations_at_once_fill_eight_seats_from_the_list_with_gap_free_numbers(
    provider, clinic, frozen_today
):
    session = session_of(provider, clinic, frozen_today, seats=8)
    booked = fill(session)
    waiting = [SessionService.add_to_waitlist(session, child(clinic)) for _ in range(10)]

    outcomes = run_together([cancel(participant) for participant in booked])

    assert all(isinstance(outcome, SessionParticipant) for outcome in outcomes)
    statuses = Counter(WaitlistEntry.objects.filter(session=session).values_list("status", flat=True))
    assert statuses == {Status.BOOKED: 8, Status.WAITING: 2}
    promoted = set(
        WaitlistEntry.objects.filter(session=session, status=Status.BOOKED).values_list(
            "patient_id", flat=True
        )
    )
    assert promoted == {entry.patient_id for entry in waiting[:8]}
    assert active(session).count() == 8
    numbers = sorted(SessionParticipant.objects.values_list("appointment_number", flat=True))
    assert numbers == [f"APT-AGDAR-2026-{n:05d}" for n in range(1, 17)]


def test_a_child_waiting_for_two_sessions_at_the_same_time_is_booked_in_one_only(
    provider, clinic, frozen_today
):
    sessions = [session_of(ProviderFactory(clinic=clinic), clinic, frozen_today, seats=2) for _ in range(2)]
    booked = [fill(session) for session in sessions]
    both = child(clinic)
    for session in sessions:
        SessionService.add_to_waitlist(session, both)
    next_in_line = [SessionService.add_to_waitlist(session, child(clinic)) for session in sessions]

    outcomes = run_together([cancel(participants[0]) for participants in booked])

    assert all(isinstance(outcome, SessionParticipant) for outcome in outcomes)
    assert SessionParticipant.objects.filter(patient=both).count() == 1
    promoted_next = WaitlistEntry.objects.filter(
        pk__in=[entry.pk for entry in next_in_line], status=Status.BOOKED
    ).count()
    assert promoted_next == 1
    assert [active(session).count() for session in sessions] == [2, 2]
