"""The reports' CSV and XLSX exports, read back: BOM, sections and sheets, Arabic text, escaped
formula cells, numbers kept numbers, percents and dates, right-to-left sheets in Arabic.

The report is ``test_reports_views.fixed_report`` (a cell of every kind, Arabic text, "=1+1"):
downloaded through the page, as a user gets it, and written directly for the details.
"""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from appointments.reports.base import Column, Kind, Report, ReportFilters, Table
from appointments.reports.exports import (
    cell_text,
    csv_content,
    escape_formula,
    export_filename,
    sheet_title,
    xlsx_content,
)
from appointments.tests.test_reports_views import built, fixed_report, signed_in  # noqa: F401  (a fixture)
from core.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
MARCH = ReportFilters(date_from=datetime.date(2026, 3, 1), date_to=datetime.date(2026, 3, 31))


def export(client, key: str, fmt: str, language: str = "en", **query):
    client.cookies["django_language"] = language
    return client.get(reverse("reports:export", kwargs={"key": key, "fmt": fmt}), query)


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8's byte order mark: Excel then reads Arabic
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


# Downloaded ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("built")
def test_report_export_csv_has_a_bom_one_section_per_table_and_escaped_formulas(client, tenant):
    signed_in(client, tenant, Role.ADMIN)

    response = export(client, "attendance", "csv", date_from="01/03/2026", date_to="31/03/2026")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="attendance-2026-03-01-2026-03-31.csv"'
    assert read_csv(response.content) == [
        ["Fixed attendance"],
        ["From 01/03/2026 to 31/03/2026"],
        ["Each appointment number counts once."],
        [],
        ["Children"],
        ["Child", "Attended", "Rate", "Hours", "Week"],
        ["سارة علي", "3", "60.0%", "12.5", "01/03/2026"],
        ["'=1+1", "-2", "", "0.3", ""],  # a formula escaped; a negative number stays a number
        [],
        ["Nobody"],
        ["Child"],
        ["No child here."],
        [],
    ]


@pytest.mark.usefixtures("built")
def test_report_export_csv_in_arabic_keeps_arabic_text_and_latin_digits(client, tenant):
    signed_in(client, tenant, Role.FRONT_DESK)

    response = export(
        client, "attendance", "csv", language="ar", date_from="01/03/2026", date_to="31/03/2026"
    )

    rows = read_csv(response.content)
    assert rows[1] == ["من 01/03/2026 إلى 31/03/2026"]
    assert rows[6] == ["سارة علي", "3", "60.0%", "12.5", "01/03/2026"]
    assert rows[7][0] == "'=1+1"


@pytest.mark.usefixtures("built")
def test_report_export_xlsx_one_sheet_per_table_with_numbers_percents_dates_and_escaped_formulas(
    client, tenant
):
    signed_in(client, tenant, Role.ADMIN)

    response = export(client, "notes_queue", "xlsx", date_from="01/03/2026", date_to="31/03/2026")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="notes-queue-2026-03-01-2026-03-31.xlsx"'
    workbook = read_xlsx(response.content)
    assert workbook.sheetnames == ["Children", "Nobody"]
    sheet = workbook["Children"]
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["Child", "Attended", "Rate", "Hours", "Week"],
        ["سارة علي", 3, 0.6, 12.5, datetime.datetime(2026, 3, 1)],
        ["'=1+1", -2, None, 0.25, None],
    ]
    assert [cell.font.b for cell in sheet[1]] == [True] * 5
    assert sheet["A3"].data_type == "s"  # text, never a formula
    assert sheet["B3"].data_type == "n"  # a negative number is a number
    assert (sheet["C2"].data_type, sheet["C2"].number_format) == ("n", "0.0%")
    assert (sheet["D2"].number_format, sheet["E2"].number_format) == ("0.0", "dd/mm/yyyy")
    assert sheet.freeze_panes == "A2"
    assert sheet.sheet_view.rightToLeft is not True
    assert [[cell.value for cell in row] for row in workbook["Nobody"].iter_rows()] == [
        ["Child"],
        ["No child here."],
    ]


@pytest.mark.usefixtures("built")
def test_report_export_xlsx_in_arabic_runs_right_to_left(client, tenant):
    signed_in(client, tenant, Role.ADMIN)

    workbook = read_xlsx(export(client, "attendance", "xlsx", language="ar").content)

    assert [workbook[name].sheet_view.rightToLeft for name in workbook.sheetnames] == [True, True]
    assert workbook["Children"]["A2"].value == "سارة علي"
    assert workbook["Children"]["A3"].value == "'=1+1"


