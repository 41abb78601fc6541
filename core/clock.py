"""The one clock: "now" and "today" in the installation's time zone (``TIME_ZONE``).

There is one time zone per installation, never a per-clinic or per-request one, so
a consent's validity, the check-in day and a number's year don't depend on who is
looking or which language is active. Every rule reads the time through here;
tests pin it with ``time-machine``.
"""

import datetime

from django.utils import timezone


def now() -> datetime.datetime:
    """The current moment, aware, in the installation's time zone."""
    return timezone.localtime(timezone.now(), timezone.get_default_timezone())


def today() -> datetime.date:
    """Today's date in the installation's time zone."""
    return now().date()


def local_day(moment: datetime.date | datetime.datetime) -> datetime.date:
    """The calendar day of a timestamp in the installation's time zone (a plain date is already a day)."""
    if isinstance(moment, datetime.datetime):
        if timezone.is_naive(moment):
            return moment.date()
        return timezone.localdate(moment, timezone.get_default_timezone())
    return moment
