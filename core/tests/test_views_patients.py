"""Patient pages end to end: search, chart, registration and consents."""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from appointments.appointment_service import AppointmentService
from appointments.session_service import SessionService
from core.models import Consent, Patient, User
from core.tests.factories import ConsentFactory, GuardianFactory, PatientFactory, TenantFactory
from core.tests.view_helpers import (
    booked,
    group_session,
    legacy_appointment,
    messages_of,
    staff_member,
    superuser,
    today,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
Role = User.Role


@pytest.fixture
def sara(tenant):
    patient = PatientFactory(
        tenant=tenant,
        mrn="AG-100",
        first_name_en="Sara",
        last_name_en="Ali",
        first_name_ar="سارة",
        last_name_ar="علي",
    )
    GuardianFactory(patient=patient, name_en="Huda Ali", name_ar="هدى علي")
    return patient


def patient_data(**overrides):
    data = {
        "mrn": "AG-555",
        "first_name_en": "Yousef",
        "last_name_en": "Hamad",
        "first_name_ar": "يوسف",
        "last_name_ar": "حمد",
        "date_of_birth": "2019-03-04",
        "sex": "M",
        "guardian_name": "Mona Hamad",
        "guardian_relation": "mother",
        "guardian_phone": "0500000001",
    }
    data.update(overrides)
    return data


# Search


def test_patient_search_by_english_arabic_name_or_mrn(desk, tenant, sara):
    PatientFactory(
        tenant=tenant, first_name_en="Omar", last_name_en="Nasser", first_name_ar="عمر", mrn="AG-200"
    )
    PatientFactory(tenant=TenantFactory(code="OTHER"), first_name_en="Sara", last_name_en="Elsewhere")
    url = reverse("core:patient_search")

    def found(query):
        return list(desk.get(url, {"q": query}).context["page_obj"].object_list)

    assert found("sara") == [sara]
    assert found("علي") == [sara]
    assert found("AG-100") == [sara]
    assert found("ali sara") == [sara]
    assert found("nobody") == []
    assert len(found("")) == 2


def test_patient_search_finds_an_mrn_typed_with_arabic_digits(desk, sara):
    response = desk.get(reverse("core:patient_search"), {"q": "ag-١٠٠"})

    assert list(response.context["page_obj"].object_list) == [sara]


def test_patient_search_shows_no_match_message_and_never_fails_on_odd_input(desk, sara):
    response = desk.get(reverse("core:patient_search"), {"q": "%_'\"; drop", "page": "-3"})

    assert response.status_code == 200
    assert "No patient matches the search." in response.content.decode()


@pytest.mark.parametrize("patients", [3, 12])
def test_patient_search_query_count_does_not_grow(desk, tenant, patients, django_assert_num_queries):
    PatientFactory.create_batch(patients, tenant=tenant)

    # session + user, page count, page rows, their primary guardians, the access-log row
    with django_assert_num_queries(6):
        response = desk.get(reverse("core:patient_search"))

    assert len(response.context["page_obj"].object_list) == patients


# Chart


def test_patient_chart_shows_upcoming_and_past_bookings_and_consents(desk, tenant, clinic, provider, sara):
    ConsentFactory(patient=sara)
    yesterday = today() - datetime.timedelta(days=1)
    past_session = group_session(provider, clinic, day=yesterday, service_type="Past group")
    past = booked(past_session, sara)
    upcoming = booked(group_session(provider, clinic, hour=9, service_type="Coming group"), sara)
    coming_appointment = legacy_appointment(provider, clinic, sara, hour=15)
    old_appointment = legacy_appointment(provider, clinic, sara, day=yesterday, hour=15)
    revoked = ConsentFactory(patient=sara, consent_type=Consent.ConsentType.OT)
    revoked.revoked_at = timezone.now() - datetime.timedelta(days=2)
    revoked.save()

    response = desk.get(reverse("core:patient_chart", args=[sara.pk]))

    chart = response.context["chart"]
    assert chart.upcoming.participations == [upcoming]
    assert chart.past.participations == [past]
    assert chart.upcoming.appointments == [coming_appointment]
    assert chart.past.appointments == [old_appointment]
    assert [(c.consent_type, c.valid_today) for c in chart.consents] == [("ot", False), ("general", True)]
    html = response.content.decode()
    assert "سارة علي" in html
    assert "Valid today" in html
    assert "Revoked" in html
    assert upcoming.appointment_number in html
    assert f"?patient={sara.mrn}" in html


@pytest.mark.parametrize("visits", [3, 40])
def test_patient_chart_query_count_does_not_grow(
    desk, clinic, provider, sara, visits, django_assert_num_queries
):
    upcoming = booked(group_session(provider, clinic, hour=9), sara)
    for back in range(1, visits + 1):
        visit_day = today() - datetime.timedelta(days=back)
        booked(group_session(provider, clinic, day=visit_day, hour=9), sara)
        if back % 4 == 1:
            legacy_appointment(provider, clinic, sara, day=visit_day, hour=15)
        ConsentFactory(patient=sara)
    url = reverse("core:patient_chart", args=[sara.pk])

    # session + user, patient, per timeline (upcoming, past) a count and a page of keys, the
    # pages' session places, their appointments, consents, guardians, the user's organisation (whether
    # it shows Hijri dates), the progress section's sessions and legacy appointments, the access-log row
    with django_assert_num_queries(15):
        first = desk.get(url)
    with django_assert_num_queries(15):
        second = desk.get(url, {"page": 2})

    bookings = visits + len(range(1, visits + 1, 4))
    past = [response.context["chart"].past.bookings for response in (first, second)]
    assert len(past[0]) == min(bookings, 25)
    assert len(set(past[0]) | set(past[1])) == bookings
    assert first.context["chart"].upcoming.bookings == [upcoming]


def test_patient_chart_shows_the_latest_visits_first_and_links_to_older_pages(desk, clinic, provider, sara):
    days = [today() - datetime.timedelta(days=back) for back in range(1, 28)]
    visits = {day: booked(group_session(provider, clinic, day=day, hour=9), sara) for day in days}
    url = reverse("core:patient_chart", args=[sara.pk])

    latest = desk.get(url)
    older = desk.get(url, {"page": 2})

    assert latest.context["chart"].past.bookings == [visits[day] for day in days[:25]]
    assert older.context["chart"].past.bookings == [visits[day] for day in days[25:]]
    latest_html, older_html = latest.content.decode(), older.content.decode()
    assert latest_html.index(f"{days[0]:%-d %b %Y}") < latest_html.index(f"{days[24]:%-d %b %Y}")
    assert f"{days[25]:%-d %b %Y}" not in latest_html
    assert '?page=2">Older</a>' in latest_html
    assert "Page 1 of 2" in latest_html
    assert '?page=1">Newer</a>' in older_html
    assert "Older</a>" not in older_html


def test_patient_chart_pages_in_arabic(desk, clinic, provider, sara):
    for back in range(1, 28):
        booked(group_session(provider, clinic, day=today() - datetime.timedelta(days=back), hour=9), sara)
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    url = reverse("core:patient_chart", args=[sara.pk])

    latest = desk.get(url).content.decode()
    older = desk.get(url, {"page": 2}).content.decode()

    assert '?page=2">أقدم</a>' in latest
    assert "الصفحة 1 من 2" in latest
    assert '?page=1">أحدث</a>' in older


def test_patient_chart_of_another_organisation_or_unknown_is_404(desk):
    foreign = PatientFactory(tenant=TenantFactory(code="OTHER"))

    assert desk.get(reverse("core:patient_chart", args=[foreign.pk])).status_code == 404
    assert desk.get(reverse("core:patient_chart", args=[123456])).status_code == 404


def test_patient_chart_lists_cancelled_and_completed_visits_with_their_status(
    desk, tenant, clinic, provider, sara
):
    cancelled = booked(group_session(provider, clinic, hour=9), sara)
    SessionService.cancel_participant(cancelled, "Family travelling")
    appointment = legacy_appointment(provider, clinic, sara, hour=15)
    AppointmentService.mark_no_show(appointment)

    html = desk.get(reverse("core:patient_chart", args=[sara.pk])).content.decode()

    assert 'data-status="cancelled">Cancelled<' in html
    assert 'data-status="no_show">No-show<' in html


# Registration


def test_patient_create_registers_in_the_users_organisation(desk, desk_user, tenant):
    response = desk.post(reverse("core:patient_create"), patient_data())

    patient = Patient.objects.get()
    assert response.url == reverse("core:patient_chart", args=[patient.pk])
    assert patient.tenant == tenant
    assert patient.full_name_ar == "يوسف حمد"
    assert patient.history.get().history_user == desk_user
    assert messages_of(desk.get(response.url)) == ["Patient Yousef Hamad registered."]


def test_patient_create_refuses_a_taken_mrn_and_a_future_birth(desk, sara):
    tomorrow = (today() + datetime.timedelta(days=1)).isoformat()

    response = desk.post(reverse("core:patient_create"), patient_data(mrn="AG-100", date_of_birth=tomorrow))

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "mrn": ["Another patient already has this MRN."],
        "date_of_birth": ["The date of birth is in the future."],
    }
    assert Patient.objects.count() == 1


