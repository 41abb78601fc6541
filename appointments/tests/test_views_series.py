"""Series pages end to end through the HTTP client: list, create (the plan first), detail and its actions."""

import datetime
from html import unescape

import pytest
from django.db.models import Max
from django.urls import reverse

from appointments.models import SeriesSkippedDate, Session, SessionParticipant, SessionSeries
from appointments.series_service import SeriesService
from core.models import AccessLog, ClinicHoliday, User
from core.tests.factories import ClinicFactory, ProviderFactory, RoomFactory, TenantFactory
from core.tests.view_helpers import booked, consented_patient, group_session, messages_of, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
# frozen_today is Sunday 15/03/2026: the series start the next day, a Monday.
MONDAY = datetime.date(2026, 3, 16)
WEEK = datetime.timedelta(days=7)


def mondays(count: int, start: datetime.date = MONDAY) -> list[datetime.date]:
    return [start + WEEK * week for week in range(count)]


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, Role.FRONT_DESK))
    return client


def make_series(provider, clinic, *, count=10, capacity=8, room=None, patient=None, start=MONDAY):
    return SeriesService.create_series(
        session_type=Session.SessionType.INDIVIDUAL if patient else Session.SessionType.GROUP,
        provider=provider,
        clinic=clinic,
        room=room,
        patient=patient,
        service_type="Social Skills Group",
        title="Social skills, spring",
        start_date=start,
        scheduled_time=datetime.time(10),
        duration=60,
        occurrence_count=count,
        max_capacity=1 if patient else capacity,
    )


def occurrences(series) -> list[Session]:
    return list(series.sessions.order_by("scheduled_date", "scheduled_time"))


def create_data(clinic, provider, room=None, **overrides):
    data = {
        "session_type": "group",
        "patient": "",
        "clinic": clinic.pk,
        "provider": provider.pk,
        "room": room.pk if room else "",
        "service_type": "Social Skills Group",
        "title": "Social skills, spring",
        "start_date": MONDAY.isoformat(),
        "scheduled_time": "10:00",
        "duration": 60,
        "frequency": "weekly",
        "occurrence_count": 10,
        "end_date": "",
        "max_capacity": 8,
        "group_notes": "",
    }
    data.update(overrides)
    return data


def html_of(response) -> str:
    return response.content.decode()


# Create


def test_series_create_form_page_renders(desk):
    response = desk.get(reverse("appointments:series_create"))

    assert response.status_code == 200
    html = html_of(response)
    assert 'id="series-form"' in html
    # static/js/series.js shows the MRN for an individual series and the capacity for a group.
    assert "js/series.js" in html
    assert 'id="div_id_patient"' in html
    assert 'id="div_id_max_capacity"' in html


def test_series_create_without_clash_creates_every_session_and_says_how_many(desk, clinic, provider, room):
    response = desk.post(
        reverse("appointments:series_create"), create_data(clinic, provider, room), follow=True
    )

    series = SessionSeries.objects.get()
    assert response.redirect_chain == [(series.get_absolute_url(), 302)]
    assert "10 sessions created." in messages_of(response)
    assert [session.scheduled_date for session in occurrences(series)] == mondays(10)
    assert {session.room_id for session in occurrences(series)} == {room.pk}


def test_series_create_lists_every_clashing_date_first_and_creates_nothing(desk, clinic, provider):
    clashing = [mondays(10)[2], mondays(10)[6]]
    for day in clashing:
        group_session(provider, clinic, day=day, hour=10)

    response = desk.post(reverse("appointments:series_create"), create_data(clinic, provider))

    assert response.status_code == 200
    assert SessionSeries.objects.count() == 0
    assert [clash.date for clash in response.context["clashes"]] == clashing
    html = unescape(html_of(response))
    for day in ("30/03/2026", "27/04/2026"):
        assert day in html
    for clash in response.context["clashes"]:
        [reason] = clash.reasons
        assert reason.startswith(f"{provider} already has a booking ")
        assert reason in html
    for day in ("2026-03-30", "2026-04-27"):
        assert f'name="skip_dates" value="{day}" id="skip-{day}" checked' in html
    assert "Create, skipping these dates" in html


