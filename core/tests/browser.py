"""Browser-test fixtures: Debian's Chromium driven by Playwright against ``live_server``.

A browser test module imports the fixtures it uses and marks itself::

    from core.tests.browser import browser, page  # noqa: F401  (pytest fixtures)

    pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

``transaction=True`` because the live server answers from another thread and so
only sees committed rows. Every page runs under the site's Content-Security-Policy, and
``page`` fails its test when Chromium reports a violation of it (a refused inline script,
eval, or a file from elsewhere), even if what the test checks still works. Chromium is the
distribution's (``scripts/ensure_chromium.sh``); ``playwright install`` and its browser
download are never used.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
# Chromium reports each refusal on the console, e.g. "Executing inline script violates the
# following Content Security Policy directive 'script-src 'self''. ...".
CSP_VIOLATION = "Content Security Policy"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
# UserFactory sets every user's password to this.
FACTORY_PASSWORD = "pass12345"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure_chromium.sh (as root) first.")
    # Playwright's sync API keeps an asyncio event loop running in this thread while
    # it is started, so Django takes the test's own (synchronous) ORM calls for calls
    # from async code and raises SynchronousOnlyOperation. Nothing here really runs
    # concurrently with the ORM - the loop only talks to the browser - so the check
    # is switched off while the browser lives, and restored after.
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A fresh browser context (no cookies) whose relative URLs go to the live server.

    Fails the test at teardown when any tab of the context reported a CSP violation.
    """
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    violations = watch_csp_violations(context)
    tab = context.new_page()
    yield tab
    context.close()
    if violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(violations))


def watch_csp_violations(context: BrowserContext) -> list[str]:
    """The list that collects, as they happen, the CSP violations any tab of ``context`` reports."""
    violations: list[str] = []

    def note(text: str) -> None:
        if CSP_VIOLATION in text:
            violations.append(text)

    context.on("console", lambda message: note(message.text))
    context.on("weberror", lambda web_error: note(str(web_error.error)))
    return violations


def log_in(page: Page, username: str, password: str, login_path: str = "/admin/login/") -> None:
    """Sign in through the login form and wait until the form has gone."""
    page.goto(login_path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def sign_in(tab: Page, user, language: str, password: str = FACTORY_PASSWORD) -> None:
    """Sign ``user`` in through the staff login page, in ``language`` (``"ar"`` switches first)."""
    from django.urls import reverse

    tab.goto(reverse("login"))
    if language == "ar":
        with tab.expect_navigation():
            tab.click("button[name=language][value=ar]")
    tab.fill("input[name=username]", user.username)
    tab.fill("input[name=password]", password)
    with tab.expect_navigation():
        tab.click(f"main form[action='{reverse('login')}'] button[type=submit]")
    assert "/login/" not in tab.url


def save_screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG under artifacts/screenshots/ (git-ignored) and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
