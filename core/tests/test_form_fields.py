"""CalendarDateField and LocalPathField: odd input becomes a form error, never a crash further on."""

import datetime

import pytest
from django import forms
from django.utils.formats import date_format

from core.form_fields import EARLIEST_DATE, LATEST_DATE, CalendarDateField, LocalPathField


def range_error() -> str:
    return (
        f"Enter a date between {date_format(EARLIEST_DATE, 'SHORT_DATE_FORMAT')} "
        f"and {date_format(LATEST_DATE, 'SHORT_DATE_FORMAT')}."
    )


@pytest.mark.parametrize("value", ["1900-01-01", "2026-03-15", "2100-12-31"])
def test_calendar_date_field_accepts_days_in_range(value):
    assert CalendarDateField().clean(value) == datetime.date.fromisoformat(value)


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"])
def test_calendar_date_field_refuses_days_out_of_range(value):
    with pytest.raises(forms.ValidationError) as refused:
        CalendarDateField().clean(value)

    assert refused.value.messages == [range_error()]


@pytest.mark.parametrize("value", ["0000-01-01", "10000-01-01", "2026-02-30", "\x00"])
def test_calendar_date_field_refuses_what_is_no_date(value):
    with pytest.raises(forms.ValidationError) as refused:
        CalendarDateField().clean(value)

    assert refused.value.messages in (["Enter a valid date."], ["Null characters are not allowed."])


def local_path(value: str) -> str:
    return LocalPathField(allowed_hosts={"testserver"}).clean(value)


@pytest.mark.parametrize(
    "value", ["", "/", "/appointments/sessions/12/", "/appointments/schedule/rooms/?day=2026-03-15&x=%0A"]
)
def test_local_path_field_accepts_paths_of_this_site(value):
    assert local_path(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "https://evil.example",
        "http://testserver/appointments/",
        "//evil",
        "///evil",
        "/\\evil",
        "\\\\evil",
        "javascript:alert(1)",
        "abc\u202edef",
        "appointments/sessions/",
        "/\u202e",
        "/a b",
        "/\r\nLocation: //evil",
        "/" + "x" * 2000,
    ],
)
def test_local_path_field_refuses_other_sites_and_junk(value):
    with pytest.raises(forms.ValidationError):
        local_path(value)
