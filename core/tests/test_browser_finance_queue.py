"""In a real browser, in English and in Arabic: finance works through the clearance queue.

Finance opens the queue from the home page: 9 bookings wait this week, 5 on the first page (the
test's page size, so that few rows fill two pages) and 4 on the second, reached with "Next".
Filtered to the autism centre, three remain;
finance ticks "select all", unticks one, and clears the two left. One of them was cancelled
meanwhile, so the page answers row by row: one cleared, one refused with the reason.

Elements are found by name, URL and data-testid rather than by their text, so the same steps
run in both languages.
"""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext
from playwright.sync_api import Page

from appointments import clearance_views
from appointments.session_service import SessionService
from core.models import User
from core.tests.browser import browser, page, save_screenshot  # noqa: F401  (pytest fixtures)
from core.tests.factories import ClinicFactory, ProviderFactory, UserFactory
from core.tests.test_browser_week_calendar import sign_in
from core.tests.view_helpers import booked, group_session

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]


PAGE_SIZE = 5


@pytest.fixture
def queue(tenant, monkeypatch):
    """6 places in a psychology group and 3 in the autism centre's, all today; pages of 5 rows."""
    monkeypatch.setattr(clearance_views, "PAGE_SIZE", PAGE_SIZE)
    psychology = ClinicFactory(tenant=tenant, name_en="Psychology Clinic", name_ar="عيادة علم النفس")
    autism = ClinicFactory(tenant=tenant, name_en="Autism Centre", name_ar="مركز التوحد")
    session = group_session(ProviderFactory(clinic=psychology), psychology, hour=9, capacity=6)
    for _ in range(6):
        booked(session)
    group = group_session(ProviderFactory(clinic=autism), autism, hour=13, capacity=3)
    return {
        "finance": UserFactory(username="finance", tenant=tenant, role=User.Role.FINANCE),
        "autism": autism,
        "autism_places": [booked(group) for _ in range(3)],
    }


def rows(tab: Page):
    return tab.locator("[data-testid=clearance-queue] tbody tr[data-row]")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_browser_finance_pages_filters_and_clears_rows_with_a_result_for_each(
    page,  # noqa: F811
    queue,
    language,
):
    sign_in(page, queue["finance"], language)

    # From home to the whole queue: 9 rows, 5 then 4.
    with page.expect_navigation():
        page.get_by_test_id("clearance-see-all").click()
    assert page.url.endswith(reverse("appointments:clearance_queue"))
    assert "9" in page.get_by_test_id("queue-count").inner_text()
    assert rows(page).count() == PAGE_SIZE
    with page.expect_navigation():
        page.click(".pagination a[href$='page=2']")
    assert rows(page).count() == 4
    save_screenshot(page, f"finance-queue-page-2-{language}")

    # The autism centre only, today only (typed day first).
    page.select_option("select[name=clinic]", str(queue["autism"].pk))
    page.fill("input[name=date_to]", "15/03/2026")
    with page.expect_navigation():
        page.click("[data-testid=clearance-filters] button[type=submit]")
    assert page.input_value("input[name=date_to]") == "15/03/2026"
    first, second, third = queue["autism_places"]
    assert rows(page).evaluate_all("rows => rows.map(row => row.dataset.row)") == [
        f"participant-{place.pk}" for place in (first, second, third)
    ]

    # Select all, then untick the third: "select all" shows it is partly ticked.
    page.check("#clearance-select-all")
    assert page.locator("input[name=rows]:checked").count() == 3
    page.uncheck(f"input[name=rows][value='participant-{third.pk}']")
    assert page.eval_on_selector("#clearance-select-all", "box => box.indeterminate") is True

    # The second child's family cancels before finance clicks.
    SessionService.cancel_participant(second, "Family moved away")
    with page.expect_navigation():
        page.get_by_test_id("clear-selected").click()

    results = page.get_by_test_id("clearance-results")
    assert results.locator("[data-result=cleared]").count() == 1
    assert results.locator("[data-result=refused]").count() == 1
    assert first.appointment_number in results.locator("[data-result=cleared]").inner_text()
    assert second.appointment_number in results.locator("[data-result=refused]").inner_text()
    with translation.override(language):
        heading = ngettext(
            "Cleared %(cleared)s of %(total)s row", "Cleared %(cleared)s of %(total)s rows", 2
        ) % {
            "cleared": 1,
            "total": 2,
        }
    assert results.locator("h2").inner_text() == heading
    # Still filtered to the autism centre: only the unticked child waits.
    assert rows(page).evaluate_all("rows => rows.map(row => row.dataset.row)") == [f"participant-{third.pk}"]
    save_screenshot(page, f"finance-queue-cleared-{language}")
