"""Who may do what: one place for role rules, used by views, admin and selectors.

Roles (``User.Role``): administrators do everything; front desk books, checks in
and cancels but never reads note content nor runs a session; finance clears; each
clinician reads and writes only the notes of their own discipline and runs only
the sessions of their discipline (``can_run_session``). Superusers see every
tenant in Django admin and, on staff pages, the one they picked
(``effective_tenant``); everyone else only their own.
"""

import enum
from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from core.models import Clinic, Consent, Guardian, Patient, Tenant, User

Role = User.Role

P = ParamSpec("P")
R = TypeVar("R")


class StaffRequest(HttpRequest):
    """The request of a page or admin action: its ``user`` is a signed-in ``User``.

    For annotations only (Django passes a plain ``HttpRequest``): every page needs a
    login (``LoginRequiredMiddleware``) and the admin a staff login, so no view of
    ours sees an ``AnonymousUser``.
    """

    user: User


SPECIALTY_OF_ROLE: dict[str, str] = {
    Role.PSYCHOLOGIST: Clinic.Specialty.PSYCHOLOGY,
    Role.OCCUPATIONAL_THERAPIST: Clinic.Specialty.OT,
    Role.ABA_THERAPIST: Clinic.Specialty.ABA,
}
CLINICIAN_ROLES = tuple(SPECIALTY_OF_ROLE)


class Capability(enum.StrEnum):
    """Named things a user can be allowed to do; each maps to the roles holding it.

    A member equals its value, so templates may name one as a string (``user|can:"book"``).
    """

    VIEW_SCHEDULE = "view_schedule"
    BOOK = "book"
    CHECK_IN = "check_in"
    RUN_SESSION = "run_session"
    CLEAR_FINANCE = "clear_finance"
    VIEW_PATIENTS = "view_patients"
    REGISTER_PATIENTS = "register_patients"
    MANAGE_CONSENTS = "manage_consents"
    WAIVE_BILLING = "waive_billing"
    CONFIRM_BILLING = "confirm_billing"
    VIEW_REPORTS = "view_reports"


ROLES_WITH: dict[Capability, tuple[str, ...]] = {
    Capability.VIEW_SCHEDULE: (Role.FRONT_DESK, Role.FINANCE, *CLINICIAN_ROLES),
    Capability.BOOK: (Role.FRONT_DESK,),
    Capability.CHECK_IN: (Role.FRONT_DESK, *CLINICIAN_ROLES),
    # The roles that may run some session; which sessions: ``can_run_session``.
    Capability.RUN_SESSION: CLINICIAN_ROLES,
    Capability.CLEAR_FINANCE: (Role.FINANCE,),
    Capability.VIEW_PATIENTS: (Role.FRONT_DESK, Role.FINANCE, *CLINICIAN_ROLES),
    Capability.REGISTER_PATIENTS: (Role.FRONT_DESK,),
    Capability.MANAGE_CONSENTS: (Role.FRONT_DESK,),
    # Billable no-shows and late cancellations: finance waives; an auto-closed session's
    # no-show is confirmed by whoever knows the child didn't come (front desk) or finance.
    Capability.WAIVE_BILLING: (Role.FINANCE,),
    Capability.CONFIRM_BILLING: (Role.FRONT_DESK, Role.FINANCE),
    # Every report of the organisation. Without it, finance still sees the finance report and
    # a clinician their own notes queue (``appointments.reports.registry``).
    Capability.VIEW_REPORTS: (Role.FRONT_DESK,),
}


def is_admin(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN)


