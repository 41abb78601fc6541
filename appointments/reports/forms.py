"""The reports' filter form (a GET): the period, clinic, discipline, provider, series and service type.

Every choice is the user's organisation's: another organisation's id is refused as an unknown
one, with the form's error, and the page then shows no figures. Dates are typed day first.
"""

import calendar
import datetime
from typing import Any

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from appointments.forms import choice_field
from appointments.models import SessionSeries
from appointments.reports.base import ReportFilters
from core.form_fields import day_first_field
from core.models import Clinic, Provider, User
from core.service_names import offer_service_names

# A year at most (a leap year's 366 days), so that one page stays quick to compute.
MAX_DAYS = 366
DEFAULT_MISSED_AT_LEAST = ReportFilters.missed_at_least
MAX_MISSED_AT_LEAST = 1000
# The report whose list of children takes the missed-sessions threshold.
THRESHOLD_REPORT = "attendance"


def month_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last days of ``day``'s month."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


class ReportFilterForm(forms.Form):
    """A report's filters. Blank dates are the current month's; ``missed_at_least`` only on attendance."""

    date_from = day_first_field(_("From"))
    date_to = day_first_field(_("To"))
    clinic = forms.ModelChoiceField(label=_("Clinic"), queryset=Clinic.objects.none(), required=False)
    discipline = forms.ChoiceField(
        label=_("Discipline"),
        choices=[("", _("Every discipline")), *Clinic.Specialty.choices],
        required=False,
    )
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Provider.objects.none(), required=False)
    series = forms.ModelChoiceField(label=_("Series"), queryset=SessionSeries.objects.none(), required=False)
    service_type = forms.CharField(label=_("Service type"), max_length=100, required=False)
    missed_at_least = forms.IntegerField(
        label=_("Children who missed at least"),
        min_value=1,
        max_value=MAX_MISSED_AT_LEAST,
        required=False,
        help_text=_("No-shows and late cancellations in the period."),
    )

    def __init__(self, *args: Any, user: User, today: datetime.date, report_key: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_from, self.default_to = month_of(today)
        self.initial = {
            "date_from": self.default_from,
            "date_to": self.default_to,
            "missed_at_least": DEFAULT_MISSED_AT_LEAST,
            **self.initial,
        }
        clinics = Clinic.objects.for_user(user)
        choice_field(self.fields, "clinic").queryset = clinics
        choice_field(self.fields, "clinic").empty_label = _("Every clinic")
        # Past periods name providers who have left too.
        choice_field(self.fields, "provider").queryset = Provider.objects.for_user(user).select_related(
            "user"
        )
        choice_field(self.fields, "provider").empty_label = _("Every provider")
        choice_field(self.fields, "series").queryset = SessionSeries.objects.for_user(user).order_by(
            "service_type", "title", "pk"
        )
        choice_field(self.fields, "series").empty_label = _("Every series")
        offer_service_names(self.fields["service_type"], user, clinics)
        if report_key != THRESHOLD_REPORT:
            del self.fields["missed_at_least"]
        for name in ("clinic", "discipline", "provider", "series"):
            self.fields[name].widget.attrs["class"] = "form-select"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "date_from" in cleaned and cleaned["date_from"] is None:
            cleaned["date_from"] = self.default_from
        if "date_to" in cleaned and cleaned["date_to"] is None:
            cleaned["date_to"] = self.default_to
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", _("The end date is before the start date."))
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error(
                    "date_to",
                    _("Choose a period of one year at most (from %(start)s, until %(latest)s).")
                    % {
                        "start": date_format(start, "SHORT_DATE_FORMAT"),
                        "latest": date_format(
                            start + datetime.timedelta(days=MAX_DAYS - 1), "SHORT_DATE_FORMAT"
                        ),
                    },
                )
        return cleaned

    def report_filters(self) -> ReportFilters | None:
        """The filters to build the report with: the defaults when nothing was asked for, None when
        the input is invalid (the page then shows the form's errors and no figures)."""
        if not self.is_bound:
            return ReportFilters(date_from=self.default_from, date_to=self.default_to)
        if not self.is_valid():
            return None
        data = self.cleaned_data
        clinic, provider, series = data["clinic"], data["provider"], data["series"]
        return ReportFilters(
            date_from=data["date_from"],
            date_to=data["date_to"],
            clinic_id=clinic.pk if clinic else None,
            specialty=data["discipline"],
            provider_id=provider.pk if provider else None,
            series_id=series.pk if series else None,
            service_type=data["service_type"].strip(),
            missed_at_least=data.get("missed_at_least") or DEFAULT_MISSED_AT_LEAST,
        )
