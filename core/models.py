"""Who and where: tenants, staff, clinics, rooms, providers, patients and consents.

Every model declares how its rows reach their organisation (``tenant_path``, see
``core.tenancy``); ``Model.objects.for_user(user)`` keeps to the rows a user may see.
"""

import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.indexes import BrinIndex, GinIndex
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Trim, Upper
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core import clock
from core.name_search import search_text_expression
from core.tenancy import TenantScopedManager

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MRN_MAX_LENGTH = 30
# Arabic-Indic (U+0660-U+0669) and Extended Arabic-Indic (U+06F0-U+06F9) digits as typed on
# Arabic keyboards, read as the ASCII digits they stand for.
ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def normalise_mrn(mrn: str) -> str:
    """An MRN as stored and looked up: trimmed, ASCII digits, upper case (`` ag-٠٠١`` -> ``AG-001``)."""
    return mrn.strip().translate(ARABIC_DIGITS).upper()


def check_mrn(mrn: str) -> None:
    """ValidationError unless the normalised ``mrn`` can be stored: not blank, 30 characters at most."""
    if not mrn:
        raise ValidationError(_("Enter the MRN."), code="required")
    if len(mrn) > MRN_MAX_LENGTH:
        # Upper-casing may lengthen it ("ß" -> "SS").
        raise ValidationError(
            _("An MRN has at most %(max)d characters."), code="max_length", params={"max": MRN_MAX_LENGTH}
        )


def in_active_language(english: str, arabic: str) -> str:
    """The Arabic name while Arabic is active and the name has one, else the English."""
    language = get_language() or ""
    return arabic if arabic and language.startswith("ar") else english


class Tenant(models.Model):
    code = models.CharField(
        _("code"),
        max_length=20,
        unique=True,
        help_text=_("Short upper-case code used in appointment numbers, e.g. AGDAR."),
    )
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    show_hijri_dates = models.BooleanField(
        _("show Hijri dates"),
        default=False,
        db_default=False,
        help_text=_("Show the Umm al-Qura Hijri date beside the Gregorian one on staff pages."),
    )

    tenant_path = "pk"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z0-9]+$"),
                name="tenant_code_upper_alnum",
                violation_error_message=_("Tenant code must be upper-case letters and digits."),
            )
        ]

    def __str__(self) -> str:
        return in_active_language(self.name_en, self.name_ar)


