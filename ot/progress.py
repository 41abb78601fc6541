"""OT progress: the rating (0 to 10) of each target skill across the patient's signed notes."""

import datetime

from django.utils.translation import gettext_lazy as _

from appointments.notes.models import ClinicalNote
from appointments.notes.progress import ProgressChart, ProgressPoint, signed_note_progress
from core.models import Clinic, Patient
from ot.models import RATING_MAX, OTTargetSkill


def _skill_point(day: datetime.date, skill: str, rating: int) -> tuple[str, ProgressPoint]:
    return skill, ProgressPoint(day, rating, f"{rating}/{RATING_MAX}")


def ot_progress(patient: Patient, date_from: datetime.date, date_to: datetime.date) -> list[ProgressChart]:
    """One line per skill (by name, in order of first appearance), a point per signed note
    from ``date_from`` to ``date_to``; none when no signed note rates a skill. One query."""
    return signed_note_progress(
        ProgressChart(
            specialty=Clinic.Specialty.OT, title=_("Target skill ratings (0 to 10)"), kind="rating", lines=[]
        ),
        OTTargetSkill,
        ("skill", "rating"),
        _skill_point,
        patient=patient,
        date_from=date_from,
        date_to=date_to,
        signed=ClinicalNote.Status.SIGNED,
    )
