"""Recording reads of patient and clinical data (``core.AccessLog``).

Pages declare once, in the URL conf or on their admin class, that they show patient
data (``core.access_logging``); this module writes the rows. A refused attempt is
recorded under the requesting user's organisation with the id that was asked for,
never under the organisation the id may belong to.
"""

import uuid

from django.conf import settings
from django.db.models import Subquery
from django.http import HttpRequest

from core.models import AccessLog, User

REQUEST_ID_HEADER = "X-Request-ID"
OBJECT_ID_MAX_LENGTH = AccessLog._meta.get_field("object_id").max_length or 300
OBJECT_TYPE_MAX_LENGTH = AccessLog._meta.get_field("object_type").max_length or 80


def client_ip(request: HttpRequest) -> str | None:
    """``REMOTE_ADDR``, or with ``TRUSTED_PROXY_COUNT`` proxies in front, the address the first of them saw.

    Each trusted proxy appends the address it received the request from to
    ``X-Forwarded-For``; entries further left were written by the client and prove nothing.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def request_id(request: HttpRequest) -> str:
    """The id of this request, shared by its log rows (set by ``core.middleware.RequestIdMiddleware``)."""
    existing = getattr(request, "request_id", None)
    if existing is None:
        existing = uuid.uuid4().hex
        request.request_id = existing  # type: ignore[attr-defined]
    return existing


def record_access(
    request: HttpRequest,
    *,
    action: AccessLog.Action | str,
    object_type: str,
    object_id: object = "",
    patient_id: int | Subquery | None = None,
    tenant_id: int | Subquery | None = None,
) -> AccessLog:
    """Write one access-log row for ``request``'s user (``tenant_id`` defaults to the one they work in).

    ``patient_id`` and ``tenant_id`` may be subqueries, evaluated inside the one INSERT (the
    returned row then holds the expression, not the id). ``object_type`` and ``object_id`` may
    come from the URL: they are cut to their columns' length, and a NUL (which PostgreSQL
    refuses in text) is written as U+FFFD.
    """
    # core.permissions imports the models; the models don't import this module.
    from core.permissions import effective_tenant_id

    user = request.user if request.user.is_authenticated else None
    if tenant_id is None and isinstance(user, User):
        tenant_id = effective_tenant_id(user)
    return _write_row(
        request,
        user=user,
        actor=user.get_username() if user is not None else "anonymous",
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        tenant_id=tenant_id,
    )


def record_actor_access(
    request: HttpRequest,
    *,
    actor: str,
    action: AccessLog.Action | str,
    object_type: str,
    object_id: object,
    patient_id: int | None,
    tenant_id: int,
) -> AccessLog:
    """Write one access-log row for what acted without a user (a family's confirmation link).

    No user, whoever may be signed in on the browser: the link, not the login, opened the page.
    """
    return _write_row(
        request,
        user=None,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        tenant_id=tenant_id,
    )


def _write_row(
    request: HttpRequest,
    *,
    user: User | None,
    actor: str,
    action: AccessLog.Action | str,
    object_type: str,
    object_id: object,
    patient_id: int | Subquery | None,
    tenant_id: int | Subquery | None,
) -> AccessLog:
    return AccessLog.objects.create(
        tenant_id=tenant_id,
        user=user,
        actor=actor,
        patient_id=patient_id,
        action=action,
        object_type=object_type.replace("\x00", "\ufffd")[:OBJECT_TYPE_MAX_LENGTH],
        object_id=str(object_id).replace("\x00", "\ufffd")[:OBJECT_ID_MAX_LENGTH],
        ip=client_ip(request),
        request_id=request_id(request),
    )


BREAK_GLASS_FLAG = "read_under_break_glass"


def mark_break_glass_read(user: User) -> None:
    """Note that this request's read is allowed only by a break-the-glass grant.

    The note access code calls it; ``core.access_logging`` then records the read as
    ``break_glass`` rather than ``view``. The user object lives for one request.
    """
    setattr(user, BREAK_GLASS_FLAG, True)


def read_under_break_glass(user: object) -> bool:
    return bool(getattr(user, BREAK_GLASS_FLAG, False))
