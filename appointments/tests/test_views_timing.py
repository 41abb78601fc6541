"""When the pages, forms and admin let things happen (appointments.timing), through the HTTP client.

The clock is pinned with time-machine to a moment of the day around a 16:00 session.
Start opens the clinic's ``start_lead_minutes`` (30) before the start; Complete (which
asks for confirmation, listing each child's outcome) and No-show open at the start;
Complete is the session's clinicians' and administrators'. Booking forms refuse a past
date, a date beyond the clinic's booking horizon and a slot ending after midnight, which
the services accept (test_session_service_timing.py).
"""

import datetime
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from appointments.exceptions import CheckInBlocked
from appointments.models import Appointment, Session, SessionParticipant
from appointments.session_service import SessionService
from appointments.tests.factories import check_in, finance_clerk
from core.models import User
from core.tests.admin_helpers import admin_url, message_texts
from core.tests.factories import ClinicFactory, PatientFactory
from core.tests.view_helpers import (
    booked,
    consented_patient,
    group_session,
    legacy_appointment,
    messages_of,
    staff_member,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
Status = SessionParticipant.Status
DAY = datetime.date(2026, 3, 15)  # conftest's FROZEN_TODAY


@pytest.fixture(autouse=True)
def _sessions_outlast_the_clock_jumps(settings):
    """The tests sign in at 10:00 and move the clock through the day: the idle and 12-hour
    limits of a signed-in session (core.session_timeout) are not under test here."""
    settings.SESSION_IDLE_MINUTES = 48 * 60
    settings.SESSION_COOKIE_AGE = 48 * 3600


@contextmanager
def at(hour: int, minute: int = 0) -> Iterator[None]:
    """The clock stopped at ``hour:minute`` on DAY, installation time."""
    moment = datetime.datetime.combine(
        DAY, datetime.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)
    )
    with time_machine.travel(moment, tick=False):
        yield


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, pk: int) -> str:
    return reverse(f"appointments:{name}", args=[pk])


@pytest.fixture
def session(provider, clinic) -> Session:
    """Today's 16:00 group session (an hour long)."""
    return group_session(provider, clinic, day=DAY, hour=16)


@pytest.fixture
def clinician(provider) -> Client:
    """The session's own provider."""
    return signed_in(provider.user)


def buttons(client: Client, session: Session) -> set[str]:
    """The session steps the session page offers ``client`` (one booked child gives No-show a row)."""
    html = client.get(session.get_absolute_url()).content.decode()
    (participant,) = session.participants.filter(status=Status.BOOKED)
    shown = {
        "start": f'action="{url("session_start", session.pk)}"' in html,
        "complete": f'href="{url("session_complete", session.pk)}"' in html,
        "no_show": f'action="{url("participant_no_show", participant.pk)}"' in html,
    }
    return {name for name, present in shown.items() if present}


# Start


def test_session_start_at_04_48_for_a_16_00_session_is_hidden_and_refused(clinician, session):
    with at(4, 48):
        html = clinician.get(session.get_absolute_url()).content.decode()
        response = clinician.post(url("session_start", session.pk), follow=True)

    assert f'action="{url("session_start", session.pk)}"' not in html
    assert 'data-testid="start-opens"' in html
    assert "Start from 15:30 on 15/03/2026" in html
    assert messages_of(response) == [
        "This session starts at 16:00 on 15/03/2026; it can be started from 15:30 on 15/03/2026."
    ]
    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED


def test_session_start_a_minute_before_the_lead_is_refused_and_within_it_allowed(clinician, session):
    with at(15, 29):
        early = clinician.post(url("session_start", session.pk), follow=True)
    with at(15, 30):
        shown = clinician.get(session.get_absolute_url()).content.decode()
        started = clinician.post(url("session_start", session.pk), follow=True)

    assert messages_of(early)[0].startswith("This session starts at 16:00")
    assert f'action="{url("session_start", session.pk)}"' in shown
    assert messages_of(started) == ["Session started."]
    assert Session.objects.get(pk=session.pk).status == Session.Status.IN_PROGRESS