@pytest.mark.usefixtures("built")
def test_report_export_of_the_default_period_names_the_current_month(client, tenant):
    signed_in(client, tenant, Role.ADMIN)

    response = export(client, "utilisation", "csv")

    assert response["Content-Disposition"] == 'attachment; filename="utilisation-2026-03-01-2026-03-31.csv"'


# Written directly --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ("+971 50 000 0000", "'+971 50 000 0000"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Sara =1", "Sara =1"),
        ("", ""),
    ],
)
def test_escape_formula_prefixes_text_that_could_start_a_formula(text, escaped):
    assert escape_formula(text) == escaped


TEXT_ONLY = Report(
    key="attendance",
    title='=HYPERLINK("http://evil")',
    description="",
    tables=(
        Table(
            "t",
            "Table",
            (
                Column("name", "@name"),
                Column("missed", "Missed", Kind.NUMBER),
                Column("at", "At", Kind.DATETIME),
            ),
            [
                {
                    "name": "-cmd|' /C calc'!A0",
                    "missed": -1,
                    "at": datetime.datetime(2026, 3, 1, 5, 30, tzinfo=datetime.UTC),
                },
                {"name": "bad\x00\x07text", "missed": 0, "at": None},
            ],
        ),
    ),
)


def test_csv_content_escapes_titles_labels_and_text_cells_only():
    rows = list(csv.reader(io.StringIO(csv_content(TEXT_ONLY, MARCH).decode("utf-8-sig"))))

    assert rows[0] == ['\'=HYPERLINK("http://evil")']
    assert rows[4:7] == [
        ["'@name", "Missed", "At"],
        ["'-cmd|' /C calc'!A0", "-1", "01/03/2026 08:30"],
        ["bad\x00\x07text", "0", ""],
    ]


def test_xlsx_content_stores_text_as_strings_and_drops_characters_a_workbook_cannot_hold():
    sheet = read_xlsx(xlsx_content(TEXT_ONLY, MARCH))["Table"]

    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["'@name", "Missed", "At"],
        ["'-cmd|' /C calc'!A0", -1, datetime.datetime(2026, 3, 1, 8, 30)],  # the installation's time
        ["badtext", 0, None],
    ]
    assert sheet["C2"].number_format == "dd/mm/yyyy hh:mm"
    assert [sheet[f"A{row}"].data_type for row in (1, 2, 3)] == ["s", "s", "s"]


def test_xlsx_content_names_sheets_as_excel_allows():
    taken: set[str] = set()

    names = [
        sheet_title(title, taken) for title in ("Weeks: rooms/hours?", "weeks  rooms hours", "x" * 40, "")
    ]

    assert names == ["Weeks rooms hours", "weeks rooms hours (2)", "x" * 31, "Sheet"]


def test_xlsx_content_in_english_and_arabic_of_the_fixed_report():
    with translation.override("ar"):
        arabic = read_xlsx(xlsx_content(fixed_report("attendance"), MARCH))
    english = read_xlsx(xlsx_content(fixed_report("attendance"), MARCH))

    assert arabic["Children"].sheet_view.rightToLeft is True
    assert english["Children"].sheet_view.rightToLeft is not True
    assert arabic["Children"]["A2"].value == "سارة علي"
    assert arabic["Children"]["C2"].value == 0.6


def test_cell_text_shows_each_kind_as_the_page_does():
    assert [
        cell_text(Decimal("60"), Kind.PERCENT),
        cell_text(Decimal("7.25"), Kind.HOURS),
        cell_text(datetime.date(2026, 11, 30), Kind.DATE),
        cell_text(None, Kind.PERCENT, empty="-"),
        cell_text(12, Kind.NUMBER),
    ] == ["60.0%", "7.3", "30/11/2026", "-", "12"]


def test_export_filename_names_the_report_and_its_period():
    report = fixed_report("notes_queue")
    november = ReportFilters(date_from=datetime.date(2026, 11, 1), date_to=datetime.date(2026, 11, 30))

    assert export_filename(report, november, "csv") == "notes-queue-2026-11-01-2026-11-30.csv"
