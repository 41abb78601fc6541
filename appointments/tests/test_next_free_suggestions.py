""" "Next free" on the booking pages: after a clash, hours, leave or holiday, links to slots that book."""

import datetime
import zoneinfo
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from appointments.models import Appointment, Session
from appointments.session_service import SessionService
from core.models import ClinicHoliday, OpeningHours, ProviderLeave, User
from core.tests.factories import ClinicFactory, ProviderFactory
from core.tests.view_helpers import consented_patient, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

RIYADH = zoneinfo.ZoneInfo("Asia/Riyadh")
# frozen_today is Sunday 15/03/2026, 10:00.
MONDAY = datetime.date(2026, 3, 16)
GROUP = {"max_capacity": 6, "group_notes": "Turn-taking"}
CHILD = {"patient": "AG-7"}


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    return client


@pytest.fixture
def sara(tenant):
    return consented_patient(tenant, mrn="AG-7")


@pytest.fixture
def mornings(clinic):
    """The clinic opens 08:00-10:00 every day."""
    for weekday in range(7):
        OpeningHours.objects.create(
            clinic=clinic, weekday=weekday, opens_at=datetime.time(8), closes_at=datetime.time(10)
        )


def slot(clinic, provider, **fields):
    return {
        "clinic": clinic.pk,
        "provider": provider.pk,
        "room": "",
        "scheduled_date": MONDAY.isoformat(),
        "scheduled_time": "08:00",
        "duration": 60,
        "service_type": "Assessment",
        **fields,
    }


def busy(provider, clinic, day=MONDAY, hour=8):
    return SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=day,
        scheduled_time=datetime.time(hour),
        duration=60,
        service_type="Social Skills Group",
        max_capacity=4,
    )


def labels(response) -> list[str]:
    return [suggestion.label for suggestion in response.context["next_free"]]


@pytest.mark.usefixtures("mornings", "sara")
@pytest.mark.parametrize(
    ("page", "extra"),
    [("session_create", GROUP), ("session_book_individual", CHILD), ("appointment_book", CHILD)],
)
def test_booking_page_after_a_clash_offers_the_next_free_slots(desk, clinic, provider, page, extra):
    # given the provider busy 08:00-09:00 on Monday
    busy(provider, clinic)

    # when the desk asks for 08:00
    response = desk.post(reverse(f"appointments:{page}"), slot(clinic, provider, **extra))

    # then the refusal stays, with the next free slots after it: Monday 09:00, then the following mornings
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert labels(response) == [
        "Mon 16/03 09:00",
        "Tue 17/03 08:00",
        "Tue 17/03 08:15",
        "Tue 17/03 08:30",
        "Tue 17/03 08:45",
    ]
    html = response.content.decode()
    assert "Next free:" in html
    assert html.count('class="alert-link"') == 5


@pytest.mark.usefixtures("mornings", "sara")
@pytest.mark.parametrize(
    ("page", "extra"),
    [("session_create", GROUP), ("session_book_individual", CHILD), ("appointment_book", CHILD)],
)
def test_next_free_link_prefills_the_form_and_books(desk, clinic, provider, page, extra):
    busy(provider, clinic)
    refused = desk.post(reverse(f"appointments:{page}"), slot(clinic, provider, **extra))
    link = refused.context["next_free"][0].url

    # when the desk follows the first link
    page_response = desk.get(link)

    # then the form shows the same choices at the suggested slot, and never the group's notes
    assert urlsplit(link).path == reverse(f"appointments:{page}")
    assert "group_notes" not in parse_qs(urlsplit(link).query)
    form = page_response.context["form"]
    assert str(form["scheduled_date"].value()) == "2026-03-16"
    assert str(form["scheduled_time"].value()) == "09:00"
    assert str(form["provider"].value()) == str(provider.pk)
    assert str(form["duration"].value()) == "60"
    # and booking it succeeds
    booked = desk.post(
        reverse(f"appointments:{page}"), slot(clinic, provider, scheduled_time="09:00", **extra)
    )
    assert booked.status_code == 302
    assert Session.objects.count() + Appointment.objects.count() == 2


@pytest.mark.usefixtures("mornings")
def test_next_free_for_a_child_avoids_the_childs_other_bookings(desk, clinic, provider, sara):
    # given the provider busy at 08:00 and the child with a colleague at 09:00 on Monday
    busy(provider, clinic)
    SessionService.add_patient_to_session(busy(ProviderFactory(clinic=clinic), clinic, hour=9), sara)

    response = desk.post(reverse("appointments:session_book_individual"), slot(clinic, provider, **CHILD))

    assert labels(response)[0] == "Tue 17/03 08:00"


@pytest.mark.usefixtures("mornings", "sara")
def test_next_free_after_a_holiday_starts_the_day_after(desk, clinic, provider):
    ClinicHoliday.objects.create(clinic=clinic, date=MONDAY, name="Eid al-Fitr")

    response = desk.post(reverse("appointments:appointment_book"), slot(clinic, provider, **CHILD))

    assert response.context["form"].non_field_errors() == [
        f"{clinic} is closed on Mon 16/03/2026 for Eid al-Fitr."
    ]
    assert labels(response)[:2] == ["Tue 17/03 08:00", "Tue 17/03 08:15"]


@pytest.mark.usefixtures("mornings")
def test_next_free_says_so_when_nothing_is_free_for_two_weeks(desk, clinic, provider):
    ProviderLeave.objects.create(
        provider=provider,
        starts_at=datetime.datetime(2026, 3, 16, tzinfo=RIYADH),
        ends_at=datetime.datetime(2026, 4, 6, tzinfo=RIYADH),
        reason="Hajj",
    )

    response = desk.post(reverse("appointments:session_create"), slot(clinic, provider, **GROUP))

    assert response.context["next_free"] == []
    assert "Nothing is free in the next two weeks with these choices." in response.content.decode()


def test_no_next_free_when_another_time_would_not_help(desk, tenant, clinic, provider):
    # given a provider of another clinic of the organisation
    stranger = ProviderFactory(clinic=ClinicFactory(tenant=tenant))

    response = desk.post(reverse("appointments:session_create"), slot(clinic, stranger, **GROUP))

    assert response.context["form"].non_field_errors() == [f"{stranger} does not work in {clinic}."]
    assert response.context["next_free"] is None
    assert "Next free:" not in response.content.decode()


def test_booking_page_shows_no_next_free_before_a_refusal(desk):
    response = desk.get(reverse("appointments:session_create"))

    assert response.context["next_free"] is None
    assert "Next free:" not in response.content.decode()
