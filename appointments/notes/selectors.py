"""Read queries for clinical notes: a fixed number of queries whatever the number of rows.

Disciplines are filtered with ``core.permissions.readable_specialties`` so a page
shows only the notes its viewer may read.
"""

from dataclasses import dataclass, field
from typing import Any, cast

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from appointments.models import Session, SessionParticipant
from appointments.notes.models import ClinicalNote, ClinicalNoteAddendum
from appointments.notes.registry import note_kind, note_models
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


# Children with no note to write: their booking was cancelled, they were turned away, or they
# didn't come. "Next child" passes over them.
NO_NOTE_TO_WRITE = (*SessionParticipant.INACTIVE_STATUSES, SessionParticipant.Status.NO_SHOW)


@dataclass(frozen=True)
class NextChild:
    """The participant after another on a session, and their note of the discipline if written."""

    participant: SessionParticipant
    note_pk: int | None
    note_signed: bool


def next_child(
    note_model: type[ClinicalNote], participant: SessionParticipant, user: User
) -> NextChild | None:
    """The next participant of ``participant``'s session with a ``note_model`` note to write, or None.

    The session's participant order (booked first, then by id, as on the session page);
    children cancelled, turned away or not come (``NO_NOTE_TO_WRITE``) are passed over.
    One query, whatever the size of the group: the note's id and status come as subqueries.
    """
    notes = note_model.objects.filter(session_participant=OuterRef("pk"))
    after = Q(booked_at__gt=participant.booked_at) | Q(booked_at=participant.booked_at, pk__gt=participant.pk)
    following = (
        SessionParticipant.objects.for_user(user)
        .filter(after, session_id=participant.session_id)
        .exclude(status__in=NO_NOTE_TO_WRITE)
        .annotate(
            note_pk=Subquery(notes.values("pk")[:1]),
            note_status=Subquery(notes.values("status")[:1]),
        )
        .order_by("booked_at", "pk")
        .first()
    )
    if following is None:
        return None
    return NextChild(
        participant=following,
        note_pk=following.note_pk,
        note_signed=following.note_status == ClinicalNote.Status.SIGNED,
    )


@dataclass(frozen=True)
class CarriedOver:
    """The rows a new note starts with, by related name, and the signed note they come from."""

    source: ClinicalNote
    rows: dict[str, list[dict[str, Any]]]


def carried_over_rows(
    note_model: type[ClinicalNote], participant: SessionParticipant, user: User
) -> CarriedOver | None:
    """What a new ``note_model`` note for ``participant`` copies from the child's last signed note.

    The discipline names the rows and fields copied (``NoteKind.carried_over``: OT's skill
    names, ABA's targets with their prompt levels); the rest of each row starts empty.
    "Last": the latest session date up to this session's (a note written late for an earlier
    session copies nothing from later ones), and of one day the one signed last. Drafts are
    not the record yet and are ignored. The patient pins the child and so the organisation,
    and the read keeps to ``user``'s organisation as every page's does. None when the
    discipline carries nothing over, the child has no signed note or it has no such rows.
    One query for the note, one per kind of row copied.
    """
    carried = note_kind(note_model.specialty).carried_over
    if not carried:
        return None
    source = (
        note_model.objects.for_user(user)
        .filter(
            patient_id=participant.patient_id,
            status=ClinicalNote.Status.SIGNED,
            session_date__lte=participant.session.scheduled_date,
        )
        .order_by("-session_date", "-signed_at", "-pk")
        .first()
    )
    if source is None:
        return None
    rows = {
        rows.related_name: list(getattr(source, rows.related_name).values(*rows.fields)) for rows in carried
    }
    return CarriedOver(source, rows) if any(rows.values()) else None
