"""The booking forms' helpers: the patient picker on the MRN box, and providers and rooms by clinic.

The scripts (static/js/patient_picker.js, static/js/clinic_filter.js) are driven in
core/tests/test_browser_patient_picker.py; here, what the pages give them, and that the server
still refuses what the page would no longer offer.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from core.models import User
from core.tests.factories import ClinicFactory, ProviderFactory, RoomFactory
from core.tests.view_helpers import consented_patient, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

MONDAY = datetime.date(2026, 3, 16)  # frozen_today is Sunday 15 March 2026
BOOKING_PAGES = [
    "appointments:session_create",
    "appointments:session_book_individual",
    "appointments:appointment_book",
    "appointments:series_create",
]
PAGES_WITH_A_PATIENT = BOOKING_PAGES[1:]


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    return client


@pytest.fixture
def elsewhere(tenant):
    """A second clinic of the organisation, with its own provider and room."""
    clinic = ClinicFactory(tenant=tenant, name_en="East Clinic")
    return {"clinic": clinic, "provider": ProviderFactory(clinic=clinic), "room": RoomFactory(clinic=clinic)}


def booking(page: str, clinic, provider, room, patient) -> dict:
    """A valid booking on ``page`` but for what a test changes."""
    slot = {
        "clinic": clinic.pk,
        "provider": provider.pk,
        "room": room.pk,
        "scheduled_time": "09:00",
        "duration": 60,
        "service_type": "Assessment",
    }
    if page == "appointments:series_create":
        return {
            **slot,
            "session_type": "individual",
            "patient": patient.mrn,
            "start_date": MONDAY.isoformat(),
            "frequency": "weekly",
            "occurrence_count": 2,
        }
    if page == "appointments:session_create":
        return {**slot, "scheduled_date": MONDAY.isoformat(), "max_capacity": 4}
    return {**slot, "scheduled_date": MONDAY.isoformat(), "patient": patient.mrn}


@pytest.mark.parametrize("page", PAGES_WITH_A_PATIENT)
def test_booking_page_makes_the_mrn_box_a_patient_picker(desk, page):
    html = str(desk.get(reverse(page)).context["form"]["patient"])

    assert f'data-patient-picker="{reverse("core:patient_lookup")}"' in html
    assert 'data-picker-min="2" data-picker-max="20"' in html
    assert 'data-picker-count-one="%(count)s patient found."' in html
    assert 'data-picker-count-other="%(count)s patients found."' in html
    assert 'autocomplete="off"' in html
    assert 'name="patient"' in html


@pytest.mark.parametrize("page", BOOKING_PAGES)
def test_booking_page_says_which_clinics_each_provider_and_room_belong_to(
    desk, clinic, provider, room, elsewhere, page
):
    both = ProviderFactory(clinic=clinic)
    both.clinics.add(elsewhere["clinic"])

    response = desk.get(reverse(page))

    form = response.context["form"]
    providers, rooms = str(form["provider"]), str(form["room"])
    assert "data-clinic-options" in providers
    assert "data-clinic-options" in rooms
    assert f'<option value="{provider.pk}" data-clinics="{clinic.pk}">' in providers
    assert f'<option value="{elsewhere["provider"].pk}" data-clinics="{elsewhere["clinic"].pk}">' in providers
    assert f'<option value="{both.pk}" data-clinics="{clinic.pk} {elsewhere["clinic"].pk}">' in providers
    assert f'<option value="{room.pk}" data-clinics="{clinic.pk}">' in rooms
    assert f'<option value="{elsewhere["room"].pk}" data-clinics="{elsewhere["clinic"].pk}">' in rooms
    assert "static/js/clinic_filter.js" in response.content.decode()


@pytest.mark.parametrize("page", PAGES_WITH_A_PATIENT)
def test_booking_page_loads_the_picker_script(desk, page):
    assert "static/js/patient_picker.js" in desk.get(reverse(page)).content.decode()


@pytest.mark.parametrize("page", BOOKING_PAGES)
def test_booking_page_still_refuses_a_provider_of_another_clinic(
    desk, tenant, clinic, provider, room, elsewhere, page
):
    patient = consented_patient(tenant)
    stranger = elsewhere["provider"]

    response = desk.post(reverse(page), booking(page, clinic, stranger, room, patient))

    assert response.status_code == 200
    errors = [strip_tags(error) for error in response.context["form"].non_field_errors()]
    assert errors == [f"{stranger} does not work in {clinic}."]


@pytest.mark.parametrize("page", BOOKING_PAGES)
def test_booking_page_still_refuses_a_room_of_another_clinic(
    desk, tenant, clinic, provider, room, elsewhere, page
):
    patient = consented_patient(tenant)
    far_room = elsewhere["room"]

    response = desk.post(reverse(page), booking(page, clinic, provider, far_room, patient))

    assert response.status_code == 200
    errors = [strip_tags(error) for error in response.context["form"].non_field_errors()]
    assert errors == [f"Room {far_room.name} is not in {clinic}."]


@pytest.mark.parametrize("page", BOOKING_PAGES)
@pytest.mark.parametrize("staff", [1, 6])
def test_booking_page_query_count_does_not_grow_with_providers_and_rooms(
    desk, tenant, page, staff, django_assert_num_queries
):
    clinics = [ClinicFactory(tenant=tenant) for _ in range(2)]
    for number in range(staff):
        ProviderFactory(clinic=clinics[number % 2]).clinics.add(clinics[(number + 1) % 2])
        RoomFactory(clinic=clinics[number % 2])

    # session + user; clinics, providers, their clinics, rooms; the service-name catalogue; and the
    # series form's access-log row (its posted plan names a child)
    with django_assert_num_queries(8 if page == "appointments:series_create" else 7):
        response = desk.get(reverse(page))

    assert len(response.context["form"].fields["provider"].queryset) == staff
