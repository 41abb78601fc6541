"""Errors raised when a clinical note would break invariant 7 or its discipline's rules.

All are ``ValidationError`` subclasses, so forms and the admin show them like any
other validation message; each message says what is wrong and what to do instead.
"""

from django.core.exceptions import ValidationError


class NoteError(ValidationError):
    """Base class for every clinical-note rule a request broke."""


class NoteLinkError(NoteError):
    """Patient, session, participant and appointment of a note don't belong together."""


class DuplicateNoteError(NoteError):
    """The participant already has a note of this discipline."""


class SignedNoteError(NoteError):
    """The note is signed (read-only), or an addendum was asked for on a draft."""


class StaleNoteError(NoteError):
    """The note changed since the page (or the caller) read it: saving would overwrite that change.

    ``current_version`` is the version now saved, ``changed_by`` (a user or None) and
    ``changed_at`` say who changed it last and when, so a page can show both texts.
    """

    current_version: int | None = None
    changed_by: object = None
    changed_at: object = None


class NoteContentError(NoteError):
    """The clinical content is invalid: a rating off its scale, correct above trials, no safety plan."""


class NoteTimingError(NoteError):
    """Too early to sign: the child hasn't come (arrived or attended) or the session hasn't started."""
