"""Scheduling: the legacy Appointment, the central Session and its participants.

Statuses, seats and numbers are written only by the services in
``session_service`` and ``appointment_service``; the models hold fields,
constraints and small derived properties.
"""

import datetime

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from appointments.exceptions import OutsideOpeningHours, unavailable
from appointments.time_slots import SameRow, SlotRange
from core.availability import availability_refusals
from core.opening_hours import outside_hours_message
from core.tenancy import TenantScopedManager

MIN_DURATION_MINUTES = 15
MAX_DURATION_MINUTES = 480
MAX_GROUP_CAPACITY = 20
APPOINTMENT_NUMBER_PATTERN = r"^APT-[A-Z0-9]+-[0-9]{4}-[0-9]{5,}$"


class AppointmentNumberCounter(models.Model):
    """One gap-free counter per tenant and year, shared by appointments and participants."""

    tenant = models.ForeignKey(
        "core.Tenant", verbose_name=_("tenant"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number issued"), default=0)

    tenant_path = "tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("appointment number counter")
        verbose_name_plural = _("appointment number counters")
        constraints = [models.UniqueConstraint(fields=["tenant", "year"], name="counter_one_per_tenant_year")]

    def __str__(self) -> str:
        return f"{self.tenant.code}-{self.year}: {self.last_number}"


class ScheduledSlot(models.Model):
    """Where and when: the fields a Session and a legacy Appointment share."""

    provider = models.ForeignKey(
        "core.Provider",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="%(class)ss",
    )
    clinic = models.ForeignKey(
        "core.Clinic", verbose_name=_("clinic"), on_delete=models.PROTECT, related_name="%(class)ss"
    )
    room = models.ForeignKey(
        "core.Room",
        verbose_name=_("room"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="%(class)ss",
    )
    scheduled_date = models.DateField(_("date"))
    scheduled_time = models.TimeField(_("start time"))
    duration = models.PositiveSmallIntegerField(_("duration (minutes)"), default=60)
    service_type = models.CharField(_("service type"), max_length=120)

    class Meta:
        abstract = True

    @property
    def starts_at(self) -> datetime.datetime:
        return datetime.datetime.combine(self.scheduled_date, self.scheduled_time)

    @property
    def ends_at(self) -> datetime.datetime:
        return self.starts_at + datetime.timedelta(minutes=self.duration)

    @property
    def end_time(self) -> datetime.time:
        return self.ends_at.time()


def duration_constraint(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(duration__gte=MIN_DURATION_MINUTES, duration__lte=MAX_DURATION_MINUTES),
        name=name,
        violation_error_message=_("Duration must be between 15 and 480 minutes."),
    )


OVERLAP_MESSAGES = {
    "provider": _("The provider already has a booking at that time."),
    "room": _("The room is already booked at that time."),
    "patient": _("The patient already has a booking at that time."),
}


def no_overlap_constraint(name: str, field: str, active: models.Q) -> ExclusionConstraint:
    """No two active rows of the same provider, room or patient with overlapping slots."""
    return ExclusionConstraint(
        name=name,
        expressions=[(SameRow(field), RangeOperators.OVERLAPS), (SlotRange(), RangeOperators.OVERLAPS)],
        condition=active & models.Q(**{f"{field}__isnull": False}),
        violation_error_message=OVERLAP_MESSAGES[field],
    )


class Appointment(ScheduledSlot):
    """The legacy individual booking, kept working unchanged beside Session."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CONFIRMED = "confirmed", _("Confirmed")
        ARRIVED = "arrived", _("Arrived")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    INACTIVE_STATUSES = (Status.CANCELLED,)

    patient = models.ForeignKey(
        "core.Patient", verbose_name=_("patient"), on_delete=models.PROTECT, related_name="appointments"
    )
    appointment_number = models.CharField(
        _("appointment number"), max_length=32, unique=True, blank=True, editable=False
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.BOOKED)
    notes = models.TextField(_("notes"), blank=True)
    finance_cleared = models.BooleanField(_("finance cleared"), default=False)
    finance_cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("finance cleared by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    finance_cleared_at = models.DateTimeField(_("finance cleared at"), null=True, blank=True)
    consent_verified = models.BooleanField(_("consent verified"), default=False)
    consent_verified_at = models.DateTimeField(_("consent verified at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("no-show at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    reschedule_count = models.PositiveSmallIntegerField(_("times rescheduled"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    tenant_path = "clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["scheduled_date", "scheduled_time"]
        indexes = [
            models.Index(fields=["clinic", "scheduled_date"], name="appointment_clinic_day_idx"),
            # Lists newest or oldest first (the admin changelist, undated lists) read a page off it.
            models.Index(fields=["scheduled_date", "scheduled_time", "id"], name="appointment_date_time_idx"),
        ]
        constraints = [
            duration_constraint("appointment_duration_range"),
            models.CheckConstraint(
                condition=models.Q(appointment_number__regex=APPOINTMENT_NUMBER_PATTERN),
                name="appointment_number_format",
            ),
            no_overlap_constraint(
                "appointment_provider_no_overlap", "provider", ~models.Q(status="cancelled")
            ),
            no_overlap_constraint("appointment_room_no_overlap", "room", ~models.Q(status="cancelled")),
            no_overlap_constraint("appointment_patient_no_overlap", "patient", ~models.Q(status="cancelled")),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_number} - {self.patient.full_name}"

    def save(self, *args, **kwargs) -> None:
        # The seed books with Appointment.objects.create(...): the opening hours, the
        # overlap check against sessions and the number happen here, in the insert's
        # transaction, so a refused or rolled-back booking returns its number.
        if self.appointment_number:
            super().save(*args, **kwargs)
            return
        from appointments.numbering import issue_appointment_number
        from appointments.overlaps import refuse_overlap_with_sessions

        try:
            with transaction.atomic():
                self.refuse_outside_opening_hours()
                refuse_overlap_with_sessions(self)
                self.appointment_number = issue_appointment_number(self.clinic.tenant)
                super().save(*args, **kwargs)
        except BaseException:
            # The rollback returned the number to the counter; keeping it here would
            # make a retried save reuse a number the counter will issue again.
            self.appointment_number = ""
            raise

    def get_absolute_url(self) -> str:
        return reverse("appointments:appointment_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status not in self.INACTIVE_STATUSES

    def refuse_outside_opening_hours(self) -> None:
        """Raise for an active booking outside its clinic's hours that day or its provider's availability.

        The rules ``booking_rules.check_within_hours`` and ``check_availability`` (holiday,
        working hours, leave) apply in the services, here for the seed's bare create; a
        cancelled row (a legacy record) is never refused.
        """
        if not self.is_active:
            return
        message = outside_hours_message(self.clinic, self.scheduled_date, self.scheduled_time, self.duration)
        if message is not None:
            raise OutsideOpeningHours(message)
        refusals = availability_refusals(
            clinic=self.clinic,
            provider=self.provider,
            day=self.scheduled_date,
            start=self.scheduled_time,
            minutes=self.duration,
        )
        if refusals:
            raise unavailable(refusals)


class Session(ScheduledSlot):
    """Every booked slot, individual or group: the single source of truth for scheduling."""

    class SessionType(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        GROUP = "group", _("Group")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES = (Status.SCHEDULED, Status.IN_PROGRESS)

    session_type = models.CharField(
        _("session type"), max_length=20, choices=SessionType.choices, default=SessionType.INDIVIDUAL
    )
    max_capacity = models.PositiveSmallIntegerField(_("capacity"), default=1)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    group_notes = models.TextField(_("group notes"), blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # Closed by `manage.py close_stale_sessions` rather than by its clinicians: its no-shows
    # wait for finance's review before they are billable.
    auto_closed = models.BooleanField(_("closed automatically"), default=False)
    # Where the session was before its last move (reschedule_session), shown as "moved from ..."
    # until someone records that the families were told.
    moved_from_date = models.DateField(_("moved from (date)"), null=True, blank=True)
    moved_from_time = models.TimeField(_("moved from (time)"), null=True, blank=True)
    moved_at = models.DateTimeField(_("moved at"), null=True, blank=True)
    families_told_at = models.DateTimeField(_("families told at"), null=True, blank=True)
    series = models.ForeignKey(
        "SessionSeries",
        verbose_name=_("series"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    tenant_path = "clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["scheduled_date", "scheduled_time"]
        indexes = [
            models.Index(fields=["clinic", "scheduled_date"], name="session_clinic_day_idx"),
            # Lists newest or oldest first (the admin changelists, undated lists) read a page off it.
            models.Index(fields=["scheduled_date", "scheduled_time", "id"], name="session_date_time_idx"),
        ]
        constraints = [
            duration_constraint("session_duration_range"),
            models.CheckConstraint(
                condition=models.Q(max_capacity__gte=1, max_capacity__lte=MAX_GROUP_CAPACITY),
                name="session_capacity_range",
                violation_error_message=_("Capacity must be between 1 and 20."),
            ),
            models.CheckConstraint(
                condition=models.Q(session_type="individual", max_capacity=1)
                | models.Q(session_type="group", max_capacity__gte=2),
                name="session_capacity_matches_type",
                violation_error_message=_("An individual session has capacity 1; a group session 2 to 20."),
            ),
            no_overlap_constraint("session_provider_no_overlap", "provider", ~models.Q(status="cancelled")),
            no_overlap_constraint("session_room_no_overlap", "room", ~models.Q(status="cancelled")),
        ]

    def __str__(self) -> str:
        return f"{self.service_type} - {self.scheduled_date:%d/%m/%Y} {self.scheduled_time:%H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("appointments:session_detail", args=[self.pk])

    @property
    def is_group(self) -> bool:
        return self.session_type == self.SessionType.GROUP

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def current_capacity(self) -> int:
        """Seats taken: active participants and waiting-list offers (an offer holds its seat until
        accepted or expired). Uses the selectors' ``seats_taken`` annotation."""
        annotated = getattr(self, "seats_taken", None)
        if annotated is not None:
            return annotated
        participants = self.participants.exclude(status__in=SessionParticipant.INACTIVE_STATUSES).count()
        return participants + self.waitlist_entries.filter(status=WaitlistEntry.Status.OFFERED).count()

    @property
    def available_spots(self) -> int:
        return max(self.max_capacity - self.current_capacity, 0)

    @property
    def is_full(self) -> bool:
        return self.current_capacity >= self.max_capacity

    @property
    def capacity_display(self) -> str:
        return f"{self.current_capacity}/{self.max_capacity}"


class ParticipantStatus(models.TextChoices):
    """A participant's status (``SessionParticipant.Status``)."""

    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    ARRIVED = "arrived", _("Arrived")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")
    # Came, was refused check-in at a gate (consent or finance), and never arrived.
    TURNED_AWAY = "turned_away", _("Turned away")


# The statuses that hold no seat (``SessionParticipant.INACTIVE_STATUSES``): every constraint,
# seat count and SQL check uses this one set.
INACTIVE_PARTICIPANT_STATUSES = (ParticipantStatus.CANCELLED, ParticipantStatus.TURNED_AWAY)


class SessionParticipant(models.Model):
    """One patient in one session, with their own number, status and gates."""

    Status = ParticipantStatus
    INACTIVE_STATUSES = INACTIVE_PARTICIPANT_STATUSES

    class CancelledBy(models.TextChoices):
        FAMILY = "family", _("Family")
        CLINIC = "clinic", _("Clinic")
        PROVIDER = "provider", _("Provider")

    class CancelCategory(models.TextChoices):
        ILLNESS = "illness", _("Illness")
        FAMILY_EMERGENCY = "family_emergency", _("Family emergency")
        TRANSPORT = "transport", _("Transport")
        SCHEDULE_CONFLICT = "schedule_conflict", _("Schedule conflict")
        WEATHER = "weather", _("Weather")
        CLINIC_CLOSURE = "clinic_closure", _("Clinic closure")
        PROVIDER_UNAVAILABLE = "provider_unavailable", _("Provider unavailable")
        SESSION_CANCELLED = "session_cancelled", _("Whole session cancelled")
        OTHER = "other", _("Other")

    session = models.ForeignKey(
        Session, verbose_name=_("session"), on_delete=models.CASCADE, related_name="participants"
    )
    patient = models.ForeignKey(
        "core.Patient",
        verbose_name=_("patient"),
        on_delete=models.PROTECT,
        related_name="session_participations",
    )
    appointment_number = models.CharField(_("appointment number"), max_length=32, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.BOOKED)
    legacy_appointment = models.OneToOneField(
        Appointment,
        verbose_name=_("legacy appointment"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="session_participant",
        help_text=_("Set when this participation was back-filled from a legacy appointment."),
    )
    finance_cleared = models.BooleanField(_("finance cleared"), default=False)
    finance_cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("finance cleared by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    finance_cleared_at = models.DateTimeField(_("finance cleared at"), null=True, blank=True)
    consent_verified = models.BooleanField(_("consent verified"), default=False)
    consent_verified_at = models.DateTimeField(_("consent verified at"), null=True, blank=True)
    booked_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    attended_at = models.DateTimeField(_("attended at"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("no-show at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    cancelled_by = models.CharField(_("cancelled by"), max_length=20, choices=CancelledBy.choices, blank=True)
    cancel_category = models.CharField(
        _("cancellation category"), max_length=30, choices=CancelCategory.choices, blank=True
    )
    is_late_cancellation = models.BooleanField(_("late cancellation"), default=False)
    turned_away_at = models.DateTimeField(_("turned away at"), null=True, blank=True)
    # A no-show or a family's late cancellation is billable to the family: a flag, no prices.
    billable = models.BooleanField(_("billable"), default=False)
    # An auto-closed session's no-show waits for a front-desk or finance user to confirm it.
    billing_review_pending = models.BooleanField(_("billing to review"), default=False)
    billing_waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("billing waived by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    billing_waived_at = models.DateTimeField(_("billing waived at"), null=True, blank=True)
    billing_waived_reason = models.TextField(_("billing waiver reason"), blank=True, max_length=2000)
    history = HistoricalRecords()

    tenant_path = "session__clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("session participant")
        verbose_name_plural = _("session participants")
        ordering = ["session", "booked_at", "pk"]
        indexes = [
            # The few no-shows of auto-closed sessions waiting for review (the home pages' queue).
            models.Index(
                fields=["session"],
                condition=models.Q(billing_review_pending=True),
                name="participant_review_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "patient"],
                condition=~models.Q(status__in=INACTIVE_PARTICIPANT_STATUSES),
                name="participant_one_active_per_patient",
                violation_error_message=_("This patient is already booked in this session."),
            ),
            models.CheckConstraint(
                condition=models.Q(appointment_number__regex=APPOINTMENT_NUMBER_PATTERN),
                name="participant_number_format",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_number} - {self.patient.full_name}"

    @property
    def is_active(self) -> bool:
        return self.status not in self.INACTIVE_STATUSES


class CheckInRefusal(models.Model):
    """A check-in refused at a gate: who tried, when, which gate and what they were told.

    Written in its own transaction before the refusal is raised, so it survives it;
    append-only like the history tables (``audit_record``).
    """

    class Gate(models.TextChoices):
        CONSENT = "consent", _("Consent")
        FINANCE = "finance", _("Finance clearance")

    participant = models.ForeignKey(
        SessionParticipant,
        verbose_name=_("participant"),
        on_delete=models.CASCADE,
        related_name="check_in_refusals",
    )
    gate = models.CharField(_("gate"), max_length=20, choices=Gate.choices)
    message = models.TextField(_("message"), blank=True)
    refused_at = models.DateTimeField(_("refused at"))
    refused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("refused by"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )

    audit_record = True
    tenant_path = "participant__session__clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("refused check-in")
        verbose_name_plural = _("refused check-ins")
        ordering = ["refused_at", "pk"]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.gate} {timezone.localtime(self.refused_at):%d/%m/%Y %H:%M}"


class SessionSeries(models.Model):
    """A weekly or fortnightly run of sessions, for a group or for one child, created at once.

    ``occurrence_count`` counts sessions held: a date skipped for a holiday, or for a clash
    the front desk chose to skip, extends the series. Otherwise ``end_date`` bounds it. The
    dates come from python-dateutil's ``rrule``; its sessions are ``sessions``.
    """

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("Every week")
        FORTNIGHTLY = "fortnightly", _("Every two weeks")

    WEEKS_BETWEEN = {Frequency.WEEKLY: 1, Frequency.FORTNIGHTLY: 2}
    MAX_OCCURRENCES = 104

    session_type = models.CharField(_("session type"), max_length=20, choices=Session.SessionType.choices)
    provider = models.ForeignKey(
        "core.Provider", verbose_name=_("provider"), on_delete=models.PROTECT, related_name="session_series"
    )
    clinic = models.ForeignKey(
        "core.Clinic", verbose_name=_("clinic"), on_delete=models.PROTECT, related_name="session_series"
    )
    room = models.ForeignKey(
        "core.Room",
        verbose_name=_("room"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="session_series",
    )
    # The child of an individual series; a group series has enrolments instead.
    patient = models.ForeignKey(
        "core.Patient",
        verbose_name=_("patient"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="individual_series",
    )
    service_type = models.CharField(_("service type"), max_length=120)
    title = models.CharField(
        _("title"), max_length=200, blank=True, help_text=_("e.g. Social skills, spring")
    )
    frequency = models.CharField(
        _("repeats"), max_length=20, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    start_date = models.DateField(_("first date"))
    scheduled_time = models.TimeField(_("start time"))
    duration = models.PositiveSmallIntegerField(_("duration (minutes)"), default=60)
    max_capacity = models.PositiveSmallIntegerField(_("capacity"), default=1)
    group_notes = models.TextField(_("group notes"), blank=True)
    occurrence_count = models.PositiveSmallIntegerField(_("number of sessions"), null=True, blank=True)
    end_date = models.DateField(_("last date"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    tenant_path = "clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("session series")
        verbose_name_plural = _("session series")
        ordering = ["-start_date", "scheduled_time", "pk"]
        constraints = [
            duration_constraint("series_duration_range"),
            models.CheckConstraint(
                condition=(
                    models.Q(occurrence_count__isnull=False, end_date__isnull=True)
                    | models.Q(occurrence_count__isnull=True, end_date__isnull=False)
                ),
                name="series_count_or_end_date",
                violation_error_message=_("Give either a number of sessions or a last date, not both."),
            ),
            models.CheckConstraint(
                condition=models.Q(occurrence_count__isnull=True)
                | models.Q(occurrence_count__gte=1, occurrence_count__lte=104),
                name="series_count_range",
                violation_error_message=_("A series has between 1 and 104 sessions."),
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F("start_date")),
                name="series_ends_after_start",
                violation_error_message=_("The last date can't be before the first."),
            ),
            models.CheckConstraint(
                condition=models.Q(session_type="individual", max_capacity=1, patient__isnull=False)
                | models.Q(
                    session_type="group",
                    max_capacity__gte=2,
                    max_capacity__lte=MAX_GROUP_CAPACITY,
                    patient__isnull=True,
                ),
                name="series_type_matches_capacity",
                violation_error_message=_(
                    "An individual series has one child and one seat; a group series 2 to 20 seats."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.service_type} ({self.get_frequency_display()})"

    def get_absolute_url(self) -> str:
        return reverse("appointments:series_detail", args=[self.pk])

    @property
    def is_group(self) -> bool:
        return self.session_type == Session.SessionType.GROUP

    @property
    def weeks_between(self) -> int:
        return self.WEEKS_BETWEEN[self.Frequency(self.frequency)]


class SeriesSkippedDate(models.Model):
    """A date of a series' rule with no session: a holiday, or a clash the front desk chose to skip."""

    class Why(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        CLASH = "clash", _("Clash skipped")
        CANCELLED = "cancelled", _("Cancelled")

    series = models.ForeignKey(
        SessionSeries, verbose_name=_("series"), on_delete=models.CASCADE, related_name="skipped_dates"
    )
    date = models.DateField(_("date"))
    why = models.CharField(_("why"), max_length=20, choices=Why.choices)
    detail = models.TextField(_("detail"), blank=True)

    tenant_path = "series__clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("skipped date")
        verbose_name_plural = _("skipped dates")
        ordering = ["series", "date"]
        constraints = [models.UniqueConstraint(fields=["series", "date"], name="series_skip_once_per_date")]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.get_why_display()}"


class SeriesEnrolment(models.Model):
    """A child enrolled in a group series: a participant in each of its occurrences from enrolment on."""

    series = models.ForeignKey(
        SessionSeries, verbose_name=_("series"), on_delete=models.CASCADE, related_name="enrolments"
    )
    patient = models.ForeignKey(
        "core.Patient", verbose_name=_("patient"), on_delete=models.PROTECT, related_name="series_enrolments"
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), auto_now_add=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enrolled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    withdraw_reason = models.TextField(_("reason for withdrawal"), blank=True)
    history = HistoricalRecords()

    tenant_path = "series__clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("series enrolment")
        verbose_name_plural = _("series enrolments")
        ordering = ["series", "enrolled_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "patient"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="series_one_active_enrolment",
                violation_error_message=_("This child is already enrolled in the series."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.series} - {self.patient.full_name}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class WaitlistEntry(models.Model):
    """A child waiting for a seat in a full session; ``position`` is computed among those waiting.

    ``priority`` orders the waiting entries (lowest first): it starts as the entry's arrival
    order and an admin can change it, with a reason kept in the history.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("Offered")
        BOOKED = "booked", _("Booked")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # A waiting child, or one holding an offered seat: one such entry per child and session.
    OPEN_STATUSES = (Status.WAITING, Status.OFFERED)

    session = models.ForeignKey(
        Session, verbose_name=_("session"), on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    patient = models.ForeignKey(
        "core.Patient", verbose_name=_("patient"), on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    series = models.ForeignKey(
        SessionSeries,
        verbose_name=_("series"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="waitlist_entries",
        help_text=_("Set when the child waits for every remaining session of a series."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.WAITING)
    priority = models.BigIntegerField(_("priority"))
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(_("offer expires at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    participant = models.OneToOneField(
        SessionParticipant,
        verbose_name=_("booked as"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waitlist_entry",
    )
    # A child booked from the list: the session page flags it until the family is told.
    family_told_at = models.DateTimeField(_("family told at"), null=True, blank=True)
    history = HistoricalRecords()

    tenant_path = "session__clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("waiting-list entry")
        verbose_name_plural = _("waiting-list entries")
        ordering = ["session", "priority", "pk"]
        indexes = [
            models.Index(
                fields=["session", "priority"],
                condition=models.Q(status="waiting"),
                name="waitlist_waiting_order_idx",
            ),
            models.Index(
                fields=["offer_expires_at"],
                condition=models.Q(status="offered"),
                name="waitlist_offer_expiry_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "patient"],
                condition=models.Q(status__in=["waiting", "offered"]),
                name="waitlist_one_open_entry_per_child",
                violation_error_message=_("This child is already on the waiting list for this session."),
            ),
            models.CheckConstraint(
                condition=~models.Q(status="offered") | models.Q(offer_expires_at__isnull=False),
                name="waitlist_offer_has_expiry",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="booked") | models.Q(participant__isnull=False),
                name="waitlist_booked_has_participant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session} - {self.patient.full_name} ({self.get_status_display()})"

    @property
    def position(self) -> int | None:
        """1-based place among the session's waiting entries; None unless waiting.

        Uses the selectors' ``waiting_position`` annotation when present.
        """
        if self.status != self.Status.WAITING:
            return None
        annotated = getattr(self, "waiting_position", None)
        if annotated is not None:
            return int(annotated)
        ahead = WaitlistEntry.objects.filter(session_id=self.session_id, status=self.Status.WAITING).filter(
            models.Q(priority__lt=self.priority) | models.Q(priority=self.priority, pk__lt=self.pk)
        )
        return ahead.count() + 1


# The family messages' models (appointments.reminders) are this app's too: importing them
# here registers them when Django loads the app's models.
from appointments.reminders.models import MessageTemplate, Reminder, ReminderRule  # noqa: E402

__all__ = ["MessageTemplate", "Reminder", "ReminderRule"]
