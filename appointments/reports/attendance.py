"""Attendance: each booking's outcome, per discipline, provider, series and child, by week.

Counts the events of ``appointments.reports.events`` (each appointment number once: a
participant, or a legacy appointment not back-filled). The rate is attended / (attended +
no-show + late cancellation); turned away and timely cancellations are left out of it.

Two aggregate queries over the participants and two over the legacy appointments (by week,
discipline, provider and series together, rolled up in Python; by child), then one query
each for the providers, series and children named.
"""

import datetime
from collections import Counter
from decimal import Decimal

from django.db import models
from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django_stubs_ext import StrOrPromise

from appointments.reports.base import (
    Chart,
    Column,
    Dataset,
    Kind,
    Report,
    ReportFilters,
    SundayWeek,
    Table,
    rate,
)
from appointments.reports.events import (
    COUNTED_ONCE,
    COUNTED_OUTCOMES,
    MISSED_OUTCOMES,
    RATE_OUTCOMES,
    Outcome,
    appointment_events,
    participant_events,
)
from appointments.reports.grouping import (
    WEEKS_NOTE,
    child_cells,
    child_columns,
    named_rows,
    patients,
    provider_names,
    series_names,
    summed,
    week_table,
    weeks_of,
)
from core.models import Clinic, User

OUTCOME_COUNTS = {outcome.value: Count("pk", filter=Q(outcome=outcome.value)) for outcome in COUNTED_OUTCOMES}
OUTCOME_COLUMNS = (
    *(Column(outcome.value, outcome.label, Kind.NUMBER) for outcome in COUNTED_OUTCOMES),
    Column("rate", _("Attendance rate"), Kind.PERCENT),
)
NO_EVENTS = _("No bookings in this range.")

# (week, discipline, provider id, series id): the finest grouping the tables roll up from.
Booking = tuple[datetime.date, str, int, int | None]


def _outcomes(events: models.QuerySet, **keys: object) -> list[tuple[tuple, Counter[str]]]:
    """The events' outcome counts grouped by ``keys`` (alias: expression), as (key values, counts).

    Groups holding only undecided bookings are left out here rather than in SQL: a filter on
    the ``outcome`` expression hides the rows it keeps from PostgreSQL's estimates.
    """
    rows = events.values(**keys).annotate(**OUTCOME_COUNTS)
    grouped = [
        (
            tuple(row[alias] for alias in keys),
            Counter({outcome.value: row[outcome.value] for outcome in COUNTED_OUTCOMES}),
        )
        for row in rows
    ]
    return [(key, counts) for key, counts in grouped if counts.total()]


def _rate(counts: Counter[str]) -> Decimal | None:
    """Attended / (attended + no-show + late cancellation)."""
    decided = sum(counts[outcome.value] for outcome in RATE_OUTCOMES)
    return rate(counts[Outcome.ATTENDED.value], decided)


def _cells(counts: Counter[str]) -> dict[str, object]:
    """The outcome counts and the attendance rate of one row."""
    return {**{outcome.value: counts[outcome.value] for outcome in COUNTED_OUTCOMES}, "rate": _rate(counts)}


def _missed(counts: Counter[str]) -> int:
    return sum(counts[outcome.value] for outcome in MISSED_OUTCOMES)


def _table(key: str, title: StrOrPromise, label: StrOrPromise, rows: list[dict[str, object]]) -> Table:
    return Table(
        key=key,
        title=title,
        columns=(Column("name", label), *OUTCOME_COLUMNS),
        rows=rows,
        empty_message=NO_EVENTS,
    )


