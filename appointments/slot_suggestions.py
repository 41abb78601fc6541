""" "Next free" on the booking pages: after a refused slot, the next slots that would book.

A booking refused for a clash, the clinic's hours or holiday, or the provider's working
hours or leave shows the next few free slots (``free_slots.find_free_slots``) of the same
clinic, provider, room, duration and child, from the requested day over the following
fortnight. Each is a link to the same page with the same choices and the slot's date and
time in the query string, which the page's form takes as its first values
(``views.SLOT_PREFILL``): one click, check, book. Other refusals (a full group, a
patient of another organisation) suggest nothing, as another time wouldn't help.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils import timezone

from appointments import free_slots
from appointments.exceptions import ConflictError, OutsideOpeningHours, OutsideWorkingHours, SchedulingError

# A free slot is the answer to these refusals; HolidayClosed and ProviderOnLeave are among them.
ANSWERED_BY_ANOTHER_TIME = (ConflictError, OutsideOpeningHours, OutsideWorkingHours)
SUGGESTION_DAYS = 14
SUGGESTION_COUNT = 5


@dataclass(frozen=True)
class Suggestion:
    """One free slot: how it reads ("Tue 17/03 10:00") and the page prefilled with it."""

    label: str
    url: str


def next_free(
    request: HttpRequest, booking: dict[str, Any], error: SchedulingError, prefill: tuple[str, ...]
) -> list[Suggestion] | None:
    """The next free slots for the refused ``booking`` (a booking form's cleaned data).

    None when ``error`` isn't one another time answers; [] when nothing is free in the
    fortnight. ``prefill`` names the query parameters the page's form takes as first values;
    the links carry those of the posted ones, with the slot's date and time.
    """
    if not isinstance(error, ANSWERED_BY_ANOTHER_TIME):
        return None
    day: datetime.date = booking["scheduled_date"]
    patient = booking.get("patient")
    slots = free_slots.find_free_slots(
        clinic=booking["clinic"],
        provider=booking["provider"],
        room=booking.get("room"),
        patients=(patient,) if patient is not None else (),
        duration=booking["duration"],
        date_from=day,
        date_to=day + datetime.timedelta(days=SUGGESTION_DAYS - 1),
        limit=SUGGESTION_COUNT,
    )
    query = QueryDict(mutable=True)
    for name in prefill:
        if request.POST.get(name):
            query[name] = request.POST[name]
    suggestions = []
    for slot in slots:
        local = timezone.localtime(slot, timezone.get_default_timezone())
        query["scheduled_date"] = local.date().isoformat()
        query["scheduled_time"] = f"{local:%H:%M}"
        suggestions.append(Suggestion(free_slots.slot_label(slot), f"{request.path}?{query.urlencode()}"))
    return suggestions
