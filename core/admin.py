"""Django admin for tenants, staff, clinics, rooms, providers, patients and consents.

Superusers see every tenant; a tenant's administrator (an active staff member with
the administrator role) sees, and can pick in forms and list filters, only rows of
their own tenant, as each model declares it (``core.tenancy``): every admin of ours
builds on ``TenantScopedAdmin`` (inlines on ``TenantScopedInline``), and the admin
site (``core.admin_site``) refuses to register one that doesn't and keeps every other
model's admin (``auth.Group``, any library's) to superusers. Historied models use
``SimpleHistoryAdmin`` so their history page shows who changed what; pages written
through services build on ``ServiceAdmin`` and offer no revert.
"""

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import router, transaction
from django.db.models import Model, QuerySet
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core import clock
from core.access_logging import AccessLoggedAdminMixin
from core.admin_history import ReadableHistoryContextHelper
from core.admin_input import ReadableAutocompleteAdminMixin, ReadableIdsAdminMixin
from core.admin_paging import LargeListAdminMixin
from core.forms import clean_phone
from core.guardian_service import GuardianDetails, GuardianService
from core.logins import unlock_logins
from core.models import (
    Clinic,
    ClinicHoliday,
    Consent,
    Guardian,
    OpeningHours,
    OpeningHoursOverride,
    Patient,
    Provider,
    ProviderLeave,
    ProviderWorkingHours,
    Room,
    ServiceName,
    Tenant,
    User,
)
from core.permissions import is_admin
from core.privileges import deactivate_users
from core.tenancy import for_user, tenant_path
from core.two_factor import reset_two_factor

NO_VERSION_PAGES_HISTORY_LIST = "core/_admin_history_list.html"


