"""In a real browser, in English and in Arabic: a provider's week, and a session moved on it by drag.

The front desk opens Dr's week: Tuesday's group shows its children's names. In Arabic the grid
runs right to left with Latin digits. The desk drags the group to Wednesday 09:30, confirms in
the dialog, and the page (reloaded, so read from the server) shows it there; dragged onto the
provider's Thursday session, the move is refused with the reason and the group stays put.
Printed, the week fits one landscape A4 page.

Elements are found by data attributes (FullCalendar's ``data-date`` and ``data-time``) and
data-testid rather than by their text, so the same steps run in both languages.
"""

import datetime
import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from appointments.models import Session
from core.models import User
from core.tests.browser import browser, page, save_screenshot, sign_in  # noqa: F401  (pytest fixtures)
from core.tests.factories import ClinicFactory, ProviderFactory, RoomFactory, UserFactory
from core.tests.view_helpers import booked, consented_patient, group_session

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

TUESDAY = datetime.date(2026, 3, 17)  # frozen_today is Sunday 15 March 2026
WEDNESDAY = datetime.date(2026, 3, 18)
THURSDAY = datetime.date(2026, 3, 19)
FRIDAY = datetime.date(2026, 3, 20)
ARABIC_INDIC_DIGITS = re.compile("[\u0660-\u0669\u06f0-\u06f9]")


@pytest.fixture
def week(tenant):
    """Dr's Tuesday group (Sara, Omar), Thursday and Friday evening sessions, and the front desk."""
    clinic = ClinicFactory(tenant=tenant, name_en="Psychology Clinic", requires_finance_clearance=False)
    provider = ProviderFactory(clinic=clinic)
    room = RoomFactory(clinic=clinic, name="Blue room")
    group = group_session(provider, clinic, day=TUESDAY, hour=11, room=room, capacity=4)
    for first_en, last_en, first_ar, last_ar in (
        ("Sara", "Ali", "سارة", "علي"),
        ("Omar", "Hassan", "عمر", "حسن"),
    ):
        booked(
            group,
            consented_patient(
                tenant,
                first_name_en=first_en,
                last_name_en=last_en,
                first_name_ar=first_ar,
                last_name_ar=last_ar,
            ),
        )
    thursday = group_session(provider, clinic, day=THURSDAY, hour=9, service_type="Parent training")
    # After the grid's default end (21:00): the calendar widens rather than hides it.
    evening = group_session(provider, clinic, day=FRIDAY, hour=21, service_type="Evening group")
    return {
        "desk": UserFactory(username="desk", tenant=tenant, role=User.Role.FRONT_DESK),
        "provider": provider,
        "group": group,
        "thursday": thursday,
        "evening": evening,
    }


def event_of(tab: Page, session: Session, day: datetime.date):
    """The session's event in the column of ``day`` (FullCalendar draws one element per event)."""
    column = tab.locator(f".fc-timegrid-col[data-date='{day.isoformat()}']")
    return column.locator(".fc-event", has_text=session.service_type)


def drag(tab: Page, event, day: datetime.date, time: str) -> None:
    """Drag ``event`` to ``time`` on ``day`` with the mouse, letting go once its shadow shows that time.

    FullCalendar snaps to quarter hours from where the drag began; the shadow (the "mirror")
    says where it would land, as it tells the user.
    """
    grabbed = event.bounding_box()
    column = tab.locator(f".fc-timegrid-col[data-date='{day.isoformat()}']").bounding_box()
    slot = tab.locator(f".fc-timegrid-slot-lane[data-time='{time}:00']").bounding_box()
    assert grabbed is not None
    assert column is not None
    assert slot is not None
    x = grabbed["x"] + grabbed["width"] / 2
    tab.mouse.move(x, grabbed["y"] + 10)
    tab.mouse.down()
    tab.mouse.move(x, grabbed["y"] + 20, steps=4)
    mirror = tab.locator(f".fc-timegrid-col[data-date='{day.isoformat()}'] .fc-event-mirror .fc-event-time")
    landed = False
    for offset in range(-16, 40, 4):
        tab.mouse.move(column["x"] + column["width"] / 2, slot["y"] + offset, steps=4)
        landed = bool(mirror.count()) and mirror.inner_text().startswith(time)
        if landed:
            break
    tab.mouse.up()
    assert landed, f"the drag's shadow never showed {time} on {day}"


def confirm_move(tab: Page):
    """Confirm in the dialog and wait for the server's answer."""
    dialog = tab.get_by_test_id("move-dialog")
    # The dialog opens once FullCalendar has handled the drop, a moment after the mouse lets go.
    dialog.wait_for()
    with tab.expect_response(lambda response: "/move/" in response.url) as answer:
        dialog.get_by_test_id("move-confirm").click()
    return answer.value.json()


def printed_pages(tab: Page) -> int:
    tab.emulate_media(media="print")
    pdf = tab.pdf(prefer_css_page_size=True, print_background=True)
    tab.emulate_media(media="screen")
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