def _child_tables(user: User, by_child: dict[int, Counter[str]], missed_at_least: int) -> tuple[Table, Table]:
    children = patients(user, by_child)
    ordered = sorted(by_child, key=lambda pk: children[pk].full_name.casefold())
    rows = [{**child_cells(children[pk], "name"), **_cells(by_child[pk])} for pk in ordered]
    missed = {pk: _missed(counts) for pk, counts in by_child.items()}
    missed_rows = [
        {
            **child_cells(children[pk], "name"),
            **{outcome.value: by_child[pk][outcome.value] for outcome in MISSED_OUTCOMES},
            "missed": missed[pk],
            Outcome.ATTENDED.value: by_child[pk][Outcome.ATTENDED.value],
            "rate": _rate(by_child[pk]),
        }
        for pk in sorted(ordered, key=lambda pk: -missed[pk])
        if missed[pk] and missed[pk] >= missed_at_least
    ]
    return (
        Table(
            key="children",
            title=_("By child"),
            columns=(*child_columns("name"), *OUTCOME_COLUMNS),
            rows=rows,
            empty_message=NO_EVENTS,
        ),
        Table(
            key="missed",
            title=ngettext_lazy(
                "Children who missed %(count)d session or more",
                "Children who missed %(count)d sessions or more",
                "count",
            )
            % {"count": missed_at_least},
            columns=(
                *child_columns("name"),
                *(Column(outcome.value, outcome.label, Kind.NUMBER) for outcome in MISSED_OUTCOMES),
                Column("missed", _("Missed"), Kind.NUMBER),
                Column(Outcome.ATTENDED.value, Outcome.ATTENDED.label, Kind.NUMBER),
                Column("rate", _("Attendance rate"), Kind.PERCENT),
            ),
            rows=missed_rows,
            empty_message=_("No child missed that many sessions in this range."),
        ),
    )


def attendance_report(user: User, filters: ReportFilters) -> Report:
    participants = participant_events(user, filters)
    legacy = appointment_events(user, filters)
    weeks = weeks_of(filters)

    legacy_bookings = _outcomes(
        legacy,
        by_week=SundayWeek("day"),
        by_specialty=F("clinic__specialty"),
        by_provider=F("provider_id"),
    )
    bookings: dict[Booking, Counter[str]] = summed(
        [
            *_outcomes(
                participants,
                by_week=SundayWeek("day"),
                by_specialty=F("session__clinic__specialty"),
                by_provider=F("session__provider_id"),
                by_series=F("session__series_id"),
            ),
            # A legacy appointment belongs to no series.
            *(((*booking, None), counts) for booking, counts in legacy_bookings),
        ]
    )
    by_child = summed(
        (key[0], counts)
        for key, counts in [
            *_outcomes(participants, by_patient=F("patient_id")),
            *_outcomes(legacy, by_patient=F("patient_id")),
        ]
    )
    by_week = summed((booking[0], counts) for booking, counts in bookings.items())
    by_specialty = summed((booking[1], counts) for booking, counts in bookings.items())
    by_provider = summed((booking[2], counts) for booking, counts in bookings.items())
    by_series = summed((booking[3], counts) for booking, counts in bookings.items())

    disciplines = [
        {"name": specialty.label, **_cells(by_specialty[specialty.value])}
        for specialty in Clinic.Specialty
        if specialty.value in by_specialty
    ]
    child_table, missed_table = _child_tables(user, by_child, filters.missed_at_least)

    return Report(
        key="attendance",
        title=_("Attendance"),
        description=_(
            "The outcome of each booking in the range: attended, no-show, late cancellation, "
            "cancellation or turned away."
        ),
        tables=(
            week_table(weeks, by_week, OUTCOME_COLUMNS, _cells),
            _table("disciplines", _("By discipline"), _("Discipline"), disciplines),
            _table(
                "providers",
                _("By provider"),
                _("Provider"),
                named_rows(by_provider, provider_names(user, by_provider), _cells),
            ),
            _table(
                "series",
                _("By series"),
                _("Series"),
                named_rows(by_series, series_names(user, by_series), _cells, _("Not in a series")),
            ),
            child_table,
            missed_table,
        ),
        chart=Chart(
            kind="bar",
            labels=list(weeks),
            datasets=[
                Dataset(outcome.label, [by_week.get(week, Counter())[outcome.value] for week in weeks])
                for outcome in COUNTED_OUTCOMES
            ],
            stacked=True,
            y_title=_("Bookings"),
        ),
        notes=(
            COUNTED_ONCE,
            _(
                "Attended: a child marked attended, or a legacy appointment completed. Late "
                "cancellation: a family's cancellation inside the clinic's late-cancellation window. "
                "Cancellation: any other cancellation, the clinic's included. Turned away: refused "
                "at a check-in gate."
            ),
            _(
                "Attendance rate: attended / (attended + no-show + late cancellation). Turned away "
                "and timely cancellations are left out."
            ),
            _("Missed: no-shows and late cancellations."),
            _("Bookings not yet decided (booked, confirmed, arrived) are not counted."),
            WEEKS_NOTE,
        ),
    )
