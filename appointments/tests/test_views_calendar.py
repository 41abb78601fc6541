"""The week calendar through the HTTP client: settings, event feed, moving by drag, prefilled booking."""

import datetime
import zoneinfo

import pytest
from django.conf import settings
from django.db.models import Max
from django.urls import reverse

from appointments.models import Session
from appointments.session_service import SessionService
from core.models import AccessLog, OpeningHours, ProviderLeave, ProviderWorkingHours, User
from core.tests.factories import ClinicFactory, ProviderFactory, RoomFactory, TenantFactory
from core.tests.view_helpers import (
    booked,
    consented_patient,
    group_session,
    legacy_appointment,
    staff_member,
    superuser,
    work_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
ZONE = zoneinfo.ZoneInfo(settings.TIME_ZONE)
SUNDAY = datetime.date(2026, 3, 15)  # frozen_today
TUESDAY = datetime.date(2026, 3, 17)
WEDNESDAY = datetime.date(2026, 3, 18)
NEXT_SUNDAY = datetime.date(2026, 3, 22)
WEEK = {"start": SUNDAY.isoformat(), "end": NEXT_SUNDAY.isoformat()}


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, Role.FRONT_DESK))
    return client


@pytest.fixture
def group(provider, clinic, room):
    """Tuesday 11:00, Sara and Omar."""
    session = group_session(provider, clinic, day=TUESDAY, hour=11, room=room, capacity=4)
    booked(
        session,
        consented_patient(
            clinic.tenant, first_name_en="Sara", last_name_en="Ali", first_name_ar="سارة", last_name_ar="علي"
        ),
    )
    booked(
        session,
        consented_patient(
            clinic.tenant,
            first_name_en="Omar",
            last_name_en="Hassan",
            first_name_ar="عمر",
            last_name_ar="حسن",
        ),
    )
    return session


def feed(client, **params):
    response = client.get(reverse("appointments:calendar_events"), {**WEEK, **params})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()["events"]


def move(client, session, day, time, **extra):
    return client.post(
        reverse("appointments:calendar_move", args=[session.pk]),
        {"scheduled_date": day.isoformat(), "scheduled_time": time, **extra},
    )


def config_of(response) -> dict:
    return response.context["config"]


# The page


def test_calendar_week_shows_the_chosen_providers_week_with_its_settings(desk, provider, clinic):
    ProviderWorkingHours.objects.create(
        provider=provider,
        clinic=clinic,
        weekday=OpeningHours.Weekday.TUESDAY,
        starts_at=datetime.time(8, 30),
        ends_at=datetime.time(12),
    )
    ProviderWorkingHours.objects.create(
        provider=provider,
        clinic=clinic,
        weekday=OpeningHours.Weekday.TUESDAY,
        starts_at=datetime.time(13),
        ends_at=datetime.time(16, 30),
    )

    response = desk.get(
        reverse("appointments:calendar_week"), {"provider": provider.pk, "date": TUESDAY.isoformat()}
    )

    assert response.status_code == 200
    config = config_of(response)
    assert config["owner"] == {"provider": provider.pk}
    assert config["initialDate"] == "2026-03-17"
    assert config["now"].startswith("2026-03-15T10:0")  # the frozen morning, still ticking
    assert config["locale"] == "en-GB"
    assert config["direction"] == "ltr"
    # Tuesday is day 2 when Sunday is day 0.
    assert config["businessHours"] == [
        {"daysOfWeek": [2], "startTime": "08:30", "endTime": "12:00"},
        {"daysOfWeek": [2], "startTime": "13:00", "endTime": "16:30"},
    ]
    assert (config["slotMinTime"], config["slotMaxTime"]) == ("08:00:00", "17:00:00")
    assert config["canBook"] is True
    assert config["booking"]["prefill"] == {"provider": provider.pk, "clinic": clinic.pk}
    html = response.content.decode()
    assert 'id="calendar-config"' in html
    assert "<script>" not in html  # settings travel as JSON data, never as an inline script
    assert str(provider) in html


def test_calendar_week_without_working_hours_shows_the_clinics_opening_hours(desk, provider, clinic):
    OpeningHours.objects.create(
        clinic=clinic,
        weekday=OpeningHours.Weekday.SUNDAY,
        opens_at=datetime.time(9),
        closes_at=datetime.time(17),
    )

    config = config_of(desk.get(reverse("appointments:calendar_week"), {"provider": provider.pk}))

    assert config["businessHours"] == [{"daysOfWeek": [0], "startTime": "09:00", "endTime": "17:00"}]


