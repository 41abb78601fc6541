"""Throughput: sessions held and children seen, per provider and by week, group and individual apart.

A session is held when at least one child attended it: a completed session where every
child was a no-show, or that nobody came to, held no one and is not counted. A legacy
appointment not back-filled and completed is an individual session held, with one child seen.
Children seen are the distinct children who attended; a child seen both in a session and at
a legacy appointment of the same provider in the same period is one child.

Two aggregate queries (attended participants, completed legacy appointments) for each
grouping (provider and week, provider, week), then one query for the providers' names.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.expressions import Combinable
from django.utils.translation import gettext_lazy as _

from appointments.models import Appointment, ParticipantStatus, Session
from appointments.reports.base import Chart, Column, Dataset, Kind, Report, ReportFilters, SundayWeek, Table
from appointments.reports.events import appointment_events, participant_events
from appointments.reports.grouping import (
    WEEK_COLUMN,
    WEEKS_NOTE,
    provider_names,
    summed,
    week_table,
    weeks_of,
)
from core.models import User

GROUP = Session.SessionType.GROUP
INDIVIDUAL = Session.SessionType.INDIVIDUAL

COUNT_COLUMNS = (
    Column("group", _("Group sessions held"), Kind.NUMBER),
    Column("individual", _("Individual sessions held"), Kind.NUMBER),
    Column("children", _("Children seen"), Kind.NUMBER),
)


def _throughput(
    user: User, filters: ReportFilters, *, per_provider: bool, per_week: bool
) -> dict[tuple[Any, ...], Counter[str]]:
    """Sessions held (group, individual) and children seen, by (provider id, week) as asked."""
    session_keys: dict[str, Combinable] = {}
    legacy_keys: dict[str, Combinable] = {}
    # The attended outcome is the attended status (``events.PARTICIPANT_OUTCOME``) and a legacy
    # appointment's completed one: filtering on the columns keeps PostgreSQL's row estimates
    # (and so its plan) right, where a filter on the ``outcome`` expression can't.
    attended = participant_events(user, filters).filter(status=ParticipantStatus.ATTENDED)
    # The same child attending a session of the same provider in the same period.
    seen_in_session = attended.filter(patient_id=OuterRef("patient_id"))
    if per_provider:
        session_keys["by_provider"] = F("session__provider_id")
        legacy_keys["by_provider"] = F("provider_id")
        seen_in_session = seen_in_session.filter(session__provider_id=OuterRef("provider_id"))
    if per_week:
        session_keys["by_week"] = SundayWeek("day")
        legacy_keys["by_week"] = SundayWeek("day")
        seen_in_session = seen_in_session.annotate(by_week=SundayWeek("day")).filter(
            by_week=SundayWeek(OuterRef("scheduled_date"))
        )
    sessions = attended.values(**session_keys).annotate(
        group=Count("session_id", distinct=True, filter=Q(session__session_type=GROUP)),
        individual=Count("session_id", distinct=True, filter=Q(session__session_type=INDIVIDUAL)),
        children=Count("patient_id", distinct=True),
    )
    legacy = (
        appointment_events(user, filters)
        .filter(status=Appointment.Status.COMPLETED)
        .annotate(seen_in_session=Exists(seen_in_session))
        .values(**legacy_keys)
        .annotate(
            individual=Count("pk"),
            children=Count("patient_id", distinct=True, filter=Q(seen_in_session=False)),
        )
    )
    return summed(
        [
            *((_key(row, session_keys), _counts(row)) for row in sessions),
            *((_key(row, legacy_keys), _counts(row)) for row in legacy),
        ]
    )


def _key(row: Mapping[str, Any], keys: Iterable[str]) -> tuple[Any, ...]:
    return tuple(row[key] for key in keys)


def _counts(row: Mapping[str, Any]) -> Counter[str]:
    return Counter({column.key: row.get(column.key, 0) for column in COUNT_COLUMNS})


def _cells(counts: Counter[str]) -> dict[str, object]:
    return {column.key: counts[column.key] for column in COUNT_COLUMNS}


def throughput_report(user: User, filters: ReportFilters) -> Report:
    by_provider_week = _throughput(user, filters, per_provider=True, per_week=True)
    by_provider = _throughput(user, filters, per_provider=True, per_week=False)
    by_week = {
        key[0]: counts
        for key, counts in _throughput(user, filters, per_provider=False, per_week=True).items()
    }
    names = provider_names(user, (key[0] for key in by_provider))
    weeks = weeks_of(filters)

    def provider_order(item: tuple[tuple[Any, ...], Counter[str]]) -> tuple[Any, ...]:
        provider_id, *week = item[0]
        return (names[provider_id].casefold(), *week)

    week_counts = [by_week.get(week, Counter()) for week in weeks]
    return Report(
        key="throughput",
        title=_("Throughput"),
        description=_(
            "Sessions held and children seen per provider, by week, with group and individual sessions apart."
        ),
        tables=(
            week_table(weeks, by_week, COUNT_COLUMNS, _cells),
            Table(
                key="providers",
                title=_("By provider"),
                columns=(Column("provider", _("Provider")), *COUNT_COLUMNS),
                rows=[
                    {"provider": names[key[0]], **_cells(counts)}
                    for key, counts in sorted(by_provider.items(), key=provider_order)
                ],
                empty_message=_("No session held in this range."),
            ),
            Table(
                key="provider_weeks",
                title=_("By provider and week"),
                columns=(
                    Column("provider", _("Provider")),
                    WEEK_COLUMN,
                    *COUNT_COLUMNS,
                ),
                rows=[
                    {"provider": names[key[0]], "week": key[1], **_cells(counts)}
                    for key, counts in sorted(by_provider_week.items(), key=provider_order)
                ],
                empty_message=_("No session held in this range."),
            ),
        ),
        chart=Chart(
            kind="bar",
            labels=list(weeks),
            datasets=[
                Dataset(_("Group sessions held"), [counts["group"] for counts in week_counts]),
                Dataset(_("Individual sessions held"), [counts["individual"] for counts in week_counts]),
            ],
            stacked=True,
            y_title=_("Sessions held"),
        ),
        notes=(
            _(
                "Session held: a session with at least one child marked attended; a completed "
                "legacy appointment not yet back-filled is an individual session held."
            ),
            _(
                "Children seen: the distinct children who attended, in the week or over the range. "
                "The by-week and by-provider figures count each child once per row, so they may add "
                "up to more than the range's total."
            ),
            WEEKS_NOTE,
        ),
    )
