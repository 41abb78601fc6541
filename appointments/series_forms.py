"""Forms of the series pages: they parse and check input; ``SeriesService`` plans and writes.

The pages' calendar rules (no past first date, the clinic's booking horizon, no slot past
midnight) are checked here, as the other booking forms do (``appointments.timing``); every
other rule (clashes, opening and working hours, leave, holidays, seats) is the service's.
"""

import datetime
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from appointments import timing
from appointments.exceptions import BookingWindowError
from appointments.forms import (
    DATE_WIDGET,
    TIME_WIDGET,
    PatientByMrnField,
    TenantChoicesMixin,
    choice_field,
    refuse_past,
)
from appointments.models import (
    MAX_DURATION_MINUTES,
    MAX_GROUP_CAPACITY,
    MIN_DURATION_MINUTES,
    Session,
    SessionSeries,
)
from core import clock
from core.form_fields import CalendarDateField
from core.models import Clinic, Patient, Provider, Room, User

SessionType = Session.SessionType
# More dates than any series has (a count of 104 extended by its skipped dates): a longer
# list is junk, refused before any date in it is parsed.
MAX_SKIP_DATES = 2 * SessionSeries.MAX_OCCURRENCES


class SkipDatesField(forms.Field):
    """The dates ticked "skip this date": a list of ISO dates, each a calendar date, sorted."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"too_many": _("Too many dates to skip.")}

    def to_python(self, value: Any) -> list[datetime.date]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        if len(values) > MAX_SKIP_DATES:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")
        day = CalendarDateField()
        return sorted({day.clean(one) for one in values})


class OptionalPatientByMrnField(PatientByMrnField):
    """``PatientByMrnField`` that may be left empty (None)."""

    def clean(self, value: Any) -> Patient | None:
        if not isinstance(value, str) or not value.strip():
            return None
        return super().clean(value)


class FollowingField(forms.ChoiceField):
    """Which sessions a change reaches: "this session only", or "this and all following" (True)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label=_("Which sessions"),
            choices=[("one", _("This session only")), ("following", _("This and all following"))],
            # Left out, the change reaches the one session: the narrower of the two.
            required=False,
            initial="one",
            widget=forms.RadioSelect,
            **kwargs,
        )

    def clean(self, value: Any) -> bool:
        return super().clean(value) == "following"


def _refuse(form: forms.Form, field: str, check: Any, *args: Any) -> None:
    """Put a page rule's BookingWindowError on ``field``."""
    try:
        check(*args)
    except BookingWindowError as error:
        form.add_error(field, error)


