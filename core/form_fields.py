"""Form fields that turn odd input into a form error instead of a crash further on.

- ``CalendarDateField``: a date inside the range the platform works with, so that
  the day before and after it, a slot's end and every date the pages compute from
  it exist (Python's dates stop at 31/12/9999).
- ``day_first_field``: an optional ``CalendarDateField`` typed as text, day first, in any language.
- ``LocalPathField``: a "go back to" address (``next``) that is a path of this
  site, never another site (an open redirect) nor junk a browser would mangle.

And two widgets of the booking forms, which their scripts enhance (the forms work without):

- ``PatientPickerInput``: the MRN box, a search by name, MRN or phone (``static/js/patient_picker.js``).
- ``ClinicOptionsSelect``: providers or rooms whose options name their clinics, so that
  ``static/js/clinic_filter.js`` offers only those of the clinic chosen.
"""

import datetime
import re
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from core.selectors import LOOKUP_MAX_RESULTS, LOOKUP_MIN_CHARACTERS

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


def day_first_field(label: StrOrPromise, *, css_class: str = "", **kwargs: Any) -> CalendarDateField:
    """An optional date typed and shown day first (``DATE_INPUT_FORMATS``), as text: a browser's own
    date box shows the order of the browser's language, month first in American English."""
    attrs = {"placeholder": _("dd/mm/yyyy"), "inputmode": "numeric", "dir": "ltr", "autocomplete": "off"}
    if css_class:
        attrs["class"] = css_class
    widget = forms.DateInput(format="%d/%m/%Y", attrs=attrs)
    return CalendarDateField(label=label, required=False, widget=widget, **kwargs)


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


# A number in each plural category of the browser's Intl.PluralRules (CLDR), so that the picker's
# count is rendered with the form gettext gives that number: Arabic has all six.
PLURAL_SAMPLES = {"zero": 0, "one": 1, "two": 2, "few": 3, "many": 11, "other": 100}


class PatientPickerInput(forms.TextInput):
    """The MRN box of a booking form, which ``static/js/patient_picker.js`` makes an ARIA combobox.

    Typing two or more characters of a name (English or Arabic), an MRN or a phone number lists
    the children found (``core:patient_lookup``); choosing one fills in their MRN. Without the
    script it is the plain MRN box. The script's words come in data attributes, in the page's
    language; ``%(count)s`` and ``%(name)s`` are filled in there.
    """

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].update(self.picker_attributes())
        return context

    @staticmethod
    def picker_attributes() -> dict[str, str | int]:
        counts = {
            f"data-picker-count-{category}": ngettext(
                "%(count)s patient found.", "%(count)s patients found.", number
            )
            for category, number in PLURAL_SAMPLES.items()
        }
        return {
            "data-patient-picker": reverse("core:patient_lookup"),
            "data-picker-min": LOOKUP_MIN_CHARACTERS,
            "data-picker-max": LOOKUP_MAX_RESULTS,
            "data-picker-placeholder": gettext("MRN, or a name or phone number to search"),
            "data-picker-label": gettext("Patients found"),
            "data-picker-none": gettext("No patient found."),
            "data-picker-first": gettext(
                "The first %(count)s patients found: type more to narrow the search."
            ),
            "data-picker-failed": gettext("The search failed: type the MRN instead."),
            "data-picker-chosen": gettext("Chosen: %(name)s"),
            "data-picker-born": gettext("born %(date)s"),
            **counts,
        }


class ClinicOptionsSelect(forms.Select):
    """A select of model rows whose options carry their clinics' ids (``data-clinics="3 7"``).

    ``clinics_of`` gives a row's clinic ids (prefetch what it reads). ``static/js/clinic_filter.js``
    hides the options of other clinics once the form's clinic is chosen; the server still refuses
    a provider or room of another clinic.
    """

    def __init__(
        self, clinics_of: Callable[[Any], Iterable[int]], attrs: dict[str, Any] | None = None
    ) -> None:
        super().__init__({"data-clinic-options": "", **(attrs or {})})
        self.clinics_of = clinics_of

    def create_option(
        self,
        name: str,
        value: Any,
        label: Any,
        selected: bool,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        row = getattr(value, "instance", None)  # a ModelChoiceIteratorValue; None for the empty choice
        if row is not None:
            option["attrs"]["data-clinics"] = " ".join(str(pk) for pk in self.clinics_of(row))
        return option