class User(AbstractUser):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        FRONT_DESK = "front_desk", _("Front desk")
        FINANCE = "finance", _("Finance")
        PSYCHOLOGIST = "psychologist", _("Psychologist")
        OCCUPATIONAL_THERAPIST = "occupational_therapist", _("Occupational therapist")
        ABA_THERAPIST = "aba_therapist", _("ABA therapist")

    tenant = models.ForeignKey(
        Tenant,
        verbose_name=_("tenant"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.FRONT_DESK)
    # Part of the session hash (``get_session_auth_hash``): raising it ends every session of the
    # user, as logging out and a change of role, organisation or active flag do.
    session_generation = models.PositiveIntegerField(_("session generation"), default=0, editable=False)

    # Scoped with core.tenancy.for_user (the manager stays Django's UserManager).
    tenant_path = "tenant"

    # Not a field: the organisation a superuser works in on a staff page this request, set by
    # core.middleware.ActingTenantMiddleware; read through core.permissions.effective_tenant.
    acting_tenant_id: int | None = None

    class Meta(AbstractUser.Meta):
        # django-stubs types these as str, but Django's own AbstractUser.Meta uses lazy strings too.
        verbose_name = _("user")  # type: ignore[assignment]
        verbose_name_plural = _("users")  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's HMAC of the password, with ``session_generation`` in it.

        A session stores this hash at login and is ended when it no longer matches, so
        raising ``session_generation`` (``core.privileges``) ends every session of the user,
        as a password change does.
        """
        key_salt = "core.models.User.get_session_auth_hash"
        value = f"{self.password}:{self.session_generation}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()


class Clinic(models.Model):
    class Specialty(models.TextChoices):
        PSYCHOLOGY = "psychology", _("Psychology")
        OT = "ot", _("Occupational therapy")
        ABA = "aba", _("Applied behaviour analysis")
        SLP = "slp", _("Speech-language pathology")
        MEDICAL = "medical", _("Medical")
        NURSING = "nursing", _("Nursing")

    tenant = models.ForeignKey(
        Tenant, verbose_name=_("tenant"), on_delete=models.PROTECT, related_name="clinics"
    )
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    specialty = models.CharField(_("specialty"), max_length=20, choices=Specialty.choices)
    requires_finance_clearance = models.BooleanField(_("check-in requires finance clearance"), default=True)
    requires_consent = models.BooleanField(_("check-in requires a valid consent"), default=True)
    start_lead_minutes = models.PositiveSmallIntegerField(
        _("start allowed minutes before"),
        default=30,
        help_text=_("How long before its start time a session may be started on the pages."),
    )
    booking_horizon_months = models.PositiveSmallIntegerField(
        _("booking horizon (months)"),
        default=12,
        help_text=_("The pages refuse bookings further ahead than this."),
    )
    late_cancellation_hours = models.PositiveSmallIntegerField(
        _("late cancellation window (hours)"),
        default=24,
        help_text=_("A family's cancellation this close to the start is late, and billable."),
    )

    class WaitlistMode(models.TextChoices):
        # DESIGN: by default a freed seat is booked for the first waiting child who fits.
        AUTO_BOOK = "auto_book", _("Book the first waiting child automatically")
        OFFER = "offer", _("Offer the seat for a set time")

    waitlist_mode = models.CharField(
        _("when a seat frees"),
        max_length=20,
        choices=WaitlistMode.choices,
        default=WaitlistMode.AUTO_BOOK,
        help_text=_("What happens to the first waiting child who fits when a group seat frees."),
    )
    waitlist_offer_hours = models.PositiveSmallIntegerField(
        _("waiting-list offer (hours)"),
        default=24,
        help_text=_("How long an offered seat is held for a family before it passes to the next child."),
    )
    # No reminder is sent between these times (the clinic's local time): see appointments.reminders.
    quiet_hours_start = models.TimeField(_("quiet hours start"), default=datetime.time(21, 0))
    quiet_hours_end = models.TimeField(_("quiet hours end"), default=datetime.time(8, 0))
    history = HistoricalRecords()

    tenant_path = "tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")
        ordering = ["name_en"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name_en"], name="clinic_unique_name_per_tenant")
        ]

    def __str__(self) -> str:
        return in_active_language(self.name_en, self.name_ar)


class OpeningHours(models.Model):
    """One interval of a clinic's week (several a day for split shifts). A clinic with none is always open."""

    class Weekday(models.IntegerChoices):
        # Python's date.weekday() numbering.
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    clinic = models.ForeignKey(
        Clinic, verbose_name=_("clinic"), on_delete=models.CASCADE, related_name="opening_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))
    history = HistoricalRecords()

    tenant_path = "clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["clinic", "weekday", "opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="openinghours_closes_after_opening",
                violation_error_message=_("Closing time must be after opening time."),
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="openinghours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"


class OpeningHoursOverride(models.Model):
    """A dated exception to the week (Ramadan hours, a closed day): on that date only these rows count.

    A row with ``closed`` set closes the clinic that day; otherwise each row is one interval.
    """

    clinic = models.ForeignKey(
        Clinic, verbose_name=_("clinic"), on_delete=models.CASCADE, related_name="opening_hours_overrides"
    )
    date = models.DateField(_("date"))
    closed = models.BooleanField(_("closed all day"), default=False)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True, help_text=_("e.g. Ramadan hours"))
    history = HistoricalRecords()

    tenant_path = "clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("opening hours override")
        verbose_name_plural = _("opening hours overrides")
        ordering = ["clinic", "date", "opens_at"]
        indexes = [models.Index(fields=["clinic", "date"], name="hoursoverride_clinic_date_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(closed=True, opens_at__isnull=True, closes_at__isnull=True)
                    | models.Q(closed=False, closes_at__gt=models.F("opens_at"))
                ),
                name="hoursoverride_closed_or_interval",
                violation_error_message=_(
                    "Either close the clinic all day, or give an opening time before the closing time."
                ),
            ),
        ]

    def __str__(self) -> str:
        if self.closed:
            return f"{self.date:%d/%m/%Y} closed"
        return f"{self.date:%d/%m/%Y} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"


