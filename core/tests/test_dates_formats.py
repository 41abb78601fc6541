"""Dates read one way in both languages: day first, the 24-hour clock, Latin digits, Sunday first;
time ranges and inserted names isolated from the sentence around them; and the Umm al-Qura Hijri
date beside the Gregorian one where the organisation asks for it (``Tenant.show_hijri_dates``)."""

import datetime

import pytest
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, get_format, number_format, time_format

from appointments.models import SessionParticipant
from core.bidi import with_isolates
from core.hijri import hijri_text, to_hijri
from core.models import User
from core.tests.factories import ConsentFactory, PatientFactory, UserFactory
from core.tests.view_helpers import (
    booked,
    consented_patient,
    group_session,
    legacy_appointment,
    superuser,
    work_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

SUNDAY = datetime.date(2026, 3, 15)  # frozen_today: 26 Ramadan 1447
HIJRI_OF_SUNDAY = {"en": "(26 Ramadan 1447 AH)", "ar": "(26 رمضان 1447 هـ)"}
HIJRI_TITLE = {"en": "Hijri date (Umm al-Qura)", "ar": "التاريخ الهجري (أم القرى)"}


def in_language(client, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def signed_in(client, tenant, role=User.Role.FRONT_DESK, language: str = "en"):
    client.force_login(UserFactory(tenant=tenant, role=role))
    return in_language(client, language)


def hijri_markup(language: str, iso: str, text: str) -> str:
    return f'<bdi class="hijri-date" title="{HIJRI_TITLE[language]}" data-hijri-date="{iso}">{text}</bdi>'


def midday(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def hijri_tenant(tenant):
    tenant.show_hijri_dates = True
    tenant.save(update_fields=["show_hijri_dates"])
    return tenant


# Formats


@pytest.mark.parametrize(("language", "long_date"), [("en", "31 October 2026"), ("ar", "31 أكتوبر 2026")])
def test_formats_day_first_24_hour_latin_digits_sunday_first_in_both_languages(language, long_date):
    moment = datetime.datetime(2026, 10, 31, 14, 5)  # noqa: DTZ001 (formatting only)

    with translation.override(language):
        assert date_format(moment, "SHORT_DATE_FORMAT") == "31/10/2026"
        assert date_format(moment, "SHORT_DATETIME_FORMAT") == "31/10/2026 14:05"
        assert date_format(moment, "DATE_FORMAT") == long_date
        assert date_format(moment, "DATETIME_FORMAT") == f"{long_date} 14:05"
        assert time_format(moment.time(), "TIME_FORMAT") == "14:05"
        assert get_format("FIRST_DAY_OF_WEEK") == 0
        assert number_format(1234.5, decimal_pos=1, force_grouping=True) == "1,234.5"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_typed_date_is_read_day_first_or_iso_and_never_month_first(language):
    field = forms.DateField()

    with translation.override(language):
        assert field.clean("31/10/2026") == datetime.date(2026, 10, 31)
        assert field.clean("03/04/2026") == datetime.date(2026, 4, 3)
        assert field.clean("2026-10-31") == datetime.date(2026, 10, 31)
        with pytest.raises(forms.ValidationError):
            field.clean("10/31/2026")


@pytest.mark.parametrize(
    ("language", "expiry", "refusal"),
    [
        ("en", "expires 31/10/2025", "The consent of Sara Ali expired on 31/10/2025."),
        ("ar", "تنتهي في 31/10/2025", "انتهت صلاحية موافقة سارة العلي بتاريخ 31/10/2025."),
    ],
)
def test_consent_expiry_reads_day_first_on_the_chart_and_in_the_check_in_refusal(
    client, tenant, clinic, provider, language, expiry, refusal
):
    clinic.requires_finance_clearance = False
    clinic.save(update_fields=["requires_finance_clearance"])
    sara = PatientFactory(
        tenant=tenant, first_name_en="Sara", last_name_en="Ali", first_name_ar="سارة", last_name_ar="العلي"
    )
    ConsentFactory(patient=sara, expires_at=midday(datetime.date(2025, 10, 31)))
    participant = booked(group_session(provider, clinic), sara)
    signed_in(client, tenant, language=language)

    chart = client.get(reverse("core:patient_chart", args=[sara.pk])).content.decode()
    refused = client.post(reverse("appointments:participant_check_in", args=[participant.pk]), follow=True)

    assert expiry in chart
    assert refusal in refused.content.decode()
    assert "10/31/2025" not in chart + refused.content.decode()


# Time ranges and isolated names


@pytest.mark.parametrize("language", ["en", "ar"])
def test_time_ranges_are_left_to_right_isolates_on_the_session_page_and_list(
    client, tenant, clinic, provider, language
):
    session = group_session(provider, clinic, hour=10)
    signed_in(client, tenant, language=language)
    time_range = '<bdi dir="ltr" class="time-range">10:00–11:00</bdi>'

    detail = client.get(session.get_absolute_url()).content.decode()
    listed = client.get(reverse("appointments:session_list")).content.decode()

    assert time_range in detail
    assert time_range in listed


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "<bdi>Sara Ali</bdi> was added with appointment number <bdi>{number}</bdi>."),
        ("ar", "تمت إضافة <bdi>سارة العلي</bdi> برقم الموعد <bdi>{number}</bdi>."),
    ],
)
def test_a_name_and_number_in_a_flash_message_are_isolated_and_shown_as_markup(
    client, tenant, clinic, provider, language, message
):
    session = group_session(provider, clinic)
    sara = consented_patient(
        tenant, first_name_en="Sara", last_name_en="Ali", first_name_ar="سارة", last_name_ar="العلي"
    )
    signed_in(client, tenant, language=language)

    page = client.post(
        reverse("appointments:session_add_patient", args=[session.pk]), {"patient": sara.pk}, follow=True
    )

    number = SessionParticipant.objects.get().appointment_number
    assert message.format(number=number) in page.content.decode()


