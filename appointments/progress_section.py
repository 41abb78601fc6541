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
from appointments.progress_selectors import (
    AttendanceMark,
    ChildProgress,
    child_progress,
    default_progress_range,
)
from appointments.reports.events import Outcome
from core.form_fields import day_first_field
from core.models import Clinic, Patient, User

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


class ProgressPeriodForm(forms.Form):
    """A progress period: ``from`` and ``to``, day first; blank means the default range (the last
    six months), and an end before the start is the form's error."""

    # The date boxes' classes: none where crispy forms renders the fields (it adds its own).
    date_css = ""

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_range = default_progress_range(today)
        start, end = self.default_range
        self.fields["from"] = day_first_field(_("From"), css_class=self.date_css, initial=start)
        self.fields["to"] = day_first_field(_("To"), css_class=self.date_css, initial=end)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = self.chosen_period(cleaned)
        if end < start:
            self.add_error("to", _("The end date is before the start date."))
        return cleaned

    def chosen_period(self, cleaned: dict[str, Any]) -> tuple[datetime.date, datetime.date]:
        default_start, default_end = self.default_range
        return cleaned.get("from") or default_start, cleaned.get("to") or default_end


class ProgressRangeForm(ProgressPeriodForm):
    """The section's period; wrong or reversed dates show their errors and the default period."""

    date_css = "form-control form-control-sm progress-date"

    def period(self) -> tuple[datetime.date, datetime.date]:
        if not self.is_bound or not self.is_valid():
            return self.default_range
        return self.chosen_period(self.cleaned_data)


def value_label(kind: str, value: object) -> str:
    """A percent correct as "80.0%", a rating as "7/10"; empty for another kind (a risk step)."""
    if kind == "percent":
        return f"{value}%"
    if kind == "rating":
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
                "value": "" if point.value is None else value_label(chart.kind, point.value),
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
    return value_label(chart.kind, latest.value) or str(latest.detail)


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
    }
