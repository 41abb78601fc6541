"""The clinical actions on a session, through the HTTP client, by who clicks.

Start, complete, mark attended, mark no-show and the group notes (and, on a legacy
appointment, start, complete and no-show) belong to the session's clinicians - its
provider and any clinician of its discipline, covering - and to administrators
(``core.permissions.can_run_session``). Each action is posted by every kind of
user: the allowed ones change the row, the others get a 403 and change nothing;
the pages show the buttons, and the group notes, only to the allowed ones.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from appointments.appointment_service import AppointmentService
from appointments.models import Appointment, Session, SessionParticipant
from appointments.notes.services import NoteService
from appointments.session_service import SessionService
from core.models import Clinic, Provider, User
from core.tests.factories import ClinicFactory, ProviderFactory, TenantFactory
from core.tests.view_helpers import (
    booked,
    group_session,
    legacy_appointment,
    messages_of,
    staff_member,
    superuser,
    work_in,
)
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
Specialty = Clinic.Specialty
GROUP_NOTES = "Bring the turn-taking cards"
NOTE_TEXT = "Worried about the new classroom"

# Who is signed in, around a psychology session: its own provider, another
# psychologist (cover), clinicians of the other disciplines, front desk, finance,
# an administrator of the organisation and a superuser.
OWN_PROVIDER = "own provider"
COVER = "cover psychologist"
OTHER_DISCIPLINES = ("occupational therapist", "ABA therapist")
PERSONS = (OWN_PROVIDER, COVER, *OTHER_DISCIPLINES, "front desk", "finance", "administrator", "superuser")
RUNS_THE_SESSION = {OWN_PROVIDER, COVER, "administrator", "superuser"}
ROLE_OF_PERSON = {
    COVER: Role.PSYCHOLOGIST,
    "occupational therapist": Role.OCCUPATIONAL_THERAPIST,
    "ABA therapist": Role.ABA_THERAPIST,
    "front desk": Role.FRONT_DESK,
    "finance": Role.FINANCE,
    "administrator": Role.ADMIN,
}


def person(name: str, provider: Provider) -> User:
    """The user called ``name``, in the organisation of ``provider``'s session."""
    if name == OWN_PROVIDER:
        return provider.user
    if name == "superuser":
        return superuser()
    return staff_member(provider.user.tenant, ROLE_OF_PERSON[name])


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def signed_in_as(name: str, provider: Provider) -> Client:
    """A client of the user called ``name``; a superuser works in the session's organisation."""
    client = signed_in(person(name, provider))
    if name == "superuser":
        work_in(client, provider.user.tenant)
    return client


def arrived(participant: SessionParticipant) -> SessionParticipant:
    clerk = staff_member(participant.session.clinic.tenant, Role.FINANCE)
    SessionService.clear_finance(participant, user=clerk)
    return SessionService.check_in_participant(participant)


def arrived_appointment(provider: Provider, clinic: Clinic) -> Appointment:
    appointment = legacy_appointment(provider, clinic)
    AppointmentService.clear_finance(appointment, user=staff_member(clinic.tenant, Role.FINANCE))
    return AppointmentService.check_in(appointment)


@dataclass(frozen=True)
class Action:
    """A clinical action: the row it is posted on, what it posts, and whether it took effect."""

    prepare: Callable[[Provider, Clinic], Any]  # the row whose pk the URL takes
    done: Callable[[Any], bool]  # whether the action changed the (reloaded) row
    data: dict


ACTIONS = {
    "session_start": Action(
        prepare=lambda provider, clinic: group_session(provider, clinic),
        done=lambda session: session.status == Session.Status.IN_PROGRESS,
        data={},
    ),
    "session_complete": Action(
        prepare=lambda provider, clinic: group_session(provider, clinic),
        done=lambda session: session.status == Session.Status.COMPLETED,
        data={},
    ),
    "session_group_notes": Action(
        prepare=lambda provider, clinic: group_session(provider, clinic),
        done=lambda session: session.group_notes == GROUP_NOTES,
        data={"group_notes": GROUP_NOTES},
    ),
    "participant_attended": Action(
        prepare=lambda provider, clinic: arrived(booked(group_session(provider, clinic))),
        done=lambda participant: participant.status == SessionParticipant.Status.ATTENDED,
        data={},
    ),
    "participant_no_show": Action(
        prepare=lambda provider, clinic: booked(group_session(provider, clinic)),
        done=lambda participant: participant.status == SessionParticipant.Status.NO_SHOW,
        data={},
    ),
    "appointment_start": Action(
        prepare=arrived_appointment,
        done=lambda appointment: appointment.status == Appointment.Status.IN_PROGRESS,
        data={},
    ),
    "appointment_complete": Action(
        prepare=arrived_appointment,
        done=lambda appointment: appointment.status == Appointment.Status.COMPLETED,
        data={},
    ),
    "appointment_no_show": Action(
        prepare=lambda provider, clinic: legacy_appointment(provider, clinic),
        done=lambda appointment: appointment.status == Appointment.Status.NO_SHOW,
        data={},
    ),
}