def test_with_isolates_escapes_the_message_and_each_value_and_keeps_numbers_formattable():
    html = with_isolates("%(patient)s & co: %(count)d seats", {"patient": "<b>Sara</b>", "count": 3})

    assert html == "<bdi>&lt;b&gt;Sara&lt;/b&gt;</bdi> &amp; co: 3 seats"


def test_the_consent_signer_is_isolated_inside_the_sentence_on_the_chart(client, tenant):
    patient = PatientFactory(tenant=tenant)
    ConsentFactory(patient=patient, signed_by="Huda Ali")
    signed_in(client, tenant, language="ar")

    chart = client.get(reverse("core:patient_chart", args=[patient.pk])).content.decode()

    assert "وقّعها <bdi>Huda Ali</bdi> بتاريخ 05/01/2020" in chart


# Hijri dates


@pytest.mark.parametrize(
    ("gregorian", "hijri"),
    [
        (datetime.date(2025, 6, 26), (1447, 1, 1)),  # 1 Muharram 1447
        (datetime.date(2026, 2, 18), (1447, 9, 1)),  # 1 Ramadan 1447
        (datetime.date(2026, 3, 20), (1447, 10, 1)),  # 1 Shawwal 1447
    ],
)
def test_to_hijri_matches_published_umm_al_qura_dates(gregorian, hijri):
    assert to_hijri(gregorian).datetuple() == hijri


@pytest.mark.parametrize(
    ("day", "hijri"),
    [
        (datetime.date(1, 1, 1), None),
        (datetime.date(1924, 7, 31), None),
        (datetime.date(1924, 8, 1), (1343, 1, 1)),
        (datetime.date(2077, 11, 16), (1500, 12, 30)),
        (datetime.date(2077, 11, 17), None),
        (datetime.date(9999, 12, 31), None),
    ],
)
def test_to_hijri_leaves_out_dates_outside_the_table_at_both_ends(day, hijri):
    converted = to_hijri(day)

    assert (converted.datetuple() if converted else None) == hijri


def test_hijri_text_names_the_month_in_arabic_or_transliterated_with_latin_digits():
    ramadan = to_hijri(datetime.date(2026, 2, 18))

    assert hijri_text(ramadan, "en") == "1 Ramadan 1447 AH"
    assert hijri_text(ramadan, "ar") == "1 رمضان 1447 هـ"


