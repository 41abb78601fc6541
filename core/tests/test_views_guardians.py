"""Guardians on the chart, and the staff pages that add, edit and show the history of one."""

import pytest
from django.conf import settings
from django.urls import reverse

from core.models import AccessLog, Guardian, Patient, User
from core.tests.admin_helpers import admin_url, form_data, tenant_admin_staff
from core.tests.factories import GuardianFactory, PatientFactory, TenantFactory
from core.tests.view_helpers import messages_of, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
Role = User.Role


@pytest.fixture
def sara(tenant):
    return PatientFactory(tenant=tenant, first_name_en="Sara", last_name_en="Ali", mrn="AG-100")


@pytest.fixture
def mother(sara):
    return GuardianFactory(
        patient=sara,
        name_en="Huda Ali",
        name_ar="هدى علي",
        phone="+966501234567",
        email="huda@example.org",
        preferred_language=Guardian.Language.ENGLISH,
        preferred_channel=Guardian.Channel.EMAIL,
    )


def guardian_data(**overrides):
    data = {
        "name_en": "Ali Hamad",
        "name_ar": "علي حمد",
        "relation": "father",
        "phone": "050 765 4321",
        "email": "",
        "preferred_language": "ar",
        "preferred_channel": "sms",
        "consent_to_contact": "on",
        "may_receive_appointment_info": "on",
    }
    data.update(overrides)
    return data


# The chart


def test_chart_shows_each_guardian_with_their_details_and_flags(desk, sara, mother):
    GuardianFactory(
        patient=sara,
        name_en="Ali Hamad",
        relation=Guardian.Relation.FATHER,
        phone="",
        phone_as_entered="call school",
        phone_needs_review=True,
        consent_to_contact=False,
        may_receive_appointment_info=False,
        is_primary=False,
        sms_opted_out_at="2026-01-05T09:00:00Z",
    )

    response = desk.get(reverse("core:patient_chart", args=[sara.pk]))

    html = response.content.decode()
    assert [guardian.name_en for guardian in response.context["guardians"]] == ["Huda Ali", "Ali Hamad"]
    for text in (
        "Huda Ali",
        "Mother",
        "+966501234567",
        "huda@example.org",
        "English",
        "E-mail",
        "Primary",
        "Consents to contact",
        "Father",
        "call school",
        "No consent to contact",
        "Receives no appointment information",
        "Phone needs review",
        "Opted out of text messages",
    ):
        assert text in html, text
    assert reverse("core:guardian_edit", args=[mother.pk]) in html
    assert reverse("core:guardian_add", args=[sara.pk]) in html


def test_chart_names_guardians_in_arabic_on_an_arabic_page(desk, sara, mother):
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    html = desk.get(reverse("core:patient_chart", args=[sara.pk])).content.decode()

    assert "هدى علي" in html
    assert "Huda Ali" not in html
    assert "أولياء الأمور" in html


def test_chart_offers_no_guardian_editing_to_a_clinician(client, tenant, sara, mother):
    client.force_login(staff_member(tenant, Role.PSYCHOLOGIST))

    html = client.get(reverse("core:patient_chart", args=[sara.pk])).content.decode()

    assert "Huda Ali" in html
    assert reverse("core:guardian_edit", args=[mother.pk]) not in html


@pytest.mark.parametrize("guardians", [1, 4])
def test_chart_query_count_does_not_grow_with_guardians(desk, sara, guardians, django_assert_num_queries):
    GuardianFactory(patient=sara)
    for _ in range(guardians - 1):
        GuardianFactory(patient=sara, is_primary=False)

    # session + user, patient, per timeline a count (no bookings: no page of keys to read), consents,
    # guardians, the user's organisation (Hijri dates), the progress section's two, the access-log row
    with django_assert_num_queries(11):
        response = desk.get(reverse("core:patient_chart", args=[sara.pk]))

    assert len(response.context["guardians"]) == guardians


# Adding


def test_guardian_add_stores_the_phone_in_e164_and_goes_back_to_the_chart(desk, desk_user, sara, mother):
    response = desk.post(reverse("core:guardian_add", args=[sara.pk]), guardian_data(is_primary="on"))

    assert response.url == reverse("core:patient_chart", args=[sara.pk])
    father = sara.guardians.get(name_en="Ali Hamad")
    assert (father.phone, father.is_primary, father.consent_to_contact) == ("+966507654321", True, True)
    assert father.history.get().history_user == desk_user
    mother.refresh_from_db()
    assert mother.is_primary is False
    assert messages_of(desk.get(response.url)) == ["Guardian Ali Hamad added."]


def test_guardian_add_offers_primary_for_a_childs_first_guardian(desk, sara):
    form = desk.get(reverse("core:guardian_add", args=[sara.pk])).context["form"]

    assert form["is_primary"].value() is True
    assert form["may_receive_appointment_info"].value() is True


def test_guardian_add_refuses_a_phone_that_is_no_number_with_a_clear_message(desk, sara):
    response = desk.post(reverse("core:guardian_add", args=[sara.pk]), guardian_data(phone="05 12"))

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "phone": ["This is not a mobile number we can read. Type it as 0501234567 or +966501234567."]
    }
    assert not sara.guardians.exists()


def test_guardian_add_shows_the_services_refusal_on_the_form(desk, sara):
    response = desk.post(reverse("core:guardian_add", args=[sara.pk]), guardian_data(phone=""))

    assert response.context["form"].non_field_errors() == ["Text messages need a mobile number."]
    assert not sara.guardians.exists()


