"""Django admin for tenants, staff, clinics, rooms, providers, patients and consents.

Superusers see every tenant; any other staff member sees, and can pick in forms,
only rows of their own tenant (``core.permissions.scope_to_tenant``). Historied
models use ``SimpleHistoryAdmin`` so their history page shows who changed what.
Pages written through services build on ``ServiceAdmin``.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models import QuerySet
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core import clock
from core.models import Clinic, Consent, Patient, Provider, Room, Tenant, User
from core.permissions import scope_to_tenant

# How each model reaches its tenant, as a lookup path for ``scope_to_tenant``.
# Tenant itself is scoped by primary key (see ``scope_tenants``).
TENANT_PATH: dict[type, str] = {
    User: "tenant",
    Clinic: "tenant",
    Room: "clinic__tenant",
    Provider: "user__tenant",
    Patient: "tenant",
    Consent: "patient__tenant",
}


def register_tenant_path(model: type, path: str) -> None:
    """Let another app's models be scoped by ``TenantScopedAdmin`` (and offered in its forms)."""
    TENANT_PATH[model] = path


def scope_tenants(queryset: QuerySet[Tenant], user: User) -> QuerySet[Tenant]:
    if user.is_superuser:
        return queryset
    return queryset.filter(pk=user.tenant_id) if user.tenant_id else queryset.none()


def scope_choices(queryset: QuerySet, user: User) -> QuerySet:
    """Limit the rows a form may offer to the user's tenant; unknown models are left as they are."""
    if queryset.model is Tenant:
        return scope_tenants(queryset, user)
    path = TENANT_PATH.get(queryset.model)
    return queryset if path is None else scope_to_tenant(queryset, user, path)


class TenantScopedAdmin(admin.ModelAdmin):
    """Rows, foreign-key and many-to-many choices limited to the staff member's tenant."""

    tenant_path: str = "tenant"

    def get_queryset(self, request):
        return scope_to_tenant(super().get_queryset(request), request.user, self.tenant_path)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = scope_choices(formfield.queryset, request.user)
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = scope_choices(formfield.queryset, request.user)
        return formfield


# The request attribute carrying a refusal from the saving pass to the showing pass.
REFUSAL = "admin_service_refusal"


class ServiceRefusal(Exception):
    """A service refused, while an admin page saved, what the page's valid forms asked for.

    ``refused_on`` raises it; ``ServiceAdmin`` shows ``messages`` on the form named by
    ``prefix`` (``None``: the page's own form), on ``field`` or on the whole form.
    """

    def __init__(self, messages: list[str], prefix: str | None, field: str | None = None) -> None:
        super().__init__(*messages)
        self.messages = messages
        self.prefix = prefix
        self.field = field


@contextmanager
def refused_on(form: BaseForm, field: str | None = None) -> Iterator[None]:
    """Report a domain error (a ``ValidationError``) of the service call inside as refusing ``form``."""
    try:
        yield
    except ValidationError as error:
        raise ServiceRefusal(error.messages, form.prefix, field) from error


def showing_refusal(form_class: type[BaseForm], request: HttpRequest) -> type[BaseForm]:
    """``form_class``, made to fail validation with the request's refusal when it is the refused form."""
    refusal: ServiceRefusal | None = getattr(request, REFUSAL, None)
    if refusal is None:
        return form_class

    def clean(form: BaseForm) -> dict[str, Any] | None:
        cleaned_data = form_class.clean(form)
        if form.prefix == refusal.prefix:
            form.add_error(refusal.field if refusal.field in form.fields else None, refusal.messages)
        return cleaned_data

    return type(form_class.__name__, (form_class,), {"clean": clean})


class ServiceAdmin(SimpleHistoryAdmin):
    """Add, change and revert pages whose ``save_model`` / ``save_formset`` write through services.

    The forms only validate (pure checks, no writes); the services write while the page
    saves, inside one transaction. When a service refuses (its call wrapped in
    ``refused_on``), everything the submission wrote is rolled back and the page is built
    again from the same POST, the refused form now failing validation with the service's
    message: the user sees it beside what they typed, and nothing is saved.
    """

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        view = super().changeform_view
        return self.showing_refusals(view, request, object_id, form_url, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id, version_id, extra_context=None
    ) -> HttpResponse:
        view = super().history_form_view
        return self.showing_refusals(view, request, object_id, version_id, extra_context)

    def showing_refusals(
        self, view: Callable[..., HttpResponse], request: HttpRequest, *args: Any
    ) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args)
        try:
            return self.atomically(view, request, *args)
        except ServiceRefusal as refusal:
            setattr(request, REFUSAL, refusal)
        try:
            # The refused form fails validation now, so this pass writes nothing...
            return self.atomically(view, request, *args)
        except ServiceRefusal as refusal:
            # ...unless that form left the page meanwhile (another user changed the object):
            # then the page's own form carries the refusal, and always fails.
            setattr(request, REFUSAL, ServiceRefusal(refusal.messages, prefix=None))
            return view(request, *args)

    def atomically(self, view: Callable[..., HttpResponse], request: HttpRequest, *args: Any) -> HttpResponse:
        with transaction.atomic(using=router.db_for_write(self.model)):
            return view(request, *args)

    def get_form(self, request, obj=None, change=False, **kwargs):
        return showing_refusal(super().get_form(request, obj, change, **kwargs), request)

    def get_formsets_with_inlines(self, request, obj=None):
        for formset_class, inline in super().get_formsets_with_inlines(request, obj):
            # inlineformset_factory builds a new class per request, so this doesn't leak between users.
            formset_class.form = showing_refusal(formset_class.form, request)
            yield formset_class, inline


