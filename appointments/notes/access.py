"""Fetch-and-authorise helpers for the clinical-note pages.

Clinical content is shown only to the clinicians of its discipline and to
administrators (``can_read_notes``); writing a note also needs a provider profile,
because a note names its provider (``can_write_notes``). The order of the checks
is fixed: a user who can read no notes at all gets a 403 before anything is
looked up, a row outside the user's organisation is a 404 like a row that
doesn't exist, and only then is the discipline of the row checked (403).

Break the glass (``core.break_glass``): a clinician holding a running grant for a
child also reads that child's notes of the other disciplines, on the read-only
pages only (the note page with ``under_break_glass``, the chart). Nothing else
honours the grant - writing, signing, addenda, the session page - so it never
opens more than reading. On the note page a clinician of another discipline is
therefore refused only after the lookup (an unknown id is a 404 for them). A read
that only the grant allows is marked (``core.access_log.mark_break_glass_read``) so
the access log records it as ``break_glass``.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from appointments import timing
from appointments.models import Session, SessionParticipant
from appointments.notes.models import ClinicalNote
from appointments.notes.selectors import notes_with_details, patient_notes, session_notes_by_participant
from appointments.notes.services import NoteService
from core.access_log import mark_break_glass_read
from core.break_glass import active_grant, can_break_glass
from core.models import Patient, User
from core.permissions import (
    can_read_notes,
    can_write_notes,
    is_admin,
    readable_specialties,
)
from core.tenancy import for_user

# A note is offered for children who came: checked in (arrived) or attended. A child
# not checked in has not passed the finance and consent gates of check-in.
CAME_TO_THE_SESSION = (SessionParticipant.Status.ARRIVED, SessionParticipant.Status.ATTENDED)


class DisciplineWithoutNotes(Http404):
    """The clinic's discipline (speech therapy, medical, nursing) keeps no notes in this system."""

    def __init__(self, participant: SessionParticipant) -> None:
        self.participant = participant
        clinic = participant.session.clinic
        self.message = _("%(clinic)s is a %(specialty)s clinic; its notes are not kept in this system.") % {
            "clinic": clinic,
            "specialty": clinic.get_specialty_display().lower(),
        }
        super().__init__(self.message)


@dataclass(frozen=True)
class NoteActions:
    """What one viewer may do with one note; the pages show only these buttons."""

    can_edit: bool
    can_sign: bool
    can_add_addendum: bool


def note_actions(user: User, note: ClinicalNote) -> NoteActions:
    """Drafts are edited by the discipline's writers and signed by their author or an administrator
    once the child has come and the session has started (``timing.signing_problem``); signed
    notes take addenda from anyone who may read them.

    ``note`` comes with its links loaded (``notes_with_details``), so this costs no query."""
    readable = can_read_notes(user, note.specialty)
    draft = not note.is_signed
    signer = note.provider.user_id == user.pk or is_admin(user)
    return NoteActions(
        can_edit=draft and can_write_notes(user, note.specialty),
        can_sign=draft and readable and signer and timing.signing_problem(note) is None,
        can_add_addendum=not draft and readable,
    )


def label_note(note: ClinicalNote, user: User) -> ClinicalNote:
    """Give a listed note its kind (``kind_label``) and what ``user`` may do with it (``actions``)."""
    # Attributes for the templates, not fields (declaring them on the model would claim every note has them).
    note.kind_label = note._meta.verbose_name  # type: ignore[attr-defined]
    note.actions = note_actions(user, note)  # type: ignore[attr-defined]
    return note


