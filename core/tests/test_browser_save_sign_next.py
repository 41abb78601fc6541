"""In a real browser, in English and in Arabic: a group's notes, "Save and sign", then "Next child".

A psychologist opens the first child's note of a three-child group whose second child
was turned away at check-in, writes it, presses "Save and sign", confirms on the
signing page (the note is still a draft until then), and "Next child" opens the third
child's note, passing over the second.

Elements are found by URL, name and data-testid rather than by their English text, so
the same steps run in both languages; the expected messages are translated in the test
process with the catalogue the live server uses.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from appointments.exceptions import CheckInBlocked
from appointments.session_service import SessionService
from appointments.tests.factories import under_way
from core.models import Clinic, User
from core.tests.browser import browser, page, save_screenshot  # noqa: F401  (pytest fixtures)
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, UserFactory
from core.tests.test_browser_session_flow import in_language, sign_in, submit
from core.tests.view_helpers import booked, group_session
from psychology.models import PsychologySession

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

CHILDREN = (
    # MRN, English name, Arabic name
    ("AG-301", ("Sara", "Ali"), ("سارة", "علي")),
    ("AG-302", ("Omar", "Hassan"), ("عمر", "حسن")),
    ("AG-303", ("Lina", "Khalid"), ("لينا", "خالد")),
)


@pytest.fixture
def group(tenant):
    """A psychology group under way: Sara and Lina checked in; Omar, between them, turned away."""
    clinic = ClinicFactory(
        tenant=tenant, specialty=Clinic.Specialty.PSYCHOLOGY, requires_finance_clearance=True
    )
    psychologist = UserFactory(username="dr.noor", tenant=tenant, role=User.Role.PSYCHOLOGIST)
    session = group_session(ProviderFactory(clinic=clinic, user=psychologist), clinic)
    participants = []
    for mrn, (first_en, last_en), (first_ar, last_ar) in CHILDREN:
        child = PatientFactory(
            tenant=tenant,
            mrn=mrn,
            first_name_en=first_en,
            last_name_en=last_en,
            first_name_ar=first_ar,
            last_name_ar=last_ar,
        )
        participants.append(booked(session, child))
    sara, omar, lina = participants
    # Finance hasn't cleared Omar: his check-in is refused, and he is sent home.
    with pytest.raises(CheckInBlocked):
        SessionService.check_in_participant(omar)
    SessionService.mark_turned_away(omar)
    return {"psychologist": psychologist, "children": [under_way(sara), omar, under_way(lina)]}


def write_url(participant) -> str:
    return reverse("notes:participant_note_write", args=[participant.pk])


def write_note(tab: Page) -> None:
    tab.fill("textarea[name=presenting_issues]", "Turn-taking in the group")
    tab.fill("textarea[name=interventions_used]", "Modelling, praise")
    tab.fill("textarea[name=client_response]", "Joined two games")
    tab.select_option("select[name=risk_assessment]", "low")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_browser_save_and_sign_then_next_child_passes_over_the_child_turned_away(
    page,  # noqa: F811
    group,
    language,
):
    sara, omar, lina = group["children"]
    page.goto(reverse("login"))
    if language == "ar":
        submit(page, "button[name=language][value=ar]")
    sign_in(page, group["psychologist"])

    page.goto(write_url(sara))
    write_note(page)
    submit(page, "[data-testid=save-and-sign]")

    # The same confirmation as "Sign": the note is saved, and still a draft until confirmed.
    note = PsychologySession.objects.get(session_participant=sara)
    assert page.url.endswith(reverse("notes:note_sign", args=[note.specialty, note.pk]))
    assert note.status == PsychologySession.Status.DRAFT
    assert page.locator("main .alert-success").inner_text().strip() == in_language(
        language, "Note saved as a draft."
    )
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    save_screenshot(page, f"save-sign-next-{language}-1-confirm")
    submit(page, "[data-testid=confirm-sign]")

    assert page.locator("[data-testid=note-status] [data-note-status=signed]").count() == 1
    assert page.locator("main .alert-success").inner_text().strip() == in_language(
        language, "Note signed. Corrections from now on go in an addendum."
    )
    with page.expect_navigation():
        page.click("[data-testid=next-child]")

    # Omar was turned away: no note to write, so "Next child" goes on to Lina's.
    assert page.url.endswith(write_url(lina))
    assert page.locator("[data-testid=note-form]").count() == 1
    assert lina.appointment_number in page.locator("main").inner_text()
    assert omar.appointment_number not in page.locator("main").inner_text()
    # Lina is the last child: the form offers no "Save and next child".
    assert page.locator("[data-testid=save-and-next]").count() == 0
    save_screenshot(page, f"save-sign-next-{language}-2-next-child")
    note.refresh_from_db()
    assert (note.status, note.signed_by) == (PsychologySession.Status.SIGNED, group["psychologist"])
