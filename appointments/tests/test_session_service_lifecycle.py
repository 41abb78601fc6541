"""SessionService status changes of participants and sessions, with their history."""

import pytest

from appointments.exceptions import InvalidTransition
from appointments.models import Session, SessionParticipant
from appointments.session_service import SessionService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory, check_in, finance_clerk
from core.models import User
from core.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = SessionParticipant.Status


@pytest.fixture
def desk(tenant):
    return UserFactory(tenant=tenant, role=User.Role.FRONT_DESK)


@pytest.fixture
def session(provider, clinic):
    return GroupSessionFactory(provider=provider, clinic=clinic)


@pytest.fixture
def participant(session):
    return ParticipantFactory(session=session)


def history_of(instance):
    return list(instance.history.order_by("history_date").values_list("status", "history_user"))


# Participants


def test_confirm_participant_booked_to_confirmed(participant, desk):
    returned = SessionService.confirm_participant(participant, user=desk)

    assert returned is participant
    assert participant.status == Status.CONFIRMED
    assert participant.confirmed_at is not None
    participant.refresh_from_db()
    assert participant.status == Status.CONFIRMED
    assert history_of(participant) == [(Status.BOOKED, None), (Status.CONFIRMED, desk.pk)]


def test_confirm_participant_twice_raises_invalid_transition(participant):
    SessionService.confirm_participant(participant)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.confirm_participant(participant)

    assert refused.value.messages == ["This session participant is already confirmed."]


def test_confirm_participant_in_cancelled_session_refused(participant, session):
    SessionService.cancel_session(session, reason="Therapist ill")

    with pytest.raises(InvalidTransition) as refused:
        SessionService.confirm_participant(participant)

    assert refused.value.messages == ["The session is cancelled; it can no longer be changed."]


def test_mark_participant_attended_arrived_to_attended(participant, desk):
    check_in(participant)

    SessionService.mark_participant_attended(participant, user=desk)

    assert participant.status == Status.ATTENDED
    assert participant.attended_at is not None
    participant.refresh_from_db()
    assert participant.status == Status.ATTENDED
    assert participant.history.latest().history_user == desk


@pytest.mark.parametrize(("reach", "current"), [(None, "booked"), ("confirm", "confirmed")])
def test_mark_participant_attended_before_check_in_raises_invalid_transition(participant, reach, current):
    if reach == "confirm":
        SessionService.confirm_participant(participant)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.mark_participant_attended(participant)

    assert refused.value.messages == [f"Can't change this session participant from {current} to attended."]
    participant.refresh_from_db()
    assert participant.attended_at is None


def test_mark_participant_attended_after_completion_refused(participant, session):
    check_in(participant)
    SessionService.complete_session(session)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.mark_participant_attended(participant)

    assert refused.value.messages == ["The session is completed; it can no longer be changed."]


@pytest.mark.parametrize("confirm_first", [False, True])
def test_mark_participant_no_show_from_booked_or_confirmed(participant, desk, confirm_first):
    if confirm_first:
        SessionService.confirm_participant(participant)

    SessionService.mark_participant_no_show(participant, user=desk)

    participant.refresh_from_db()
    assert participant.status == Status.NO_SHOW
    assert participant.no_show_at is not None
    assert participant.history.latest().history_user == desk


def test_mark_participant_no_show_after_arrival_raises_invalid_transition(participant):
    check_in(participant)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.mark_participant_no_show(participant)

    assert refused.value.messages == ["Can't change this session participant from arrived to no-show."]


def test_mark_participant_no_show_twice_raises_invalid_transition(participant):
    SessionService.mark_participant_no_show(participant)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.mark_participant_no_show(participant)

    assert refused.value.messages == ["This session participant is already no-show."]


@pytest.mark.parametrize("confirm_first", [False, True])
def test_cancel_participant_from_booked_or_confirmed_keeps_reason(participant, desk, confirm_first):
    if confirm_first:
        SessionService.confirm_participant(participant)

    SessionService.cancel_participant(participant, reason="  Family travelling ", user=desk)

    participant.refresh_from_db()
    assert participant.status == Status.CANCELLED
    assert participant.cancel_reason == "Family travelling"
    assert participant.cancelled_at is not None
    assert participant.history.latest().history_user == desk


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_cancel_participant_without_reason_refused(participant, reason):
    with pytest.raises(InvalidTransition) as refused:
        SessionService.cancel_participant(participant, reason=reason)

    assert refused.value.messages == ["Give a reason for the cancellation."]
    participant.refresh_from_db()
    assert participant.status == Status.BOOKED


def test_cancel_participant_after_arrival_raises_invalid_transition(participant):
    check_in(participant)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.cancel_participant(participant, reason="Went home")

    assert refused.value.messages == ["Can't change this session participant from arrived to cancelled."]


def test_cancel_participant_twice_raises_invalid_transition(participant):
    SessionService.cancel_participant(participant, reason="Ill")

    with pytest.raises(InvalidTransition) as refused:
        SessionService.cancel_participant(participant, reason="Ill again")

    assert refused.value.messages == ["This session participant is already cancelled."]
    participant.refresh_from_db()
    assert participant.cancel_reason == "Ill"


def test_cancel_participant_after_no_show_raises_invalid_transition(participant):
    SessionService.mark_participant_no_show(participant)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.cancel_participant(participant, reason="Called later")

    assert refused.value.messages == ["Can't change this session participant from no-show to cancelled."]


