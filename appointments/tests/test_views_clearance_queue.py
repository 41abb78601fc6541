"""Finance's clearance queue through HTTP: the rows it lists and in which order, its filters and
pages, bulk clearing with a result per row, who may use it, and its fixed number of queries."""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from appointments.appointment_service import AppointmentService
from appointments.clearance_views import PAGE_SIZE
from appointments.models import Appointment, SessionParticipant
from appointments.session_service import SessionService
from core.models import AccessLog, User
from core.tests.factories import ClinicFactory, ProviderFactory, TenantFactory
from core.tests.view_helpers import (
    booked,
    consented_patient,
    group_session,
    legacy_appointment,
    messages_of,
    staff_member,
    superuser,
    work_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
QUEUE = reverse("appointments:clearance_queue")
CLEAR = reverse("appointments:clearance_clear")
TODAY = datetime.date(2026, 3, 15)  # frozen_today


def day(offset: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=offset)


def key(booking: SessionParticipant | Appointment) -> str:
    kind = "participant" if isinstance(booking, SessionParticipant) else "appointment"
    return f"{kind}-{booking.pk}"


def listed(response) -> list[str]:
    return [row.key for row in response.context["rows"]]


def shown_count(response) -> str:
    html = response.content.decode()
    return re.search(r'data-testid="queue-count">\s*(.*?)\s*</p>', html, re.S)[1]


@pytest.fixture
def finance(client, tenant):
    user = staff_member(tenant, Role.FINANCE)
    client.force_login(user)
    return user


@pytest.fixture
def second_clinic(tenant):
    """A clinic whose English name sorts before the ``clinic`` fixture's ("Clinic N")."""
    return ClinicFactory(tenant=tenant, name_en="Autism Centre", name_ar="مركز التوحد")


# What the queue lists, and in which order


def test_clearance_queue_lists_today_and_the_next_7_days_by_default(client, clinic, provider, finance):
    yesterday = booked(group_session(provider, clinic, day=day(-1)))
    today = booked(group_session(provider, clinic, day=day(0)))
    last_day = booked(group_session(provider, clinic, day=day(7)))
    booked(group_session(provider, clinic, day=day(8)))

    response = client.get(QUEUE)

    assert response.status_code == 200
    assert listed(response) == [key(today), key(last_day)]
    assert key(yesterday) not in listed(response)
    assert shown_count(response) == "2 bookings wait for clearance from 15/03/2026 to 22/03/2026."
    html = response.content.decode()
    assert 'name="date_from" value="15/03/2026"' in html
    assert 'name="date_to" value="22/03/2026"' in html


def test_clearance_queue_merges_sessions_and_legacy_appointments_by_day_time_clinic_and_number(
    client, tenant, clinic, provider, second_clinic, finance
):
    other_provider = ProviderFactory(clinic=second_clinic)
    group_at_11 = group_session(provider, clinic, hour=11)
    first_at_11, second_at_11 = booked(group_at_11), booked(group_at_11)
    appointment_at_9 = legacy_appointment(provider, clinic, hour=9)
    # Same day and time as the group, in a clinic whose name sorts first.
    appointment_at_11 = legacy_appointment(other_provider, second_clinic, hour=11)
    tomorrow_at_8 = booked(group_session(provider, clinic, day=day(1), hour=8))
    appointment_later = legacy_appointment(provider, clinic, day=day(3), hour=15)

    response = client.get(QUEUE)

    assert listed(response) == [
        key(appointment_at_9),
        key(appointment_at_11),
        key(first_at_11),
        key(second_at_11),
        key(tomorrow_at_8),
        key(appointment_later),
    ]
    html = response.content.decode()
    for booking in (appointment_at_9, first_at_11, tomorrow_at_8):
        assert booking.appointment_number in html
        assert booking.patient.mrn in html
        assert booking.patient.full_name_en in html
    assert "Sun 15/03/2026" in html
    assert "Autism Centre" in html


def test_clearance_queue_leaves_out_what_needs_no_clearance(client, tenant, clinic, provider, finance):
    session = group_session(provider, clinic, capacity=6)
    waiting = booked(session)
    SessionService.clear_finance(booked(session), user=finance)
    SessionService.cancel_participant(booked(session), "Moved away")
    cancelled_appointment = legacy_appointment(provider, clinic, hour=15)
    AppointmentService.cancel(cancelled_appointment, "Moved away")
    cancelled_session = group_session(provider, clinic, hour=12)
    booked(cancelled_session)
    SessionService.cancel_session(cancelled_session, "Provider ill")
    free_clinic = ClinicFactory(tenant=tenant, requires_finance_clearance=False)
    booked(group_session(ProviderFactory(clinic=free_clinic), free_clinic))
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    booked(group_session(ProviderFactory(clinic=foreign_clinic), foreign_clinic))

    response = client.get(QUEUE)

    assert listed(response) == [key(waiting)]


def test_clearance_queue_lists_a_back_filled_appointment_once_as_its_session_place(
    client, clinic, provider, finance
):
    appointment = legacy_appointment(provider, clinic, hour=9)
    call_command("backfill_sessions", stdout=io.StringIO(), stderr=io.StringIO())
    place = SessionParticipant.objects.get(legacy_appointment=appointment)

    response = client.get(QUEUE)

    assert listed(response) == [key(place)]


# Filters


def test_clearance_queue_filters_by_dates_and_clinic(client, clinic, provider, second_clinic, finance):
    booked(group_session(provider, clinic, day=day(1)))
    in_range = booked(group_session(provider, clinic, day=day(10)))
    other_clinic = legacy_appointment(ProviderFactory(clinic=second_clinic), second_clinic, day=day(12))
    booked(group_session(provider, clinic, day=day(20)))

    dates = client.get(QUEUE, {"date_from": "24/03/2026", "date_to": "2026-03-28"})
    clinic_only = client.get(QUEUE, {"date_from": "24/03/2026", "date_to": "28/03/2026", "clinic": clinic.pk})
    only_start = client.get(QUEUE, {"date_from": "25/03/2026", "date_to": ""})

    assert listed(dates) == [key(in_range), key(other_clinic)]
    assert listed(clinic_only) == [key(in_range)]
    # A blank end is a week after the start: 25/03 .. 01/04.
    assert listed(only_start) == [key(in_range), key(other_clinic)]
    assert shown_count(only_start) == "2 bookings wait for clearance from 25/03/2026 to 01/04/2026."


def test_clearance_queue_offers_only_the_organisations_clinics_that_need_clearance(
    client, tenant, clinic, second_clinic, finance
):
    free_clinic = ClinicFactory(tenant=tenant, requires_finance_clearance=False)
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))

    choices = client.get(QUEUE).context["form"].fields["clinic"].queryset

    assert set(choices) == {clinic, second_clinic}
    assert free_clinic not in choices
    assert foreign_clinic not in choices