def test_session_start_follows_the_clinics_lead(provider, clinic, clinician):
    clinic.start_lead_minutes = 5
    clinic.save()
    session = group_session(provider, clinic, day=DAY, hour=16)

    with at(15, 50):
        refused = clinician.post(url("session_start", session.pk), follow=True)
    with at(15, 55):
        started = clinician.post(url("session_start", session.pk), follow=True)

    assert messages_of(refused) == [
        "This session starts at 16:00 on 15/03/2026; it can be started from 15:55 on 15/03/2026."
    ]
    assert messages_of(started) == ["Session started."]


def test_session_start_of_tomorrows_session_is_refused(provider, clinic, clinician):
    tomorrow = group_session(provider, clinic, day=DAY + datetime.timedelta(days=1), hour=0)

    with at(23, 0):
        response = clinician.post(url("session_start", tomorrow.pk), follow=True)

    assert messages_of(response) == [
        "This session starts at 00:00 on 16/03/2026; it can be started from 23:30 on 15/03/2026."
    ]
    assert Session.objects.get(pk=tomorrow.pk).status == Session.Status.SCHEDULED


# Complete and No-show


def test_complete_and_no_show_are_hidden_and_refused_before_the_start(clinician, session):
    participant = booked(session)

    with at(15, 59):
        shown = buttons(clinician, session)
        page = clinician.get(url("session_complete", session.pk), follow=True)
        completed = clinician.post(url("session_complete", session.pk), follow=True)
        no_show = clinician.post(url("participant_no_show", participant.pk), follow=True)

    assert shown == {"start"}
    assert page.redirect_chain == [(session.get_absolute_url(), 302)]
    assert (
        messages_of(page)
        == messages_of(completed)
        == ["This session starts at 16:00 on 15/03/2026; it can be completed from then."]
    )
    assert messages_of(no_show) == [
        "This session starts at 16:00 on 15/03/2026; a no-show can be marked from then."
    ]
    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED
    assert SessionParticipant.objects.get(pk=participant.pk).status == Status.BOOKED


def test_complete_and_no_show_are_offered_and_done_from_the_start(clinician, session):
    participant = booked(session)

    with at(16, 0):
        shown = buttons(clinician, session)
        no_show = clinician.post(url("participant_no_show", participant.pk), follow=True)

    assert shown == {"start", "complete", "no_show"}
    assert messages_of(no_show) == [f"{participant.patient.full_name_en} is marked as no-show."]
    assert SessionParticipant.objects.get(pk=participant.pk).status == Status.NO_SHOW


def test_complete_of_a_session_dated_2099_is_refused(provider, clinic, clinician):
    future = group_session(provider, clinic, day=datetime.date(2099, 1, 5), hour=16)
    child = booked(future)

    with at(16, 30):
        response = clinician.post(url("session_complete", future.pk), follow=True)

    assert messages_of(response) == [
        "This session starts at 16:00 on 05/01/2099; it can be completed from then."
    ]
    assert SessionParticipant.objects.get(pk=child.pk).status == Status.BOOKED


# The confirmation page


@pytest.fixture
def three_children(tenant, session) -> dict[str, SessionParticipant]:
    """One checked in, one who never came, one refused at check-in (no consent) who never arrived."""
    came = check_in(booked(session))
    absent = booked(session)
    refused = SessionService.add_patient_to_session(session, PatientFactory(tenant=tenant))
    SessionService.clear_finance(refused, user=finance_clerk(tenant))
    with at(15, 40), pytest.raises(CheckInBlocked):
        SessionService.check_in_participant(refused)
    return {"came": came, "absent": absent, "refused": refused}


def test_complete_page_lists_who_becomes_attended_turned_away_or_no_show_and_changes_nothing(
    clinician, session, three_children
):
    with at(16, 30):
        response = clinician.get(url("session_complete", session.pk))

    preview = response.context["preview"]
    assert response.status_code == 200
    assert (preview.attended, preview.turned_away, preview.no_show) == (
        [three_children["came"]],
        [three_children["refused"]],
        [three_children["absent"]],
    )
    html = response.content.decode()
    refused = three_children["refused"].patient
    assert f"15:40 Consent: No valid consent on file for {refused.full_name_en}." in html
    assert 'data-testid="confirm-complete"' in html
    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED
    assert set(session.participants.values_list("status", flat=True)) == {Status.ARRIVED, Status.BOOKED}