class SeriesFilterForm(TenantChoicesMixin, forms.Form):
    clinic = forms.ModelChoiceField(label=_("Clinic"), queryset=Clinic.objects.none(), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit_choices_to_tenant(user)

    def filters(self) -> dict[str, Any]:
        """The valid filters; invalid input filters nothing (its error is shown)."""
        self.is_valid()
        return self.cleaned_data


class SeriesCreateForm(TenantChoicesMixin, forms.Form):
    """A new series, group or individual; ``plan_kwargs``/``create_kwargs`` feed ``SeriesService``."""

    session_type = forms.ChoiceField(
        label=_("Type"), choices=SessionType.choices, initial=SessionType.GROUP, widget=forms.RadioSelect
    )
    patient = OptionalPatientByMrnField(
        required=False,
        help_text=_("An individual series: the child's MRN. A group series enrols children later."),
    )
    clinic = forms.ModelChoiceField(label=_("Clinic"), queryset=Clinic.objects.none())
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Provider.objects.none())
    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none(), required=False)
    service_type = forms.CharField(label=_("Service type"), max_length=120)
    title = forms.CharField(
        label=_("Title"), max_length=200, required=False, help_text=_("e.g. Social skills, spring")
    )
    start_date = CalendarDateField(label=_("First date"), widget=DATE_WIDGET)
    scheduled_time = forms.TimeField(label=_("Start time"), widget=TIME_WIDGET)
    duration = forms.IntegerField(
        label=_("Duration (minutes)"),
        initial=60,
        min_value=MIN_DURATION_MINUTES,
        max_value=MAX_DURATION_MINUTES,
    )
    frequency = forms.ChoiceField(
        label=_("Repeats"), choices=SessionSeries.Frequency.choices, initial=SessionSeries.Frequency.WEEKLY
    )
    occurrence_count = forms.IntegerField(
        label=_("Number of sessions"),
        min_value=1,
        max_value=SessionSeries.MAX_OCCURRENCES,
        required=False,
        initial=10,
        help_text=_("Sessions held: a skipped date adds one at the end. Or give a last date instead."),
    )
    end_date = CalendarDateField(label=_("Last date"), widget=DATE_WIDGET, required=False)
    max_capacity = forms.IntegerField(
        label=_("Capacity"),
        min_value=1,
        max_value=MAX_GROUP_CAPACITY,
        required=False,
        initial=6,
        help_text=_("A group: between 2 and %(max)d children. An individual series has one seat.")
        % {"max": MAX_GROUP_CAPACITY},
    )
    group_notes = forms.CharField(
        label=_("Group notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    skip_dates = SkipDatesField(required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit_choices_to_tenant(user)
        self.narrow_to_clinic()
        cast(PatientByMrnField, self.fields["patient"]).patients = Patient.objects.for_user(user)
        self.fields["start_date"].initial = clock.today

    def clean_start_date(self) -> datetime.date:
        return refuse_past(self.cleaned_data["start_date"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("session_type") == SessionType.INDIVIDUAL:
            if "patient" in cleaned and cleaned["patient"] is None:
                self.add_error("patient", _("An individual series is for one child: give their MRN."))
            cleaned["max_capacity"] = 1
        else:
            # The MRN box is hidden for a group (static/js/series.js): whatever it kept is not meant.
            cleaned["patient"] = None
            capacity = cleaned.get("max_capacity")
            if "max_capacity" in cleaned and (capacity is None or not 2 <= capacity <= MAX_GROUP_CAPACITY):
                self.add_error(
                    "max_capacity",
                    _("A group series needs between 2 and %(max)d seats.") % {"max": MAX_GROUP_CAPACITY},
                )
        self._clean_length(cleaned)
        self._clean_window(cleaned)
        return cleaned

    def _clean_length(self, cleaned: dict[str, Any]) -> None:
        count, end = cleaned.get("occurrence_count"), cleaned.get("end_date")
        if "occurrence_count" not in cleaned or "end_date" not in cleaned:
            return
        if count is None and end is None:
            self.add_error("occurrence_count", _("Give a number of sessions or a last date."))
        elif count is not None and end is not None:
            self.add_error("end_date", _("Give either a number of sessions or a last date, not both."))
        elif end is not None and cleaned.get("start_date") and end < cleaned["start_date"]:
            self.add_error("end_date", _("The last date can't be before the first."))

    def _clean_window(self, cleaned: dict[str, Any]) -> None:
        start, clinic, today = cleaned.get("start_date"), cleaned.get("clinic"), clock.today()
        if start is None:
            return
        if clinic is not None:
            _refuse(self, "start_date", timing.refuse_beyond_the_horizon, start, clinic, today)
            if cleaned.get("end_date"):
                _refuse(
                    self, "end_date", timing.refuse_beyond_the_horizon, cleaned["end_date"], clinic, today
                )
        if cleaned.get("scheduled_time") and cleaned.get("duration"):
            _refuse(
                self,
                "scheduled_time",
                timing.refuse_past_midnight,
                start,
                cleaned["scheduled_time"],
                cleaned["duration"],
            )

    def check_last_date(self, last: datetime.date) -> bool:
        """Whether the plan's last date lies inside the clinic's booking horizon (else an error here)."""
        try:
            timing.refuse_beyond_the_horizon(last, self.cleaned_data["clinic"], clock.today())
        except BookingWindowError as error:
            field = "end_date" if self.cleaned_data.get("end_date") else "occurrence_count"
            self.add_error(field, error)
            return False
        return True

    def plan_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in (
                "session_type",
                "provider",
                "clinic",
                "start_date",
                "scheduled_time",
                "duration",
                "frequency",
                "occurrence_count",
                "end_date",
                "room",
                "patient",
                "max_capacity",
                "skip_dates",
            )
        }

    def create_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **self.plan_kwargs(),
            "service_type": data["service_type"],
            "title": data["title"],
            "group_notes": data["group_notes"],
        }


class EnrolForm(forms.Form):
    """A child to enrol, and the dates ticked to skip (their clash or full session listed first)."""

    patient = forms.ModelChoiceField(
        label=_("Patient"),
        queryset=Patient.objects.none(),
        error_messages={"invalid_choice": _("That patient is not registered in your organisation.")},
    )
    skip_dates = SkipDatesField(required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self.fields, "patient").queryset = Patient.objects.for_user(user)


class WithdrawForm(forms.Form):
    patient = forms.ModelChoiceField(
        label=_("Patient"),
        queryset=Patient.objects.none(),
        error_messages={"invalid_choice": _("That child is not enrolled in this series.")},
    )
    reason = forms.CharField(label=_("Reason"), max_length=1000)

    def __init__(self, *args: Any, series: SessionSeries, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self.fields, "patient").queryset = Patient.objects.filter(
            series_enrolments__series=series, series_enrolments__withdrawn_at__isnull=True
        )


class OccurrenceForm(forms.Form):
    """One occurrence of the series (``session``) and whether the change reaches the following ones."""

    session = forms.ModelChoiceField(
        label=_("Session"),
        queryset=Session.objects.none(),
        error_messages={"invalid_choice": _("That session is not part of this series.")},
    )
    following = FollowingField()

    def __init__(self, *args: Any, series: SessionSeries, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self.fields, "session").queryset = series.sessions.select_related("clinic")


class OccurrenceCancelForm(OccurrenceForm):
    # Not required here: SeriesService refuses a blank reason with the message staff should see.
    reason = forms.CharField(label=_("Reason"), max_length=1000, required=False)


class OccurrenceMoveForm(OccurrenceForm):
    scheduled_date = CalendarDateField(label=_("New date"), widget=DATE_WIDGET)
    scheduled_time = forms.TimeField(label=_("New start time"), widget=TIME_WIDGET)
    reason = forms.CharField(label=_("Reason"), max_length=1000, required=False)

    def clean_scheduled_date(self) -> datetime.date:
        return refuse_past(self.cleaned_data["scheduled_date"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        session, day, start = (
            cleaned.get("session"),
            cleaned.get("scheduled_date"),
            cleaned.get("scheduled_time"),
        )
        if session is not None and day is not None:
            _refuse(
                self, "scheduled_date", timing.refuse_beyond_the_horizon, day, session.clinic, clock.today()
            )
            if start is not None:
                _refuse(self, "scheduled_time", timing.refuse_past_midnight, day, start, session.duration)
        return cleaned
