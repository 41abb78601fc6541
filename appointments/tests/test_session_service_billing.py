"""Cancellations (who, category, late), billable flags, waivers and reviews through SessionService."""

import datetime

import pytest

from appointments.exceptions import InvalidTransition
from appointments.models import SessionParticipant
from appointments.session_service import SessionService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory, check_in
from core.models import User
from core.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = SessionParticipant.Status
CancelledBy = SessionParticipant.CancelledBy
CancelCategory = SessionParticipant.CancelCategory


@pytest.fixture
def finance(tenant):
    return UserFactory(tenant=tenant, role=User.Role.FINANCE)


@pytest.fixture
def desk(tenant):
    return UserFactory(tenant=tenant, role=User.Role.FRONT_DESK)


def booking_starting_in(provider, clinic, frozen_today, hours: int) -> SessionParticipant:
    """A booked child whose session starts ``hours`` after the pinned 10:00."""
    start = datetime.datetime.combine(frozen_today, datetime.time(10)) + datetime.timedelta(hours=hours)
    session = GroupSessionFactory(
        provider=provider, clinic=clinic, scheduled_date=start.date(), scheduled_time=start.time()
    )
    return ParticipantFactory(session=session)


@pytest.fixture
def participant(provider, clinic, frozen_today):
    return booking_starting_in(provider, clinic, frozen_today, hours=72)


def billing_state(participant: SessionParticipant) -> tuple:
    participant.refresh_from_db()
    return (
        participant.status,
        participant.cancelled_by,
        participant.cancel_category,
        participant.is_late_cancellation,
        participant.billable,
    )


# Cancelling one child


def test_cancel_participant_old_call_records_the_clinic_and_is_not_billable(participant, desk):
    SessionService.cancel_participant(participant, "Family travelling", desk)

    assert billing_state(participant) == (Status.CANCELLED, CancelledBy.CLINIC, "", False, False)
    assert participant.cancel_reason == "Family travelling"
    assert participant.history.latest().history_user == desk


def test_cancel_participant_by_the_family_23_hours_before_is_late_and_billable(
    provider, clinic, frozen_today
):
    participant = booking_starting_in(provider, clinic, frozen_today, hours=23)

    returned = SessionService.cancel_participant(
        participant, "Child ill", cancelled_by=CancelledBy.FAMILY, category=CancelCategory.ILLNESS
    )

    assert returned is participant
    assert (participant.is_late_cancellation, participant.billable) == (True, True)
    assert billing_state(participant) == (
        Status.CANCELLED,
        CancelledBy.FAMILY,
        CancelCategory.ILLNESS,
        True,
        True,
    )


def test_cancel_participant_by_the_family_25_hours_before_is_not_late(provider, clinic, frozen_today):
    participant = booking_starting_in(provider, clinic, frozen_today, hours=25)

    SessionService.cancel_participant(participant, "Travelling", cancelled_by=CancelledBy.FAMILY)

    assert billing_state(participant) == (Status.CANCELLED, CancelledBy.FAMILY, "", False, False)


def test_cancel_participant_by_the_family_follows_the_clinics_own_window(provider, clinic, frozen_today):
    clinic.late_cancellation_hours = 48
    clinic.save()
    participant = booking_starting_in(provider, clinic, frozen_today, hours=25)

    SessionService.cancel_participant(participant, "Travelling", cancelled_by=CancelledBy.FAMILY)

    assert billing_state(participant)[3:] == (True, True)


@pytest.mark.parametrize("who", [CancelledBy.PROVIDER, CancelledBy.CLINIC])
def test_cancel_participant_by_provider_or_clinic_an_hour_before_is_never_billable(
    provider, clinic, frozen_today, who
):
    participant = booking_starting_in(provider, clinic, frozen_today, hours=1)

    SessionService.cancel_participant(
        participant, "Therapist ill", cancelled_by=who, category=CancelCategory.PROVIDER_UNAVAILABLE
    )

    assert billing_state(participant) == (
        Status.CANCELLED,
        who,
        CancelCategory.PROVIDER_UNAVAILABLE,
        False,
        False,
    )


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ({"cancelled_by": "grandma"}, "Say who cancelled: the family, the clinic or the provider."),
        ({"category": "boredom"}, "Choose a cancellation category from the list."),
    ],
)
def test_cancel_participant_unknown_who_or_category_refused_and_nothing_changes(participant, kind, message):
    with pytest.raises(InvalidTransition) as refused:
        SessionService.cancel_participant(participant, "Why not", **kind)

    assert refused.value.messages == [message]
    assert billing_state(participant) == (Status.BOOKED, "", "", False, False)


# Cancelling the whole session


def test_cancel_session_records_the_clinic_for_every_child_never_billable(provider, clinic, frozen_today):
    first = booking_starting_in(provider, clinic, frozen_today, hours=2)
    session = first.session
    second = ParticipantFactory(session=session)
    SessionService.confirm_participant(second)

    SessionService.cancel_session(session, "Therapist ill")

    assert [billing_state(child) for child in (first, second)] == [
        (Status.CANCELLED, CancelledBy.CLINIC, CancelCategory.SESSION_CANCELLED, False, False)
    ] * 2


