"""Who may do what: one place for role rules, used by views, admin and selectors.

Roles (``User.Role``): administrators do everything; front desk books, checks in
and cancels but never reads note content; finance clears; each clinician reads
and writes only the notes of their own discipline. Superusers see every tenant,
everyone else only their own.
"""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from core.models import Clinic, Consent, Patient, User

Role = User.Role

SPECIALTY_OF_ROLE: dict[str, str] = {
    Role.PSYCHOLOGIST: Clinic.Specialty.PSYCHOLOGY,
    Role.OCCUPATIONAL_THERAPIST: Clinic.Specialty.OT,
    Role.ABA_THERAPIST: Clinic.Specialty.ABA,
}
CLINICIAN_ROLES = tuple(SPECIALTY_OF_ROLE)


class Capability:
    """Named things a user can be allowed to do; each maps to the roles holding it."""

    VIEW_SCHEDULE = "view_schedule"
    BOOK = "book"
    CHECK_IN = "check_in"
    RUN_SESSION = "run_session"
    CLEAR_FINANCE = "clear_finance"
    VIEW_PATIENTS = "view_patients"
    REGISTER_PATIENTS = "register_patients"
    MANAGE_CONSENTS = "manage_consents"


ROLES_WITH: dict[str, tuple[str, ...]] = {
    Capability.VIEW_SCHEDULE: (Role.FRONT_DESK, Role.FINANCE, *CLINICIAN_ROLES),
    Capability.BOOK: (Role.FRONT_DESK,),
    Capability.CHECK_IN: (Role.FRONT_DESK, *CLINICIAN_ROLES),
    Capability.RUN_SESSION: (Role.FRONT_DESK, *CLINICIAN_ROLES),
    Capability.CLEAR_FINANCE: (Role.FINANCE,),
    Capability.VIEW_PATIENTS: (Role.FRONT_DESK, Role.FINANCE, *CLINICIAN_ROLES),
    Capability.REGISTER_PATIENTS: (Role.FRONT_DESK,),
    Capability.MANAGE_CONSENTS: (Role.FRONT_DESK,),
}


def is_admin(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN)


def has_capability(user: User, capability: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return is_admin(user) or user.role in ROLES_WITH[capability]


def clinician_specialty(user: User) -> str | None:
    """The discipline whose notes this user writes, or None for non-clinicians."""
    return SPECIALTY_OF_ROLE.get(user.role) if user.is_authenticated else None


def can_read_notes(user: User, specialty: str) -> bool:
    return is_admin(user) or clinician_specialty(user) == specialty


def can_write_notes(user: User, specialty: str) -> bool:
    """Writing needs a provider profile (a note names its provider) in that discipline or admin."""
    if not hasattr(user, "provider"):
        return False
    return is_admin(user) or clinician_specialty(user) == specialty


def readable_specialties(user: User) -> list[str]:
    if is_admin(user):
        return list(Clinic.Specialty.values)
    specialty = clinician_specialty(user)
    return [specialty] if specialty else []


def scope_to_tenant(queryset: QuerySet, user: User, tenant_field: str = "tenant") -> QuerySet:
    """Superusers see every tenant; everyone else only their own (none without a tenant)."""
    if user.is_superuser:
        return queryset
    if user.tenant_id is None:
        return queryset.none()
    return queryset.filter(**{f"{tenant_field}_id": user.tenant_id})


def check_capability(user: User, capability: str) -> None:
    """Raise PermissionDenied (403) unless ``user`` holds ``capability``."""
    if not has_capability(user, capability):
        raise PermissionDenied


def access_patient(user: User, pk: int, capability: str = Capability.VIEW_PATIENTS) -> Patient:
    """The patient ``pk`` if ``user`` may act on it: 403 without the capability, 404 outside the tenant."""
    check_capability(user, capability)
    return get_object_or_404(scope_to_tenant(Patient.objects.all(), user), pk=pk)


def access_consent(user: User, pk: int, capability: str = Capability.MANAGE_CONSENTS) -> Consent:
    check_capability(user, capability)
    consents = scope_to_tenant(Consent.objects.select_related("patient"), user, "patient__tenant")
    return get_object_or_404(consents, pk=pk)


def require_capability(capability: str) -> Callable:
    """View decorator: 403 unless the user holds ``capability`` (login is enforced globally)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            check_capability(request.user, capability)
            return view(request, *args, **kwargs)

        wrapped.required_capability = capability
        return wrapped

    return decorator
