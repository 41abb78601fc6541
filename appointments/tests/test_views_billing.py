"""Cancellation forms (who cancelled, category) and the billing queue (waive, confirm) through HTTP."""

import datetime

import pytest
from django.urls import reverse

from appointments.models import SessionParticipant
from appointments.session_service import SessionService
from core.models import User
from core.tests.view_helpers import booked, consented_patient, group_session, messages_of, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
Status = SessionParticipant.Status
CancelledBy = SessionParticipant.CancelledBy
CancelCategory = SessionParticipant.CancelCategory


def signed_in(client, tenant, role) -> User:
    user = staff_member(tenant, role)
    client.force_login(user)
    return user


def post(client, name, pk, **data):
    return client.post(reverse(f"appointments:{name}", args=[pk]), data, follow=True)


@pytest.fixture
def sara(tenant):
    return consented_patient(tenant, first_name_en="Sara", last_name_en="Ali")


@pytest.fixture
def tomorrow_9(provider, clinic, frozen_today):
    """A group starting at 09:00 tomorrow: 23 hours after the pinned 10:00."""
    return group_session(provider, clinic, day=frozen_today + datetime.timedelta(days=1), hour=9)


# Cancel forms


def test_session_page_offers_who_cancelled_and_the_categories(client, tenant, tomorrow_9, sara):
    booked(tomorrow_9, sara)
    signed_in(client, tenant, Role.FRONT_DESK)

    page = client.get(tomorrow_9.get_absolute_url()).content.decode()

    assert 'name="cancelled_by"' in page
    for value in ("family", "clinic", "provider", "illness", "transport"):
        assert f'<option value="{value}">' in page
    assert 'id="session-cancel-category"' in page
    assert '<option value="session_cancelled">Whole session cancelled</option>' in page


def test_participant_cancel_by_the_family_23_hours_before_is_late_and_shows_billable(
    client, tenant, tomorrow_9, sara
):
    participant = booked(tomorrow_9, sara)
    signed_in(client, tenant, Role.FRONT_DESK)

    response = post(
        client,
        "participant_cancel",
        participant.pk,
        reason="Fever",
        cancelled_by="family",
        category="illness",
    )

    participant.refresh_from_db()
    assert messages_of(response) == ["The booking of Sara Ali is cancelled."]
    assert (participant.cancelled_by, participant.cancel_category) == (CancelledBy.FAMILY, "illness")
    assert (participant.is_late_cancellation, participant.billable) == (True, True)
    page = response.content.decode()
    assert "Cancelled by: Family · Illness" in page
    assert 'data-billing="billable"' in page


def test_participant_cancel_without_who_records_the_clinic(client, tenant, tomorrow_9, sara):
    participant = booked(tomorrow_9, sara)
    signed_in(client, tenant, Role.FRONT_DESK)

    post(client, "participant_cancel", participant.pk, reason="Rebooked elsewhere")

    participant.refresh_from_db()
    assert (participant.status, participant.cancelled_by, participant.billable) == (
        Status.CANCELLED,
        CancelledBy.CLINIC,
        False,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "cancelled_by",
            "grandma",
            "Cancelled by: Select a valid choice. grandma is not one of the available choices.",
        ),
        (
            "category",
            "session_cancelled",
            "Category: Select a valid choice. session_cancelled is not one of the available choices.",
        ),
    ],
)
def test_participant_cancel_with_an_unknown_choice_is_refused_and_nothing_changes(
    client, tenant, tomorrow_9, sara, field, value, message
):
    participant = booked(tomorrow_9, sara)
    signed_in(client, tenant, Role.FRONT_DESK)

    response = post(client, "participant_cancel", participant.pk, reason="Fever", **{field: value})

    participant.refresh_from_db()
    assert participant.status == Status.BOOKED
    assert messages_of(response) == [message]


def test_session_cancel_records_the_clinic_and_the_category_for_every_child(client, tenant, tomorrow_9):
    children = [booked(tomorrow_9) for _ in range(2)]
    signed_in(client, tenant, Role.FRONT_DESK)

    response = post(client, "session_cancel", tomorrow_9.pk, reason="Storm warning", category="weather")

    assert messages_of(response) == ["Session cancelled."]
    for child in children:
        child.refresh_from_db()
        assert (child.cancelled_by, child.cancel_category, child.billable) == (
            CancelledBy.CLINIC,
            CancelCategory.WEATHER,
            False,
        )


def test_session_cancel_with_a_child_only_category_is_refused(client, tenant, tomorrow_9):
    child = booked(tomorrow_9)
    signed_in(client, tenant, Role.FRONT_DESK)

    response = post(client, "session_cancel", tomorrow_9.pk, reason="Storm", category="illness")

    child.refresh_from_db()
    tomorrow_9.refresh_from_db()
    assert (tomorrow_9.status, child.status) == ("scheduled", Status.BOOKED)
    assert messages_of(response) == [
        "Category: Select a valid choice. illness is not one of the available choices."
    ]


# The billing queue on finance's home page


