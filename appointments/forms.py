"""Forms of the scheduling pages: they parse and check input; services do the booking."""

import datetime
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from appointments import timing
from appointments.exceptions import BookingWindowError
from appointments.models import (
    MAX_DURATION_MINUTES,
    MAX_GROUP_CAPACITY,
    MIN_DURATION_MINUTES,
    Appointment,
    Session,
    SessionParticipant,
)
from core import clock
from core.form_fields import CalendarDateField, ClinicOptionsSelect, LocalPathField, PatientPickerInput
from core.models import MRN_MAX_LENGTH, Clinic, Patient, Provider, Room, User, normalise_mrn
from core.service_names import offer_service_names

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _date_field(label: StrOrPromise, required: bool = True) -> forms.DateField:
    return CalendarDateField(label=label, required=required, widget=DATE_WIDGET)


def refuse_past(day: datetime.date) -> datetime.date:
    """Booking forms refuse past dates (the services accept them for after-the-fact records)."""
    timing.refuse_past_day(day, clock.today())
    return day


def check_slot_window(form: forms.BaseForm, *, clinic: Clinic | None, duration: int | None) -> None:
    """The pages' rules on a booking form's slot, which the services don't check (``appointments.timing``).

    The date no further ahead than ``clinic``'s booking horizon (on ``scheduled_date``)
    and the slot ending by midnight (on ``scheduled_time``). Past dates are refused by
    ``refuse_past`` on the page forms; the admin's forms accept them, to record after the fact.
    """
    day, start = form.cleaned_data.get("scheduled_date"), form.cleaned_data.get("scheduled_time")
    if day is None:
        return
    try:
        if clinic is not None:
            timing.refuse_beyond_the_horizon(day, clinic, clock.today())
    except BookingWindowError as error:
        form.add_error("scheduled_date", error)
    try:
        if start is not None and duration is not None:
            timing.refuse_past_midnight(day, start, duration)
    except BookingWindowError as error:
        form.add_error("scheduled_time", error)


def choice_field(fields: dict[str, forms.Field], name: str) -> forms.ModelChoiceField:
    """The model choice field ``name`` of a form's ``fields`` (typed as plain fields)."""
    return cast(forms.ModelChoiceField, fields[name])


def provider_clinic_ids(provider: Provider) -> list[int]:
    return [clinic.pk for clinic in provider.clinics.all()]  # prefetched (narrow_to_clinic)


def room_clinic_ids(room: Room) -> list[int]:
    return [room.clinic_id]


class TenantChoicesMixin:
    """Limit clinic, provider, room and patient choices to the user's organisation, and offer
    its catalogue's service names on a ``service_type`` box."""

    fields: dict[str, forms.Field]  # the form's, for mypy

    def limit_choices_to_tenant(self, user: User) -> None:
        querysets = {
            "clinic": Clinic.objects.for_user(user),
            "provider": Provider.objects.for_user(user).filter(is_active=True).select_related("user"),
            "room": Room.objects.for_user(user).select_related("clinic"),
        }
        for name, queryset in querysets.items():
            if name in self.fields:
                choice_field(self.fields, name).queryset = queryset
        if "service_type" in self.fields:
            offer_service_names(self.fields["service_type"], user, querysets["clinic"])

    def narrow_to_clinic(self) -> None:
        """A booking form's providers and rooms name their clinics (``ClinicOptionsSelect``), so the
        page offers only those of the clinic chosen (``static/js/clinic_filter.js``)."""
        providers, rooms = choice_field(self.fields, "provider"), choice_field(self.fields, "room")
        providers.widget = ClinicOptionsSelect(provider_clinic_ids)
        rooms.widget = ClinicOptionsSelect(room_clinic_ids)
        for field in (providers, rooms):
            field.widget.is_required = field.required
        # Set again: the queryset's setter gives the new widgets their choices.
        if providers.queryset is not None:  # always: limit_choices_to_tenant set it
            providers.queryset = providers.queryset.prefetch_related("clinics")
        rooms.queryset = rooms.queryset