def test_series_create_skipping_the_clashing_dates_creates_the_rest_and_keeps_the_count(
    desk, clinic, provider
):
    clashing = [mondays(10)[2], mondays(10)[6]]
    for day in clashing:
        group_session(provider, clinic, day=day, hour=10)
    data = create_data(clinic, provider, confirm="1", skip_dates=[day.isoformat() for day in clashing])

    response = desk.post(reverse("appointments:series_create"), data, follow=True)

    series = SessionSeries.objects.get()
    assert "10 sessions created." in messages_of(response)
    expected = [day for day in mondays(12) if day not in clashing]
    assert [session.scheduled_date for session in occurrences(series)] == expected
    assert list(series.skipped_dates.values_list("date", "why")) == [
        (day, SeriesSkippedDate.Why.CLASH) for day in clashing
    ]


def test_series_create_with_a_clash_left_unticked_is_refused_and_listed_again(desk, clinic, provider):
    first, second = mondays(10)[2], mondays(10)[6]
    for day in (first, second):
        group_session(provider, clinic, day=day, hour=10)
    data = create_data(clinic, provider, confirm="1", skip_dates=[first.isoformat()])

    response = desk.post(reverse("appointments:series_create"), data)

    assert response.status_code == 200
    assert SessionSeries.objects.count() == 0
    assert Session.objects.filter(series__isnull=False).count() == 0
    assert [clash.date for clash in response.context["clashes"]] == [second]
    assert response.context["skipped"] == [first]
    html = html_of(response)
    assert "Some dates can&#x27;t be booked: skip them, or change the series, then try again." in html
    assert f'name="skip_dates" value="{second.isoformat()}" id="skip-{second.isoformat()}" checked' in html


def test_series_create_shows_the_holidays_it_skips_then_creates_on_confirmation(desk, clinic, provider):
    holiday = mondays(10)[4]
    ClinicHoliday.objects.create(clinic=clinic, date=holiday, name="Spring holiday")

    shown = desk.post(reverse("appointments:series_create"), create_data(clinic, provider))
    created = desk.post(reverse("appointments:series_create"), create_data(clinic, provider, confirm="1"))

    assert shown.status_code == 200
    assert f"{holiday:%d/%m/%Y}: Spring holiday" in html_of(shown)
    assert shown.context["clashes"] == []
    series = SessionSeries.objects.get()
    assert created.url == series.get_absolute_url()
    assert [s.scheduled_date for s in occurrences(series)] == [d for d in mondays(11) if d != holiday]
    assert list(series.skipped_dates.values_list("date", "why", "detail")) == [
        (holiday, SeriesSkippedDate.Why.HOLIDAY, "Spring holiday")
    ]


def test_series_create_individual_books_the_child_in_every_session(desk, tenant, clinic, provider):
    patient = consented_patient(tenant)
    data = create_data(
        clinic, provider, session_type="individual", patient=patient.mrn, occurrence_count=4, max_capacity=""
    )

    response = desk.post(reverse("appointments:series_create"), data, follow=True)

    series = SessionSeries.objects.get()
    assert "4 sessions created." in messages_of(response)
    assert (series.patient, series.max_capacity) == (patient, 1)
    assert SessionParticipant.objects.filter(session__series=series, patient=patient).count() == 4


def test_series_create_individual_needs_the_childs_mrn(desk, clinic, provider):
    response = desk.post(
        reverse("appointments:series_create"), create_data(clinic, provider, session_type="individual")
    )

    assert response.status_code == 200
    assert response.context["form"].errors["patient"] == [
        "An individual series is for one child: give their MRN."
    ]
    assert SessionSeries.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"occurrence_count": ""}, "occurrence_count", "Give a number of sessions or a last date."),
        (
            {"end_date": "2026-05-25"},
            "end_date",
            "Give either a number of sessions or a last date, not both.",
        ),
        (
            {"occurrence_count": "", "end_date": "2026-03-15"},
            "end_date",
            "The last date can't be before the first.",
        ),
        ({"start_date": "2026-03-14"}, "start_date", "The date is in the past; choose today or a later day."),
        ({"max_capacity": 1}, "max_capacity", "A group series needs between 2 and 20 seats."),
        (
            {"scheduled_time": "23:30"},
            "scheduled_time",
            "A slot from 23:30 for 60 minutes would end after midnight; it must end by 00:00.",
        ),
    ],
    ids=["no-length", "both-lengths", "last-before-first", "past", "capacity", "past-midnight"],
)
def test_series_create_refuses_bad_input_on_the_form(desk, clinic, provider, overrides, field, error):
    response = desk.post(reverse("appointments:series_create"), create_data(clinic, provider, **overrides))

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    assert SessionSeries.objects.count() == 0


