"""Read queries for clinical notes: a fixed number of queries whatever the number of rows.

Disciplines are filtered with ``core.permissions.readable_specialties`` so a page
shows only the notes its viewer may read.
"""

from dataclasses import dataclass, field
from typing import cast

from django.db.models import Prefetch, QuerySet

from appointments.models import Session, SessionParticipant
from appointments.notes.models import ClinicalNote, ClinicalNoteAddendum
from appointments.notes.registry import note_models
from core.models import Patient, User
from core.permissions import readable_specialties


@dataclass
class ParticipantNotes:
    """One participant of a session with their notes, by ``Clinic.Specialty`` value."""

    participant: SessionParticipant
    notes: dict[str, ClinicalNote] = field(default_factory=dict)


def _readable_models(user: User | None) -> dict[str, type[ClinicalNote]]:
    models_by_specialty = note_models()
    if user is None:
        return models_by_specialty
    allowed = set(readable_specialties(user))
    return {specialty: model for specialty, model in models_by_specialty.items() if specialty in allowed}


def notes_with_details(note_model: type[ClinicalNote]) -> QuerySet[ClinicalNote]:
    """Notes with provider, signer, links, addenda (with authors) and child rows loaded."""
    # The plugin checks names against the abstract ClinicalNote; the links and addenda
    # are declared by each discipline's model.
    addenda_field = note_model._meta.get_field("addenda")  # type: ignore[misc]
    addenda = cast(type[ClinicalNoteAddendum], addenda_field.related_model)
    return note_model.objects.select_related(
        "patient",
        "provider__user",
        "signed_by",
        "session",
        "session_participant",
        "appointment",
    ).prefetch_related(
        Prefetch("addenda", queryset=addenda.objects.select_related("author")),
        *note_model.CHILD_ROWS,
    )


def session_notes_by_participant(session: Session, user: User | None = None) -> list[ParticipantNotes]:
    """Every participant of ``session`` (booking order) with the notes ``user`` may read.

    ``user=None`` means no permission filter (services, commands).
    """
    participants = list(session.participants.select_related("patient").order_by("booked_at", "pk"))
    by_participant: dict[int | None, ParticipantNotes] = {
        participant.pk: ParticipantNotes(participant) for participant in participants
    }
    for specialty, note_model in _readable_models(user).items():
        # A link of every discipline's model, unknown to the plugin on the abstract ClinicalNote.
        for note in notes_with_details(note_model).filter(session=session):  # type: ignore[misc]
            entry = by_participant.get(note.session_participant_id)
            if entry is not None:
                entry.notes[specialty] = note
    return list(by_participant.values())


def patient_notes(patient: Patient, user: User | None = None) -> list[ClinicalNote]:
    """All notes of ``patient`` across the disciplines ``user`` may read, newest session first."""
    notes: list[ClinicalNote] = []
    for note_model in _readable_models(user).values():
        notes.extend(notes_with_details(note_model).filter(patient=patient))
    return sorted(notes, key=lambda note: (note.session_date, note.created_at), reverse=True)


def session_has_notes(session: Session) -> bool:
    """True when any discipline has a note on ``session``: such a session is cancelled, never deleted."""
    return any(note_model.objects.filter(session=session).exists() for note_model in note_models().values())