def hijri_pages(tenant, clinic, provider) -> dict[str, str]:
    """Each staff page that shows a date of Sunday 15/03/2026, by name."""
    session = group_session(provider, clinic, hour=10)
    patient = consented_patient(tenant)
    booked(session, patient)
    appointment = legacy_appointment(provider, clinic, patient)
    return {
        "home": reverse("home"),
        "day view": f"{reverse('appointments:schedule_by_provider')}?day={SUNDAY.isoformat()}",
        "session list": reverse("appointments:session_list"),
        "session page": session.get_absolute_url(),
        "appointment page": appointment.get_absolute_url(),
        "chart": reverse("core:patient_chart", args=[patient.pk]),
    }


@pytest.mark.parametrize("language", ["en", "ar"])
def test_staff_pages_show_the_hijri_date_beside_the_gregorian_one_when_the_tenant_asks(
    client, hijri_tenant, clinic, provider, language
):
    pages = hijri_pages(hijri_tenant, clinic, provider)
    signed_in(client, hijri_tenant, language=language)
    sunday = hijri_markup(language, "1447-09-26", HIJRI_OF_SUNDAY[language])

    html = {name: client.get(url).content.decode() for name, url in pages.items()}

    assert {name: sunday in page for name, page in html.items()} == dict.fromkeys(pages, True)
    long_sunday = {"en": "Sunday 15 March 2026", "ar": "الأحد 15 مارس 2026"}[language]
    assert f"{long_sunday} {sunday}" in html["home"]


def test_no_hijri_date_when_the_tenant_has_not_asked(client, tenant, clinic, provider):
    pages = hijri_pages(tenant, clinic, provider)
    signed_in(client, tenant)

    shown = {name: "hijri-date" in client.get(url).content.decode() for name, url in pages.items()}

    assert shown == dict.fromkeys(pages, False)


def test_no_hijri_date_for_a_superuser_of_no_organisation(client, hijri_tenant, clinic, provider):
    pages = hijri_pages(hijri_tenant, clinic, provider)
    client.force_login(superuser())
    work_in(client, hijri_tenant)

    shown = {name: "hijri-date" in client.get(url).content.decode() for name, url in pages.items()}

    assert shown == dict.fromkeys(pages, False)


def test_chart_leaves_out_a_hijri_date_outside_the_table_and_shows_the_others(client, hijri_tenant):
    patient = PatientFactory(tenant=hijri_tenant, date_of_birth=datetime.date(1920, 1, 1))
    ConsentFactory(patient=patient, expires_at=midday(datetime.date(2026, 2, 18)))
    signed_in(client, hijri_tenant)

    response = client.get(reverse("core:patient_chart", args=[patient.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "1 January 1920" in html
    assert html.count('class="hijri-date"') == 1
    assert f"expires 18/02/2026 {hijri_markup('en', '1447-09-01', '(1 Ramadan 1447 AH)')}" in html


@pytest.mark.parametrize("sessions", [3, 12])
def test_session_list_with_hijri_dates_query_count_does_not_grow(
    client, hijri_tenant, clinic, provider, sessions, django_assert_num_queries
):
    for hour in range(sessions):
        booked(group_session(provider, clinic, day=SUNDAY + datetime.timedelta(days=hour % 3), hour=7 + hour))
    signed_in(client, hijri_tenant)

    # session + user, clinic and provider choices, page rows, the user's organisation (once,
    # whatever the number of dates), the access-log row
    with django_assert_num_queries(8):
        response = client.get(reverse("appointments:session_list"))

    assert response.content.decode().count('class="hijri-date"') == sessions


@pytest.mark.parametrize("visits", [2, 8])
def test_chart_with_hijri_dates_query_count_does_not_grow(
    client, hijri_tenant, clinic, provider, visits, django_assert_num_queries
):
    patient = consented_patient(hijri_tenant)
    for day in range(visits):
        booked(group_session(provider, clinic, day=SUNDAY + datetime.timedelta(days=day)), patient)
    signed_in(client, hijri_tenant)

    # session + user, patient, per timeline (upcoming, past) a count, the page of keys of the
    # one with visits (an empty one's is not asked for), the page's session places (no
    # appointments: none asked for), consents, guardians, the user's organisation, the progress
    # section's sessions and legacy appointments, the access-log row
    with django_assert_num_queries(13):
        response = client.get(reverse("core:patient_chart", args=[patient.pk]))

    assert response.content.decode().count('class="hijri-date"') == visits + 1  # and the birthday
