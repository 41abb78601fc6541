"""ABA session notes, with behaviour records (ABC data) and skill-acquisition targets."""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
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

ONE_DECIMAL = Decimal("0.1")
NEGATIVE_FREQUENCY = _("Frequency can't be negative.")
NEGATIVE_DURATION = _("Duration can't be negative.")
NEGATIVE_TRIALS = _("Trials can't be negative.")
NEGATIVE_CORRECT = _("Correct responses can't be negative.")


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent, one decimal (half up); None when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


class ABASession(ClinicalNote):
    """An ABA therapist's note on one patient's session."""

    specialty = Clinic.Specialty.ABA
    CONTENT_FIELDS = ("session_summary", "caregiver_training")
    CHILD_ROWS = ("behaviour_records", "skill_targets")

    # Link to centralized session (for scheduling/capacity management).
    session = models.ForeignKey(
        "appointments.Session",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="aba_notes",
        verbose_name=_("Session"),
        help_text=_("Link to centralized session for scheduling"),
    )
    # Link to the specific participant (for group sessions).
    session_participant = models.ForeignKey(
        "appointments.SessionParticipant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="aba_notes",
        verbose_name=_("Session Participant"),
        help_text=_("For group sessions: which participant these notes are for"),
    )
    # Kept: the legacy appointment link, for backward compatibility.
    appointment = models.ForeignKey(
        "appointments.Appointment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="aba_sessions",
        verbose_name=_("appointment"),
    )
    session_summary = models.TextField(
        _("session summary"), blank=True, validators=[NoteTextLengthValidator()]
    )
    caregiver_training = models.TextField(
        _("caregiver training"), blank=True, validators=[NoteTextLengthValidator()]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("ABA note")
        verbose_name_plural = _("ABA notes")
        ordering = ["-session_date", "-created_at"]
        constraints = [
            *note_state_constraints("aba"),
            *note_link_constraints("aba"),
            text_length_constraint("aba_note_text_within_limit", ["session_summary", "caregiver_training"]),
        ]

    @property
    def overall_percent_correct(self) -> Decimal | None:
        """Correct responses over all trials of the session's targets; None without trials."""
        targets = list(self.skill_targets.all())
        return percent(sum(t.correct for t in targets), sum(t.trials for t in targets))


class ABABehaviourRecord(NoteChildRow):
    """One target behaviour observed: antecedent, behaviour, consequence and its measures."""

    class Intensity(models.TextChoices):
        MILD = "mild", _("Mild")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe")

    ROW_FIELDS = ("antecedent", "behaviour", "consequence", "frequency", "duration_seconds", "intensity")

    note = models.ForeignKey(
        ABASession, verbose_name=_("note"), on_delete=models.CASCADE, related_name="behaviour_records"
    )
    antecedent = models.TextField(_("antecedent"), blank=True, validators=[NoteTextLengthValidator()])
    behaviour = models.CharField(_("behaviour"), max_length=200)
    consequence = models.TextField(_("consequence"), blank=True, validators=[NoteTextLengthValidator()])
    frequency = models.PositiveIntegerField(
        _("frequency"),
        default=1,
        validators=[MinValueValidator(0, message=NEGATIVE_FREQUENCY)],
        help_text=_("Times the behaviour occurred in the session."),
    )
    duration_seconds = models.PositiveIntegerField(
        _("duration (seconds)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0, message=NEGATIVE_DURATION)],
    )
    intensity = models.CharField(_("intensity"), max_length=10, choices=Intensity.choices, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("behaviour record")
        verbose_name_plural = _("behaviour records")
        ordering = ["note", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(intensity__in=["", "mild", "moderate", "severe"]),
                name="aba_behaviour_intensity_valid",
            ),
            text_length_constraint("aba_behaviour_record_text_within_limit", ["antecedent", "consequence"]),
        ]

    def __str__(self) -> str:
        return self.behaviour


class ABASkillTarget(NoteChildRow):
    """One skill-acquisition target: trials run, correct responses and the prompt level."""

    class PromptLevel(models.TextChoices):
        INDEPENDENT = "independent", _("Independent")
        GESTURAL = "gestural", _("Gestural")
        VERBAL = "verbal", _("Verbal")
        MODEL = "model", _("Model")
        PARTIAL_PHYSICAL = "partial_physical", _("Partial physical")
        FULL_PHYSICAL = "full_physical", _("Full physical")

    ROW_FIELDS = ("target", "trials", "correct", "prompt_level")

    note = models.ForeignKey(
        ABASession, verbose_name=_("note"), on_delete=models.CASCADE, related_name="skill_targets"
    )
    target = models.CharField(_("target"), max_length=200)
    trials = models.PositiveSmallIntegerField(
        _("trials"), validators=[MinValueValidator(0, message=NEGATIVE_TRIALS)]
    )
    correct = models.PositiveSmallIntegerField(
        _("correct"), validators=[MinValueValidator(0, message=NEGATIVE_CORRECT)]
    )
    prompt_level = models.CharField(_("prompt level"), max_length=20, choices=PromptLevel.choices, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("skill target")
        verbose_name_plural = _("skill targets")
        ordering = ["note", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(correct__gte=0, trials__gte=models.F("correct")),
                name="aba_skill_target_correct_within_trials",
                violation_error_message=_("Correct responses can't exceed the trials run."),
            ),
            models.CheckConstraint(
                condition=models.Q(
                    prompt_level__in=[
                        "",
                        "independent",
                        "gestural",
                        "verbal",
                        "model",
                        "partial_physical",
                        "full_physical",
                    ]
                ),
                name="aba_skill_target_prompt_level_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target}: {self.correct}/{self.trials}"

    def clean(self) -> None:
        if self.trials is not None and self.correct is not None and self.correct > self.trials:
            raise ValidationError(
                {
                    "correct": _("Correct responses (%(correct)d) can't exceed the trials run (%(trials)d).")
                    % {"correct": self.correct, "trials": self.trials}
                }
            )

    @property
    def percent_correct(self) -> Decimal | None:
        """Correct responses as a percentage of trials, one decimal; None when no trials ran."""
        return percent(self.correct, self.trials)


class ABANoteAddendum(ClinicalNoteAddendum):
    note = models.ForeignKey(
        ABASession, verbose_name=_("note"), on_delete=models.CASCADE, related_name="addenda"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("ABA note addendum")
        verbose_name_plural = _("ABA note addenda")
        ordering = ["created_at", "pk"]
        constraints = addendum_constraints("aba")
