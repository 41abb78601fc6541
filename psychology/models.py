"""Psychology session notes: one per patient per session, linked as the seed describes."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from appointments.notes.exceptions import NoteContentError
from appointments.notes.models import (
    ClinicalNote,
    ClinicalNoteAddendum,
    NoteTextLengthValidator,
    addendum_constraints,
    note_link_constraints,
    note_state_constraints,
    text_length_constraint,
)
from core.models import Clinic

# The free-text fields, each at most NOTE_TEXT_MAX_LENGTH characters (validators and a check constraint).
TEXT_FIELDS = (
    "presenting_issues",
    "interventions_used",
    "client_response",
    "progress",
    "homework",
    "safety_plan",
    "plan_next_session",
)


class PsychologySession(ClinicalNote):
    """A psychologist's note on one patient's therapy session."""

    class RiskLevel(models.TextChoices):
        NONE = "none", _("None")
        LOW = "low", _("Low")
        MODERATE = "moderate", _("Moderate")
        HIGH = "high", _("High")

    RISKS_NEEDING_SAFETY_PLAN = (RiskLevel.MODERATE, RiskLevel.HIGH)

    specialty = Clinic.Specialty.PSYCHOLOGY
    CONTENT_FIELDS = (
        "presenting_issues",
        "interventions_used",
        "client_response",
        "progress",
        "homework",
        "risk_assessment",
        "safety_plan",
        "plan_next_session",
    )

    # Link to centralized session (for scheduling/capacity management).
    session = models.ForeignKey(
        "appointments.Session",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="psychology_notes",
        verbose_name=_("Session"),
        help_text=_("Link to centralized session for scheduling"),
    )
    # Link to the specific participant (for group sessions).
    session_participant = models.ForeignKey(
        "appointments.SessionParticipant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="psychology_notes",
        verbose_name=_("Session Participant"),
        help_text=_("For group sessions: which participant these notes are for"),
    )
    # Kept: the legacy appointment link, for backward compatibility.
    appointment = models.ForeignKey(
        "appointments.Appointment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="psychology_sessions",
        verbose_name=_("appointment"),
    )
    presenting_issues = models.TextField(
        _("presenting issues"), blank=True, validators=[NoteTextLengthValidator()]
    )
    interventions_used = models.TextField(
        _("interventions used"), blank=True, validators=[NoteTextLengthValidator()]
    )
    client_response = models.TextField(
        _("client response"), blank=True, validators=[NoteTextLengthValidator()]
    )
    progress = models.TextField(_("progress"), blank=True, validators=[NoteTextLengthValidator()])
    homework = models.TextField(_("homework"), blank=True, validators=[NoteTextLengthValidator()])
    risk_assessment = models.CharField(
        _("risk assessment"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.NONE
    )
    safety_plan = models.TextField(
        _("safety plan"),
        blank=True,
        help_text=_("Required when the risk is moderate or high."),
        validators=[NoteTextLengthValidator()],
    )
    plan_next_session = models.TextField(
        _("plan for the next session"), blank=True, validators=[NoteTextLengthValidator()]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("psychology note")
        verbose_name_plural = _("psychology notes")
        ordering = ["-session_date", "-created_at"]
        constraints = [
            *note_state_constraints("psychology"),
            models.CheckConstraint(
                condition=models.Q(risk_assessment__in=["none", "low", "moderate", "high"]),
                name="psychology_risk_assessment_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(risk_assessment__in=["none", "low"]) | models.Q(safety_plan__regex=r"\S"),
                name="psychology_risk_needs_safety_plan",
                violation_error_message=_("A moderate or high risk needs a safety plan."),
            ),
            *note_link_constraints("psychology"),
            text_length_constraint("psychology_note_text_within_limit", TEXT_FIELDS),
        ]

    def clean_content(self) -> None:
        if self.risk_assessment in self.RISKS_NEEDING_SAFETY_PLAN and not (self.safety_plan or "").strip():
            raise NoteContentError(
                {
                    "safety_plan": _("A %(risk)s risk needs a safety plan.")
                    % {"risk": self.get_risk_assessment_display().lower()}
                }
            )


class PsychologyNoteAddendum(ClinicalNoteAddendum):
    note = models.ForeignKey(
        PsychologySession, verbose_name=_("note"), on_delete=models.CASCADE, related_name="addenda"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("psychology note addendum")
        verbose_name_plural = _("psychology note addenda")
        ordering = ["created_at", "pk"]
        constraints = addendum_constraints("psychology")