def test_guardian_add_refuses_a_guardian_without_a_name_in_arabic(desk, sara):
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    response = desk.post(reverse("core:guardian_add", args=[sara.pk]), guardian_data(name_en="", name_ar=""))

    assert response.context["form"].non_field_errors() == ["اكتب اسم ولي الأمر بالإنجليزية أو بالعربية."]


# Editing and history


def test_guardian_edit_shows_a_phone_kept_for_review_and_settles_it(desk, sara):
    guardian = GuardianFactory(
        patient=sara, phone="", phone_as_entered="0501234567 ext", phone_needs_review=True
    )
    url = reverse("core:guardian_edit", args=[guardian.pk])

    page = desk.get(url)
    response = desk.post(url, guardian_data(name_en="Huda", phone="0501234567", is_primary="on"))

    assert page.context["form"]["phone"].value() == "0501234567 ext"
    assert "was kept as it was typed" in page.content.decode()
    assert response.status_code == 302
    guardian.refresh_from_db()
    assert (guardian.phone, guardian.phone_needs_review, guardian.name_en) == ("+966501234567", False, "Huda")


def test_guardian_history_shows_who_changed_what_and_when(desk, desk_user, mother):
    desk.post(
        reverse("core:guardian_edit", args=[mother.pk]),
        guardian_data(name_en="Huda Ali", name_ar="هدى علي", phone="0501234567", is_primary="on",
                      consent_to_contact="", may_receive_appointment_info=""),
    )  # fmt: skip

    response = desk.get(reverse("core:guardian_history", args=[mother.pk]))

    changed, created = response.context["versions"]
    assert (changed.who, changed.kind, created.kind) == (desk_user, "Changed", "Created")
    assert {(change.label, change.old, change.new) for change in changed.changes} >= {
        ("consents to be contacted", "Yes", "No"),
        ("may receive appointment information", "Yes", "No"),
        ("relation", "Mother", "Father"),
    }
    html = response.content.decode()
    assert "consents to be contacted" in html.lower()
    # Day first: the frozen day, 2026-03-15.
    assert "15/03/2026" in html


# Who may, and whose


@pytest.mark.parametrize("role", [Role.FINANCE, Role.PSYCHOLOGIST, Role.ABA_THERAPIST])
@pytest.mark.parametrize("page", ["core:guardian_edit", "core:guardian_history"])
def test_guardian_pages_are_refused_to_roles_that_dont_edit_patients(client, tenant, mother, role, page):
    client.force_login(staff_member(tenant, role))

    assert client.get(reverse(page, args=[mother.pk])).status_code == 403
    assert (
        client.post(reverse("core:guardian_add", args=[mother.patient_id]), guardian_data()).status_code
        == 403
    )
    assert Guardian.objects.count() == 1


@pytest.mark.parametrize("page", ["core:guardian_edit", "core:guardian_history"])
def test_another_organisations_guardian_is_not_found(desk, page):
    foreign = GuardianFactory(patient=PatientFactory(tenant=TenantFactory(code="OTHER")))

    assert desk.get(reverse(page, args=[foreign.pk])).status_code == 404
    assert desk.post(reverse("core:guardian_edit", args=[foreign.pk]), guardian_data()).status_code == 404
    assert (
        desk.post(reverse("core:guardian_add", args=[foreign.patient_id]), guardian_data()).status_code == 404
    )
    foreign.refresh_from_db()
    assert foreign.name_en != "Ali Hamad"


def test_guardian_pages_are_access_logged_and_never_cached(desk, desk_user, mother):
    response = desk.get(reverse("core:guardian_edit", args=[mother.pk]))

    assert "no-store" in response["Cache-Control"]
    log = AccessLog.objects.get()
    assert (log.user, log.object_type, log.object_id, log.patient_id) == (
        desk_user,
        "guardian",
        str(mother.pk),
        mother.patient_id,
    )


# Django admin


def test_admin_patient_page_edits_guardians_inline_with_history(client, tenant, sara, mother):
    staff = tenant_admin_staff(tenant)
    client.force_login(staff)
    url = admin_url(Patient, "change", sara.pk)
    data = form_data(client.get(url))

    response = client.post(url, {**data, "guardians-0-phone": "٠٥٥ ١١١ ٢٢٣٣"})

    assert response.status_code == 302
    mother.refresh_from_db()
    assert mother.phone == "+966551112233"
    assert mother.history.latest().history_user == staff


def test_admin_guardian_inline_refuses_a_phone_that_is_no_number(client, tenant, sara, mother):
    client.force_login(tenant_admin_staff(tenant))
    url = admin_url(Patient, "change", sara.pk)

    response = client.post(url, {**form_data(client.get(url)), "guardians-0-phone": "not a phone"})

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[0] == {
        "phone": ["This is not a mobile number we can read. Type it as 0501234567 or +966501234567."]
    }


def test_admin_guardian_inline_keeps_the_services_rules(client, tenant, sara, mother):
    client.force_login(tenant_admin_staff(tenant))
    url = admin_url(Patient, "change", sara.pk)
    data = form_data(client.get(url))

    response = client.post(
        url,
        {
            **data,
            "guardians-0-phone": "",
            "guardians-0-consent_to_contact": "on",
            "guardians-0-preferred_channel": Guardian.Channel.SMS,
        },
    )

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[0] == {
        "__all__": ["Text messages need a mobile number."]
    }
    mother.refresh_from_db()
    assert mother.phone != ""