def test_patient_create_stores_the_mrn_normalised(desk, tenant):
    response = desk.post(reverse("core:patient_create"), patient_data(mrn="  ag-٥٥٥ "))

    assert response.status_code == 302
    assert Patient.objects.get().mrn == "AG-555"


def test_patient_create_refuses_an_mrn_of_the_organisation_typed_differently(desk, sara):
    response = desk.post(reverse("core:patient_create"), patient_data(mrn=" ag-١٠٠"))

    assert response.context["form"].errors == {"mrn": ["Another patient already has this MRN."]}
    assert Patient.objects.count() == 1


def test_patient_create_accepts_an_mrn_used_in_another_organisation(desk, tenant, sara):
    PatientFactory(tenant=TenantFactory(code="OTHER"), mrn="AG-555")

    response = desk.post(reverse("core:patient_create"), patient_data(mrn="ag-555"))

    assert response.status_code == 302
    assert sorted(Patient.objects.filter(mrn="AG-555").values_list("tenant__code", flat=True)) == [
        "AGDAR",
        "OTHER",
    ]


def test_patient_create_refused_to_staff_of_no_organisation(client):
    client.force_login(staff_member(None, Role.FRONT_DESK))

    response = client.post(reverse("core:patient_create"), patient_data())

    assert response.context["form"].non_field_errors() == [
        "Your account belongs to no organisation, so it can't register patients."
    ]
    assert Patient.objects.count() == 0


