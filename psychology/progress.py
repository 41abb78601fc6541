"""Psychology progress: the risk level over time, for psychologists only (never printed)."""

import datetime

from django.utils.translation import gettext_lazy as _

from appointments.notes.models import ClinicalNote
from appointments.notes.progress import ProgressChart, ProgressLine, ProgressPoint
from core.models import Clinic, Patient
from psychology.models import PsychologySession

RiskLevel = PsychologySession.RiskLevel
# The chart's y axis: none 0, low 1, moderate 2, high 3.
RISK_STEPS = {level.value: step for step, level in enumerate(RiskLevel)}


def psychology_progress(
    patient: Patient, date_from: datetime.date, date_to: datetime.date
) -> list[ProgressChart]:
    """The risk level assessed in each signed note from ``date_from`` to ``date_to``; none
    without a signed note. One query."""
    rows = (
        PsychologySession.objects.filter(
            patient=patient, status=ClinicalNote.Status.SIGNED, session_date__range=(date_from, date_to)
        )
        .order_by("session_date", "pk")
        .values_list("session_date", "risk_assessment")
    )
    points = [ProgressPoint(day, RISK_STEPS[risk], RiskLevel(risk).label) for day, risk in rows]
    if not points:
        return []
    return [
        ProgressChart(
            specialty=Clinic.Specialty.PSYCHOLOGY,
            title=_("Risk level"),
            kind="risk",
            lines=[ProgressLine(_("Risk level"), points)],
            clinicians_only=True,
            steps=tuple(level.label for level in RiskLevel),
        )
    ]
