"""Occupational-therapy session notes, with the target skills rated in each session."""

from decimal import ROUND_HALF_UP, Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from appointments.notes.models import (
    ClinicalNote,
    ClinicalNoteAddendum,
    NoteChildRow,
    NoteTextLengthValidator,
    addendum_constraints,
    note_link_constraints,
    note_state_constraints,
    text_length_constraint,
)
from core.models import Clinic

RATING_MIN = 0
RATING_MAX = 10
RATING_SCALE_MESSAGE = _("Rate each skill from 0 (not achieved) to 10 (fully independent).")
# The free-text fields, each at most NOTE_TEXT_MAX_LENGTH characters (validators and a check constraint).
TEXT_FIELDS = ("activities", "sensory_observations", "recommendations", "home_programme")


class OTSession(ClinicalNote):
    """An occupational therapist's note on one patient's session."""

    class Level(models.TextChoices):
        POOR = "poor", _("Poor")
        FAIR = "fair", _("Fair")
        GOOD = "good", _("Good")
        EXCELLENT = "excellent", _("Excellent")

    specialty = Clinic.Specialty.OT
    CONTENT_FIELDS = (
        "activities",
        "attention_level",
        "cooperation_level",
        "sensory_observations",
        "recommendations",
        "home_programme",
    )
    CHILD_ROWS = ("target_skills",)

    # Link to centralized session (for scheduling/capacity management).
    session = models.ForeignKey(
        "appointments.Session",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="ot_notes",
        verbose_name=_("Session"),
        help_text=_("Link to centralized session for scheduling"),
    )
    # Link to the specific participant (for group sessions).
    session_participant = models.ForeignKey(
        "appointments.SessionParticipant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="ot_notes",
        verbose_name=_("Session Participant"),
        help_text=_("For group sessions: which participant these notes are for"),
    )
    # Kept: the legacy appointment link, for backward compatibility.
    appointment = models.ForeignKey(
        "appointments.Appointment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ot_sessions",
        verbose_name=_("appointment"),
    )
    activities = models.TextField(_("activities"), blank=True, validators=[NoteTextLengthValidator()])
    attention_level = models.CharField(_("attention"), max_length=10, choices=Level.choices, blank=True)
    cooperation_level = models.CharField(_("cooperation"), max_length=10, choices=Level.choices, blank=True)
    sensory_observations = models.TextField(
        _("sensory observations"), blank=True, validators=[NoteTextLengthValidator()]
    )
    recommendations = models.TextField(
        _("recommendations"), blank=True, validators=[NoteTextLengthValidator()]
    )
    home_programme = models.TextField(_("home programme"), blank=True, validators=[NoteTextLengthValidator()])
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("OT note")
        verbose_name_plural = _("OT notes")
        ordering = ["-session_date", "-created_at"]
        constraints = [
            *note_state_constraints("ot"),
            models.CheckConstraint(
                condition=models.Q(attention_level__in=["", "poor", "fair", "good", "excellent"])
                & models.Q(cooperation_level__in=["", "poor", "fair", "good", "excellent"]),
                name="ot_note_levels_valid",
            ),
            *note_link_constraints("ot"),
            text_length_constraint("ot_note_text_within_limit", TEXT_FIELDS),
        ]

    @property
    def average_rating(self) -> Decimal | None:
        """Mean rating of the target skills, one decimal; None when no skill was rated."""
        ratings = [skill.rating for skill in self.target_skills.all()]
        if not ratings:
            return None
        return (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class OTTargetSkill(NoteChildRow):
    """One skill worked on in the session, rated on the 0-10 scale."""

    ROW_FIELDS = ("skill", "rating", "comments")

    note = models.ForeignKey(
        OTSession, verbose_name=_("note"), on_delete=models.CASCADE, related_name="target_skills"
    )
    skill = models.CharField(_("target skill"), max_length=200)
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        validators=[
            MinValueValidator(RATING_MIN, message=RATING_SCALE_MESSAGE),
            MaxValueValidator(RATING_MAX, message=RATING_SCALE_MESSAGE),
        ],
        help_text=_("0 = not achieved, 10 = fully independent."),
    )
    comments = models.TextField(_("comments"), blank=True, validators=[NoteTextLengthValidator()])
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("target skill")
        verbose_name_plural = _("target skills")
        ordering = ["note", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=RATING_MIN, rating__lte=RATING_MAX),
                name="ot_target_skill_rating_on_scale",
                violation_error_message=RATING_SCALE_MESSAGE,
            ),
            text_length_constraint("ot_target_skill_text_within_limit", ["comments"]),
        ]

    def __str__(self) -> str:
        return f"{self.skill}: {self.rating}/{RATING_MAX}"


class OTNoteAddendum(ClinicalNoteAddendum):
    note = models.ForeignKey(
        OTSession, verbose_name=_("note"), on_delete=models.CASCADE, related_name="addenda"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("OT note addendum")
        verbose_name_plural = _("OT note addenda")
        ordering = ["created_at", "pk"]
        constraints = addendum_constraints("ot")
