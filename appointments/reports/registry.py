"""The reports, in menu order, and who may see each.

``Capability.VIEW_REPORTS`` (admins, the front desk) opens every report of the organisation.
Without it, finance sees the finance report and a clinician the notes queue, limited to their
own sessions by the report itself.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from appointments.reports.attendance import attendance_report
from appointments.reports.base import Report, ReportFilters
from appointments.reports.finance import finance_report
from appointments.reports.notes_queue import notes_queue_report
from appointments.reports.throughput import throughput_report
from appointments.reports.utilisation import utilisation_report
from core.models import User
from core.permissions import CLINICIAN_ROLES, Capability, has_capability


def reports_viewer(user: User) -> bool:
    return has_capability(user, Capability.VIEW_REPORTS)


def finance_viewer(user: User) -> bool:
    return reports_viewer(user) or has_capability(user, Capability.CLEAR_FINANCE)


def notes_queue_viewer(user: User) -> bool:
    return reports_viewer(user) or user.role in CLINICIAN_ROLES


@dataclass(frozen=True)
class ReportDefinition:
    key: str
    title: StrOrPromise
    build: Callable[[User, ReportFilters], Report]
    visible_to: Callable[[User], bool]


REPORTS: dict[str, ReportDefinition] = {
    definition.key: definition
    for definition in (
        ReportDefinition("utilisation", _("Utilisation"), utilisation_report, reports_viewer),
        ReportDefinition("attendance", _("Attendance"), attendance_report, reports_viewer),
        ReportDefinition("throughput", _("Throughput"), throughput_report, reports_viewer),
        ReportDefinition("finance", _("Finance"), finance_report, finance_viewer),
        ReportDefinition("notes_queue", _("Notes queue"), notes_queue_report, notes_queue_viewer),
    )
}


def reports_for(user: User) -> list[ReportDefinition]:
    """The reports ``user`` may open, in menu order (none: the section is refused)."""
    return [definition for definition in REPORTS.values() if definition.visible_to(user)]
