"""The shared shape of a clinical note - psychology, OT and ABA - and invariant 7.

Each discipline's model (``psychology.PsychologySession``, ``ot.OTSession``,
``aba.ABASession``) inherits ``ClinicalNote`` and declares the three links itself,
exactly as the seed gives them: ``session`` and ``session_participant`` (CASCADE,
related name ``<app>_notes``) and the legacy ``appointment`` (SET_NULL, related
name ``<app>_sessions``).

The seed writes notes with ``objects.create(...)``, so ``save()`` itself enforces
the rules: the participant belongs to the session, the patient is the
participant's, a participant given alone fills in the session, a group-session
note names its participant, an individual session without one takes its only
participant, one note per participant per discipline, and a signed note is
read-only. PostgreSQL repeats the rules it can state (constraints, triggers), so
a raw write can't break them either.

Nothing written is lost: every note carries a ``version`` that goes up by one with
each save that writes more than its links, and a save from an older version is
refused (``StaleNoteError``) - here, and in PostgreSQL, which refuses a change that
doesn't move the version on. A signed note can't be deleted, nor can the session or
participation it belongs to (database triggers), and no text is longer than
``NOTE_TEXT_MAX_LENGTH`` characters (validators, and check constraints).
"""

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appointments.models import Appointment, Session, SessionParticipant
from appointments.notes.exceptions import (
    DuplicateNoteError,
    NoteContentError,
    NoteLinkError,
    SignedNoteError,
    StaleNoteError,
)
from core import clock
from core.tenancy import TenantScopedManager

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager

# Link columns a signed note still lets change: the back-fill fills in a missing
# session and participant, and deleting a legacy appointment clears its link
# (SET_NULL). Every other column of a signed note is frozen.
BACKFILLED_LINKS = ("session_id", "session_participant_id")
CLEARABLE_LINKS = ("appointment_id",)
# ``version`` moves on when an addendum is added to a signed note; nothing else of it changes.
UNGUARDED_COLUMNS = ("updated_at", "version")
# Fields a save may write without making a new version of the note: its links.
LINK_FIELDS = frozenset(
    {"session", "session_participant", "appointment", *BACKFILLED_LINKS, *CLEARABLE_LINKS, "updated_at"}
)

# The longest text a note field, a row's text or an addendum holds (about ten pages).
NOTE_TEXT_MAX_LENGTH = 20_000


@deconstructible
class NoteTextLengthValidator:
    """At most ``NOTE_TEXT_MAX_LENGTH`` characters, saying how many were written.

    A validator, not ``max_length``: a text area with ``maxlength`` cuts pasted text
    without a word; this refuses it and the form keeps every character.
    """

    code = "max_length"

    def __init__(self, limit: int = NOTE_TEXT_MAX_LENGTH) -> None:
        self.limit = limit

    def __call__(self, value: str | None) -> None:
        count = len(value or "")
        if count > self.limit:
            raise ValidationError(
                _("At most %(limit)s characters (you wrote %(count)s)."),
                code=self.code,
                params={"limit": f"{self.limit:,}", "count": f"{count:,}"},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoteTextLengthValidator) and other.limit == self.limit

    def __hash__(self) -> int:
        return hash((type(self), self.limit))


def text_length_constraint(name: str, fields: Iterable[str]) -> models.CheckConstraint:
    """PostgreSQL's ``char_length(field) <= NOTE_TEXT_MAX_LENGTH`` for each text field of a table."""
    return models.CheckConstraint(
        condition=models.Q(*(LessThanOrEqual(Length(field), NOTE_TEXT_MAX_LENGTH) for field in fields)),
        name=name,
        violation_error_message=gettext_lazy("A text of this note is longer than the limit."),
    )


def changed_at_text(moment: datetime.datetime) -> str:
    """ "14:05" for a moment today, the short date and time for an earlier day (installation time)."""
    local = timezone.localtime(moment, timezone.get_default_timezone())
    if local.date() == clock.today():
        return time_format(local, "H:i")
    return date_format(local, "SHORT_DATETIME_FORMAT")


def user_name(user: Any) -> str:
    if user is None:
        return _("someone else")
    return user.get_full_name() or user.get_username()