def has_capability(user: User | AnonymousUser, capability: Capability | str) -> bool:
    """Whether ``user`` holds ``capability``; a string must be a capability's value (ValueError if not)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return is_admin(user) or user.role in ROLES_WITH[Capability(capability)]


def clinician_specialty(user: User | AnonymousUser) -> str | None:
    """The discipline whose notes this user writes, or None for non-clinicians."""
    return SPECIALTY_OF_ROLE.get(user.role) if user.is_authenticated else None


def can_read_notes(user: User, specialty: str) -> bool:
    return is_admin(user) or clinician_specialty(user) == specialty


def can_write_notes(user: User, specialty: str) -> bool:
    """Writing needs a provider profile (a note names its provider) in that discipline or admin."""
    if not hasattr(user, "provider"):
        return False
    return is_admin(user) or clinician_specialty(user) == specialty


def can_run_session(user: User | AnonymousUser, specialty: str, provider_user_id: int | None) -> bool:
    """Whether ``user`` may take the clinical actions on a session or legacy appointment.

    The clinical actions are start, complete, mark attended, mark no-show and edit
    the group notes. They belong to administrators and to the session's clinicians:
    its provider (``provider_user_id``, the provider's user) and, covering, any
    clinician of its discipline (``specialty``, its clinic's specialty). Sessions
    of a discipline no clinician role belongs to (speech therapy, medical, nursing)
    are run by administrators only; front desk and finance never run one. The
    tenant is the caller's to check (the ``access_*`` helpers look rows up inside
    it), as for every rule here.
    """
    if not has_capability(user, Capability.RUN_SESSION):
        return False
    if is_admin(user):
        return True
    if specialty not in SPECIALTY_OF_ROLE.values():
        return False
    return user.pk == provider_user_id or clinician_specialty(user) == specialty


def can_read_group_notes(user: User | AnonymousUser, specialty: str, provider_user_id: int | None) -> bool:
    """Group notes are clinical text: read by the discipline's note readers and whoever runs the session."""
    if not user.is_authenticated:
        return False
    return can_read_notes(user, specialty) or can_run_session(user, specialty, provider_user_id)


def readable_specialties(user: User) -> list[str]:
    if is_admin(user):
        return list(Clinic.Specialty.values)
    specialty = clinician_specialty(user)
    return [specialty] if specialty else []


def effective_tenant_id(user: User) -> int | None:
    """The id of the organisation ``user`` works in now (see ``effective_tenant``)."""
    return user.acting_tenant_id if user.is_superuser else user.tenant_id


def effective_tenant(user: User) -> Tenant | None:
    """The organisation whose rows ``user`` sees and writes now.

    Staff: their own (None without one: they see nothing). A superuser on a staff page:
    the organisation they picked (``core:tenant_pick``), by default their own, which
    ``core.middleware.ActingTenantMiddleware`` sets as ``user.acting_tenant_id``, so no
    page mixes organisations. A superuser anywhere else (Django admin, commands, shell):
    None, and ``sees_every_tenant`` is true.
    """
    tenant_id = effective_tenant_id(user)
    if tenant_id is None:
        return None
    if tenant_id == user.tenant_id:
        return user.tenant
    return Tenant.objects.filter(pk=tenant_id).first()


def sees_every_tenant(user: User) -> bool:
    """A superuser outside the staff pages (Django admin, commands): rows of every organisation."""
    return user.is_superuser and effective_tenant_id(user) is None


def check_capability(user: User, capability: Capability | str) -> None:
    """Raise PermissionDenied (403) unless ``user`` holds ``capability``."""
    if not has_capability(user, capability):
        raise PermissionDenied


def access_patient(user: User, pk: int, capability: Capability = Capability.VIEW_PATIENTS) -> Patient:
    """The patient ``pk`` if ``user`` may act on it: 403 without the capability, 404 outside the tenant."""
    check_capability(user, capability)
    return get_object_or_404(Patient.objects.for_user(user), pk=pk)


def access_consent(user: User, pk: int, capability: Capability = Capability.MANAGE_CONSENTS) -> Consent:
    check_capability(user, capability)
    return get_object_or_404(Consent.objects.for_user(user).select_related("patient"), pk=pk)


def access_guardian(user: User, pk: int, capability: Capability = Capability.REGISTER_PATIENTS) -> Guardian:
    """The guardian ``pk`` (with its patient) if ``user`` may act on it: 403 without the capability,
    404 outside the tenant."""
    check_capability(user, capability)
    return get_object_or_404(Guardian.objects.for_user(user).select_related("patient"), pk=pk)


def require_capability(
    capability: Capability,
) -> Callable[[Callable[Concatenate[StaffRequest, P], R]], Callable[Concatenate[StaffRequest, P], R]]:
    """View decorator: 403 unless the user holds ``capability`` (login is enforced globally)."""

    def decorator(
        view: Callable[Concatenate[StaffRequest, P], R],
    ) -> Callable[Concatenate[StaffRequest, P], R]:
        @wraps(view)
        def wrapped(request: StaffRequest, *args: P.args, **kwargs: P.kwargs) -> R:
            check_capability(request.user, capability)
            return view(request, *args, **kwargs)

        # Marks the view for introspection; mypy does not let a function take new attributes.
        wrapped.required_capability = capability  # type: ignore[attr-defined]
        return wrapped

    return decorator
