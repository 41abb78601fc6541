"""Legacy appointment pages end to end: list, book, detail, each workflow step, reschedule."""

import datetime

import pytest
from django.urls import reverse

from appointments.appointment_service import AppointmentService
from appointments.models import Appointment
from core.models import User
from core.tests.factories import ClinicFactory, PatientFactory, ProviderFactory, TenantFactory
from core.tests.view_helpers import consented_patient, legacy_appointment, messages_of, staff_member, today

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
Status = Appointment.Status


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    return client


@pytest.fixture
def sara(tenant):
    return consented_patient(tenant, first_name_en="Sara", last_name_en="Ali", mrn="AG-1")


@pytest.fixture
def appointment(provider, clinic, sara):
    return legacy_appointment(provider, clinic, sara, hour=11)


def book_data(clinic, provider, **overrides):
    data = {
        "patient": "AG-1",
        "clinic": clinic.pk,
        "provider": provider.pk,
        "room": "",
        "scheduled_date": today().isoformat(),
        "scheduled_time": "11:00",
        "duration": 45,
        "service_type": "Assessment",
        "notes": "First visit",
    }
    data.update(overrides)
    return data


def post(client, name, pk, **data):
    return client.post(reverse(f"appointments:{name}", args=[pk]), data, follow=True)


def test_appointment_list_shows_the_organisations_appointments_from_today(desk, provider, clinic, sara):
    current = legacy_appointment(provider, clinic, sara)
    past = legacy_appointment(provider, clinic, sara, day=today() - datetime.timedelta(days=2))
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    legacy_appointment(ProviderFactory(clinic=foreign_clinic), foreign_clinic)

    default = desk.get(reverse("appointments:appointment_list"))
    everything = desk.get(reverse("appointments:appointment_list"), {"date_from": ""})
    cancelled_only = desk.get(
        reverse("appointments:appointment_list"), {"date_from": "", "status": "cancelled"}
    )

    assert list(default.context["page_obj"].object_list) == [current]
    assert list(everything.context["page_obj"].object_list) == [past, current]
    assert list(cancelled_only.context["page_obj"].object_list) == []
    assert current.appointment_number in default.content.decode()


