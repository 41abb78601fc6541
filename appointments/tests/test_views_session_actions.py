"""One-click POST actions on sessions and participants, through the HTTP client."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from appointments.models import Session, SessionParticipant
from appointments.session_service import SessionService
from core.models import Clinic, User
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory
from core.tests.view_helpers import booked, consented_patient, group_session, messages_of, staff_member, today

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
Status = SessionParticipant.Status


@pytest.fixture
def clinician(provider):
    """The session's own provider, signed in on a client of their own: the clinical actions are theirs."""
    client = Client()
    client.force_login(provider.user)
    return client


@pytest.fixture
def finance_user(tenant):
    return staff_member(tenant, User.Role.FINANCE)


@pytest.fixture
def session(provider, clinic):
    return group_session(provider, clinic, capacity=4)


@pytest.fixture
def sara(tenant):
    return consented_patient(tenant, first_name_en="Sara", last_name_en="Ali")


def post(client, name, pk, **data):
    return client.post(reverse(f"appointments:{name}", args=[pk]), data, follow=True)


def test_participant_confirm_confirms_and_returns_to_the_session(desk, session, sara):
    participant = booked(session, sara)

    response = post(desk, "participant_confirm", participant.pk)

    participant.refresh_from_db()
    assert participant.status == Status.CONFIRMED
    assert response.redirect_chain == [(session.get_absolute_url(), 302)]
    assert messages_of(response) == ["Sara Ali is confirmed."]


def test_participant_confirm_twice_shows_the_refusal_not_an_error_page(desk, session, sara):
    participant = booked(session, sara)
    post(desk, "participant_confirm", participant.pk)

    response = post(desk, "participant_confirm", participant.pk)

    assert response.status_code == 200
    assert messages_of(response) == ["This session participant is already confirmed."]


def test_participant_clear_finance_records_the_clerk(client, finance_user, session, sara):
    participant = booked(session, sara)
    client.force_login(finance_user)

    response = post(client, "participant_clear_finance", participant.pk)

    participant.refresh_from_db()
    assert participant.finance_cleared is True
    assert participant.finance_cleared_by == finance_user
    assert participant.history.latest().history_user == finance_user
    assert messages_of(response) == ["Sara Ali is cleared by finance."]


def test_participant_clear_finance_returns_to_the_work_queue_when_asked(client, finance_user, session, sara):
    participant = booked(session, sara)
    client.force_login(finance_user)

    response = client.post(
        reverse("appointments:participant_clear_finance", args=[participant.pk]), {"next": "/?tab=queue"}
    )

    assert response.url == "/?tab=queue"


def test_participant_action_ignores_a_next_url_off_the_site(client, finance_user, session, sara):
    participant = booked(session, sara)
    client.force_login(finance_user)

    response = client.post(
        reverse("appointments:participant_clear_finance", args=[participant.pk]),
        {"next": "https://evil.example/phish"},
    )

    assert response.url == session.get_absolute_url()


def test_participant_check_in_refused_for_missing_consent_shows_the_message(
    desk, tenant, session, finance_user
):
    patient = PatientFactory(tenant=tenant, first_name_en="Lina", last_name_en="Omar")
    participant = booked(session, patient)
    SessionService.clear_finance(participant, user=finance_user)

    response = post(desk, "participant_check_in", participant.pk)

    participant.refresh_from_db()
    assert participant.status == Status.BOOKED
    assert messages_of(response) == ["No valid consent on file for Lina Omar."]
    assert "No valid consent on file for Lina Omar." in response.content.decode()


def test_participant_check_in_refused_names_every_missing_item(desk, tenant, session):
    participant = booked(session, PatientFactory(tenant=tenant, first_name_en="Lina", last_name_en="Omar"))

    response = post(desk, "participant_check_in", participant.pk)

    assert messages_of(response) == [
        "Finance clearance is missing for Lina Omar: ask finance to clear the visit.",
        "No valid consent on file for Lina Omar.",
    ]