def test_participant_full_journey_keeps_a_history_row_per_change_with_its_user(participant, tenant, desk):
    clerk = finance_clerk(tenant)
    SessionService.confirm_participant(participant, user=desk)
    SessionService.clear_finance(participant, user=clerk)
    check_in(participant, user=desk)
    SessionService.mark_participant_attended(participant, user=desk)

    assert history_of(participant) == [
        (Status.BOOKED, None),
        (Status.CONFIRMED, desk.pk),
        (Status.CONFIRMED, clerk.pk),
        (Status.ARRIVED, desk.pk),
        (Status.ATTENDED, desk.pk),
    ]


# Sessions


def test_start_session_scheduled_to_in_progress(session, desk):
    returned = SessionService.start_session(session, user=desk)

    assert returned is session
    assert session.status == Session.Status.IN_PROGRESS
    assert session.started_at is not None
    session.refresh_from_db()
    assert session.status == Session.Status.IN_PROGRESS
    assert history_of(session) == [(Session.Status.SCHEDULED, None), (Session.Status.IN_PROGRESS, desk.pk)]


def test_start_session_twice_raises_invalid_transition(session):
    SessionService.start_session(session)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.start_session(session)

    assert refused.value.messages == ["This session is already in progress."]


@pytest.mark.parametrize(("close", "current"), [("cancel", "cancelled"), ("complete", "completed")])
def test_start_session_closed_session_raises_invalid_transition(session, close, current):
    if close == "cancel":
        SessionService.cancel_session(session, reason="Holiday")
    else:
        SessionService.complete_session(session)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.start_session(session)

    assert refused.value.messages == [f"Can't change this session from {current} to in progress."]


def test_complete_session_settles_every_participant(session, desk):
    arrived, booked, confirmed, cancelled, attended, no_show = (
        ParticipantFactory(session=session) for _ in range(6)
    )
    check_in(arrived)
    SessionService.confirm_participant(confirmed)
    SessionService.cancel_participant(cancelled, reason="Ill")
    check_in(attended)
    SessionService.mark_participant_attended(attended)
    SessionService.mark_participant_no_show(no_show)
    before = {p.pk: p.history.count() for p in (cancelled, attended, no_show)}

    SessionService.complete_session(session, user=desk)

    statuses = dict(session.participants.values_list("pk", "status"))
    assert statuses == {
        arrived.pk: Status.ATTENDED,
        booked.pk: Status.NO_SHOW,
        confirmed.pk: Status.NO_SHOW,
        cancelled.pk: Status.CANCELLED,
        attended.pk: Status.ATTENDED,
        no_show.pk: Status.NO_SHOW,
    }
    assert session.status == Session.Status.COMPLETED
    assert session.completed_at is not None
    for changed in (arrived, booked, confirmed):
        assert changed.history.latest().history_user == desk
    assert {p.pk: p.history.count() for p in (cancelled, attended, no_show)} == before
    arrived.refresh_from_db()
    booked.refresh_from_db()
    assert arrived.attended_at is not None
    assert booked.no_show_at is not None


def test_complete_session_from_in_progress(session):
    SessionService.start_session(session)

    SessionService.complete_session(session)

    session.refresh_from_db()
    assert session.status == Session.Status.COMPLETED
    assert [status for status, _user in history_of(session)] == ["scheduled", "in_progress", "completed"]


def test_complete_session_twice_raises_invalid_transition(session):
    SessionService.complete_session(session)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.complete_session(session)

    assert refused.value.messages == ["This session is already completed."]


def test_complete_session_cancelled_session_raises_invalid_transition(session):
    SessionService.cancel_session(session, reason="Holiday")

    with pytest.raises(InvalidTransition) as refused:
        SessionService.complete_session(session)

    assert refused.value.messages == ["Can't change this session from cancelled to completed."]


def test_cancel_session_cancels_every_participant_still_expected(session, desk):
    booked, confirmed, arrived, earlier_cancelled = (ParticipantFactory(session=session) for _ in range(4))
    SessionService.confirm_participant(confirmed)
    check_in(arrived)
    SessionService.cancel_participant(earlier_cancelled, reason="Ill")

    SessionService.cancel_session(session, reason="Therapist ill", user=desk)

    assert session.status == Session.Status.CANCELLED
    assert session.cancel_reason == "Therapist ill"
    assert session.cancelled_at is not None
    reasons = dict(session.participants.values_list("pk", "cancel_reason"))
    assert reasons == {
        booked.pk: "Therapist ill",
        confirmed.pk: "Therapist ill",
        arrived.pk: "Therapist ill",
        earlier_cancelled.pk: "Ill",
    }
    assert set(session.participants.values_list("status", flat=True)) == {Status.CANCELLED}
    assert session.current_capacity == 0
    assert booked.history.latest().history_user == desk
    assert session.history.latest().history_user == desk


def test_cancel_session_without_reason_refused(session):
    with pytest.raises(InvalidTransition) as refused:
        SessionService.cancel_session(session, reason=" ")

    assert refused.value.messages == ["Give a reason for the cancellation."]
    session.refresh_from_db()
    assert session.status == Session.Status.SCHEDULED


def test_cancel_session_completed_session_raises_invalid_transition(session):
    SessionService.complete_session(session)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.cancel_session(session, reason="Too late")

    assert refused.value.messages == ["Can't change this session from completed to cancelled."]


def test_cancel_session_twice_raises_invalid_transition(session):
    SessionService.cancel_session(session, reason="Holiday")

    with pytest.raises(InvalidTransition) as refused:
        SessionService.cancel_session(session, reason="Holiday")

    assert refused.value.messages == ["This session is already cancelled."]


def test_update_group_notes_keeps_history(session, desk):
    SessionService.update_group_notes(session, "Turn-taking games went well.", user=desk)

    session.refresh_from_db()
    assert session.group_notes == "Turn-taking games went well."
    assert session.history.latest().history_user == desk
    assert session.history.latest().group_notes == "Turn-taking games went well."
