"""What the utilisation, attendance and throughput reports share: weeks, names and row sums.

The reports aggregate in SQL by ids; the names of what the ids point at are read here in
one query per kind, in the active language, so a report's query count stays fixed.
"""

import datetime
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import models

from appointments.models import SessionSeries
from appointments.reports.base import ReportFilters, week_start
from core.models import Patient, Provider, User

ModelT = TypeVar("ModelT", bound=models.Model)
Key = TypeVar("Key")

ONE_WEEK = datetime.timedelta(days=7)
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


def patients(user: User, ids: Iterable[int | None]) -> dict[int, Patient]:
    """The patients by id, for their name in the active language (``full_name``) and MRN."""
    wanted = {pk for pk in ids if pk is not None}
    named = Patient.objects.for_user(user).only(*PATIENT_NAME_FIELDS).filter(pk__in=wanted)
    return {patient.pk: patient for patient in named}