@pytest.fixture
def flagged(provider, clinic, frozen_today, tenant):
    """A no-show today, a family's late cancellation tomorrow, and a no-show of yesterday's
    session that nobody completed, closed automatically (waiting for review)."""
    today_group = group_session(provider, clinic, hour=8)
    missed = booked(today_group, consented_patient(tenant, first_name_en="Nora", last_name_en="Saad"))
    SessionService.mark_participant_no_show(missed)
    late = booked(
        group_session(provider, clinic, day=frozen_today + datetime.timedelta(days=1), hour=9),
        consented_patient(tenant, first_name_en="Omar", last_name_en="Khan"),
    )
    SessionService.cancel_participant(late, "Away", cancelled_by=CancelledBy.FAMILY)
    yesterday_group = group_session(provider, clinic, day=frozen_today - datetime.timedelta(days=1), hour=9)
    unseen = booked(yesterday_group, consented_patient(tenant, first_name_en="Lina", last_name_en="Fahd"))
    SessionService.complete_session(yesterday_group, auto_closed=True)
    return {"missed": missed, "late": late, "unseen": unseen}


def test_home_finance_lists_billable_items_and_no_shows_to_review(client, tenant, flagged):
    signed_in(client, tenant, Role.FINANCE)

    response = client.get(reverse("home"))

    assert response.context["billing_items"] == [flagged["late"], flagged["missed"]]
    assert response.context["billing_review"] == [flagged["unseen"]]
    page = response.content.decode()
    for participant in flagged.values():
        assert reverse("appointments:participant_waive_billing", args=[participant.pk]) in page
    assert reverse("appointments:participant_confirm_billing", args=[flagged["unseen"].pk]) in page
    assert reverse("appointments:participant_confirm_billing", args=[flagged["missed"].pk]) not in page


def test_home_finance_waives_a_charge_with_a_reason_and_comes_back(client, tenant, flagged):
    clerk = signed_in(client, tenant, Role.FINANCE)
    home = reverse("home")

    response = post(client, "participant_waive_billing", flagged["missed"].pk, reason="Hospital", next=home)

    missed = flagged["missed"]
    missed.refresh_from_db()
    assert response.redirect_chain == [(home, 302)]
    assert messages_of(response) == ["The charge for Nora Saad is waived."]
    assert (missed.billable, missed.billing_waived_by, missed.billing_waived_reason) == (
        False,
        clerk,
        "Hospital",
    )
    assert response.context["billing_items"] == [flagged["late"]]


def test_waive_without_a_reason_is_refused_and_nothing_changes(client, tenant, flagged):
    signed_in(client, tenant, Role.FINANCE)

    response = post(client, "participant_waive_billing", flagged["late"].pk, reason="   ")

    flagged["late"].refresh_from_db()
    assert messages_of(response) == ["Give a reason for waiving the charge."]
    assert (flagged["late"].billable, flagged["late"].billing_waived_at) == (True, None)


def test_waive_twice_is_refused_the_second_time(client, tenant, flagged):
    signed_in(client, tenant, Role.FINANCE)
    post(client, "participant_waive_billing", flagged["late"].pk, reason="Bereavement")

    response = post(client, "participant_waive_billing", flagged["late"].pk, reason="Again")

    late = flagged["late"]
    late.refresh_from_db()
    assert messages_of(response) == [
        f"The charge for Omar Khan ({late.appointment_number}) is already waived."
    ]
    assert late.billing_waived_reason == "Bereavement"


def test_waive_reason_too_long_is_refused(client, tenant, flagged):
    signed_in(client, tenant, Role.FINANCE)

    response = post(client, "participant_waive_billing", flagged["late"].pk, reason="x" * 2001)

    assert messages_of(response) == ["Reason: Ensure this value has at most 2000 characters (it has 2001)."]


def test_home_front_desk_lists_no_shows_to_review_and_confirms_one(client, tenant, flagged):
    desk = signed_in(client, tenant, Role.FRONT_DESK)
    home = reverse("home")

    page = client.get(home)
    response = post(client, "participant_confirm_billing", flagged["unseen"].pk, next=home)

    unseen = flagged["unseen"]
    unseen.refresh_from_db()
    assert page.context["billing_review"] == [unseen]
    assert "billing_items" not in page.context
    assert reverse("appointments:participant_waive_billing", args=[unseen.pk]) not in page.content.decode()
    assert messages_of(response) == ["The no-show of Lina Fahd is confirmed as billable."]
    assert (unseen.billable, unseen.billing_review_pending) == (True, False)
    assert unseen.history.latest().history_user == desk
    assert response.context["billing_review"] == []


def test_confirm_of_a_no_show_not_waiting_for_review_is_refused(client, tenant, flagged):
    signed_in(client, tenant, Role.FINANCE)

    response = post(client, "participant_confirm_billing", flagged["missed"].pk)

    missed = flagged["missed"]
    assert messages_of(response) == [
        f"Nora Saad ({missed.appointment_number}) has no no-show waiting for review."
    ]


def test_session_page_shows_the_review_and_confirm_for_the_front_desk(client, tenant, flagged):
    signed_in(client, tenant, Role.FRONT_DESK)

    page = client.get(flagged["unseen"].session.get_absolute_url()).content.decode()

    assert 'data-billing="review"' in page
    assert reverse("appointments:participant_confirm_billing", args=[flagged["unseen"].pk]) in page


@pytest.mark.parametrize("items", [1, 6])
def test_home_finance_query_count_does_not_grow_with_billable_items(
    client, tenant, provider, clinic, items, django_assert_num_queries
):
    session = group_session(provider, clinic, hour=8, capacity=20)
    for _ in range(items):
        SessionService.mark_participant_no_show(booked(session))
    signed_in(client, tenant, Role.FINANCE)

    # session + user, the clearance card (its first rows, two counts of the merged queue), the
    # no-shows to review, the billable items, the tenant's Hijri setting, the access-log row
    with django_assert_num_queries(9):
        response = client.get(reverse("home"))

    assert len(response.context["billing_items"]) == items
