"""In a real browser, in English and in Arabic: every report draws its chart under the CSP.

An administrator opens each of the five reports for March 2026, which holds one completed
group session (two children attended, one no-show). Each page's chart is a Chart.js chart of
non-zero size on its canvas; in Arabic the page runs right to left, the chart's x axis starts
on the right and every figure uses Latin digits. The ``page`` fixture fails the test on any
Content-Security-Policy violation. Screenshots go to artifacts/screenshots/.
"""

import datetime
import re

import pytest
from django.urls import reverse

from appointments.session_service import SessionService
from appointments.tests.factories import check_in
from core.models import User
from core.tests.browser import browser, page, save_screenshot, sign_in  # noqa: F401  (pytest fixtures)
from core.tests.factories import ClinicFactory, ProviderFactory, UserFactory
from core.tests.view_helpers import booked, consented_patient, group_session

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

SATURDAY = datetime.date(2026, 3, 7)  # frozen_today is Sunday 15 March 2026
KEYS = ("utilisation", "attendance", "throughput", "finance", "notes_queue")
ARABIC_INDIC_DIGITS = re.compile("[\u0660-\u0669\u06f0-\u06f9]")


@pytest.fixture
def director(tenant):
    """An administrator, and Saturday's completed group: Sara and Omar attended, Lina didn't come."""
    clinic = ClinicFactory(tenant=tenant, name_en="Psychology Clinic", requires_finance_clearance=False)
    session = group_session(ProviderFactory(clinic=clinic), clinic, day=SATURDAY, hour=10)
    for first_en, first_ar in (("Sara", "سارة"), ("Omar", "عمر"), ("Lina", "لينا")):
        participant = booked(
            session, consented_patient(tenant, first_name_en=first_en, first_name_ar=first_ar)
        )
        if first_en != "Lina":
            check_in(participant)
    SessionService.complete_session(session)
    return UserFactory(username="director", tenant=tenant, role=User.Role.ADMIN)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_browser_reports_draw_each_chart_in_both_languages(page, director, language):  # noqa: F811
    sign_in(page, director, language)
    page.goto(reverse("reports:index"))
    assert page.get_by_test_id("report-list").locator("a").count() == len(KEYS)

    for key in KEYS:
        page.goto(reverse("reports:report", kwargs={"key": key}))
        canvas = page.locator("canvas#report-chart[data-chart-ready=true]")
        canvas.wait_for()
        box = canvas.bounding_box()
        assert box is not None
        assert box["width"] > 100
        assert box["height"] > 100
        drawn = page.evaluate(
            "() => { const chart = Chart.getChart('report-chart');"
            " return chart && {datasets: chart.data.datasets.length, reverse: chart.options.scales.x.reverse,"
            " rtl: chart.options.plugins.legend.rtl, locale: chart.options.locale}; }"
        )
        assert drawn["datasets"] > 0, key
        assert (drawn["reverse"], drawn["rtl"], drawn["locale"]) == (language == "ar", language == "ar", "en")
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        assert ARABIC_INDIC_DIGITS.search(page.locator("main").inner_text()) is None
        save_screenshot(page, f"report-{key}-{language}")
