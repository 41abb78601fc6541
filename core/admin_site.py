"""The Django admin site of the platform: every admin page inside the tenant walls.

``ClinicAdminConfig`` replaces ``django.contrib.admin`` in ``INSTALLED_APPS`` and makes
``ClinicAdminSite`` the default site (``admin.site``), so every registration - ours and
any library's - goes through ``ClinicAdminSite.register``:

- a model that declares its tenant (``core.tenancy``) must be registered with an admin
  built on ``core.admin.TenantScopedAdmin`` (rows, choices, filters, history and
  permissions inside the user's organisation); anything else fails at start-up;
- any other model (``auth.Group``, a library's models) gets an admin for superusers
  only: tenant administrators have no permission on it, whatever Django's permission
  tables say.

The "view on site" redirect (``admin:view_on_site``) looks its object up the same way,
so another organisation's id answers as an unknown one does. With ``OTP_REQUIRED`` an
administrator uses the site only after giving their second factor (``has_permission``);
django-otp's device admins, like every library's, are for superusers only.

This module is imported while the apps load: it imports no models at the top.
"""

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import BaseModelAdmin
from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist, ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext as _


class ClinicAdminConfig(AdminConfig):
    default_site = "core.admin_site.ClinicAdminSite"


class SuperuserOnlyAdmin(BaseModelAdmin):
    """Put before a library's admin class: only superusers may use it, within its own rules.

    To anyone else its rows don't exist (an id of one answers as an unknown id does).
    """

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return rows if request.user.is_superuser else rows.none()

    def has_module_permission(self, request):
        return request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_view_permission(request, obj)

    # *args: a ModelAdmin's takes the request, an inline's also the parent object.
    def has_add_permission(self, request, *args):
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class ClinicAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options: Any) -> None:
        from core.tenancy import tenant_path

        models: list[type[Model]] = (
            [model_or_iterable] if isinstance(model_or_iterable, type) else list(model_or_iterable)
        )
        admin_class = admin_class or admin.ModelAdmin
        for model in models:
            if tenant_path(model) is not None:
                # core.admin.TenantWall says so (this can't import core.admin: it imports
                # Django's auth admin, which registers Group here while it loads).
                if not getattr(admin_class, "walls_tenant", False):
                    raise ImproperlyConfigured(
                        f"{model._meta.label} declares its tenant: register it with an admin built on "
                        f"core.admin.TenantScopedAdmin, not {admin_class.__name__}."
                    )
                super().register(model, admin_class, **options)
            else:
                from core.admin_input import ReadableIdsAdminMixin

                # Junk ids answer 404 or "no items selected" here too (core.admin_input).
                bases = (SuperuserOnlyAdmin, ReadableIdsAdminMixin, admin_class)
                walled = type(admin_class.__name__, bases, {})
                walled.__module__ = admin_class.__module__
                walled.__qualname__ = admin_class.__qualname__
                super().register(model, walled, **options)

    def has_permission(self, request: HttpRequest) -> bool:
        """Django's rule (an active staff member), and with OTP_REQUIRED an administrator's second
        factor given this session (``core.two_factor``), as django-otp's ``OTPAdminSite`` asks."""
        from core.two_factor import passed_two_factor

        return super().has_permission(request) and passed_two_factor(request.user)  # type: ignore[arg-type]

    def autocomplete_view(self, request: HttpRequest) -> HttpResponse:
        """A search like the lists: it logs its reads of patient and clinical rows (core.access_logging)."""
        from core.access_logging import logged_autocomplete

        return logged_autocomplete(self, request, super().autocomplete_view)

    def get_urls(self) -> list:
        urls = super().get_urls()
        return [
            path(
                "r/<int:content_type_id>/<path:object_id>/",
                self.admin_view(self.view_on_site),
                name="view_on_site",
            )
            if isinstance(url, URLPattern) and url.name == "view_on_site"
            else url
            for url in urls
        ]

    def view_on_site(self, request: HttpRequest, content_type_id: int, object_id: str) -> HttpResponse:
        """Django's redirect to an object's page, for objects the user may see only."""
        from django.contrib.contenttypes.models import ContentType
        from django.contrib.contenttypes.views import shortcut

        from core.tenancy import for_user

        try:
            model = ContentType.objects.get_for_id(content_type_id).model_class()
            visible = (
                model is not None
                and for_user(model._default_manager.filter(pk=object_id), request.user).exists()
            )
        except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
            visible = False
        if not visible:
            # Django's own words for an unknown object.
            raise Http404(
                _("Content type %(ct_id)s object %(obj_id)s doesn’t exist")
                % {"ct_id": content_type_id, "obj_id": object_id}
            )
        return shortcut(request, content_type_id, object_id)