def note_state_constraints(prefix: str) -> list[models.BaseConstraint]:
    """Status is draft or signed, and only a signed note has a signer and a signing time."""
    return [
        models.CheckConstraint(
            condition=models.Q(status__in=["draft", "signed"]),
            name=f"{prefix}_note_status_valid",
        ),
        models.CheckConstraint(
            condition=models.Q(status="draft", signed_by__isnull=True, signed_at__isnull=True)
            | models.Q(status="signed", signed_by__isnull=False, signed_at__isnull=False),
            name=f"{prefix}_note_signature_matches_status",
            violation_error_message=gettext_lazy("A signed note records who signed it and when."),
        ),
        models.CheckConstraint(condition=models.Q(version__gte=1), name=f"{prefix}_note_version_positive"),
    ]


def note_link_constraints(prefix: str) -> list[models.BaseConstraint]:
    """A participant implies its session; one note per participant in each discipline."""
    return [
        models.CheckConstraint(
            condition=models.Q(session_participant__isnull=True) | models.Q(session__isnull=False),
            name=f"{prefix}_note_participant_needs_session",
            violation_error_message=gettext_lazy("A note for a participant is also linked to the session."),
        ),
        models.UniqueConstraint(
            fields=["session_participant"],
            name=f"{prefix}_one_note_per_participant",
            violation_error_message=gettext_lazy("This participant already has a note of this discipline."),
        ),
    ]


def _constraint_name(error: IntegrityError) -> str | None:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _as_content_error(error: ValidationError) -> NoteContentError:
    return NoteContentError(error.error_dict if hasattr(error, "error_dict") else error.error_list)


