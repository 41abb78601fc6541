"""OT progress: the rating (0 to 10) of each target skill across the patient's signed notes."""

import datetime

from django.utils.translation import gettext_lazy as _

from appointments.notes.models import ClinicalNote
from appointments.notes.progress import ProgressChart, ProgressLine, ProgressPoint
from core.models import Clinic, Patient
from ot.models import RATING_MAX, OTTargetSkill


def ot_progress(patient: Patient, date_from: datetime.date, date_to: datetime.date) -> list[ProgressChart]:
    """One line per skill (by name, in order of first appearance), a point per signed note
    from ``date_from`` to ``date_to``; none when no signed note rates a skill. One query."""
    rows = (
        OTTargetSkill.objects.filter(
            note__patient=patient,
            note__status=ClinicalNote.Status.SIGNED,
            note__session_date__range=(date_from, date_to),
        )
        .order_by("note__session_date", "note_id", "pk")
        .values_list("skill", "note__session_date", "rating")
    )
    lines: dict[str, list[ProgressPoint]] = {}
    for skill, day, rating in rows:
        lines.setdefault(skill, []).append(ProgressPoint(day, rating, f"{rating}/{RATING_MAX}"))
    if not lines:
        return []
    return [
        ProgressChart(
            specialty=Clinic.Specialty.OT,
            title=_("Target skill ratings (0 to 10)"),
            kind="rating",
            lines=[ProgressLine(skill, points) for skill, points in lines.items()],
        )
    ]