def test_patient_create_refuses_missing_names(desk):
    response = desk.post(reverse("core:patient_create"), patient_data(first_name_en="", date_of_birth="soon"))

    assert response.context["form"].errors == {
        "first_name_en": ["This field is required."],
        "date_of_birth": ["Enter a valid date."],
    }


def test_patient_create_by_a_superuser_registers_in_the_organisation_they_picked(client):
    other = TenantFactory(code="OTHER")
    client.force_login(superuser())

    sent_to_pick = client.get(reverse("core:patient_create"))
    client.post(reverse("core:tenant_pick"), {"tenant": other.pk})
    form = client.get(reverse("core:patient_create")).context["form"]
    response = client.post(reverse("core:patient_create"), patient_data())

    assert sent_to_pick.url == reverse("core:tenant_pick") + "?next=%2Fpatients%2Fadd%2F"
    assert "tenant" not in form.fields
    assert response.status_code == 302
    assert Patient.objects.get().tenant == other


# Consents


def test_patient_add_consent_records_a_consent_signed_today(desk, desk_user, sara):
    form_page = desk.get(reverse("core:patient_add_consent", args=[sara.pk]))
    response = desk.post(
        reverse("core:patient_add_consent", args=[sara.pk]),
        {
            "consent_type": "general",
            "signed_by": "Huda Ali",
            "signed_on": today().isoformat(),
            "expires_on": "",
        },
        follow=True,
    )

    consent = sara.consents.get()
    assert form_page.context["form"]["signed_by"].value() == "Huda Ali"
    assert response.redirect_chain == [(reverse("core:patient_chart", args=[sara.pk]), 302)]
    assert messages_of(response) == ["Consent recorded."]
    assert consent.is_valid_on(today())
    assert consent.expires_at is None
    assert consent.history.get().history_user == desk_user