class ClinicalNote(models.Model):
    """One clinician's note about one patient for one session or legacy appointment."""

    class Status(models.TextChoices):
        DRAFT = "draft", gettext_lazy("Draft")
        SIGNED = "signed", gettext_lazy("Signed")

    # Set by each discipline: its ``Clinic.Specialty`` value, the content fields a
    # clinician writes, and the related names of its child rows (skills, records).
    specialty: str = ""
    CONTENT_FIELDS: tuple[str, ...] = ()
    CHILD_ROWS: tuple[str, ...] = ()
    tenant_path = "patient__tenant"

    if TYPE_CHECKING:
        # Declared by each discipline's model (see the module docstring): the three
        # links, the addenda and the history (simple-history has no type information),
        # typed here for the shared code.
        history: ClassVar[Any]
        session: Session | None
        session_id: int | None
        session_participant: SessionParticipant | None
        session_participant_id: int | None
        appointment: Appointment | None
        appointment_id: int | None
        addenda: RelatedManager["ClinicalNoteAddendum"]

    patient = models.ForeignKey(
        "core.Patient",
        verbose_name=gettext_lazy("patient"),
        on_delete=models.PROTECT,
        related_name="%(app_label)s_notes",
    )
    provider = models.ForeignKey(
        "core.Provider",
        verbose_name=gettext_lazy("provider"),
        on_delete=models.PROTECT,
        related_name="%(app_label)s_notes",
    )
    session_date = models.DateField(gettext_lazy("session date"))
    status = models.CharField(
        gettext_lazy("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("signed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    signed_at = models.DateTimeField(gettext_lazy("signed at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(gettext_lazy("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(gettext_lazy("updated at"), auto_now=True)
    version = models.PositiveIntegerField(
        gettext_lazy("version"),
        default=1,
        editable=False,
        help_text=gettext_lazy(
            "Goes up by one with every saved change; a save from an older version is refused."
        ),
    )

    objects = TenantScopedManager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} - {self.patient.full_name} - {self.session_date:%d/%m/%Y}"

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        new_version = False
        if self.pk is not None:
            stored = self._stored_columns()
            if stored is not None:
                self._refuse_change_if_signed(stored, update_fields)
                if stored["version"] != self.version:
                    raise self.stale_error(_("Reload the note and make the change again."))
                new_version = update_fields is None or bool(set(update_fields) - LINK_FIELDS)
        self.check_links()
        self.check_content()
        self._refuse_duplicate()
        loaded_version = self.version
        if new_version:
            # Every save that writes more than the links is a new version of the note;
            # PostgreSQL refuses one that doesn't move the version on from the stored one.
            self.version = loaded_version + 1
            if update_fields is not None and "version" not in update_fields:
                kwargs["update_fields"] = [*update_fields, "version"]
        try:
            # A savepoint, so a lost race on the unique constraint leaves the
            # caller's transaction usable and no partial row behind.
            with transaction.atomic():
                super().save(*args, **kwargs)
        except IntegrityError as error:
            self.version = loaded_version
            if _constraint_name(error) == self.one_note_constraint_name():
                raise DuplicateNoteError(self._duplicate_message()) from error
            if _constraint_name(error) == self.version_constraint_name():
                raise self.stale_error(_("Reload the note and make the change again.")) from error
            raise
        except BaseException:
            self.version = loaded_version
            raise

    def delete(self, *args, **kwargs):
        if type(self)._base_manager.filter(pk=self.pk, status=self.Status.SIGNED).exists():
            raise SignedNoteError(_("A signed note is part of the record and can't be deleted."))
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        self.clean_content()

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    @classmethod
    def content_field(cls, name: str) -> models.Field:
        """The model field of a name in ``CONTENT_FIELDS`` (a column, never a reverse relation)."""
        return cast(models.Field, cls._meta.get_field(name))

    @classmethod
    def row_model(cls, related_name: str) -> type["NoteChildRow"]:
        """The model of a name in ``CHILD_ROWS`` (a reverse relation to a NoteChildRow model)."""
        return cast(type[NoteChildRow], cls._meta.get_field(related_name).related_model)

    @classmethod
    def one_note_constraint_name(cls) -> str:
        return f"{cls._meta.app_label}_one_note_per_participant"

    @classmethod
    def version_constraint_name(cls) -> str:
        """The name the database's version trigger reports when a change doesn't move the version on."""
        return f"{cls._meta.app_label}_note_version_moves_on"

    def last_change(self) -> tuple[Any, datetime.datetime | None]:
        """(user, moment) of the note's latest saved change, from its history (None, None without one)."""
        record = (
            type(self)
            .history.filter(id=self.pk)
            .select_related("history_user")
            .order_by("-history_date", "-history_id")
            .first()
        )
        if record is None:
            return None, None
        return record.history_user, record.history_date

    def saved_at_version(self, version: int | None) -> Any:
        """The history record of the note as it was saved at ``version``; None when unknown.

        What a page built from that version showed: a field the page sends back unchanged
        from it is one its user didn't touch (``appointments.notes.forms.merge_untouched``).
        """
        if version is None or self.pk is None:
            return None
        records = type(self).history.filter(id=self.pk, version=version)
        return records.order_by("-history_date", "-history_id").first()

    def stale_error(self, what_to_do: str) -> StaleNoteError:
        """The refusal of a save from an older version, naming who changed the note and when."""
        current = type(self)._base_manager.filter(pk=self.pk).values_list("version", flat=True).first()
        changed_by, changed_at = self.last_change()
        changed = _("This note was changed by %(user)s at %(time)s while you were editing.") % {
            "user": user_name(changed_by),
            "time": changed_at_text(changed_at) if changed_at is not None else "-",
        }
        error = StaleNoteError(f"{changed} {what_to_do}", code="stale")
        error.current_version = current
        error.changed_by = changed_by
        error.changed_at = changed_at
        return error

    def check_links(self) -> None:
        """Fill in what the links imply and refuse links that don't belong together.

        Raises NoteLinkError: participant of another session, group session without a
        participant, individual session without an active participant, appointment and
        participant of different bookings, patient other than the booking's, or no
        patient/provider/date to be found.
        """
        participant = self.session_participant if self.session_participant_id else None
        if participant is not None:
            if self.session_id is None:
                self.session = participant.session
            elif participant.session_id != self.session_id:
                raise NoteLinkError(
                    _("Participation %(number)s belongs to another session, not to this note's session.")
                    % {"number": participant.appointment_number}
                )
        session = self.session if self.session_id else None
        if session is not None and participant is None:
            participant = self._only_participant_of(session)
            self.session_participant = participant
        appointment = self.appointment if self.appointment_id else None
        if participant is not None and appointment is not None:
            if participant.legacy_appointment_id != appointment.pk:
                raise NoteLinkError(
                    _(
                        "Appointment %(appointment)s and participation %(number)s are different bookings; "
                        "link the note to one of them."
                    )
                    % {
                        "appointment": appointment.appointment_number,
                        "number": participant.appointment_number,
                    }
                )
        self._check_patient(participant, appointment)
        slot = session or appointment
        if self.provider_id is None:
            if slot is None:
                raise NoteLinkError(_("A note needs a provider."))
            self.provider_id = slot.provider_id
        if self.session_date is None:
            if slot is None:
                raise NoteLinkError(_("A note needs a session date."))
            self.session_date = slot.scheduled_date

    def check_content(self) -> None:
        """Validate the clinical content (choices, lengths, cross-field rules). Raises NoteContentError."""
        content = set(self.CONTENT_FIELDS)
        others = [field.name for field in self._meta.concrete_fields if field.name not in content]
        try:
            self.full_clean(exclude=others, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            raise _as_content_error(error) from error

    def clean_content(self) -> None:
        """Cross-field rules of the discipline's content; each discipline overrides as needed."""

    def has_content(self) -> bool:
        """Whether the clinician wrote anything: a field left at its default (e.g. risk "none") isn't."""
        written = any(self._is_written(name) for name in self.CONTENT_FIELDS)
        return written or any(getattr(self, name).exists() for name in self.CHILD_ROWS)

    def _is_written(self, name: str) -> bool:
        value = getattr(self, name)
        default = self.content_field(name).get_default()
        return value != default and bool(str(value if value is not None else "").strip())

    def _only_participant_of(self, session: Session) -> SessionParticipant:
        if session.is_group:
            raise NoteLinkError(_("A note on a group session must name the participant it is about."))
        active = list(session.participants.exclude(status__in=SessionParticipant.INACTIVE_STATUSES)[:2])
        if len(active) != 1:
            raise NoteLinkError(_("This individual session has no active participant to write a note for."))
        return active[0]

    def _check_patient(self, participant: SessionParticipant | None, appointment: Appointment | None) -> None:
        bookings = [
            (participant, _("participation")),
            (appointment, _("appointment")),
        ]
        for booking, kind in bookings:
            if booking is None:
                continue
            if self.patient_id is None:
                self.patient_id = booking.patient_id
            elif booking.patient_id != self.patient_id:
                raise NoteLinkError(
                    _("This note is about %(patient)s, but %(kind)s %(number)s is %(other)s's.")
                    % {
                        "patient": self.patient.full_name,
                        "kind": kind,
                        "number": booking.appointment_number,
                        "other": booking.patient.full_name,
                    }
                )
        if self.patient_id is None:
            raise NoteLinkError(_("A note needs a patient."))

    def _refuse_duplicate(self) -> None:
        if self.session_participant_id is None:
            return
        # The plugin checks lookups against the abstract model; each discipline's model has this column.
        others = type(self)._base_manager.filter(session_participant_id=self.session_participant_id)  # type: ignore[misc]
        if others.exclude(pk=self.pk).exists():
            raise DuplicateNoteError(self._duplicate_message())

    def _duplicate_message(self) -> str:
        # Only a participant's note has a duplicate (the unique constraint is on the participant).
        participant = cast(SessionParticipant, self.session_participant)
        return _(
            "%(patient)s already has a %(note)s for participation %(number)s; edit that note instead."
        ) % {
            "patient": participant.patient.full_name,
            "note": self._meta.verbose_name,
            "number": participant.appointment_number,
        }

    def _stored_columns(self) -> dict[str, Any] | None:
        columns = [field.attname for field in self._meta.concrete_fields]
        return type(self)._base_manager.filter(pk=self.pk).values(*columns).first()

    def _refuse_change_if_signed(self, stored: dict[str, Any], update_fields: Iterable[str] | None) -> None:
        if stored["status"] != self.Status.SIGNED:
            return
        if update_fields is not None and set(update_fields) <= {"version", "updated_at"}:
            return  # an addendum moves the version on; nothing else of the note is written
        columns = list(stored)
        changed = {name for name in columns if stored[name] != getattr(self, name)} - set(UNGUARDED_COLUMNS)
        link_only = all(
            (name in BACKFILLED_LINKS and stored[name] is None)
            or (name in CLEARABLE_LINKS and getattr(self, name) is None)
            for name in changed
        )
        if not changed or not link_only:
            raise SignedNoteError(
                _("This note was signed on %(day)s and can't be changed; add an addendum instead.")
                % {"day": date_format(clock.local_day(stored["signed_at"]), "SHORT_DATE_FORMAT")}
            )


class NoteChildRow(models.Model):
    """A row of a note's content (an OT target skill, an ABA record): frozen once the note is signed.

    Subclasses declare ``note`` (a ForeignKey to their note model) and ``ROW_FIELDS``,
    the fields the note service accepts for a row.
    """

    ROW_FIELDS: tuple[str, ...] = ()
    tenant_path = "note__patient__tenant"

    if TYPE_CHECKING:
        # Declared by each subclass.
        note: ClinicalNote
        note_id: int
        history: ClassVar[Any]

    objects = TenantScopedManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.refuse_if_note_signed()
        self.check_row()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.refuse_if_note_signed()
        return super().delete(*args, **kwargs)

    def check_row(self) -> None:
        """Validate the row's fields and rules. Raises NoteContentError."""
        try:
            self.full_clean(exclude=["note"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            raise _as_content_error(error) from error

    def refuse_if_note_signed(self) -> None:
        note_model = note_model_of(self)
        if note_model._base_manager.filter(pk=self.note_id, status=ClinicalNote.Status.SIGNED).exists():
            raise SignedNoteError(
                _("The note is signed; its rows can't be changed. Add an addendum instead.")
            )


class ClinicalNoteAddendum(models.Model):
    """A correction or later remark on a signed note: written once, never changed.

    Subclasses declare ``note`` (a ForeignKey to their note model, related name
    ``addenda``).
    """

    text = models.TextField(gettext_lazy("text"), validators=[NoteTextLengthValidator()])
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(gettext_lazy("created at"), auto_now_add=True)

    tenant_path = "note__patient__tenant"
    objects = TenantScopedManager()

    if TYPE_CHECKING:
        # Declared by each subclass.
        note: ClinicalNote
        note_id: int

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return _("Addendum by %(author)s on %(day)s") % {
            "author": self.author,
            "day": date_format(clock.local_day(self.created_at), "SHORT_DATE_FORMAT")
            if self.created_at
            else "-",
        }

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise SignedNoteError(_("An addendum can't be changed; add another one."))
        if not (self.text or "").strip():
            raise NoteContentError({"text": _("Write the text of the addendum.")})
        try:
            NoteTextLengthValidator()(self.text)
        except ValidationError as error:
            raise NoteContentError({"text": error.messages}) from error
        note_model = note_model_of(self)
        if not note_model._base_manager.filter(pk=self.note_id, status=ClinicalNote.Status.SIGNED).exists():
            raise SignedNoteError(_("Only a signed note takes addenda; edit the draft instead."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise SignedNoteError(_("An addendum is part of the record and can't be deleted."))


def note_model_of(row: NoteChildRow | ClinicalNoteAddendum) -> type[ClinicalNote]:
    """The note model a row's or an addendum's ``note`` ForeignKey points to."""
    # A ForeignKey's related model is a model class once the apps are loaded. The plugin
    # looks "note" up on the abstract model; each subclass declares it.
    return cast(type[ClinicalNote], row._meta.get_field("note").related_model)  # type: ignore[misc]


def addendum_text_constraint(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(text__regex=r"\S"),
        name=f"{prefix}_addendum_text_not_blank",
        violation_error_message=gettext_lazy("Write the text of the addendum."),
    )


def addendum_constraints(prefix: str) -> list[models.BaseConstraint]:
    """An addendum has text, and no more than ``NOTE_TEXT_MAX_LENGTH`` characters of it."""
    return [
        addendum_text_constraint(prefix),
        text_length_constraint(f"{prefix}_addendum_text_within_limit", ["text"]),
    ]