def test_clearance_queue_finds_a_child_by_english_or_arabic_name_or_mrn(
    client, tenant, clinic, provider, finance
):
    noura = consented_patient(
        tenant,
        first_name_en="Noura",
        last_name_en="Al-Harbi",
        first_name_ar="نورة",
        last_name_ar="الحربي",
        mrn="QF-101",
    )
    omar = consented_patient(
        tenant,
        first_name_en="Omar",
        last_name_en="Saleh",
        first_name_ar="عمر",
        last_name_ar="صالح",
        mrn="QF-202",
    )
    session = group_session(provider, clinic)
    noura_place, omar_place = booked(session, noura), booked(session, omar)
    omar_appointment = legacy_appointment(provider, clinic, omar, day=day(2))

    by_english = client.get(QUEUE, {"q": "noura"})
    by_arabic = client.get(QUEUE, {"q": "نورة"})
    by_mrn = client.get(QUEUE, {"q": "QF-202"})
    by_nobody = client.get(QUEUE, {"q": "Zainab"})

    assert listed(by_english) == [key(noura_place)]
    assert listed(by_arabic) == [key(noura_place)]
    assert listed(by_mrn) == [key(omar_place), key(omar_appointment)]
    assert listed(by_nobody) == []
    assert "Nothing waits for finance clearance." in by_nobody.content.decode()


def test_clearance_queue_bad_filters_fall_back_to_the_default_and_say_why(client, clinic, provider, finance):
    place = booked(group_session(provider, clinic, day=day(1)))

    response = client.get(QUEUE, {"date_from": "30/02/2026", "clinic": "-1", "q": "x" * 101})
    backwards = client.get(QUEUE, {"date_from": "2026-03-16", "date_to": "2026-03-01"})

    assert listed(response) == [key(place)]
    assert set(response.context["form"].errors) == {"date_from", "clinic", "q"}
    assert listed(backwards) == [key(place)]
    assert backwards.context["form"].errors == {"date_to": ["The end date is before the start date."]}
    assert shown_count(backwards) == "1 booking waits for clearance from 16/03/2026 to 23/03/2026."


