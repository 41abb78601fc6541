"""ABA progress: percent correct per skill target across the patient's signed notes."""

import datetime

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aba.models import ABASkillTarget, percent
from appointments.notes.models import ClinicalNote
from appointments.notes.progress import ProgressChart, ProgressLine, ProgressPoint
from core.models import Clinic, Patient


def aba_progress(patient: Patient, date_from: datetime.date, date_to: datetime.date) -> list[ProgressChart]:
    """One line per target (by name, in order of first appearance), a point per signed note
    from ``date_from`` to ``date_to``; none when no signed note has a target. One query."""
    rows = (
        ABASkillTarget.objects.filter(
            note__patient=patient,
            note__status=ClinicalNote.Status.SIGNED,
            note__session_date__range=(date_from, date_to),
        )
        .order_by("note__session_date", "note_id", "pk")
        .values_list("target", "note__session_date", "correct", "trials")
    )
    lines: dict[str, list[ProgressPoint]] = {}
    for target, day, correct, trials in rows:
        detail = gettext("%(correct)d/%(trials)d trials") % {"correct": correct, "trials": trials}
        lines.setdefault(target, []).append(ProgressPoint(day, percent(correct, trials), detail))
    if not lines:
        return []
    return [
        ProgressChart(
            specialty=Clinic.Specialty.ABA,
            title=_("Percent correct per skill target"),
            kind="percent",
            lines=[ProgressLine(target, points) for target, points in lines.items()],
        )
    ]
