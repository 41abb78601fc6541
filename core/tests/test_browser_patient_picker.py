"""In a real browser, in English and in Arabic: the patient picker and the clinic's providers and rooms.

The front desk books an individual session for Noura (registered as نورة الحربي) by typing
"نوره" - the everyday spelling that found nobody before - in the MRN box, and picking her from
the keyboard: ArrowDown, Enter. Her MRN fills the box and her name shows under it. Choosing the
clinic narrows the provider and room lists to that clinic's; the booking goes through.

Elements are found by name, id and role rather than by their text, so the same steps run in both
languages.
"""

import datetime

import pytest
from django.urls import reverse

from appointments.models import Session
from core.models import Clinic, User
from core.tests.browser import browser, page, save_screenshot  # noqa: F401  (pytest fixtures)
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, RoomFactory, UserFactory
from core.tests.test_browser_week_calendar import sign_in
from core.tests.view_helpers import consented_patient

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

MONDAY = datetime.date(2026, 3, 16)  # frozen_today is Sunday 15 March 2026
NAMES = {"en": "Noura Al-Harbi", "ar": "نورة الحربي"}
COUNT_ONE = {"en": "1 patient found.", "ar": "عدد المرضى الذين تم العثور عليهم: 1."}
CHOSEN = {"en": "Chosen: Noura Al-Harbi", "ar": "المريض المختار: نورة الحربي"}


@pytest.fixture
def desk_day(tenant):
    north = ClinicFactory(tenant=tenant, name_en="North Clinic", specialty=Clinic.Specialty.PSYCHOLOGY)
    east = ClinicFactory(tenant=tenant, name_en="East Clinic", specialty=Clinic.Specialty.OT)
    noura = consented_patient(
        tenant,
        mrn="AG-0012",
        first_name_en="Noura",
        last_name_en="Al-Harbi",
        first_name_ar="نورة",
        last_name_ar="الحربي",
    )
    # A second child whose name starts the same, so the list has a choice to make.
    PatientFactory(tenant=tenant, mrn="AG-0013", first_name_en="Nour", first_name_ar="نور", last_name_ar="")
    return {
        "desk": UserFactory(username="desk", tenant=tenant, role=User.Role.FRONT_DESK),
        "north": north,
        "east": east,
        "north_provider": ProviderFactory(clinic=north),
        "east_provider": ProviderFactory(clinic=east),
        "north_room": RoomFactory(clinic=north, name="Blue room"),
        "east_room": RoomFactory(clinic=east, name="Gym"),
        "noura": noura,
    }


def offered(tab, select: str) -> set[int]:
    """The ids a select offers (its options neither hidden nor disabled, the empty one left out)."""
    values = tab.eval_on_selector_all(
        f"{select} option",
        "options => options.filter(o => !o.hidden && !o.disabled && o.value).map(o => o.value)",
    )
    return {int(value) for value in values}


@pytest.mark.parametrize("language", ["en", "ar"])
def test_browser_desk_picks_a_child_by_a_variant_spelling_and_books_in_the_clinic(
    page,  # noqa: F811
    desk_day,
    language,
):
    noura = desk_day["noura"]
    sign_in(page, desk_day["desk"], language)
    page.goto(reverse("appointments:session_book_individual"))

    # The MRN box is a combobox; typing part of a variant spelling lists the children found.
    box = page.locator("#id_patient")
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("نوره")
    options = page.locator("#id_patient-picker-list [role=option]")
    options.first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    assert options.count() == 1
    assert NAMES[language] in options.first.inner_text()
    assert page.locator("#id_patient-picker-status").inner_text() == COUNT_ONE[language]

    # From the keyboard: Escape closes the list, ArrowDown opens it on her, Enter chooses her (and
    # submits nothing).
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    box.press("ArrowDown")
    assert box.get_attribute("aria-expanded") == "true"
    assert box.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    assert options.first.get_attribute("aria-selected") == "true"
    save_screenshot(page, f"patient-picker-{language}")
    box.press("Enter")
    assert box.input_value() == "AG-0012"
    assert box.get_attribute("aria-expanded") == "false"
    assert page.locator("#id_patient-picker-status").inner_text() == CHOSEN[language]
    assert page.url.endswith(reverse("appointments:session_book_individual"))

    # Choosing the clinic narrows its providers and rooms.
    north = desk_day["north"]
    page.select_option("select[name=provider]", str(desk_day["east_provider"].pk))
    page.select_option("select[name=clinic]", str(north.pk))
    assert offered(page, "select[name=provider]") == {desk_day["north_provider"].pk}
    assert offered(page, "select[name=room]") == {desk_day["north_room"].pk}
    assert page.locator("select[name=provider]").input_value() == ""  # the east provider was cleared
    page.select_option("select[name=provider]", str(desk_day["north_provider"].pk))
    page.select_option("select[name=room]", str(desk_day["north_room"].pk))
    page.fill("input[name=scheduled_date]", MONDAY.isoformat())
    page.fill("input[name=scheduled_time]", "09:00")
    page.fill("input[name=service_type]", "Assessment")

    with page.expect_navigation():
        page.click("main form button[type=submit]")

    session = Session.objects.get()
    assert page.url.endswith(session.get_absolute_url())
    assert list(session.participants.values_list("patient", flat=True)) == [noura.pk]
    assert (session.clinic, session.provider, session.room) == (
        north,
        desk_day["north_provider"],
        desk_day["north_room"],
    )
