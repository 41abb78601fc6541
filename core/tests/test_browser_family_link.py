"""In a real browser, in Arabic: a guardian opens the link of two siblings' session, reads it right
to left, confirms one child, then cancels the other - late, so after the warning and a second,
explicit confirmation.
"""

import datetime

import pytest
from playwright.sync_api import expect

from appointments.models import SessionParticipant
from appointments.tests.test_family_link import child, guardian_of, link_for, reminder_for
from core.tests.browser import browser, page, save_screenshot  # noqa: F401  (pytest fixtures)
from core.tests.view_helpers import booked, group_session

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

Status = SessionParticipant.Status


def test_guardian_confirms_one_child_and_cancels_the_other_late_in_arabic(
    page,  # noqa: F811
    provider,
    clinic,
    tenant,
    frozen_today,
):
    # Tomorrow at 09:00: 23 hours ahead, inside the clinic's 24-hour late window.
    session = group_session(provider, clinic, day=frozen_today + datetime.timedelta(days=1), hour=9)
    sara = booked(session, child(tenant))
    omar = booked(session, child(tenant, "Omar", "عمر"))
    mother = guardian_of(sara.patient)
    url = link_for(reminder_for(sara, mother), reminder_for(omar, mother))

    page.goto(url)

    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("h1")).to_have_text("مركز أجدر")
    expect(page.get_by_test_id("when")).to_have_text("الجلسة يوم الاثنين 16 مارس 2026 الساعة 09:00")
    expect(page.locator("nav")).to_have_count(0)

    with page.expect_navigation():
        page.get_by_role("button", name="تأكيد سارة").click()
    expect(page.get_by_role("status")).to_have_text("تم تأكيد جلسة سارة. شكرًا لك.")

    page.get_by_role("link", name="إلغاء عمر").click()
    expect(page.get_by_test_id("late-warning")).to_have_text(
        "هذا إلغاء متأخر: الجلسة ستبدأ قريبًا، وقد تُحتسب رسومها."
    )
    page.get_by_label("السبب").select_option("illness")
    page.get_by_label("ما سبب الإلغاء؟").fill("حرارة")
    with page.expect_navigation():
        page.get_by_role("button", name="إلغاء الجلسة").click()
    expect(page.locator(".invalid-feedback")).to_have_text(
        "ضع علامة في المربع لتأكيد علمك بأن هذا الإلغاء المتأخر قد تُحتسب عليه رسوم."
    )
    page.get_by_label("أفهم أن هذا الإلغاء المتأخر قد تُحتسب عليه رسوم.").check()
    with page.expect_navigation():
        page.get_by_role("button", name="إلغاء الجلسة").click()

    expect(page.get_by_role("status").first).to_have_text("تم إلغاء جلسة عمر.")
    save_screenshot(page, "family-link-ar")
    sara.refresh_from_db()
    omar.refresh_from_db()
    assert sara.status == Status.CONFIRMED
    assert (omar.status, omar.cancelled_by, omar.is_late_cancellation, omar.billable) == (
        Status.CANCELLED,
        SessionParticipant.CancelledBy.FAMILY,
        True,
        True,
    )
    expect(page.get_by_test_id(f"child-{omar.reminders.get().pk}").get_by_test_id("state")).to_have_text(
        "ملغى"
    )
