"""In a real browser, in English and in Arabic: a child's progress report on paper.

An administrator chooses, on the report's form, the period, the family and the language,
and prints the report of a child with ABA and OT targets (the data of
``appointments/tests/test_progress_print.py``) in English and, from the same English pages, in
Arabic. Both charts are drawn before anything is printed, and axe-core finds no serious WCAG
violation on the report (the axe walk of every page sees only its form). Under print media the
navigation and the "Print" button are gone and nothing reaches past A4's margins; Chromium
makes an A4 PDF of it (artifacts/print/, git-ignored) and a screenshot goes to
artifacts/screenshots/. The pages answer under the Content-Security-Policy (the ``page``
fixture fails on a violation).
"""

from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings

from appointments.tests.test_progress_print import PERIOD, build_progress, options_url, print_url
from core.models import User
from core.tests.browser import browser, page, save_screenshot, sign_in  # noqa: F401  (pytest fixtures)
from core.tests.test_browser_axe import AXE, AXE_ARGUMENTS, AXE_RESULT, START_AXE
from core.tests.test_browser_print import A4_POINTS, OVERFLOWING, PRINTABLE_WIDTH, pages_of
from core.tests.view_helpers import staff_member

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

PDFS = Path(settings.BASE_DIR) / "artifacts" / "print"
READY = "[data-testid=progress-report][data-charts-ready=true]"
# Each chart's canvas holds a drawing: some pixel of it is not transparent.
DRAWN = """(canvas) => {
  const { width, height } = canvas;
  const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  return width > 0 && height > 0 && pixels.some((value, index) => index % 4 === 3 && value > 0);
}"""


@pytest.mark.parametrize(
    ("language", "title", "audience"),
    [("en", "Progress report", "For the family"), ("ar", "تقرير التقدّم", "للأسرة")],
)
def test_browser_progress_report_prints_its_charts_to_an_a4_pdf(page, tenant, language, title, audience):  # noqa: F811
    patient = build_progress(tenant)["patient"]
    sign_in(page, staff_member(tenant, User.Role.ADMIN), "en")
    page.context.add_init_script(path=str(AXE))  # axe-core in every document, as the axe walk does

    # The form asks for the period, the audience and the language, then shows the report.
    page.goto(options_url(patient))
    page.fill("input[name=from]", PERIOD["from"])
    page.fill("input[name=to]", PERIOD["to"])
    page.check("input[name=audience][value=family]")
    page.select_option("select[name=language]", language)
    save_screenshot(page, f"progress-print-form-{language}")
    page.get_by_test_id("progress-print-submit").click()
    page.wait_for_selector(READY)
    assert page.url.endswith(
        f"{print_url(patient)}?{urlencode({**PERIOD, 'audience': 'family', 'language': language})}"
    )

    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    assert page.locator("h1").inner_text() == title
    assert page.get_by_test_id("progress-report-audience").inner_text() == audience
    canvases = page.locator(".progress-report-chart canvas")
    assert canvases.count() == 2
    assert all(canvas.evaluate(DRAWN) for canvas in canvases.all())
    page.evaluate(START_AXE, AXE_ARGUMENTS)
    assert page.evaluate(AXE_RESULT) == []

    # The button prints (window.print stubbed: a headless browser has no print dialog).
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.get_by_test_id("progress-report-print").click()
    assert page.evaluate("() => window.printed") == 1

    # On paper: A4's printable width, no controls, nothing reaching past the margins.
    page.set_viewport_size({"width": PRINTABLE_WIDTH, "height": 1000})
    page.emulate_media(media="print")
    assert page.get_by_test_id("progress-report-print").is_hidden()
    assert page.locator("nav").first.is_hidden()
    assert all(canvas.is_visible() for canvas in canvases.all())
    assert page.evaluate(OVERFLOWING, PRINTABLE_WIDTH) == []
    save_screenshot(page, f"progress-print-{language}")
    PDFS.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(path=str(PDFS / f"progress-{language}.pdf"), format="A4", prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 10_000
    # The report fits on two A4 pages.
    assert pages_of(pdf) == (2, [A4_POINTS, A4_POINTS])