@pytest.mark.parametrize("language", ["en", "ar"])
def test_browser_week_calendar_moves_a_session_by_drag_in_both_languages(page, week, language):  # noqa: F811
    group, provider = week["group"], week["provider"]
    numbers = dict(group.participants.values_list("patient__mrn", "appointment_number"))
    sign_in(page, week["desk"], language)

    # Dr's week: Tuesday's group, with its children's names as text.
    page.goto(f"{reverse('appointments:calendar_week')}?provider={provider.pk}&date={TUESDAY.isoformat()}")
    tuesday_event = event_of(page, group, TUESDAY)
    tuesday_event.wait_for()
    names = ("سارة علي", "عمر حسن") if language == "ar" else ("Sara Ali", "Omar Hassan")
    text = tuesday_event.inner_text()
    assert all(name in text for name in names)
    assert "11:00" in text
    event_of(page, week["evening"], FRIDAY).wait_for()
    calendar = page.get_by_test_id("week-calendar")
    # Sunday first, in both languages; right to left in Arabic, the grid included; Latin digits.
    assert page.locator(".fc-col-header-cell").first.get_attribute("data-date") == "2026-03-15"
    direction = "rtl" if language == "ar" else "ltr"
    assert page.locator("html").get_attribute("dir") == direction
    assert page.locator(f".fc.fc-direction-{direction}").count() == 1
    grid_direction = "element => getComputedStyle(element.querySelector('.fc-timegrid')).direction"
    assert calendar.evaluate(grid_direction) == direction
    assert ARABIC_INDIC_DIGITS.search(calendar.inner_text()) is None
    assert "2026" in page.locator(".fc-toolbar-title").inner_text()
    assert "09:00" in page.locator(".fc-timegrid-slot-label").all_inner_texts()
    save_screenshot(page, f"week-calendar-{language}")

    # A click on Monday 08:00, free: the two booking forms, starting from that slot and Dr.
    eight = page.locator(".fc-timegrid-slot-lane[data-time='08:00:00']")
    eight.scroll_into_view_if_needed()
    monday = page.locator(".fc-timegrid-col[data-date='2026-03-16']").bounding_box()
    slot = eight.bounding_box()
    assert monday is not None
    assert slot is not None
    page.mouse.click(monday["x"] + monday["width"] / 2, slot["y"] + 12)
    booking = page.get_by_test_id("book-dialog")
    booking.wait_for()
    prefill = (
        f"provider={provider.pk}&clinic={group.clinic_id}&scheduled_date=2026-03-16&scheduled_time=08%3A00"
    )
    for form in ("individual", "group"):
        assert booking.get_by_test_id(f"book-{form}").get_attribute("href").endswith(f"?{prefill}")
    assert "08:00" in booking.inner_text()
    page.keyboard.press("Escape")
    booking.wait_for(state="hidden")

    # Dragged to Wednesday 09:30 and confirmed: moved, every child keeps their number.
    drag(page, tuesday_event, WEDNESDAY, "09:30")
    dialog = page.get_by_test_id("move-dialog")
    dialog.wait_for()
    assert ARABIC_INDIC_DIGITS.search(dialog.inner_text()) is None
    assert "09:30" in dialog.inner_text()
    save_screenshot(page, f"week-calendar-move-dialog-{language}")
    assert confirm_move(page)["moved"] is True
    page.get_by_test_id("calendar-status").wait_for()
    group.refresh_from_db()
    assert (group.scheduled_date, group.scheduled_time) == (WEDNESDAY, datetime.time(9, 30))
    assert dict(group.participants.values_list("patient__mrn", "appointment_number")) == numbers

    # Read again from the server: the group is on Wednesday.
    page.reload()
    wednesday_event = event_of(page, group, WEDNESDAY)
    wednesday_event.wait_for()
    assert "09:30" in wednesday_event.inner_text()
    assert event_of(page, group, TUESDAY).count() == 0
    save_screenshot(page, f"week-calendar-moved-{language}")

    # Onto Dr's Thursday session: refused with the reason, and the group goes back.
    drag(page, wednesday_event, THURSDAY, "09:00")
    answer = confirm_move(page)
    assert answer["moved"] is False
    error = page.get_by_test_id("calendar-error")
    error.wait_for()
    assert error.get_attribute("role") == "alert"
    assert error.inner_text().strip() == answer["message"]
    assert str(provider) in answer["message"]  # the clash named: Dr's own Thursday session
    event_of(page, group, WEDNESDAY).wait_for()
    assert event_of(page, group, THURSDAY).count() == 0
    save_screenshot(page, f"week-calendar-clash-{language}")
    assert Session.objects.get(pk=group.pk).scheduled_date == WEDNESDAY

    # Printed: the week on one landscape A4 page.
    assert printed_pages(page) == 1
