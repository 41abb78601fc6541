"""ABA progress: percent correct per skill target across the patient's signed notes."""

import datetime

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aba.models import ABASkillTarget, percent
from appointments.notes.models import ClinicalNote
from appointments.notes.progress import ProgressChart, ProgressPoint, signed_note_progress
from core.models import Clinic, Patient


def _target_point(day: datetime.date, target: str, correct: int, trials: int) -> tuple[str, ProgressPoint]:
    detail = gettext("%(correct)d/%(trials)d trials") % {"correct": correct, "trials": trials}
    return target, ProgressPoint(day, percent(correct, trials), detail)


def aba_progress(patient: Patient, date_from: datetime.date, date_to: datetime.date) -> list[ProgressChart]:
    """One line per target (by name, in order of first appearance), a point per signed note
    from ``date_from`` to ``date_to``; none when no signed note has a target. One query."""
    return signed_note_progress(
        ProgressChart(
            specialty=Clinic.Specialty.ABA,
            title=_("Percent correct per skill target"),
            kind="percent",
            lines=[],
        ),
        ABASkillTarget,
        ("target", "correct", "trials"),
        _target_point,
        patient=patient,
        date_from=date_from,
        date_to=date_to,
        signed=ClinicalNote.Status.SIGNED,
    )
