"""A report as text and as files: its cells as the page shows them, and its CSV and XLSX exports.

Both files hold what the page holds, for the same filters: every table, its columns in order,
its rows (a row's link to its page is left out).

- CSV: one file, UTF-8 with a byte order mark (so Excel reads Arabic), comma separated. It is
  what a double click opens in Excel, so every table goes in the one file, one section each:
  the report's title, period and notes first, then per table a line with its title, the header
  row, the rows and a blank line. Values are written as the page shows them (60.0%, 30/11/2026),
  blank where the page shows "-".
- XLSX: one sheet per table named after it, header row bold and frozen, columns as wide as their
  text; numbers stay numbers, percents are fractions shown with a % format, dates real dates
  shown dd/mm/yyyy. Sheets run right to left when the active language is Arabic.

Formula injection (OWASP "CSV injection"): a text cell starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is prefixed with ``'``, in both files, and stored in XLSX as a
string. Numbers are never text, so a negative number stays a number.
"""

import csv
import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from appointments.reports.base import ONE_DECIMAL, Column, Kind, Report, ReportFilters, Table

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_FORMATS = {
    Kind.PERCENT: "0.0%",
    Kind.HOURS: "0.0",
    Kind.DATE: "dd/mm/yyyy",
    Kind.DATETIME: "dd/mm/yyyy hh:mm",
}
SHEET_TITLE_LENGTH = 31  # Excel's limit
SHEET_TITLE_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))
MIN_WIDTH, MAX_WIDTH = 8, 60


def escape_formula(text: str) -> str:
    """``text`` made inert for a spreadsheet: a leading ``'`` when it could start a formula."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def local_datetime(moment: datetime.datetime) -> datetime.datetime:
    """An aware datetime in the installation's zone (``TIME_ZONE``)."""
    return timezone.localtime(moment, timezone.get_default_timezone())


def one_decimal(value: object) -> Decimal:
    """A figure with one decimal, rounded half up as the reports' rates are (``base.rate``)."""
    return Decimal(str(value)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def cell_text(value: object, kind: Kind, empty: str = "") -> str:
    """A cell as the page shows it: percents "60.0%", hours one decimal, dates day first."""
    if value is None:
        return empty
    if kind == Kind.PERCENT:
        return f"{one_decimal(value)}%"
    if kind == Kind.HOURS:
        return str(one_decimal(value))
    if kind == Kind.DATETIME and isinstance(value, datetime.datetime):
        return date_format(local_datetime(value), "SHORT_DATETIME_FORMAT")
    if kind == Kind.DATE and isinstance(value, datetime.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def period_text(filters: ReportFilters) -> str:
    return _("From %(start)s to %(end)s") % {
        "start": date_format(filters.date_from, "SHORT_DATE_FORMAT"),
        "end": date_format(filters.date_to, "SHORT_DATE_FORMAT"),
    }


def csv_cell(value: object, column: Column) -> str:
    text = cell_text(value, column.kind)
    return escape_formula(text) if column.kind == Kind.TEXT else text


def csv_content(report: Report, filters: ReportFilters) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([escape_formula(str(report.title))])
    writer.writerow([escape_formula(period_text(filters))])
    for note in report.notes:
        writer.writerow([escape_formula(str(note))])
    writer.writerow([])
    for table in report.tables:
        writer.writerow([escape_formula(str(table.title))])
        writer.writerow([escape_formula(str(column.label)) for column in table.columns])
        for row in table.rows:
            writer.writerow([csv_cell(row.get(column.key), column) for column in table.columns])
        if not table.rows and table.empty_message:
            writer.writerow([escape_formula(str(table.empty_message))])
        writer.writerow([])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_value(value: object, kind: Kind) -> object:
    """A cell's value as a spreadsheet keeps it: a number, a date, or inert text."""
    if value is None:
        return None
    if kind == Kind.PERCENT:
        return Decimal(str(value)) / 100
    if kind in (Kind.NUMBER, Kind.HOURS) and isinstance(value, int | float | Decimal):
        return value
    if kind == Kind.DATETIME and isinstance(value, datetime.datetime):
        # Excel has no time zones: the installation's wall-clock time.
        return local_datetime(value).replace(tzinfo=None)
    if kind == Kind.DATE and isinstance(value, datetime.date):
        return value
    return xlsx_text(str(value))


def xlsx_text(text: str) -> str:
    """Inert text without the control characters a workbook can't hold (a tab or newline it can)."""
    return escape_formula(ILLEGAL_CHARACTERS_RE.sub("", text))


def sheet_title(title: str, taken: set[str]) -> str:
    """``title`` as Excel allows a sheet's name: 31 characters, none of []:*?/\\, unique."""
    base = " ".join(title.translate(SHEET_TITLE_FORBIDDEN).split())[:SHEET_TITLE_LENGTH] or _("Sheet")
    name, number = base, 2
    while name.casefold() in taken:
        suffix = f" ({number})"
        name, number = base[: SHEET_TITLE_LENGTH - len(suffix)] + suffix, number + 1
    taken.add(name.casefold())
    return name


def write_sheet(sheet: Worksheet, table: Table) -> None:
    bold = Font(bold=True)
    widths = [len(str(column.label)) for column in table.columns]
    for index, column in enumerate(table.columns, start=1):
        header = sheet.cell(row=1, column=index, value=xlsx_text(str(column.label)))
        header.font = bold
    for row_number, row in enumerate(table.rows, start=2):
        for index, column in enumerate(table.columns, start=1):
            raw = row.get(column.key)
            cell = sheet.cell(row=row_number, column=index, value=xlsx_value(raw, column.kind))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
            elif column.kind in XLSX_FORMATS and cell.value is not None:
                cell.number_format = XLSX_FORMATS[column.kind]
            widths[index - 1] = max(widths[index - 1], len(cell_text(raw, column.kind)))
    if not table.rows and table.empty_message:
        sheet.cell(row=2, column=1, value=xlsx_text(str(table.empty_message))).data_type = "s"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, MIN_WIDTH), MAX_WIDTH)
    sheet.freeze_panes = "A2"


def xlsx_content(report: Report, filters: ReportFilters) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = xlsx_text(f"{report.title} - {period_text(filters)}")
    taken: set[str] = set()
    rtl = translation.get_language_bidi()
    for table in report.tables:
        sheet = workbook.create_sheet(sheet_title(str(table.title), taken))
        sheet.sheet_view.rightToLeft = rtl
        write_sheet(sheet, table)
    if not report.tables:  # a workbook needs a sheet
        workbook.create_sheet(sheet_title(str(report.title), taken)).sheet_view.rightToLeft = rtl
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class ExportFormat:
    content_type: str
    write: Callable[[Report, ReportFilters], bytes]


FORMATS = {
    "csv": ExportFormat("text/csv; charset=utf-8", csv_content),
    "xlsx": ExportFormat("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx_content),
}


def export_filename(report: Report, filters: ReportFilters, extension: str) -> str:
    """``attendance-2026-11-01-2026-11-30.csv``: the report and its period."""
    key = report.key.replace("_", "-")
    return f"{key}-{filters.date_from.isoformat()}-{filters.date_to.isoformat()}.{extension}"
