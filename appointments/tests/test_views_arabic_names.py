"""Arabic pages speak Arabic about the child: confirmations and refusals name patients,
providers, rooms and clinics in the active language; booking forms offer the organisation's
catalogue of service names; pages show a catalogue entry's Arabic name for its English text.

Messages are compared as text (``strip_tags``): the names inside them may be isolated for
bidi with markup, which is not what these tests are about.
"""

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import strip_tags

from appointments import booking_rules
from appointments.exceptions import OutOfScope
from appointments.models import Session
from appointments.session_service import SessionService
from core.models import Clinic, ServiceName, User
from core.service_names import service_name
from core.tests.factories import ClinicFactory, ProviderFactory, RoomFactory, TenantFactory, UserFactory
from core.tests.view_helpers import booked, consented_patient, group_session, messages_of, staff_member, today

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
Role = User.Role

SOCIAL_SKILLS_AR = "مجموعة المهارات الاجتماعية"


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, Role.FRONT_DESK))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    return client


@pytest.fixture
def sara(clinic):
    """A provider with an Arabic name."""
    user = UserFactory(tenant=clinic.tenant, role=Role.PSYCHOLOGIST, first_name="Sara", last_name="Haddad")
    return ProviderFactory(clinic=clinic, user=user, name_ar="د. سارة حداد")


@pytest.fixture
def play_room(clinic):
    return RoomFactory(clinic=clinic, name="Play Room", name_ar="غرفة اللعب")


@pytest.fixture
def noura(tenant):
    return consented_patient(
        tenant, first_name_en="Noura", last_name_en="Al-Harbi", first_name_ar="نورة", last_name_ar="الحربي"
    )


@pytest.fixture
def catalogue(tenant):
    """The organisation's catalogue, and another organisation's entry for the same text."""
    other = TenantFactory(code="OTHER", name_en="Other Centre")
    ServiceName.objects.create(tenant=other, name_en="Secret Service", name_ar="خدمة سرية")
    ServiceName.objects.create(tenant=other, name_en="Assessment", name_ar="فحص المنشأة الأخرى")
    return {
        "social": ServiceName.objects.create(
            tenant=tenant,
            specialty=Clinic.Specialty.PSYCHOLOGY,
            name_en="Social Skills Group",
            name_ar=SOCIAL_SKILLS_AR,
        ),
        "assessment": ServiceName.objects.create(tenant=tenant, name_en="Assessment", name_ar="تقييم"),
        "ot": ServiceName.objects.create(
            tenant=tenant, specialty=Clinic.Specialty.OT, name_en="Sensory Diet", name_ar="حمية حسية"
        ),
        "retired": ServiceName.objects.create(
            tenant=tenant, name_en="Old Programme", name_ar="برنامج قديم", is_active=False
        ),
    }


def texts(response) -> list[str]:
    return [strip_tags(message) for message in messages_of(response)]


def errors_of(response) -> list[str]:
    return [strip_tags(error) for error in response.context["form"].non_field_errors()]


def arabic_slot(day: datetime.date, start: str, end: str) -> str:
    with translation.override("ar"):
        return f"{date_format(day, 'SHORT_DATE_FORMAT')} {start}-{end}"


# Confirmations and refusals name people and rooms in the page's language


def test_adding_a_patient_on_an_arabic_page_names_the_child_in_arabic(desk, provider, clinic, noura):
    session = group_session(provider, clinic)

    response = desk.post(
        reverse("appointments:session_add_patient", args=[session.pk]), {"patient": noura.pk}, follow=True
    )

    number = session.participants.get().appointment_number
    assert texts(response) == [f"تمت إضافة نورة الحربي برقم الموعد {number}."]


def test_adding_a_patient_on_an_english_page_names_the_child_in_english(desk, provider, clinic, noura):
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    session = group_session(provider, clinic)

    response = desk.post(
        reverse("appointments:session_add_patient", args=[session.pk]), {"patient": noura.pk}, follow=True
    )

    number = session.participants.get().appointment_number
    assert texts(response) == [f"Noura Al-Harbi was added with appointment number {number}."]


def test_a_child_without_an_arabic_name_keeps_the_english_one_on_an_arabic_page(
    desk, provider, clinic, tenant
):
    session = group_session(provider, clinic)
    lina = consented_patient(
        tenant, first_name_en="Lina", last_name_en="Khalid", first_name_ar="", last_name_ar=""
    )

    response = desk.post(
        reverse("appointments:session_add_patient", args=[session.pk]), {"patient": lina.pk}, follow=True
    )

    number = session.participants.get().appointment_number
    assert texts(response) == [f"تمت إضافة Lina Khalid برقم الموعد {number}."]


