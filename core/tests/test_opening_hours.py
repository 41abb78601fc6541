"""Opening hours: a day's intervals (the week, split shifts, dated overrides), the message that
refuses a slot outside them, in English and Arabic, and their admin on the clinic's page."""

import datetime
from pathlib import Path

import polib
import pytest
from django.conf import settings as django_settings
from django.utils import translation

from core.models import Clinic, OpeningHours, OpeningHoursOverride
from core.opening_hours import HOURS_PREFETCH, hours_on, outside_hours_message
from core.tests.admin_helpers import admin_url, form_data, tenant_admin_staff
from core.tests.factories import ClinicFactory, TenantFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

SUNDAY = datetime.date(2026, 12, 6)
MONDAY = SUNDAY + datetime.timedelta(days=1)
FRIDAY = SUNDAY + datetime.timedelta(days=5)
ARABIC_PO = Path(django_settings.BASE_DIR) / "locale" / "ar" / "LC_MESSAGES" / "django.po"


def at(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


def open_on(clinic, weekday: int, *intervals) -> None:
    for opens, closes in intervals:
        OpeningHours.objects.create(clinic=clinic, weekday=weekday, opens_at=opens, closes_at=closes)


@pytest.fixture
def split_shift(clinic):
    """Sunday 08:00-12:00 and 16:00-20:00 (entered afternoon first), Monday 08:00-14:00."""
    open_on(clinic, OpeningHours.Weekday.SUNDAY, (at(16), at(20)), (at(8), at(12)))
    open_on(clinic, OpeningHours.Weekday.MONDAY, (at(8), at(14)))
    return clinic


@pytest.fixture
def arabic_catalogue(settings, tmp_path):
    """Django reads the committed Arabic catalogue (changing LOCALE_PATHS clears its caches)."""
    folder = tmp_path / "ar" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    polib.pofile(str(ARABIC_PO)).save_as_mofile(str(folder / "django.mo"))
    settings.LOCALE_PATHS = [tmp_path]


# The day's intervals ----------------------------------------------------------------------------


def test_hours_on_a_clinic_without_hours_is_none_and_refuses_nothing(clinic):
    assert hours_on(clinic, SUNDAY) is None
    assert outside_hours_message(clinic, SUNDAY, at(3), 60) is None
    assert outside_hours_message(clinic, SUNDAY, at(23, 30), 60) is None


def test_hours_on_gives_the_weekdays_intervals_in_time_order(split_shift):
    assert hours_on(split_shift, SUNDAY) == [(at(8), at(12)), (at(16), at(20))]
    assert hours_on(split_shift, MONDAY) == [(at(8), at(14))]


def test_hours_on_a_weekday_without_intervals_is_closed(split_shift):
    assert hours_on(split_shift, FRIDAY) == []


def test_hours_on_joins_intervals_that_touch_or_overlap(clinic):
    open_on(clinic, OpeningHours.Weekday.SUNDAY, (at(8), at(12)), (at(12), at(15)), (at(14), at(16)))

    assert hours_on(clinic, SUNDAY) == [(at(8), at(16))]
    assert outside_hours_message(clinic, SUNDAY, at(11, 30), 60) is None


def test_hours_on_an_override_replaces_the_weekday_on_its_date_only(split_shift):
    OpeningHoursOverride.objects.create(
        clinic=split_shift, date=SUNDAY, opens_at=at(20), closes_at=at(23), note="Ramadan hours"
    )

    assert hours_on(split_shift, SUNDAY) == [(at(20), at(23))]
    assert hours_on(split_shift, SUNDAY + datetime.timedelta(days=7)) == [(at(8), at(12)), (at(16), at(20))]


def test_hours_on_a_closed_override_closes_the_day(split_shift):
    OpeningHoursOverride.objects.create(clinic=split_shift, date=MONDAY, closed=True, note="National Day")

    assert hours_on(split_shift, MONDAY) == []


def test_hours_on_an_override_of_a_clinic_without_a_week_restricts_its_date_only(clinic):
    OpeningHoursOverride.objects.create(clinic=clinic, date=SUNDAY, closed=True)

    assert hours_on(clinic, SUNDAY) == []
    assert hours_on(clinic, MONDAY) is None


def test_hours_on_reads_at_most_two_queries_and_none_when_prefetched(
    split_shift, django_assert_max_num_queries, django_assert_num_queries
):
    OpeningHoursOverride.objects.create(clinic=split_shift, date=MONDAY, closed=True)

    with django_assert_max_num_queries(2):
        hours_on(split_shift, SUNDAY)
    clinics = list(Clinic.objects.filter(pk=split_shift.pk).prefetch_related(*HOURS_PREFETCH))
    with django_assert_num_queries(0):
        assert hours_on(clinics[0], SUNDAY) == [(at(8), at(12)), (at(16), at(20))]
        assert hours_on(clinics[0], MONDAY) == []


def test_hours_on_reads_only_its_own_clinics_hours(split_shift):
    other = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    open_on(other, OpeningHours.Weekday.FRIDAY, (at(9), at(10)))
    OpeningHoursOverride.objects.create(clinic=other, date=SUNDAY, closed=True)

    assert hours_on(split_shift, SUNDAY) == [(at(8), at(12)), (at(16), at(20))]
    assert hours_on(split_shift, FRIDAY) == []


# Whether a slot fits, and the message -------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes"),
    [(at(8), 60), (at(11), 60), (at(16), 240), (at(9, 15), 45)],
    ids=["at opening", "ending at closing", "the whole afternoon", "inside the morning"],
)
def test_outside_hours_message_none_for_a_slot_inside_one_interval(split_shift, start, minutes):
    assert outside_hours_message(split_shift, SUNDAY, start, minutes) is None


