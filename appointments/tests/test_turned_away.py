"""Refused check-ins are recorded, and a child refused at a gate is turned away, never a no-show.

Through ``SessionService`` and the HTTP client: the record of each gate's refusal (and
none for the other refusals), that it outlives the refused check-in's transaction,
``mark_turned_away`` from the session page and the admin, ``complete_session``'s outcome,
and turned away shown as its own outcome on the session page, the day schedule, the
home page and the chart.
"""

import datetime
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from appointments.appointment_service import AppointmentService
from appointments.exceptions import CheckInBlocked, InvalidTransition
from appointments.models import CheckInRefusal, Session, SessionParticipant
from appointments.session_service import SessionService
from appointments.tests.factories import check_in, finance_clerk
from core import clock
from core.models import User
from core.tests.admin_helpers import admin_url, message_texts
from core.tests.factories import ConsentFactory, PatientFactory, TenantFactory
from core.tests.view_helpers import group_session, legacy_appointment, messages_of, staff_member

Status = SessionParticipant.Status
Gate = CheckInRefusal.Gate


def finance_message(participant: SessionParticipant) -> str:
    name = participant.patient.full_name_en
    return f"Finance clearance is missing for {name}: ask finance to clear the visit."


def no_consent_message(participant: SessionParticipant) -> str:
    return f"No valid consent on file for {participant.patient.full_name_en}."


def refused_check_in(participant: SessionParticipant, user: User | None = None) -> CheckInBlocked:
    with pytest.raises(CheckInBlocked) as refused:
        SessionService.check_in_participant(participant, user=user)
    return refused.value


def refusals_of(participant: SessionParticipant) -> list[tuple[str, str, int | None]]:
    return list(
        CheckInRefusal.objects.filter(participant=participant)
        .order_by("gate")
        .values_list("gate", "message", "refused_by")
    )


@pytest.fixture
def session(provider, clinic):
    return group_session(provider, clinic, capacity=2)


@pytest.fixture
def sara(session, tenant):
    """Booked, with a consent on file but no finance clearance: the finance gate refuses her."""
    patient = PatientFactory(tenant=tenant, first_name_en="Sara", last_name_en="Ali")
    ConsentFactory(patient=patient)
    return SessionService.add_patient_to_session(session, patient)


# The record of a refused check-in ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_today")
class TestRefusalIsRecorded:
    def test_finance_gate_refusal_records_who_when_which_gate_and_the_message(self, sara, desk_user):
        refused = refused_check_in(sara, user=desk_user)

        assert refused.messages == [finance_message(sara)]
        refusal = CheckInRefusal.objects.get()
        assert (refusal.participant, refusal.gate, refusal.message, refusal.refused_by) == (
            sara,
            Gate.FINANCE,
            finance_message(sara),
            desk_user,
        )
        assert abs(refusal.refused_at - clock.now()) < datetime.timedelta(minutes=1)
        sara.refresh_from_db()
        assert (sara.status, sara.arrived_at) == (Status.BOOKED, None)

    def test_consent_gate_refusal_is_recorded_as_the_consent_gate(self, session, tenant, desk_user):
        participant = SessionService.add_patient_to_session(session, PatientFactory(tenant=tenant))
        SessionService.clear_finance(participant, user=finance_clerk(tenant))

        refused_check_in(participant, user=desk_user)

        assert refusals_of(participant) == [(Gate.CONSENT, no_consent_message(participant), desk_user.pk)]

    def test_both_gates_refusing_records_one_row_per_gate(self, session, tenant):
        participant = SessionService.add_patient_to_session(session, PatientFactory(tenant=tenant))

        refused = refused_check_in(participant)

        assert refused.messages == [finance_message(participant), no_consent_message(participant)]
        assert refusals_of(participant) == [
            (Gate.CONSENT, no_consent_message(participant), None),
            (Gate.FINANCE, finance_message(participant), None),
        ]

    def test_each_refused_attempt_is_its_own_record(self, sara, desk_user):
        refused_check_in(sara, user=desk_user)
        refused_check_in(sara, user=desk_user)

        assert CheckInRefusal.objects.filter(participant=sara).count() == 2

    def test_check_in_before_the_session_day_is_refused_without_a_record(self, provider, clinic, tenant):
        tomorrow = clock.today() + datetime.timedelta(days=1)
        participant = SessionService.add_patient_to_session(
            group_session(provider, clinic, day=tomorrow), PatientFactory(tenant=tenant)
        )

        refused = refused_check_in(participant)

        assert refused.messages[0].startswith("Check-in opens on the day of the visit")
        assert not CheckInRefusal.objects.exists()

    def test_check_in_of_a_closed_session_is_refused_without_a_record(self, session, sara):
        SessionService.complete_session(session)

        refused = refused_check_in(sara)

        assert refused.messages == ["Check-in is closed: the session is completed."]
        assert not CheckInRefusal.objects.exists()

    def test_check_in_of_a_cancelled_booking_is_refused_without_a_record(self, sara):
        SessionService.cancel_participant(sara, "Family travelling")

        with pytest.raises(InvalidTransition):
            SessionService.check_in_participant(sara)

        assert not CheckInRefusal.objects.exists()

    def test_a_successful_check_in_records_nothing(self, sara, tenant):
        SessionService.clear_finance(sara, user=finance_clerk(tenant))

        SessionService.check_in_participant(sara)

        sara.refresh_from_db()
        assert sara.status == Status.ARRIVED
        assert not CheckInRefusal.objects.exists()

    def test_legacy_appointment_check_in_keeps_its_workflow_and_records_nothing(
        self, provider, clinic, tenant
    ):
        appointment = legacy_appointment(provider, clinic, PatientFactory(tenant=tenant))

        with pytest.raises(CheckInBlocked):
            AppointmentService.check_in(appointment)

        assert not CheckInRefusal.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("frozen_today")
