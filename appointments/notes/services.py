"""NoteService: writing, signing and correcting clinical notes (psychology, OT, ABA).

Each method runs in one transaction. Locks follow ``core.locks``' order - session,
then participant, then the note (a new note's provider before them all) - so note
writing and scheduling changes queue instead of deadlocking. Notes are never deleted
here: a session with notes is cancelled, not removed, and a signed note is corrected
by an addendum.

Optimistic locking: a page that shows a note sends back the ``version`` it showed
(``expected_version``); the method locks the note, compares, and refuses with
``StaleNoteError`` when somebody saved in between, so a save never writes over a
change its author hasn't seen. Each save of the note - content, rows, signing, an
addendum - moves the version on by one (``ClinicalNote.save``). Without
``expected_version`` (code, not a page) only the fields named are changed, on the row
as locked.
"""

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from appointments import timing
from appointments.models import Session, SessionParticipant
from appointments.notes.exceptions import NoteContentError, NoteLinkError, NoteTimingError, SignedNoteError
from appointments.notes.models import ClinicalNote, ClinicalNoteAddendum, NoteChildRow
from appointments.notes.registry import note_models
from appointments.workflow import copy_state, save_with_history
from core import clock, locks
from core.models import Provider, User
from core.permissions import is_admin

Rows = Iterable[Mapping[str, Any]]


def _lock_participant(participant: SessionParticipant) -> SessionParticipant:
    # Session first, then participant: the order SessionService uses, so a note
    # written during check-in or cancellation waits instead of deadlocking.
    locks.lock_row_if_exists(Session, participant.session_id)
    return locks.lock_row(SessionParticipant.objects.select_related("session", "patient"), participant.pk)


def _lock_note(note: ClinicalNote) -> ClinicalNote:
    # Row lock on the note: signing, editing and addenda of one note run one at a
    # time, so nobody edits a note while it is being signed.
    return locks.lock_row(type(note), note.pk)


def _refuse_stale(locked: ClinicalNote, expected_version: int | None, what_to_do: str) -> None:
    """StaleNoteError when the caller read another version than the locked, current one."""
    if expected_version is not None and locked.version != expected_version:
        raise locked.stale_error(what_to_do)


def _split_content(note_model: type[ClinicalNote], content: Mapping[str, Any]) -> tuple[dict, dict]:
    unknown = set(content) - set(note_model.CONTENT_FIELDS) - set(note_model.CHILD_ROWS)
    if unknown:
        raise TypeError(f"{note_model.__name__} has no content field(s): {', '.join(sorted(unknown))}")
    fields = {name: value for name, value in content.items() if name in note_model.CONTENT_FIELDS}
    rows = {name: list(value) for name, value in content.items() if name in note_model.CHILD_ROWS}
    return fields, rows


def _row_model(note_model: type[ClinicalNote], related_name: str) -> type[NoteChildRow]:
    return note_model.row_model(related_name)


def _build_rows(note: ClinicalNote, rows: dict[str, list]) -> dict[str, list[NoteChildRow]]:
    """Validate every child row before anything is written; raise NoteContentError naming the row."""
    built: dict[str, list[NoteChildRow]] = {}
    for related_name, values in rows.items():
        row_model = _row_model(type(note), related_name)
        built[related_name] = []
        for position, value in enumerate(values, start=1):
            unknown = set(value) - set(row_model.ROW_FIELDS)
            if unknown:
                raise TypeError(f"{row_model.__name__} has no field(s): {', '.join(sorted(unknown))}")
            row = row_model(**value)
            try:
                row.check_row()
            except NoteContentError as error:
                raise NoteContentError(
                    _("%(row)s %(position)d: %(problems)s")
                    % {
                        # Set on every model class; django-stubs types Options.verbose_name as optional.
                        "row": row_model._meta.verbose_name.capitalize(),  # type: ignore[union-attr]
                        "position": position,
                        "problems": " ".join(error.messages),
                    }
                ) from error
            built[related_name].append(row)
    return built


