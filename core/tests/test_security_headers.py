"""Security headers and the Content-Security-Policy, read on every staff page and the admin.

The staff pages are found by walking the URL resolver (the helpers of
``test_views_access``), so a page added later is checked too: it must send the
policy, ``no-store``, ``Permissions-Policy`` and ``nosniff``, and its HTML must hold
nothing the policy would refuse to run (an inline script, an ``on*=`` handler, a
``javascript:`` link). The browser tests (``core/tests/browser.py``) fail on any CSP
violation Chromium reports, for what a string search can't see.
"""

import json
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.http import HttpResponse
from django.test import override_settings
from django.urls import reverse

from appointments.models import Session, SessionParticipant
from core.models import Clinic, Patient
from core.security_headers import PERMISSIONS_POLICY_HEADER
from core.tests import test_views_access as access_walk
from core.tests.admin_helpers import admin_url
from core.tests.factories import ClinicFactory, ProviderFactory
from core.tests.test_views_access import MATRIX, url_for, walked_urls
from core.tests.view_helpers import booked, group_session, superuser, work_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
# One row of each kind a staff URL points to: the access walk's fixture, shared.
rows = access_walk.rows

EXPECTED_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
EXPECTED_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
# The pages the walk's administrator (a superuser with a provider profile) doesn't get as a
# page, so their HTML isn't checked here: any other page must answer 200.
PAGES_NOT_SHOWN_TO_THE_ADMINISTRATOR = {
    "set_language": 302,  # back to the page it came from
    "two_factor_verify": 302,  # no device to verify
    "core:patient_break_glass": 403,  # clinicians only
    "core:patient_progress_print": 302,  # without its choices, to its form (its own tests check the report)
}
# Not staff pages: a family's link sends no-referrer rather than same-origin, and the gateway's
# address takes posts only; both are checked in appointments/tests/test_family_link*.py.
FAMILY_URLS = {"family:link", "family:sms_inbound"}
HANDLER_PREFIXES = ("on", "hx-on", "data-hx-on")
# Script types a browser never executes: data for scripts (json_script).
DATA_SCRIPT_TYPES = {"application/json"}


def policy_of(response) -> dict[str, str]:
    """The Content-Security-Policy header as {directive: sources} (django-csp's order varies)."""
    directives = (
        part.strip().partition(" ") for part in response.get("Content-Security-Policy", "").split(";")
    )
    return {name: sources for name, _space, sources in directives if name}


def header_problems(response) -> list[str]:
    """What is missing or wrong among the security headers of ``response``; empty when all is well."""
    problems = []
    if policy_of(response) != EXPECTED_POLICY:
        problems.append(f"Content-Security-Policy: {response.get('Content-Security-Policy')!r}")
    cache_control = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    if "no-store" not in cache_control:
        problems.append(f"Cache-Control: {response.get('Cache-Control')!r}")
    if response.get(PERMISSIONS_POLICY_HEADER) != EXPECTED_PERMISSIONS_POLICY:
        problems.append(f"Permissions-Policy: {response.get(PERMISSIONS_POLICY_HEADER)!r}")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"X-Content-Type-Options: {response.get('X-Content-Type-Options')!r}")
    if response.get("Referrer-Policy") != "same-origin":
        problems.append(f"Referrer-Policy: {response.get('Referrer-Policy')!r}")
    return problems


