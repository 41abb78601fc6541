"""The Arabic catalogue: complete, placeholder-safe, and used by pages and service errors.

The pages are rendered with a catalogue compiled from the committed ``.po`` into a
temporary folder the way the build does it (polib, scripts/compile_translations.py),
so these tests check the file in the repository whether or not ``make messages`` has
been run.
"""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import translation

from appointments.exceptions import CapacityError
from appointments.session_service import SessionService
from core.models import User
from core.tests.view_helpers import booked, consented_patient, group_session, staff_member, superuser

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

ARABIC_PO = Path(django_settings.BASE_DIR) / "locale" / "ar" / "LC_MESSAGES" / "django.po"
ARABIC_PLURAL_FORMS = (
    "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : "
    "n%100>=11 && n%100<=99 ? 4 : 5;"
)
# A printf-style conversion as Python's % operator reads it: %s, %d, %(name)s, %(seconds).1f, %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def translations(entry: polib.POEntry) -> list[str]:
    """The msgstr of a singular entry, or every plural form of a plural one."""
    return [entry.msgstr_plural[form] for form in sorted(entry.msgstr_plural)] or [entry.msgstr]


@pytest.fixture(scope="module")
def catalogue() -> polib.POFile:
    return polib.pofile(str(ARABIC_PO))


@pytest.fixture(scope="module")
def compiled_locale(tmp_path_factory, catalogue) -> Path:
    locale = tmp_path_factory.mktemp("locale")
    folder = locale / "ar" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalogue.save_as_mofile(str(folder / "django.mo"))
    return locale


@pytest.fixture
def arabic_catalogue(settings, compiled_locale):
    """Django reads the committed Arabic catalogue (changing LOCALE_PATHS clears its caches)."""
    settings.LOCALE_PATHS = [compiled_locale]


# The catalogue file


def test_arabic_catalogue_header_names_arabic_and_its_six_plural_forms(catalogue):
    assert catalogue.metadata["Language"] == "ar"
    assert catalogue.metadata["Content-Type"] == "text/plain; charset=UTF-8"
    assert catalogue.metadata["Plural-Forms"] == ARABIC_PLURAL_FORMS


def test_arabic_catalogue_has_no_untranslated_entries(catalogue):
    untranslated = [
        entry.msgid for entry in catalogue if any(not text.strip() for text in translations(entry))
    ]

    assert untranslated == []
    assert len(catalogue) > 500


def test_arabic_catalogue_has_no_fuzzy_or_obsolete_entries(catalogue):
    assert not catalogue.metadata_is_fuzzy
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []
    assert [entry.msgid for entry in catalogue.obsolete_entries()] == []


def test_arabic_catalogue_fills_all_six_plural_forms(catalogue):
    plurals = [entry for entry in catalogue if entry.msgid_plural]

    assert plurals
    assert {entry.msgid: sorted(entry.msgstr_plural) for entry in plurals} == {
        entry.msgid: [0, 1, 2, 3, 4, 5] for entry in plurals
    }


def test_arabic_catalogue_keeps_every_placeholder(catalogue):
    broken = [
        (entry.msgid, text)
        for entry in catalogue
        if "python-format" in entry.flags
        for text in translations(entry)
        if placeholders(text) != placeholders(entry.msgid) | placeholders(entry.msgid_plural)
    ]

    assert broken == []


def test_arabic_catalogue_keeps_html_tags_and_brace_fields(catalogue):
    markup = re.compile(r"<[^>]*>|\{[^}]*\}")
    broken = [
        (entry.msgid, text)
        for entry in catalogue
        for text in translations(entry)
        if set(markup.findall(entry.msgid + entry.msgid_plural)) != set(markup.findall(text))
    ]

    assert broken == []


def test_arabic_catalogue_is_arabic_text(catalogue):
    # Only codes and placeholders may stay in Latin letters; every entry with words has Arabic.
    arabic = re.compile(r"[\u0600-\u06ff]")
    words = re.compile(r"[A-Za-z]{3,}")
    latin_only = [
        entry.msgid
        for entry in catalogue
        for text in translations(entry)
        if not arabic.search(text) and words.search(PLACEHOLDER.sub("", entry.msgid))
    ]

    assert latin_only == []


