"""Messages to families: each clinic's reminder rules, the templates, and one row per message.

Registered by ``appointments.models`` (imported at its end) under the ``appointments``
app; the models here name the scheduling models by label, so this module imports none
of them.

A ``Reminder`` row is written before anything is sent (``appointments.reminders.planning``
for the rules, ``appointments.reminders.outbox`` for "your session moved" and a seat from
the waiting list), claimed in a transaction of its own and sent after that transaction
commits (``appointments.reminders.sending``), so two workers never send one row twice.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import Guardian
from core.tenancy import TenantScopedManager

# A rule reminds at most two weeks ahead.
MAX_HOURS_BEFORE = 14 * 24


class MessageTemplate(models.Model):
    """The words of one kind of message, in English and Arabic, for one channel.

    The bodies hold placeholders (``appointments.reminders.messages.PLACEHOLDERS``): the
    child's first name, the date (and the Hijri date where the tenant shows it), the time,
    the centre's name and the confirm-or-cancel link. The clinic's name, which tells what
    the child is treated for, is allowed only with ``names_discipline``.
    """

    class Purpose(models.TextChoices):
        REMINDER = "reminder", _("Reminder")
        MOVED = "moved", _("Session moved")
        SEAT_OFFERED = "seat_offered", _("Seat from the waiting list")

    tenant = models.ForeignKey(
        "core.Tenant", verbose_name=_("tenant"), on_delete=models.PROTECT, related_name="message_templates"
    )
    name = models.CharField(_("name"), max_length=100)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.REMINDER)
    channel = models.CharField(_("channel"), max_length=10, choices=Guardian.Channel.choices)
    subject_en = models.CharField(_("e-mail subject (English)"), max_length=150, blank=True)
    subject_ar = models.CharField(_("e-mail subject (Arabic)"), max_length=150, blank=True)
    body_en = models.TextField(_("message (English)"), max_length=2000)
    body_ar = models.TextField(_("message (Arabic)"), max_length=2000)
    names_discipline = models.BooleanField(
        _("may name the clinic"),
        default=False,
        help_text=_(
            "Allows the {clinic} placeholder. A clinic's name tells what the child is treated "
            "for: leave this off unless the family agreed."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    tenant_path = "tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["tenant", "purpose", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"],
                name="message_template_unique_name",
                violation_error_message=_("Another template already has this name."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class ReminderRule(models.Model):
    """A clinic's reminder: this many hours before each session, by this channel, in these words."""

    clinic = models.ForeignKey(
        "core.Clinic", verbose_name=_("clinic"), on_delete=models.CASCADE, related_name="reminder_rules"
    )
    hours_before = models.PositiveSmallIntegerField(
        _("hours before"), validators=[MinValueValidator(1), MaxValueValidator(MAX_HOURS_BEFORE)]
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Guardian.Channel.choices)
    template = models.ForeignKey(
        MessageTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="rules"
    )
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        ordering = ["clinic", "-hours_before", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "hours_before", "channel"],
                name="reminder_rule_unique_per_clinic",
                violation_error_message=_(
                    "This clinic already has a reminder this many hours before by this channel."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(hours_before__gte=1, hours_before__lte=MAX_HOURS_BEFORE),
                name="reminder_rule_hours_in_range",
                violation_error_message=_("Remind between 1 hour and 14 days before."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clinic} · {self.hours_before} h · {self.get_channel_display()}"


class Reminder(models.Model):
    """One message to a family about one child's booking: queued, sent, failed or not sendable.

    Exactly one of ``participant`` and ``appointment`` (the legacy booking) is set. The
    address is kept masked; the message is built from the guardian's record when it is
    sent. Siblings sent one message share its ``message_key`` and ``gateway_message_id``.
    """

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("Reminder")
        MOVED = "moved", _("Session moved")
        SEAT_OFFERED = "seat_offered", _("Seat from the waiting list")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to send")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        # Nobody to send it to: no guardian who consents and may be told, or opted out.
        UNREACHABLE = "unreachable", _("No one to send to")
        # The booking was cancelled or moved before the message went.
        VOIDED = "voided", _("Voided")

    tenant = models.ForeignKey(
        "core.Tenant", verbose_name=_("tenant"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.REMINDER)
    rule = models.ForeignKey(
        ReminderRule,
        verbose_name=_("rule"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reminders",
    )
    participant = models.ForeignKey(
        "appointments.SessionParticipant",
        verbose_name=_("participant"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    appointment = models.ForeignKey(
        "appointments.Appointment",
        verbose_name=_("legacy appointment"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    guardian = models.ForeignKey(
        "core.Guardian",
        verbose_name=_("guardian"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reminders",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Guardian.Channel.choices)
    masked_address = models.CharField(_("sent to"), max_length=80, blank=True)
    template = models.ForeignKey(
        MessageTemplate,
        verbose_name=_("template"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reminders",
    )
    # The booking's start when the row was written: a move writes new rows, never edits this.
    scheduled_start = models.DateTimeField(_("session start"))
    send_after = models.DateTimeField(_("send after"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    message_key = models.CharField(_("message key"), max_length=40, blank=True)
    gateway_message_id = models.CharField(_("gateway message id"), max_length=120, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    # Set when the booking moved or was cancelled: every link this row carried stops working.
    voided_at = models.DateTimeField(_("links voided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    tenant_path = "tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-send_after", "-pk"]
        indexes = [
            # The sender's queue: the few rows waiting, by when they are due.
            models.Index(
                fields=["send_after"],
                condition=models.Q(status="pending"),
                name="reminder_pending_due_idx",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(status="sending"),
                name="reminder_sending_idx",
            ),
            models.Index(fields=["tenant", "status", "send_after"], name="reminder_tenant_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(participant__isnull=False, appointment__isnull=True)
                    | models.Q(participant__isnull=True, appointment__isnull=False)
                ),
                name="reminder_one_booking",
                violation_error_message=_("A reminder is about one participant or one legacy appointment."),
            ),
            # While its links are valid: a session moved away and back is reminded again.
            models.UniqueConstraint(
                fields=["rule", "participant", "scheduled_start"],
                condition=models.Q(rule__isnull=False, participant__isnull=False, voided_at__isnull=True),
                name="reminder_unique_rule_participant_start",
            ),
            models.UniqueConstraint(
                fields=["rule", "appointment", "scheduled_start"],
                condition=models.Q(rule__isnull=False, appointment__isnull=False, voided_at__isnull=True),
                name="reminder_unique_rule_appointment_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="reminder_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} {self.scheduled_start:%d/%m/%Y %H:%M} ({self.get_status_display()})"
        )

    @property
    def booking_number(self) -> str:
        booking = self.participant if self.participant_id else self.appointment
        return booking.appointment_number if booking is not None else ""
