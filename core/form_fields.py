"""Form fields that turn odd input into a form error instead of a crash further on.

- ``CalendarDateField``: a date inside the range the platform works with, so that
  the day before and after it, a slot's end and every date the pages compute from
  it exist (Python's dates stop at 31/12/9999).
- ``LocalPathField``: a "go back to" address (``next``) that is a path of this
  site, never another site (an open redirect) nor junk a browser would mangle.
"""

import datetime
import re

from django import forms
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)

# A path of ours: "/" then printable ASCII (browsers percent-encode the rest), and not
# "//host" or "/\host", which browsers read as another site.
LOCAL_PATH = re.compile(r"/(?![/\\])[!-~]*")
MAX_PATH_LENGTH = 2000


class CalendarDateField(forms.DateField):
    """A DateField refusing dates outside EARLIEST_DATE..LATEST_DATE with a clear message."""

    default_error_messages = {
        "out_of_range": _("Enter a date between %(earliest)s and %(latest)s."),
    }

    def validate(self, value: datetime.date | None) -> None:
        super().validate(value)
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise forms.ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={
                    "earliest": date_format(EARLIEST_DATE, "SHORT_DATE_FORMAT"),
                    "latest": date_format(LATEST_DATE, "SHORT_DATE_FORMAT"),
                },
            )


class LocalPathField(forms.CharField):
    """A path on this site (``/appointments/...``), or empty.

    ``allowed_hosts`` and ``require_https`` are the request's (``request.get_host()``,
    ``request.is_secure()``), as ``url_has_allowed_host_and_scheme`` takes them.
    """

    default_error_messages = {"not_local": _("That is not a page of this site.")}

    def __init__(self, *, allowed_hosts: set[str] | None = None, require_https: bool = False, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", MAX_PATH_LENGTH)
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)
        self.allowed_hosts = allowed_hosts or set()
        self.require_https = require_https

    def validate(self, value: str) -> None:
        super().validate(value)
        if value and not (
            LOCAL_PATH.fullmatch(value)
            and url_has_allowed_host_and_scheme(
                value, allowed_hosts=self.allowed_hosts, require_https=self.require_https
            )
        ):
            raise forms.ValidationError(self.error_messages["not_local"], code="not_local")
