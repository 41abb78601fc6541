"""Session pages end to end through the HTTP client: list, create, detail, add patient, booking."""

import datetime

import pytest
from django.urls import reverse

from appointments.models import Session, SessionParticipant
from appointments.session_service import SessionService
from core.models import User
from core.tests.factories import (
    ClinicFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    TenantFactory,
)
from core.tests.view_helpers import (
    booked,
    consented_patient,
    group_session,
    messages_of,
    staff_member,
    superuser,
    today,
    work_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    return client


@pytest.fixture
def session(provider, clinic, room):
    return group_session(provider, clinic, room=room, capacity=3)


def session_form_data(clinic, provider, room=None, **overrides):
    data = {
        "clinic": clinic.pk,
        "provider": provider.pk,
        "room": room.pk if room else "",
        "scheduled_date": (today() + datetime.timedelta(days=1)).isoformat(),
        "scheduled_time": "14:00",
        "duration": 90,
        "service_type": "Social Skills Group",
        "max_capacity": 6,
        "group_notes": "Focus on peer interaction skills",
    }
    data.update(overrides)
    return data


# List


def test_session_list_shows_capacity_as_taken_over_capacity_with_a_bar(desk, session):
    booked(session)
    booked(session)

    response = desk.get(reverse("appointments:session_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<span class="text-nowrap" data-capacity="{session.pk}">2/3</span>' in html
    assert 'style="width: 67%"' in html
    assert 'aria-valuenow="2"' in html


def test_session_list_starts_today_unless_the_start_date_is_cleared(desk, provider, clinic):
    upcoming = group_session(provider, clinic, service_type="Upcoming group")
    past = group_session(
        provider, clinic, day=today() - datetime.timedelta(days=3), service_type="Past group"
    )

    default = desk.get(reverse("appointments:session_list"))
    everything = desk.get(reverse("appointments:session_list"), {"date_from": ""})

    assert list(default.context["page_obj"].object_list) == [upcoming]
    assert list(everything.context["page_obj"].object_list) == [past, upcoming]


def test_session_list_filters_by_dates_clinic_provider_type_status_and_free_seats(
    desk, tenant, provider, clinic
):
    other_clinic = ClinicFactory(tenant=tenant, name_en="OT clinic")
    other_provider = ProviderFactory(clinic=other_clinic)
    tomorrow = today() + datetime.timedelta(days=1)
    full = group_session(provider, clinic, capacity=2, hour=8, service_type="Full group")
    booked(full)
    booked(full)
    open_group = group_session(provider, clinic, hour=10, service_type="Open group")
    elsewhere = group_session(other_provider, other_clinic, day=tomorrow, service_type="Elsewhere")
    individual = SessionService.create_individual_session(
        provider=provider,
        clinic=clinic,
        patient=consented_patient(tenant),
        scheduled_date=tomorrow,
        scheduled_time=datetime.time(16, 0),
        duration=60,
        service_type="CBT",
    )
    cancelled = group_session(provider, clinic, hour=12, service_type="Cancelled group")
    SessionService.cancel_session(cancelled, "Provider ill")
    url = reverse("appointments:session_list")

    def listed(**filters):
        return list(desk.get(url, filters).context["page_obj"].object_list)

    assert listed(date_from=tomorrow.isoformat()) == [elsewhere, individual]
    assert listed(date_to=today().isoformat()) == [full, open_group, cancelled]
    assert listed(clinic=other_clinic.pk) == [elsewhere]
    assert listed(provider=other_provider.pk) == [elsewhere]
    assert listed(session_type=Session.SessionType.INDIVIDUAL) == [individual]
    assert listed(status=Session.Status.CANCELLED) == [cancelled]
    assert listed(free_seats_only="on", session_type=Session.SessionType.GROUP, status="scheduled") == [
        open_group,
        elsewhere,
    ]


def test_session_list_bad_filter_input_shows_field_errors_and_filters_nothing(desk, session):
    response = desk.get(
        reverse("appointments:session_list"),
        {"date_from": "yesterday-ish", "clinic": "999999", "status": "lost", "page": "abc"},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["date_from"] == ["Enter a valid date."]
    assert form.errors["clinic"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert form.errors["status"] == ["Select a valid choice. lost is not one of the available choices."]
    assert list(response.context["page_obj"].object_list) == [session]


def test_session_list_paginates_25_a_page(desk, provider, clinic):
    for day_offset in range(30):
        group_session(provider, clinic, day=today() + datetime.timedelta(days=day_offset))

    first = desk.get(reverse("appointments:session_list"))
    second = desk.get(reverse("appointments:session_list"), {"page": 2})

    assert len(first.context["page_obj"].object_list) == 25
    assert len(second.context["page_obj"].object_list) == 5
    assert "Page 2<" in second.content.decode()
    assert "?page=2" in first.content.decode()
    assert "?page=1" in second.content.decode()
    assert "?page=3" not in second.content.decode()


def test_session_list_hides_other_organisations_sessions(desk, session):
    elsewhere_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    elsewhere = group_session(ProviderFactory(clinic=elsewhere_clinic), elsewhere_clinic)

    response = desk.get(reverse("appointments:session_list"))

    assert list(response.context["page_obj"].object_list) == [session]
    assert reverse("appointments:session_detail", args=[elsewhere.pk]) not in response.content.decode()


@pytest.mark.parametrize("date_from", [None, ""])
@pytest.mark.parametrize("sessions", [3, 30])
def test_session_list_query_count_does_not_grow_with_rows(
    desk, provider, clinic, room, sessions, date_from, django_assert_num_queries
):
    # Yesterday, today and tomorrow in turn: the default list (from today) shows two in three.
    for index in range(sessions):
        day = today() + datetime.timedelta(days=index % 3 - 1)
        booked(group_session(provider, clinic, room=room, hour=7 + index // 3, day=day))
    # With the start date cleared, the list runs back to the first session ever: no count.
    query = {} if date_from is None else {"date_from": date_from}

    # session + user, clinic and provider choices, page rows (and whether more follow), their
    # children, the tenant (its Hijri-date setting), the access-log row
    with django_assert_num_queries(8):
        response = desk.get(reverse("appointments:session_list"), query)

    listed = sessions if date_from == "" else sessions * 2 // 3
    assert len(response.context["page_obj"].object_list) == min(listed, 25)


# Create


def test_session_create_form_page_renders(desk):
    response = desk.get(reverse("appointments:session_create"))

    assert response.status_code == 200
    assert response.context["form"].__class__.__name__ == "GroupSessionCreateForm"


def test_session_create_makes_a_group_session_through_the_service(desk, clinic, provider, room):
    response = desk.post(reverse("appointments:session_create"), session_form_data(clinic, provider, room))

    session = Session.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("appointments:session_detail", args=[session.pk])
    assert session.session_type == Session.SessionType.GROUP
    assert session.max_capacity == 6
    assert session.group_notes == "Focus on peer interaction skills"
    assert session.room == room
    assert session.history.get().history_user == response.wsgi_request.user
    assert messages_of(desk.get(response.url)) == ["Group session created."]


def test_session_create_refuses_a_past_date_with_a_field_error(desk, clinic, provider):
    yesterday = (today() - datetime.timedelta(days=1)).isoformat()

    response = desk.post(
        reverse("appointments:session_create"), session_form_data(clinic, provider, scheduled_date=yesterday)
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "scheduled_date": ["The date is in the past; choose today or a later day."]
    }
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    ("capacity", "error"),
    [
        ("1", "A group session needs between 2 and 20 seats."),
        ("21", "A group session needs between 2 and 20 seats."),
        ("many", "Enter a whole number."),
        ("", "This field is required."),
    ],
)
def test_session_create_refuses_bad_capacity_with_a_field_error(desk, clinic, provider, capacity, error):
    response = desk.post(
        reverse("appointments:session_create"), session_form_data(clinic, provider, max_capacity=capacity)
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"max_capacity": [error]}
    assert not Session.objects.exists()


def test_session_create_shows_a_double_booked_provider_as_a_form_error(desk, clinic, provider):
    tomorrow = today() + datetime.timedelta(days=1)
    group_session(provider, clinic, day=tomorrow, hour=14)

    response = desk.post(reverse("appointments:session_create"), session_form_data(clinic, provider))

    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors == [f"{provider} already has a booking {tomorrow:%d/%m/%Y} 14:00-15:00."]
    assert Session.objects.count() == 1


def test_session_create_shows_a_provider_outside_the_clinic_as_a_form_error(desk, tenant, clinic):
    outsider = ProviderFactory(clinic=ClinicFactory(tenant=tenant, name_en="ABA clinic"))

    response = desk.post(reverse("appointments:session_create"), session_form_data(clinic, outsider))

    assert response.context["form"].non_field_errors() == [f"{outsider} does not work in {clinic}."]


def test_session_create_offers_only_the_users_organisation(desk, provider):
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    foreign_provider = ProviderFactory(clinic=foreign_clinic)

    response = desk.post(
        reverse("appointments:session_create"), session_form_data(foreign_clinic, foreign_provider)
    )

    assert set(response.context["form"].errors) == {"clinic", "provider"}
    assert not Session.objects.exists()


def test_session_create_double_submit_creates_one_session(desk, clinic, provider):
    data = session_form_data(clinic, provider)

    desk.post(reverse("appointments:session_create"), data)
    second = desk.post(reverse("appointments:session_create"), data)

    assert Session.objects.count() == 1
    assert second.status_code == 200
    assert "already has a booking" in second.context["form"].non_field_errors()[0]


# Detail


def test_session_detail_lists_participants_with_numbers_status_and_badges(desk, tenant, session):
    cleared = booked(session, consented_patient(tenant, first_name_en="Sara", last_name_en="Ali"))
    SessionService.clear_finance(cleared, user=staff_member(tenant, User.Role.FINANCE))
    SessionService.check_in_participant(cleared)
    without_consent = booked(
        session, PatientFactory(tenant=tenant, first_name_en="Lina", last_name_en="Omar")
    )

    response = desk.get(reverse("appointments:session_detail", args=[session.pk]))

    html = response.content.decode()
    assert [p.pk for p in response.context["participants"]] == [cleared.pk, without_consent.pk]
    assert cleared.appointment_number in html
    assert without_consent.appointment_number in html
    assert '<span class="badge text-bg-primary" data-status="arrived">Arrived</span>' in html
    assert '<span class="badge text-bg-secondary" data-status="booked">Booked</span>' in html
    assert "No valid consent on file for Lina Omar." in html
    assert f'data-capacity="{session.pk}">2/3<' in html
    assert reverse("appointments:participant_check_in", args=[without_consent.pk]) in html
    # Marking attendance is the clinicians' (appointments/tests/test_views_clinical_actions.py).
    assert reverse("appointments:participant_attended", args=[cleared.pk]) not in html


def test_session_detail_shows_no_actions_once_the_session_is_completed(desk, session):
    participant = booked(session)
    SessionService.complete_session(session)

    html = desk.get(reverse("appointments:session_detail", args=[session.pk])).content.decode()

    assert reverse("appointments:participant_check_in", args=[participant.pk]) not in html
    assert reverse("appointments:session_complete", args=[session.pk]) not in html
    assert reverse("appointments:session_add_patient", args=[session.pk]) not in html


@pytest.mark.parametrize("participants", [3, 12])
def test_session_detail_query_count_does_not_grow_with_participants(
    desk, provider, clinic, participants, django_assert_num_queries
):
    session = group_session(provider, clinic, capacity=20)
    for _ in range(participants):
        booked(session)

    # session + user, the session, participants with patients, their consents, the waiting list,
    # the user's organisation (whether it shows Hijri dates), the access-log row
    with django_assert_num_queries(8):
        response = desk.get(reverse("appointments:session_detail", args=[session.pk]))

    assert len(response.context["participants"]) == participants


def test_session_detail_unknown_id_is_404(desk):
    assert desk.get(reverse("appointments:session_detail", args=[987654])).status_code == 404


# Add patient


def test_session_add_patient_finds_patients_by_english_arabic_name_or_mrn(desk, tenant, session):
    sara = PatientFactory(
        tenant=tenant, first_name_en="Sara", last_name_en="Ali", first_name_ar="سارة", mrn="AG-100"
    )
    PatientFactory(
        tenant=tenant, first_name_en="Omar", last_name_en="Hamad", first_name_ar="عمر", mrn="AG-200"
    )
    PatientFactory(tenant=TenantFactory(code="OTHER"), first_name_en="Sara", last_name_en="Elsewhere")
    url = reverse("appointments:session_add_patient", args=[session.pk])

    for query in ("sara", "سارة", "ag-100", "Sara Ali"):
        assert desk.get(url, {"q": query}).context["results"] == [sara]
    assert desk.get(url).context["results"] == []


def test_session_add_patient_adds_and_reports_the_appointment_number(desk, tenant, session):
    patient = consented_patient(tenant, first_name_en="Sara", last_name_en="Ali")

    response = desk.post(
        reverse("appointments:session_add_patient", args=[session.pk]), {"patient": patient.pk}
    )

    participant = SessionParticipant.objects.get()
    assert response.status_code == 302
    assert response.url == session.get_absolute_url()
    assert participant.patient == patient
    assert participant.history.get().history_user == response.wsgi_request.user
    assert messages_of(desk.get(response.url)) == [
        f"Sara Ali was added with appointment number {participant.appointment_number}."
    ]


def test_session_add_patient_double_submit_books_once_and_says_so(desk, tenant, session):
    patient = consented_patient(tenant, first_name_en="Sara", last_name_en="Ali")
    url = reverse("appointments:session_add_patient", args=[session.pk])

    desk.post(url, {"patient": patient.pk})
    second = desk.post(url, {"patient": patient.pk})

    assert SessionParticipant.objects.count() == 1
    assert second.status_code == 200
    assert second.context["form"].non_field_errors() == ["Sara Ali is already booked in this session."]
    assert "Sara Ali is already booked in this session." in second.content.decode()


def test_session_add_patient_to_a_full_session_shows_the_capacity_error(desk, tenant, provider, clinic):
    session = group_session(provider, clinic, capacity=2)
    booked(session)
    booked(session)

    response = desk.post(
        reverse("appointments:session_add_patient", args=[session.pk]),
        {"patient": consented_patient(tenant).pk},
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Session is full (2 of 2)."]
    assert session.participants.count() == 2


def test_session_add_patient_refuses_a_patient_of_another_organisation(desk, session):
    foreigner = PatientFactory(tenant=TenantFactory(code="OTHER"))

    response = desk.post(
        reverse("appointments:session_add_patient", args=[session.pk]), {"patient": foreigner.pk}
    )

    assert response.context["form"].errors == {
        "patient": ["That patient is not registered in your organisation."]
    }
    assert not session.participants.exists()


def test_session_add_patient_marks_patients_already_booked(desk, tenant, session):
    participant = booked(session, consented_patient(tenant, first_name_en="Sara"))

    response = desk.get(reverse("appointments:session_add_patient", args=[session.pk]), {"q": "Sara"})

    assert response.context["booked_patient_ids"] == {participant.patient_id}
    assert "Already booked" in response.content.decode()


def test_session_add_patient_to_a_cancelled_session_explains_why_not(desk, tenant, session):
    SessionService.cancel_session(session, "Closed for Eid")

    response = desk.post(
        reverse("appointments:session_add_patient", args=[session.pk]),
        {"patient": consented_patient(tenant).pk},
    )

    assert response.context["form"].non_field_errors() == [
        "Patients can only be added to a scheduled or in-progress session; this one is cancelled."
    ]


# Individual booking


def test_session_book_individual_books_one_seat_for_the_patient(desk, tenant, clinic, provider):
    patient = consented_patient(tenant, mrn="AG-7")
    data = {
        "patient": "ag-7",
        "clinic": clinic.pk,
        "provider": provider.pk,
        "scheduled_date": today().isoformat(),
        "scheduled_time": "09:30",
        "duration": 45,
        "service_type": "CBT",
    }

    response = desk.post(reverse("appointments:session_book_individual"), data)

    session = Session.objects.get()
    assert response.url == session.get_absolute_url()
    assert session.session_type == Session.SessionType.INDIVIDUAL
    assert [p.patient for p in session.participants.all()] == [patient]


def test_session_book_individual_prefills_the_patient_from_the_chart_link(desk):
    response = desk.get(reverse("appointments:session_book_individual"), {"patient": "AG-7"})

    assert response.context["form"]["patient"].value() == "AG-7"


def test_session_book_individual_refuses_unknown_mrn_past_date_and_patient_double_booking(
    desk, tenant, clinic, provider
):
    patient = consented_patient(tenant, mrn="AG-7", first_name_en="Sara", last_name_en="Ali")
    booked(group_session(ProviderFactory(clinic=clinic), clinic, hour=9), patient)
    data = {
        "patient": "AG-404",
        "clinic": clinic.pk,
        "provider": provider.pk,
        "scheduled_date": (today() - datetime.timedelta(days=1)).isoformat(),
        "scheduled_time": "09:30",
        "duration": 45,
        "service_type": "CBT",
    }
    url = reverse("appointments:session_book_individual")

    refused = desk.post(url, data)
    clash = desk.post(url, {**data, "patient": "AG-7", "scheduled_date": today().isoformat()})

    assert refused.context["form"].errors == {
        "patient": ["No patient with MRN AG-404 in your organisation."],
        "scheduled_date": ["The date is in the past; choose today or a later day."],
    }
    assert clash.context["form"].non_field_errors() == [
        f"Sara Ali is already booked {today():%d/%m/%Y} 09:00-10:00."
    ]
    assert Session.objects.filter(session_type=Session.SessionType.INDIVIDUAL).count() == 0


def individual_booking(clinic, provider, mrn: str) -> dict:
    return {
        "patient": mrn,
        "clinic": clinic.pk,
        "provider": provider.pk,
        "scheduled_date": today().isoformat(),
        "scheduled_time": "09:30",
        "duration": 45,
        "service_type": "CBT",
    }


def test_session_book_individual_finds_an_mrn_typed_with_arabic_digits_and_spaces(
    desk, tenant, clinic, provider
):
    patient = consented_patient(tenant, mrn="AG-17")

    response = desk.post(
        reverse("appointments:session_book_individual"), individual_booking(clinic, provider, " ag-١٧ ")
    )

    assert response.status_code == 302
    assert [p.patient for p in Session.objects.get().participants.all()] == [patient]


def test_session_book_individual_mrn_of_another_organisation_is_refused_as_unknown(desk, clinic, provider):
    consented_patient(TenantFactory(code="OTHER"), mrn="AG-8")
    url = reverse("appointments:session_book_individual")

    elsewhere = desk.post(url, individual_booking(clinic, provider, "ag-8"))
    nowhere = desk.post(url, individual_booking(clinic, provider, "ag-9"))

    assert elsewhere.context["form"].errors == {"patient": ["No patient with MRN AG-8 in your organisation."]}
    assert nowhere.context["form"].errors == {"patient": ["No patient with MRN AG-9 in your organisation."]}
    assert Session.objects.count() == 0


def test_session_book_individual_by_a_superuser_books_the_child_of_the_organisation_they_work_in(
    client, tenant, clinic, provider
):
    consented_patient(TenantFactory(code="OTHER"), mrn="AG-7", first_name_en="Elsewhere")
    ours = consented_patient(tenant, mrn="AG-7", first_name_en="Ours")
    client.force_login(superuser())
    work_in(client, tenant)

    response = client.post(
        reverse("appointments:session_book_individual"), individual_booking(clinic, provider, "ag-7")
    )

    assert response.status_code == 302
    assert [p.patient for p in Session.objects.get().participants.all()] == [ours]


# Available group sessions


def test_session_available_lists_group_sessions_with_free_seats_only(desk, provider, clinic):
    full = group_session(provider, clinic, capacity=2, hour=8)
    booked(full)
    booked(full)
    free = group_session(provider, clinic, hour=10, service_type="Parent training")
    url = reverse("appointments:session_available")

    before_search = desk.get(url)
    found = desk.get(
        url,
        {"clinic": clinic.pk, "date_from": today().isoformat(), "date_to": today().isoformat()},
    )
    by_service = desk.get(
        url,
        {
            "clinic": clinic.pk,
            "date_from": today().isoformat(),
            "date_to": today().isoformat(),
            "service_type": "x",
        },
    )

    assert before_search.context["page_obj"] is None
    assert list(found.context["page_obj"].object_list) == [free]
    assert list(by_service.context["page_obj"].object_list) == []
    assert "No group session with free seats in this period." in by_service.content.decode()


def test_session_available_refuses_an_end_before_the_start(desk, clinic):
    response = desk.get(
        reverse("appointments:session_available"),
        {"clinic": clinic.pk, "date_from": "2030-01-10", "date_to": "2030-01-01"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"date_to": ["The end date is before the start date."]}
    assert response.context["page_obj"] is None


# Day schedule


def test_schedule_by_provider_and_by_room_show_the_days_bookings(desk, clinic, provider, room):
    other_room = RoomFactory(clinic=clinic, name="Green room")
    morning = group_session(provider, clinic, room=room, hour=9)
    afternoon = group_session(ProviderFactory(clinic=clinic), clinic, room=other_room, hour=13)
    group_session(provider, clinic, room=room, day=today() + datetime.timedelta(days=1))

    by_provider = desk.get(reverse("appointments:schedule_by_provider"))
    by_room = desk.get(reverse("appointments:schedule_by_room"), {"day": today().isoformat()})

    assert [[e.booking for e in c.entries] for c in by_provider.context["columns"]] in (
        [[morning], [afternoon]],
        [[afternoon], [morning]],
    )
    assert {c.owner: [e.booking for e in c.entries] for c in by_room.context["columns"]} == {
        room: [morning],
        other_room: [afternoon],
    }


def test_schedule_with_a_bad_day_falls_back_to_today_and_says_so(desk):
    response = desk.get(reverse("appointments:schedule_by_room"), {"day": "31/31/2031"})

    assert response.status_code == 200
    assert response.context["day"] == today()
    assert "That is not a valid day; showing today." in response.content.decode()


def test_session_create_empty_post_shows_every_required_field(desk):
    response = desk.post(reverse("appointments:session_create"))

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {
        "clinic",
        "provider",
        "scheduled_date",
        "scheduled_time",
        "service_type",
        "max_capacity",
        "duration",
    }
