"""A child's progress: the discipline charts a user may see and the strip of the child's sessions.

The patient chart and the printable progress report both read ``child_progress``. The charts
come from each discipline's ``NoteKind.progress`` (one query per discipline), only for the
disciplines whose notes the user may read; a ``clinicians_only`` chart (psychology's risk
level) only for that discipline's clinicians, and never on a printed report
(``printed_progress``). The attendance strip is scheduling data: whoever may open the
patient sees it. It counts events as the reports do (``appointments.reports.events``).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import F
from django_stubs_ext import StrOrPromise

from appointments.notes.progress import ProgressChart
from appointments.notes.registry import note_kinds
from appointments.reports.base import ReportFilters, rate
from appointments.reports.events import RATE_OUTCOMES, Outcome, appointment_events, participant_events
from core.models import Patient, User
from core.permissions import can_read_notes, clinician_specialty

# The chart's period when none is chosen: the last six months, today included.
DEFAULT_MONTHS = 6


@dataclass(frozen=True)
class AttendanceMark:
    """One of the child's sessions on the strip: its outcome (an ``Outcome`` value) and label."""

    day: datetime.date
    time: datetime.time | None
    specialty: str
    outcome: str
    label: StrOrPromise
    number: str


@dataclass(frozen=True)
class ChildProgress:
    patient: Patient
    date_from: datetime.date
    date_to: datetime.date
    charts: list[ProgressChart]
    attendance: list[AttendanceMark]
    attendance_counts: dict[str, int]
    attendance_rate: Decimal | None
    # Whether the user reads some discipline's notes: "no chart" then means no signed notes.
    reads_notes: bool


def default_progress_range(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The six months up to and including ``today``."""
    return today - relativedelta(months=DEFAULT_MONTHS) + datetime.timedelta(days=1), today


def progress_charts(
    user: User, patient: Patient, date_from: datetime.date, date_to: datetime.date, *, include_risk: bool
) -> list[ProgressChart]:
    """The charts of the disciplines whose notes ``user`` reads, in registration order."""
    charts: list[ProgressChart] = []
    for specialty, kind in note_kinds().items():
        if kind.progress is None or not can_read_notes(user, specialty):
            continue
        for chart in kind.progress(patient, date_from, date_to):
            if chart.clinicians_only and not (include_risk and clinician_specialty(user) == specialty):
                continue
            charts.append(chart)
    return charts


def attendance_marks(
    user: User, patient: Patient, date_from: datetime.date, date_to: datetime.date
) -> list[AttendanceMark]:
    """The child's sessions and legacy appointments in the period, oldest first (two queries)."""
    filters = ReportFilters(date_from=date_from, date_to=date_to)
    participants = participant_events(user, filters, patient_id=patient.pk).values_list(
        "session__scheduled_date",
        "session__scheduled_time",
        "session__clinic__specialty",
        F("outcome"),
        "appointment_number",
    )
    appointments = appointment_events(user, filters, patient_id=patient.pk).values_list(
        "scheduled_date", "scheduled_time", "clinic__specialty", F("outcome"), "appointment_number"
    )
    # By day, start time and number: both kinds of booking on one strip.
    rows = sorted([*participants, *appointments], key=lambda row: (row[0], row[1], row[4]))
    return [
        AttendanceMark(day, time, specialty, outcome, Outcome(outcome).label, number)
        for day, time, specialty, outcome, number in rows
    ]


def child_progress(
    user: User,
    patient: Patient,
    date_from: datetime.date,
    date_to: datetime.date,
    *,
    include_risk: bool = True,
) -> ChildProgress:
    """``patient``'s progress from ``date_from`` to ``date_to`` (inclusive) as ``user`` may see it.

    ``patient`` is one the caller has already checked ``user`` may open.
    """
    attendance = attendance_marks(user, patient, date_from, date_to)
    counts = {outcome.value: 0 for outcome in Outcome}
    for mark in attendance:
        counts[mark.outcome] += 1
    return ChildProgress(
        patient=patient,
        date_from=date_from,
        date_to=date_to,
        charts=progress_charts(user, patient, date_from, date_to, include_risk=include_risk),
        attendance=attendance,
        attendance_counts=counts,
        attendance_rate=rate(counts[Outcome.ATTENDED], sum(counts[outcome] for outcome in RATE_OUTCOMES)),
        reads_notes=any(can_read_notes(user, specialty) for specialty in note_kinds()),
    )


def printed_progress(
    user: User, patient: Patient, date_from: datetime.date, date_to: datetime.date
) -> ChildProgress:
    """The progress a printed report shows: for a family or a school, so never the risk level."""
    return child_progress(user, patient, date_from, date_to, include_risk=False)
