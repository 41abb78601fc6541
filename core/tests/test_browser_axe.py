"""In a real browser, in English and in Arabic: axe-core finds no critical or serious WCAG 2.1 A/AA
violation on any staff page, nor on the error state of any form, nor on a family's confirm-or-cancel
page (the one public page with a child's booking) and its cancel form.

The pages are every GET page of the role x page matrix (``core/tests/test_views_access.py``), on
the matrix's own rows, so a page added to the site is checked here too. Each is opened by a role
that may see it (an administrator where one may, else the session's psychologist, else a
superuser), once as the matrix gives it and, for a search, with a query that finds the child. A
page's own form (one posting back to the page) is then cleared and sent, and the error page it
answers with is checked as well; the forms that send by GET and show errors are sent bad input.
The session is under way with a child of every status, so the session page shows every badge and
button. Django admin has its own look and is not checked.

axe (``core/tests/axe/axe.min.js``, from npm's ``axe-core``; vendored here, never served) is
loaded into every document by the browser itself (``add_init_script``): the site's
Content-Security-Policy refuses inline scripts, so a script tag can't bring it, and every
context's CSP watch stays on. Each role signs in once per language (a session cookie from Django's
test client) and checks its pages in two tabs taking turns, so that axe on one page and the next
page's load run at once on the machine's two cores.
"""

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page

from appointments.session_service import SessionService
from appointments.tests.test_family_link import guardian_of, link_for, reminder_for
from core.models import User
from core.tests.browser import browser, watch_csp_violations  # noqa: F401  (pytest fixtures)
from core.tests.test_views_access import MATRIX, SESSION_PROVIDER, rows, url_for, walked_urls  # noqa: F401
from core.tests.view_helpers import booked, group_session, staff_member, superuser, today, work_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

Role = User.Role
ONE_DAY = datetime.timedelta(days=1)
AXE = Path(__file__).parent / "axe" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = ("critical", "serious")
# Rules outside WCAG's tags that fail too: a column header with no text (an actions column) says
# nothing to a screen reader; each has visually hidden text.
ALSO_FAILING_RULES = ("empty-table-header",)
# Who opens each page: the first of these the matrix lets in.
ROLE_PREFERENCE = (Role.ADMIN, SESSION_PROVIDER, "superuser")
# Search pages also opened with the child's MRN, so their results show.
SEARCH_PAGES = (
    "core:patient_search",
    "appointments:session_add_patient",
    "appointments:session_waitlist_add",
    "appointments:series_enrol",
)
# Files, not pages: the browser downloads them (the reports' CSV and XLSX).
DOWNLOADS = {"reports:export"}
# The forms that send by GET and answer bad input with errors: opened with some too.
INVALID_QUERIES = {
    "appointments:free_slots": "clinic=",
    "appointments:schedule_by_provider": "day=2026-02-30",
    "appointments:calendar_week": "date=2026-02-30",
}

# axe runs in the page while the test goes on (START_AXE); AXE_RESULT waits for what it found.
START_AXE = """([tags, impacts, alsoFailing]) => {
    window.axeViolations = axe.run(document, {
        runOnly: {type: "tag", values: tags},
        rules: Object.fromEntries(alsoFailing.map((rule) => [rule, {enabled: true}])),
        resultTypes: ["violations"],
    }).then((results) => results.violations
        .filter((violation) => impacts.includes(violation.impact) || alsoFailing.includes(violation.id))
        .map((violation) => ({
            rule: violation.id,
            impact: violation.impact,
            help: violation.help,
            nodes: violation.nodes.map((node) => node.target.join(" ") + ": " + node.failureSummary),
        })));
}"""
AXE_RESULT = "() => window.axeViolations"
AXE_ARGUMENTS = [WCAG_TAGS, list(FAILING_IMPACTS), list(ALSO_FAILING_RULES)]