def test_participant_check_in_with_clearance_and_consent_arrives(desk, session, sara, finance_user):
    participant = booked(session, sara)
    SessionService.clear_finance(participant, user=finance_user)

    response = post(desk, "participant_check_in", participant.pk)

    participant.refresh_from_db()
    assert participant.status == Status.ARRIVED
    assert participant.consent_verified is True
    assert messages_of(response) == ["Sara Ali is checked in."]


def test_participant_check_in_before_the_day_explains_when_it_opens(desk, provider, clinic, sara):
    tomorrow = today() + datetime.timedelta(days=1)
    participant = booked(group_session(provider, clinic, day=tomorrow), sara)

    response = post(desk, "participant_check_in", participant.pk)

    assert messages_of(response) == [f"Check-in opens on the day of the visit ({tomorrow:%d/%m/%Y})."]


def test_participant_check_in_where_the_clinic_needs_no_gates(desk, tenant):
    clinic = ClinicFactory(tenant=tenant, requires_finance_clearance=False, requires_consent=False)
    session = group_session(ProviderFactory(clinic=clinic), clinic)
    participant = booked(session, PatientFactory(tenant=tenant))

    post(desk, "participant_check_in", participant.pk)

    participant.refresh_from_db()
    assert participant.status == Status.ARRIVED
    assert participant.consent_verified is False


def test_participant_attended_after_check_in(client, tenant, session, sara, finance_user):
    participant = booked(session, sara)
    SessionService.clear_finance(participant, user=finance_user)
    SessionService.check_in_participant(participant)
    client.force_login(staff_member(tenant, User.Role.PSYCHOLOGIST))

    response = post(client, "participant_attended", participant.pk)

    participant.refresh_from_db()
    assert participant.status == Status.ATTENDED
    assert messages_of(response) == ["Sara Ali attended."]


def test_participant_attended_before_check_in_is_refused(clinician, session, sara):
    participant = booked(session, sara)

    response = post(clinician, "participant_attended", participant.pk)

    assert messages_of(response) == ["Can't change this session participant from booked to attended."]


def test_participant_no_show_keeps_the_seat(clinician, session, sara):
    participant = booked(session, sara)

    response = post(clinician, "participant_no_show", participant.pk)

    participant.refresh_from_db()
    assert participant.status == Status.NO_SHOW
    assert session.current_capacity == 1
    assert messages_of(response) == ["Sara Ali is marked as no-show."]


def test_participant_cancel_needs_a_reason(desk, session, sara):
    participant = booked(session, sara)

    response = post(desk, "participant_cancel", participant.pk, reason="  ")

    participant.refresh_from_db()
    assert participant.status == Status.BOOKED
    assert messages_of(response) == ["Give a reason for the cancellation."]


def test_participant_cancel_with_a_reason_frees_the_seat(desk, session, sara):
    participant = booked(session, sara)

    response = post(desk, "participant_cancel", participant.pk, reason="Family travelling")

    participant.refresh_from_db()
    assert participant.status == Status.CANCELLED
    assert participant.cancel_reason == "Family travelling"
    assert session.current_capacity == 0
    assert messages_of(response) == ["The booking of Sara Ali is cancelled."]


def test_participant_action_unknown_id_is_404(desk):
    assert desk.post(reverse("appointments:participant_confirm", args=[424242])).status_code == 404


def test_participant_action_get_is_not_allowed(desk, session, sara):
    participant = booked(session, sara)

    assert desk.get(reverse("appointments:participant_confirm", args=[participant.pk])).status_code == 405


def test_session_start_then_complete_settles_every_participant(clinician, session, sara, finance_user):
    arrived = booked(session, sara)
    SessionService.clear_finance(arrived, user=finance_user)
    SessionService.check_in_participant(arrived)
    absent = booked(session)

    started = post(clinician, "session_start", session.pk)
    completed = post(clinician, "session_complete", session.pk)

    session.refresh_from_db()
    arrived.refresh_from_db()
    absent.refresh_from_db()
    assert messages_of(started) == ["Session started."]
    assert messages_of(completed) == ["Session completed: 1 attended, 1 no-show, 0 turned away."]
    assert session.status == Session.Status.COMPLETED
    assert (arrived.status, absent.status) == (Status.ATTENDED, Status.NO_SHOW)