def test_series_create_by_last_date_runs_up_to_it(desk, clinic, provider):
    data = create_data(clinic, provider, occurrence_count="", end_date="2026-04-13", frequency="fortnightly")

    response = desk.post(reverse("appointments:series_create"), data, follow=True)

    series = SessionSeries.objects.get()
    assert "3 sessions created." in messages_of(response)
    assert [s.scheduled_date for s in occurrences(series)] == [MONDAY, MONDAY + 2 * WEEK, MONDAY + 4 * WEEK]


# List


def test_series_list_shows_each_series_with_its_counts(desk, tenant, clinic, provider):
    series = make_series(provider, clinic, count=4, capacity=6)
    SeriesService.enrol_patient(series, consented_patient(tenant))
    SeriesService.cancel_occurrences(occurrences(series)[3], "Provider away")

    response = desk.get(reverse("appointments:series_list"))

    html = html_of(response)
    assert list(response.context["page_obj"].object_list) == [series]
    assert "Social skills, spring" in html
    assert f'data-held="{series.pk}">0/3<' in html
    assert f'data-enrolled="{series.pk}">1/6<' in html
    assert "16/03/2026" in html
    assert "30/03/2026" in html
    assert "Monday 10:00" in html


def test_series_list_filters_by_clinic_and_hides_other_organisations(desk, tenant, clinic, provider):
    mine = make_series(provider, clinic, count=2)
    other_clinic = ClinicFactory(tenant=tenant)
    make_series(ProviderFactory(clinic=other_clinic), other_clinic, count=2)
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    make_series(ProviderFactory(clinic=foreign_clinic), foreign_clinic, count=2)

    everything = desk.get(reverse("appointments:series_list"))
    filtered = desk.get(reverse("appointments:series_list"), {"clinic": clinic.pk})

    assert len(everything.context["page_obj"].object_list) == 2
    assert list(filtered.context["page_obj"].object_list) == [mine]


@pytest.mark.parametrize("count", [2, 8])
def test_series_list_query_count_does_not_grow_with_rows(
    desk, tenant, clinic, count, django_assert_num_queries
):
    for number in range(count):
        series = make_series(ProviderFactory(clinic=clinic), clinic, count=3, start=MONDAY + WEEK * number)
        SeriesService.enrol_patient(series, consented_patient(tenant))

    # session + user, clinic choices, page count, page rows, the access-log row
    with django_assert_num_queries(6):
        response = desk.get(reverse("appointments:series_list"))

    assert len(response.context["page_obj"].object_list) == count


# Detail


def test_series_detail_shows_occurrences_seats_skipped_dates_and_children(desk, tenant, clinic, provider):
    series = make_series(provider, clinic, count=3, capacity=2)
    first, second = consented_patient(tenant), consented_patient(tenant)
    SeriesService.enrol_patient(series, first)
    SeriesService.enrol_patient(series, second)
    SeriesService.withdraw_patient(series, second, "Moved away")
    booked(occurrences(series)[0])
    SeriesService.cancel_occurrences(occurrences(series)[2], "Provider away")

    response = desk.get(series.get_absolute_url())

    html = html_of(response)
    assert response.status_code == 200
    for session in occurrences(series):
        assert session.get_absolute_url() in html
    assert "Mon 16/03/2026" in html
    assert "Full (2/2)" in html
    assert f'data-seats="{occurrences(series)[1].pk}">\n              1/2' in html
    assert "Mon 30/03/2026: Cancelled (Provider away)" in html
    assert f'data-enrolment="{first.mrn}"' in html
    assert f'data-withdrawn="{second.mrn}"' in html
    assert "Moved away" in html
    assert reverse("appointments:series_enrol", args=[series.pk]) in html