class ClinicHoliday(models.Model):
    """A day the clinic is closed for a holiday: series skip it, single bookings on it are refused."""

    clinic = models.ForeignKey(
        Clinic, verbose_name=_("clinic"), on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=200, help_text=_("e.g. Eid al-Fitr"))
    history = HistoricalRecords()

    tenant_path = "clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["clinic", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "date"],
                name="holiday_one_per_clinic_day",
                violation_error_message=_("This clinic already has a holiday on that date."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.name}"


class Room(models.Model):
    clinic = models.ForeignKey(
        Clinic, verbose_name=_("clinic"), on_delete=models.PROTECT, related_name="rooms"
    )
    name = models.CharField(_("name"), max_length=100)
    name_ar = models.CharField(_("name (Arabic)"), max_length=100, blank=True)
    history = HistoricalRecords()

    tenant_path = "clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["clinic__name_en", "name"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="room_unique_name_per_clinic")]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.clinic})"

    @property
    def display_name(self) -> str:
        """The room's name in the active language."""
        return in_active_language(self.name, self.name_ar)


class Provider(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="provider",
    )
    specialty = models.CharField(_("specialty"), max_length=20, choices=Clinic.Specialty.choices)
    clinics = models.ManyToManyField(Clinic, verbose_name=_("clinics"), related_name="providers", blank=True)
    title = models.CharField(_("title"), max_length=40, blank=True, help_text=_("e.g. Dr"))
    name_ar = models.CharField(
        _("name (Arabic)"),
        max_length=200,
        blank=True,
        help_text=_("The name with its title as Arabic pages show it, e.g. د. سارة القحطاني."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(m2m_fields=[clinics])

    tenant_path = "user__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        name = self.user.get_full_name() or self.user.username
        return in_active_language(f"{self.title} {name}".strip(), self.name_ar)

    @property
    def tenant(self) -> Tenant | None:
        return self.user.tenant


class ProviderWorkingHours(models.Model):
    """One interval of a provider's week at one clinic (several a day for split shifts).

    A provider with no intervals at all is not restricted by working hours, so data booked
    before hours existed keeps working; once any are set, bookings must fit inside them.
    """

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.CASCADE, related_name="working_hours"
    )
    clinic = models.ForeignKey(
        Clinic, verbose_name=_("clinic"), on_delete=models.CASCADE, related_name="provider_working_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=OpeningHours.Weekday.choices)
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))
    history = HistoricalRecords()

    tenant_path = "clinic__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["provider", "clinic", "weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="workinghours_ends_after_start",
                violation_error_message=_("The end of the working hours must be after their start."),
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="workinghours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}-{self.ends_at:%H:%M}"


