"""What the reports share: weeks, names, the child's cells, row sums and shortened lists' titles.

The reports aggregate in SQL by ids; the names of what the ids point at are read here in
one query per kind, in the active language, so a report's query count stays fixed.
"""

import datetime
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from appointments.models import SessionSeries
from appointments.reports.base import Column, Kind, ReportFilters, Table, week_start
from core.models import Clinic, Patient, Provider, User

ModelT = TypeVar("ModelT", bound=models.Model)
Key = TypeVar("Key")

ONE_WEEK = datetime.timedelta(days=7)
WEEK_COLUMN = Column("week", _("Week starting"), Kind.DATE)
WEEKS_NOTE = _("Weeks start on Sunday.")
# What ``Patient.full_name`` (either language) and the MRN read.
PATIENT_NAME_FIELDS = ("first_name_en", "last_name_en", "first_name_ar", "last_name_ar", "mrn")


def weeks_of(filters: ReportFilters) -> list[datetime.date]:
    """The Sundays of every week the date range touches, in order."""
    weeks = []
    week = week_start(filters.date_from)
    while week <= filters.date_to:
        weeks.append(week)
        week += ONE_WEEK
    return weeks


def week_table(
    weeks: list[datetime.date],
    by_week: Mapping[datetime.date, Counter[str]],
    columns: tuple[Column, ...],
    cells: Callable[[Counter[str]], dict[str, object]],
) -> Table:
    """The table of every week of the range, weeks with nothing included."""
    return Table(
        key="weeks",
        title=_("By week"),
        columns=(WEEK_COLUMN, *columns),
        rows=[{"week": week, **cells(by_week.get(week, Counter()))} for week in weeks],
    )


def days_of(filters: ReportFilters) -> list[datetime.date]:
    """Every date of the range, in order."""
    count = (filters.date_to - filters.date_from).days + 1
    return [filters.date_from + datetime.timedelta(days=offset) for offset in range(max(count, 0))]


def summed(rows: Iterable[tuple[Key, Counter[str]]]) -> dict[Key, Counter[str]]:
    """The counters of rows with the same key added up: a finer grouping rolled up to one key."""
    totals: dict[Key, Counter[str]] = {}
    for key, counts in rows:
        totals.setdefault(key, Counter()).update(counts)
    return totals


def _names(
    queryset: "models.QuerySet[ModelT]", ids: Iterable[int | None], name: Callable[[ModelT], str]
) -> dict[int, str]:
    wanted = {pk for pk in ids if pk is not None}
    return {row.pk: name(row) for row in queryset.filter(pk__in=wanted)}


def provider_names(user: User, ids: Iterable[int | None]) -> dict[int, str]:
    return _names(Provider.objects.for_user(user).select_related("user"), ids, str)


def series_names(user: User, ids: Iterable[int | None]) -> dict[int, str]:
    return _names(SessionSeries.objects.for_user(user), ids, str)


def clinic_names(user: User, ids: Iterable[int | None]) -> dict[int, str]:
    return _names(Clinic.objects.for_user(user), ids, str)


def by_name(ids: Iterable[Key | None], names: Mapping[Key, str]) -> list[Key]:
    """The ids, None left out, in the order of their names (case folded; equal names as given)."""
    return sorted((key for key in ids if key is not None), key=lambda key: names[key].casefold())


def named_rows(
    counts: Mapping[Any, Counter[str]],
    names: Mapping[Any, str],
    cells: Callable[[Counter[str]], dict[str, object]],
    unnamed: StrOrPromise = "",
) -> list[dict[str, object]]:
    """A row per id, its ``name`` and ``cells``, by name; the row of no id (``unnamed``) last."""
    rows = [{"name": names[key], **cells(counts[key])} for key in by_name(counts, names)]
    if None in counts:
        rows.append({"name": unnamed, **cells(counts[None])})
    return rows


def patients(user: User, ids: Iterable[int | None]) -> dict[int, Patient]:
    """The patients by id, for their name in the active language (``full_name``) and MRN."""
    wanted = {pk for pk in ids if pk is not None}
    named = Patient.objects.for_user(user).only(*PATIENT_NAME_FIELDS).filter(pk__in=wanted)
    return {patient.pk: patient for patient in named}


def child_columns(name_key: str = "child") -> tuple[Column, Column]:
    """The columns of ``child_cells``."""
    return (Column(name_key, _("Child")), Column("mrn", _("MRN")))


def child_cells(patient: Patient, name_key: str = "child") -> dict[str, object]:
    """The child's name in the active language and MRN."""
    return {name_key: patient.full_name, "mrn": patient.mrn}


def limited_title(title: StrOrPromise, shown: int, total: int, *, newest: bool) -> StrOrPromise:
    """A list's title, saying which rows it shows when it stops short of the total."""
    if total <= shown:
        return title
    values = {"title": title, "shown": shown, "total": total}
    if newest:
        return _("%(title)s: the newest %(shown)d of %(total)d") % values
    return _("%(title)s: the oldest %(shown)d of %(total)d") % values