# Pages


def test_clearance_queue_pages_reach_exactly_the_rows_it_counts(client, tenant, clinic, provider, finance):
    for hour in (8, 9, 10):
        session = group_session(provider, clinic, hour=hour, capacity=10)
        for _ in range(10):
            booked(session)
    appointments = [legacy_appointment(provider, clinic, day=day(1), hour=hour) for hour in (8, 9)]

    first = client.get(QUEUE)
    second = client.get(QUEUE, {"page": 2})

    assert first.context["page_obj"].paginator.count == 32
    assert shown_count(first) == "32 bookings wait for clearance from 15/03/2026 to 22/03/2026."
    assert len(listed(first)) == PAGE_SIZE
    assert listed(second)[-2:] == [key(a) for a in appointments]
    reached = listed(first) + listed(second)
    assert len(reached) == len(set(reached)) == 32
    html = first.content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?page=2"' in html


def test_clearance_queue_pages_keep_the_filters(client, clinic, provider, finance):
    book_places(provider, clinic, PAGE_SIZE + 1)

    response = client.get(QUEUE, {"clinic": clinic.pk, "q": ""})

    assert f'href="?clinic={clinic.pk}&amp;q=&amp;page=2"' in response.content.decode()


# Bulk clearing


def test_clearance_clear_clears_each_row_on_its_own_and_reports_each(
    client, tenant, clinic, provider, finance
):
    session = group_session(provider, clinic, capacity=6)
    first, already, cancelled = booked(session), booked(session), booked(session)
    appointment = legacy_appointment(provider, clinic, hour=15)
    SessionService.clear_finance(already, user=finance)
    page = f"{QUEUE}?clinic={clinic.pk}"
    # Cancelled after the page was shown, before the post.
    SessionService.cancel_participant(cancelled, "Moved away")
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    foreign = booked(group_session(ProviderFactory(clinic=foreign_clinic), foreign_clinic))

    response = client.post(
        CLEAR,
        {"rows": [key(first), key(already), key(cancelled), key(appointment), key(foreign)], "next": page},
    )
    shown = client.get(response.url)
    again = client.get(response.url)

    assert response.url == page
    assert shown.context["results"] == [
        {
            "number": first.appointment_number,
            "patient": first.patient.full_name,
            "cleared": True,
            "message": "Cleared.",
        },
        {
            "number": already.appointment_number,
            "patient": already.patient.full_name,
            "cleared": False,
            "message": "Already cleared by finance.",
        },
        {
            "number": cancelled.appointment_number,
            "patient": cancelled.patient.full_name,
            "cleared": False,
            "message": "Finance can't clear a participation that is cancelled.",
        },
        {
            "number": appointment.appointment_number,
            "patient": appointment.patient.full_name,
            "cleared": True,
            "message": "Cleared.",
        },
        {"number": "", "patient": "", "cleared": False, "message": "Not found."},
    ]
    html = shown.content.decode()
    assert "Cleared 2 of 5 rows" in html
    assert html.count('data-result="refused"') == 3
    assert foreign.patient.full_name_en not in html
    assert again.context["results"] == []
    first.refresh_from_db()
    appointment.refresh_from_db()
    foreign.refresh_from_db()
    assert (first.finance_cleared, first.finance_cleared_by) == (True, finance)
    assert (appointment.finance_cleared, appointment.finance_cleared_by) == (True, finance)
    assert foreign.finance_cleared is False
    assert listed(shown) == []


def test_clearance_clear_never_clears_rows_of_another_organisation(client, tenant, finance):
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    foreign_provider = ProviderFactory(clinic=foreign_clinic)
    place = booked(group_session(foreign_provider, foreign_clinic))
    appointment = legacy_appointment(foreign_provider, foreign_clinic, hour=15)

    client.post(CLEAR, {"rows": [key(place), key(appointment)]})
    results = client.get(QUEUE).context["results"]

    assert [result["message"] for result in results] == ["Not found.", "Not found."]
    assert SessionParticipant.objects.get(pk=place.pk).finance_cleared is False
    assert Appointment.objects.get(pk=appointment.pk).finance_cleared is False


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "Tick at least one row to clear."),
        (["participant-x"], "That is not a row of the clearance queue."),
        (["session-1"], "That is not a row of the clearance queue."),
        ([f"participant-{n}" for n in range(1, 102)], "Clear at most 100 rows at a time."),
    ],
)
def test_clearance_clear_refuses_a_bad_selection_and_says_why(client, finance, rows, message):
    response = client.post(CLEAR, {"rows": rows}, follow=True)

    assert response.redirect_chain == [(QUEUE, 302)]
    assert messages_of(response) == [message]
    assert response.context["results"] == []