def test_an_arabic_booking_refusal_names_the_busy_provider_in_arabic(desk, clinic, sara):
    tomorrow = today() + datetime.timedelta(days=1)
    group_session(sara, clinic, day=tomorrow, hour=14)

    response = desk.post(reverse("appointments:session_create"), slot_form(clinic, sara))

    assert response.status_code == 200
    assert errors_of(response) == [f"لدى د. سارة حداد حجز بالفعل {arabic_slot(tomorrow, '14:00', '15:00')}."]
    assert Session.objects.count() == 1


def test_an_arabic_booking_refusal_names_the_busy_room_in_arabic(desk, clinic, sara, play_room):
    tomorrow = today() + datetime.timedelta(days=1)
    group_session(ProviderFactory(clinic=clinic), clinic, day=tomorrow, hour=14, room=play_room)

    response = desk.post(reverse("appointments:session_create"), slot_form(clinic, sara, play_room))

    assert errors_of(response) == [
        f"الغرفة غرفة اللعب محجوزة بالفعل {arabic_slot(tomorrow, '14:00', '15:00')}."
    ]


def test_service_refusals_name_provider_room_and_clinic_in_the_active_language(clinic, sara, tenant):
    elsewhere = ClinicFactory(tenant=tenant, name_en="ABA Clinic", name_ar="عيادة تحليل السلوك")
    far_room = RoomFactory(clinic=elsewhere, name="Far Room", name_ar="الغرفة البعيدة")
    slot = {"scheduled_date": today(), "scheduled_time": datetime.time(9), "duration": 60, "max_capacity": 4}

    with translation.override("ar"):
        with pytest.raises(OutOfScope) as not_here:
            SessionService.create_group_session(provider=sara, clinic=elsewhere, service_type="X", **slot)
        with pytest.raises(OutOfScope) as wrong_room:
            SessionService.create_group_session(
                provider=sara, clinic=clinic, room=far_room, service_type="X", **slot
            )
    with pytest.raises(OutOfScope) as in_english:
        SessionService.create_group_session(
            provider=sara, clinic=clinic, room=far_room, service_type="X", **slot
        )

    assert not_here.value.messages == ["د. سارة حداد لا يعمل في عيادة تحليل السلوك."]
    assert wrong_room.value.messages == [f"الغرفة الغرفة البعيدة ليست في {clinic.name_ar}."]
    assert in_english.value.messages == [f"Room Far Room is not in {clinic.name_en}."]


def test_check_in_gate_refusal_names_the_child_in_arabic_with_the_finance_term(tenant, noura):
    clinic = ClinicFactory(tenant=tenant, requires_finance_clearance=True)

    with translation.override("ar"):
        _valid, refusals = booking_rules.gate_refusals(
            patient=noura, clinic=clinic, day=today(), finance_cleared=False
        )

    assert [refusal.message for refusal in refusals] == [
        "الاعتماد المالي غير موجود لـ نورة الحربي: اطلب من قسم المالية اعتماد الزيارة."
    ]


def slot_form(clinic, provider, room=None) -> dict:
    return {
        "clinic": clinic.pk,
        "provider": provider.pk,
        "room": room.pk if room else "",
        "scheduled_date": (today() + datetime.timedelta(days=1)).isoformat(),
        "scheduled_time": "14:00",
        "duration": 60,
        "service_type": "Social Skills Group",
        "max_capacity": 6,
    }


# The catalogue on the booking forms


BOOKING_FORMS = (
    "appointments:session_create",
    "appointments:session_book_individual",
    "appointments:appointment_book",
    "appointments:series_create",
    "appointments:session_available",
)


@pytest.mark.parametrize("name", BOOKING_FORMS)
def test_booking_forms_offer_the_organisations_active_service_names(desk, clinic, catalogue, name):
    html = desk.get(reverse(name)).content.decode()

    assert 'list="id_service_type-names"' in html
    specialties = f"{{&quot;{clinic.pk}&quot;: &quot;psychology&quot;}}"
    assert (
        f'<datalist id="id_service_type-names" data-clinic-specialties="{specialties}">'
        '<option value="Assessment" data-specialty="">تقييم</option>'
        '<option value="Social Skills Group" data-specialty="psychology">مجموعة المهارات الاجتماعية</option>'
        "</datalist>"
    ) in html
    assert "js/service_names.js" in html
    # another specialty's name, a retired one and another organisation's are not offered
    for absent in ("Sensory Diet", "Old Programme", "Secret Service", "فحص المنشأة الأخرى"):
        assert absent not in html