@pytest.mark.parametrize("count", [3, 12])
def test_series_detail_query_count_does_not_grow_with_sessions(
    desk, tenant, clinic, provider, count, django_assert_num_queries
):
    series = make_series(provider, clinic, count=count, capacity=4)
    for _ in range(3):
        SeriesService.enrol_patient(series, consented_patient(tenant))

    # session + user, the series, its sessions with seats, skipped dates, enrolments with
    # children, the access-log row
    with django_assert_num_queries(7):
        response = desk.get(series.get_absolute_url())

    assert len(response.context["occurrences"]) == count


def test_series_detail_for_a_clinician_and_finance_shows_no_actions(client, tenant, clinic, provider):
    series = make_series(provider, clinic, count=2)

    for role in (Role.FINANCE, Role.PSYCHOLOGIST):
        client.force_login(staff_member(tenant, role))
        response = client.get(series.get_absolute_url())
        assert response.status_code == 200
        assert reverse("appointments:series_occurrence_cancel", args=[series.pk]) not in html_of(response)
        assert reverse("appointments:series_enrol", args=[series.pk]) not in html_of(response)


def test_session_detail_says_which_series_it_belongs_to(desk, clinic, provider):
    series = make_series(provider, clinic, count=10)

    html = html_of(desk.get(occurrences(series)[2].get_absolute_url()))

    series_link = f'<a href="{series.get_absolute_url()}"><bdi>Social skills, spring</bdi></a>'
    assert f"Part of series {series_link}: session 3 of 10" in html


def test_series_detail_in_arabic_is_right_to_left_with_day_first_dates(desk, clinic, provider):
    series = make_series(provider, clinic, count=2)
    desk.post(reverse("set_language"), {"language": "ar", "next": "/"})

    html = html_of(desk.get(series.get_absolute_url()))

    assert '<html lang="ar" dir="rtl">' in html
    assert "الأطفال المسجَّلون" in html
    assert "16/03/2026" in html


# Enrol


def test_series_enrol_search_finds_the_child(desk, tenant, clinic, provider):
    series = make_series(provider, clinic, count=3)
    patient = consented_patient(tenant, first_name_en="Layla")

    response = desk.get(reverse("appointments:series_enrol", args=[series.pk]), {"q": "Layla"})

    assert response.context["results"] == [patient]
    html = html_of(response)
    assert f'name="patient" value="{patient.pk}"' in html
    assert f'action="{reverse("appointments:series_waitlist_add", args=[series.pk])}"' in html


def test_series_enrol_without_clash_enrols_in_every_session_at_once(desk, tenant, clinic, provider):
    series = make_series(provider, clinic, count=3)
    patient = consented_patient(tenant)

    response = desk.post(
        reverse("appointments:series_enrol", args=[series.pk]), {"patient": patient.pk}, follow=True
    )

    assert response.redirect_chain == [(series.get_absolute_url(), 302)]
    assert f"{patient.full_name_en} is enrolled in the series." in messages_of(response)
    numbers = sorted(
        SessionParticipant.objects.filter(session__series=series, patient=patient).values_list(
            "appointment_number", flat=True
        )
    )
    assert len(numbers) == 3


