"""Tenant walls: every model says once how its rows reach their organisation.

Each model of the project declares ``tenant_path``, the lookup from the model to the
primary key of its ``core.Tenant`` (``"tenant"``, ``"clinic__tenant"``,
``"session__clinic__tenant"``; ``"pk"`` on ``Tenant`` itself). ``for_user(queryset,
user)`` - also the ``for_user`` method of ``TenantScopedQuerySet``, the queryset of
the models' default managers - keeps the rows ``user`` may see: a superuser outside
the staff pages sees every organisation, anyone else only the organisation they work
in (``core.permissions.effective_tenant_id``), a user without one nothing. Pages,
selectors, access helpers, form choices and every admin page read through it.

simple-history's historical models carry the foreign-key columns of the model they
track, so they take its path; a many-to-many table Django makes (a provider's clinics,
and its history) goes through the model that declares the relation. A model that
declares nothing is outside every organisation: only superusers see its rows (fail
closed), and ``core/tests/test_tenancy.py`` fails for a model of ours without a
declaration.
"""

from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.db import models
from simple_history.models import HistoricalChanges

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

PATH_ATTRIBUTE = "tenant_path"

ModelT = TypeVar("ModelT", bound=models.Model)


def tenant_path(model: type[models.Model]) -> str | None:
    """The lookup from ``model`` to its tenant's primary key, or None when it declares none."""
    if issubclass(model, HistoricalChanges):
        # The historical row has the tracked model's columns (and so its lookups).
        return tenant_path(model.instance_type)  # type: ignore[attr-defined]
    owner = model._meta.auto_created
    if isinstance(owner, type):
        # A many-to-many table Django made: through its foreign key to the declaring model.
        owner_path = tenant_path(owner)
        link = next(field for field in model._meta.fields if field.related_model is owner)
        return None if owner_path is None else f"{link.name}__{owner_path}"
    path = getattr(model, PATH_ATTRIBUTE, None)
    return path if isinstance(path, str) and path else None


def for_user(
    queryset: "models.QuerySet[ModelT]", user: "AbstractBaseUser | AnonymousUser"
) -> "models.QuerySet[ModelT]":
    """The rows of ``queryset`` that ``user`` may see (see the module docstring)."""
    # core.permissions imports the models, whose managers come from this module.
    from core.permissions import effective_tenant_id, sees_every_tenant

    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if sees_every_tenant(user):  # type: ignore[arg-type]  # an authenticated user is a core.User
        return queryset
    path = tenant_path(queryset.model)
    tenant_id = effective_tenant_id(user)  # type: ignore[arg-type]
    if path is None or tenant_id is None:
        return queryset.none()
    return queryset.filter(**{path: tenant_id})


class TenantScopedQuerySet(models.QuerySet[ModelT]):
    """A queryset that can keep to the rows a user may see: ``Model.objects.for_user(user)``."""

    def for_user(self, user: Any) -> "TenantScopedQuerySet[ModelT]":
        # filter() and none() keep the queryset's class.
        return cast("TenantScopedQuerySet[ModelT]", for_user(self, user))


class TenantScopedManager(models.Manager.from_queryset(TenantScopedQuerySet)):  # type: ignore[misc]
    """The default manager of the project's models (no migration: not used in migrations)."""
