"""In a real browser, in English and in Arabic: a child's progress on the patient chart.

An administrator opens the chart of a child with ABA and OT targets and six sessions (the data
of ``appointments/tests/test_progress_chart.py``): each target's chart is drawn, the attendance
strip shows a lettered cell per session with the 60.0% rate, and in Arabic the page and the
charts run right to left. The page answers under the Content-Security-Policy (the ``page``
fixture fails on a violation); a screenshot of each goes to artifacts/screenshots/.
"""

import pytest
from django.urls import reverse

from appointments.tests.test_progress_chart import PERIOD, build_attendance, build_notes, world  # noqa: F401
from core.models import User
from core.tests.browser import browser, page, save_screenshot, sign_in  # noqa: F401  (pytest fixtures)
from core.tests.view_helpers import staff_member

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

# A canvas holds a drawing: some pixel of it is not transparent.
DRAWN = """(canvas) => {
  const { width, height } = canvas;
  const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  return width > 0 && height > 0 && pixels.some((value, index) => index % 4 === 3 && value > 0);
}"""
# Whether the chart's x axis runs right to left (Chart.js's own scale, as the script set it).
REVERSED = "(canvas) => canvas.progressChart.options.scales.x.reverse"


@pytest.mark.parametrize(
    ("language", "heading", "rate", "letters"),
    [("en", "Progress", "60.0%", "AAANLC"), ("ar", "التقدّم", "60.0%", "حححغمإ")],
)
def test_browser_patient_chart_draws_each_targets_progress_and_the_attendance_strip(
    page,  # noqa: F811
    world,  # noqa: F811
    language,
    heading,
    rate,
    letters,
):
    build_attendance(world)
    build_notes(world)
    sign_in(page, staff_member(world["tenant"], User.Role.ADMIN), language)

    page.goto(
        f"{reverse('core:patient_chart', args=[world['child'].pk])}?from={PERIOD['from']}&to={PERIOD['to']}"
    )
    page.wait_for_selector("canvas[data-chart-ready=true]")

    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    assert page.locator("#progress-heading").inner_text() == heading
    canvases = page.locator("[data-testid=progress] canvas")
    assert canvases.count() == 2  # OT's "Pencil grip" and ABA's "Imitation"
    assert all(canvas.get_attribute("data-chart-ready") == "true" for canvas in canvases.all())
    assert all(canvas.evaluate(DRAWN) for canvas in canvases.all())
    assert [canvas.evaluate(REVERSED) for canvas in canvases.all()] == [language == "ar"] * 2
    cells = page.locator("[data-testid=attendance-strip] li")
    assert "".join(cell.locator("[aria-hidden=true]").inner_text() for cell in cells.all()) == letters
    assert cells.first.get_attribute("title").startswith("01/03/2026 10:00")
    assert rate in page.get_by_test_id("attendance-rate").inner_text()
    page.get_by_test_id("progress").scroll_into_view_if_needed()
    save_screenshot(page, f"patient-progress-{language}")
