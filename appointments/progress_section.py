"""The patient chart's progress section: its period (a GET form) and what it shows.

The section shows ``child_progress`` for the period chosen (day first, ``from`` and ``to``;
the last six months by default): the attendance strip, its counts and rate, and a chart per
target for the disciplines the user may read. ``static/js/progress_chart.js`` draws the
charts from ``progress-chart-data`` (``json_script``); the tables beside them hold the figures.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_stubs_ext import StrOrPromise

from appointments.notes.progress import ProgressChart, ProgressLine
from appointments.notes.registry import note_kinds
from appointments.progress_selectors import (
    AttendanceMark,
    ChildProgress,
    child_progress,
    default_progress_range,
)
from appointments.reports.events import Outcome
from core.form_fields import CalendarDateField
from core.models import Clinic, Patient, User
from core.permissions import can_read_notes

# The y axis of each kind of chart (a risk chart's top is its last step).
AXIS_MAX = {"percent": 100, "rating": 10}


@dataclass(frozen=True)
class OutcomeStyle:
    """How the strip shows an outcome: a letter (colour is not the only cue) on a coloured badge."""

    letter: StrOrPromise
    css: str


OUTCOME_STYLES = {
    Outcome.ATTENDED: OutcomeStyle(pgettext_lazy("attendance mark", "A"), "text-bg-success"),
    Outcome.NO_SHOW: OutcomeStyle(pgettext_lazy("attendance mark", "N"), "text-bg-danger"),
    Outcome.LATE_CANCELLATION: OutcomeStyle(pgettext_lazy("attendance mark", "L"), "text-bg-warning"),
    Outcome.CANCELLATION: OutcomeStyle(pgettext_lazy("attendance mark", "C"), "text-bg-secondary"),
    Outcome.TURNED_AWAY: OutcomeStyle(pgettext_lazy("attendance mark", "T"), "text-bg-dark"),
    Outcome.PENDING: OutcomeStyle(pgettext_lazy("attendance mark", "?"), "text-bg-light border"),
}


def _day_first_field(label: StrOrPromise) -> CalendarDateField:
    """Typed and shown day first, as text: a browser's own date box follows the browser's language."""
    widget = forms.DateInput(
        format="%d/%m/%Y",
        attrs={
            "placeholder": _("dd/mm/yyyy"),
            "inputmode": "numeric",
            "dir": "ltr",
            "autocomplete": "off",
            "class": "form-control form-control-sm progress-date",
        },
    )
    return CalendarDateField(label=label, required=False, widget=widget)


class ProgressRangeForm(forms.Form):
    """The section's period: ``from`` and ``to``; blank, wrong or reversed dates give the default."""

    def __init__(self, data: QueryDict | None, *, today: datetime.date) -> None:
        super().__init__(data)
        self.default_range = default_progress_range(today)
        self.fields["from"] = _day_first_field(_("From"))
        self.fields["to"] = _day_first_field(_("To"))
        if not self.is_bound:
            self.initial = dict(zip(("from", "to"), self.default_range, strict=True))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start = cleaned.get("from") or self.default_range[0]
        end = cleaned.get("to") or self.default_range[1]
        if end < start:
            self.add_error("to", _("The end date is before the start date."))
        return cleaned

    def period(self) -> tuple[datetime.date, datetime.date]:
        if not self.is_bound or not self.is_valid():
            return self.default_range
        start, end = self.cleaned_data.get("from"), self.cleaned_data.get("to")
        return start or self.default_range[0], end or self.default_range[1]


def _point_label(chart: ProgressChart, value: object) -> str:
    if chart.kind == "percent":
        return f"{value}%"
    if chart.kind == "rating":
        return f"{value}/{AXIS_MAX['rating']}"
    return ""


def _line_data(chart: ProgressChart, line: ProgressLine, canvas: str) -> dict[str, Any]:
    return {
        "canvas": canvas,
        "kind": chart.kind,
        "label": str(line.label),
        "max": AXIS_MAX.get(chart.kind, len(chart.steps) - 1),
        "steps": [str(step) for step in chart.steps],
        "points": [
            {
                "x": point.day.strftime("%d/%m/%Y"),
                "y": None if point.value is None else float(point.value),
                "value": "" if point.value is None else _point_label(chart, point.value),
                "detail": str(point.detail),
            }
            for point in line.points
        ],
    }


def chart_sections(charts: list[ProgressChart]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each chart with its canvases (one per line) and the data ``progress_chart.js`` draws."""
    sections = []
    drawn = []
    for chart_index, chart in enumerate(charts):
        lines = []
        for line_index, line in enumerate(chart.lines):
            canvas = f"progress-chart-{chart_index}-{line_index}"
            lines.append({"line": line, "canvas": canvas})
            drawn.append(_line_data(chart, line, canvas))
        sections.append(
            {
                "chart": chart,
                "discipline": Clinic.Specialty(chart.specialty).label,
                "lines": lines,
                "latest": [
                    {"line": line, "point": line.latest, "value": _latest_value(chart, line)}
                    for line in chart.lines
                ],
            }
        )
    return sections, {"rtl": translation.get_language_bidi(), "charts": drawn}


def _latest_value(chart: ProgressChart, line: ProgressLine) -> str:
    latest = line.latest
    if latest is None or latest.value is None:
        return "—"
    return _point_label(chart, latest.value) or str(latest.detail)


def strip(attendance: list[AttendanceMark]) -> list[dict[str, Any]]:
    """The strip's cells: each mark with its letter, colour and discipline."""
    return [
        {
            "mark": mark,
            "style": OUTCOME_STYLES[Outcome(mark.outcome)],
            "discipline": Clinic.Specialty(mark.specialty).label,
        }
        for mark in attendance
    ]


def legend(progress: ChildProgress) -> list[dict[str, Any]]:
    """Every outcome with its letter, colour and count, in the reports' order."""
    return [
        {
            "outcome": outcome,
            "style": OUTCOME_STYLES[outcome],
            "count": progress.attendance_counts.get(outcome.value, 0),
        }
        for outcome in Outcome
    ]


def progress_section(user: User, patient: Patient, params: QueryDict, today: datetime.date) -> dict[str, Any]:
    """The template context of the patient chart's progress section (``core/_patient_progress.html``)."""
    form = ProgressRangeForm(params if {"from", "to"} & set(params) else None, today=today)
    date_from, date_to = form.period()
    progress = child_progress(user, patient, date_from, date_to)
    sections, chart_data = chart_sections(progress.charts)
    return {
        "progress_form": form,
        "progress": progress,
        "progress_strip": strip(progress.attendance),
        "progress_legend": legend(progress),
        "progress_charts": sections,
        "progress_chart_data": chart_data,
        # Whether "no chart" means no signed notes, rather than no discipline the user may read.
        "progress_reads_notes": any(can_read_notes(user, specialty) for specialty in note_kinds()),
    }