def test_clearance_clear_goes_back_only_to_a_page_of_this_site(client, finance):
    response = client.post(CLEAR, {"rows": [], "next": "https://elsewhere.example/"})

    assert response.url == QUEUE


# Who may use it, and what is logged


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.PSYCHOLOGIST, ""])
def test_clearance_queue_and_clearing_are_for_finance_and_administrators_only(
    client, tenant, clinic, provider, role
):
    place = booked(group_session(provider, clinic))
    client.force_login(staff_member(tenant, role))

    page = client.get(QUEUE)
    clearing = client.post(CLEAR, {"rows": [key(place)]})

    assert (page.status_code, clearing.status_code) == (403, 403)
    place.refresh_from_db()
    assert place.finance_cleared is False


def test_clearance_queue_is_open_to_administrators_and_a_superuser_in_the_organisation_picked(
    client, tenant, clinic, provider
):
    place = booked(group_session(provider, clinic))
    client.force_login(staff_member(tenant, Role.ADMIN))
    admin_rows = listed(client.get(QUEUE))
    client.force_login(superuser())
    work_in(client, tenant)

    response = client.post(CLEAR, {"rows": [key(place)]}, follow=True)

    assert admin_rows == [key(place)]
    assert [result["cleared"] for result in response.context["results"]] == [True]


def test_clearance_queue_is_logged_with_its_query_and_never_cached(client, tenant, finance):
    response = client.get(QUEUE, {"q": "Sara", "page": "2"})

    assert "no-store" in response["Cache-Control"]
    log = AccessLog.objects.latest("pk")
    assert (log.action, log.object_type, log.object_id, log.patient_id) == (
        "view",
        "clearance_queue",
        "q=Sara&page=2",
        None,
    )


def test_clearance_clear_refused_is_logged_as_denied(client, tenant):
    client.force_login(staff_member(tenant, Role.FRONT_DESK))

    client.post(CLEAR, {"rows": ["participant-1"]})

    log = AccessLog.objects.latest("pk")
    assert (log.action, log.object_type) == ("denied", "clearance_clear")


# Queries


def book_places(provider, clinic, count: int, first_hour: int = 9) -> None:
    """``count`` session places today, in groups of 20 an hour apart from ``first_hour``."""
    for start in range(0, count, 20):
        session = group_session(provider, clinic, hour=first_hour + start // 20, capacity=20)
        for _ in range(min(20, count - start)):
            booked(session)


def build_queue(clinic, provider, size: int) -> None:
    """``size`` rows: two legacy appointments first in the day, then session places."""
    for hour in (7, 8):
        legacy_appointment(provider, clinic, hour=hour)
    book_places(provider, clinic, size - 2)


@pytest.mark.parametrize("size", [5, 30])
def test_clearance_queue_query_count_does_not_grow(
    client, tenant, clinic, provider, finance, size, django_assert_num_queries
):
    build_queue(clinic, provider, size)

    # session + user, the count, the page's rows, its places, its appointments, the clinic
    # choices, the access-log row
    with django_assert_num_queries(8):
        response = client.get(QUEUE, {"q": ""})

    assert response.context["page_obj"].paginator.count == size
    assert len(listed(response)) == min(size, PAGE_SIZE)


@pytest.mark.parametrize("size", [5, 30])
def test_clearance_queue_query_count_does_not_grow_in_arabic_with_a_search(
    client, tenant, clinic, provider, finance, size, django_assert_num_queries
):
    build_queue(clinic, provider, size)
    client.cookies["django_language"] = "ar"

    with django_assert_num_queries(9):
        response = client.get(QUEUE, {"q": "العتيبي"})

    assert response.context["page_obj"].paginator.count == size
    assert '<html lang="ar" dir="rtl">' in response.content.decode()