class MetaFinder(HTMLParser):
    """The ``content`` of each ``<meta name=...>`` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.content: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "meta" and attributes.get("name"):
            self.content[attributes["name"] or ""] = attributes.get("content") or ""


class InlineCodeFinder(HTMLParser):
    """Collects the code in a page that ``script-src 'self'`` refuses to run."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if (
            tag == "script"
            and "src" not in attributes
            and (attributes.get("type") or "").strip().lower() not in DATA_SCRIPT_TYPES
        ):
            self.found.append(f"inline <script {attributes}>")
        for name, value in attrs:
            if name.startswith(HANDLER_PREFIXES):
                self.found.append(f"<{tag} {name}={value!r}>")
            elif (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")


def inline_code(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def problems_of(response) -> list[str]:
    return header_problems(response) + inline_code(response.getvalue().decode())


def is_page(name: str) -> bool:
    """A URL opened with GET (the public ones, outside the matrix, too)."""
    return MATRIX.get(name, ("get",))[0] == "get"


def walk_order(name: str) -> tuple[bool, bool, str]:
    """Pages first, then the actions (they change the rows), and logging out last."""
    return not is_page(name), name == "logout", name


def admin_pages():
    """(namespaced name, pattern) for every URL of the Django admin."""
    return access_walk.walk(admin.site.urls[0], admin.site.name)


def test_inline_code_finder_catches_what_the_policy_refuses():
    html = (
        '<script>alert(1)</script><button onclick="go()">x</button><a href="javascript:go()">y</a>'
        '<div hx-on:click="go()"></div><body onload="go()">'
    )

    assert len(inline_code(html)) == 5


def test_inline_code_finder_lets_script_files_and_json_data_through():
    html = (
        '<script src="/static/js/formset_rows.js" defer></script>'
        '<script id="data" type="application/json">{"a": 1}</script>'
        '<a href="/patients/" data-add-row="skills" style="color: red">z</a>'
    )

    assert inline_code(html) == []


def test_header_problems_reports_a_response_without_the_headers():
    assert len(header_problems(HttpResponse("plain"))) == 5


def test_every_staff_page_sends_the_security_headers_and_runs_no_inline_code(client, rows):
    admin_user = superuser()
    ProviderFactory(clinic=rows["session"].clinic, user=admin_user)  # so the note-writing pages answer too
    client.force_login(admin_user)
    work_in(client, rows["session"].clinic.tenant)
    urls = {name: pattern for name, pattern in walked_urls().items() if name not in FAMILY_URLS}

    statuses, problems = {}, {}
    for name in sorted(urls, key=walk_order):
        response = (client.get if is_page(name) else client.post)(url_for(name, urls[name], rows))
        statuses[name] = response.status_code
        problems[name] = problems_of(response)

    assert len(statuses) == len(urls) > 40
    assert {name: status for name, status in statuses.items() if is_page(name) and status != 200} == (
        PAGES_NOT_SHOWN_TO_THE_ADMINISTRATOR
    )
    assert problems == dict.fromkeys(urls, [])


def test_login_page_sends_the_security_headers_to_anonymous_visitors(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert problems_of(response) == []


def test_a_refused_page_sends_the_security_headers_too(client, tenant):
    client.force_login(ProviderFactory(clinic=ClinicFactory(tenant=tenant)).user)

    response = client.get(reverse("appointments:session_create"))

    assert response.status_code == 403
    assert problems_of(response) == []


def test_note_form_with_row_formsets_adds_rows_from_a_script_file(client, tenant):
    ot = ProviderFactory(clinic=ClinicFactory(tenant=tenant, specialty=Clinic.Specialty.OT))
    participant = booked(group_session(ot, ot.clinics.get()))
    client.force_login(ot.user)

    response = client.get(reverse("notes:participant_note_write", args=[participant.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-add-row="target_skills"' in html
    assert '<script src="/static/js/formset_rows.js" defer></script>' in html
    assert problems_of(response) == []


def test_htmx_runs_without_eval(client, tenant):
    client.force_login(ProviderFactory(clinic=ClinicFactory(tenant=tenant)).user)

    meta = MetaFinder()
    meta.feed(client.get(reverse("home")).content.decode())

    assert json.loads(meta.content["htmx-config"]) == {"allowEval": False, "includeIndicatorStyles": False}


def test_admin_pages_send_the_security_headers_and_run_no_inline_code(client, rows):
    client.force_login(superuser())
    urls = {
        **{
            name: reverse(name)
            for name, pattern in admin_pages()
            if pattern.name and not pattern.pattern.regex.groups
        },
        "patient change": admin_url(Patient, "change", rows["patient"].pk),
        "patient history": admin_url(Patient, "history", rows["patient"].pk),
        "session change": admin_url(Session, "change", rows["session"].pk),
        "participant history": admin_url(SessionParticipant, "history", rows["participant"].pk),
    }

    responses = {name: client.get(url) for name, url in urls.items()}

    statuses = {name: response.status_code for name, response in responses.items()}
    shown = {name for name in urls if " " in name or name.endswith(("_changelist", ":index"))}
    assert len(shown) > 30
    assert {name: statuses[name] for name in shown} == dict.fromkeys(shown, 200)
    # Add pages of rows only services write are refused; logging out takes a POST.
    assert set(statuses.values()) <= {200, 302, 403, 405}
    assert {name: problems_of(response) for name, response in responses.items()} == dict.fromkeys(urls, [])


@override_settings(PERMISSIONS_POLICY="")
def test_no_permissions_policy_header_when_the_setting_is_empty(client):
    response = client.get(reverse("login"))

    assert PERMISSIONS_POLICY_HEADER not in response
    assert "no-store" in response["Cache-Control"]