# Translations in use


def test_arabic_plural_forms_follow_the_count(arabic_catalogue):
    with translation.override("ar"):
        rendered = {
            count: translation.ngettext("%(count)d session started.", "%(count)d sessions started.", count)
            % {"count": count}
            for count in (0, 1, 2, 3, 11, 100)
        }

    assert rendered == {
        0: "بدأت 0 جلسات.",
        1: "بدأت 1 جلسة.",
        2: "بدأت 2 جلستان.",
        3: "بدأت 3 جلسات.",
        11: "بدأت 11 جلسة.",
        100: "بدأت 100 جلسة.",
    }


def test_session_service_capacity_error_is_arabic_when_arabic_is_active(arabic_catalogue, provider, clinic):
    session = group_session(provider, clinic, capacity=8)
    for _seat in range(8):
        booked(session)
    latecomer = consented_patient(clinic.tenant)

    with translation.override("ar"), pytest.raises(CapacityError) as refused:
        SessionService.add_patient_to_session(session, latecomer)

    assert refused.value.messages == ["الجلسة ممتلئة (8 من 8)."]


def test_session_service_capacity_error_stays_english_by_default(arabic_catalogue, provider, clinic):
    session = group_session(provider, clinic, capacity=2)
    booked(session)
    booked(session)

    with pytest.raises(CapacityError, match=r"^\['Session is full \(2 of 2\)\.'\]$"):
        SessionService.add_patient_to_session(session, consented_patient(clinic.tenant))


def test_login_page_is_arabic_for_an_arabic_browser(arabic_catalogue, client):
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ar").content.decode()

    assert '<html lang="ar" dir="rtl">' in html
    assert "تسجيل الدخول" in html
    assert "Log in" not in html


def test_login_page_is_arabic_with_the_language_cookie(arabic_catalogue, client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "ar"

    html = client.get(reverse("login")).content.decode()

    assert '<html lang="ar" dir="rtl">' in html
    assert "تسجيل الدخول" in html


def test_session_list_is_arabic_after_choosing_arabic(arabic_catalogue, client, tenant, clinic, provider):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    group_session(provider, clinic, capacity=8)

    switched = client.post(
        reverse("set_language"), {"language": "ar", "next": reverse("appointments:session_list")}
    )
    html = client.get(reverse("appointments:session_list")).content.decode()

    assert switched.status_code == 302
    assert '<html lang="ar" dir="rtl">' in html
    assert '<h1 class="h3 mb-0">الجلسات</h1>' in html
    assert "جلسة جماعية جديدة" in html
    assert '<th scope="col">الأطفال</th>' in html
    assert "مجدول" in html
    assert "New group session" not in html


def test_full_session_refusal_is_shown_in_arabic_on_the_add_patient_page(
    arabic_catalogue, client, tenant, clinic, provider
):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    session = group_session(provider, clinic, capacity=2)
    booked(session)
    booked(session)
    latecomer = consented_patient(tenant)

    response = client.post(
        reverse("appointments:session_add_patient", args=[session.pk]),
        {"patient": latecomer.pk},
        HTTP_ACCEPT_LANGUAGE="ar",
    )

    assert response.status_code == 200
    assert "الجلسة ممتلئة (2 من 2)." in response.content.decode()
    assert "Session is full" not in response.content.decode()


def test_tenant_pick_page_is_arabic_for_an_arabic_superuser(arabic_catalogue, client, tenant):
    client.force_login(superuser())
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "ar"

    sent = client.get(reverse("home"))
    html = client.get(sent.url).content.decode()
    picked = client.post(reverse("core:tenant_pick"), {"tenant": tenant.pk}, follow=True)

    assert '<html lang="ar" dir="rtl">' in html
    assert "اختر المنشأة" in html
    assert "العمل في هذه المنشأة" in html
    assert "مركز أجدر" in html
    assert "Choose an organisation" not in html
    assert "أنت تعمل الآن في <bdi>مركز أجدر</bdi>." in picked.content.decode()
