"""Forms of the leave and free-slot pages: they parse and check input; the services act on it."""

import datetime
from typing import cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from appointments.forms import DATE_WIDGET, TIME_WIDGET, TenantChoicesMixin, choice_field
from appointments.leave_selectors import LeaveBooking
from appointments.leave_service import REASON_MAX_LENGTH, MoveAction, MoveItem
from appointments.models import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES
from core import clock
from core.form_fields import CalendarDateField
from core.models import Clinic, Patient, Provider, ProviderLeave, Room, User

# The longest range the free-slot page searches at once.
FREE_SLOT_MAX_DAYS = 31
FREE_SLOT_DEFAULT_DAYS = 7
NO_CHOICE = ("", "---------")


def _date_field(label: StrOrPromise, required: bool = True) -> CalendarDateField:
    return CalendarDateField(label=label, required=required, widget=DATE_WIDGET)


def _aware(day: datetime.date, time: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, time), timezone.get_default_timezone())


class LeaveForm(TenantChoicesMixin, forms.Form):
    """A provider's leave: from a day (and time) until a day (and time); whole days by default."""

    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Provider.objects.none())
    starts_on = _date_field(_("From (date)"))
    starts_time = forms.TimeField(
        label=_("From (time)"),
        widget=TIME_WIDGET,
        required=False,
        help_text=_("Leave empty to start at the beginning of the day."),
    )
    ends_on = _date_field(_("Until (date)"))
    ends_time = forms.TimeField(
        label=_("Until (time)"),
        widget=TIME_WIDGET,
        required=False,
        help_text=_("Leave empty to include the whole day."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_LENGTH)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_choices_to_tenant(user)

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on is None or ends_on is None:
            return cleaned
        cleaned["starts_at"] = _aware(starts_on, cleaned.get("starts_time") or datetime.time())
        ends_time = cleaned.get("ends_time")
        # Until a day without a time: that whole day, so until the midnight after it.
        cleaned["ends_at"] = (
            _aware(ends_on, ends_time)
            if ends_time is not None
            else _aware(ends_on + datetime.timedelta(days=1), datetime.time())
        )
        if cleaned["ends_at"] <= cleaned["starts_at"]:
            self.add_error("ends_on", _("The leave must end after it starts."))
        return cleaned

    def leave_values(self) -> dict:
        """What ``leave_service.record_leave`` takes (besides the user)."""
        return {name: self.cleaned_data[name] for name in ("provider", "starts_at", "ends_at", "reason")}


class LeaveFilterForm(TenantChoicesMixin, forms.Form):
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Provider.objects.none(), required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_choices_to_tenant(user)

    def provider_filter(self) -> Provider | None:
        """The provider chosen, or None (no filter, also for a choice that isn't valid)."""
        return self.cleaned_data.get("provider") if self.is_valid() else None


AS_FOR_ALL = ""
KEEP = "keep"
ACTION_CHOICES = [
    (MoveAction.NEXT_FREE.value, _("Move to the provider's next free slot")),
    (MoveAction.OTHER_PROVIDER.value, _("Move to another provider")),
    (MoveAction.CANCEL.value, _("Cancel")),
]


def _row_widget(widget: type[forms.Widget], label: StrOrPromise) -> forms.Widget:
    """A compact input for a table row, named for screen readers (the column header says it on screen)."""
    css = "form-select form-select-sm" if issubclass(widget, forms.Select) else "form-control form-control-sm"
    return widget(attrs={"class": css, "aria-label": label})


class LeaveMovesForm(forms.Form):
    """What to do with each booking under a leave, and a choice for all of them at once.

    Each booking has an action (as chosen for all, leave it, next free slot, another provider,
    cancel), a provider (for another provider: one working in the booking's clinic) and a
    cancellation reason; what a row leaves empty comes from the choice for all.
    """

    bulk_action = forms.ChoiceField(
        label=_("For every booking"), choices=[("", _("Nothing")), *ACTION_CHOICES], required=False
    )
    bulk_provider = forms.TypedChoiceField(label=_("Provider"), coerce=int, required=False, empty_value=None)
    bulk_reason = forms.CharField(label=_("Cancellation reason"), max_length=1000, required=False)

    def __init__(self, *args, leave: ProviderLeave, bookings: list[LeaveBooking], user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.bookings = bookings
        providers = list(
            Provider.objects.for_user(user)
            .filter(is_active=True)
            .exclude(pk=leave.provider_id)
            .select_related("user")
            .prefetch_related("clinics")
        )
        self.providers = {provider.pk: provider for provider in providers}
        cast(forms.TypedChoiceField, self.fields["bulk_provider"]).choices = [
            NO_CHOICE,
            *((provider.pk, str(provider)) for provider in providers),
        ]
        self.fields["bulk_reason"].initial = leave.reason
        row_actions = [(AS_FOR_ALL, _("As chosen for all")), (KEEP, _("Leave it")), *ACTION_CHOICES]
        for booking in bookings:
            clinic_id = booking.booking.clinic_id
            self.fields[f"action-{booking.key}"] = forms.ChoiceField(
                label=_("Action"),
                choices=row_actions,
                required=False,
                widget=_row_widget(forms.Select, _("Action")),
            )
            self.fields[f"provider-{booking.key}"] = forms.TypedChoiceField(
                label=_("Provider"),
                coerce=int,
                required=False,
                empty_value=None,
                widget=_row_widget(forms.Select, _("Provider")),
                choices=[
                    NO_CHOICE,
                    *(
                        (provider.pk, str(provider))
                        for provider in providers
                        if any(clinic.pk == clinic_id for clinic in provider.clinics.all())
                    ),
                ],
            )
            self.fields[f"reason-{booking.key}"] = forms.CharField(
                label=_("Cancellation reason"),
                max_length=1000,
                required=False,
                widget=_row_widget(forms.TextInput, _("Cancellation reason")),
            )

    def rows(self) -> list[tuple[LeaveBooking, forms.BoundField, forms.BoundField, forms.BoundField]]:
        """Each booking with its action, provider and reason fields, for the page."""
        return [
            (
                booking,
                self[f"action-{booking.key}"],
                self[f"provider-{booking.key}"],
                self[f"reason-{booking.key}"],
            )
            for booking in self.bookings
        ]

    def clean(self):
        cleaned = super().clean()
        if self.is_bound and not self.errors and not self.items():
            raise forms.ValidationError(_("Choose what to do with at least one booking."))
        return cleaned

    def items(self) -> list[MoveItem]:
        """The bookings to move or cancel, each with what was chosen for it (row first, then all)."""
        data = self.cleaned_data
        chosen = []
        for booking in self.bookings:
            action = data.get(f"action-{booking.key}") or data.get("bulk_action")
            if not action or action == KEEP:
                continue
            provider_id = data.get(f"provider-{booking.key}") or data.get("bulk_provider")
            chosen.append(
                MoveItem(
                    booking=booking,
                    action=MoveAction(action),
                    provider=self.providers.get(provider_id) if provider_id is not None else None,
                    reason=data.get(f"reason-{booking.key}") or data.get("bulk_reason") or "",
                )
            )
        return chosen


class FreeSlotsForm(TenantChoicesMixin, forms.Form):
    """The free-slot search: a clinic, optionally a provider, specialty, room and children, a
    duration and a date range (today and the next week by default)."""

    clinic = forms.ModelChoiceField(label=_("Clinic"), queryset=Clinic.objects.none())
    provider = forms.ModelChoiceField(
        label=_("Provider"), queryset=Provider.objects.none(), required=False, empty_label=_("Any provider")
    )
    specialty = forms.ChoiceField(
        label=_("Specialty"), choices=[("", _("Any specialty")), *Clinic.Specialty.choices], required=False
    )
    room = forms.ModelChoiceField(
        label=_("Room"), queryset=Room.objects.none(), required=False, empty_label=_("Any room")
    )
    duration = forms.IntegerField(
        label=_("Duration (minutes)"),
        initial=60,
        min_value=MIN_DURATION_MINUTES,
        max_value=MAX_DURATION_MINUTES,
    )
    date_from = _date_field(_("From"))
    date_to = _date_field(_("To"))
    patients = forms.ModelMultipleChoiceField(
        label=_("Children"),
        queryset=Patient.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("That patient is not registered in your organisation.")},
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_choices_to_tenant(user)
        choice_field(self.fields, "patients").queryset = Patient.objects.for_user(user)
        today = clock.today()
        self.fields["date_from"].initial = today
        self.fields["date_to"].initial = today + datetime.timedelta(days=FREE_SLOT_DEFAULT_DAYS)

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to:
            if date_to < date_from:
                self.add_error("date_to", _("The end date is before the start date."))
            elif (date_to - date_from).days >= FREE_SLOT_MAX_DAYS:
                self.add_error(
                    "date_to", _("Search at most %(days)d days at a time.") % {"days": FREE_SLOT_MAX_DAYS}
                )
        return cleaned

    def search(self) -> dict:
        """What ``SessionService.find_free_slots`` takes from the form."""
        data = dict(self.cleaned_data)
        data["specialty"] = data["specialty"] or None
        data["patients"] = tuple(data["patients"])
        return data
