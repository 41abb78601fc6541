"""Template filters saying who may take the clinical actions on a session or appointment.

They ask ``appointments.access`` (``core.permissions.can_run_session``), the rule the
views enforce, so a page shows only the buttons and the clinical text its user may use.
"""

from django import template
from django.contrib.auth.models import AnonymousUser

from appointments.access import may_read_group_notes as _may_read_group_notes
from appointments.access import may_run as _may_run
from appointments.models import Appointment, Session
from core.models import User

register = template.Library()


@register.filter
def may_run(user: User | AnonymousUser, booking: Session | Appointment) -> bool:
    """``{% if user|may_run:session %}``: start, complete, attended, no-show and group notes."""
    return _may_run(user, booking)


@register.filter
def may_read_group_notes(user: User | AnonymousUser, session: Session) -> bool:
    """``{% if user|may_read_group_notes:session %}``: the session's group notes."""
    return _may_read_group_notes(user, session)