class ProviderLeave(models.Model):
    """Time a provider is away (leave, training, sick): nothing is booked with them inside it."""

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.CASCADE, related_name="leaves"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)
    history = HistoricalRecords()

    tenant_path = "provider__user__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("leave")
        verbose_name_plural = _("leave")
        ordering = ["provider", "starts_at"]
        indexes = [models.Index(fields=["provider", "starts_at"], name="leave_provider_start_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="leave_ends_after_start",
                violation_error_message=_("Leave must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        starts, ends = timezone.localtime(self.starts_at), timezone.localtime(self.ends_at)
        return f"{self.provider}: {starts:%d/%m/%Y %H:%M}-{ends:%d/%m/%Y %H:%M} ({self.reason})"


class ServiceName(models.Model):
    """One entry of an organisation's catalogue of service names, in English and Arabic.

    ``service_type`` on sessions and appointments stays free text (the seed's contract): the
    booking forms offer these names, and pages show the Arabic name of a text that matches one.
    """

    tenant = models.ForeignKey(
        Tenant, verbose_name=_("tenant"), on_delete=models.PROTECT, related_name="service_names"
    )
    specialty = models.CharField(
        _("specialty"),
        max_length=20,
        choices=Clinic.Specialty.choices,
        blank=True,
        help_text=_("Offered on the booking forms of this specialty's clinics; blank for every clinic."),
    )
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_ar = models.CharField(_("name (Arabic)"), max_length=100, blank=True)
    is_active = models.BooleanField(_("offered on booking forms"), default=True)
    history = HistoricalRecords()

    tenant_path = "tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("service name")
        verbose_name_plural = _("service names")
        ordering = ["name_en"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name_en"],
                name="servicename_unique_per_tenant",
                violation_error_message=_("This service name is already in the catalogue."),
            )
        ]

    def __str__(self) -> str:
        return in_active_language(self.name_en, self.name_ar)


class Patient(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")

    tenant = models.ForeignKey(
        Tenant, verbose_name=_("tenant"), on_delete=models.PROTECT, related_name="patients"
    )
    # Unique within the tenant, stored normalised (``normalise_mrn``): see Meta.constraints.
    mrn = models.CharField(_("medical record number"), max_length=MRN_MAX_LENGTH)
    first_name_en = models.CharField(_("first name (English)"), max_length=100)
    last_name_en = models.CharField(_("last name (English)"), max_length=100)
    first_name_ar = models.CharField(_("first name (Arabic)"), max_length=100, blank=True)
    last_name_ar = models.CharField(_("last name (Arabic)"), max_length=100, blank=True)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Kept by PostgreSQL (core.name_search): names and MRN folded for search (phones: the guardians').
    search_text = models.GeneratedField(
        expression=search_text_expression(),
        output_field=models.TextField(),
        db_persist=True,
        verbose_name=_("search text"),
    )
    history = HistoricalRecords(excluded_fields=["search_text"])

    tenant_path = "tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["last_name_en", "first_name_en"]
        indexes = [
            models.Index(fields=["tenant", "last_name_en"], name="patient_tenant_name_idx"),
            # The admin changelist's newest-first page.
            models.Index(fields=["created_at", "id"], name="patient_created_idx"),
            # Word-prefix search (to_tsquery 'word:*') with the built-in 'simple' configuration.
            GinIndex(SearchVector("search_text", config="simple"), name="patient_search_text_idx"),
        ]
        constraints = [
            # Two organisations may give the same number to different children.
            models.UniqueConstraint(
                fields=["tenant", "mrn"],
                name="patient_unique_mrn_per_tenant",
                violation_error_message=_("Another patient already has this MRN."),
            ),
            # What normalise_mrn leaves: not blank, no surrounding spaces, upper case, no Arabic digits.
            models.CheckConstraint(
                condition=models.Q(mrn=Upper(Trim("mrn")))
                & ~models.Q(mrn="")
                & ~models.Q(mrn__regex=r"^\s|\s$|[٠-٩۰-۹]"),
                name="patient_mrn_normalised",
                violation_error_message=_("The MRN is not normalised."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.mrn})"

    def save(self, *args, **kwargs) -> None:
        # The seed and the admin save patients directly; every path stores the MRN normalised.
        self.mrn = normalise_mrn(self.mrn)
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None) -> None:
        # Before the field checks (blank, length) and the unique check of (tenant, mrn), so
        # "  " is blank and "ag-1" and "AG-1" are seen as the same.
        if not exclude or "mrn" not in exclude:
            self.mrn = normalise_mrn(self.mrn)
        super().clean_fields(exclude)

    @property
    def full_name_en(self) -> str:
        return f"{self.first_name_en} {self.last_name_en}".strip()

    @property
    def full_name_ar(self) -> str:
        return f"{self.first_name_ar} {self.last_name_ar}".strip()

    @property
    def full_name(self) -> str:
        """The name in the active language (the English one where no Arabic is recorded)."""
        return in_active_language(self.full_name_en, self.full_name_ar)


# E.164: a plus, a country code and up to 15 digits in all (core.guardians normalises to it).
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"


class Guardian(models.Model):
    """A parent or carer of a patient: who may be told about appointments, and how.

    Reminders and confirm-or-cancel links go only to a guardian with ``consent_to_contact``
    who ``may_receive_appointment_info`` (a parent without custody, or under a court
    order, gets nothing), by their preferred channel and in their preferred language.
    """

    class Relation(models.TextChoices):
        MOTHER = "mother", _("Mother")
        FATHER = "father", _("Father")
        GRANDPARENT = "grandparent", _("Grandparent")
        SIBLING = "sibling", _("Sibling")
        AUNT_OR_UNCLE = "aunt_or_uncle", _("Aunt or uncle")
        LEGAL_GUARDIAN = "legal_guardian", _("Legal guardian")
        OTHER = "other", _("Other")

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        ARABIC = "ar", _("Arabic")

    class Channel(models.TextChoices):
        SMS = "sms", _("Text message")
        EMAIL = "email", _("E-mail")

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.CASCADE, related_name="guardians"
    )
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    relation = models.CharField(_("relation"), max_length=20, choices=Relation.choices, blank=True)
    # Stored in E.164 ("+966501234567"), or blank.
    phone = models.CharField(_("mobile phone"), max_length=16, blank=True)
    # A phone that failed validation (the migration from Patient.phone): kept as typed, never used.
    phone_as_entered = models.CharField(_("phone as entered"), max_length=30, blank=True)
    phone_needs_review = models.BooleanField(_("phone needs review"), default=False)
    email = models.EmailField(_("e-mail"), blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.ARABIC
    )
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, default=Channel.SMS
    )
    consent_to_contact = models.BooleanField(_("consents to be contacted"), default=False)
    may_receive_appointment_info = models.BooleanField(
        _("may receive appointment information"),
        default=True,
        help_text=_("Untick for a guardian without custody or under a court order: they are sent nothing."),
    )
    is_primary = models.BooleanField(_("primary guardian"), default=False)
    # Set when the guardian replied STOP to a text message: no more text messages.
    sms_opted_out_at = models.DateTimeField(_("opted out of text messages at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    tenant_path = "patient__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        ordering = ["patient", "-is_primary", "pk"]
        indexes = [
            # Exact and prefix (LIKE '+96650%') phone search: core.selectors.search_patients.
            models.Index(
                fields=["phone"], name="guardian_phone_prefix_idx", opclasses=["varchar_pattern_ops"]
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(is_primary=True),
                name="guardian_one_primary_per_patient",
                violation_error_message=_("This patient already has a primary guardian."),
            ),
            models.CheckConstraint(
                condition=models.Q(phone="") | models.Q(phone__regex=E164_PATTERN),
                name="guardian_phone_e164",
                violation_error_message=_("Enter the phone in international form, e.g. +966501234567."),
            ),
            models.CheckConstraint(
                condition=~models.Q(name_en="", name_ar=""),
                name="guardian_has_a_name",
                violation_error_message=_("Give the guardian's name in English or Arabic."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language (the other one where only that is recorded)."""
        return in_active_language(self.name_en or self.name_ar, self.name_ar)


class Consent(models.Model):
    class ConsentType(models.TextChoices):
        GENERAL = "general", _("General treatment")
        PSYCHOLOGY = Clinic.Specialty.PSYCHOLOGY.value, Clinic.Specialty.PSYCHOLOGY.label
        OT = Clinic.Specialty.OT.value, Clinic.Specialty.OT.label
        ABA = Clinic.Specialty.ABA.value, Clinic.Specialty.ABA.label
        SLP = Clinic.Specialty.SLP.value, Clinic.Specialty.SLP.label
        MEDICAL = Clinic.Specialty.MEDICAL.value, Clinic.Specialty.MEDICAL.label
        NURSING = Clinic.Specialty.NURSING.value, Clinic.Specialty.NURSING.label

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.CASCADE, related_name="consents"
    )
    consent_type = models.CharField(_("consent type"), max_length=20, choices=ConsentType.choices)
    signed_by = models.CharField(_("signed by"), max_length=200, blank=True)
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    history = HistoricalRecords()

    tenant_path = "patient__tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-signed_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=True) | models.Q(expires_at__gte=models.F("signed_at")),
                name="consent_expires_after_signing",
                violation_error_message=_("A consent can't expire before it is signed."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_consent_type_display()} - {self.patient.full_name}"

    def covers(self, specialty: str) -> bool:
        return self.consent_type in (self.ConsentType.GENERAL, specialty)

    def is_valid_on(self, day: datetime.date) -> bool:
        """Signed on or before ``day``, not revoked by then, not expired before it (installation time)."""
        if clock.local_day(self.signed_at) > day:
            return False
        if self.revoked_at is not None and clock.local_day(self.revoked_at) <= day:
            return False
        return self.expires_at is None or clock.local_day(self.expires_at) >= day


def record_reference(
    to: type[models.Model] | str, verbose_name: "StrOrPromise", **options: Any
) -> models.ForeignKey:
    """A reference from an audit record that is a plain id: no foreign-key constraint and no
    cascade, so the record outlives what it names and no deletion elsewhere ever rewrites it."""
    options.setdefault("related_name", "+")
    return models.ForeignKey(
        to, verbose_name=verbose_name, on_delete=models.DO_NOTHING, db_constraint=False, **options
    )


class AccessLog(models.Model):
    """One read of patient or clinical data, or one refused attempt: who, what, when, from where.

    Append-only: the app's database role may only SELECT and INSERT it, a trigger stores
    each row's hash, and sealed hash chains reveal any later change (``core.audit_chain``).
    The user and patient columns are plain ids (``record_reference``).
    """

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        PRINT = "print", _("Printed")
        EXPORT = "export", _("Exported")
        DENIED = "denied", _("Denied")
        BREAK_GLASS = "break_glass", _("Break the glass")

    at = models.DateTimeField(_("at"), default=clock.now)
    tenant = models.ForeignKey(
        Tenant, verbose_name=_("tenant"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = record_reference(settings.AUTH_USER_MODEL, _("user"), null=True, blank=True)
    # The login name, or what acted without one (a family's confirmation link).
    actor = models.CharField(_("actor"), max_length=150)
    patient = record_reference(Patient, _("patient"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=80)
    # The object's id, or a list's query.
    object_id = models.CharField(_("object id"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    tenant_path = "tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-id"]
        indexes = [
            # Rows arrive in time order: a BRIN index on the time stays a few pages at any size.
            BrinIndex(fields=["at"], name="accesslog_at_brin"),
            models.Index(fields=["tenant", "patient", "id"], name="accesslog_tenant_patient_idx"),
            models.Index(fields=["tenant", "user", "id"], name="accesslog_tenant_user_idx"),
            models.Index(fields=["tenant", "action", "id"], name="accesslog_tenant_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.object_type} {self.object_id}"


class UserPrivilegeChange(models.Model):
    """One change of a user's role, organisation, staff, superuser or active flag: old, new, by whom.

    Append-only like the access log (hash trigger, SELECT and INSERT grants only).
    """

    class Field(models.TextChoices):
        ROLE = "role", _("role")
        TENANT = "tenant", _("tenant")
        IS_STAFF = "is_staff", _("staff status")
        IS_SUPERUSER = "is_superuser", _("superuser status")
        IS_ACTIVE = "is_active", _("active")

    at = models.DateTimeField(_("at"), default=clock.now)
    # The user's organisation after the change (its administrators see the row).
    tenant = models.ForeignKey(
        Tenant, verbose_name=_("tenant"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = record_reference(settings.AUTH_USER_MODEL, _("user"), related_name="privilege_changes")
    field = models.CharField(_("field"), max_length=20, choices=Field.choices)
    old_value = models.CharField(_("old value"), max_length=200, blank=True)
    new_value = models.CharField(_("new value"), max_length=200, blank=True)
    changed_by = record_reference(settings.AUTH_USER_MODEL, _("changed by"), null=True, blank=True)

    tenant_path = "tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("privilege change")
        verbose_name_plural = _("privilege changes")
        ordering = ["-id"]
        indexes = [models.Index(fields=["tenant", "id"], name="privilegechange_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.field}: {self.old_value} -> {self.new_value}"


class BreakGlassGrant(models.Model):
    """A clinician's read-only access to one child's notes of other disciplines for an hour, with a reason."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("tenant"), on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("clinician"),
        on_delete=models.PROTECT,
        related_name="break_glass_grants",
    )
    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="break_glass_grants"
    )
    reason = models.TextField(_("reason"), max_length=2000)
    started_at = models.DateTimeField(_("started at"), default=clock.now)
    expires_at = models.DateTimeField(_("expires at"))
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    history = HistoricalRecords()

    tenant_path = "tenant"
    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("break-the-glass access")
        verbose_name_plural = _("break-the-glass accesses")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "patient", "expires_at"], name="breakglass_active_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("started_at")),
                name="breakglass_expires_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""),
                name="breakglass_reason_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} -> {self.patient}"


class AuditSeal(models.Model):
    """A signed statement about an audit table's rows (``core.audit_chain``).

    - ``chain``: the row hashes of ``table_name`` with ids ``first_id``..``last_id``,
      ``entries`` (each row's id as a big-endian int8 and its 32-byte hash, in id order),
      chained to the table's previous seal: ``chain_hash = sha256(previous_chain || entries)``.
    - ``retention``: the access log's rows up to ``last_id`` were deleted by the retention
      (``row_count`` of them), so verification expects them gone.
    - ``checkpoint``: verification found everything intact up to the chain seal
      ``last_id`` (whose chain hash is ``previous_chain``); the next incremental run starts there.

    ``signature`` is the HMAC-SHA256, keyed with ``settings.AUDIT_SEAL_KEY``, of the kind,
    table, range, count and chain hash: without the key nobody, the database owner
    included, can write a seal verification accepts. Append-only, like the rows it seals.
    No organisation: a seal spans every tenant's rows, so only superusers see seals
    (no ``tenant_path``).
    """

    class Kind(models.TextChoices):
        CHAIN = "chain", _("chain")
        RETENTION = "retention", _("retention")
        CHECKPOINT = "checkpoint", _("verification checkpoint")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.CHAIN)
    table_name = models.CharField(_("table"), max_length=63, blank=True)
    first_id = models.BigIntegerField(_("first id"))
    last_id = models.BigIntegerField(_("last id"))
    row_count = models.IntegerField(_("row count"))
    entries = models.BinaryField(_("entries"), blank=True)
    previous_chain = models.BinaryField(_("previous chain hash"), blank=True)
    chain_hash = models.BinaryField(_("chain hash"))
    signature = models.CharField(_("signature"), max_length=64)
    sealed_at = models.DateTimeField(_("sealed at"), default=clock.now)

    objects = TenantScopedManager()

    class Meta:
        verbose_name = _("audit seal")
        verbose_name_plural = _("audit seals")
        ordering = ["id"]
        indexes = [models.Index(fields=["kind", "table_name", "id"], name="auditseal_kind_table_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["chain", "retention", "checkpoint"]),
                name="auditseal_kind_known",
            ),
            models.CheckConstraint(
                condition=models.Q(row_count__gte=0, last_id__gte=models.F("first_id")),
                name="auditseal_range_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.table_name} {self.first_id}-{self.last_id}"