def test_calendar_week_of_a_room_prefills_the_room_and_its_clinic(desk, room):
    config = config_of(desk.get(reverse("appointments:calendar_week"), {"room": room.pk}))

    assert config["owner"] == {"room": room.pk}
    assert config["booking"]["prefill"] == {"room": room.pk, "clinic": room.clinic_id}
    # No hours set anywhere: no restriction, no shading, the default day.
    assert config["businessHours"] is False
    assert (config["slotMinTime"], config["slotMaxTime"]) == ("07:00:00", "21:00:00")


def test_calendar_week_in_arabic_is_right_to_left_with_latin_digits(desk, clinic):
    desk.post(reverse("set_language"), {"language": "ar", "next": "/"})

    response = desk.get(reverse("appointments:calendar_week"), {"clinic": clinic.pk})

    config = config_of(response)
    assert config["locale"] == "ar-u-nu-latn"
    assert config["direction"] == "rtl"
    assert 'dir="rtl"' in response.content.decode()


def test_calendar_week_shows_a_clinician_their_own_week_by_default(client, provider):
    client.force_login(provider.user)

    response = client.get(reverse("appointments:calendar_week"))

    assert config_of(response)["owner"] == {"provider": provider.pk}
    assert config_of(response)["canBook"] is False
    assert config_of(response)["booking"]["prefill"] == {}


def test_calendar_week_shows_the_front_desk_the_first_clinic_by_default(desk, clinic):
    response = desk.get(reverse("appointments:calendar_week"))

    assert config_of(response)["owner"] == {"clinic": clinic.pk}
    assert config_of(response)["initialDate"] == SUNDAY.isoformat()


def test_calendar_week_refuses_another_organisations_provider_as_an_unknown_one(desk, clinic):
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    foreign = ProviderFactory(clinic=foreign_clinic)

    response = desk.get(reverse("appointments:calendar_week"), {"provider": foreign.pk})

    assert response.status_code == 200
    assert response.context["form"].errors["provider"]
    assert config_of(response)["owner"] == {"clinic": clinic.pk}
    assert str(foreign) not in response.content.decode()


def test_calendar_week_refuses_two_owners_at_once(desk, provider, room, clinic):
    response = desk.get(reverse("appointments:calendar_week"), {"provider": provider.pk, "room": room.pk})

    assert response.context["form"].non_field_errors() == ["Choose one provider, one room or one clinic."]
    assert config_of(response)["owner"] == {"clinic": clinic.pk}


def test_calendar_week_of_an_organisation_without_clinics_says_so(client):
    client.force_login(staff_member(TenantFactory(code="EMPTY"), Role.FRONT_DESK))

    response = client.get(reverse("appointments:calendar_week"))

    assert response.status_code == 200
    assert "config" not in response.context
    assert "has no clinic yet" in response.content.decode()


def test_calendar_week_needs_the_schedule(client, tenant):
    client.force_login(staff_member(tenant, ""))

    assert client.get(reverse("appointments:calendar_week")).status_code == 403


def test_day_views_link_to_the_week(desk, provider, group):
    response = desk.get(reverse("appointments:schedule_by_provider"), {"day": TUESDAY.isoformat()})

    html = response.content.decode()
    assert f"{reverse('appointments:calendar_week')}?date=2026-03-17" in html
    assert f"{reverse('appointments:calendar_week')}?provider={provider.pk}&amp;date=2026-03-17" in html


# The feed


def test_calendar_events_gives_the_providers_sessions_coloured_by_status_with_names_as_text(
    desk, provider, group
):
    events = feed(desk, provider=provider.pk)

    assert events == [
        {
            "id": f"session-{group.pk}",
            "title": "Social Skills Group (2/4) · Sara Ali and Omar Hassan",
            "start": "2026-03-17T11:00:00",
            "end": "2026-03-17T12:00:00",
            "url": reverse("appointments:session_detail", args=[group.pk]),
            "classNames": ["cal-booking", "cal-status-scheduled"],
            "startEditable": True,
            "extendedProps": {
                "kind": "session",
                "status": "scheduled",
                "statusLabel": "Scheduled",
                "moveUrl": reverse("appointments:calendar_move", args=[group.pk]),
            },
        }
    ]


def test_calendar_events_keep_markup_in_names_as_plain_text(desk, provider, clinic):
    session = group_session(provider, clinic, day=TUESDAY, hour=9)
    booked(session, consented_patient(clinic.tenant, first_name_en="<img src=x>", last_name_en="Ali"))

    response = desk.get(reverse("appointments:calendar_events"), {**WEEK, "provider": provider.pk})

    assert response.json()["events"][0]["title"] == "Social Skills Group (1/8) · <img src=x> Ali"
    assert response["Content-Type"] == "application/json"  # data, which calendar.js sets as text


