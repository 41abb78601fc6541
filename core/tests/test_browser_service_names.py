"""In a real browser, in English and in Arabic: the new-group form suggests the organisation's
service names of the chosen clinic's specialty (static/js/service_names.js), and the session
booked with one shows the catalogue's name, room and provider in the page's language.

Elements are found by name and id rather than by their text, so the same steps run in both
languages.
"""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from appointments.models import Session
from core.models import Clinic, ServiceName, User
from core.tests.browser import browser, page, save_screenshot  # noqa: F401  (pytest fixtures)
from core.tests.factories import ClinicFactory, ProviderFactory, RoomFactory, UserFactory
from core.tests.test_browser_week_calendar import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

MONDAY = datetime.date(2026, 3, 16)  # frozen_today is Sunday 15 March 2026
SHOWN = {
    "en": ("Social Skills Group", "Blue room", "Dr Sara Haddad"),
    "ar": ("مجموعة المهارات الاجتماعية", "الغرفة الزرقاء", "د. سارة حداد"),
}


@pytest.fixture
def centre(tenant):
    psychology = ClinicFactory(
        tenant=tenant, specialty=Clinic.Specialty.PSYCHOLOGY, requires_finance_clearance=False
    )
    ot = ClinicFactory(tenant=tenant, specialty=Clinic.Specialty.OT)
    for specialty, name_en, name_ar in (
        (Clinic.Specialty.PSYCHOLOGY, "Social Skills Group", "مجموعة المهارات الاجتماعية"),
        (Clinic.Specialty.OT, "Sensory Diet", "حمية حسية"),
        ("", "Assessment", "تقييم"),
    ):
        ServiceName.objects.create(tenant=tenant, specialty=specialty, name_en=name_en, name_ar=name_ar)
    return {
        "desk": UserFactory(username="desk", tenant=tenant, role=User.Role.FRONT_DESK),
        "psychology": psychology,
        "ot": ot,
        "provider": ProviderFactory(
            clinic=psychology,
            user=UserFactory(
                username="sara",
                tenant=tenant,
                role=User.Role.PSYCHOLOGIST,
                first_name="Sara",
                last_name="Haddad",
            ),
            name_ar="د. سارة حداد",
        ),
        "room": RoomFactory(clinic=psychology, name="Blue room", name_ar="الغرفة الزرقاء"),
    }


def offered(tab: Page) -> list[str]:
    return tab.eval_on_selector(
        "#id_service_type-names", "list => Array.from(list.options, option => option.value)"
    )


@pytest.mark.parametrize("language", ["en", "ar"])
def test_browser_new_group_suggests_the_clinics_service_names_and_the_session_shows_them(
    page,  # noqa: F811
    centre,
    language,
):
    sign_in(page, centre["desk"], language)
    page.goto(reverse("appointments:session_create"))

    # No clinic chosen: every name; then the chosen clinic's specialty's and those for every clinic.
    assert offered(page) == ["Assessment", "Sensory Diet", "Social Skills Group"]
    page.select_option("select[name=clinic]", str(centre["ot"].pk))
    assert offered(page) == ["Assessment", "Sensory Diet"]
    page.select_option("select[name=clinic]", str(centre["psychology"].pk))
    assert offered(page) == ["Assessment", "Social Skills Group"]

    page.select_option("select[name=provider]", str(centre["provider"].pk))
    page.select_option("select[name=room]", str(centre["room"].pk))
    page.fill("input[name=scheduled_date]", MONDAY.isoformat())
    page.fill("input[name=scheduled_time]", "11:00")
    page.fill("input[name=duration]", "60")
    page.fill("input[name=service_type]", "Social Skills Group")
    page.fill("input[name=max_capacity]", "4")
    save_screenshot(page, f"service-names-create-{language}")
    with page.expect_navigation():
        page.click("main form[method=post] button[type=submit]")

    session = Session.objects.get()
    assert session.service_type == "Social Skills Group"
    assert page.url.endswith(session.get_absolute_url())
    service, room, provider = SHOWN[language]
    assert page.locator("h1").inner_text().startswith(service)
    details = page.locator("main dl").first.inner_text()
    assert room in details
    assert provider in details
    save_screenshot(page, f"service-names-session-{language}")