# The page's own form: posting back to the page, with a field a person fills in. Its fields are
# emptied and it is sent without the browser's own checks, so the server answers with its errors.
OWN_FORM = """(send) => {
    const fillable = "input:not([type=hidden]):not([type=submit]):not([type=button])"
        + ":not([type=checkbox]):not([type=radio]), select, textarea";
    const form = [...document.querySelectorAll("main form")].find((candidate) =>
        candidate.method === "post"
        && new URL(candidate.action).pathname === location.pathname
        && [...candidate.querySelectorAll(fillable)].some((field) => field.offsetParent !== null));
    if (!form || !send) return Boolean(form);
    for (const field of form.querySelectorAll(fillable)) {
        if (field.tagName !== "SELECT") field.value = "";
        else if ([...field.options].some((option) => option.value === "")) field.value = "";
    }
    form.noValidate = true;
    form.requestSubmit(form.querySelector("[type=submit]"));
    return true;
}"""


@pytest.fixture
def world(rows, tenant):  # noqa: F811
    """The matrix's rows, the session under way with a child of every status, and who opens the pages."""
    session = rows["session"]
    SessionService.start_session(session)
    arrived = booked(session)
    SessionService.clear_finance(arrived)
    SessionService.check_in_participant(arrived)
    SessionService.mark_participant_no_show(booked(session))
    SessionService.cancel_participant(booked(session), reason="Family travelling")
    return {
        **rows,
        "users": {
            Role.ADMIN: staff_member(tenant, Role.ADMIN),
            SESSION_PROVIDER: session.provider.user,
            "superuser": superuser(),
        },
    }


def pages_by_role(world) -> dict[str, list[tuple[str, str]]]:
    """(label, URL) of every GET page of the matrix, under the role that opens it."""
    urls = walked_urls()
    pages: dict[str, list[tuple[str, str]]] = {role: [] for role in ROLE_PREFERENCE}
    for name, (method, allowed) in sorted(MATRIX.items()):
        if method != "get" or name in DOWNLOADS:
            continue
        role = next(role for role in ROLE_PREFERENCE if role in allowed)
        url = url_for(name, urls[name], world)
        pages[role].append((name, url))
        if name in SEARCH_PAGES:
            pages[role].append((f"{name} (found)", f"{url}?q={world['patient'].mrn}"))
        if name in INVALID_QUERIES:
            pages[role].append((f"{name} (bad input)", f"{url}?{INVALID_QUERIES[name]}"))
    pages[SESSION_PROVIDER].append(("home (clinician)", reverse("home")))
    return pages


def family_pages(world, language: str) -> list[tuple[str, str]]:
    """A family's confirm-or-cancel page in ``language`` (the guardian's), and its cancel form:
    tomorrow at 09:00, inside the late window, so the form carries the warning and the checkbox."""
    session = group_session(world["session"].provider, world["session"].clinic, day=today() + ONE_DAY, hour=9)
    participant = booked(session)
    url = link_for(reminder_for(participant, guardian_of(participant.patient, language)))
    return [("family:link", url), ("family:link (cancel)", f"{url}?cancel=all")]


def open_context(
    browser: Browser,  # noqa: F811
    base_url: str,
    language: str,
    opened: list[tuple[BrowserContext, list[str]]],
    user: User | None = None,
    tenant=None,
) -> BrowserContext:
    """A browser context in ``language`` with axe in every document, its CSP watched (``opened``
    closes it), signed in as ``user`` when given: a session made by Django's test client."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1366, "height": 900})
    opened.append((context, watch_csp_violations(context)))
    context.add_init_script(path=str(AXE))
    cookies = {settings.LANGUAGE_COOKIE_NAME: language}
    if user is not None:
        client = Client()
        client.force_login(user)
        if user.is_superuser:
            work_in(client, tenant)
        cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": name, "value": value, "url": base_url} for name, value in cookies.items()])
    return context


def checks_of(tab: Page, pages: list[tuple[str, str]]) -> Iterator[str]:
    """Open each page in ``tab``, then its error state, starting axe on each document; yields the
    document's label while axe runs, and goes on once ``found_by_axe`` has collected the result."""
    for label, url in pages:
        response = tab.goto(url)
        assert response is not None, f"{label}: {url} answered nothing"
        assert response.ok, f"{label}: {url} answered {response.status}"
        if "text/html" not in response.headers.get("content-type", ""):
            continue  # data for a page's script (the week's events, the idle timer), not a page
        has_own_form = tab.evaluate(OWN_FORM, False)
        tab.evaluate(START_AXE, AXE_ARGUMENTS)
        yield label
        if has_own_form:
            with tab.expect_navigation():
                tab.evaluate(OWN_FORM, True)
            tab.evaluate(START_AXE, AXE_ARGUMENTS)
            yield f"{label}, sent empty"