def administers(user, model: type[Model]) -> bool:
    """Whether ``user`` may use Django admin on ``model``.

    Superusers: every model. A non-superuser: only as an active staff administrator of
    an organisation - their role decides, not Django's group and permission tables -
    and only on the models that declare their tenant (``core.tenancy``); every other
    model (``auth.Group``, any library's) is the platform's, for superusers only.
    """
    if not (user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    return is_admin(user) and user.tenant_id is not None and tenant_path(model) is not None


class ScopedRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id input whose label names only a row the user may see (an id typed or posted
    for another organisation's row shows no label, as for an id that doesn't exist)."""

    def __init__(self, widget: ForeignKeyRawIdWidget, visible: QuerySet) -> None:
        super().__init__(widget.rel, widget.admin_site, widget.attrs, widget.db)
        self.visible = visible

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        try:
            shown = self.visible.filter(**{key: value}).exists()
        except (ValueError, TypeError, ValidationError):
            shown = False
        return super().label_and_url_for_value(value) if shown else ("", "")


class TenantWall(BaseModelAdmin):
    """What keeps an admin page (or inline) inside the user's organisation: its rows, its
    foreign-key and many-to-many choices (``core.tenancy.for_user``) and who may use it
    (``administers``). Subclasses narrow the permissions further by calling ``super()``."""

    walls_tenant = True  # checked by core.admin_site.ClinicAdminSite.register

    def get_queryset(self, request):
        return for_user(super().get_queryset(request), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = for_user(formfield.queryset, request.user)
            if isinstance(formfield.widget, ForeignKeyRawIdWidget):
                formfield.widget = ScopedRawIdWidget(formfield.widget, formfield.queryset)
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = for_user(formfield.queryset, request.user)
        return formfield

    def has_module_permission(self, request):
        return administers(request.user, self.model)

    def has_view_permission(self, request, obj=None):
        return administers(request.user, self.model)

    # *args: a ModelAdmin's takes the request, an inline's also the parent object.
    def has_add_permission(self, request, *args):
        return administers(request.user, self.model)

    def has_change_permission(self, request, obj=None):
        return administers(request.user, self.model)

    def has_delete_permission(self, request, obj=None):
        return administers(request.user, self.model)


class TenantScopedInline(TenantWall, ReadableAutocompleteAdminMixin):
    """Base of every inline of ours (before ``admin.TabularInline`` in the bases)."""


class TenantScopedAdmin(TenantWall, ReadableAutocompleteAdminMixin, ReadableIdsAdminMixin, admin.ModelAdmin):
    """Base of every admin of ours: rows, choices and permissions inside the user's organisation.

    With ``SimpleHistoryAdmin`` also in the bases, the history pages are walled too: the
    history list shows only versions the user may see (another organisation's object
    answers 404, as an unknown id does), and the version page (``/history/<id>/``, where
    simple-history reverts) looks its version up inside the organisation. Admins of
    models whose state only services write set ``history_revert = False``: their version
    pages are refused (403) on GET and POST, and the history list links to none.
    """

    history_revert: bool = True

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # Called by SimpleHistoryAdmin.history_view only.
        versions = super().get_history_queryset(request, history_manager, pk_name, object_id)
        return for_user(versions, request.user)

    def get_historical_record_context_helper(self, request, historical_record):
        # Called by SimpleHistoryAdmin.history_view only: labels and local times, not codes.
        return ReadableHistoryContextHelper(self.model, historical_record)

    def history_view(self, request, object_id, extra_context=None):
        if not self.history_revert:
            extra_context = {
                "object_history_list_template": NO_VERSION_PAGES_HISTORY_LIST,
                **(extra_context or {}),
            }
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not self.history_revert:
            raise PermissionDenied
        versions = for_user(self.model.history.model._default_manager.all(), request.user)
        try:
            version = versions.get(
                **{self.model._meta.pk.attname: unquote(object_id), "history_id": version_id}
            )
        except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
            raise Http404 from None
        if request.method == "POST" and self.revert_disabled(request, version.instance):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        # Called by SimpleHistoryAdmin's pages only.
        return not self.history_revert or super().revert_disabled(request, obj)


class TenantRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A list filter on a relation offers only the related rows the user may see (by default
    Django lists every row of the related model: every organisation's name)."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        visible = for_user(field.related_model._default_manager.all(), request.user)
        return field.get_choices(
            include_blank=False, limit_choices_to={"pk__in": visible.values("pk")}, ordering=ordering
        )


# Every admin's plain relation filters (``list_filter = ("tenant",)``), ours and libraries'.
admin.FieldListFilter.register(
    lambda field: bool(field.remote_field), TenantRelatedFieldListFilter, take_priority=True
)


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


class ProviderListFilter(admin.RelatedFieldListFilter):
    """The organisation's providers, each with its user (its name) in the same query.

    Not only those present in the list: finding those reads every row of it.
    """

    def field_choices(self, field, request, model_admin):
        providers = for_user(Provider.objects.select_related("user"), request.user).order_by(
            "user__last_name", "user__first_name", "pk"
        )
        return [(provider.pk, str(provider)) for provider in providers]


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    list_display = ("code", "name_en", "name_ar")
    search_fields = ("code", "name_en", "name_ar")

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
    actions = ["deactivate_users", "unlock_logins", "reset_two_factor"]

    def has_delete_permission(self, request, obj=None):
        # Users are deactivated, never deleted: their history and the records they wrote keep them.
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(
        permissions=["change"], description=_("Deactivate the selected users (and end their sessions)")
    )
    def deactivate_users(self, request, queryset):
        names = deactivate_users(queryset)
        self.message_user(request, _("Deactivated: %(users)s.") % {"users": ", ".join(names) or "-"})

    @admin.action(permissions=["change"], description=_("Unlock the sign-in of the selected users"))
    def unlock_logins(self, request, queryset):
        names = unlock_logins(queryset)
        self.message_user(request, _("Sign-in unlocked: %(users)s.") % {"users": ", ".join(names) or "-"})

    @admin.action(description=_("Reset two-factor devices"))
    def reset_two_factor(self, request, queryset):
        # The queryset is this admin's (the organisation's users, no superusers for a tenant
        # administrator); the service keeps to what the administrator reaches anyway.
        count = reset_two_factor(queryset, by=request.user)
        self.message_user(
            request,
            _("Two-factor devices reset for %(count)d users; they set them up again at their next sign-in.")
            % {"count": count},
        )

    def get_queryset(self, request):
        users = super().get_queryset(request)
        if not request.user.is_superuser:
            # Only superusers manage superusers: to a tenant administrator they don't exist
            # (list, change, history, delete and password pages answer as for any unknown id).
            users = users.filter(is_superuser=False)
        return users

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # A tenant administrator's powers, and their colleagues', come from their role:
        # Django's groups and per-user permissions are the platform's, neither shown nor posted.
        platform_only = {"groups", "user_permissions"}
        return [
            (
                name,
                {**options, "fields": [field for field in options["fields"] if field not in platform_only]},
            )
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Tenant staff manage colleagues of their own organisation only, and can't
            # hand out platform-wide powers.
            readonly += ["tenant", "is_superuser", "groups", "user_permissions"]
        return readonly

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            # The read-only fields above keep a forged POST out of the form; this keeps
            # it out of the database whatever the form holds.
            obj.tenant_id = request.user.tenant_id
            obj.is_superuser = False
        super().save_model(request, obj, form, change)


class OpeningHoursInline(TenantScopedInline, admin.TabularInline):
    """The clinic's week: one row per interval, several a weekday for split shifts."""

    model = OpeningHours
    fields = ("weekday", "opens_at", "closes_at")
    extra = 0


class OpeningHoursOverrideInline(TenantScopedInline, admin.TabularInline):
    """Dated exceptions (Ramadan hours, closed days): on their date they replace the week."""

    model = OpeningHoursOverride
    fields = ("date", "closed", "opens_at", "closes_at", "note")
    extra = 0


class ClinicHolidayInline(TenantScopedInline, admin.TabularInline):
    """The clinic's holidays: closed all day, skipped by series, refused to single bookings."""

    model = ClinicHoliday
    fields = ("date", "name")
    extra = 0


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
    inlines = (OpeningHoursInline, OpeningHoursOverrideInline, ClinicHolidayInline)


@admin.register(OpeningHours)
class OpeningHoursAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    """Every clinic's week at a glance; each clinic's page edits its own (``OpeningHoursInline``)."""

    list_display = ("clinic", "weekday", "opens_at", "closes_at")
    list_filter = (("clinic", admin.RelatedOnlyFieldListFilter), "weekday")
    list_select_related = ("clinic",)


@admin.register(OpeningHoursOverride)
class OpeningHoursOverrideAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    """Every clinic's dated exceptions, e.g. to set one closed day for several clinics."""

    list_display = ("date", "clinic", "closed", "opens_at", "closes_at", "note")
    # Changelists open on the newest rows.
    ordering = ("-date", "opens_at")
    list_filter = (("clinic", admin.RelatedOnlyFieldListFilter), "closed", "date")
    list_select_related = ("clinic",)
    search_fields = ("note",)


@admin.register(ClinicHoliday)
class ClinicHolidayAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    """Every clinic's holidays, e.g. to set one Eid for several clinics."""

    list_display = ("date", "name", "clinic")
    # Changelists open on the newest rows.
    ordering = ("-date", "clinic")
    list_filter = (("clinic", admin.RelatedOnlyFieldListFilter), "date")
    list_select_related = ("clinic",)
    search_fields = ("name",)


@admin.register(Room)
class RoomAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    list_display = ("name", "name_ar", "clinic")
    list_filter = (("clinic", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("clinic",)
    search_fields = ("name", "name_ar", "clinic__name_en", "clinic__name_ar")


class ProviderWorkingHoursInline(TenantScopedInline, admin.TabularInline):
    """The provider's week at each clinic: one row per interval, several a weekday for split shifts.

    None at all: bookings aren't restricted by working hours.
    """

    model = ProviderWorkingHours
    fields = ("clinic", "weekday", "starts_at", "ends_at")
    extra = 0


@admin.register(Provider)
class ProviderAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    list_display = ("__str__", "name_ar", "specialty", "is_active")
    list_filter = ("specialty", "is_active")
    list_select_related = ("user",)
    search_fields = ("user__first_name", "user__last_name", "user__username", "title", "name_ar")
    filter_horizontal = ("clinics",)
    inlines = (ProviderWorkingHoursInline,)


@admin.register(ProviderWorkingHours)
class ProviderWorkingHoursAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    """Every provider's week at a glance; each provider's page edits their own (the inline)."""

    list_display = ("provider", "clinic", "weekday", "starts_at", "ends_at")
    list_filter = (("provider", ProviderListFilter), ("clinic", admin.RelatedOnlyFieldListFilter), "weekday")
    list_select_related = ("provider__user", "clinic")


@admin.register(ProviderLeave)
class ProviderLeaveAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    """Providers' leave and time off: nothing is booked with them inside it."""

    list_display = ("provider", "starts_at", "ends_at", "reason", "created_by")
    # Changelists open on the newest rows.
    ordering = ("-starts_at", "-pk")
    list_filter = (("provider", ProviderListFilter), "starts_at")
    list_select_related = ("provider__user", "created_by")
    search_fields = ("reason", "provider__user__first_name", "provider__user__last_name")
    fields = ("provider", "starts_at", "ends_at", "reason", "created_by", "created_at")
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ServiceName)
class ServiceNameAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    """The organisation's catalogue of service names: offered on the booking forms while active,
    and the Arabic name Arabic pages show for a booking whose service is the English one."""

    list_display = ("name_en", "name_ar", "specialty", "is_active")
    list_filter = ("specialty", "is_active", "tenant")
    search_fields = ("name_en", "name_ar")


class GuardianAdminForm(forms.ModelForm):
    """A guardian as the admin edits them: the phone typed in any form ``normalise_phone`` reads."""

    class Meta:
        model = Guardian
        fields = (
            "name_en",
            "name_ar",
            "relation",
            "phone",
            "phone_needs_review",
            "email",
            "preferred_language",
            "preferred_channel",
            "consent_to_contact",
            "may_receive_appointment_info",
            "is_primary",
        )

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors and not cleaned.get("DELETE"):
            fields = {field.name for field in dataclasses.fields(GuardianDetails)}
            try:
                GuardianService.checked_phone(
                    GuardianDetails(**{name: value for name, value in cleaned.items() if name in fields})
                )
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


class GuardianInline(TenantScopedInline, admin.StackedInline):
    """The patient's guardians; every save writes the guardian's history (staff pages show it,
    ``core:guardian_history``)."""

    model = Guardian
    form = GuardianAdminForm
    fields = (
        ("name_en", "name_ar", "relation"),
        ("phone", "phone_as_entered", "phone_needs_review"),
        "email",
        ("preferred_language", "preferred_channel"),
        ("consent_to_contact", "may_receive_appointment_info", "is_primary"),
        "sms_opted_out_at",
    )
    readonly_fields = ("phone_as_entered", "sms_opted_out_at")
    extra = 0


@admin.register(Patient)
class PatientAdmin(AccessLoggedAdminMixin, LargeListAdminMixin, TenantScopedAdmin, SimpleHistoryAdmin):
    access_log_patient_path = "pk"
    list_display = ("mrn", "full_name_en", "full_name_ar", "date_of_birth", "sex", "tenant")
    # Changelists open on the newest rows: the children registered last.
    ordering = ("-created_at", "-pk")
    list_filter = ("sex", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("mrn", "first_name_en", "last_name_en", "first_name_ar", "last_name_ar")
    readonly_fields = ("created_at",)
    inlines = (GuardianInline,)

    @admin.display(description=_("name (English)"), ordering="last_name_en")
    def full_name_en(self, patient: Patient) -> str:
        return patient.full_name_en

    @admin.display(description=_("name (Arabic)"), ordering="last_name_ar")
    def full_name_ar(self, patient: Patient) -> str:
        return patient.full_name_ar


@admin.register(Consent)
class ConsentAdmin(AccessLoggedAdminMixin, TenantScopedAdmin, SimpleHistoryAdmin):
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


# The audit pages (access log, privilege changes, break-the-glass accesses) build on the admins above.
import core.audit_admin  # noqa: E402, F401