class PatientByMrnField(forms.CharField):
    """A patient picked by medical record number, inside the user's organisation.

    The MRN typed is normalised as stored (case, spaces, Arabic digits) and must match
    exactly one of ``patients``: an MRN of another organisation gets the same answer
    as one nobody has.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Patient MRN"))
        kwargs.setdefault("widget", PatientPickerInput)
        kwargs.setdefault("max_length", MRN_MAX_LENGTH)
        super().__init__(**kwargs)
        self.patients = Patient.objects.none()

    def clean(self, value):
        mrn = normalise_mrn(super().clean(value))
        try:
            # Unique within an organisation; two rows only for a user seeing every organisation.
            return self.patients.get(mrn=mrn)
        except (Patient.DoesNotExist, Patient.MultipleObjectsReturned):
            raise forms.ValidationError(
                _("No patient with MRN %(mrn)s in your organisation."), params={"mrn": mrn}, code="unknown"
            ) from None


class ListFilterForm(TenantChoicesMixin, forms.Form):
    """Filters of a list page. Invalid input filters nothing and its error is shown."""

    date_from = _date_field(_("From"), required=False)
    date_to = _date_field(_("To"), required=False)
    clinic = forms.ModelChoiceField(label=_("Clinic"), queryset=Clinic.objects.none(), required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_choices_to_tenant(user)

    def filters(self) -> dict:
        self.is_valid()
        return self.cleaned_data


class SessionFilterForm(ListFilterForm):
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Provider.objects.none(), required=False)
    session_type = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Any type")), *Session.SessionType.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *Session.Status.choices], required=False
    )
    free_seats_only = forms.BooleanField(label=_("Only with free seats"), required=False)


class AppointmentFilterForm(ListFilterForm):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *Appointment.Status.choices], required=False
    )


class GroupSessionCreateForm(TenantChoicesMixin, forms.ModelForm):
    """The seed's form for a new group session; SessionService.create_group_session saves it."""

    class Meta:
        model = Session
        fields = [
            "clinic",
            "provider",
            "room",
            "scheduled_date",
            "scheduled_time",
            "duration",
            "service_type",
            "max_capacity",
            "group_notes",
        ]
        widgets = {
            "scheduled_date": DATE_WIDGET,
            "scheduled_time": TIME_WIDGET,
            "group_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.session_type = Session.SessionType.GROUP
        self.limit_choices_to_tenant(user)
        self.narrow_to_clinic()
        self.fields["max_capacity"].initial = 6
        self.fields["scheduled_date"].initial = clock.today
        self.fields["max_capacity"].help_text = _("Between 2 and %(max)d patients.") % {
            "max": MAX_GROUP_CAPACITY
        }
        self.fields["duration"].help_text = _("Between %(min)d and %(max)d minutes.") % {
            "min": MIN_DURATION_MINUTES,
            "max": MAX_DURATION_MINUTES,
        }

    def clean_scheduled_date(self) -> datetime.date:
        return refuse_past(self.cleaned_data["scheduled_date"])

    def clean(self):
        cleaned = super().clean()
        check_slot_window(self, clinic=cleaned.get("clinic"), duration=cleaned.get("duration"))
        return cleaned

    def clean_max_capacity(self) -> int:
        capacity = self.cleaned_data["max_capacity"]
        if not 2 <= capacity <= MAX_GROUP_CAPACITY:
            raise forms.ValidationError(
                _("A group session needs between 2 and %(max)d seats."), params={"max": MAX_GROUP_CAPACITY}
            )
        return capacity

    def _get_validation_exclusions(self):
        # Double-booking of provider or room is checked by SessionService, which
        # names the clashing booking; the model's exclusion constraints would only
        # say "constraint violated", so they are left to the service here.
        return {*super()._get_validation_exclusions(), "provider", "room"}


class GroupSessionNotesForm(forms.ModelForm):
    """Notes shared by every participant; saved through SessionService.update_group_notes."""

    class Meta:
        model = Session
        fields = ["group_notes"]
        widgets = {"group_notes": forms.Textarea(attrs={"rows": 4})}


class IndividualSessionForm(TenantChoicesMixin, forms.Form):
    patient = PatientByMrnField()
    clinic = forms.ModelChoiceField(label=_("Clinic"), queryset=Clinic.objects.none())
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Provider.objects.none())
    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none(), required=False)
    scheduled_date = _date_field(_("Date"))
    scheduled_time = forms.TimeField(label=_("Start time"), widget=TIME_WIDGET)
    duration = forms.IntegerField(
        label=_("Duration (minutes)"),
        initial=60,
        min_value=MIN_DURATION_MINUTES,
        max_value=MAX_DURATION_MINUTES,
    )
    service_type = forms.CharField(label=_("Service type"), max_length=120)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_choices_to_tenant(user)
        self.narrow_to_clinic()
        cast(PatientByMrnField, self.fields["patient"]).patients = Patient.objects.for_user(user)

    def clean_scheduled_date(self) -> datetime.date:
        return refuse_past(self.cleaned_data["scheduled_date"])

    def clean(self):
        cleaned = super().clean()
        check_slot_window(self, clinic=cleaned.get("clinic"), duration=cleaned.get("duration"))
        return cleaned