def test_series_enrol_lists_full_and_clashing_dates_first_then_skips_them(desk, tenant, clinic, provider):
    series = make_series(provider, clinic, count=4, capacity=2)
    full, clashing = occurrences(series)[1], occurrences(series)[2]
    booked(full)
    booked(full)
    patient = consented_patient(tenant)
    booked(
        group_session(ProviderFactory(clinic=clinic), clinic, day=clashing.scheduled_date, hour=10), patient
    )
    url = reverse("appointments:series_enrol", args=[series.pk])

    preview = desk.post(url, {"patient": patient.pk})

    assert preview.status_code == 200
    assert [clash.date for clash in preview.context["clashes"]] == [
        full.scheduled_date,
        clashing.scheduled_date,
    ]
    html = html_of(preview)
    assert "Full (2/2)." in html
    assert f'action="{reverse("appointments:series_waitlist_add", args=[series.pk])}"' in html
    assert (
        f'value="{full.scheduled_date.isoformat()}" id="skip-{full.scheduled_date.isoformat()}" checked'
        in html
    )
    assert not series.enrolments.exists()

    enrolled = desk.post(
        url,
        {
            "patient": patient.pk,
            "confirm": "1",
            "skip_dates": [full.scheduled_date.isoformat(), clashing.scheduled_date.isoformat()],
        },
    )

    assert enrolled.url == series.get_absolute_url()
    assert set(
        SessionParticipant.objects.filter(session__series=series, patient=patient).values_list(
            "session", flat=True
        )
    ) == {occurrences(series)[0].pk, occurrences(series)[3].pk}


def test_series_enrol_confirmed_with_a_clash_unticked_is_refused_and_listed(desk, tenant, clinic, provider):
    series = make_series(provider, clinic, count=3, capacity=2)
    full = occurrences(series)[1]
    booked(full)
    booked(full)
    patient = consented_patient(tenant)

    response = desk.post(
        reverse("appointments:series_enrol", args=[series.pk]), {"patient": patient.pk, "confirm": "1"}
    )

    assert response.status_code == 200
    assert [clash.date for clash in response.context["clashes"]] == [full.scheduled_date]
    assert not series.enrolments.exists()
    assert not SessionParticipant.objects.filter(patient=patient).exists()


def test_series_enrol_an_individual_series_is_refused_with_a_message(desk, tenant, clinic, provider):
    series = make_series(provider, clinic, count=2, patient=consented_patient(tenant))

    response = desk.post(
        reverse("appointments:series_enrol", args=[series.pk]), {"patient": consented_patient(tenant).pk}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "An individual series is for its one child; only a group series takes enrolments."
    ]


# Withdraw


def test_series_withdraw_cancels_the_childs_seats_still_to_come(desk, tenant, clinic, provider):
    series = make_series(provider, clinic, count=3)
    patient = consented_patient(tenant)
    SeriesService.enrol_patient(series, patient)

    response = desk.post(
        reverse("appointments:series_withdraw", args=[series.pk]),
        {"patient": patient.pk, "reason": "Family moved"},
        follow=True,
    )

    assert f"{patient.full_name_en} is withdrawn from the rest of the series." in messages_of(response)
    statuses = set(SessionParticipant.objects.filter(patient=patient).values_list("status", "cancel_reason"))
    assert statuses == {(SessionParticipant.Status.CANCELLED, "Family moved")}
    assert f'data-withdrawn="{patient.mrn}"' in html_of(response)


def test_series_withdraw_needs_a_reason(desk, tenant, clinic, provider):
    series = make_series(provider, clinic, count=2)
    patient = consented_patient(tenant)
    SeriesService.enrol_patient(series, patient)

    response = desk.post(
        reverse("appointments:series_withdraw", args=[series.pk]),
        {"patient": patient.pk, "reason": ""},
        follow=True,
    )

    assert messages_of(response) == ["Reason: This field is required."]
    assert series.enrolments.get().is_active


def test_series_withdraw_a_child_not_enrolled_is_refused_with_a_message(desk, tenant, clinic, provider):
    series = make_series(provider, clinic, count=2)

    response = desk.post(
        reverse("appointments:series_withdraw", args=[series.pk]),
        {"patient": consented_patient(tenant).pk, "reason": "Moved"},
        follow=True,
    )

    assert messages_of(response) == ["Patient: That child is not enrolled in this series."]


# Cancel and move


def test_series_cancel_one_occurrence_only(desk, clinic, provider):
    series = make_series(provider, clinic, count=4)
    third = occurrences(series)[2]

    response = desk.post(
        reverse("appointments:series_occurrence_cancel", args=[series.pk]),
        {"session": third.pk, "reason": "Provider away", "following": "one"},
        follow=True,
    )

    assert "1 session cancelled." in messages_of(response)
    assert [s.status for s in occurrences(series)] == ["scheduled", "scheduled", "cancelled", "scheduled"]


