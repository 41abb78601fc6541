"""Break the glass: a clinician's read-only look at one child's notes of other disciplines.

A clinician reads only their own discipline's notes (``core.permissions``). In an
emergency - a child in crisis, the usual clinician away - they may need what a
colleague of another discipline wrote. Rather than widen every clinician's access,
a clinician states a reason and gets, for ``GRANT_DURATION``, read-only access to that
one child's notes of every discipline (``appointments.notes.access`` honours it:
never write, sign, addenda, export, print or admin). Each page read under it is
logged as ``break_glass`` (``core.access_log.mark_break_glass_read``), and an
administrator of the organisation reviews and acknowledges every grant.

Only the clinician roles may break the glass: administrators already read every note,
and front desk and finance never read clinical text at all.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.formats import time_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from core import clock, locks
from core.history_writes import save_with_history
from core.models import BreakGlassGrant, Patient, User
from core.permissions import CLINICIAN_ROLES, effective_tenant_id, is_admin

GRANT_DURATION = datetime.timedelta(minutes=60)
REASON_MAX_LENGTH = BreakGlassGrant._meta.get_field("reason").max_length or 2000


def can_break_glass(user: User) -> bool:
    """Whether ``user`` may break the glass: a clinician role, active, in an organisation, not an admin."""
    return (
        user.is_authenticated
        and user.is_active
        and user.role in CLINICIAN_ROLES
        and not is_admin(user)
        and effective_tenant_id(user) is not None
    )


@transaction.atomic
def start_break_glass(*, user: User, patient: Patient, reason: str) -> BreakGlassGrant:
    """Give ``user`` read-only access to ``patient``'s notes of every discipline for ``GRANT_DURATION``.

    ValidationError (with a message to show) when ``user`` is not a clinician, the
    patient is not of their organisation, the reason is blank or too long, or they
    already hold a running grant for this patient (its end time is named).
    """
    if not can_break_glass(user):
        raise ValidationError(
            _("Only a psychologist, an occupational therapist or an ABA therapist can break the glass."),
            code="not_clinician",
        )
    if patient.tenant_id != effective_tenant_id(user):
        raise ValidationError(_("This patient is not a patient of your organisation."), code="other_tenant")
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why you need to read this child's other notes."), code="reason_required")
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            _("The reason has at most %(max)d characters.") % {"max": REASON_MAX_LENGTH},
            code="reason_too_long",
        )
    # One clinician's two clicks at once would start two grants: the patient's lock queues them.
    locks.lock_row(Patient, patient.pk)
    running = active_grant(user, patient.pk)
    if running is not None:
        raise ValidationError(
            _("You already have access to this child's notes until %(time)s.")
            % {"time": time_format(localtime(running.expires_at))},
            code="already_running",
        )
    started_at = clock.now()
    grant = BreakGlassGrant(
        tenant_id=patient.tenant_id,
        user=user,
        patient=patient,
        reason=reason,
        started_at=started_at,
        expires_at=started_at + GRANT_DURATION,
    )
    save_with_history(grant, user)
    return grant


def active_grant(user: User, patient_id: int) -> BreakGlassGrant | None:
    """``user``'s running grant for patient ``patient_id``, or None (always None for a non-clinician).

    A grant ends when it expires, and also when its holder stops being a clinician of
    that organisation (a new role or organisation voids it at once).
    """
    if not can_break_glass(user):
        return None
    now = clock.now()
    return (
        BreakGlassGrant.objects.filter(
            user=user,
            patient_id=patient_id,
            tenant_id=effective_tenant_id(user),
            started_at__lte=now,
            expires_at__gt=now,
        )
        .order_by("-expires_at")
        .first()
    )


@transaction.atomic
def acknowledge_grant(grant_id: int, *, user: User) -> BreakGlassGrant:
    """Record that administrator ``user`` has reviewed grant ``grant_id``; a grant is acknowledged once.

    ValidationError when ``user`` is not an administrator, the grant is not of their
    organisation (answered as an unknown grant) or it was acknowledged already.
    """
    if not (user.is_authenticated and user.is_active and is_admin(user)):
        raise ValidationError(
            _("Only an administrator can acknowledge a break-the-glass access."), code="not_admin"
        )
    grant = BreakGlassGrant.objects.for_user(user).filter(pk=grant_id).first()
    if grant is None:
        raise ValidationError(_("There is no such break-the-glass access."), code="not_found")
    now = clock.now()
    # The conditional UPDATE takes the row's lock and decides a race between two administrators:
    # the second one's UPDATE waits, then matches no row.
    claimed = BreakGlassGrant.objects.filter(pk=grant.pk, acknowledged_at__isnull=True).update(
        acknowledged_by=user, acknowledged_at=now
    )
    if not claimed:
        grant.refresh_from_db()
        raise ValidationError(
            _("%(user)s already acknowledged this access.") % {"user": grant.acknowledged_by},
            code="already_acknowledged",
        )
    grant.acknowledged_by = user
    grant.acknowledged_at = now
    # Written again through save() only for the history row naming the administrator.
    save_with_history(grant, user, ["acknowledged_by", "acknowledged_at"])
    return grant
