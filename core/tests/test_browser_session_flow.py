"""In a real browser, in English and in Arabic: a group session from booking to signed notes.

Front desk creates a group session and adds three children through the search;
finance clears them; front desk checks them in - one is refused for a missing
consent, and the page says so - and has no button to start or complete it; the
psychologist (its provider) starts the session, writes and signs a note for each
child who came, and completes the session from its confirmation page, which lists
what becomes of each child.

Elements are found by URL, name, role and data-testid rather than by their
English text, so the same steps run in both languages; the expected messages
are translated in the test process with the catalogue the live server uses.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page

from appointments.models import Session, SessionParticipant
from appointments.session_service import SessionService
from core.clock import today as clinic_today
from core.models import Clinic, User
from core.tests.browser import browser, page, save_screenshot  # noqa: F401  (pytest fixtures)
from core.tests.factories import (
    ClinicFactory,
    ConsentFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    UserFactory,
)
from ot.models import OTSession
from psychology.models import PsychologySession

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

PASSWORD = "pass12345"  # UserFactory's
CHILDREN = (
    # MRN, English name, Arabic name, whether a consent is on file
    ("AG-201", ("Sara", "Ali"), ("سارة", "علي"), True),
    ("AG-202", ("Omar", "Hassan"), ("عمر", "حسن"), True),
    ("AG-203", ("Lina", "Khalid"), ("لينا", "خالد"), False),
)


@pytest.fixture
def centre(tenant):
    """A psychology clinic asking for finance clearance and consent, its staff and three children."""
    clinic = ClinicFactory(
        tenant=tenant,
        name_en="Psychology Clinic",
        name_ar="عيادة علم النفس",
        specialty=Clinic.Specialty.PSYCHOLOGY,
        requires_finance_clearance=True,
        requires_consent=True,
    )
    psychologist = UserFactory(
        username="dr.noor", tenant=tenant, role=User.Role.PSYCHOLOGIST, first_name="Noor", last_name="Saleh"
    )
    children = []
    for mrn, (first_en, last_en), (first_ar, last_ar), consented in CHILDREN:
        child = PatientFactory(
            tenant=tenant,
            mrn=mrn,
            first_name_en=first_en,
            last_name_en=last_en,
            first_name_ar=first_ar,
            last_name_ar=last_ar,
        )
        if consented:
            ConsentFactory(patient=child)
        children.append(child)
    return {
        "clinic": clinic,
        "room": RoomFactory(clinic=clinic, name="Blue room"),
        "provider": ProviderFactory(clinic=clinic, user=psychologist),
        "desk": UserFactory(username="desk", tenant=tenant, role=User.Role.FRONT_DESK),
        "finance": UserFactory(username="finance", tenant=tenant, role=User.Role.FINANCE),
        "children": children,
    }


def in_language(language: str, message: str, **values) -> str:
    with translation.override(language):
        return gettext(message) % values


def sign_in(tab: Page, user: User) -> None:
    """Sign in through the site's login form (the language switcher's buttons are submit buttons too)."""
    tab.goto(reverse("login"))
    tab.fill("input[name=username]", user.username)
    tab.fill("input[name=password]", PASSWORD)
    submit(tab, f"main form[action='{reverse('login')}'] button[type=submit]")
    assert "/login/" not in tab.url


def sign_out(tab: Page) -> None:
    with tab.expect_navigation():
        tab.click(f"form[action='{reverse('logout')}'] button[type=submit]")


def submit(tab: Page, selector: str) -> None:
    """Click a submit button and wait for the tab the POST redirects to."""
    with tab.expect_navigation():
        tab.click(selector)


def action_button(name: str, pk: int) -> str:
    return f"form[action='{reverse(name, args=[pk])}'] button[type=submit]"


def participant_of(session: Session, mrn: str) -> SessionParticipant:
    return session.participants.get(patient__mrn=mrn)


def create_group_session(tab: Page, centre: dict) -> Session:
    tab.goto(reverse("appointments:session_create"))
    tab.select_option("select[name=clinic]", str(centre["clinic"].pk))
    tab.select_option("select[name=provider]", str(centre["provider"].pk))
    tab.select_option("select[name=room]", str(centre["room"].pk))
    tab.fill("input[name=scheduled_time]", "10:00")
    tab.fill("input[name=duration]", "60")
    tab.fill("input[name=service_type]", "Social Skills Group")
    tab.fill("input[name=max_capacity]", "6")
    submit(tab, "main form button[type=submit]")
    session = Session.objects.get()
    assert tab.url.endswith(session.get_absolute_url())
    return session


def add_patient_by_search(tab: Page, session: Session, patient) -> None:
    tab.goto(reverse("appointments:session_add_patient", args=[session.pk]))
    tab.fill("input[name=q]", patient.first_name_en)
    submit(tab, "form[role=search] button[type=submit]")
    submit(tab, f"form:has(input[name=patient][value='{patient.pk}']) button[type=submit]")
    assert tab.url.endswith(session.get_absolute_url())


def write_and_sign_note(tab: Page, session: Session, mrn: str, screenshots: str = "") -> None:
    """Write, save and sign the child's note from the session page; back to the session page."""
    tab.click(f"[data-participant-notes='{mrn}'] [data-testid=write-note]")
    tab.wait_for_selector("[data-testid=note-form]")
    tab.fill("textarea[name=presenting_issues]", f"Turn-taking in the group ({mrn})")
    tab.fill("textarea[name=interventions_used]", "Modelling, praise")
    tab.fill("textarea[name=client_response]", "Joined two games")
    tab.select_option("select[name=risk_assessment]", "low")
    tab.fill("textarea[name=plan_next_session]", "Practise greetings")
    if screenshots:
        save_screenshot(tab, f"{screenshots}-note-form")
    submit(tab, "[data-testid=save-note]")
    tab.click("[data-testid=sign-note]")
    submit(tab, "[data-testid=confirm-sign]")
    assert tab.locator("[data-testid=note-status] [data-note-status=signed]").count() == 1
    if screenshots:
        save_screenshot(tab, f"{screenshots}-note-signed")
    tab.click("[data-testid=back-to-session]")
    tab.wait_for_url(f"**{session.get_absolute_url()}")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_browser_group_session_from_booking_to_signed_notes(page, centre, language):  # noqa: F811
    sara, omar, lina = centre["children"]
    page.goto(reverse("login"))
    if language == "ar":
        submit(page, "button[name=language][value=ar]")
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    assert page.locator("html").get_attribute("lang") == language

    # Front desk: the session and its three children.
    sign_in(page, centre["desk"])
    session = create_group_session(page, centre)
    for child in (sara, omar, lina):
        add_patient_by_search(page, session, child)
    assert page.locator("#participants tbody tr[data-participant]").count() == 3
    sign_out(page)

    # Finance clears all three, so the only thing missing for Lina is her consent.
    sign_in(page, centre["finance"])
    page.goto(session.get_absolute_url())
    for child in (sara, omar, lina):
        submit(
            page,
            action_button("appointments:participant_clear_finance", participant_of(session, child.mrn).pk),
        )
    sign_out(page)

    # Front desk checks them in: Lina is refused, and the page says why.
    sign_in(page, centre["desk"])
    page.goto(session.get_absolute_url())
    for child in (sara, omar, lina):
        submit(
            page, action_button("appointments:participant_check_in", participant_of(session, child.mrn).pk)
        )
    name = lina.full_name_ar if language == "ar" else lina.full_name_en
    refusal = in_language(language, "No valid consent on file for %(patient)s.", patient=name)
    assert page.locator("main .alert-danger[role=alert]").inner_text().strip() == refusal
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    save_screenshot(page, f"session-flow-{language}-1-check-in")
    statuses = dict(session.participants.values_list("patient__mrn", "status"))
    assert statuses == {sara.mrn: "arrived", omar.mrn: "arrived", lina.mrn: "booked"}
    # Running the session is the clinicians': the front desk gets no start or complete button.
    assert page.locator(action_button("appointments:session_start", session.pk)).count() == 0
    assert page.locator("[data-testid=complete]").count() == 0
    sign_out(page)

    # The psychologist starts the session, writes and signs a note for each child who came
    # (a note is signed once the session has started), then completes the session.
    sign_in(page, centre["provider"].user)
    page.goto(session.get_absolute_url())
    submit(page, action_button("appointments:session_start", session.pk))
    # A note is offered only for the children who were checked in.
    assert page.locator(f"[data-participant-notes='{lina.mrn}'] [data-testid=write-note]").count() == 0
    for child in (sara, omar):
        write_and_sign_note(page, session, child.mrn, f"session-flow-{language}" if child == sara else "")
        assert page.locator(f"[data-participant-notes='{child.mrn}'] [data-note-status=signed]").count() == 1
    save_screenshot(page, f"session-flow-{language}-2-notes-signed")
    # Complete asks first, listing what becomes of each child.
    page.click("[data-testid=complete]")
    page.wait_for_url(f"**{reverse('appointments:session_complete', args=[session.pk])}")
    attended = page.locator("[data-testid=becomes-attended]").inner_text()
    assert sara.full_name_en in attended
    assert omar.full_name_en in attended
    # Lina was refused at check-in today: turned away, not a no-show.
    assert lina.full_name_en in page.locator("[data-testid=becomes-turned-away]").inner_text()
    assert lina.full_name_en not in page.locator("[data-testid=becomes-no-show]").inner_text()
    save_screenshot(page, f"session-flow-{language}-3-complete-confirmation")
    submit(page, "[data-testid=confirm-complete]")

    assert page.locator("main h1 [data-status=completed]").count() == 1
    save_screenshot(page, f"session-flow-{language}-4-completed")
    session.refresh_from_db()
    assert session.status == Session.Status.COMPLETED
    assert dict(session.participants.values_list("patient__mrn", "status")) == {
        sara.mrn: "attended",
        omar.mrn: "attended",
        lina.mrn: "turned_away",
    }
    notes = PsychologySession.objects.filter(session=session)
    assert sorted(notes.values_list("patient__mrn", "status", "signed_by__username")) == [
        (sara.mrn, "signed", "dr.noor"),
        (omar.mrn, "signed", "dr.noor"),
    ]
    assert {note.session_date for note in notes} == {session.scheduled_date}