class AppointmentBookForm(IndividualSessionForm):
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class AvailableSessionsForm(TenantChoicesMixin, forms.Form):
    clinic = forms.ModelChoiceField(label=_("Clinic"), queryset=Clinic.objects.none())
    date_from = _date_field(_("From"))
    date_to = _date_field(_("To"))
    service_type = forms.CharField(label=_("Service type"), max_length=120, required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_choices_to_tenant(user)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_to"] < cleaned["date_from"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


class AddPatientForm(forms.Form):
    patient = forms.ModelChoiceField(
        label=_("Patient"),
        queryset=Patient.objects.none(),
        error_messages={"invalid_choice": _("That patient is not registered in your organisation.")},
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self.fields, "patient").queryset = Patient.objects.for_user(user)


class CapacityForm(forms.Form):
    max_capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=MAX_GROUP_CAPACITY)


class CancelForm(forms.Form):
    # Not required here: SessionService/AppointmentService refuse a blank reason
    # with the message staff should see.
    reason = forms.CharField(label=_("Reason"), max_length=1000, required=False)


CancelledBy = SessionParticipant.CancelledBy
CancelCategory = SessionParticipant.CancelCategory
NO_CHOICE = ("", "---------")
# The whole session's category is set by cancelling the session, never for one child.
PARTICIPANT_CANCEL_CATEGORIES = [
    (value, label) for value, label in CancelCategory.choices if value != CancelCategory.SESSION_CANCELLED
]
SESSION_CANCEL_CATEGORIES = [
    (category.value, category.label)
    for category in (
        CancelCategory.SESSION_CANCELLED,
        CancelCategory.PROVIDER_UNAVAILABLE,
        CancelCategory.CLINIC_CLOSURE,
        CancelCategory.WEATHER,
        CancelCategory.OTHER,
    )
]


class ParticipantCancelForm(CancelForm):
    """One child's cancellation: who cancelled and the category, which decide whether it is billable.

    The page asks who cancelled (its select is required in the browser); a post without it
    records the clinic, as ``SessionService.cancel_participant`` does by default.
    """

    cancelled_by = forms.TypedChoiceField(
        label=_("Cancelled by"),
        choices=[NO_CHOICE, *CancelledBy.choices],
        required=False,
        empty_value=CancelledBy.CLINIC,
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=[NO_CHOICE, *PARTICIPANT_CANCEL_CATEGORIES], required=False
    )


class SessionCancelForm(CancelForm):
    """A whole session's cancellation: always the clinic's for every child, with a category."""

    category = forms.TypedChoiceField(
        label=_("Category"),
        choices=SESSION_CANCEL_CATEGORIES,
        required=False,
        empty_value=CancelCategory.SESSION_CANCELLED,
    )


