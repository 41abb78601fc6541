"""A child's progress as the notes record it: what each discipline's ``NoteKind.progress`` gives.

A discipline's selector ``(patient, date_from, date_to) -> list[ProgressChart]`` reads the
patient's signed notes of that period (``signed_note_progress``); the patient chart and the
printable progress report (``appointments.progress_selectors.child_progress``) draw them.
"""

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db import models
from django_stubs_ext import StrOrPromise

from core.models import Patient


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


def signed_note_progress(
    chart: ProgressChart,
    model: type[models.Model],
    fields: Sequence[str],
    point: Callable[..., tuple[StrOrPromise, ProgressPoint]],
    *,
    patient: Patient,
    date_from: datetime.date,
    date_to: datetime.date,
    signed: str,
    note: str = "note__",
) -> list[ProgressChart]:
    """``chart`` with one line per label, in order of first appearance; none without a row. One query.

    Reads the ``fields`` of ``model``'s rows in ``patient``'s notes signed from ``date_from`` to
    ``date_to``, oldest first; ``point(day, *fields)`` gives a row's label and point. ``note`` leads
    from a row to its note ("" when the rows are the notes). ``signed`` is
    ``ClinicalNote.Status.SIGNED``, passed in because this module sits below ``notes.models``.
    """
    rows = (
        model._default_manager.filter(
            **{
                f"{note}patient": patient,
                f"{note}status": signed,
                f"{note}session_date__range": (date_from, date_to),
            }
        )
        .order_by(f"{note}session_date", f"{note}pk", "pk")
        .values_list(f"{note}session_date", *fields)
    )
    lines: dict[StrOrPromise, list[ProgressPoint]] = {}
    for day, *values in rows:
        label, progress_point = point(day, *values)
        lines.setdefault(label, []).append(progress_point)
    if not lines:
        return []
    return [replace(chart, lines=[ProgressLine(label, points) for label, points in lines.items()])]