def test_browser_ot_note_takes_skill_rows_added_in_the_page(page, tenant):  # noqa: F811
    clinic = ClinicFactory(tenant=tenant, specialty=Clinic.Specialty.OT, requires_finance_clearance=False)
    therapist = ProviderFactory(clinic=clinic)
    participant = SessionService.add_patient_to_session(
        SessionService.create_group_session(
            provider=therapist,
            clinic=clinic,
            scheduled_date=clinic_today(),
            scheduled_time=datetime.time(9),
            duration=45,
            service_type="Fine motor group",
            max_capacity=4,
        ),
        ConsentFactory(patient=PatientFactory(tenant=tenant)).patient,
    )
    SessionService.check_in_participant(participant)

    sign_in(page, therapist.user)
    page.goto(participant.session.get_absolute_url())
    page.click("[data-testid=write-note]")
    page.fill("textarea[name=activities]", "Bead threading")
    page.click("[data-testid=add-target_skills]")
    page.click("[data-testid=add-target_skills]")
    for index, (skill, rating) in enumerate((("Threading", "4"), ("Cutting", "7"), ("Buttoning", "10"))):
        page.fill(f"input[name=target_skills-{index}-skill]", skill)
        page.fill(f"input[name=target_skills-{index}-rating]", rating)
    save_screenshot(page, "ot-note-form-three-skills")
    submit(page, "[data-testid=save-note]")

    assert page.locator("[data-testid=average-rating]").inner_text() == "7.0"
    save_screenshot(page, "ot-note-detail")
    note = OTSession.objects.get()
    assert list(note.target_skills.values_list("skill", "rating")) == [
        ("Threading", 4),
        ("Cutting", 7),
        ("Buttoning", 10),
    ]
