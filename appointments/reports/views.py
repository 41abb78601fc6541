"""The reports section: the list of reports, each report's page (filters, chart, tables) and its exports.

Who may open which report is the registry's rule (``ReportDefinition.visible_to``), what it
shows its builder's; the pages only parse the filters and render the ``Report``. Invalid
filters (another organisation's clinic, a reversed or too long period) show the form's errors
and no figures; an export asked with them goes back to the page that shows why.
"""

import datetime

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from appointments.reports.base import Chart
from appointments.reports.exports import FORMATS, export_filename
from appointments.reports.forms import ReportFilterForm
from appointments.reports.registry import REPORTS, ReportDefinition, reports_for
from core import clock
from core.models import User
from core.permissions import StaffRequest


def visible_report(user: User, key: str) -> ReportDefinition:
    """The report ``key`` if ``user`` may open it: 404 for no such report, 403 for one not theirs."""
    definition = REPORTS.get(key)
    if definition is None:
        raise Http404
    if not definition.visible_to(user):
        raise PermissionDenied
    return definition


def filter_form(request: StaffRequest, key: str) -> ReportFilterForm:
    """The page's filters: unbound (the current month, nothing narrowed) until one is asked for."""
    filtering = any(name in request.GET for name in ReportFilterForm.base_fields)
    return ReportFilterForm(
        request.GET if filtering else None, user=request.user, today=clock.today(), report_key=key
    )


def chart_data(chart: Chart) -> dict[str, object]:
    """What ``static/js/report_chart.js`` draws, via ``json_script``: texts translated, dates day first."""
    return {
        "kind": chart.kind,
        "labels": [
            date_format(label, "SHORT_DATE_FORMAT") if isinstance(label, datetime.date) else str(label)
            for label in chart.labels
        ],
        "datasets": [
            {"label": str(dataset.label), "values": [None if v is None else float(v) for v in dataset.values]}
            for dataset in chart.datasets
        ],
        "stacked": chart.stacked,
        "percent": chart.percent,
        "yTitle": str(chart.y_title),
        "rtl": translation.get_language_bidi(),
    }


@require_GET
def reports_index(request: StaffRequest) -> HttpResponse:
    reports = reports_for(request.user)
    if not reports:
        raise PermissionDenied
    return render(request, "reports/index.html", {"reports": reports})


@require_GET
def report_page(request: StaffRequest, key: str) -> HttpResponse:
    definition = visible_report(request.user, key)
    form = filter_form(request, key)
    filters = form.report_filters()
    report = definition.build(request.user, filters) if filters is not None else None
    context = {
        "definition": definition,
        "reports": reports_for(request.user),
        "form": form,
        "filters": filters,
        "report": report,
        "chart": chart_data(report.chart) if report is not None and report.chart is not None else None,
        "query": request.GET.urlencode(),
    }
    return render(request, "reports/report.html", context)


@require_GET
def report_export(request: StaffRequest, key: str, fmt: str) -> HttpResponse:
    definition = visible_report(request.user, key)
    export = FORMATS.get(fmt)
    if export is None:
        raise Http404
    filters = filter_form(request, key).report_filters()
    if filters is None:
        page = reverse("reports:report", kwargs={"key": key})
        return redirect(f"{page}?{request.GET.urlencode()}")
    report = definition.build(request.user, filters)
    response = HttpResponse(export.write(report, filters), content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=export_filename(report, filters, fmt)
    )
    return response