def test_complete_page_post_completes_with_the_outcomes_it_listed(clinician, session, three_children):
    with at(16, 30):
        response = clinician.post(url("session_complete", session.pk), follow=True)

    assert response.redirect_chain == [(session.get_absolute_url(), 302)]
    statuses = dict(session.participants.values_list("pk", "status"))
    assert statuses == {
        three_children["came"].pk: Status.ATTENDED,
        three_children["refused"].pk: Status.TURNED_AWAY,
        three_children["absent"].pk: Status.NO_SHOW,
    }
    assert Session.objects.get(pk=session.pk).status == Session.Status.COMPLETED


def test_complete_page_of_a_completed_session_says_there_is_nothing_to_complete(clinician, session):
    with at(17, 0):
        SessionService.complete_session(session)
        response = clinician.get(url("session_complete", session.pk), follow=True)

    assert response.redirect_chain == [(session.get_absolute_url(), 302)]
    assert messages_of(response) == ["The session is completed; there is nothing to complete."]


def test_complete_is_not_the_front_desks(tenant, session):
    booked(session)
    desk = signed_in(staff_member(tenant, Role.FRONT_DESK))

    with at(16, 30):
        shown = buttons(desk, session)
        page = desk.get(url("session_complete", session.pk))
        posted = desk.post(url("session_complete", session.pk))

    assert shown == set()
    assert (page.status_code, posted.status_code) == (403, 403)
    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED


def test_complete_is_an_administrators_too(tenant, session):
    booked(session)
    administrator = signed_in(staff_member(tenant, Role.ADMIN))

    with at(16, 30):
        shown = buttons(administrator, session)
        page = administrator.get(url("session_complete", session.pk))

    assert shown == {"start", "complete", "no_show"}
    assert page.status_code == 200


# Admin actions


def run_admin_action(client: Client, model, action: str, row) -> list[str]:
    response = client.post(
        admin_url(model, "changelist"), {"action": action, "_selected_action": [str(row.pk)]}, follow=True
    )
    return message_texts(response)


@pytest.fixture
def admin_site_user(tenant) -> Client:
    return signed_in(staff_member(tenant, Role.ADMIN, is_staff=True))


def test_admin_actions_keep_to_the_session_pages_time_rules(admin_site_user, session):
    participant = booked(session)

    with at(15, 0):
        started_early = run_admin_action(admin_site_user, Session, "start_sessions", session)
        completed_early = run_admin_action(admin_site_user, Session, "complete_sessions", session)
        no_show_early = run_admin_action(admin_site_user, SessionParticipant, "mark_no_show", participant)
    unchanged = (
        Session.objects.get(pk=session.pk).status,
        SessionParticipant.objects.get(pk=participant.pk).status,
    )
    with at(15, 30):
        started = run_admin_action(admin_site_user, Session, "start_sessions", session)
    with at(16, 0):
        no_show = run_admin_action(admin_site_user, SessionParticipant, "mark_no_show", participant)
        completed = run_admin_action(admin_site_user, Session, "complete_sessions", session)

    assert started_early == [
        f"{session}: This session starts at 16:00 on 15/03/2026; it can be started from 15:30 on 15/03/2026."
    ]
    assert completed_early == [
        f"{session}: This session starts at 16:00 on 15/03/2026; it can be completed from then."
    ]
    assert no_show_early == [
        f"{participant}: This session starts at 16:00 on 15/03/2026; a no-show can be marked from then."
    ]
    assert unchanged == (Session.Status.SCHEDULED, Status.BOOKED)
    assert (started, no_show, completed) == (
        ["1 session started."],
        ["1 participant marked no-show."],
        ["1 session completed."],
    )


# Booking forms: past, horizon, midnight


