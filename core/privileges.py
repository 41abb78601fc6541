"""Who may do what, over time: the history of users' privileges, and the end of their sessions.

Every save of a ``core.User`` that changes its role, organisation, staff, superuser or
active flag writes one ``UserPrivilegeChange`` row per changed field, with the old and
new value, the user's organisation after the change and the acting user (the request's
user, through simple-history's request context; none from a shell or a command). A new
user's first privileges are written too, with an empty old value, so the history of any
user starts with what they were given. Passwords and login times are never recorded.

The receivers hang off ``pre_save`` / ``post_save``, so every path that saves a user -
the admin's forms, its actions, the services, the seed - keeps the history. A
queryset's ``update()`` saves no model and sends no signal: code that changes
privileges goes through ``save()`` (``deactivate_users`` for many at once).

Changing the role, the organisation or the active flag ends the user's sessions: the
save raises ``User.session_generation``, which is part of the session hash
(``User._get_session_auth_hash``), so every session opened before no longer matches and
is signed out on its next request. Logging out ends the user's other sessions the same
way (``end_other_sessions``).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from simple_history.models import HistoricalRecords

from core.models import User, UserPrivilegeChange

# The fields whose history is kept, by model field name.
TRACKED_FIELDS = ("role", "tenant", "is_staff", "is_superuser", "is_active")
# A change of these changes what the user may see under them: their sessions end.
SESSION_ENDING_FIELDS = frozenset({"role", "tenant", "is_active"})
# Where pre_save leaves its findings for post_save, on the instance being saved.
PENDING_ATTRIBUTE = "_pending_privilege_changes"


@dataclass(frozen=True)
class PendingChanges:
    """What one save changes: (field, old shown value, new shown value), and whether
    ``session_generation`` still has to be raised after the save (a save limited by
    ``update_fields`` that doesn't write it)."""

    changes: list[tuple[str, str, str]]
    raise_generation_after_save: bool


def _raw(user: User, field: str) -> Any:
    return user.tenant_id if field == "tenant" else getattr(user, field)


def _shown(value: Any) -> str:
    """A value as the history shows it: the role's key, ``True``/``False``, an organisation's code."""
    return "" if value is None else str(value)


def _stored(user: User) -> Mapping[str, Any] | None:
    """The user's privileges as the database has them now (None: not saved yet)."""
    return (
        User.objects.filter(pk=user.pk)
        .values(
            "role", "tenant_id", "tenant__code", "is_staff", "is_superuser", "is_active", "session_generation"
        )
        .first()
    )


def _shown_now(user: User, field: str) -> str:
    if field == "tenant":
        # The code, not the id: the history reads on its own ("AGDAR -> OTHER").
        return user.tenant.code if user.tenant is not None else ""
    return _shown(_raw(user, field))


def acting_user() -> User | None:
    """The signed-in user of the request being served, if any (simple-history keeps the request)."""
    request: HttpRequest | None = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return user


def remember_privileges(
    sender: type[User], instance: User, raw: bool, update_fields: frozenset[str] | None, **kwargs: Any
) -> None:
    """pre_save: compare what is about to be saved with what the database holds."""
    instance.__dict__.pop(PENDING_ATTRIBUTE, None)
    if raw:
        # Fixtures are loaded as they were dumped; they carry no history of their own.
        return
    tracked = [field for field in TRACKED_FIELDS if update_fields is None or field in update_fields]
    if not tracked:
        return
    stored = None if instance._state.adding else _stored(instance)
    if stored is None:
        # A new user: their first privileges (no organisation: nothing to say about it).
        first = [(field, "", _shown_now(instance, field)) for field in TRACKED_FIELDS]
        given = [change for change in first if change[2]]
        setattr(instance, PENDING_ATTRIBUTE, PendingChanges(given, raise_generation_after_save=False))
        return
    old = {**stored, "tenant": stored["tenant_id"]}
    changed = [field for field in tracked if old[field] != _raw(instance, field)]
    ends_sessions = bool(SESSION_ENDING_FIELDS.intersection(changed))
    writes_generation = update_fields is None or "session_generation" in update_fields
    if writes_generation:
        # From the database, never from a stale copy in memory: a save must not bring back
        # a generation that a logout or another change has moved past.
        instance.session_generation = stored["session_generation"] + (1 if ends_sessions else 0)
    was = {
        **{field: _shown(old[field]) for field in TRACKED_FIELDS},
        "tenant": _shown(stored["tenant__code"]),
    }
    changes = [(field, was[field], _shown_now(instance, field)) for field in changed]
    pending = PendingChanges(changes, raise_generation_after_save=ends_sessions and not writes_generation)
    setattr(instance, PENDING_ATTRIBUTE, pending)


def record_privilege_changes(sender: type[User], instance: User, **kwargs: Any) -> None:
    """post_save: one history row per changed field; end the sessions if pre_save could not."""
    pending: PendingChanges | None = instance.__dict__.pop(PENDING_ATTRIBUTE, None)
    if pending is None:
        return
    if pending.raise_generation_after_save:
        User.objects.filter(pk=instance.pk).update(session_generation=F("session_generation") + 1)
        instance.refresh_from_db(fields=["session_generation"])
    if not pending.changes:
        return
    actor = acting_user()
    UserPrivilegeChange.objects.bulk_create(
        UserPrivilegeChange(
            tenant_id=instance.tenant_id,
            user_id=instance.pk,
            field=field,
            old_value=old_value,
            new_value=new_value,
            changed_by_id=actor.pk if actor is not None else None,
        )
        for field, old_value, new_value in pending.changes
    )


def end_other_sessions(sender: type, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    """user_logged_out: logging out on one device signs the user out everywhere.

    A queryset update, so the user's privileges - and their history - are untouched.
    """
    if user is None or user.pk is None:
        return
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)


@transaction.atomic
def deactivate_users(users: QuerySet[User]) -> list[str]:
    """Deactivate the active users of ``users`` (never deleted: their history and records keep them).

    Each is saved on its own, so each gets its history row and loses its sessions.
    Returns the usernames deactivated.
    """
    deactivated = []
    for user in User.objects.filter(pk__in=users.values("pk"), is_active=True).order_by("username"):
        user.is_active = False
        user.save(update_fields=["is_active", "session_generation"])
        deactivated.append(user.username)
    return deactivated
