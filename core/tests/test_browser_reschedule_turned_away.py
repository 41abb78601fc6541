"""In a real browser, in English and in Arabic: a child turned away, and a group moved to another day.

Front desk checks in today's group: Lina's consent expired, check-in is refused and the page
says why; the desk marks her turned away, and her row shows it (her seat is free). Then the
desk moves Tuesday's group to Wednesday from its session page: every child keeps their
number, the page says where the session was until the desk records that the families know.

Elements are found by URL, name and data-testid rather than by their English text, so the
same steps run in both languages; the expected messages are translated in the test process
with the catalogue the live server uses.
"""

import datetime
import zoneinfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from playwright.sync_api import Page

from appointments.models import Session, SessionParticipant
from appointments.session_service import SessionService
from core.models import Clinic, User
from core.tests.browser import browser, page, save_screenshot  # noqa: F401  (pytest fixtures)
from core.tests.browser import sign_in as sign_in_through_the_form
from core.tests.factories import (
    ClinicFactory,
    ConsentFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    UserFactory,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

TUESDAY = datetime.date(2026, 3, 17)  # frozen_today is Sunday 15 March 2026
WEDNESDAY = datetime.date(2026, 3, 18)
CONSENT_EXPIRED = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


@pytest.fixture
def centre(tenant, frozen_today):
    """A psychology clinic asking for consent; today's group (Sara, Lina) and Tuesday's (Sara, Omar)."""
    clinic = ClinicFactory(
        tenant=tenant,
        name_en="Psychology Clinic",
        name_ar="عيادة علم النفس",
        specialty=Clinic.Specialty.PSYCHOLOGY,
        requires_finance_clearance=False,
        requires_consent=True,
    )
    provider = ProviderFactory(clinic=clinic)
    room = RoomFactory(clinic=clinic, name="Blue room")
    sara = PatientFactory(tenant=tenant, mrn="AG-301", first_name_en="Sara", last_name_en="Ali")
    omar = PatientFactory(tenant=tenant, mrn="AG-302", first_name_en="Omar", last_name_en="Hassan")
    lina = PatientFactory(
        tenant=tenant,
        mrn="AG-303",
        first_name_en="Lina",
        last_name_en="Khalid",
        first_name_ar="لينا",
        last_name_ar="خالد",
    )
    for child in (sara, omar):
        ConsentFactory(patient=child)
    ConsentFactory(patient=lina, expires_at=CONSENT_EXPIRED)
    sessions = {}
    for name, day, children in (("today", frozen_today, (sara, lina)), ("tuesday", TUESDAY, (sara, omar))):
        session = SessionService.create_group_session(
            provider=provider,
            clinic=clinic,
            scheduled_date=day,
            scheduled_time=datetime.time(11),
            duration=60,
            service_type="Social Skills Group",
            max_capacity=4,
            room=room,
        )
        for child in children:
            SessionService.add_patient_to_session(session, child)
        sessions[name] = session
    return {
        "desk": UserFactory(username="desk", tenant=tenant, role=User.Role.FRONT_DESK),
        "sessions": sessions,
        "lina": lina,
    }


def in_language(language: str, message: str, **values) -> str:
    with translation.override(language):
        return gettext(message) % {
            name: date_format(value, "SHORT_DATE_FORMAT") if isinstance(value, datetime.date) else value
            for name, value in values.items()
        }


def submit(tab: Page, selector: str) -> None:
    """Click a submit button and wait for the tab the POST redirects to."""
    with tab.expect_navigation():
        tab.click(selector)


def sign_in(tab: Page, user: User, language: str) -> None:
    sign_in_through_the_form(tab, user, language)
    assert tab.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")


def action_button(name: str, pk: int) -> str:
    return f"form[action='{reverse(name, args=[pk])}'] button[type=submit]"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_browser_front_desk_turns_a_refused_child_away_and_moves_a_group(page, centre, language):  # noqa: F811
    today, tuesday = centre["sessions"]["today"], centre["sessions"]["tuesday"]
    lina = today.participants.get(patient=centre["lina"])
    sign_in(page, centre["desk"], language)

    # Lina's consent expired: check-in is refused, and the page says why.
    page.goto(today.get_absolute_url())
    submit(page, action_button("appointments:participant_check_in", lina.pk))
    refusal = in_language(
        language,
        "The consent of %(patient)s expired on %(day)s.",
        patient="لينا خالد" if language == "ar" else "Lina Khalid",
        day=CONSENT_EXPIRED.date(),
    )
    assert page.locator("main .alert-danger[role=alert]").inner_text().strip() == refusal
    assert page.locator(f"#participant-{lina.pk} [data-status=booked]").count() == 1

    # She is sent home: turned away, and her seat is free.
    submit(page, f"#participant-{lina.pk} [data-action=turned-away]")
    assert page.locator(f"#participant-{lina.pk} [data-status=turned_away]").count() == 1
    save_screenshot(page, f"turned-away-{language}")
    lina.refresh_from_db()
    assert lina.status == SessionParticipant.Status.TURNED_AWAY
    assert today.current_capacity == 1

    # Tuesday's group moves to Wednesday from its page.
    numbers = dict(tuesday.participants.values_list("patient__mrn", "appointment_number"))
    page.goto(tuesday.get_absolute_url())
    page.click("[data-testid=reschedule]")
    page.wait_for_url(f"**{reverse('appointments:session_reschedule', args=[tuesday.pk])}")
    page.fill("input[name=scheduled_date]", WEDNESDAY.isoformat())
    page.fill("input[name=scheduled_time]", "09:30")
    page.fill("textarea[name=reason]", "Room repainted")
    save_screenshot(page, f"reschedule-form-{language}")
    submit(page, "[data-testid=reschedule-submit]")

    assert page.url.endswith(tuesday.get_absolute_url())
    with translation.override(language):
        moved_from = date_format(TUESDAY, "l j F Y")
    notice = page.locator("[data-testid=moved-from]")
    assert moved_from in notice.inner_text()
    assert "11:00" in notice.inner_text()
    save_screenshot(page, f"rescheduled-{language}")
    tuesday.refresh_from_db()
    assert (tuesday.scheduled_date, tuesday.scheduled_time) == (WEDNESDAY, datetime.time(9, 30))
    assert dict(tuesday.participants.values_list("patient__mrn", "appointment_number")) == numbers

    # The families are told: the notice goes.
    submit(page, action_button("appointments:session_families_told", tuesday.pk))
    assert page.locator("[data-testid=moved-from]").count() == 0
    assert Session.objects.get(pk=tuesday.pk).families_told_at is not None