@pytest.mark.parametrize("appointments", [3, 12])
def test_appointment_list_query_count_does_not_grow_with_rows(
    desk, provider, clinic, appointments, django_assert_num_queries
):
    for hour in range(appointments):
        legacy_appointment(
            provider, clinic, day=today() + datetime.timedelta(days=hour // 12), hour=7 + hour % 12
        )

    # session + user, clinic choices, page rows (and whether more follow), the user's organisation
    # (whether it shows Hijri dates), the access-log row
    with django_assert_num_queries(6):
        response = desk.get(reverse("appointments:appointment_list"))

    assert len(response.context["page_obj"].object_list) == appointments


def test_appointment_book_books_through_the_service(desk, clinic, provider, sara):
    response = desk.post(reverse("appointments:appointment_book"), book_data(clinic, provider))

    appointment = Appointment.objects.get()
    assert response.url == appointment.get_absolute_url()
    assert appointment.patient == sara
    assert appointment.notes == "First visit"
    assert appointment.created_by == response.wsgi_request.user
    assert messages_of(desk.get(response.url)) == [f"Appointment {appointment.appointment_number} booked."]


def test_appointment_book_double_submit_books_once(desk, clinic, provider, sara):
    desk.post(reverse("appointments:appointment_book"), book_data(clinic, provider))

    second = desk.post(reverse("appointments:appointment_book"), book_data(clinic, provider))

    number = Appointment.objects.get().appointment_number
    assert second.status_code == 200
    assert second.context["form"].non_field_errors() == [
        f"{provider} already has a booking {today():%d/%m/%Y} 11:00-11:45.",
        f"Sara Ali already has appointment {number} {today():%d/%m/%Y} 11:00-11:45.",
    ]


def test_appointment_book_refuses_past_dates_unknown_patients_and_bad_durations(desk, clinic, provider):
    response = desk.post(
        reverse("appointments:appointment_book"),
        book_data(
            clinic,
            provider,
            patient="NOPE",
            scheduled_date=(today() - datetime.timedelta(days=1)).isoformat(),
            duration="5",
        ),
    )

    assert response.context["form"].errors == {
        "patient": ["No patient with MRN NOPE in your organisation."],
        "scheduled_date": ["The date is in the past; choose today or a later day."],
        "duration": ["Ensure this value is greater than or equal to 15."],
    }
    assert not Appointment.objects.exists()


def test_appointment_detail_shows_the_actions_for_its_status(desk, appointment):
    html = desk.get(appointment.get_absolute_url()).content.decode()

    assert appointment.appointment_number in html
    for action in ("confirm", "check_in", "cancel", "reschedule"):
        assert reverse(f"appointments:appointment_{action}", args=[appointment.pk]) in html
    # Start, complete and no-show are the clinicians' (appointments/tests/test_views_clinical_actions.py).
    for action in ("start", "complete", "no_show"):
        assert reverse(f"appointments:appointment_{action}", args=[appointment.pk]) not in html


def test_appointment_detail_unknown_or_foreign_id_is_404(desk):
    foreign_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    foreign = legacy_appointment(ProviderFactory(clinic=foreign_clinic), foreign_clinic)

    assert desk.get(reverse("appointments:appointment_detail", args=[999999])).status_code == 404
    assert desk.get(foreign.get_absolute_url()).status_code == 404


def test_appointment_workflow_confirm_clear_check_in_start_complete(client, tenant, appointment):
    desk_user = staff_member(tenant, User.Role.FRONT_DESK)
    clerk = staff_member(tenant, User.Role.FINANCE)
    therapist = staff_member(tenant, User.Role.PSYCHOLOGIST)
    number = appointment.appointment_number
    steps = [
        (desk_user, "appointment_confirm", f"Appointment {number} is confirmed.", Status.CONFIRMED),
        (
            clerk,
            "appointment_clear_finance",
            f"Appointment {number} is cleared by finance.",
            Status.CONFIRMED,
        ),
        (
            desk_user,
            "appointment_check_in",
            f"Appointment {number}: the patient is checked in.",
            Status.ARRIVED,
        ),
        (therapist, "appointment_start", f"Appointment {number} started.", Status.IN_PROGRESS),
        (therapist, "appointment_complete", f"Appointment {number} completed.", Status.COMPLETED),
    ]

    for user, action, message, status in steps:
        client.force_login(user)
        response = post(client, action, appointment.pk)
        appointment.refresh_from_db()
        assert messages_of(response) == [message]
        assert appointment.status == status
    assert appointment.finance_cleared_by == clerk


def test_appointment_check_in_without_clearance_or_consent_names_both(desk, tenant, provider, clinic):
    patient = PatientFactory(tenant=tenant, first_name_en="Lina", last_name_en="Omar")
    appointment = legacy_appointment(provider, clinic, patient)

    response = post(desk, "appointment_check_in", appointment.pk)

    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED
    assert messages_of(response) == [
        "Finance clearance is missing for Lina Omar: ask finance to clear the visit.",
        "No valid consent on file for Lina Omar.",
    ]


def test_appointment_no_show_and_a_second_click_is_refused(client, provider, appointment):
    client.force_login(provider.user)

    first = post(client, "appointment_no_show", appointment.pk)
    second = post(client, "appointment_no_show", appointment.pk)

    appointment.refresh_from_db()
    assert appointment.status == Status.NO_SHOW
    assert messages_of(first) == [f"Appointment {appointment.appointment_number} is marked as no-show."]
    assert messages_of(second) == ["This appointment is already no-show."]


def test_appointment_cancel_needs_a_reason(desk, appointment):
    refused = post(desk, "appointment_cancel", appointment.pk, reason="")
    cancelled = post(desk, "appointment_cancel", appointment.pk, reason="Family travelling")

    appointment.refresh_from_db()
    assert messages_of(refused) == ["Give a reason for the cancellation."]
    assert messages_of(cancelled) == [f"Appointment {appointment.appointment_number} is cancelled."]
    assert appointment.status == Status.CANCELLED
    assert appointment.cancel_reason == "Family travelling"


def test_appointment_reschedule_moves_it_and_keeps_the_number(desk, appointment):
    number = appointment.appointment_number
    tomorrow = today() + datetime.timedelta(days=1)
    AppointmentService.confirm(appointment)

    form_page = desk.get(reverse("appointments:appointment_reschedule", args=[appointment.pk]))
    response = desk.post(
        reverse("appointments:appointment_reschedule", args=[appointment.pk]),
        {"scheduled_date": tomorrow.isoformat(), "scheduled_time": "13:30", "room": "", "duration": ""},
        follow=True,
    )

    appointment.refresh_from_db()
    assert form_page.context["form"]["scheduled_date"].value() == today()
    assert (appointment.scheduled_date, appointment.scheduled_time) == (tomorrow, datetime.time(13, 30))
    assert appointment.appointment_number == number
    assert appointment.status == Status.BOOKED
    assert appointment.duration == 45
    assert messages_of(response) == ["Appointment rescheduled; confirm it again with the family."]


def test_appointment_reschedule_refuses_a_past_date_and_a_taken_slot(
    desk, tenant, provider, clinic, appointment
):
    other = legacy_appointment(provider, clinic, consented_patient(tenant), hour=14)
    url = reverse("appointments:appointment_reschedule", args=[appointment.pk])

    past = desk.post(url, {"scheduled_date": "2001-01-01", "scheduled_time": "13:30"})
    clash = desk.post(url, {"scheduled_date": today().isoformat(), "scheduled_time": "14:00"})

    assert past.context["form"].errors == {
        "scheduled_date": ["The date is in the past; choose today or a later day."]
    }
    assert clash.context["form"].non_field_errors() == [
        f"{provider} already has a booking {other.scheduled_date:%d/%m/%Y} 14:00-14:45."
    ]
    appointment.refresh_from_db()
    assert appointment.scheduled_time == datetime.time(11, 0)


def test_appointment_reschedule_after_check_in_is_refused(desk, tenant, appointment):
    AppointmentService.clear_finance(appointment, user=staff_member(tenant, User.Role.FINANCE))
    AppointmentService.check_in(appointment)

    response = desk.post(
        reverse("appointments:appointment_reschedule", args=[appointment.pk]),
        {"scheduled_date": today().isoformat(), "scheduled_time": "16:00"},
    )

    assert response.context["form"].non_field_errors() == [
        "Only a booked or confirmed appointment can be rescheduled; this one is arrived."
    ]


@pytest.mark.parametrize("others", [3, 12])
def test_appointment_detail_query_count_does_not_grow(
    desk, provider, clinic, sara, others, django_assert_num_queries
):
    appointment = legacy_appointment(provider, clinic, sara, hour=7)
    for day in range(1, others + 1):
        legacy_appointment(provider, clinic, sara, day=today() + datetime.timedelta(days=day), hour=7)

    # session + user, the appointment with everything it shows, the user's organisation (whether
    # it shows Hijri dates), the access-log row (its patient looked up inside the INSERT)
    with django_assert_num_queries(5):
        response = desk.get(appointment.get_absolute_url())

    assert response.context["appointment"] == appointment
