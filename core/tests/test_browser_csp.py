"""In a real browser: the Content-Security-Policy refuses an injected inline script, the
watch on the console reports it (so ``page`` fails any test that trips the policy), and htmx still
swaps search results with eval switched off."""

import pytest
from django.urls import reverse

from core.models import User
from core.tests.browser import browser, page, watch_csp_violations  # noqa: F401  (pytest fixtures)
from core.tests.factories import UserFactory
from core.tests.view_helpers import consented_patient, group_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass12345"  # UserFactory's

INJECT_INLINE_SCRIPT = """() => {
    const script = document.createElement("script");
    script.textContent = "window.injected = true";
    document.head.append(script);
}"""


def test_browser_csp_refuses_an_inline_script_and_the_watch_reports_it(browser, live_server):  # noqa: F811
    context = browser.new_context(base_url=live_server.url)
    violations = watch_csp_violations(context)
    tab = context.new_page()
    tab.goto(reverse("login"))

    with tab.expect_console_message(lambda message: "inline script" in message.text):
        tab.evaluate(INJECT_INLINE_SCRIPT)
    injected = tab.evaluate("() => window.injected === true")
    context.close()

    assert injected is False
    assert len(violations) == 1
    assert "inline script" in violations[0]
    assert "script-src 'self'" in violations[0]


def test_browser_htmx_search_swaps_results_without_eval(page, tenant, clinic, provider):  # noqa: F811
    session = group_session(provider, clinic)
    patient = consented_patient(tenant, first_name_en="Yasmin")
    desk = UserFactory(username="desk", tenant=tenant, role=User.Role.FRONT_DESK)
    page.goto(reverse("login"))
    page.fill("input[name=username]", desk.username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click(f"main form[action='{reverse('login')}'] button[type=submit]")

    page.goto(reverse("appointments:session_add_patient", args=[session.pk]))
    with page.expect_response(lambda response: response.request.headers.get("hx-request") == "true"):
        page.fill("input[name=q]", "Yasmin")

    page.wait_for_selector(f"#patient-results input[name=patient][value='{patient.pk}']", state="attached")

    assert page.evaluate("() => htmx.config.allowEval") is False
    assert page.url.endswith("?q=Yasmin")