class ProviderListFilter(admin.RelatedOnlyFieldListFilter):
    """The providers present in the list, each with its user (its name) in the same query."""

    def field_choices(self, field, request, model_admin):
        present = (
            model_admin.get_queryset(request).distinct().values_list(f"{self.field_path}__pk", flat=True)
        )
        providers = Provider.objects.filter(pk__in=present).select_related("user")
        return [(provider.pk, str(provider)) for provider in providers]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("code", "name_en", "name_ar")
    search_fields = ("code", "name_en", "name_ar")

    def get_queryset(self, request):
        return scope_tenants(super().get_queryset(request), request.user)

    def has_add_permission(self, request):
        # A new organisation is a platform decision, not one a tenant's staff can make.
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(User)
class UserAdmin(TenantScopedAdmin, DjangoUserAdmin):
    fieldsets = (
        # Django's UserAdmin sets fieldsets; django-stubs types them as ModelAdmin's optional ones.
        *DjangoUserAdmin.fieldsets,  # type: ignore[misc]
        (_("Organisation"), {"fields": ("tenant", "role")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Organisation"), {"fields": ("tenant", "role", "first_name", "last_name", "email")}),
    )
    list_display = ("username", "first_name", "last_name", "role", "tenant", "is_staff", "is_active")
    list_filter = ("role", "tenant", "is_staff", "is_superuser", "is_active")
    list_select_related = ("tenant",)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Tenant staff manage colleagues of their own organisation only, and can't
            # hand out platform-wide powers.
            readonly += ["tenant", "is_superuser", "groups", "user_permissions"]
        return readonly

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.tenant_id = request.user.tenant_id
        super().save_model(request, obj, form, change)


@admin.register(Clinic)
class ClinicAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    list_display = (
        "name_en",
        "name_ar",
        "specialty",
        "tenant",
        "requires_finance_clearance",
        "requires_consent",
    )
    list_filter = ("specialty", "requires_finance_clearance", "requires_consent", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("name_en", "name_ar")


@admin.register(Room)
class RoomAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    tenant_path = "clinic__tenant"
    list_display = ("name", "clinic")
    list_filter = (("clinic", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("clinic",)
    search_fields = ("name", "clinic__name_en", "clinic__name_ar")


@admin.register(Provider)
class ProviderAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    tenant_path = "user__tenant"
    list_display = ("__str__", "specialty", "is_active")
    list_filter = ("specialty", "is_active")
    list_select_related = ("user",)
    search_fields = ("user__first_name", "user__last_name", "user__username", "title")
    filter_horizontal = ("clinics",)


@admin.register(Patient)
class PatientAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    list_display = ("mrn", "full_name_en", "full_name_ar", "date_of_birth", "sex", "phone", "tenant")
    list_filter = ("sex", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("mrn", "first_name_en", "last_name_en", "first_name_ar", "last_name_ar", "phone")
    readonly_fields = ("created_at",)

    @admin.display(description=_("name (English)"), ordering="last_name_en")
    def full_name_en(self, patient: Patient) -> str:
        return patient.full_name_en

    @admin.display(description=_("name (Arabic)"), ordering="last_name_ar")
    def full_name_ar(self, patient: Patient) -> str:
        return patient.full_name_ar


@admin.register(Consent)
class ConsentAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    tenant_path = "patient__tenant"
    list_display = (
        "patient",
        "consent_type",
        "signed_by",
        "signed_at",
        "expires_at",
        "revoked_at",
        "valid_today",
    )
    list_filter = ("consent_type",)
    list_select_related = ("patient",)
    search_fields = (
        "patient__mrn",
        "patient__first_name_en",
        "patient__last_name_en",
        "patient__first_name_ar",
        "patient__last_name_ar",
        "signed_by",
    )
    autocomplete_fields = ("patient",)
    readonly_fields = ("valid_today",)

    @admin.display(description=_("valid today"), boolean=True)
    def valid_today(self, consent: Consent) -> bool | None:
        if consent.pk is None:
            return None
        return consent.is_valid_on(clock.today())