@pytest.mark.parametrize(
    ("start", "minutes", "slot"),
    [
        (at(11, 30), 60, "11:30-12:30"),
        (at(7, 30), 60, "07:30-08:30"),
        (at(11), 360, "11:00-17:00"),
        (at(13), 60, "13:00-14:00"),
        (at(19, 30), 60, "19:30-20:30"),
    ],
    ids=["straddling closing", "straddling opening", "across the break", "in the break", "past closing"],
)
def test_outside_hours_message_names_the_days_hours(split_shift, start, minutes, slot):
    message = outside_hours_message(split_shift, SUNDAY, start, minutes)

    assert message == (
        f"{split_shift.name_en} is open 08:00-12:00 and 16:00-20:00 on Sunday 06/12/2026: "
        f"{slot} is outside those hours."
    )


def test_outside_hours_message_a_slot_past_midnight_never_fits(clinic):
    open_on(clinic, OpeningHours.Weekday.SUNDAY, (at(8), at(23, 59)))

    assert outside_hours_message(clinic, SUNDAY, at(23, 30), 60) == (
        f"{clinic.name_en} is open 08:00-23:59 on Sunday 06/12/2026: 23:30-00:30 is outside those hours."
    )


def test_outside_hours_message_names_the_overrides_hours_and_note(split_shift):
    OpeningHoursOverride.objects.create(
        clinic=split_shift, date=SUNDAY, opens_at=at(20), closes_at=at(23), note="Ramadan hours"
    )

    assert outside_hours_message(split_shift, SUNDAY, at(20, 30), 60) is None
    assert outside_hours_message(split_shift, SUNDAY, at(10), 60) == (
        f"{split_shift.name_en} is open 20:00-23:00 on Sunday 06/12/2026 (Ramadan hours): "
        "10:00-11:00 is outside those hours."
    )


def test_outside_hours_message_on_a_closed_day(split_shift):
    OpeningHoursOverride.objects.create(clinic=split_shift, date=SUNDAY, closed=True, note="Ramadan")

    assert outside_hours_message(split_shift, SUNDAY, at(9), 60) == (
        f"{split_shift.name_en} is closed on Sunday 06/12/2026 (Ramadan)."
    )
    assert outside_hours_message(split_shift, FRIDAY, at(9), 60) == (
        f"{split_shift.name_en} is closed on Friday 11/12/2026."
    )


