"""The note edit page's autosave before the session times out (notes:note_autosave, static/js/idle.js).

It saves through ``NoteService.update_note`` with the page's version, so a stale or
signed note is never written over; it keeps the edit page's access rules; it is a
background request and doesn't keep the session alive.
"""

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from appointments.notes.services import NoteService
from appointments.tests.factories import under_way
from appointments.tests.test_views_notes import OT_FORM, PSYCHOLOGY_FORM, clinic_of, rows_data
from core.models import Clinic, User
from core.session_timeout import LAST_ACTIVITY_KEY
from core.tests.factories import ProviderFactory
from core.tests.view_helpers import booked, group_session, staff_member
from ot.models import OTSession
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

BACKGROUND = {"HTTP_X_BACKGROUND_REQUEST": "1"}
MOMENT = datetime.datetime(2026, 3, 15, 11, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Riyadh"))


def autosave_url(note) -> str:
    return reverse("notes:note_autosave", args=[note.specialty, note.pk])


@pytest.fixture
def note(provider, clinic):
    participant = under_way(booked(group_session(provider, clinic)))  # so it can be signed meanwhile
    return NoteService.create_note(
        PsychologySession, participant=participant, provider=provider, user=provider.user, **PSYCHOLOGY_FORM
    )


@pytest.fixture
def clinician(client, provider):
    client.force_login(provider.user)
    return client


def autosave(client, note, version, **changes):
    return client.post(autosave_url(note), {**PSYCHOLOGY_FORM, **changes, "version": version}, **BACKGROUND)


def test_autosave_saves_the_draft_through_the_service_and_answers_the_new_version(clinician, provider, note):
    response = autosave(clinician, note, note.version, progress="Half a sentence")

    note.refresh_from_db()
    assert response.status_code == 200
    assert response.json() == {"saved": True, "version": 2, "message": "Draft saved at 10:00."}
    assert (note.progress, note.version) == ("Half a sentence", 2)
    assert note.history.first().history_user == provider.user


def test_autosave_refuses_a_stale_version_and_writes_nothing(clinician, provider, note):
    NoteService.update_note(note, user=provider.user, expected_version=1, progress="A colleague's text")

    response = autosave(clinician, note, 1, progress="Mine")

    note.refresh_from_db()
    assert response.json()["saved"] is False
    assert "version" not in response.json()
    assert (note.progress, note.version) == ("A colleague's text", 2)


def test_autosave_refuses_a_note_signed_meanwhile(clinician, provider, note):
    NoteService.sign_note(note, user=provider.user)

    response = autosave(clinician, note, 1, progress="Mine")

    note.refresh_from_db()
    assert response.json() == {
        "saved": False,
        "message": "This note is signed and can't be changed; add an addendum instead.",
    }
    assert note.progress == PSYCHOLOGY_FORM["progress"]


def test_autosave_without_a_version_or_with_invalid_content_writes_nothing(clinician, note):
    no_version = clinician.post(autosave_url(note), {**PSYCHOLOGY_FORM, "progress": "Mine"}, **BACKGROUND)
    invalid = autosave(clinician, note, 1, risk_assessment="high", safety_plan="")

    note.refresh_from_db()
    assert no_version.json() == {
        "saved": False,
        "message": "This page didn't say which version of the note it edits.",
    }
    assert invalid.json() == {
        "saved": False,
        "message": "The draft could not be saved automatically: correct the form and save it.",
    }
    assert note.version == 1


def test_autosave_keeps_the_edit_pages_access_rules(client, tenant, note):
    readers_and_others = [
        staff_member(tenant, role) for role in (User.Role.ADMIN, User.Role.FRONT_DESK, User.Role.FINANCE)
    ]
    ot_therapist = ProviderFactory(clinic=clinic_of(tenant, Clinic.Specialty.OT)).user

    statuses = []
    for user in [*readers_and_others, ot_therapist]:
        client.force_login(user)
        statuses.append(autosave(client, note, 1, progress="Not theirs").status_code)

    note.refresh_from_db()
    assert statuses == [403] * 4
    assert note.version == 1


def test_autosave_is_a_background_request_that_does_not_keep_the_session_alive(client, provider, note):
    edit_url = reverse("notes:note_edit", args=[note.specialty, note.pk])
    with time_machine.travel(MOMENT, tick=False) as clock:
        client.force_login(provider.user)
        signed_in_at = client.session[LAST_ACTIVITY_KEY]
        clock.shift(datetime.timedelta(minutes=14))
        saved = autosave(client, note, 1, progress="Saved before the timeout")
        stamp = client.session[LAST_ACTIVITY_KEY]
        clock.shift(datetime.timedelta(minutes=2))
        response = client.get(edit_url)

    note.refresh_from_db()
    assert saved.json()["saved"] is True
    assert stamp == signed_in_at
    assert (response.status_code, response.url) == (302, f"{reverse('login')}?next={edit_url}")
    assert note.progress == "Saved before the timeout"


def test_the_edit_page_offers_autosave_and_the_rows_it_saved_can_be_saved_again_as_new_rows(client, tenant):
    provider = ProviderFactory(clinic=clinic_of(tenant, Clinic.Specialty.OT))
    participant = booked(group_session(provider, provider.clinics.get()))
    skill = {"skill": "Catching", "rating": "4", "comments": ""}
    note = NoteService.create_note(
        OTSession,
        participant=participant,
        provider=provider,
        user=provider.user,
        **OT_FORM,
        target_skills=[skill],
    )
    client.force_login(provider.user)
    row_id = note.target_skills.get().pk
    page = client.get(reverse("notes:note_edit", args=[note.specialty, note.pk]))

    saved = client.post(
        autosave_url(note),
        {**OT_FORM, **rows_data("target_skills", [{**skill, "rating": "5"}], (row_id,)), "version": 1},
        **BACKGROUND,
    )
    # What static/js/idle.js leaves in the page after an autosave: the version it answered,
    # and the rows as new rows (their old ids are gone).
    resaved = client.post(
        reverse("notes:note_edit", args=[note.specialty, note.pk]),
        {
            **OT_FORM,
            **rows_data("target_skills", [{**skill, "rating": "6"}]),
            "version": saved.json()["version"],
        },
    )

    assert f'data-autosave-url="{autosave_url(note)}"' in page.content.decode()
    assert saved.json()["saved"] is True
    assert resaved.status_code == 302
    assert list(note.target_skills.values_list("skill", "rating")) == [("Catching", 6)]
