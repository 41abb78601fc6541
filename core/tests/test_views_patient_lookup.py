"""The booking forms' patient picker asks ``core:patient_lookup``: who may, what it answers, what it logs."""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse

from core.models import AccessLog, User
from core.tests.factories import GuardianFactory, PatientFactory, TenantFactory
from core.tests.view_helpers import staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
Role = User.Role
URL = reverse("core:patient_lookup")


@pytest.fixture
def noura(tenant):
    patient = PatientFactory(
        tenant=tenant,
        mrn="AG-0012",
        first_name_en="Noura",
        last_name_en="Al-Harbi",
        first_name_ar="نورة",
        last_name_ar="الحربي",
        date_of_birth=datetime.date(2019, 11, 3),
    )
    GuardianFactory(patient=patient, phone="+966501234567")
    return patient


def results(client, query: str) -> list[dict]:
    response = client.get(URL, {"q": query})
    assert response.status_code == 200
    return response.json()["results"]


def test_lookup_answers_a_variant_spelling_with_the_child_in_english(desk, noura):
    assert results(desk, "نوره الحربى") == [
        {
            "id": noura.pk,
            "mrn": "AG-0012",
            "name": "Noura Al-Harbi",
            "name_other": "نورة الحربي",
            "date_of_birth": "03/11/2019",
            "phone": "+966501234567",
        }
    ]


def test_lookup_names_the_child_in_arabic_first_on_an_arabic_page(desk, noura):
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    [row] = results(desk, "nou")

    assert (row["name"], row["name_other"], row["date_of_birth"]) == (
        "نورة الحربي",
        "Noura Al-Harbi",
        "03/11/2019",
    )


def test_lookup_finds_by_mrn_or_phone_typed_with_arabic_digits(desk, noura):
    assert [row["id"] for row in results(desk, "ag-٠٠١٢")] == [noura.pk]
    assert [row["id"] for row in results(desk, "٩٦٦٥٠١")] == [noura.pk]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.FRONT_DESK, 200),
        (Role.ADMIN, 200),
        (Role.FINANCE, 403),
        (Role.PSYCHOLOGIST, 403),
        (Role.OCCUPATIONAL_THERAPIST, 403),
        (Role.ABA_THERAPIST, 403),
    ],
)
def test_lookup_needs_the_booking_capability(client, tenant, noura, role, status):
    client.force_login(staff_member(tenant, role))

    response = client.get(URL, {"q": "noura"})

    assert response.status_code == status


def test_lookup_needs_a_login(client, noura):
    response = client.get(URL, {"q": "noura"})

    assert (response.status_code, response.url) == (302, f"{reverse('login')}?next={URL}%3Fq%3Dnoura")


def test_lookup_answers_get_only(desk, noura):
    assert desk.post(URL, {"q": "noura"}).status_code == 405


def test_lookup_never_answers_another_organisations_child(desk, noura):
    PatientFactory(tenant=TenantFactory(code="OTHER"), first_name_en="Noura", mrn="AG-0012")

    assert [row["id"] for row in results(desk, "noura")] == [noura.pk]
    assert [row["id"] for row in results(desk, "ag-0012")] == [noura.pk]


@pytest.mark.parametrize("query", ["", " ", "n", "ـنـ", "%", "ً", "x" * 101])
def test_lookup_answers_nothing_below_two_characters_or_for_junk(desk, noura, query):
    assert results(desk, query) == []


def test_lookup_answers_from_two_characters(desk, noura):
    assert [row["id"] for row in results(desk, "no")] == [noura.pk]


def test_lookup_answers_at_most_twenty_children_by_name(desk, tenant):
    children = [
        PatientFactory(tenant=tenant, first_name_en="Sara", last_name_en=f"Harbi {number:02d}")
        for number in range(25)
    ]

    assert [row["id"] for row in results(desk, "sara harbi")] == [child.pk for child in children[:20]]


def test_lookup_writes_one_access_log_row_per_search_with_its_query(desk, desk_user, tenant, noura):
    desk.get(URL, {"q": "نوره"})
    desk.get(URL, {"q": "n"})

    assert list(
        AccessLog.objects.order_by("pk").values_list(
            "user", "tenant", "action", "object_type", "object_id", "patient"
        )
    ) == [
        (desk_user.pk, tenant.pk, "view", "patient_lookup", "q=%D9%86%D9%88%D8%B1%D9%87", None),
        (desk_user.pk, tenant.pk, "view", "patient_lookup", "q=n", None),
    ]


def test_lookup_logs_a_refusal_as_denied(client, tenant, noura):
    finance = staff_member(tenant, Role.FINANCE)
    client.force_login(finance)

    client.get(URL, {"q": "noura"})

    assert list(AccessLog.objects.values_list("user", "action", "object_type", "patient")) == [
        (finance.pk, "denied", "patient_lookup", None)
    ]


def test_lookup_answer_is_never_stored_by_a_browser_or_proxy(desk, noura):
    response = desk.get(URL, {"q": "noura"})

    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("children", [2, 15])
def test_lookup_query_count_does_not_grow(desk, tenant, children, django_assert_num_queries):
    PatientFactory.create_batch(children, tenant=tenant, first_name_en="Noura")

    # session + user, the search, the children's primary guardians, the access-log row
    with django_assert_num_queries(5):
        found = results(desk, "noura")

    assert len(found) == children