def test_outside_hours_message_in_arabic(arabic_catalogue, split_shift):
    OpeningHoursOverride.objects.create(clinic=split_shift, date=MONDAY, closed=True, note="رمضان")

    with translation.override("ar"):
        outside = outside_hours_message(split_shift, SUNDAY, at(11, 30), 60)
        closed = outside_hours_message(split_shift, MONDAY, at(9), 60)

    assert outside == (
        f"{split_shift.name_ar} مفتوحة 08:00-12:00 و 16:00-20:00 يوم الأحد 06/12/2026: "
        "الموعد 11:30-12:30 خارج هذه الساعات."
    )
    assert closed == f"{split_shift.name_ar} مغلقة يوم الاثنين 07/12/2026 (رمضان)."


# Admin: the clinic's page edits its hours -------------------------------------------------------


def test_clinic_admin_adds_split_shift_hours_and_an_override_inline(client, tenant, clinic):
    client.force_login(tenant_admin_staff(tenant))
    url = admin_url(Clinic, "change", clinic.pk)
    data = form_data(client.get(url))
    data.update(
        {
            "opening_hours-TOTAL_FORMS": "2",
            "opening_hours-0-weekday": "6",
            "opening_hours-0-opens_at": "08:00",
            "opening_hours-0-closes_at": "12:00",
            "opening_hours-1-weekday": "6",
            "opening_hours-1-opens_at": "16:00",
            "opening_hours-1-closes_at": "20:00",
            "opening_hours_overrides-TOTAL_FORMS": "1",
            "opening_hours_overrides-0-date": "2026-12-06",
            "opening_hours_overrides-0-opens_at": "20:00",
            "opening_hours_overrides-0-closes_at": "23:00",
            "opening_hours_overrides-0-note": "Ramadan hours",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302
    assert hours_on(clinic, SUNDAY) == [(at(20), at(23))]
    assert hours_on(clinic, SUNDAY + datetime.timedelta(days=7)) == [(at(8), at(12)), (at(16), at(20))]
    assert OpeningHours.history.filter(clinic_id=clinic.pk).count() == 2


def test_clinic_admin_refuses_a_closed_override_with_hours(client, tenant, clinic):
    client.force_login(tenant_admin_staff(tenant))
    url = admin_url(Clinic, "change", clinic.pk)
    data = form_data(client.get(url))
    data.update(
        {
            "opening_hours_overrides-TOTAL_FORMS": "1",
            "opening_hours_overrides-0-date": "2026-12-06",
            "opening_hours_overrides-0-closed": "on",
            "opening_hours_overrides-0-opens_at": "08:00",
            "opening_hours_overrides-0-closes_at": "12:00",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 200
    assert "Either close the clinic all day, or give an opening time before the closing time." in (
        response.content.decode()
    )
    assert not OpeningHoursOverride.objects.exists()


def test_opening_hours_admin_shows_tenant_staff_only_their_clinics_hours(client, tenant, split_shift):
    other = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    open_on(other, OpeningHours.Weekday.SUNDAY, (at(9), at(10)))
    OpeningHoursOverride.objects.create(clinic=other, date=SUNDAY, closed=True, note="Hidden")
    mine = OpeningHoursOverride.objects.create(clinic=split_shift, date=SUNDAY, closed=True)
    client.force_login(tenant_admin_staff(tenant))

    hours = client.get(admin_url(OpeningHours, "changelist")).context["cl"].result_list
    overrides = client.get(admin_url(OpeningHoursOverride, "changelist")).context["cl"].result_list
    clinic_page = client.get(admin_url(Clinic, "change", split_shift.pk))

    assert {row.clinic for row in hours} == {split_shift}
    assert list(overrides) == [mine]
    assert "Hidden" not in clinic_page.content.decode()
    assert client.get(admin_url(Clinic, "change", other.pk)).status_code == 302