def test_calendar_events_of_a_clinic_label_each_session_by_provider(desk, tenant, clinic, provider, group):
    colleague = ProviderFactory(clinic=clinic)
    individual = SessionService.create_individual_session(
        provider=colleague,
        clinic=clinic,
        patient=consented_patient(tenant, first_name_en="Lina", last_name_en="Khalid"),
        scheduled_date=WEDNESDAY,
        scheduled_time=datetime.time(9, 30),
        duration=45,
        service_type="Assessment",
    )

    events = feed(desk, clinic=clinic.pk)

    assert [(event["id"], event["title"], event["start"]) for event in events] == [
        (
            f"session-{group.pk}",
            f"{provider} · Social Skills Group (2/4) · Sara Ali and Omar Hassan",
            "2026-03-17T11:00:00",
        ),
        (f"session-{individual.pk}", f"{colleague} · Assessment · Lina Khalid", "2026-03-18T09:30:00"),
    ]


def test_calendar_events_name_children_in_arabic_when_the_page_is_arabic(desk, provider, group):
    desk.post(reverse("set_language"), {"language": "ar", "next": "/"})

    events = feed(desk, provider=provider.pk)

    assert events[0]["title"] == "Social Skills Group (2/4) · سارة علي و عمر حسن"
    assert events[0]["extendedProps"]["statusLabel"] != "Scheduled"


def test_calendar_events_show_the_session_status_and_only_scheduled_ones_move(desk, provider, clinic, group):
    done = group_session(provider, clinic, day=SUNDAY, hour=8)
    booked(done)
    SessionService.complete_session(done)
    cancelled = group_session(provider, clinic, day=SUNDAY, hour=12)
    SessionService.cancel_session(cancelled, "Provider ill")

    events = {event["id"]: event for event in feed(desk, provider=provider.pk)}

    assert set(events) == {f"session-{done.pk}", f"session-{group.pk}"}  # a cancelled slot is free
    assert events[f"session-{done.pk}"]["classNames"] == ["cal-booking", "cal-status-completed"]
    assert events[f"session-{done.pk}"]["startEditable"] is False
    assert events[f"session-{done.pk}"]["extendedProps"]["moveUrl"] == ""


def test_calendar_events_include_legacy_appointments_which_do_not_move(desk, provider, clinic):
    appointment = legacy_appointment(
        provider,
        clinic,
        consented_patient(clinic.tenant, first_name_en="Huda", last_name_en="Saleh"),
        day=TUESDAY,
    )

    (event,) = feed(desk, provider=provider.pk)

    assert event["id"] == f"appointment-{appointment.pk}"
    assert event["title"] == "Assessment · Huda Saleh"
    assert event["classNames"] == ["cal-booking", "cal-status-booked", "cal-appointment"]
    assert event["startEditable"] is False
    assert event["extendedProps"]["statusLabel"] == "Appointment (legacy): Booked"


def test_calendar_events_shade_the_providers_leave(desk, provider, tenant):
    leave = ProviderLeave.objects.create(
        provider=provider,
        starts_at=datetime.datetime(2026, 3, 18, 13, 0, tzinfo=ZONE),
        ends_at=datetime.datetime(2026, 3, 20, 12, 0, tzinfo=ZONE),
        reason="Training",
    )
    ProviderLeave.objects.create(
        provider=provider,
        starts_at=datetime.datetime(2026, 4, 1, 8, 0, tzinfo=ZONE),
        ends_at=datetime.datetime(2026, 4, 2, 8, 0, tzinfo=ZONE),
        reason="Next month",
    )

    events = feed(desk, provider=provider.pk)

    assert events == [
        {
            "id": f"leave-{leave.pk}",
            "title": "Leave: Training",
            "start": "2026-03-18T13:00:00",
            "end": "2026-03-20T12:00:00",
            "display": "background",
            "classNames": ["cal-leave"],
        }
    ]


def test_calendar_events_of_a_room_leave_out_other_rooms(desk, provider, clinic, room, group):
    other_room = RoomFactory(clinic=clinic)
    group_session(provider, clinic, day=TUESDAY, hour=14, room=other_room)

    events = feed(desk, room=room.pk)

    assert [event["id"] for event in events] == [f"session-{group.pk}"]


def test_calendar_events_for_finance_and_clinicians_do_not_move(client, tenant, provider, group):
    for user in (staff_member(tenant, Role.FINANCE), provider.user):
        client.force_login(user)

        (event,) = feed(client, provider=provider.pk)

        assert (event["startEditable"], event["extendedProps"]["moveUrl"]) == (False, "")