def test_series_cancel_this_and_all_following(desk, clinic, provider):
    series = make_series(provider, clinic, count=4)

    response = desk.post(
        reverse("appointments:series_occurrence_cancel", args=[series.pk]),
        {"session": occurrences(series)[1].pk, "reason": "Group closed", "following": "following"},
        follow=True,
    )

    assert "3 sessions cancelled." in messages_of(response)
    assert [s.status for s in occurrences(series)] == ["scheduled", "cancelled", "cancelled", "cancelled"]


def test_series_cancel_without_a_reason_is_refused_with_a_message(desk, clinic, provider):
    series = make_series(provider, clinic, count=2)

    response = desk.post(
        reverse("appointments:series_occurrence_cancel", args=[series.pk]),
        {"session": occurrences(series)[0].pk, "reason": "", "following": "one"},
        follow=True,
    )

    assert response.status_code == 200
    assert len(messages_of(response)) == 1
    assert [s.status for s in occurrences(series)] == ["scheduled", "scheduled"]


def test_series_move_this_and_all_following_keeps_every_child(desk, tenant, clinic, provider):
    series = make_series(provider, clinic, count=4)
    patient = consented_patient(tenant)
    SeriesService.enrol_patient(series, patient)
    numbers = dict(
        SessionParticipant.objects.filter(patient=patient).values_list("session_id", "appointment_number")
    )

    response = desk.post(
        reverse("appointments:series_occurrence_move", args=[series.pk]),
        {
            "session": occurrences(series)[1].pk,
            "scheduled_date": (mondays(4)[1] + datetime.timedelta(days=1)).isoformat(),
            "scheduled_time": "14:00",
            "following": "following",
        },
        follow=True,
    )

    assert "3 sessions moved; every child keeps their booking. Tell the families." in messages_of(response)
    moved = [(s.scheduled_date, s.scheduled_time) for s in occurrences(series)]
    assert moved == [
        (MONDAY, datetime.time(10)),
        *[(day + datetime.timedelta(days=1), datetime.time(14)) for day in mondays(4)[1:]],
    ]
    assert (
        dict(
            SessionParticipant.objects.filter(patient=patient).values_list("session_id", "appointment_number")
        )
        == numbers
    )


def test_series_move_following_refused_on_a_clash_names_the_date_and_moves_nothing(desk, clinic, provider):
    series = make_series(provider, clinic, count=4)
    tuesday = mondays(4)[3] + datetime.timedelta(days=1)
    group_session(provider, clinic, day=tuesday, hour=14)

    response = desk.post(
        reverse("appointments:series_occurrence_move", args=[series.pk]),
        {
            "session": occurrences(series)[1].pk,
            "scheduled_date": (mondays(4)[1] + datetime.timedelta(days=1)).isoformat(),
            "scheduled_time": "14:00",
            "following": "following",
        },
        follow=True,
    )

    [message] = messages_of(response)
    assert message.startswith(f"{tuesday:%d/%m/%Y}: ")
    assert [(s.scheduled_date, s.scheduled_time) for s in occurrences(series)] == [
        (day, datetime.time(10)) for day in mondays(4)
    ]


def test_series_move_to_a_past_date_is_refused_on_the_form(desk, clinic, provider):
    series = make_series(provider, clinic, count=2)

    response = desk.post(
        reverse("appointments:series_occurrence_move", args=[series.pk]),
        {"session": occurrences(series)[0].pk, "scheduled_date": "2026-03-01", "scheduled_time": "10:00"},
        follow=True,
    )

    assert messages_of(response) == ["New date: The date is in the past; choose today or a later day."]


def test_series_actions_refuse_a_session_of_another_series(desk, clinic, provider):
    series = make_series(provider, clinic, count=2)
    other = make_series(provider, clinic, count=2, start=MONDAY + datetime.timedelta(days=1))

    response = desk.post(
        reverse("appointments:series_occurrence_cancel", args=[series.pk]),
        {"session": occurrences(other)[0].pk, "reason": "x"},
        follow=True,
    )

    assert messages_of(response) == ["Session: That session is not part of this series."]
    assert {s.status for s in occurrences(other)} == {"scheduled"}


