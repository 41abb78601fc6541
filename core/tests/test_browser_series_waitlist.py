"""In a real browser, in English and in Arabic: a 10-week group series, its waiting list, and the week.

The front desk creates a weekly social-skills group of two seats for 10 weeks, enrols Sara and
Omar (the first session shows "Full (2/2)"), puts Lina on the first session's waiting list, then
cancels Sara's place there: Lina is booked in the seat in the same click, and the session page
says her family hasn't been told yet. Last, the desk drags that session to Wednesday on the
provider's week and confirms: it moves, every child keeping their number.

Elements are found by URL, name and data-testid rather than by their text, so the same steps run
in both languages.
"""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from appointments.models import SessionParticipant, SessionSeries, WaitlistEntry
from core.models import Clinic, User
from core.tests.browser import browser, page, save_screenshot  # noqa: F401  (pytest fixtures)
from core.tests.factories import ClinicFactory, ProviderFactory, RoomFactory, UserFactory
from core.tests.test_browser_week_calendar import confirm_move, drag, event_of, sign_in
from core.tests.view_helpers import consented_patient

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

TUESDAY = datetime.date(2026, 3, 17)  # frozen_today is Sunday 15 March 2026
WEDNESDAY = datetime.date(2026, 3, 18)
SERVICE = "Social Skills Group"


@pytest.fixture
def centre(tenant):
    clinic = ClinicFactory(
        tenant=tenant,
        name_en="Psychology Clinic",
        specialty=Clinic.Specialty.PSYCHOLOGY,
        requires_finance_clearance=False,
    )
    provider = ProviderFactory(clinic=clinic)
    children = {
        first: consented_patient(tenant, mrn=mrn, first_name_en=first, last_name_en=last)
        for first, last, mrn in (
            ("Sara", "Ali", "SW-301"),
            ("Omar", "Hassan", "SW-302"),
            ("Lina", "Khalid", "SW-303"),
        )
    }
    return {
        "desk": UserFactory(username="desk", tenant=tenant, role=User.Role.FRONT_DESK),
        "clinic": clinic,
        "provider": provider,
        "room": RoomFactory(clinic=clinic, name="Blue room"),
        "children": children,
    }


def submit(tab: Page, selector: str) -> None:
    """Click a submit button and wait for the page the POST leads to."""
    with tab.expect_navigation():
        tab.click(selector)


def enrol(tab: Page, series: SessionSeries, child) -> None:
    action = reverse("appointments:series_enrol", args=[series.pk])
    tab.goto(f"{action}?q={child.mrn}")
    submit(tab, f"form[action='{action}']:has(input[name=patient][value='{child.pk}']) button[type=submit]")
    assert tab.url.endswith(series.get_absolute_url())


@pytest.mark.parametrize("language", ["en", "ar"])
def test_browser_group_series_fills_its_waiting_list_promotes_and_moves_in_the_week(
    page,  # noqa: F811
    centre,
    language,
):
    sara, omar, lina = (centre["children"][name] for name in ("Sara", "Omar", "Lina"))
    sign_in(page, centre["desk"], language)

    # A weekly group of two seats for 10 weeks, from Tuesday at 11:00.
    page.goto(reverse("appointments:series_create"))
    page.check("input[name=session_type][value=group]")
    page.select_option("select[name=clinic]", str(centre["clinic"].pk))
    page.select_option("select[name=provider]", str(centre["provider"].pk))
    page.select_option("select[name=room]", str(centre["room"].pk))
    page.fill("input[name=service_type]", SERVICE)
    page.fill("input[name=title]", "Social skills, spring")
    page.fill("input[name=start_date]", TUESDAY.isoformat())
    page.fill("input[name=scheduled_time]", "11:00")
    page.fill("input[name=duration]", "60")
    page.fill("input[name=occurrence_count]", "10")
    page.fill("input[name=max_capacity]", "2")
    save_screenshot(page, f"series-create-{language}")
    submit(page, "[data-testid=series-submit]")
    series = SessionSeries.objects.get()
    assert page.url.endswith(series.get_absolute_url())
    sessions = list(series.sessions.order_by("scheduled_date"))
    assert [s.scheduled_date for s in sessions] == [TUESDAY + datetime.timedelta(weeks=n) for n in range(10)]

    # Sara and Omar enrolled: a place in each of the 10 sessions, each with its own number; full.
    enrol(page, series, sara)
    enrol(page, series, omar)
    numbers = list(
        SessionParticipant.objects.filter(session__series=series).values_list("appointment_number", flat=True)
    )
    assert len(numbers) == len(set(numbers)) == 20
    save_screenshot(page, f"series-detail-{language}")
    first = sessions[0]
    page.goto(first.get_absolute_url())
    assert "2/2" in page.get_by_test_id("full").inner_text()

    # Lina waits for the first session's seat.
    page.get_by_test_id("waitlist-add").click()
    page.wait_for_url(f"**{reverse('appointments:session_waitlist_add', args=[first.pk])}*")
    page.fill("#patient-search", lina.mrn)
    with page.expect_navigation():
        page.press("#patient-search", "Enter")
    submit(page, f"form:has(input[name=patient][value='{lina.pk}']) button[type=submit]")
    entry = WaitlistEntry.objects.get(session=first, patient=lina)
    assert (entry.status, entry.position) == (WaitlistEntry.Status.WAITING, 1)

    # Sara's family cancels the first session: Lina gets the seat at once, and it shows.
    page.goto(first.get_absolute_url())
    place = first.participants.get(patient=sara)
    row = page.locator(f"#participant-{place.pk}")
    row.locator("summary").click()
    row.locator("select[name=cancelled_by]").select_option("family")
    row.locator("input[name=reason]").fill("Flu")
    submit(
        page,
        f"form[action='{reverse('appointments:participant_cancel', args=[place.pk])}'] button[type=submit]",
    )
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.BOOKED
    assert entry.participant.patient == lina
    assert page.locator(f"#participant-{entry.participant.pk} [data-promoted]").count() == 1
    save_screenshot(page, f"waitlist-promoted-{language}")

    # On the provider's week, the first session is dragged to Wednesday 10:00 and moved.
    kept = dict(first.participants.values_list("patient_id", "appointment_number"))
    page.goto(
        f"{reverse('appointments:calendar_week')}?provider={centre['provider'].pk}&date={TUESDAY.isoformat()}"
    )
    drag(page, event_of(page, first, TUESDAY), WEDNESDAY, "10:00")
    assert confirm_move(page)["moved"] is True
    page.reload()
    moved = event_of(page, first, WEDNESDAY)
    moved.wait_for()
    assert "10:00" in moved.inner_text()
    save_screenshot(page, f"series-week-moved-{language}")
    first.refresh_from_db()
    assert (first.scheduled_date, first.scheduled_time) == (WEDNESDAY, datetime.time(10))
    assert dict(first.participants.values_list("patient_id", "appointment_number")) == kept