def found_by_axe(context: BrowserContext, pages: list[tuple[str, str]], found: dict[str, list[dict]]) -> None:
    """Check ``pages`` in two tabs in turn: axe works through one tab's page (in its own renderer
    process) while the other tab loads the next, so the server and the browser work at once."""
    tabs = [context.new_page(), context.new_page()]
    runs = [checks_of(tab, pages[turn::2]) for turn, tab in enumerate(tabs)]
    running = [next(run, None) for run in runs]
    while any(label is not None for label in running):
        for turn, tab in enumerate(tabs):
            label = running[turn]
            if label is None:
                continue
            violations = tab.evaluate(AXE_RESULT)
            assert isinstance(violations, list), f"{label} ({tab.url}): axe gave no result"
            if violations:
                found[f"{label} ({tab.url})"] = violations
            running[turn] = next(runs[turn], None)


def report(found: dict[str, list[dict]]) -> str:
    lines = []
    for page_label, violations in found.items():
        lines.append(page_label)
        for violation in violations:
            lines.append(f"  [{violation['impact']}] {violation['rule']}: {violation['help']}")
            lines.extend(f"      {node}" for node in violation["nodes"][:5])
    return "\n".join(lines)


@pytest.fixture
def opened() -> Iterator[list[tuple[BrowserContext, list[str]]]]:
    """The contexts a test opens, each with its CSP watch; closed after, failing on a violation."""
    contexts: list[tuple[BrowserContext, list[str]]] = []
    yield contexts
    violations = [violation for _context, watched in contexts for violation in watched]
    for context, _watched in contexts:
        context.close()
    if violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(violations))


def assert_skip_link_comes_first_and_moves_to_the_page(tab: Page) -> None:
    """The first Tab on a page (one without a field focused on load) shows "Skip to main content",
    and Enter on it moves the focus to the page's main content."""
    skip = tab.get_by_test_id("skip-link")
    hidden_width = skip.bounding_box()["width"]  # Bootstrap's visually-hidden: a 1px box
    tab.keyboard.press("Tab")
    focused_width = skip.bounding_box()["width"]
    assert tab.evaluate("() => document.activeElement.dataset.testid") == "skip-link"
    tab.keyboard.press("Enter")
    assert tab.evaluate("() => document.activeElement.id") == "main"
    assert hidden_width <= 1
    assert focused_width > 50


@pytest.mark.parametrize("language", ["en", "ar"])
def test_browser_axe_finds_no_serious_violation_on_any_staff_page(
    browser,  # noqa: F811
    live_server,
    opened,
    world,
    tenant,
    language,
):
    found: dict[str, list[dict]] = {}
    anonymous = open_context(browser, live_server.url, language, opened)
    found_by_axe(anonymous, [("login", reverse("login")), *family_pages(world, language)], found)

    for role, pages in pages_by_role(world).items():
        context = open_context(browser, live_server.url, language, opened, world["users"][role], tenant)
        if role == Role.ADMIN:
            home = context.new_page()
            home.goto(reverse("home"))
            assert_skip_link_comes_first_and_moves_to_the_page(home)
        found_by_axe(context, pages, found)

    assert not found, f"axe: critical or serious violations ({language}):\n{report(found)}"