def test_refusal_record_is_committed_though_the_check_in_is_refused(provider, clinic, tenant):
    """No test transaction around it: another connection sees the record once the refusal is raised."""
    participant = SessionService.add_patient_to_session(
        group_session(provider, clinic, capacity=2), PatientFactory(tenant=tenant)
    )

    with pytest.raises(CheckInBlocked):
        SessionService.check_in_participant(participant)

    seen: list[list[str]] = []

    def read_from_another_connection() -> None:
        try:
            seen.append(
                sorted(
                    CheckInRefusal.objects.filter(participant_id=participant.pk).values_list(
                        "gate", flat=True
                    )
                )
            )
        finally:
            connection.close()

    reader = threading.Thread(target=read_from_another_connection)
    reader.start()
    reader.join(timeout=60)
    assert seen == [[Gate.CONSENT, Gate.FINANCE]]
    participant.refresh_from_db()
    assert participant.status == Status.BOOKED


# Turned away during the day ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_today")
class TestMarkTurnedAway:
    def test_refused_child_is_turned_away_and_the_seat_freed(self, session, sara, tenant, desk_user):
        SessionService.add_patient_to_session(session, PatientFactory(tenant=tenant))
        assert Session.objects.get(pk=session.pk).is_full
        refused_check_in(sara, user=desk_user)

        SessionService.mark_turned_away(sara, user=desk_user)

        sara.refresh_from_db()
        assert sara.status == Status.TURNED_AWAY
        assert abs(sara.turned_away_at - clock.now()) < datetime.timedelta(minutes=1)
        assert (sara.no_show_at, sara.cancelled_at) == (None, None)
        assert Session.objects.get(pk=session.pk).current_capacity == 1
        latest = sara.history.latest()
        assert (latest.status, latest.history_user) == (Status.TURNED_AWAY, desk_user)
        # the freed seat takes another child
        assert (
            SessionService.add_patient_to_session(session, PatientFactory(tenant=tenant)).status
            == Status.BOOKED
        )

    def test_confirmed_child_refused_at_the_consent_gate_can_be_turned_away(self, session, tenant):
        participant = SessionService.add_patient_to_session(session, PatientFactory(tenant=tenant))
        SessionService.confirm_participant(participant)
        SessionService.clear_finance(participant, user=finance_clerk(tenant))
        refused_check_in(participant)

        assert SessionService.mark_turned_away(participant).status == Status.TURNED_AWAY

    def test_child_never_refused_is_not_turned_away(self, sara):
        with pytest.raises(InvalidTransition) as refused:
            SessionService.mark_turned_away(sara)

        assert refused.value.messages == [
            "Sara Ali was not refused at check-in for this session; only a child refused at a check-in "
            "gate can be marked turned away."
        ]
        sara.refresh_from_db()
        assert (sara.status, sara.turned_away_at) == (Status.BOOKED, None)

    def test_refusal_from_before_the_session_day_does_not_count(self, sara):
        # A refusal dated before the day (the session has moved to a later day since).
        CheckInRefusal.objects.create(
            participant=sara,
            gate=Gate.FINANCE,
            message="Finance clearance is missing.",
            refused_at=clock.now() - datetime.timedelta(days=1),
        )

        with pytest.raises(InvalidTransition):
            SessionService.mark_turned_away(sara)

    def test_child_let_in_after_a_refusal_is_not_turned_away(self, sara, tenant):
        refused_check_in(sara)
        SessionService.clear_finance(sara, user=finance_clerk(tenant))
        SessionService.check_in_participant(sara)

        with pytest.raises(InvalidTransition, match="from arrived to turned away"):
            SessionService.mark_turned_away(sara)

    def test_turned_away_twice_is_refused(self, sara):
        refused_check_in(sara)
        SessionService.mark_turned_away(sara)

        with pytest.raises(InvalidTransition, match="already turned away"):
            SessionService.mark_turned_away(sara)

    def test_closed_session_refuses_turning_away(self, session, sara):
        refused_check_in(sara)
        SessionService.complete_session(session)

        with pytest.raises(InvalidTransition, match="completed; it can no longer be changed"):
            SessionService.mark_turned_away(sara)

    def test_turned_away_child_is_no_longer_checked_in_cleared_or_cancelled(self, sara, tenant):
        refused_check_in(sara)
        SessionService.mark_turned_away(sara)

        with pytest.raises(InvalidTransition):
            SessionService.check_in_participant(sara)
        with pytest.raises(InvalidTransition):
            SessionService.clear_finance(sara, user=finance_clerk(tenant))
        with pytest.raises(InvalidTransition):
            SessionService.cancel_participant(sara, "Family travelling")
        assert CheckInRefusal.objects.filter(participant=sara).count() == 1


