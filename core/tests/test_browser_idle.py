"""In a real browser: an idle note page saves the draft, warns a minute before, and signs out.

The server's clock is pinned and moved with time-machine (the live server runs in this
process); the page's timers are moved with Playwright's clock, by the same amounts, so
the page and the server agree on how long the session has left (static/js/idle.js,
core/session_timeout.py).
"""

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from playwright.sync_api import Page, expect

from appointments.notes.services import NoteService
from appointments.tests.test_views_notes import OT_FORM
from core.models import Clinic, User
from core.tests.browser import browser, page  # noqa: F401  (pytest fixtures)
from core.tests.factories import ClinicFactory, ProviderFactory, UserFactory
from core.tests.view_helpers import booked, group_session
from ot.models import OTSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOMENT = datetime.datetime(2026, 3, 15, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Riyadh"))
PASSWORD = "pass12345"  # UserFactory's


def wait(clock, tab: Page, minutes: int) -> None:
    """``minutes`` pass for the server and for the page's timers alike."""
    clock.shift(datetime.timedelta(minutes=minutes))
    tab.clock.fast_forward(minutes * 60 * 1000)


def test_an_idle_note_page_saves_the_draft_warns_and_then_signs_out(page, tenant):  # noqa: F811
    with time_machine.travel(MOMENT, tick=True) as clock:
        clinic = ClinicFactory(tenant=tenant, specialty=Clinic.Specialty.OT)
        therapist = UserFactory(username="ot.sara", tenant=tenant, role=User.Role.OCCUPATIONAL_THERAPIST)
        provider = ProviderFactory(clinic=clinic, user=therapist)
        note = NoteService.create_note(
            OTSession,
            participant=booked(group_session(provider, clinic)),
            provider=provider,
            user=therapist,
            **OT_FORM,
            target_skills=[{"skill": "Catching", "rating": 4, "comments": ""}],
        )
        edit_url = reverse("notes:note_edit", args=[note.specialty, note.pk])
        page.clock.install()
        page.goto(reverse("login"))
        page.fill("input[name=username]", "ot.sara")
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click(f"main form[action='{reverse('login')}'] button[type=submit]")
        page.goto(edit_url)
        page.wait_for_load_state("networkidle")
        page.fill("textarea[name=recommendations]", "Half-typed recommendation")
        page.fill("input[name='target_skills-0-rating']", "5")

        # Two minutes before the end the draft is saved on the server, with the page's version.
        wait(clock, page, 13)
        expect(page.get_by_test_id("autosave-status")).to_contain_text("Draft saved at")
        autosaved = OTSession.objects.get(pk=note.pk)
        autosaved_ratings = list(autosaved.target_skills.values_list("rating", flat=True))
        expect(page.locator("input[name=version]")).to_have_value("2")
        warning_before = page.get_by_test_id("idle-warning").is_visible()

        # A minute before, the warning; "Stay signed in" starts the fifteen minutes again.
        wait(clock, page, 1)
        expect(page.get_by_test_id("idle-warning")).to_be_visible()
        page.get_by_test_id("idle-stay").click()
        expect(page.get_by_test_id("idle-warning")).to_be_hidden()

        # The page saves on: its rows and version are those the autosave left.
        page.fill("input[name='target_skills-0-rating']", "6")
        with page.expect_navigation():
            page.get_by_test_id("save-note").click()
        saved = OTSession.objects.get(pk=note.pk)
        # The new page's first "time left?" answer must arrive before the clocks jump, or its
        # timer would be set after the jump and never fire.
        page.wait_for_load_state("networkidle")

        # Left alone for fifteen minutes, the page goes to the login, which says why.
        wait(clock, page, 16)
        page.wait_for_url(lambda url: reverse("login") in url)
        login_text = page.locator("main").inner_text()

    assert (autosaved.recommendations, autosaved.version) == ("Half-typed recommendation", 2)
    assert autosaved_ratings == [5]
    assert not warning_before
    assert saved.version == 3
    assert list(saved.target_skills.values_list("skill", "rating")) == [("Catching", 6)]
    assert "You were signed out after 15 minutes without activity." in login_text
    # The manual save went to the note's page: that is where the login sends back to.
    detail_url = reverse("notes:note_detail", args=[note.specialty, note.pk])
    assert page.url.endswith(f"{reverse('login')}?next={detail_url.replace('/', '%2F')}")