def test_session_start_twice_is_refused_with_a_message(clinician, session):
    post(clinician, "session_start", session.pk)

    response = post(clinician, "session_start", session.pk)

    assert messages_of(response) == ["This session is already in progress."]


def test_session_cancel_needs_a_reason_and_then_cancels_everyone(desk, session, sara):
    participant = booked(session, sara)

    refused = post(desk, "session_cancel", session.pk)
    cancelled = post(desk, "session_cancel", session.pk, reason="Provider ill")

    session.refresh_from_db()
    participant.refresh_from_db()
    assert messages_of(refused) == ["Give a reason for the cancellation."]
    assert messages_of(cancelled) == ["Session cancelled."]
    assert session.status == Session.Status.CANCELLED
    assert participant.status == Status.CANCELLED
    assert "Provider ill" in cancelled.content.decode()


def test_session_capacity_change_and_its_refusals(desk, session):
    booked(session)
    booked(session)
    booked(session)

    changed = post(desk, "session_capacity", session.pk, max_capacity=6)
    too_low = post(desk, "session_capacity", session.pk, max_capacity=2)
    not_a_number = post(desk, "session_capacity", session.pk, max_capacity="lots")
    too_high = post(desk, "session_capacity", session.pk, max_capacity=21)

    session.refresh_from_db()
    assert session.max_capacity == 6
    assert messages_of(changed) == ["Capacity changed."]
    assert messages_of(too_low) == ["Capacity can't drop below the 3 seats already taken."]
    assert messages_of(not_a_number) == ["Capacity: Enter a whole number."]
    assert messages_of(too_high) == ["Capacity: Ensure this value is less than or equal to 20."]


def test_session_capacity_of_an_individual_session_stays_one(desk, tenant, clinic, provider):
    session = SessionService.create_individual_session(
        provider=provider,
        clinic=clinic,
        patient=consented_patient(tenant),
        scheduled_date=today(),
        scheduled_time=datetime.time(9, 0),
        duration=60,
        service_type="CBT",
    )

    response = post(desk, "session_capacity", session.pk, max_capacity=3)

    assert messages_of(response) == ["An individual session always has exactly one seat."]


def test_session_group_notes_saved_through_the_service_with_history(client, tenant, session):
    clinician = staff_member(tenant, User.Role.PSYCHOLOGIST)
    client.force_login(clinician)

    response = post(client, "session_group_notes", session.pk, group_notes="Turn-taking game went well")

    session.refresh_from_db()
    assert session.group_notes == "Turn-taking game went well"
    assert session.history.latest().history_user == clinician
    assert messages_of(response) == ["Group notes saved."]


def test_session_action_on_an_unknown_session_is_404(desk, clinician):
    assert desk.post(reverse("appointments:session_cancel", args=[777777])).status_code == 404
    assert clinician.post(reverse("appointments:session_start", args=[777777])).status_code == 404


def test_session_page_of_a_clinic_without_gates_shows_not_required_badges(desk, tenant):
    clinic = ClinicFactory(
        tenant=tenant, specialty=Clinic.Specialty.OT, requires_finance_clearance=False, requires_consent=False
    )
    session = group_session(ProviderFactory(clinic=clinic), clinic)
    booked(session, PatientFactory(tenant=tenant))

    html = desk.get(session.get_absolute_url()).content.decode()

    assert html.count('<span class="badge text-bg-light">Not required</span>') == 2


def test_cancel_reason_and_group_notes_that_the_database_cant_store_are_refused_politely(
    desk, clinician, session, sara
):
    participant = booked(session, sara)

    cancel = post(desk, "participant_cancel", participant.pk, reason="ill\x00")
    notes = post(clinician, "session_group_notes", session.pk, group_notes="\x00")

    participant.refresh_from_db()
    assert participant.status == Status.BOOKED
    assert messages_of(cancel) == ["Reason: Null characters are not allowed."]
    assert messages_of(notes) == ["Group notes: Null characters are not allowed."]
