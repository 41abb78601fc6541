"""A child's printable progress report: the form choosing its audience, period and language, and the report.

The report is for a family or a school, so it never shows the psychology risk level
(``printed_progress``), whoever prints it. Which disciplines' targets
it shows follows the patient chart's rule (``child_progress``: the notes the user may read);
everyone who may open the chart may print the attendance summary.

Two pages, so that the access log says ``print`` only for a report actually rendered: the
form (``patient_progress_print_options``, logged as a view: it names the child and nothing
else) and the report (``patient_progress_print``, logged as ``print``). The report's URL
without a complete, valid choice sends the user to the form with what they chose.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.db import models
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_stubs_ext import StrOrPromise

from appointments.notes.progress import ProgressChart, ProgressLine
from appointments.progress_section import AXIS_MAX, ProgressPeriodForm, value_label
from appointments.progress_selectors import printed_progress
from appointments.reports.events import COUNTED_OUTCOMES
from core import clock
from core.models import Clinic, Patient, User
from core.permissions import CLINICIAN_ROLES, Capability, StaffRequest, access_patient, require_capability


class Audience(models.TextChoices):
    FAMILY = "family", _("For the family")
    SCHOOL = "school", _("For the school")


@dataclass(frozen=True)
class PrintChoice:
    audience: Audience
    language: str
    date_from: datetime.date
    date_to: datetime.date


class ProgressPrintForm(ProgressPeriodForm):
    """The report's period (``from`` and ``to``, day first; the chart's default range when blank),
    its audience (required) and its language (the page's by default)."""

    audience = forms.ChoiceField(
        label=_("Who is the report for?"),
        choices=Audience.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose who the report is for.")},
    )

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, today=today, **kwargs)
        self.fields["language"] = forms.ChoiceField(
            label=_("Language of the report"),
            # Each language by its own name, as the language switcher shows it.
            choices=[
                (code, translation.get_language_info(code)["name_local"])
                for code, _name in settings.LANGUAGES
            ],
            initial=translation.get_language(),
        )
        self.order_fields(["from", "to", "audience", "language"])

    def choice(self) -> PrintChoice:
        """What was chosen; only once the form is valid."""
        start, end = self.chosen_period(self.cleaned_data)
        return PrintChoice(Audience(self.cleaned_data["audience"]), self.cleaned_data["language"], start, end)


@dataclass(frozen=True)
class TargetRow:
    """A target's line in the table under its chart: its latest and first values and the change."""

    label: str
    latest: str
    latest_day: datetime.date | None
    first: str
    change: str


@dataclass(frozen=True)
class PrintedChart:
    """A discipline's chart on the report: its heading, its canvas's id and its table of targets."""

    chart: ProgressChart
    discipline: StrOrPromise
    canvas: str
    rows: list[TargetRow]


def shown_value(kind: str, value: Decimal | int | None) -> str:
    """A percent correct as "80.0%", a rating as "7/10"."""
    if value is None:
        return "—"
    return value_label(kind, value) or str(value)


def target_row(kind: str, line: ProgressLine) -> TargetRow:
    measured = [(point.day, point.value) for point in line.points if point.value is not None]
    if not measured:
        return TargetRow(str(line.label), "—", None, "—", "—")
    (_first_day, first), (latest_day, latest) = measured[0], measured[-1]
    change = f"{latest - first:+}" if len(measured) > 1 else "—"
    return TargetRow(str(line.label), shown_value(kind, latest), latest_day, shown_value(kind, first), change)


def chart_data(canvas: str, chart: ProgressChart) -> dict[str, Any]:
    """What static/js/progress_print.js draws on the canvas of id ``canvas``: the days (day first)
    along the x axis, one line per target."""
    days = sorted({point.day for line in chart.lines for point in line.points})
    labels = [day.strftime("%d/%m/%Y") for day in days]
    return {
        "canvas": canvas,
        "max": AXIS_MAX.get(chart.kind),
        "labels": labels,
        "lines": [
            {
                "label": str(line.label),
                "points": [
                    {"x": point.day.strftime("%d/%m/%Y"), "y": float(point.value)}
                    for point in line.points
                    if point.value is not None
                ],
            }
            for line in chart.lines
        ],
    }


def signer(user: User) -> str:
    """The clinician printing, by name in the report's language; nobody else signs as a clinician."""
    if user.role in CLINICIAN_ROLES and hasattr(user, "provider"):
        return str(user.provider)
    return ""


def report_context(user: User, patient: Patient, choice: PrintChoice) -> dict[str, Any]:
    """The report's content in the active language (the chosen one: see ``patient_progress_print``)."""
    progress = printed_progress(user, patient, choice.date_from, choice.date_to)
    charts = [
        PrintedChart(
            chart=chart,
            discipline=Clinic.Specialty(chart.specialty).label,
            canvas=f"progress-report-chart-{index}",
            rows=[target_row(chart.kind, line) for line in chart.lines],
        )
        for index, chart in enumerate(progress.charts)
    ]
    return {
        "patient": patient,
        "centre": str(patient.tenant),
        "choice": choice,
        "audience": choice.audience.label,
        "progress": progress,
        "charts": charts,
        "chart_data": [chart_data(item.canvas, item.chart) for item in charts],
        "attendance": [
            (outcome.label, progress.attendance_counts.get(outcome.value, 0)) for outcome in COUNTED_OUTCOMES
        ],
        "signer": signer(user),
    }


@require_capability(Capability.VIEW_PATIENTS)
@require_GET
def patient_progress_print_options(request: StaffRequest, pk: int) -> HttpResponse:
    """The form asking who the report is for, its period and its language; it names only the child."""
    patient = access_patient(request.user, pk)
    # Bound to what the report's URL was given when it sent the user here: its errors say what to fix.
    form = ProgressPrintForm(request.GET or None, today=clock.today())
    return render(request, "core/patient_progress_print_options.html", {"patient": patient, "form": form})


@require_capability(Capability.VIEW_PATIENTS)
@require_GET
def patient_progress_print(request: StaffRequest, pk: int) -> HttpResponse:
    """The report, in the chosen language whatever the page's; the form when the choice is incomplete."""
    patient = access_patient(request.user, pk)
    form = ProgressPrintForm(request.GET, today=clock.today())
    if not form.is_valid():
        options = reverse("core:patient_progress_print_options", args=[patient.pk])
        return redirect(f"{options}?{request.GET.urlencode()}" if request.GET else options)
    choice = form.choice()
    with translation.override(choice.language):
        response = render(
            request, "core/patient_progress_print.html", report_context(request.user, patient, choice)
        )
    # The locale middleware would otherwise name the page's language, not the report's.
    response["Content-Language"] = choice.language
    return response
