"""Forms of the week calendar: whose week, the event feed's window, a dragged session's new slot."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from appointments.calendar_selectors import Owner, OwnerKind
from appointments.forms import DATE_WIDGET, TIME_WIDGET, TenantChoicesMixin, check_slot_window, refuse_past
from appointments.models import Session
from core.form_fields import CalendarDateField
from core.models import Clinic, Provider, Room, User

# The feed answers a week view (7 days); a few weeks at most, so one request stays small.
MAX_FEED_DAYS = 42


class CalendarPickerForm(TenantChoicesMixin, forms.Form):
    """One provider's, one room's or one clinic's week, around ``date``.

    The three choices are the user's organisation's: another organisation's id is refused
    as an unknown one. More than one owner at a time is refused too.
    """

    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Provider.objects.none(), required=False)
    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none(), required=False)
    clinic = forms.ModelChoiceField(label=_("Clinic"), queryset=Clinic.objects.none(), required=False)
    date = CalendarDateField(label=_("Week of"), required=False, widget=DATE_WIDGET)

    OWNERS: tuple[OwnerKind, ...] = ("provider", "room", "clinic")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_choices_to_tenant(user)
        for name in self.OWNERS:
            self.fields[name].widget.attrs["class"] = "form-select"

    def clean(self):
        cleaned = super().clean()
        if sum(1 for name in self.OWNERS if cleaned.get(name)) > 1:
            raise forms.ValidationError(_("Choose one provider, one room or one clinic."))
        return cleaned

    def owner(self) -> tuple[OwnerKind, Owner] | None:
        """The chosen owner as (``"provider"``, ``"room"`` or ``"clinic"``, the row), None when none."""
        for name in self.OWNERS:
            if self.cleaned_data.get(name):
                return name, self.cleaned_data[name]
        return None


class CalendarFeedForm(CalendarPickerForm):
    """The feed's window (``start`` included, ``end`` excluded, whole days) and whose events."""

    start = CalendarDateField(label=_("From"), widget=DATE_WIDGET)
    end = CalendarDateField(label=_("To"), widget=DATE_WIDGET)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and not 0 < (end - start).days <= MAX_FEED_DAYS:
            raise forms.ValidationError(
                _("The calendar asks for 1 to %(days)d days at a time."), params={"days": MAX_FEED_DAYS}
            )
        return cleaned


class CalendarMoveForm(forms.Form):
    """A session dragged to a new day and time: the reschedule page's rules for a slot.

    No past day, none beyond the clinic's booking horizon, no slot ending after midnight;
    ``SessionService.reschedule_session`` checks the rest (hours, leave, clashes).
    """

    scheduled_date = CalendarDateField(label=_("New date"), widget=DATE_WIDGET)
    scheduled_time = forms.TimeField(label=_("New start time"), widget=TIME_WIDGET)
    reason = forms.CharField(label=_("Reason"), max_length=1000, required=False)

    def __init__(self, *args, session: Session, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = session

    def clean_scheduled_date(self) -> datetime.date:
        return refuse_past(self.cleaned_data["scheduled_date"])

    def clean(self):
        cleaned = super().clean()
        check_slot_window(self, clinic=self.session.clinic, duration=self.session.duration)
        return cleaned