def post_action(client: Client, name: str, row) -> int:
    """Post action ``name`` on ``row``; its status code (a redirect back to the page when allowed)."""
    return client.post(reverse(f"appointments:{name}", args=[row.pk]), ACTIONS[name].data).status_code


def took_effect(name: str, row) -> bool:
    row.refresh_from_db()
    return ACTIONS[name].done(row)


@pytest.mark.parametrize("who", PERSONS)
@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_clinical_action_by_each_person_is_done_or_refused_with_403(provider, clinic, name, who):
    row = ACTIONS[name].prepare(provider, clinic)

    status = post_action(signed_in_as(who, provider), name, row)

    if who in RUNS_THE_SESSION:
        assert (status, took_effect(name, row)) == (302, True)
    else:
        assert (status, took_effect(name, row)) == (403, False)


@pytest.mark.parametrize("specialty", [Specialty.SLP, Specialty.MEDICAL, Specialty.NURSING])
@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_clinical_action_in_a_clinic_no_clinician_role_runs_is_for_administrators_only(
    tenant, name, specialty
):
    clinic = ClinicFactory(tenant=tenant, specialty=specialty)

    outcome = {}
    for who in PERSONS:
        # A provider with a clinician role (of a discipline with notes here), one per row
        # so the rows don't clash: still not theirs to run.
        provider = ProviderFactory(clinic=clinic, user=staff_member(tenant, Role.PSYCHOLOGIST))
        row = ACTIONS[name].prepare(provider, clinic)
        outcome[who] = (post_action(signed_in_as(who, provider), name, row), took_effect(name, row))

    assert outcome == {
        who: (302, True) if who in ("administrator", "superuser") else (403, False) for who in PERSONS
    }


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_clinical_action_on_another_organisations_session_is_404(provider, clinic, name):
    row = ACTIONS[name].prepare(provider, clinic)
    stranger = staff_member(TenantFactory(code="OTHER"), Role.PSYCHOLOGIST)

    assert (post_action(signed_in(stranger), name, row), took_effect(name, row)) == (404, False)


def test_clinical_action_by_its_provider_of_another_discipline_is_theirs(tenant, clinic):
    # An occupational therapist who is the provider of a psychology session runs it.
    provider = ProviderFactory(clinic=clinic, user=staff_member(tenant, Role.OCCUPATIONAL_THERAPIST))
    session = group_session(provider, clinic)

    response = signed_in(provider.user).post(
        reverse("appointments:session_start", args=[session.pk]), follow=True
    )

    assert messages_of(response) == ["Session started."]
    assert took_effect("session_start", session)


# What the pages show


def clinical_urls_on_the_session_page(client: Client, session: Session) -> set[str]:
    """The clinical actions whose buttons the session page shows (the session has one arrived
    and one booked child, so each button has a row to act on). Complete is a link to its
    confirmation page; the others are forms."""
    html = client.get(session.get_absolute_url()).content.decode()
    arrived_child, booked_child = session.participants.order_by("pk")
    urls = {
        "session_start": reverse("appointments:session_start", args=[session.pk]),
        "session_complete": reverse("appointments:session_complete", args=[session.pk]),
        "session_group_notes": reverse("appointments:session_group_notes", args=[session.pk]),
        "participant_attended": reverse("appointments:participant_attended", args=[arrived_child.pk]),
        "participant_no_show": reverse("appointments:participant_no_show", args=[booked_child.pk]),
    }
    return {name for name, url in urls.items() if f'action="{url}"' in html or f'href="{url}"' in html}


@pytest.fixture
def running_session(provider, clinic) -> Session:
    session = group_session(provider, clinic)
    arrived(booked(session))
    booked(session)
    SessionService.update_group_notes(session, GROUP_NOTES)
    return session


@pytest.mark.parametrize("who", PERSONS)
def test_session_page_shows_the_clinical_buttons_only_to_who_runs_the_session(provider, running_session, who):
    shown = clinical_urls_on_the_session_page(signed_in_as(who, provider), running_session)

    if who in RUNS_THE_SESSION:
        assert shown == {
            "session_start",
            "session_complete",
            "session_group_notes",
            "participant_attended",
            "participant_no_show",
        }
    else:
        assert shown == set()


@pytest.mark.parametrize("who", PERSONS)
def test_session_page_shows_the_group_notes_only_to_the_disciplines_readers(provider, running_session, who):
    html = signed_in_as(who, provider).get(running_session.get_absolute_url()).content.decode()

    assert (GROUP_NOTES in html, 'id="group-notes"' in html) == (who in RUNS_THE_SESSION,) * 2


def test_session_page_front_desk_keeps_booking_check_in_and_cancel_buttons(provider, running_session):
    arrived_child, booked_child = running_session.participants.order_by("pk")

    html = signed_in_as("front desk", provider).get(running_session.get_absolute_url()).content.decode()

    for name, pk in (
        ("session_add_patient", running_session.pk),
        ("session_cancel", running_session.pk),
        ("session_capacity", running_session.pk),
        ("participant_confirm", booked_child.pk),
        ("participant_check_in", booked_child.pk),
        ("participant_cancel", booked_child.pk),
    ):
        assert reverse(f"appointments:{name}", args=[pk]) in html, name
    assert clinical_urls_on_the_session_page(signed_in_as("front desk", provider), running_session) == set()