def access_note(
    user: User, specialty: str, pk: int, *, write: bool = False, under_break_glass: bool = False
) -> ClinicalNote:
    """The ``specialty`` note ``pk`` with its details, if ``user`` may read it (and write it, with ``write``).

    404 for a discipline without notes, an unknown id or another organisation's
    note; 403 for a reader of another discipline (front desk, finance, a
    psychologist on an OT note), and with ``write`` for a user without a provider
    profile. With ``under_break_glass`` (read-only pages only) a clinician's running
    grant for the note's patient stands in for the discipline, and the read is marked.
    """
    note_model = NoteService.note_model_for_specialty(specialty)
    if note_model is None:
        raise Http404
    readable = can_read_notes(user, specialty)
    if not readable and not (under_break_glass and can_break_glass(user)):
        raise PermissionDenied
    notes = for_user(notes_with_details(note_model), user)
    # "session" is a link of every discipline's model, unknown to the plugin on the abstract ClinicalNote.
    note = get_object_or_404(notes.select_related("session__clinic", "created_by"), pk=pk)  # type: ignore[misc]
    if not readable:
        if active_grant(user, note.patient_id) is None:
            raise PermissionDenied
        mark_break_glass_read(user)
    if write and not can_write_notes(user, specialty):
        raise PermissionDenied
    return note


def access_participant_for_notes(user: User, pk: int) -> tuple[SessionParticipant, type[ClinicalNote]]:
    """Participant ``pk`` and the note model of its session's discipline, if ``user`` may write that note.

    403 for users who read no notes at all, 404 outside the organisation,
    DisciplineWithoutNotes (a 404 saying why) for a clinic whose discipline keeps
    no notes here, 403 for a writer of another discipline or a user without a
    provider profile.
    """
    if not readable_specialties(user):
        raise PermissionDenied
    participants = SessionParticipant.objects.for_user(user)
    participant = get_object_or_404(
        participants.select_related("session__clinic", "session__provider__user", "patient"), pk=pk
    )
    clinic = participant.session.clinic
    note_model = NoteService.note_model_for_specialty(clinic.specialty)
    if note_model is None:
        raise DisciplineWithoutNotes(participant)
    if not can_write_notes(user, clinic.specialty):
        raise PermissionDenied
    return participant, note_model


def session_notes_context(session: Session, user: User, participants: list[SessionParticipant]) -> dict:
    """What the session page shows of notes: each participant's readable notes and the buttons.

    Sets ``readable_notes`` (notes with their ``actions``) and ``can_write_note``
    (a writer of the discipline, a child who came, no note yet) on each of
    ``participants``. Users who read no notes (front desk, finance) get
    nothing and cost no query.
    """
    reads_notes = bool(readable_specialties(user))
    specialty = session.clinic.specialty
    writable = (
        reads_notes
        and NoteService.note_model_for_specialty(specialty) is not None
        and can_write_notes(user, specialty)
    )
    notes_by_participant = {}
    if reads_notes:
        notes_by_participant = {
            entry.participant.pk: entry.notes for entry in session_notes_by_participant(session, user)
        }
    for participant in participants:
        notes = notes_by_participant.get(participant.pk, {})
        # Attributes for the template, not fields (as in label_note).
        participant.readable_notes = [label_note(note, user) for note in notes.values()]  # type: ignore[attr-defined]
        participant.can_write_note = (  # type: ignore[attr-defined]
            writable and specialty not in notes and participant.status in CAME_TO_THE_SESSION
        )
    return {"shows_notes": reads_notes}


def patient_notes_context(patient: Patient, user: User) -> dict:
    """The patient chart's notes: every note ``user`` may read, across disciplines, newest first.

    A clinician with a running break-the-glass grant for ``patient`` reads every
    discipline's notes of this child (``break_glass_grant`` names the grant); the read
    is marked when it lists a note of another discipline. ``can_break_glass``: the
    chart offers the clinician to start a grant.
    """
    grant = active_grant(user, patient.pk)
    reads_notes = bool(readable_specialties(user))
    # The grant opens every discipline of this one child: no discipline filter.
    listed = patient_notes(patient, None if grant is not None else user) if reads_notes else []
    notes = [label_note(note, user) for note in listed]
    if any(not can_read_notes(user, note.specialty) for note in notes):
        mark_break_glass_read(user)
    return {
        "shows_notes": reads_notes,
        "notes": notes,
        "break_glass_grant": grant,
        "can_break_glass": can_break_glass(user),
    }
