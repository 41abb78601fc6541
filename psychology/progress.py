"""Psychology progress: the risk level over time, for psychologists only (never printed)."""

import datetime

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from appointments.notes.models import ClinicalNote
from appointments.notes.progress import ProgressChart, ProgressPoint, signed_note_progress
from core.models import Clinic, Patient
from psychology.models import PsychologySession

RiskLevel = PsychologySession.RiskLevel
# The chart's y axis: none 0, low 1, moderate 2, high 3.
RISK_STEPS = {level.value: step for step, level in enumerate(RiskLevel)}
RISK_LEVEL = _("Risk level")


def _risk_point(day: datetime.date, risk: str) -> tuple[StrOrPromise, ProgressPoint]:
    return RISK_LEVEL, ProgressPoint(day, RISK_STEPS[risk], RiskLevel(risk).label)


def psychology_progress(
    patient: Patient, date_from: datetime.date, date_to: datetime.date
) -> list[ProgressChart]:
    """The risk level assessed in each signed note from ``date_from`` to ``date_to``; none
    without a signed note. One query."""
    return signed_note_progress(
        ProgressChart(
            specialty=Clinic.Specialty.PSYCHOLOGY,
            title=RISK_LEVEL,
            kind="risk",
            lines=[],
            clinicians_only=True,
            steps=tuple(level.label for level in RiskLevel),
        ),
        PsychologySession,
        ("risk_assessment",),
        _risk_point,
        patient=patient,
        date_from=date_from,
        date_to=date_to,
        signed=ClinicalNote.Status.SIGNED,
        note="",
    )
