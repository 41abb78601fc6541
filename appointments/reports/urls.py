from django.urls import path

from appointments.reports import views
from core.access_logging import logs_access
from core.models import AccessLog

app_name = "reports"

# A report lists many children (the notes queue, attendance by child): logged as a list, with
# its filters as the query; an export as ``export``. The index names only the reports.
report = logs_access("report_{key}", listing=True)
export = logs_access("report_{key}", listing=True, action=AccessLog.Action.EXPORT)

urlpatterns = [
    path("", views.reports_index, name="index"),
    path("<slug:key>/", report(views.report_page), name="report"),
    path("<slug:key>/export.<str:fmt>", export(views.report_export), name="export"),
]
