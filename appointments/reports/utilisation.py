"""Utilisation: seats taken against seats offered, and room hours used against hours open.

Seats offered are the capacities of the sessions the filters select that are not cancelled;
seats taken are their participants holding a seat (booked, confirmed, arrived, attended or
no-show: not cancelled or turned away). A legacy appointment not back-filled and not
cancelled is one seat offered and taken (a series filter leaves them out: they have none).

Three aggregate queries (sessions, seat-holding participants, legacy appointments) grouped
by week, clinic, room, provider and series are rolled up to each table in Python; then
one query each for the clinics (with their opening hours, overrides and holidays of the
range), rooms, providers and series named.
"""

import datetime
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Prefetch, Q, Sum
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from appointments.models import Appointment, Session, SessionParticipant
from appointments.reports.base import (
    Chart,
    Column,
    Dataset,
    Kind,
    Report,
    ReportFilters,
    SundayWeek,
    Table,
    one_decimal,
    rate,
)
from appointments.reports.events import appointment_events, participant_events, slot_filters
from appointments.reports.grouping import (
    WEEKS_NOTE,
    days_of,
    named_rows,
    provider_names,
    series_names,
    summed,
    week_table,
    weeks_of,
)
from core.models import Clinic, ClinicHoliday, OpeningHoursOverride, Room, User
from core.opening_hours import day_hours

# (week, clinic, room, provider, series) ids: the finest grouping the tables roll up from.
Slot = tuple[datetime.date, int, int | None, int, int | None]
KEY_FIELDS = ("week", "clinic_id", "room_id", "provider_id", "series_id")

SEAT_COLUMNS = (
    Column("offered", _("Seats offered"), Kind.NUMBER),
    Column("taken", _("Seats taken"), Kind.NUMBER),
    Column("utilisation", _("Utilisation"), Kind.PERCENT),
)


def _slot_counts(user: User, filters: ReportFilters) -> dict[Slot, Counter[str]]:
    """Seats offered and taken and minutes booked, by (week, clinic, room, provider, series)."""
    condition = slot_filters(filters, "")
    if filters.series_id is not None:
        condition &= Q(series_id=filters.series_id)
    sessions = (
        Session.objects.for_user(user)
        .filter(condition)
        .exclude(status=Session.Status.CANCELLED)
        .values("clinic_id", "room_id", "provider_id", "series_id", week=SundayWeek("scheduled_date"))
        .annotate(offered=Sum("max_capacity"), minutes=Sum("duration"))
    )
    taken = (
        participant_events(user, filters)
        .exclude(status__in=SessionParticipant.INACTIVE_STATUSES)
        .exclude(session__status=Session.Status.CANCELLED)
        .values(
            week=SundayWeek("session__scheduled_date"),
            clinic_id=F("session__clinic_id"),
            room_id=F("session__room_id"),
            provider_id=F("session__provider_id"),
            series_id=F("session__series_id"),
        )
        .annotate(taken=Count("pk"))
    )
    legacy = (
        appointment_events(user, filters)
        .exclude(status=Appointment.Status.CANCELLED)
        .values("clinic_id", "room_id", "provider_id", week=SundayWeek("scheduled_date"))
        .annotate(offered=Count("pk"), minutes=Sum("duration"))
    )
    rows: list[tuple[Slot, Counter[str]]] = []
    for row in sessions:
        rows.append((_slot(row), Counter(offered=row["offered"], minutes=row["minutes"])))
    for row in taken:
        rows.append((_slot(row), Counter(taken=row["taken"])))
    for row in legacy:
        seats = row["offered"]
        rows.append(
            (_slot({**row, "series_id": None}), Counter(offered=seats, taken=seats, minutes=row["minutes"]))
        )
    return summed(rows)


def _slot(row: Mapping[str, Any]) -> Slot:
    week, clinic_id, room_id, provider_id, series_id = (row[key] for key in KEY_FIELDS)
    return (week, clinic_id, room_id, provider_id, series_id)


def _seats(counts: Counter[str]) -> dict[str, object]:
    return {
        "offered": counts["offered"],
        "taken": counts["taken"],
        "utilisation": rate(counts["taken"], counts["offered"]),
    }


def _hours(minutes: int) -> Decimal:
    return one_decimal(Decimal(minutes) / 60)


def _clinic_condition(filters: ReportFilters, prefix: str = "") -> Q:
    condition = Q()
    if filters.clinic_id is not None:
        condition &= Q(**{f"{prefix}pk": filters.clinic_id})
    if filters.specialty:
        condition &= Q(**{f"{prefix}specialty": filters.specialty})
    return condition


def _clinics(user: User, filters: ReportFilters) -> list[Clinic]:
    """The clinics the filters select, with their week, the range's overrides and holidays."""
    dates = (filters.date_from, filters.date_to)
    return list(
        Clinic.objects.for_user(user)
        .filter(_clinic_condition(filters))
        .prefetch_related(
            "opening_hours",
            Prefetch(
                "opening_hours_overrides", queryset=OpeningHoursOverride.objects.filter(date__range=dates)
            ),
            Prefetch("holidays", queryset=ClinicHoliday.objects.filter(date__range=dates)),
        )
    )


def _rooms(user: User, filters: ReportFilters) -> list[Room]:
    return list(Room.objects.for_user(user).filter(_clinic_condition(filters, "clinic__")))


def _minutes_open(clinic: Clinic, days: list[datetime.date]) -> int | None:
    """The clinic's opening minutes over ``days``; None when it has no weekly hours set.

    A date's override replaces its weekday (a closed override closes it); a holiday closes it.
    """
    if not clinic.opening_hours.all():
        return None
    holidays = {holiday.date for holiday in clinic.holidays.all()}
    minutes = 0
    for day in days:
        hours = day_hours(clinic, day)
        if day in holidays or hours is None:
            continue
        for opens, closes in hours.intervals:
            span = datetime.datetime.combine(day, closes) - datetime.datetime.combine(day, opens)
            minutes += int(span.total_seconds()) // 60
    return minutes