# Turned away at the end ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_today")
class TestCompleteSession:
    def test_refused_never_arrived_becomes_turned_away_never_no_show(self, provider, clinic, tenant):
        session = group_session(provider, clinic, capacity=4)
        came, refused, absent, let_in = (
            SessionService.add_patient_to_session(session, PatientFactory(tenant=tenant)) for _ in range(4)
        )
        check_in(came)
        refused_check_in(refused)
        refused_check_in(let_in)
        check_in(let_in)  # cleared and let in after the refusal

        SessionService.complete_session(session)

        outcome = dict(session.participants.values_list("pk", "status"))
        assert outcome == {
            came.pk: Status.ATTENDED,
            refused.pk: Status.TURNED_AWAY,
            absent.pk: Status.NO_SHOW,
            let_in.pk: Status.ATTENDED,
        }
        refused.refresh_from_db()
        assert refused.turned_away_at is not None
        assert refused.no_show_at is None
        assert not refused.billable

    def test_refused_on_a_later_day_for_a_past_session_is_turned_away(self, provider, clinic, tenant):
        # Recording after the fact: yesterday's session, the check-in tried (and refused) today.
        yesterday = clock.today() - datetime.timedelta(days=1)
        session = group_session(provider, clinic, day=yesterday)
        participant = SessionService.add_patient_to_session(session, PatientFactory(tenant=tenant))
        refused_check_in(participant)

        SessionService.complete_session(session)

        participant.refresh_from_db()
        assert participant.status == Status.TURNED_AWAY

    def test_refusal_from_before_the_session_day_leaves_a_no_show(self, session, sara):
        CheckInRefusal.objects.create(
            participant=sara,
            gate=Gate.FINANCE,
            message="Finance clearance is missing.",
            refused_at=timezone.make_aware(
                datetime.datetime.combine(session.scheduled_date, datetime.time.min)
            )
            - datetime.timedelta(seconds=1),
        )

        SessionService.complete_session(session)

        sara.refresh_from_db()
        assert sara.status == Status.NO_SHOW


# Pages -------------------------------------------------------------------------------------------------