def test_calendar_events_of_another_organisation_are_none(desk, provider, group):
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    foreign_provider = ProviderFactory(clinic=foreign_clinic)
    foreign = group_session(foreign_provider, foreign_clinic, day=TUESDAY, hour=11)
    booked(foreign)

    assert feed(desk, provider=foreign_provider.pk) == []
    assert feed(desk, clinic=foreign_clinic.pk) == []
    assert feed(desk, provider=provider.pk)[0]["id"] == f"session-{group.pk}"


def test_superuser_feed_keeps_to_the_organisation_they_picked(client, tenant, provider, group):
    other = TenantFactory(code="OTHER")
    client.force_login(superuser())
    work_in(client, other)

    assert feed(client, provider=provider.pk) == []

    work_in(client, tenant)
    assert [event["id"] for event in feed(client, provider=provider.pk)] == [f"session-{group.pk}"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"start": "2026-03-22", "end": "2026-03-15"},
        {"start": "2026-03-15", "end": "2026-06-15"},
        {"start": "soon", "end": "later"},
        {"provider": "1e9"},
    ],
    ids=["no-owner", "backwards", "too-long", "not-dates", "junk-id"],
)
def test_calendar_events_with_bad_input_are_none(desk, provider, group, params):
    query = {**WEEK, "provider": provider.pk, **params} if params else WEEK
    response = desk.get(reverse("appointments:calendar_events"), query)

    assert response.status_code == 200
    assert response.json() == {"events": []}


def test_calendar_events_are_not_cached_and_are_logged_with_their_query(desk, provider, group):
    first = AccessLog.objects.aggregate(last=Max("pk"))["last"] or 0

    response = desk.get(reverse("appointments:calendar_events"), {**WEEK, "provider": provider.pk})

    assert "no-store" in response["Cache-Control"]
    assert list(
        AccessLog.objects.filter(pk__gt=first).values_list("action", "object_type", "object_id", "patient")
    ) == [("view", "calendar_events", f"start=2026-03-15&end=2026-03-22&provider={provider.pk}", None)]


def test_calendar_events_need_the_schedule(client, tenant):
    client.force_login(staff_member(tenant, ""))

    assert client.get(reverse("appointments:calendar_events"), WEEK).status_code == 403


@pytest.mark.parametrize("sessions", [2, 10])
def test_calendar_events_query_count_does_not_grow_with_events(
    desk, provider, clinic, sessions, django_assert_num_queries
):
    for number in range(sessions):
        session = group_session(
            provider, clinic, day=SUNDAY + datetime.timedelta(days=number % 7), hour=8 + number // 7
        )
        booked(session)
        booked(session)
    ProviderLeave.objects.create(
        provider=provider,
        starts_at=datetime.datetime(2026, 3, 21, 8, 0, tzinfo=ZONE),
        ends_at=datetime.datetime(2026, 3, 21, 18, 0, tzinfo=ZONE),
        reason="Course",
    )

    # session + user, the provider chosen, sessions, their children, appointments, leave, the access-log row
    with django_assert_num_queries(8):
        events = feed(desk, provider=provider.pk)

    assert len(events) == sessions + 1


@pytest.mark.parametrize("sessions", [2, 10])
def test_calendar_week_query_count_does_not_grow_with_sessions(
    desk, provider, clinic, sessions, django_assert_num_queries
):
    for number in range(sessions):
        booked(
            group_session(
                provider, clinic, day=SUNDAY + datetime.timedelta(days=number % 7), hour=8 + number // 7
            )
        )

    # session + user, the provider chosen, working hours, opening hours, the provider's clinics,
    # the picker's three lists, the access-log row
    with django_assert_num_queries(10):
        response = desk.get(reverse("appointments:calendar_week"), {"provider": provider.pk})

    assert response.status_code == 200


# Moving a session by dragging it


def test_calendar_move_reschedules_the_session_keeping_every_childs_number(desk, group):
    numbers = dict(group.participants.values_list("patient_id", "appointment_number"))

    response = move(desk, group, WEDNESDAY, "09:30", reason="Room repainted")

    assert response.status_code == 200
    assert response.json() == {
        "moved": True,
        "message": "Session moved; every child keeps their booking. "
        "Tell the families, then record it on the session's page.",
    }
    group.refresh_from_db()
    assert (group.scheduled_date, group.scheduled_time) == (WEDNESDAY, datetime.time(9, 30))
    assert (group.moved_from_date, group.moved_from_time) == (TUESDAY, datetime.time(11))
    assert group.history.latest().history_change_reason == "Room repainted"
    assert dict(group.participants.values_list("patient_id", "appointment_number")) == numbers