def session_form(clinic, provider, **overrides) -> dict:
    return {
        "clinic": clinic.pk,
        "provider": provider.pk,
        "room": "",
        "scheduled_date": (DAY + datetime.timedelta(days=1)).isoformat(),
        "scheduled_time": "14:00",
        "duration": 60,
        "service_type": "Social Skills Group",
        "max_capacity": 6,
        "group_notes": "",
        **overrides,
    }


def individual_form(clinic, provider, patient, **overrides) -> dict:
    return {
        "patient": patient.mrn,
        "clinic": clinic.pk,
        "provider": provider.pk,
        "room": "",
        "scheduled_date": DAY.isoformat(),
        "scheduled_time": "14:00",
        "duration": 45,
        "service_type": "Assessment",
        **overrides,
    }


@pytest.fixture
def desk(tenant) -> Client:
    return signed_in(staff_member(tenant, Role.FRONT_DESK))


HORIZON_ERROR = "Psychology Clinic books up to 12 months ahead: choose a date until 15/03/2027."
MIDNIGHT_ERROR = "A slot from 23:30 for 60 minutes would end after midnight; it must end by 00:00."


@pytest.fixture
def named_clinic(tenant, provider):
    clinic = ClinicFactory(tenant=tenant, name_en="Psychology Clinic")
    provider.clinics.add(clinic)
    return clinic


def test_session_create_refuses_a_date_beyond_the_horizon_and_takes_its_last_day(
    desk, named_clinic, provider
):
    create = reverse("appointments:session_create")

    beyond = desk.post(create, session_form(named_clinic, provider, scheduled_date="2027-03-16"))
    last_day = desk.post(create, session_form(named_clinic, provider, scheduled_date="2027-03-15"))

    assert beyond.context["form"].errors == {"scheduled_date": [HORIZON_ERROR]}
    assert last_day.status_code == 302
    assert list(Session.objects.values_list("scheduled_date", flat=True)) == [datetime.date(2027, 3, 15)]


def test_session_create_in_2099_is_refused(desk, named_clinic, provider):
    response = desk.post(
        reverse("appointments:session_create"),
        session_form(named_clinic, provider, scheduled_date="2099-01-05"),
    )

    assert response.context["form"].errors == {"scheduled_date": [HORIZON_ERROR]}
    assert not Session.objects.exists()


def test_session_create_horizon_is_the_clinics_own(desk, tenant, provider):
    clinic = ClinicFactory(tenant=tenant, name_en="Short Notice Clinic", booking_horizon_months=1)
    provider.clinics.add(clinic)

    response = desk.post(
        reverse("appointments:session_create"), session_form(clinic, provider, scheduled_date="2026-04-16")
    )

    assert response.context["form"].errors == {
        "scheduled_date": ["Short Notice Clinic books up to 1 months ahead: choose a date until 15/04/2026."]
    }


def test_session_create_refuses_a_slot_past_midnight_and_takes_one_ending_at_it(desk, clinic, provider):
    create = reverse("appointments:session_create")

    overnight = desk.post(create, session_form(clinic, provider, scheduled_time="23:30"))
    to_midnight = desk.post(create, session_form(clinic, provider, scheduled_time="23:00"))

    assert overnight.context["form"].errors == {"scheduled_time": [MIDNIGHT_ERROR]}
    assert to_midnight.status_code == 302
    assert list(Session.objects.values_list("scheduled_time", flat=True)) == [datetime.time(23, 0)]


def test_session_create_refuses_a_past_date_which_the_service_accepts(desk, clinic, provider):
    yesterday = DAY - datetime.timedelta(days=1)

    response = desk.post(
        reverse("appointments:session_create"),
        session_form(clinic, provider, scheduled_date=yesterday.isoformat()),
    )
    recorded = group_session(provider, clinic, day=yesterday, hour=14)

    assert response.context["form"].errors == {
        "scheduled_date": ["The date is in the past; choose today or a later day."]
    }
    assert list(Session.objects.values_list("pk", flat=True)) == [recorded.pk]


