"""What a history page of Django admin shows for a changed field: the words staff read, not the stored codes.

simple-history's "Changes" column prints each field's stored value: ``booked -> confirmed``,
``2026-03-15 07:05:00+00:00``, ``True``. Here a field with choices shows its label in the page's
language, a moment the installation's local time, a date or a moment the page's own format (day
first), a flag "Yes"/"No", and an empty value a dash.
"""

import datetime
from typing import Any

from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext
from simple_history.models import ModelChange
from simple_history.template_utils import HistoricalRecordContextHelper

EMPTY = "—"


def readable_value(field: models.Field, value: Any) -> Any:
    """``value`` of ``field`` as a person reads it (a related row stays the row: its ``str``)."""
    if value is None or (value == "" and not field.choices):
        return EMPTY
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, datetime.datetime):
        moment = timezone.localtime(value) if timezone.is_aware(value) else value
        return formats.date_format(moment, "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return value


class ReadableHistoryContextHelper(HistoricalRecordContextHelper):
    """The "Changes" column of a history page, in labels and local times (``readable_value``)."""

    def prepare_delta_change_value(self, change: ModelChange, value: Any) -> Any:
        field = self.model._meta.get_field(change.field)
        if field.many_to_many:
            return super().prepare_delta_change_value(change, value)
        return readable_value(field, value)