@pytest.mark.parametrize(
    "name", ["series_enrol", "series_withdraw", "series_occurrence_cancel", "series_occurrence_move"]
)
def test_series_actions_survive_junk_input(desk, clinic, provider, name):
    series = make_series(provider, clinic, count=2)
    junk = {
        "patient": "'; drop\x00",
        "session": "1e9",
        "reason": "x" * 5000,
        "scheduled_date": "0000-00-00",
        "scheduled_time": "25:61",
        "following": "sideways",
        "skip_dates": ["2026-02-30", "tomorrow"],
        "confirm": "1",
    }

    response = desk.post(reverse(f"appointments:{name}", args=[series.pk]), junk)

    assert response.status_code in (200, 302)
    assert {s.status for s in occurrences(series)} == {"scheduled"}


def test_series_create_survives_junk_input(desk):
    junk = {
        "session_type": "both",
        "patient": "\x00",
        "clinic": "-1",
        "start_date": "0000-00-00",
        "occurrence_count": "1e9",
        "skip_dates": ["x"] * 300,
        "confirm": "1",
    }

    response = desk.post(reverse("appointments:series_create"), junk)

    assert response.status_code == 200
    assert "Too many dates to skip." in html_of(response)
    assert SessionSeries.objects.count() == 0


# Who may


@pytest.mark.parametrize("role", [Role.FINANCE, Role.PSYCHOLOGIST])
def test_series_changes_are_forbidden_to_finance_and_clinicians(client, tenant, clinic, provider, role):
    series = make_series(provider, clinic, count=2)
    client.force_login(staff_member(tenant, role))

    statuses = {
        name: client.post(reverse(f"appointments:{name}", args=[series.pk])).status_code
        for name in ("series_enrol", "series_withdraw", "series_occurrence_cancel", "series_occurrence_move")
    }

    assert statuses == dict.fromkeys(statuses, 403)
    assert client.get(reverse("appointments:series_create")).status_code == 403
    assert client.get(reverse("appointments:series_list")).status_code == 200


def test_series_of_another_organisation_is_404_on_every_page(desk):
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    series = make_series(ProviderFactory(clinic=foreign_clinic), foreign_clinic, count=2)
    session = occurrences(series)[0]

    statuses = {
        "detail": desk.get(series.get_absolute_url()).status_code,
        "enrol": desk.get(reverse("appointments:series_enrol", args=[series.pk])).status_code,
        **{
            name: desk.post(
                reverse(f"appointments:{name}", args=[series.pk]), {"session": session.pk, "reason": "x"}
            ).status_code
            for name in ("series_withdraw", "series_occurrence_cancel", "series_occurrence_move")
        },
    }

    assert statuses == dict.fromkeys(statuses, 404)
    assert session.status == Session.Status.SCHEDULED


def test_series_create_offers_only_the_organisations_clinics_providers_and_rooms(
    desk, clinic, provider, room
):
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    RoomFactory(clinic=foreign_clinic)
    foreign_provider = ProviderFactory(clinic=foreign_clinic)

    response = desk.post(reverse("appointments:series_create"), create_data(foreign_clinic, foreign_provider))

    assert set(response.context["form"].errors) == {"clinic", "provider"}
    assert SessionSeries.objects.count() == 0


# The access log


def test_series_pages_of_one_child_log_that_child(desk, tenant, clinic, provider):
    patient = consented_patient(tenant)
    series = make_series(provider, clinic, count=2, patient=patient)
    first = AccessLog.objects.aggregate(last=Max("pk"))["last"] or 0

    desk.get(series.get_absolute_url())
    planned = desk.post(
        reverse("appointments:series_create"),
        create_data(clinic, provider, session_type="individual", patient=patient.mrn, occurrence_count=2),
    )

    assert planned.status_code == 200  # the same slot: its dates clash, so the plan is shown
    assert list(
        AccessLog.objects.filter(pk__gt=first)
        .order_by("pk")
        .values_list("object_type", "object_id", "patient")
    ) == [("series", str(series.pk), patient.pk), ("series_create", "", patient.pk)]
