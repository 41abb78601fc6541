"""Status transitions shared by SessionParticipant, Session and legacy Appointment."""

from collections.abc import Iterable
from typing import TypeVar

from django.db import models
from django.utils.translation import gettext as _

from appointments.exceptions import InvalidTransition
from appointments.models import Appointment, Session, SessionParticipant
from core import clock
from core.history_writes import save_with_history
from core.models import User

ModelT = TypeVar("ModelT", bound=models.Model)


def transition(
    instance: Session | SessionParticipant | Appointment,
    *,
    allowed_from: Iterable[str],
    to: str,
    stamp_field: str | None,
    user: User | None,
    **changes: object,
) -> None:
    """Move ``instance.status`` to ``to`` if its current status allows it, stamping the time."""
    allowed = tuple(allowed_from)
    if instance.status not in allowed:
        names = {
            "what": instance._meta.verbose_name,
            "current": instance.get_status_display().lower(),
            "target": type(instance).Status(to).label.lower(),
        }
        if instance.status == to:
            raise InvalidTransition(_("This %(what)s is already %(target)s.") % names)
        raise InvalidTransition(_("Can't change this %(what)s from %(current)s to %(target)s.") % names)
    instance.status = to
    fields = ["status", *changes]
    for name, value in changes.items():
        setattr(instance, name, value)
    if stamp_field is not None:
        setattr(instance, stamp_field, clock.now())
        fields.append(stamp_field)
    if any(field.name == "updated_at" for field in instance._meta.concrete_fields):
        fields.append("updated_at")
    save_with_history(instance, user, fields)


def copy_state(target: ModelT, source: ModelT) -> ModelT:
    """Give the caller's instance the saved state, so code holding it sees the change."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    return target


def record_finance_clearance(booking: SessionParticipant | Appointment, user: User | None) -> None:
    """Mark a locked participant or appointment as cleared by ``user`` now."""
    booking.finance_cleared = True
    booking.finance_cleared_by = user
    booking.finance_cleared_at = clock.now()
    fields = ["finance_cleared", "finance_cleared_by", "finance_cleared_at"]
    if any(field.name == "updated_at" for field in booking._meta.concrete_fields):
        fields.append("updated_at")
    save_with_history(booking, user, fields)