def test_patient_add_consent_expiry_covers_its_last_day(desk, sara):
    signed = today() - datetime.timedelta(days=10)
    last_day = today() + datetime.timedelta(days=5)

    desk.post(
        reverse("core:patient_add_consent", args=[sara.pk]),
        {
            "consent_type": "psychology",
            "signed_by": "Huda Ali",
            "signed_on": signed.isoformat(),
            "expires_on": last_day.isoformat(),
        },
    )

    consent = sara.consents.get()
    assert timezone.localdate(consent.signed_at) == signed
    assert consent.is_valid_on(last_day)
    assert not consent.is_valid_on(last_day + datetime.timedelta(days=1))


def test_patient_add_consent_refuses_future_signing_and_expiry_before_signing(desk, sara):
    response = desk.post(
        reverse("core:patient_add_consent", args=[sara.pk]),
        {
            "consent_type": "general",
            "signed_by": "Huda Ali",
            "signed_on": (today() + datetime.timedelta(days=1)).isoformat(),
            "expires_on": "",
        },
    )
    backwards = desk.post(
        reverse("core:patient_add_consent", args=[sara.pk]),
        {
            "consent_type": "general",
            "signed_by": "Huda Ali",
            "signed_on": today().isoformat(),
            "expires_on": (today() - datetime.timedelta(days=1)).isoformat(),
        },
    )

    assert response.context["form"].errors == {"signed_on": ["A consent can't be signed in the future."]}
    assert backwards.context["form"].errors == {"expires_on": ["A consent can't expire before it is signed."]}
    assert not sara.consents.exists()


def test_consent_revoke_revokes_once_and_explains_a_second_click(desk, sara):
    consent = ConsentFactory(patient=sara)
    url = reverse("core:consent_revoke", args=[consent.pk])

    first = desk.post(url, follow=True)
    second = desk.post(url, follow=True)

    consent.refresh_from_db()
    assert consent.revoked_at is not None
    assert not consent.is_valid_on(today())
    assert messages_of(first) == ["Consent revoked."]
    assert messages_of(second) == ["This consent was already revoked."]
    assert first.redirect_chain == [(reverse("core:patient_chart", args=[sara.pk]), 302)]


def test_consent_added_on_the_chart_lets_check_in_pass(desk, tenant, clinic, provider, sara):
    participant = booked(group_session(provider, clinic), sara)
    SessionService.clear_finance(participant, user=staff_member(tenant, Role.FINANCE))
    refused = desk.post(reverse("appointments:participant_check_in", args=[participant.pk]), follow=True)

    desk.post(
        reverse("core:patient_add_consent", args=[sara.pk]),
        {"consent_type": "general", "signed_by": "Huda Ali", "signed_on": today().isoformat()},
        follow=True,
    )
    admitted = desk.post(reverse("appointments:participant_check_in", args=[participant.pk]), follow=True)

    assert messages_of(refused) == ["No valid consent on file for Sara Ali."]
    assert messages_of(admitted) == ["Sara Ali is checked in."]
