"""Note kinds: what the note pages, admin, services and demo know of each discipline.

Each discipline app (``psychology``, ``ot``, ``aba``) registers its note kind in its
``AppConfig.ready()``; nothing in ``appointments`` imports a discipline app, so the
dependencies flow one way (``core`` <- ``appointments`` <- the disciplines).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms

from appointments.notes.models import ClinicalNote
from appointments.notes.progress import ProgressChart
from core import locks
from core.models import Patient


@dataclass(frozen=True)
class CarriedRows:
    """Child rows a new note copies from the child's last signed note: which rows, which of their fields.

    Only what names the work (a target, its prompt level) is copied; what measures the
    session (ratings, trials, correct answers) starts empty, so no note clones the last.
    """

    related_name: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class NoteKind:
    """A discipline's note: its model, form, child-row formsets, row template, carried rows, progress."""

    model: type[ClinicalNote]
    form: type[forms.ModelForm]
    # Quoted: Django's form classes take no type arguments at run time.
    formsets: "tuple[type[forms.BaseInlineFormSet[Any, Any, Any]], ...]" = ()
    rows_template: str = ""
    carried_over: tuple[CarriedRows, ...] = ()
    # The patient's progress charts from their signed notes of a period (None: the notes chart nothing).
    progress: "Callable[[Patient, datetime.date, datetime.date], list[ProgressChart]] | None" = None
    # The demo's content of a child's n-th note (n from 0): fields and rows for NoteService.create_note.
    demo_content: Callable[[int], dict[str, Any]] | None = None

    @property
    def specialty(self) -> str:
        return self.model.specialty

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name)


_KINDS: dict[str, NoteKind] = {}


def register_note_kind(kind: NoteKind) -> None:
    """Called once per discipline from ``AppConfig.ready()``; a second kind for a specialty is a bug."""
    registered = _KINDS.get(kind.specialty)
    if registered is not None and registered != kind:
        raise ValueError(f"A note kind for {kind.specialty!r} is already registered: {registered.model}.")
    _KINDS[kind.specialty] = kind
    # Notes are locked after consents and before the number counter, in registration order.
    locks.rank_model(kind.model, locks.Rank.NOTE)


def note_kinds() -> dict[str, NoteKind]:
    """Every registered note kind by ``Clinic.Specialty`` value, in registration order."""
    return dict(_KINDS)


def note_kind(specialty: str) -> NoteKind:
    """The kind of a registered specialty (KeyError for one without notes)."""
    return _KINDS[specialty]


def note_models() -> dict[str, type[ClinicalNote]]:
    """Every discipline's note model by ``Clinic.Specialty`` value."""
    return {specialty: kind.model for specialty, kind in _KINDS.items()}