def _named_table(
    key: str,
    title: StrOrPromise,
    label: StrOrPromise,
    counts: Mapping[Any, Counter[str]],
    names: Mapping[int, str],
    unnamed: StrOrPromise = "",
) -> Table:
    """One row per id, sorted by name; the row of no id (``unnamed``) last."""
    return Table(
        key=key,
        title=title,
        columns=(Column("name", label), *SEAT_COLUMNS),
        rows=named_rows(counts, names, _seats, unnamed),
        empty_message=_("No sessions in this range."),
    )


def _room_rows(rooms: list[Room], clinics: dict[int, Clinic]) -> list[tuple[Room, str, str]]:
    """The rooms with their clinic's name and theirs, in that order."""
    named = [(room, str(clinics[room.clinic_id]), room.display_name) for room in rooms]
    return sorted(named, key=lambda row: (row[1].casefold(), row[2].casefold()))


def _room_seats_table(by_room: dict[int | None, Counter[str]], rooms: list[tuple[Room, str, str]]) -> Table:
    rows = [
        {"clinic": clinic, "room": name, **_seats(by_room[room.pk])}
        for room, clinic, name in rooms
        if room.pk in by_room
    ]
    if None in by_room:
        rows.append({"clinic": "", "room": _("No room"), **_seats(by_room[None])})
    return Table(
        key="rooms",
        title=_("Seats by room"),
        columns=(Column("clinic", _("Clinic")), Column("room", _("Room")), *SEAT_COLUMNS),
        rows=rows,
        empty_message=_("No sessions in this range."),
    )


def _room_hours_table(
    by_room: dict[int | None, Counter[str]],
    rooms: list[tuple[Room, str, str]],
    minutes_open: dict[int, int | None],
) -> Table:
    """Every room of a clinic with opening hours set, booked or not."""
    rows = []
    for room, clinic, name in rooms:
        open_minutes = minutes_open[room.clinic_id]
        if open_minutes is None:
            continue
        used = by_room.get(room.pk, Counter())["minutes"]
        rows.append(
            {
                "clinic": clinic,
                "room": name,
                "used": _hours(used),
                "open": _hours(open_minutes),
                "share": rate(used, open_minutes),
            }
        )
    return Table(
        key="room_hours",
        title=_("Room hours"),
        columns=(
            Column("clinic", _("Clinic")),
            Column("room", _("Room")),
            Column("used", _("Hours used"), Kind.HOURS),
            Column("open", _("Hours open"), Kind.HOURS),
            Column("share", _("Share of open hours used"), Kind.PERCENT),
        ),
        rows=rows,
        empty_message=_("No room of these clinics has opening hours set."),
    )


def utilisation_report(user: User, filters: ReportFilters) -> Report:
    slots = _slot_counts(user, filters)
    clinics = {clinic.pk: clinic for clinic in _clinics(user, filters)}
    rooms = _room_rows(_rooms(user, filters), clinics)
    days = days_of(filters)
    minutes_open = {pk: _minutes_open(clinic, days) for pk, clinic in clinics.items()}
    weeks = weeks_of(filters)

    by_week = summed((slot[0], counts) for slot, counts in slots.items())
    by_clinic = summed((slot[1], counts) for slot, counts in slots.items())
    by_room = summed((slot[2], counts) for slot, counts in slots.items())
    by_provider = summed((slot[3], counts) for slot, counts in slots.items())
    by_series = summed((slot[4], counts) for slot, counts in slots.items())
    clinic_names = {pk: str(clinic) for pk, clinic in clinics.items()}

    return Report(
        key="utilisation",
        title=_("Utilisation"),
        description=_(
            "Seats taken against seats offered in the sessions not cancelled, and room hours "
            "used against hours open."
        ),
        tables=(
            week_table(weeks, by_week, SEAT_COLUMNS, _seats),
            _named_table("clinics", _("Seats by clinic"), _("Clinic"), by_clinic, clinic_names),
            _room_seats_table(by_room, rooms),
            _named_table(
                "providers",
                _("Seats by provider"),
                _("Provider"),
                by_provider,
                provider_names(user, by_provider),
            ),
            _named_table(
                "series",
                _("Seats by series"),
                _("Series"),
                by_series,
                series_names(user, by_series),
                _("Not in a series"),
            ),
            _room_hours_table(by_room, rooms, minutes_open),
        ),
        chart=Chart(
            kind="bar",
            labels=list(weeks),
            datasets=[
                Dataset(_("Seats offered"), [by_week.get(week, Counter())["offered"] for week in weeks]),
                Dataset(_("Seats taken"), [by_week.get(week, Counter())["taken"] for week in weeks]),
            ],
            y_title=_("Seats"),
        ),
        notes=(
            _(
                "Seats offered: the capacity of each session in the range that is not cancelled. "
                "A legacy appointment not yet back-filled and not cancelled is one seat offered."
            ),
            _(
                "Seats taken: the children booked, confirmed, arrived, attended or marked no-show in "
                "those sessions (cancelled and turned-away children free their seat), and those "
                "legacy appointments."
            ),
            _("Utilisation: seats taken / seats offered."),
            _(
                "Room hours used: the length of the sessions and legacy appointments not cancelled "
                "in the room. Hours open: the clinic's opening hours on each date of the range, "
                "with its dated overrides and holidays; shown only for clinics with opening hours set."
            ),
            WEEKS_NOTE,
        ),
    )
