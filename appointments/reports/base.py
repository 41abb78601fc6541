"""What every report takes and gives: its filters, its tables and its chart.

A report (``appointments.reports.registry``) is a function ``(user, filters) -> Report``.
It reads through the user's tenant scope (``core.tenancy.for_user``) with a fixed number of
set-based queries, whatever the number of rows. The pages, the CSV and XLSX exports and the
charts all render a ``Report``, so what is shown and what is exported can't disagree.

Weeks start on Sunday, as on the week calendar: ``week_start`` in Python and ``SundayWeek``
in SQL give the same day.
"""

import datetime
import enum
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django_stubs_ext import StrOrPromise

ONE_DECIMAL = Decimal("0.1")


def week_start(day: datetime.date) -> datetime.date:
    """The Sunday on or before ``day``."""
    return day - datetime.timedelta(days=(day.weekday() + 1) % 7)


class SundayWeek(models.Func):
    """The Sunday on or before a date column: ``date - EXTRACT(DOW FROM date)`` (DOW is 0 on Sunday)."""

    template = "(%(expressions)s - EXTRACT(DOW FROM %(expressions)s)::integer)"
    output_field = models.DateField()


def one_decimal(value: Decimal) -> Decimal:
    """``value`` rounded to one decimal, half up: how the reports show percentages and hours."""
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def rate(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent, one decimal (half up); None when ``whole`` is 0."""
    if not whole:
        return None
    return one_decimal(Decimal(part) * 100 / Decimal(whole))


@dataclass(frozen=True)
class ReportFilters:
    """The filters every report page takes (``appointments.reports.forms.ReportFilterForm``).

    ``date_from`` and ``date_to`` are inclusive session dates. The other filters narrow to one
    clinic, discipline (a ``Clinic.Specialty`` value), provider, series or service type when
    given. ``missed_at_least`` is the attendance report's threshold for its list of children.
    """

    date_from: datetime.date
    date_to: datetime.date
    clinic_id: int | None = None
    specialty: str = ""
    provider_id: int | None = None
    series_id: int | None = None
    service_type: str = ""
    missed_at_least: int = 3


class Kind(enum.StrEnum):
    """How a column's values are shown and exported."""

    TEXT = "text"
    NUMBER = "number"  # an int
    PERCENT = "percent"  # a Decimal from 0 to 100 with one decimal, or None ("-")
    HOURS = "hours"  # a Decimal of hours with one decimal
    DATE = "date"  # a datetime.date, shown day-first
    DATETIME = "datetime"  # an aware datetime, shown day-first in the installation's zone


@dataclass(frozen=True)
class Column:
    key: str
    label: StrOrPromise
    kind: Kind = Kind.TEXT


@dataclass(frozen=True)
class Table:
    """One table of a report: its rows are dicts keyed by the columns' keys.

    A row may also hold ``"url"``: the page the row is about (the notes queue's note), linked
    from the page's first column and left out of the exports.
    """

    key: str
    title: StrOrPromise
    columns: tuple[Column, ...]
    rows: list[dict[str, object]]
    empty_message: StrOrPromise = ""


@dataclass(frozen=True)
class Dataset:
    label: StrOrPromise
    values: list[float | None]


@dataclass(frozen=True)
class Chart:
    """What the page's Chart.js chart draws (``static/js/report_chart.js``), sent through ``json_script``.

    ``labels`` are the x axis: dates (a week's Sunday) are formatted day-first by the page.
    ``percent`` fixes the y axis at 0 to 100.
    """

    kind: str  # "bar" or "line"
    labels: list[StrOrPromise | datetime.date]
    datasets: list[Dataset]
    stacked: bool = False
    percent: bool = False
    y_title: StrOrPromise = ""


@dataclass(frozen=True)
class Report:
    key: str
    title: StrOrPromise
    description: StrOrPromise
    tables: tuple[Table, ...]
    chart: Chart | None = None
    notes: tuple[StrOrPromise, ...] = field(default=())
