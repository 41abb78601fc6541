"""In a real browser: an administrator signs into the Django admin, reads session capacity, and
adds a session the service first refuses (message shown, input kept), then accepts."""

import datetime

import pytest

from appointments.models import Session
from appointments.session_service import SessionService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory
from core import clock
from core.models import User
from core.tests.admin_helpers import admin_url
from core.tests.browser import browser, log_in, page, save_screenshot  # noqa: F401  (pytest fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_browser_admin_session_changelist_shows_taken_over_capacity(page, clinic, provider):  # noqa: F811
    session = GroupSessionFactory(
        clinic=clinic,
        provider=provider,
        max_capacity=5,
        scheduled_time=datetime.time(10),
        service_type="Social Skills Group",
    )
    ParticipantFactory.create_batch(3, session=session)
    SessionService.cancel_participant(ParticipantFactory(session=session), "Family travelling")
    User.objects.create_superuser("root", "root@example.org", "a-Long-pass-9021")

    log_in(page, "root", "a-Long-pass-9021")
    page.goto(admin_url(Session, "changelist"))

    row = page.locator("#result_list tbody tr", has_text="Social Skills Group")
    assert row.locator("td.field-seats").inner_text() == "3/5"
    assert page.locator("#result_list thead th.column-seats").text_content().strip() == "Taken/capacity"
    assert save_screenshot(page, "admin-session-changelist").stat().st_size > 0

    row.get_by_role("link", name="Social Skills Group").click()
    page.wait_for_url(f"**{admin_url(Session, 'change', session.pk)}")
    assert page.locator(".field-seats .readonly").inner_text() == "3/5"
    participants = page.locator("#participants-group tbody tr.has_original")
    assert participants.count() == 4
    assert participants.filter(has_text="Cancelled").count() == 1
    assert save_screenshot(page, "admin-session-change").stat().st_size > 0


@pytest.mark.usefixtures("frozen_today")
def test_browser_admin_session_add_refused_by_the_service_keeps_the_input(page, clinic, provider):  # noqa: F811
    User.objects.create_superuser("root", "root@example.org", "a-Long-pass-9021")
    log_in(page, "root", "a-Long-pass-9021")
    page.goto(admin_url(Session, "add"))
    page.select_option("select[name=session_type]", "group")
    page.fill("input[name=service_type]", "Social Skills Group")
    page.select_option("select[name=clinic]", str(clinic.pk))
    page.select_option("select[name=provider]", str(provider.pk))
    # A month ahead: inside the clinic's booking horizon (12 months), so only the seats are wrong.
    page.fill("input[name=scheduled_date]", (clock.today() + datetime.timedelta(days=30)).isoformat())
    page.fill("input[name=scheduled_time]", "10:00")
    page.fill("input[name=duration]", "60")
    page.fill("input[name=max_capacity]", "25")

    page.click("input[name=_save]")

    assert page.locator(".errorlist.nonfield").inner_text() == (
        "A group session needs between 2 and 20 seats (got 25)."
    )
    assert page.input_value("input[name=service_type]") == "Social Skills Group"
    assert page.input_value("input[name=max_capacity]") == "25"
    assert not Session.objects.exists()
    assert save_screenshot(page, "admin-session-add-refused").stat().st_size > 0

    page.fill("input[name=max_capacity]", "6")
    page.click("input[name=_save]")

    page.wait_for_url(f"**{admin_url(Session, 'changelist')}")
    session = Session.objects.get()
    assert (session.service_type, session.max_capacity, session.created_by.username) == (
        "Social Skills Group",
        6,
        "root",
    )
