"""The clearance queue's forms: its filters (a GET) and the rows ticked to clear (a POST)."""

import datetime
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from appointments.clearance_selectors import APPOINTMENT, DEFAULT_DAYS_AHEAD, PARTICIPANT, QueueFilters
from appointments.clearance_service import BookingKey
from appointments.forms import ListFilterForm, choice_field
from core.form_fields import day_first_field
from core.models import Clinic, User

# At most a few pages' worth of rows in one post.
MAX_ROWS = 100
ROW_KEY = re.compile(rf"({PARTICIPANT}|{APPOINTMENT})-([1-9][0-9]{{0,17}})")


class ClearanceQueueForm(ListFilterForm):
    """Dates, clinic (those needing clearance) and a child's name or MRN; blank or invalid
    filters fall back to the default: from today, until a week after the start."""

    date_from = day_first_field(_("From"))
    date_to = day_first_field(_("To"))
    q = forms.CharField(
        label=_("Name or MRN"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name in English or Arabic, or MRN")}
        ),
    )

    def __init__(self, *args: Any, user: User, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.today = today
        clinics = Clinic.objects.for_user(user).filter(requires_finance_clearance=True)
        choice_field(self.fields, "clinic").queryset = clinics
        choice_field(self.fields, "clinic").empty_label = _("Every clinic")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def queue_filters(self) -> QueueFilters:
        cleaned = self.filters() if self.is_bound else {}
        start = cleaned.get("date_from") or self.today
        end = cleaned.get("date_to") or start + datetime.timedelta(days=DEFAULT_DAYS_AHEAD)
        return QueueFilters(start, end, cleaned.get("clinic"), cleaned.get("q") or "")


class BookingKeysField(forms.Field):
    """The ticked rows (``participant-12``, ``appointment-7``) as ``BookingKey`` s, each once."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Tick at least one row to clear."),
        "invalid": _("That is not a row of the clearance queue."),
        "too_many": _("Clear at most %(max)d rows at a time."),
    }

    def to_python(self, value: Any) -> list[BookingKey]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if len(value) > MAX_ROWS:
            raise forms.ValidationError(
                self.error_messages["too_many"], code="too_many", params={"max": MAX_ROWS}
            )
        keys: list[BookingKey] = []
        for item in value:
            match = ROW_KEY.fullmatch(str(item))
            if match is None:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            key = BookingKey(match[1], int(match[2]))
            if key not in keys:
                keys.append(key)
        return keys


class BulkClearForm(forms.Form):
    rows = BookingKeysField()
