"""Template filters of the reports section: whether a user has any report, and a table cell as shown.

``has_reports`` asks the registry (``appointments.reports.registry.reports_for``), the rule the
pages enforce, so the navigation offers the section only to those it opens for.
"""

from django import template
from django.contrib.auth.models import AnonymousUser

from appointments.reports.base import Column, Kind
from appointments.reports.exports import cell_text
from appointments.reports.registry import reports_for
from core.models import User

register = template.Library()

# Columns of figures, aligned to the end so that their digits line up.
FIGURES = (Kind.NUMBER, Kind.PERCENT, Kind.HOURS)
# What a table shows for a figure that has no value (a rate of nothing).
NO_VALUE = "-"


@register.filter
def has_reports(user: User | AnonymousUser) -> bool:
    """``{% if user|has_reports %}``: the section's link."""
    return isinstance(user, User) and bool(reports_for(user))


@register.filter
def report_cell(row: dict[str, object], column: Column) -> str:
    """``{{ row|report_cell:column }}``: "60.0%", "12.5" hours, "30/11/2026", or "-" for none."""
    return cell_text(row.get(column.key), column.kind, empty=NO_VALUE)


@register.filter
def is_figure(column: Column) -> bool:
    """``{% if column|is_figure %}``: a number, percent or hours column."""
    return column.kind in FIGURES