def test_cancel_session_with_a_category_gives_it_to_every_child(participant):
    SessionService.cancel_session(participant.session, "Storm", category=CancelCategory.WEATHER)

    assert billing_state(participant) == (
        Status.CANCELLED,
        CancelledBy.CLINIC,
        CancelCategory.WEATHER,
        False,
        False,
    )


def test_cancel_session_unknown_category_refused_and_nothing_changes(participant):
    with pytest.raises(InvalidTransition, match="Choose a cancellation category from the list."):
        SessionService.cancel_session(participant.session, "Storm", category="hail")

    participant.session.refresh_from_db()
    assert participant.session.status == "scheduled"
    assert billing_state(participant)[0] == Status.BOOKED


# No-shows


def test_mark_participant_no_show_is_billable(provider, clinic):
    participant = ParticipantFactory(session=GroupSessionFactory(provider=provider, clinic=clinic))

    SessionService.mark_participant_no_show(participant)

    assert (participant.billable, participant.billing_review_pending) == (True, False)
    assert billing_state(participant)[0::4] == (Status.NO_SHOW, True)


def test_complete_session_no_shows_are_billable_and_attended_are_not(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    came, missed = ParticipantFactory(session=session), ParticipantFactory(session=session)
    check_in(came)

    SessionService.complete_session(session)

    session.refresh_from_db()
    came.refresh_from_db()
    missed.refresh_from_db()
    assert session.auto_closed is False
    assert (came.status, came.billable) == (Status.ATTENDED, False)
    assert (missed.status, missed.billable, missed.billing_review_pending) == (Status.NO_SHOW, True, False)


def test_complete_session_auto_closed_no_shows_wait_for_review(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    missed = ParticipantFactory(session=session)

    SessionService.complete_session(session, auto_closed=True)

    session.refresh_from_db()
    missed.refresh_from_db()
    assert session.auto_closed is True
    assert (missed.status, missed.billable, missed.billing_review_pending) == (Status.NO_SHOW, False, True)


# Waivers


def no_show(provider, clinic) -> SessionParticipant:
    participant = ParticipantFactory(session=GroupSessionFactory(provider=provider, clinic=clinic))
    return SessionService.mark_participant_no_show(participant)


def test_waive_billing_records_who_when_and_why_and_history_keeps_it(provider, clinic, finance, frozen_today):
    participant = no_show(provider, clinic)

    returned = SessionService.waive_billing(participant, reason="  Car broke down  ", user=finance)

    assert returned is participant
    participant.refresh_from_db()
    assert participant.billable is False
    assert participant.billing_waived_by == finance
    assert participant.billing_waived_reason == "Car broke down"
    assert participant.billing_waived_at.date() == frozen_today
    latest, before = participant.history.order_by("-history_date", "-history_id")[:2]
    assert (latest.history_user, latest.billable, latest.billing_waived_reason) == (
        finance,
        False,
        "Car broke down",
    )
    assert (before.billable, before.billing_waived_reason) == (True, "")


@pytest.mark.parametrize("reason", ["", "   "])
def test_waive_billing_needs_a_reason(provider, clinic, finance, reason):
    participant = no_show(provider, clinic)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.waive_billing(participant, reason=reason, user=finance)

    assert refused.value.messages == ["Give a reason for waiving the charge."]
    participant.refresh_from_db()
    assert (participant.billable, participant.billing_waived_by) == (True, None)


def test_waive_billing_twice_refused(provider, clinic, finance):
    participant = no_show(provider, clinic)
    SessionService.waive_billing(participant, reason="First time", user=finance)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.waive_billing(participant, reason="Again", user=finance)

    child = f"{participant.patient.full_name_en} ({participant.appointment_number})"
    assert refused.value.messages == [f"The charge for {child} is already waived."]
    participant.refresh_from_db()
    assert participant.billing_waived_reason == "First time"


def test_waive_billing_of_a_booking_with_no_charge_refused(participant, finance):
    with pytest.raises(InvalidTransition) as refused:
        SessionService.waive_billing(participant, reason="Kind", user=finance)

    assert refused.value.messages == [
        f"{participant.patient.full_name_en} ({participant.appointment_number}) has no charge to waive."
    ]


def test_waive_billing_of_a_no_show_waiting_for_review_ends_the_review(provider, clinic, finance):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    participant = ParticipantFactory(session=session)
    SessionService.complete_session(session, auto_closed=True)

    SessionService.waive_billing(participant, reason="They had called", user=finance)

    participant.refresh_from_db()
    assert (participant.billable, participant.billing_review_pending) == (False, False)
    assert participant.billing_waived_by == finance


# Reviews of auto-closed no-shows


def test_confirm_billing_makes_the_reviewed_no_show_billable(provider, clinic, desk):
    session = GroupSessionFactory(provider=provider, clinic=clinic)
    participant = ParticipantFactory(session=session)
    SessionService.complete_session(session, auto_closed=True)

    returned = SessionService.confirm_billing(participant, user=desk)

    assert returned is participant
    participant.refresh_from_db()
    assert (participant.billable, participant.billing_review_pending) == (True, False)
    assert participant.history.latest().history_user == desk


def test_confirm_billing_of_a_no_show_not_waiting_for_review_refused(provider, clinic, desk):
    participant = no_show(provider, clinic)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.confirm_billing(participant, user=desk)

    child = f"{participant.patient.full_name_en} ({participant.appointment_number})"
    assert refused.value.messages == [f"{child} has no no-show waiting for review."]