def test_booking_form_offers_another_specialtys_names_once_the_organisation_has_its_clinic(
    desk, tenant, clinic, catalogue
):
    ot_clinic = ClinicFactory(tenant=tenant, specialty=Clinic.Specialty.OT)

    html = desk.get(reverse("appointments:session_create")).content.decode()

    assert '<option value="Sensory Diet" data-specialty="ot">حمية حسية</option>' in html
    assert f"&quot;{ot_clinic.pk}&quot;: &quot;ot&quot;" in html


def test_booking_form_in_english_offers_the_english_names_unlabelled(desk, catalogue):
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = desk.get(reverse("appointments:session_create")).content.decode()

    assert '<option value="Assessment" data-specialty=""></option>' in html


def test_booking_form_without_a_catalogue_is_a_plain_text_box(desk):
    html = desk.get(reverse("appointments:session_create")).content.decode()

    assert 'name="service_type"' in html
    assert "<datalist" not in html


def test_booking_forms_stay_closed_to_a_role_that_cannot_book(client, tenant, catalogue):
    client.force_login(staff_member(tenant, Role.FINANCE))

    assert client.get(reverse("appointments:session_create")).status_code == 403


def test_a_booking_keeps_the_service_text_as_typed(desk, clinic, sara, catalogue):
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    desk.post(
        reverse("appointments:session_create"), {**slot_form(clinic, sara), "service_type": "Music Club"}
    )

    assert Session.objects.get().service_type == "Music Club"


# The catalogue's Arabic names on the pages


def test_service_name_matches_trimmed_text_in_any_case_on_arabic_pages_only(rf, tenant, catalogue):
    request = rf.get("/")
    request.user = staff_member(tenant, Role.FRONT_DESK)

    with translation.override("ar"):
        arabic = [
            service_name(request, text) for text in ("  social skills GROUP ", "Music Club", "Old Programme")
        ]
    with translation.override("en"):
        english = service_name(request, "Social Skills Group")

    assert arabic == [SOCIAL_SKILLS_AR, "Music Club", "برنامج قديم"]
    assert english == "Social Skills Group"


@pytest.mark.parametrize(
    "name",
    [
        "home",
        "appointments:session_list",
        "appointments:schedule_by_provider",
        "appointments:schedule_by_room",
    ],
)
def test_schedule_pages_show_the_catalogues_arabic_service_name(
    desk, provider, clinic, room, catalogue, name
):
    booked(group_session(provider, clinic, room=room, service_type="social skills group"))

    html = desk.get(reverse(name)).content.decode()

    assert SOCIAL_SKILLS_AR in html
    assert "social skills group" not in html


def test_session_page_shows_the_arabic_service_room_and_provider_names(
    desk, clinic, sara, play_room, catalogue
):
    session = group_session(sara, clinic, room=play_room)

    html = desk.get(session.get_absolute_url()).content.decode()

    assert f"<title>{SOCIAL_SKILLS_AR} ·" in html
    assert '<dd class="col-sm-8">غرفة اللعب</dd>' in html
    assert "د. سارة حداد" in html


def test_calendar_titles_name_provider_service_and_children_in_arabic(
    desk, clinic, sara, play_room, catalogue
):
    session = group_session(sara, clinic, room=play_room, capacity=4)
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
    week = {"start": today().isoformat(), "end": (today() + datetime.timedelta(days=7)).isoformat()}

    events = desk.get(reverse("appointments:calendar_events"), {**week, "room": play_room.pk}).json()[
        "events"
    ]

    assert [event["title"] for event in events] == [f"د. سارة حداد · {SOCIAL_SKILLS_AR} (1/4) · عمر حسن"]


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_session_list_in_arabic_reads_the_catalogue_once_whatever_the_rows(
    desk, provider, clinic, room, catalogue, django_assert_num_queries
):
    url = reverse("appointments:session_list")
    for hour in (7, 8):
        booked(group_session(provider, clinic, room=room, hour=hour))
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = queries_of(desk, url)
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    few = queries_of(desk, url)
    for hour in range(9, 16):
        booked(group_session(provider, clinic, room=room, hour=hour))

    with django_assert_num_queries(few):
        html = desk.get(url).content.decode()

    # the English page's queries, and the catalogue's Arabic names once
    assert few == english + 1
    assert html.count(f">{SOCIAL_SKILLS_AR}</a>") == 9