def _replace_rows(note: ClinicalNote, built: dict[str, list[NoteChildRow]], user: User | None) -> None:
    for related_name, new_rows in built.items():
        # One by one, not a bulk delete/insert: each row keeps its history with the user.
        for old_row in getattr(note, related_name).all():
            if user is not None:
                old_row._history_user = user
            old_row.delete()
        for row in new_rows:
            row.note = note
            save_with_history(row, user)


class NoteService:
    """The writer of clinical notes: create for a participant, update a draft, sign, add an addendum."""

    @staticmethod
    def note_model_for_specialty(specialty: str) -> type[ClinicalNote] | None:
        """The note model of a ``Clinic.Specialty`` value (psychology, ot, aba), None for the others."""
        return note_models().get(specialty)

    @staticmethod
    @transaction.atomic
    def create_note(
        note_model: type[ClinicalNote],
        *,
        participant: SessionParticipant,
        provider: Provider,
        user: User | None = None,
        session_date: datetime.date | None = None,
        **content: Any,
    ) -> ClinicalNote:
        """Write a draft note of ``note_model``'s discipline for ``participant``.

        ``content`` holds the discipline's fields (``note_model.CONTENT_FIELDS``) and
        its child rows as lists of dicts (``target_skills`` for OT, ``behaviour_records``
        and ``skill_targets`` for ABA). The note takes the participant's patient and
        session, and the session's date unless ``session_date`` is given.

        Raises NoteLinkError (participation cancelled or turned away), DuplicateNoteError (the
        participant already has a note of this discipline), NoteContentError (invalid
        content or row); nothing is written when any is raised.
        """
        fields, rows = _split_content(note_model, content)
        # The provider before the session (core.locks' order): inserting the note checks
        # its foreign key, a key-share lock on the provider that waits for a booking
        # holding it - a booking that may be waiting for this note's patient.
        locks.lock_row_if_exists(Provider, provider.pk)
        locked = _lock_participant(participant)
        if locked.status in SessionParticipant.INACTIVE_STATUSES:
            raise NoteLinkError(
                _("%(patient)s's booking %(number)s is %(status)s; a note can't be written for it.")
                % {
                    "patient": locked.patient.full_name,
                    "number": locked.appointment_number,
                    "status": locked.get_status_display().lower(),
                }
            )
        # The links are declared by each discipline's model: unknown to the plugin on abstract ClinicalNote.
        note = note_model(  # type: ignore[misc]
            patient=locked.patient,
            provider=provider,
            session=locked.session,
            session_participant=locked,
            session_date=session_date or locked.session.scheduled_date,
            created_by=user,
            **fields,
        )
        built = _build_rows(note, rows)
        save_with_history(note, user)
        _replace_rows(note, built, user)
        return note

    @staticmethod
    @transaction.atomic
    def update_note(
        note: ClinicalNote, *, user: User | None = None, expected_version: int | None = None, **content: Any
    ) -> ClinicalNote:
        """Change a draft's content; child rows given as lists of dicts replace the old rows.

        ``expected_version`` is the version the editing page showed. Raises
        SignedNoteError for a signed note, StaleNoteError when the note is at another
        version, and NoteContentError for invalid content; nothing is written when any
        is raised. The note's version moves on by one, rows included.
        """
        fields, rows = _split_content(type(note), content)
        locked = _lock_note(note)
        if locked.is_signed:
            raise SignedNoteError(_("This note is signed and can't be changed; add an addendum instead."))
        _refuse_stale(locked, expected_version, _("Compare your text with the saved note, then save again."))
        for name, value in fields.items():
            setattr(locked, name, value)
        built = _build_rows(locked, rows)
        save_with_history(locked, user)
        _replace_rows(locked, built, user)
        return copy_state(note, locked)

    @staticmethod
    @transaction.atomic
    def sign_note(note: ClinicalNote, *, user: User, expected_version: int | None = None) -> ClinicalNote:
        """Sign a draft: from now on it is read-only. Only its provider (or an administrator) signs.

        ``expected_version`` is the version the signer read. Raises SignedNoteError
        (already signed), NoteLinkError (someone else's note), StaleNoteError (changed
        since it was read), NoteContentError (nothing written yet) and NoteTimingError
        (the child hasn't come or the session hasn't started: ``timing.signing_problem``).
        """
        locked = _lock_note(note)
        if locked.is_signed:
            raise SignedNoteError(_("This note is already signed."))
        if locked.provider.user_id != user.pk and not is_admin(user):
            raise NoteLinkError(
                _("Only %(provider)s, who wrote this note, can sign it.") % {"provider": locked.provider}
            )
        _refuse_stale(locked, expected_version, _("Read it again before signing."))
        if not locked.has_content():
            raise NoteContentError(_("This note is empty; write it before signing."))
        problem = timing.signing_problem(locked)
        if problem is not None:
            raise NoteTimingError(problem)
        locked.status = ClinicalNote.Status.SIGNED
        locked.signed_by = user
        locked.signed_at = clock.now()
        save_with_history(locked, user, ["status", "signed_by", "signed_at", "updated_at"])
        return copy_state(note, locked)

    @staticmethod
    @transaction.atomic
    def add_addendum(
        note: ClinicalNote, *, text: str, user: User, expected_version: int | None = None
    ) -> ClinicalNoteAddendum:
        """Add a correction or later remark to a signed note, with its author and time.

        ``expected_version`` is the version the author read; the note's version moves
        on by one. Raises SignedNoteError for a draft (edit it instead), StaleNoteError
        when the note changed since it was read (another addendum) and NoteContentError
        for an empty or too long text.
        """
        locked = _lock_note(note)
        if not locked.is_signed:
            raise SignedNoteError(_("Only a signed note takes addenda; edit the draft instead."))
        _refuse_stale(locked, expected_version, _("Read it again; your addendum is kept below."))
        text = (text or "").strip()
        if not text:
            raise NoteContentError({"text": _("Write the text of the addendum.")})
        # ``note`` is declared by each discipline's addendum model, unknown to the plugin on the abstract one.
        addendum = locked.addenda.model(note=locked, text=text, author=user)  # type: ignore[misc]
        save_with_history(addendum, user)
        save_with_history(locked, user, ["version", "updated_at"])
        copy_state(note, locked)
        return addendum

    @staticmethod
    @transaction.atomic
    def save_draft(
        note: ClinicalNote, *, expected_version: int | None, user: User | None = None
    ) -> ClinicalNote:
        """Save a draft edited as a whole (the admin's change page): every field as given.

        ``expected_version`` is the version the page was loaded with. Raises
        SignedNoteError (signed meanwhile), StaleNoteError (changed meanwhile), and what
        ``ClinicalNote.save()`` refuses (links, content).
        """
        locked = _lock_note(note)
        if locked.is_signed:
            raise SignedNoteError(_("This note is signed and can't be changed; add an addendum instead."))
        _refuse_stale(locked, expected_version, _("Compare your text with the saved note, then save again."))
        note.version = locked.version
        save_with_history(note, user)
        return note

    @staticmethod
    @transaction.atomic
    def link_note_to_participant(
        note: ClinicalNote, *, participant: SessionParticipant, user: User | None = None
    ) -> ClinicalNote:
        """Point a legacy note at the session participation made for its booking (the back-fill).

        Allowed on signed notes too: it fills in links, never content, so the note's
        version stays (a page open on it can still save). The note keeps its
        ``appointment`` link. Idempotent. Raises NoteLinkError (already linked to
        another participation, or another patient's) and DuplicateNoteError.
        """
        locked_participant = _lock_participant(participant)
        locked = _lock_note(note)
        if locked.session_participant_id == locked_participant.pk:
            return copy_state(note, locked)
        if locked.session_participant is not None:
            raise NoteLinkError(
                _("This note is already linked to participation %(number)s.")
                % {"number": locked.session_participant.appointment_number}
            )
        locked.session = locked_participant.session
        locked.session_participant = locked_participant
        save_with_history(locked, user, ["session", "session_participant", "updated_at"])
        return copy_state(note, locked)