def turned_away_button(participant: SessionParticipant) -> str:
    return reverse("appointments:participant_turned_away", args=[participant.pk])


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_today")
class TestPages:
    @pytest.fixture
    def desk(self, client, desk_user):
        client.force_login(desk_user)
        return client

    def test_session_page_offers_turned_away_next_to_the_refused_child_only(
        self, desk, session, sara, tenant
    ):
        waiting = SessionService.add_patient_to_session(session, PatientFactory(tenant=tenant))
        refused_check_in(sara)

        html = desk.get(session.get_absolute_url()).content.decode()

        assert turned_away_button(sara) in html
        assert turned_away_button(waiting) not in html
        assert html.count("data-refused-at-check-in") == 1

    @pytest.mark.parametrize("role", [User.Role.FINANCE, User.Role.PSYCHOLOGIST])
    def test_session_page_offers_turned_away_to_the_front_desk_and_admins_only(
        self, client, tenant, session, sara, role
    ):
        refused_check_in(sara)
        client.force_login(staff_member(tenant, role))

        html = client.get(session.get_absolute_url()).content.decode()

        assert turned_away_button(sara) not in html

    def test_admin_sees_the_button(self, client, tenant, session, sara):
        refused_check_in(sara)
        client.force_login(staff_member(tenant, User.Role.ADMIN))

        assert turned_away_button(sara) in client.get(session.get_absolute_url()).content.decode()

    def test_front_desk_marks_turned_away_and_the_page_shows_it(self, desk, desk_user, session, sara):
        refused_check_in(sara)

        response = desk.post(turned_away_button(sara), follow=True)

        sara.refresh_from_db()
        assert sara.status == Status.TURNED_AWAY
        assert sara.history.latest().history_user == desk_user
        assert response.redirect_chain == [(session.get_absolute_url(), 302)]
        assert messages_of(response) == ["Sara Ali is marked as turned away; the seat is free."]
        html = response.content.decode()
        assert 'class="badge text-bg-danger" data-status="turned_away">Turned away</span>' in html
        assert "data-turned-away-at" in html
        assert turned_away_button(sara) not in html

    def test_turned_away_without_a_refusal_shows_why_and_changes_nothing(self, desk, sara):
        response = desk.post(turned_away_button(sara), follow=True)

        assert messages_of(response) == [
            "Sara Ali was not refused at check-in for this session; only a child refused at a check-in "
            "gate can be marked turned away."
        ]
        sara.refresh_from_db()
        assert sara.status == Status.BOOKED

    def test_a_clinician_may_not_mark_turned_away(self, client, provider, sara):
        refused_check_in(sara)
        client.force_login(provider.user)

        assert client.post(turned_away_button(sara)).status_code == 403
        sara.refresh_from_db()
        assert sara.status == Status.BOOKED

    def test_another_organisations_child_is_not_found(self, client, sara):
        refused_check_in(sara)
        client.force_login(staff_member(TenantFactory(code="OTHER"), User.Role.FRONT_DESK))

        assert client.post(turned_away_button(sara)).status_code == 404
        sara.refresh_from_db()
        assert sara.status == Status.BOOKED

    def test_chart_shows_turned_away_as_its_own_outcome(self, desk, sara):
        refused_check_in(sara)
        SessionService.mark_turned_away(sara)

        html = desk.get(reverse("core:patient_chart", args=[sara.patient.pk])).content.decode()

        assert 'class="badge text-bg-danger" data-status="turned_away">Turned away</span>' in html

    def test_day_schedule_and_home_count_the_turned_away(self, desk, session, sara):
        refused_check_in(sara)
        SessionService.mark_turned_away(sara)

        schedule = desk.get(reverse("appointments:schedule_by_provider")).content.decode()
        home = desk.get(reverse("home")).content.decode()

        assert 'data-turned-away="1"' in schedule
        assert '<div class="fs-3 fw-semibold" data-count="turned_away">1</div>' in home
        assert '<div class="fs-3 fw-semibold" data-count="no_show">0</div>' in home


# Admin ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_today")
class TestAdmin:
    def test_participant_page_lists_its_refused_check_ins(self, admin_client, sara):
        refused_check_in(sara)

        html = admin_client.get(admin_url(SessionParticipant, "change", sara.pk)).content.decode()

        assert "Refused check-ins" in html
        assert finance_message(sara) in html

    def test_refusal_admin_lists_and_shows_them_read_only(self, admin_client, sara):
        refused_check_in(sara)
        refusal = CheckInRefusal.objects.get()

        listing = admin_client.get(admin_url(CheckInRefusal, "changelist"))
        page = admin_client.get(admin_url(CheckInRefusal, "change", refusal.pk))

        assert listing.status_code == page.status_code == 200
        assert list(listing.context["cl"].result_list) == [refusal]
        assert admin_client.get(admin_url(CheckInRefusal, "add")).status_code == 403
        assert admin_client.post(admin_url(CheckInRefusal, "delete", refusal.pk)).status_code == 403
        assert CheckInRefusal.objects.filter(pk=refusal.pk).exists()

    def test_refusal_admin_keeps_to_the_organisation(self, client, sara):
        refused_check_in(sara)
        refusal = CheckInRefusal.objects.get()
        other_admin = staff_member(TenantFactory(code="OTHER"), User.Role.ADMIN, is_staff=True)
        client.force_login(other_admin)

        listing = client.get(admin_url(CheckInRefusal, "changelist"))

        assert list(listing.context["cl"].result_list) == []
        assert client.get(admin_url(CheckInRefusal, "change", refusal.pk)).status_code in (302, 404)

    def test_turned_away_action_goes_through_the_service(
        self, admin_client, admin_user, session, sara, tenant
    ):
        never_refused = SessionService.add_patient_to_session(session, PatientFactory(tenant=tenant))
        refused_check_in(sara)

        response = admin_client.post(
            admin_url(SessionParticipant, "changelist"),
            {"action": "mark_turned_away", "_selected_action": [str(sara.pk), str(never_refused.pk)]},
            follow=True,
        )

        assert message_texts(response) == [
            f"{never_refused}: {never_refused.patient.full_name_en} was not refused at check-in for this "
            "session; only a child refused at a check-in gate can be marked turned away.",
            "1 participant marked turned away.",
        ]
        sara.refresh_from_db()
        assert (sara.status, sara.history.latest().history_user) == (Status.TURNED_AWAY, admin_user)