@pytest.mark.parametrize("specialty", [Specialty.SLP, Specialty.MEDICAL])
def test_session_page_of_a_clinic_no_clinician_role_runs_shows_buttons_and_notes_to_administrators_only(
    tenant, specialty
):
    clinic = ClinicFactory(tenant=tenant, specialty=specialty)
    provider = ProviderFactory(clinic=clinic, user=staff_member(tenant, Role.PSYCHOLOGIST))
    session = group_session(provider, clinic)
    arrived(booked(session))
    booked(session)
    SessionService.update_group_notes(session, GROUP_NOTES)

    seen = {}
    for who in PERSONS:
        client = signed_in_as(who, provider)
        html = client.get(session.get_absolute_url()).content.decode()
        seen[who] = (bool(clinical_urls_on_the_session_page(client, session)), GROUP_NOTES in html)

    assert seen == {who: (who in ("administrator", "superuser"),) * 2 for who in PERSONS}


@pytest.mark.parametrize("who", PERSONS)
def test_appointment_page_shows_start_complete_and_no_show_only_to_who_runs_it(provider, clinic, who):
    booked_one = legacy_appointment(provider, clinic, hour=13)
    arrived_one = arrived_appointment(provider, clinic)
    client = signed_in_as(who, provider)

    booked_html = client.get(booked_one.get_absolute_url()).content.decode()
    arrived_html = client.get(arrived_one.get_absolute_url()).content.decode()

    shown = {
        name
        for name, appointment, html in (
            ("appointment_no_show", booked_one, booked_html),
            ("appointment_start", arrived_one, arrived_html),
            ("appointment_complete", arrived_one, arrived_html),
        )
        if reverse(f"appointments:{name}", args=[appointment.pk]) in html
    }
    expected = {"appointment_no_show", "appointment_start", "appointment_complete"}
    assert shown == (expected if who in RUNS_THE_SESSION else set())
    if who == "front desk":
        for name in ("appointment_confirm", "appointment_check_in", "appointment_cancel"):
            assert reverse(f"appointments:{name}", args=[booked_one.pk]) in booked_html, name


def test_home_front_desk_schedule_has_no_clinical_buttons(client, tenant, provider, running_session):
    appointment = arrived_appointment(provider, running_session.clinic)
    client.force_login(staff_member(tenant, Role.FRONT_DESK))

    html = client.get(reverse("home")).content.decode()

    assert running_session.get_absolute_url() in html  # today's schedule lists the session
    assert appointment.get_absolute_url() in html
    for name in ("session_start", "session_complete", "session_group_notes"):
        assert reverse(f"appointments:{name}", args=[running_session.pk]) not in html
    for name in ("appointment_start", "appointment_complete", "appointment_no_show"):
        assert reverse(f"appointments:{name}", args=[appointment.pk]) not in html
    assert "/attended/" not in html
    assert "/no-show/" not in html
    assert GROUP_NOTES not in html


@pytest.fixture
def noted_pages(provider, clinic) -> dict[str, str]:
    """Today's session with group notes and a note of its one child; the pages showing them."""
    session = group_session(provider, clinic)
    participant = arrived(booked(session))
    SessionService.update_group_notes(session, GROUP_NOTES)
    note = NoteService.create_note(
        PsychologySession, participant=participant, provider=provider, presenting_issues=NOTE_TEXT
    )
    return {
        "home": reverse("home"),
        "session": session.get_absolute_url(),
        "session list": reverse("appointments:session_list"),
        "schedule by provider": reverse("appointments:schedule_by_provider"),
        "schedule by room": reverse("appointments:schedule_by_room"),
        "chart": reverse("core:patient_chart", args=[participant.patient.pk]),
        "note": reverse("notes:note_detail", args=[note.specialty, note.pk]),
    }


def clinical_text_on(client: Client, pages: dict[str, str]) -> dict[str, list[str]]:
    return {
        page: [text for text in (GROUP_NOTES, NOTE_TEXT) if text in client.get(url).content.decode()]
        for page, url in pages.items()
    }


@pytest.mark.parametrize("role", [Role.FINANCE, Role.FRONT_DESK, Role.OCCUPATIONAL_THERAPIST])
def test_group_notes_and_note_text_never_reach_a_reader_of_another_discipline(
    client, tenant, noted_pages, role
):
    client.force_login(staff_member(tenant, role))

    assert clinical_text_on(client, noted_pages) == dict.fromkeys(noted_pages, [])


def test_group_notes_and_note_text_reach_the_disciplines_clinician(client, tenant, noted_pages):
    client.force_login(staff_member(tenant, Role.PSYCHOLOGIST))

    shown = {page: texts for page, texts in clinical_text_on(client, noted_pages).items() if texts}

    assert shown == {"session": [GROUP_NOTES], "note": [NOTE_TEXT]}