def test_calendar_move_onto_the_providers_other_session_is_refused_with_the_reason(
    desk, provider, clinic, group
):
    group_session(provider, clinic, day=WEDNESDAY, hour=9)

    response = move(desk, group, WEDNESDAY, "09:30")

    answer = response.json()
    assert response.status_code == 200
    assert answer["moved"] is False
    assert str(provider) in answer["message"]
    group.refresh_from_db()
    assert (group.scheduled_date, group.scheduled_time) == (TUESDAY, datetime.time(11))


def test_calendar_move_into_leave_is_refused_with_the_reason(desk, provider, group):
    ProviderLeave.objects.create(
        provider=provider,
        starts_at=datetime.datetime(2026, 3, 18, 8, 0, tzinfo=ZONE),
        ends_at=datetime.datetime(2026, 3, 18, 18, 0, tzinfo=ZONE),
        reason="Training",
    )

    answer = move(desk, group, WEDNESDAY, "09:30").json()

    assert answer["moved"] is False
    assert answer["message"]
    assert Session.objects.get(pk=group.pk).scheduled_date == TUESDAY


def test_calendar_move_to_a_past_day_is_refused_as_on_the_reschedule_page(desk, group):
    answer = move(desk, group, SUNDAY - datetime.timedelta(days=1), "09:00").json()

    assert answer == {"moved": False, "message": "The date is in the past; choose today or a later day."}


def test_calendar_move_with_bad_input_is_refused_saying_so(desk, group):
    response = desk.post(
        reverse("appointments:calendar_move", args=[group.pk]),
        {"scheduled_date": "soon", "scheduled_time": ""},
    )

    assert response.status_code == 200
    assert response.json()["moved"] is False
    assert "valid date" in response.json()["message"]


def test_calendar_move_of_a_completed_session_is_refused(desk, provider, clinic):
    done = group_session(provider, clinic, day=SUNDAY, hour=8)
    booked(done)
    SessionService.complete_session(done)

    answer = move(desk, done, WEDNESDAY, "09:00").json()

    assert answer["moved"] is False
    assert "Only a scheduled session can be rescheduled" in answer["message"]


@pytest.mark.parametrize("role", [Role.FINANCE, Role.PSYCHOLOGIST, ""])
def test_calendar_move_needs_the_booking_capability(client, tenant, group, role):
    client.force_login(staff_member(tenant, role))

    response = move(client, group, WEDNESDAY, "09:30")

    assert response.status_code == 403
    assert Session.objects.get(pk=group.pk).scheduled_date == TUESDAY


def test_calendar_move_of_another_organisations_session_is_404(client, group):
    client.force_login(staff_member(TenantFactory(code="OTHER"), Role.FRONT_DESK))

    response = move(client, group, WEDNESDAY, "09:30")

    assert response.status_code == 404
    assert Session.objects.get(pk=group.pk).scheduled_date == TUESDAY


def test_calendar_move_only_posts(desk, group):
    assert desk.get(reverse("appointments:calendar_move", args=[group.pk])).status_code == 405


# Click to book


def test_group_session_form_starts_from_the_slot_clicked(desk, provider, clinic, room):
    query = {
        "clinic": clinic.pk,
        "provider": provider.pk,
        "room": room.pk,
        "scheduled_date": "2026-03-17",
        "scheduled_time": "10:15",
    }

    response = desk.get(reverse("appointments:session_create"), query)

    form = response.context["form"]
    assert {name: form[name].value() for name in query} == {name: str(value) for name, value in query.items()}
    assert 'value="10:15"' in response.content.decode()


def test_individual_session_form_starts_from_the_slot_clicked(desk, provider, clinic):
    response = desk.get(
        reverse("appointments:session_book_individual"),
        {
            "provider": provider.pk,
            "clinic": clinic.pk,
            "scheduled_date": "2026-03-17",
            "scheduled_time": "14:00",
        },
    )

    form = response.context["form"]
    assert (form["provider"].value(), form["clinic"].value()) == (str(provider.pk), str(clinic.pk))
    assert (form["scheduled_date"].value(), form["scheduled_time"].value()) == ("2026-03-17", "14:00")


def test_booking_form_prefilled_with_another_organisations_provider_offers_none_of_its_rows(desk, clinic):
    foreign = ProviderFactory(clinic=ClinicFactory(tenant=TenantFactory(code="OTHER")))

    response = desk.get(reverse("appointments:session_create"), {"provider": foreign.pk})

    assert response.status_code == 200
    assert str(foreign) not in response.content.decode()
