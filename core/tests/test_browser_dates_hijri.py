"""In a real browser, in English and in Arabic: a session page of Sunday 15/03/2026 reads its date
day first with the Umm al-Qura date beside it, every digit Latin, and its time range 10:00–11:00
from left to right, on the right-to-left Arabic page too, where the same text without isolation
is drawn the other way round ("11:00–10:00").
"""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page

from core.models import User
from core.tests.browser import browser, page, save_screenshot  # noqa: F401  (pytest fixtures)
from core.tests.factories import UserFactory
from core.tests.view_helpers import booked, group_session

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

EXPECTED = {
    "en": {"dir": "ltr", "day": "Sunday 15 March 2026", "hijri": "(26 Ramadan 1447 AH)"},
    "ar": {"dir": "rtl", "day": "الأحد 15 مارس 2026", "hijri": "(26 رمضان 1447 هـ)"},
}
NON_LATIN_DIGITS = re.compile(r"[٠-٩۰-۹]")

# Where the browser draws "10:00" and "11:00" of a range's text: the left edge of each.
EDGES_OF_START_AND_END = """(element) => {
  const text = element.firstChild;
  const left = (from, to) => {
    const range = document.createRange();
    range.setStart(text, from);
    range.setEnd(text, to);
    return range.getBoundingClientRect().left;
  };
  return [left(0, 5), left(6, 11)];
}"""
# The same range without isolation, beside the real one: what the page showed before.
UNISOLATED_COPY = """(element) => {
  const copy = document.createElement("span");
  copy.textContent = element.textContent;
  element.after(" ", copy);
  return copy;
}"""


def sign_in(tab: Page, base_url: str, user: User) -> None:
    """Sign ``user`` in with a session Django's test client made: no login form."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    tab.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])


def switch_language(tab: Page, base_url: str, language: str) -> None:
    tab.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}])


def test_browser_session_page_reads_day_first_with_the_hijri_date_and_a_left_to_right_time_range(
    page,  # noqa: F811
    live_server,
    tenant,
    clinic,
    provider,
):
    tenant.show_hijri_dates = True
    tenant.save(update_fields=["show_hijri_dates"])
    session = group_session(provider, clinic, hour=10)
    booked(session)
    sign_in(page, live_server.url, UserFactory(tenant=tenant, role=User.Role.FRONT_DESK))

    for language, expected in EXPECTED.items():
        switch_language(page, live_server.url, language)
        page.goto(session.get_absolute_url())

        assert page.locator("html").get_attribute("dir") == expected["dir"]
        heading = page.locator("div:has(> .hijri-date)")
        assert expected["day"] in heading.inner_text()
        assert page.locator(".hijri-date").inner_text() == expected["hijri"]
        assert not NON_LATIN_DIGITS.search(page.locator("main").inner_text())
        time_range = heading.locator("> .time-range")
        assert time_range.inner_text() == "10:00–11:00"
        start, end = time_range.evaluate(EDGES_OF_START_AND_END)
        assert start < end
        save_screenshot(page, f"dates-hijri-session-{language}")
        unisolated_start, unisolated_end = time_range.evaluate_handle(UNISOLATED_COPY).evaluate(
            EDGES_OF_START_AND_END
        )
        assert (unisolated_start > unisolated_end) == (expected["dir"] == "rtl")
