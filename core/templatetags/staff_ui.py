"""Template helpers for the staff pages: capability checks and status badge colours."""

from django import template
from django.contrib.auth.models import AnonymousUser

from core.models import User
from core.permissions import has_capability

register = template.Library()

BADGE_CLASS_BY_STATUS = {
    "booked": "text-bg-secondary",
    "confirmed": "text-bg-info",
    "arrived": "text-bg-primary",
    "in_progress": "text-bg-primary",
    "attended": "text-bg-success",
    "completed": "text-bg-success",
    "scheduled": "text-bg-info",
    "no_show": "text-bg-warning",
    "cancelled": "text-bg-dark",
    "turned_away": "text-bg-danger",
}


@register.filter
def can(user: User | AnonymousUser, capability: str) -> bool:
    """``{% if user|can:"book" %}``: whether the user holds a ``Capability``."""
    return has_capability(user, capability)


@register.filter
def badge_class(status: str) -> str:
    return BADGE_CLASS_BY_STATUS.get(status, "text-bg-light")


@register.simple_tag
def capacity_percent(taken: int, capacity: int) -> int:
    """Whole percent of seats taken, for progress bars (an int, so no locale decimal comma)."""
    if not capacity:
        return 0
    return min(round(100 * taken / capacity), 100)
