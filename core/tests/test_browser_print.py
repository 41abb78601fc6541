"""In a real browser, in English and in Arabic: the day view, the session page and the patient chart
on paper (static/css/print.css).

The front desk prints a normal day by provider and by room, a group's session page and a child's
chart. Under print media the navigation, the language switcher, the buttons, the forms and the
messages are gone, nothing is wider than A4 portrait's printable width, and Chromium's PDF of the
day and of the session is one A4 page. The session page prints as a sign-in sheet: each child
still booked, by name in the page's language, with their appointment number and a line to sign,
while on screen the sheet is hidden. The PDFs go to artifacts/print/ and screenshots of the
printed layout to artifacts/screenshots/.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Page

from appointments.session_service import SessionService
from core.models import User
from core.tests.browser import browser, page, save_screenshot  # noqa: F401  (pytest fixtures)
from core.tests.factories import ProviderFactory, RoomFactory, UserFactory
from core.tests.test_browser_week_calendar import sign_in
from core.tests.view_helpers import booked, consented_patient, group_session, legacy_appointment

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

PDFS = Path(settings.BASE_DIR) / "artifacts" / "print"
A4_WIDTH_MM = 210
PAGE_MARGIN_MM = 12  # print.css's @page margin
CSS_PX_PER_MM = 96 / 25.4
# What fits between the margins of A4 portrait, in CSS pixels: the print layout's viewport.
PRINTABLE_WIDTH = int((A4_WIDTH_MM - 2 * PAGE_MARGIN_MM) * CSS_PX_PER_MM)
A4_POINTS = (595, 842)  # 210 x 297 mm in PDF points
CHILDREN = (
    ("Noura", "Al-Harbi", "نورة", "الحربي"),
    ("Omar", "Hassan", "عمر", "حسن"),
    ("Lina", "Khalid", "لينا", "خالد"),
    ("Sara", "Ali", "سارة", "علي"),
    ("Yousef", "Al-Otaibi", "يوسف", "العتيبي"),
)
# The page's controls: none may take up room on paper.
CONTROLS = "nav, .navbar, .btn, form, details, .alert, .pagination, [data-testid=add-patient]"
# The visible elements reaching past the printable width (left of 0 too, right to left).
OVERFLOWING = """(width) => [...document.querySelectorAll('body *')]
  .filter((element) => element.getClientRects().length)
  .filter((element) => {
    const box = element.getBoundingClientRect();
    return box.right > width + 0.5 || box.left < -0.5;
  })
  .map((element) => element.tagName + '.' + element.className)"""
SHOWN = """(elements) => elements
  .filter((element) => element.getClientRects().length)
  .map((element) => element.outerHTML.slice(0, 120))"""


@pytest.fixture
def day(tenant, clinic):
    """A normal day at one clinic: three providers in three rooms, five groups of children (one child
    cancelled) and a legacy appointment."""
    children = [
        consented_patient(
            tenant, first_name_en=first, last_name_en=last, first_name_ar=first_ar, last_name_ar=last_ar
        )
        for first, last, first_ar, last_ar in CHILDREN
    ]
    providers = [ProviderFactory(clinic=clinic) for _ in range(3)]
    rooms = [RoomFactory(clinic=clinic, name=name) for name in ("Blue room", "Green room", "Sensory gym")]
    sessions = []
    for number in range(5):
        session = group_session(
            providers[number % 3], clinic, hour=8 + number, room=rooms[number % 3], capacity=6
        )
        for patient in children[:4] if number == 0 else children[number - 1 : number + 1]:
            booked(session, patient)
        sessions.append(session)
    cancelled = sessions[0].participants.get(patient=children[3])
    SessionService.cancel_participant(cancelled, "Family moved away")
    legacy_appointment(providers[0], clinic, children[4], hour=14)
    return {
        "desk": UserFactory(username="desk", tenant=tenant, role=User.Role.FRONT_DESK),
        "group": sessions[0],
        "children": children,
        "cancelled": cancelled,
    }


def printed(tab: Page, name: str) -> bytes:
    """Under print media at the printable width: no control shown, nothing wider than the paper;
    a screenshot and the A4 PDF saved, which is returned."""
    tab.set_viewport_size({"width": PRINTABLE_WIDTH, "height": 1000})
    tab.emulate_media(media="print")
    assert tab.locator(CONTROLS).evaluate_all(SHOWN) == []
    assert tab.evaluate("() => document.documentElement.scrollWidth") <= PRINTABLE_WIDTH
    assert tab.evaluate(OVERFLOWING, PRINTABLE_WIDTH) == []
    save_screenshot(tab, f"print-{name}")
    PDFS.mkdir(parents=True, exist_ok=True)
    pdf = tab.pdf(path=str(PDFS / f"{name}.pdf"), format="A4", prefer_css_page_size=True)
    tab.emulate_media(media="screen")
    tab.set_viewport_size({"width": 1366, "height": 900})
    return pdf


def pages_of(pdf: bytes) -> tuple[int, list[tuple[int, int]]]:
    """How many pages the PDF has ("/Pages", the page tree, is not one) and their sizes in points."""
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf)
    return pages, [(round(float(width)), round(float(height))) for width, height in boxes]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_browser_day_view_session_page_and_chart_print_on_a4(page, day, language):  # noqa: F811
    names = {
        patient.mrn: patient.full_name_ar if language == "ar" else patient.full_name_en
        for patient in day["children"]
    }
    sign_in(page, day["desk"], language)

    # The day by provider and by room: every child named, one A4 page each.
    for view in ("schedule_by_provider", "schedule_by_room"):
        page.goto(reverse(f"appointments:{view}"))
        assert page.locator("nav").first.is_visible()
        text = page.locator("main").inner_text()
        assert all(name in text for name in names.values())
        pdf = printed(page, f"{view}-{language}")
        assert pages_of(pdf) == (1, [A4_POINTS])

    # The session page: a sign-in sheet on paper only, of the children still booked.
    group = day["group"]
    page.goto(group.get_absolute_url())
    sheet = page.get_by_test_id("sign-in-sheet")
    assert sheet.is_hidden()
    pdf = printed(page, f"session-{language}")
    assert pages_of(pdf) == (1, [A4_POINTS])
    page.emulate_media(media="print")
    assert sheet.is_visible()
    assert page.locator("#participants").is_hidden()
    rows = sheet.locator("tbody tr")
    active = list(group.participants.exclude(pk=day["cancelled"].pk).order_by("booked_at", "pk"))
    assert rows.count() == len(active) == 3
    for row, participant in zip(rows.all(), active, strict=True):
        cells = row.locator("td").all_inner_texts()
        assert cells[:2] == [names[participant.patient.mrn], participant.appointment_number]
        assert cells[2] == ""
    assert names[day["cancelled"].patient.mrn] not in sheet.inner_text()
    page.emulate_media(media="screen")

    # The chart: its bookings and consents without the booking and consent buttons.
    page.goto(reverse("core:patient_chart", args=[day["children"][0].pk]))
    printed(page, f"chart-{language}")
