"""Participant admin: the cancellation and billing fields, confirming and waiving through the service."""

import pytest

from appointments.models import SessionParticipant
from appointments.session_service import SessionService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory
from core.tests.admin_helpers import admin_url, message_texts, tenant_admin_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def staff_client(client, tenant):
    user = tenant_admin_staff(tenant)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def no_show(clinic, provider):
    participant = ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider))
    return SessionService.mark_participant_no_show(participant)


@pytest.fixture
def to_review(clinic, provider):
    session = GroupSessionFactory(clinic=clinic, provider=provider)
    participant = ParticipantFactory(session=session)
    SessionService.complete_session(session, auto_closed=True)
    participant.refresh_from_db()
    return participant


def run_action(client, action: str, participants, **data):
    return client.post(
        admin_url(SessionParticipant, "changelist"),
        {"action": action, "_selected_action": [str(p.pk) for p in participants], **data},
        follow=True,
    )


def test_participant_admin_page_shows_the_cancellation_and_billing_fields(staff_client, no_show):
    SessionService.waive_billing(no_show, reason="Hospital stay", user=staff_client.user)

    page = staff_client.get(admin_url(SessionParticipant, "change", no_show.pk)).content.decode()

    for label in ("Cancelled by", "Late cancellation", "Billable", "Billing to review", "Billing waived by"):
        assert label in page
    assert "Hospital stay" in page


def test_participant_admin_list_filters_by_billable(staff_client, no_show, to_review):
    response = staff_client.get(admin_url(SessionParticipant, "changelist"), {"billable__exact": "1"})

    assert list(response.context["cl"].result_list) == [no_show]


def test_participant_admin_waive_asks_for_a_reason_first(staff_client, no_show):
    response = run_action(staff_client, "waive_billing", [no_show])

    no_show.refresh_from_db()
    assert response.templates[0].name == "appointments/admin/participant_waive_billing.html"
    assert no_show.appointment_number in response.content.decode()
    assert (no_show.billable, no_show.billing_waived_at) == (True, None)


def test_participant_admin_waive_without_a_reason_shows_the_page_again(staff_client, no_show):
    response = run_action(staff_client, "waive_billing", [no_show], apply="1", reason="  ")

    no_show.refresh_from_db()
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    assert no_show.billable is True


def test_participant_admin_waive_with_a_reason_waives_each_and_reports_refusals(
    staff_client, no_show, to_review, clinic, provider
):
    nothing_owed = ParticipantFactory(session=GroupSessionFactory(clinic=clinic, provider=provider))

    response = run_action(
        staff_client, "waive_billing", [no_show, to_review, nothing_owed], apply="1", reason="Goodwill"
    )

    for participant in (no_show, to_review):
        participant.refresh_from_db()
        assert (participant.billable, participant.billing_review_pending) == (False, False)
        assert (participant.billing_waived_by, participant.billing_waived_reason) == (
            staff_client.user,
            "Goodwill",
        )
    child = f"{nothing_owed.patient.full_name_en} ({nothing_owed.appointment_number})"
    assert message_texts(response) == [
        f"{nothing_owed}: {child} has no charge to waive.",
        "The charges of 2 participants waived.",
    ]


def test_participant_admin_confirm_billing_makes_the_reviewed_no_show_billable(
    staff_client, to_review, no_show
):
    response = run_action(staff_client, "confirm_billing", [to_review, no_show])

    to_review.refresh_from_db()
    assert (to_review.billable, to_review.billing_review_pending) == (True, False)
    child = f"{no_show.patient.full_name_en} ({no_show.appointment_number})"
    assert message_texts(response) == [
        f"{no_show}: {child} has no no-show waiting for review.",
        "1 no-show confirmed as billable.",
    ]
