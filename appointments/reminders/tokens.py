"""The confirm-or-cancel link: a signed token bound to the bookings and their start.

The token names the reminder rows of one message (siblings sent one message share it) and
the start they were written for, signed with ``SECRET_KEY`` under a salt of its own. It
holds no name, phone or text. Whether it still works - not expired, not voided by a move
or a cancellation - is checked against the database each time (``appointments.reminders.link_actions``).
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from appointments.reminders.models import Reminder

SALT = "appointments.reminders.family-link"


@dataclass(frozen=True)
class LinkClaim:
    """What a token says: these reminder rows, for a booking starting at ``scheduled_start``."""

    reminder_ids: tuple[int, ...]
    scheduled_start: datetime.datetime


class BadToken(Exception):
    """The token was not signed here, or was changed."""


def make_link_token(reminders: Sequence[Reminder]) -> str:
    """The token for one message's rows; they share one ``scheduled_start``."""
    starts = {reminder.scheduled_start for reminder in reminders}
    if len(starts) != 1:
        raise ValueError("One link covers rows of one start.")
    payload = {"r": sorted(reminder.pk for reminder in reminders), "s": int(starts.pop().timestamp())}
    return signing.dumps(payload, salt=SALT, compress=True)


def read_link_token(token: str) -> LinkClaim:
    """The claim a token carries; BadToken when it was not signed here or was changed."""
    try:
        payload = signing.loads(token, salt=SALT)
        ids = tuple(int(pk) for pk in payload["r"])
        start = datetime.datetime.fromtimestamp(int(payload["s"]), tz=datetime.UTC)
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadToken from error
    if not ids:
        raise BadToken
    return LinkClaim(reminder_ids=ids, scheduled_start=start)


def link_url(token: str) -> str:
    """The link as a family receives it: absolute, on ``settings.PUBLIC_BASE_URL``."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("family:link", args=[token])