class WaiveBillingForm(forms.Form):
    # Not required here: SessionService.waive_billing refuses a blank reason with its message.
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)


class DayForm(forms.Form):
    # A calendar date, so the pages' previous and next day exist too.
    day = _date_field(_("Day"), required=False)


class NextPageForm(forms.Form):
    """Where a one-click action returns to (``next``): a page of this site, else nowhere."""

    next = LocalPathField()

    def __init__(self, *args, allowed_hosts: set[str], require_https: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(LocalPathField, self.fields["next"])
        field.allowed_hosts, field.require_https = allowed_hosts, require_https

    def next_page(self) -> str | None:
        """The page to go back to, or None when none (or not one of ours) was given."""
        return (self.cleaned_data["next"] or None) if self.is_valid() else None


class RescheduleForm(TenantChoicesMixin, forms.Form):
    scheduled_date = _date_field(_("New date"))
    scheduled_time = forms.TimeField(label=_("New start time"), widget=TIME_WIDGET)
    room = forms.ModelChoiceField(
        label=_("Room"),
        queryset=Room.objects.none(),
        required=False,
        help_text=_("Leave empty to keep the current room."),
    )
    duration = forms.IntegerField(
        label=_("Duration (minutes)"),
        min_value=MIN_DURATION_MINUTES,
        max_value=MAX_DURATION_MINUTES,
        required=False,
        help_text=_("Leave empty to keep the current duration."),
    )

    def __init__(self, *args, user: User, appointment: Appointment, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_choices_to_tenant(user)
        rooms = choice_field(self.fields, "room")
        if rooms.queryset is not None:  # always: the field has one, limited to the tenant above
            rooms.queryset = rooms.queryset.filter(clinic=appointment.clinic_id)
        self.appointment = appointment

    def clean_scheduled_date(self) -> datetime.date:
        return refuse_past(self.cleaned_data["scheduled_date"])

    def clean(self):
        cleaned = super().clean()
        duration = cleaned.get("duration") or self.appointment.duration
        check_slot_window(self, clinic=self.appointment.clinic, duration=duration)
        return cleaned


class SessionRescheduleForm(forms.Form):
    """Where a scheduled session moves to; ``SessionService.reschedule_session`` checks the slot.

    Providers and rooms are those of the session's clinic, inside the user's organisation.
    The pages' calendar rules apply (``check_slot_window``); past dates are refused on the
    staff page and accepted by the admin action (``refuse_past=False``), to record after the fact.
    """

    scheduled_date = _date_field(_("New date"))
    scheduled_time = forms.TimeField(label=_("New start time"), widget=TIME_WIDGET)
    duration = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=MIN_DURATION_MINUTES, max_value=MAX_DURATION_MINUTES
    )
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Provider.objects.none())
    room = forms.ModelChoiceField(
        label=_("Room"),
        queryset=Room.objects.none(),
        required=False,
        help_text=_("Leave empty to keep the current room."),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user: User, session: Session, refuse_past: bool = True, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "scheduled_date": session.scheduled_date,
                "scheduled_time": session.scheduled_time,
                "duration": session.duration,
                "provider": session.provider_id,
                "room": session.room_id,
            },
        )
        super().__init__(*args, **kwargs)
        choice_field(self.fields, "provider").queryset = (
            Provider.objects.for_user(user)
            .filter(is_active=True, clinics=session.clinic_id)
            .select_related("user")
        )
        choice_field(self.fields, "room").queryset = (
            Room.objects.for_user(user).filter(clinic=session.clinic_id).select_related("clinic")
        )
        self.session, self.refuses_past = session, refuse_past

    def clean_scheduled_date(self) -> datetime.date:
        day = self.cleaned_data["scheduled_date"]
        return refuse_past(day) if self.refuses_past else day

    def clean(self):
        cleaned = super().clean()
        check_slot_window(self, clinic=self.session.clinic, duration=cleaned.get("duration"))
        return cleaned