def test_session_book_individual_refuses_beyond_the_horizon_and_past_midnight(
    desk, tenant, named_clinic, provider
):
    patient = consented_patient(tenant, mrn="AG-77")
    book = reverse("appointments:session_book_individual")

    far = desk.post(book, individual_form(named_clinic, provider, patient, scheduled_date="2027-06-01"))
    late = desk.post(
        book, individual_form(named_clinic, provider, patient, scheduled_time="23:30", duration=60)
    )

    assert far.context["form"].errors == {"scheduled_date": [HORIZON_ERROR]}
    assert late.context["form"].errors == {"scheduled_time": [MIDNIGHT_ERROR]}
    assert not Session.objects.exists()


def test_appointment_book_refuses_beyond_the_horizon_and_past_midnight(desk, tenant, named_clinic, provider):
    patient = consented_patient(tenant, mrn="AG-78")
    book = reverse("appointments:appointment_book")

    far = desk.post(
        book, {**individual_form(named_clinic, provider, patient, scheduled_date="2027-03-16"), "notes": ""}
    )
    late = desk.post(
        book,
        {
            **individual_form(named_clinic, provider, patient, scheduled_time="23:30", duration=60),
            "notes": "",
        },
    )

    assert far.context["form"].errors == {"scheduled_date": [HORIZON_ERROR]}
    assert late.context["form"].errors == {"scheduled_time": [MIDNIGHT_ERROR]}
    assert not Appointment.objects.exists()


def test_appointment_reschedule_refuses_beyond_the_horizon_and_past_midnight(desk, named_clinic, provider):
    appointment = legacy_appointment(provider, named_clinic, hour=11)
    reschedule = url("appointment_reschedule", appointment.pk)

    far = desk.post(reschedule, {"scheduled_date": "2027-03-16", "scheduled_time": "11:00"})
    late = desk.post(
        reschedule, {"scheduled_date": DAY.isoformat(), "scheduled_time": "23:30", "duration": "60"}
    )
    kept_duration = desk.post(reschedule, {"scheduled_date": DAY.isoformat(), "scheduled_time": "23:30"})

    assert far.context["form"].errors == {"scheduled_date": [HORIZON_ERROR]}
    assert late.context["form"].errors == {"scheduled_time": [MIDNIGHT_ERROR]}
    # Its own duration (45 minutes) from 23:30 runs past midnight too.
    assert kept_duration.context["form"].errors == {
        "scheduled_time": ["A slot from 23:30 for 45 minutes would end after midnight; it must end by 00:00."]
    }
    appointment.refresh_from_db()
    assert (appointment.scheduled_date, appointment.scheduled_time) == (DAY, datetime.time(11, 0))


# Admin forms: the horizon and midnight, but past dates are kept for records after the fact


def admin_session_add(clinic, provider, **overrides) -> dict[str, str]:
    return {
        "session_type": Session.SessionType.GROUP,
        "service_type": "Social Skills Group",
        "clinic": str(clinic.pk),
        "provider": str(provider.pk),
        "scheduled_date": str(DAY + datetime.timedelta(days=7)),
        "scheduled_time": "10:00",
        "duration": "60",
        "max_capacity": "6",
        "group_notes": "",
        **overrides,
    }


def test_admin_session_add_refuses_beyond_the_horizon_and_past_midnight(
    admin_site_user, named_clinic, provider
):
    far = admin_site_user.post(
        admin_url(Session, "add"), admin_session_add(named_clinic, provider, scheduled_date="2027-03-16")
    )
    late = admin_site_user.post(
        admin_url(Session, "add"), admin_session_add(named_clinic, provider, scheduled_time="23:30")
    )

    assert far.context["adminform"].form.errors == {"scheduled_date": [HORIZON_ERROR]}
    assert late.context["adminform"].form.errors == {"scheduled_time": [MIDNIGHT_ERROR]}
    assert not Session.objects.exists()


def test_admin_session_add_records_a_past_session(admin_site_user, clinic, provider):
    response = admin_site_user.post(
        admin_url(Session, "add"), admin_session_add(clinic, provider, scheduled_date="2026-03-01")
    )

    assert response.status_code == 302
    assert Session.objects.get().scheduled_date == datetime.date(2026, 3, 1)
