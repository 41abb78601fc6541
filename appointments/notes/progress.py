"""A child's progress as the notes record it: what each discipline's ``NoteKind.progress`` gives.

A discipline's selector ``(patient, date_from, date_to) -> list[ProgressChart]`` reads the
patient's signed notes of that period; the patient chart and the printable progress report
(``appointments.progress_selectors.child_progress``) draw them.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class ProgressPoint:
    """One session's measure: ``value`` is a percent correct, a rating or a risk level (0 to 3);
    ``detail`` says it in words ("7/10 trials", "Moderate")."""

    day: datetime.date
    value: Decimal | int | None
    detail: StrOrPromise


@dataclass(frozen=True)
class ProgressLine:
    """One target's (or the risk level's) points, oldest first."""

    label: StrOrPromise
    points: list[ProgressPoint] = field(default_factory=list)

    @property
    def latest(self) -> ProgressPoint | None:
        return self.points[-1] if self.points else None


@dataclass(frozen=True)
class ProgressChart:
    """A discipline's chart: ``kind`` is "percent" (0 to 100), "rating" (0 to 10) or "risk" (0 to 3).

    ``clinicians_only`` charts are shown to that discipline's clinicians and on no printed report.
    ``steps`` names the y axis's values from 0 upwards when they are levels, not numbers (the risk).
    """

    specialty: str
    title: StrOrPromise
    kind: str
    lines: list[ProgressLine]
    clinicians_only: bool = False
    steps: tuple[StrOrPromise, ...] = ()
