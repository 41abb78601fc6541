"""The free-slot page end to end through the HTTP client (``SessionService.find_free_slots`` behind it).

The clock is pinned to Sunday 15/03/2026 10:00; the searches look at Monday 16/03. The
clinic sets no opening hours, so the day runs 08:00-18:00 (``SCHEDULE_DAY_START``/``END``).
"""

import datetime
import zoneinfo
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.urls import reverse

from appointments.leave_service import record_leave
from core.models import User
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, RoomFactory, TenantFactory
from core.tests.view_helpers import booked, group_session, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
MONDAY = datetime.date(2026, 3, 16)
ZONE = zoneinfo.ZoneInfo(settings.TIME_ZONE)
URL = "/appointments/free-slots/"


def monday_at(hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 3, 16, hour, minute, tzinfo=ZONE)


def search(clinic, provider=None, **fields):
    data = {
        "clinic": clinic.pk,
        "provider": provider.pk if provider else "",
        "duration": 60,
        "date_from": MONDAY.isoformat(),
        "date_to": MONDAY.isoformat(),
    }
    data.update(fields)
    return data


def found(response) -> list[datetime.datetime]:
    return [slot["at"] for slot in response.context["slots"]]


def query_of(link: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(link).query)


def test_free_slots_url_is_the_named_one():
    assert reverse("appointments:free_slots") == URL


def test_free_slots_page_starts_with_today_and_the_next_week_and_no_search(desk):
    response = desk.get(URL)

    form = response.context["form"]
    assert response.status_code == 200
    assert response.context["slots"] is None
    assert (form["date_from"].value(), form["date_to"].value()) == (
        datetime.date(2026, 3, 15),
        datetime.date(2026, 3, 22),
    )


def test_free_slots_lists_day_first_times_on_the_grid_from_the_start_of_the_day(desk, clinic, provider):
    response = desk.get(URL, search(clinic, provider))

    assert found(response)[:3] == [monday_at(8), monday_at(8, 15), monday_at(8, 30)]
    assert len(found(response)) == 20
    assert "Mon 16/03/2026 08:00" in response.content.decode()


def test_free_slots_skip_the_providers_bookings_and_leave(desk, desk_user, clinic, provider):
    group_session(provider, clinic, day=MONDAY, hour=8)
    record_leave(
        provider=provider,
        starts_at=monday_at(9, 30),
        ends_at=monday_at(17),
        reason="Training",
        user=desk_user,
    )

    response = desk.get(URL, search(clinic, provider))

    # 09:00 would run into the leave; after it, 17:00 is the last start that ends by 18:00.
    assert found(response) == [monday_at(17)]


def test_free_slots_skip_times_a_chosen_child_is_booked_and_link_the_booking_forms_prefilled(
    desk, clinic, provider, room
):
    colleague = ProviderFactory(clinic=clinic)
    sara = PatientFactory(tenant=clinic.tenant, first_name_en="Sara", mrn="MRN-SARA")
    booked(group_session(colleague, clinic, day=MONDAY, hour=8), sara)

    response = desk.get(URL, search(clinic, provider, room=room.pk, patients=[sara.pk]))

    first = response.context["slots"][0]
    assert first["at"] == monday_at(9)
    assert query_of(first["links"]["individual"]) == {
        "clinic": [str(clinic.pk)],
        "scheduled_date": ["2026-03-16"],
        "scheduled_time": ["09:00"],
        "duration": ["60"],
        "provider": [str(provider.pk)],
        "room": [str(room.pk)],
        "patient": ["MRN-SARA"],
    }
    assert first["links"]["individual"].startswith(reverse("appointments:session_book_individual") + "?")
    assert first["links"]["group"].startswith(reverse("appointments:session_create") + "?")
    assert "patient" not in query_of(first["links"]["group"])
    assert response.context["chosen_patients"] == [sara]


def test_free_slots_without_a_provider_are_times_any_provider_of_the_clinic_is_free(desk, clinic, provider):
    colleague = ProviderFactory(clinic=clinic)
    group_session(provider, clinic, day=MONDAY, hour=8)
    group_session(colleague, clinic, day=MONDAY, hour=8)

    response = desk.get(URL, search(clinic))

    assert found(response)[0] == monday_at(9)
    assert "provider" not in query_of(response.context["slots"][0]["links"]["individual"])
    assert "choose the provider on the booking form" in response.content.decode()


def test_free_slots_patient_search_offers_children_to_tick(desk, clinic):
    sara = PatientFactory(tenant=clinic.tenant, first_name_en="Sara")
    PatientFactory(tenant=TenantFactory(code="OTHER"), first_name_en="Sara")

    response = desk.get(URL, {"q": "Sara"})

    assert response.context["found_patients"] == [sara]
    assert f'name="patients" value="{sara.pk}"' in response.content.decode()


def test_free_slots_with_no_time_left_says_so(desk, desk_user, clinic, provider):
    record_leave(
        provider=provider, starts_at=monday_at(0), ends_at=monday_at(23), reason="Sick", user=desk_user
    )

    response = desk.get(URL, search(clinic, provider))

    assert found(response) == []
    assert "No free slot in this period." in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"date_to": "2026-03-14"}, {"date_to": ["The end date is before the start date."]}),
        ({"date_to": "2026-04-16"}, {"date_to": ["Search at most 31 days at a time."]}),
        ({"duration": "5"}, {"duration": ["Ensure this value is greater than or equal to 15."]}),
    ],
    ids=["backwards", "too-long", "too-short"],
)
def test_free_slots_refuse_bad_ranges_with_a_message(desk, clinic, provider, fields, errors):
    response = desk.get(URL, search(clinic, provider, **fields))

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert response.context["slots"] is None


def test_free_slots_with_a_provider_of_another_clinic_say_why(desk, clinic, tenant):
    elsewhere = ProviderFactory(clinic=ClinicFactory(tenant=tenant))

    response = desk.get(URL, search(clinic, elsewhere))

    assert response.context["form"].non_field_errors() == [f"{elsewhere} does not work in {clinic}."]
    assert response.context["slots"] is None


def test_free_slots_refuse_another_organisations_clinic_and_room(desk, clinic):
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))

    response = desk.get(URL, search(foreign_clinic, room=RoomFactory(clinic=foreign_clinic).pk))

    assert set(response.context["form"].errors) == {"clinic", "room"}
    assert response.context["slots"] is None


@pytest.mark.parametrize("role", [Role.FINANCE, Role.PSYCHOLOGIST])
def test_free_slots_are_the_front_desks(client, tenant, clinic, role):
    client.force_login(staff_member(tenant, role))

    assert client.get(URL, search(clinic)).status_code == 403


@pytest.mark.parametrize("bookings", [2, 10])
def test_free_slots_query_count_does_not_grow_with_bookings(
    desk, clinic, provider, room, bookings, django_assert_num_queries
):
    for number in range(bookings):
        group_session(
            provider, clinic, day=MONDAY + datetime.timedelta(days=number // 8), hour=8 + number % 8
        )
    sara = PatientFactory(tenant=clinic.tenant)

    # session + user; the clinic, provider, room and children asked for; the finder: the provider
    # in the clinic, providers with their hours and leave, the clinic with its week, overrides and
    # holidays, the bookings of providers and room, the children's participations, appointments;
    # the clinic, provider and room choices shown; the access-log row
    with django_assert_num_queries(21):
        response = desk.get(
            URL, search(clinic, provider, room=room.pk, patients=[sara.pk], date_to="2026-03-18")
        )

    assert len(found(response)) == 20
