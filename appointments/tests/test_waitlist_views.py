"""The waiting list's pages through the HTTP client: the session page, adding a child, the entry
actions, a series' list; who may use them, another organisation's rows, and query counts."""

import datetime

import pytest
from django.urls import reverse

from appointments.models import Session, SessionParticipant, WaitlistEntry
from appointments.session_service import SessionService
from appointments.tests.test_waitlist import CANCEL_REASON, child, fill, group
from core.models import Clinic, User
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, TenantFactory
from core.tests.view_helpers import group_series, messages_of, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
Status = WaitlistEntry.Status


@pytest.fixture
def day(frozen_today):
    return frozen_today + datetime.timedelta(days=2)


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, Role.FRONT_DESK))
    return client


@pytest.fixture
def full(provider, clinic, day):
    session = group(provider, clinic, day)
    return session, fill(session)


def page(client, session) -> str:
    response = client.get(session.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def add_url(session) -> str:
    return reverse("appointments:session_waitlist_add", args=[session.pk])


def entry_url(name: str, entry: WaitlistEntry) -> str:
    return reverse(f"appointments:waitlist_{name}", args=[entry.pk])


# The session page


def test_session_page_of_a_full_session_says_full_and_offers_the_waiting_list(desk, full):
    session, _booked = full

    html = page(desk, session)

    assert '<span class="badge text-bg-danger align-self-center" data-testid="full">Full (2/2)</span>' in html
    assert f'href="{add_url(session)}"' in html
    assert reverse("appointments:session_add_patient", args=[session.pk]) not in html
    assert "Nobody is waiting." in html


def test_session_page_with_a_free_seat_has_no_waiting_list(desk, provider, clinic, day):
    session = group(provider, clinic, day, seats=3)

    html = page(desk, session)

    assert 'data-testid="full"' not in html
    assert add_url(session) not in html
    assert 'id="waitlist"' not in html


def test_session_page_lists_the_waiting_children_in_order_with_their_actions(desk, full, clinic):
    session, _booked = full
    first, second = (SessionService.add_to_waitlist(session, child(clinic)) for _ in range(2))

    html = page(desk, session)

    assert html.index(f'id="waitlist-{first.pk}"') < html.index(f'id="waitlist-{second.pk}"')
    assert entry_url("withdraw", first) in html
    assert entry_url("accept", first) not in html  # no offer to accept


def test_session_page_shows_an_offer_with_its_expiry_and_accept(client, tenant, day):
    clinic = ClinicFactory(tenant=tenant, waitlist_mode=Clinic.WaitlistMode.OFFER)
    session = group(ProviderFactory(clinic=clinic), clinic, day)
    booked = fill(session)
    entry = SessionService.add_to_waitlist(session, child(clinic))
    SessionService.cancel_participant(booked[0], CANCEL_REASON)
    client.force_login(staff_member(tenant, Role.FRONT_DESK))

    html = page(client, session)

    assert "Full (2/2)" in html
    assert "16/03/2026 10:" in html  # offered now (15/03 10:00), for 24 hours
    assert entry_url("accept", entry) in html


def test_finance_sees_the_list_but_no_waiting_list_action(client, tenant, full, clinic):
    session, _booked = full
    entry = SessionService.add_to_waitlist(session, child(clinic))
    client.force_login(staff_member(tenant, Role.FINANCE))

    html = page(client, session)

    assert "Full (2/2)" in html
    assert f'id="waitlist-{entry.pk}"' in html
    assert add_url(session) not in html
    assert entry_url("withdraw", entry) not in html


def test_cancelling_on_the_page_promotes_the_waiting_child_and_flags_the_family_not_told(desk, full, clinic):
    session, booked = full
    entry = SessionService.add_to_waitlist(session, child(clinic))

    desk.post(
        reverse("appointments:participant_cancel", args=[booked[0].pk]),
        {"reason": CANCEL_REASON, "cancelled_by": "family"},
    )

    entry.refresh_from_db()
    html = page(desk, session)
    assert entry.status == Status.BOOKED
    assert f'id="participant-{entry.participant_id}"' in html
    assert "Promoted from the waiting list: family not told yet" in html
    assert entry_url("family_told", entry) in html

    response = desk.post(entry_url("family_told", entry))

    assert response.status_code == 302
    assert "Promoted from the waiting list: family not told yet" not in page(desk, session)


@pytest.mark.parametrize("waiting", [3, 12])
def test_session_page_query_count_does_not_grow_with_the_waiting_list(
    desk, provider, clinic, day, waiting, django_assert_num_queries
):
    session = group(provider, clinic, day, seats=4)
    booked = fill(session)
    for _ in range(waiting):
        SessionService.add_to_waitlist(session, child(clinic))
    SessionService.cancel_participant(booked[0], CANCEL_REASON)  # one promoted, not told yet

    # session + user, the session, participants with patients, their consents, the waiting
    # list with positions, the user's organisation (whether it shows Hijri dates), the access-log row
    with django_assert_num_queries(8):
        response = desk.get(session.get_absolute_url())

    assert len(response.context["waitlist"]) == waiting - 1


# Adding a child


def test_waitlist_add_page_finds_children_and_marks_those_booked_or_waiting(desk, full, clinic):
    session, booked = full
    in_session, waiting, other = (child(clinic, last_name_en="Zahrani") for _ in range(3))
    SessionService.cancel_participant(booked[0], CANCEL_REASON)
    SessionService.add_patient_to_session(session, in_session)
    SessionService.add_to_waitlist(session, waiting)

    response = desk.get(add_url(session), {"q": "Zahrani"})

    html = response.content.decode()
    assert {patient.pk for patient in response.context["results"]} == {in_session.pk, waiting.pk, other.pk}
    assert html.count("Already booked") == html.count("Already waiting") == 1
    assert html.count('<input type="hidden" name="patient"') == 1
    assert f'value="{other.pk}"' in html


def test_waitlist_add_puts_the_child_on_the_list(desk, full, clinic):
    session, _booked = full
    patient = child(clinic)

    response = desk.post(add_url(session), {"patient": patient.pk}, follow=True)

    entry = WaitlistEntry.objects.get(session=session)
    assert (entry.patient, entry.status) == (patient, Status.WAITING)
    assert f"{patient.full_name_en} is on the waiting list, number 1." in messages_of(response)


def test_waitlist_add_with_a_free_seat_says_book_instead(desk, provider, clinic, day):
    session = group(provider, clinic, day, seats=3)

    response = desk.post(add_url(session), {"patient": child(clinic).pk})

    assert response.status_code == 200
    assert "There is a free seat: book instead." in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_waitlist_add_refuses_a_child_of_another_organisation_as_unknown(desk, full):
    session, _booked = full
    stranger = PatientFactory(tenant=TenantFactory(code="OTHER"))

    response = desk.post(add_url(session), {"patient": stranger.pk})

    assert "That patient is not registered in your organisation." in response.content.decode()
    assert not WaitlistEntry.objects.exists()


# The entry actions


def test_withdraw_takes_the_child_off_the_list_with_the_reason(desk, full, clinic):
    session, _booked = full
    entry = SessionService.add_to_waitlist(session, child(clinic))

    response = desk.post(entry_url("withdraw", entry), {"reason": "Family found a place"}, follow=True)

    entry.refresh_from_db()
    assert entry.status == Status.WITHDRAWN
    assert entry.history.latest().history_change_reason == "Family found a place"
    assert f"{entry.patient.full_name_en} is off the waiting list." in messages_of(response)


def test_accept_on_a_waiting_entry_is_refused_with_a_message(desk, full, clinic):
    session, _booked = full
    entry = SessionService.add_to_waitlist(session, child(clinic))

    response = desk.post(entry_url("accept", entry), follow=True)

    assert messages_of(response) == [
        f"{entry.patient.full_name_en} has no seat offered yet: they are number 1 on the waiting list."
    ]
    assert response.redirect_chain[-1][0] == session.get_absolute_url()


def test_accept_books_the_offered_child(client, tenant, day):
    clinic = ClinicFactory(tenant=tenant, waitlist_mode=Clinic.WaitlistMode.OFFER)
    session = group(ProviderFactory(clinic=clinic), clinic, day)
    booked = fill(session)
    entry = SessionService.add_to_waitlist(session, child(clinic))
    SessionService.cancel_participant(booked[0], CANCEL_REASON)
    client.force_login(staff_member(tenant, Role.FRONT_DESK))

    response = client.post(entry_url("accept", entry), follow=True)

    entry.refresh_from_db()
    assert entry.status == Status.BOOKED
    assert entry.participant.status == SessionParticipant.Status.BOOKED
    assert f"{entry.patient.full_name_en} accepted the seat and is booked." in messages_of(response)


@pytest.mark.parametrize("role", [Role.FINANCE, Role.PSYCHOLOGIST])
@pytest.mark.parametrize("action", ["accept", "withdraw", "family_told"])
def test_entry_actions_are_the_front_desks(client, tenant, full, clinic, role, action):
    session, _booked = full
    entry = SessionService.add_to_waitlist(session, child(clinic))
    client.force_login(staff_member(tenant, role))

    assert client.post(entry_url(action, entry)).status_code == 403
    assert client.get(add_url(session)).status_code == 403
    entry.refresh_from_db()
    assert entry.status == Status.WAITING


@pytest.mark.parametrize("action", ["accept", "withdraw", "family_told"])
def test_entry_of_another_organisation_is_404(client, full, clinic, action):
    session, _booked = full
    entry = SessionService.add_to_waitlist(session, child(clinic))
    client.force_login(staff_member(TenantFactory(code="OTHER"), Role.FRONT_DESK))

    assert client.post(entry_url(action, entry)).status_code == 404
    assert client.get(add_url(session)).status_code == 404
    entry.refresh_from_db()
    assert entry.status == Status.WAITING


def test_entry_actions_need_a_post(desk, full, clinic):
    session, _booked = full
    entry = SessionService.add_to_waitlist(session, child(clinic))

    assert desk.get(entry_url("withdraw", entry)).status_code == 405


# A series' waiting list


@pytest.fixture
def series(provider, clinic, frozen_today):
    """A weekly group of two seats, three sessions from tomorrow; the first two full."""
    series = group_series(
        provider, clinic, day=frozen_today + datetime.timedelta(days=1), count=3, capacity=2
    )
    for session in list(Session.objects.filter(series=series).order_by("scheduled_date"))[:2]:
        fill(session)
    return series


def series_url(series) -> str:
    return reverse("appointments:series_waitlist_add", args=[series.pk])


def test_series_waitlist_add_puts_the_child_on_the_full_sessions_and_names_the_free_ones(
    desk, series, clinic
):
    patient = child(clinic)

    response = desk.post(series_url(series), {"patient": patient.pk}, follow=True)

    assert WaitlistEntry.objects.filter(patient=patient, series=series).count() == 2
    assert messages_of(response) == [
        f"{patient.full_name_en} is on the waiting list of 2 sessions of the series.",
        "A seat is free on 30/03/2026 12:00: book those instead.",
    ]
    assert response.redirect_chain[-1][0] == series.get_absolute_url()


def test_series_waitlist_add_goes_back_to_the_page_it_was_posted_from(desk, series, clinic):
    back = reverse("appointments:session_list")

    response = desk.post(series_url(series), {"patient": child(clinic).pk, "next": back})

    assert response.url == back


def test_series_waitlist_add_refused_says_why(desk, series, clinic):
    patient = child(clinic)
    desk.post(series_url(series), {"patient": patient.pk}, follow=True)

    response = desk.post(series_url(series), {"patient": patient.pk}, follow=True)

    assert messages_of(response) == ["There is a free seat on 30/03/2026 12:00: book instead."]


def test_series_waitlist_add_without_a_known_child_says_so(desk, series):
    response = desk.post(series_url(series), {"patient": "987654"}, follow=True)

    assert messages_of(response) == ["That patient is not registered in your organisation."]
    assert not WaitlistEntry.objects.exists()


def test_series_waitlist_add_is_the_front_desks_and_of_its_organisation(client, tenant, series, clinic):
    patient = child(clinic)
    client.force_login(staff_member(tenant, Role.FINANCE))
    assert client.post(series_url(series), {"patient": patient.pk}).status_code == 403

    client.force_login(staff_member(TenantFactory(code="OTHER"), Role.FRONT_DESK))
    assert client.post(series_url(series), {"patient": patient.pk}).status_code == 404
    assert not WaitlistEntry.objects.exists()
