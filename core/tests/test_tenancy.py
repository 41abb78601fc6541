"""Tenant scoping declared once per model (core.tenancy): completeness, meaning, the admin site's rule."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model
from simple_history.models import HistoricalChanges

from core.admin_site import ClinicAdminSite, SuperuserOnlyAdmin
from core.models import AuditSeal, Clinic, Patient, Tenant, User
from core.tenancy import for_user, tenant_path
from core.tests.admin_helpers import tenant_admin_staff
from core.tests.factories import PatientFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("core", "appointments", "psychology", "ot", "aba")
# Platform rows of no organisation, on purpose: the audit seals span every tenant's rows,
# so only superusers may see them (for_user fails closed on a model without a path).
OUTSIDE_EVERY_TENANT = ["core.AuditSeal"]


def project_models() -> list[type[Model]]:
    """Every table of the project apps: models, their history (simple-history) and many-to-many tables."""
    return [
        model
        for app_label in PROJECT_APPS
        for model in apps.get_app_config(app_label).get_models(include_auto_created=True)
    ]


def tenant_models() -> list[type[Model]]:
    """``project_models()`` but the platform's own, which belong to no organisation."""
    return [model for model in project_models() if model._meta.label not in OUTSIDE_EVERY_TENANT]


def undeclared(models: list[type[Model]]) -> list[str]:
    return sorted(model._meta.label for model in models if tenant_path(model) is None)


def reaches_tenant(model: type[Model], path: str) -> bool:
    """Whether ``path`` is a chain of foreign keys from ``model`` ending at Tenant (or is Tenant's pk)."""
    if path == "pk":
        return model is Tenant
    for name in path.split("__"):
        field = model._meta.get_field(name)
        if not (field.many_to_one or field.one_to_one) or field.related_model is None:
            return False
        model = field.related_model
    return model is Tenant


def test_every_model_of_the_project_declares_its_tenant():
    models = project_models()

    assert any(issubclass(model, HistoricalChanges) for model in models)
    assert undeclared(models) == OUTSIDE_EVERY_TENANT


def test_the_completeness_check_names_a_model_without_a_declaration():
    assert undeclared([Clinic, Group, Clinic.history.model]) == ["auth.Group"]


@pytest.mark.parametrize("model", tenant_models(), ids=lambda model: model._meta.label)
def test_every_declared_path_leads_to_the_tenant(model):
    assert reaches_tenant(model, tenant_path(model)), tenant_path(model)


def test_historical_models_take_the_path_of_the_model_they_track():
    assert tenant_path(Patient.history.model) == Patient.tenant_path == "tenant"
    provider_clinics_history = next(
        model for model in project_models() if model.__name__ == "HistoricalProvider_clinics"
    )
    assert tenant_path(provider_clinics_history) == "provider__user__tenant"


@pytest.fixture
def two_tenants():
    own, other = TenantFactory(code="OWN"), TenantFactory(code="OTHER")
    return own, other, PatientFactory(tenant=own), PatientFactory(tenant=other)


def test_for_user_keeps_staff_to_their_tenant_rows_and_history(two_tenants):
    own, _other, own_patient, other_patient = two_tenants
    staff = UserFactory(tenant=own)

    assert list(Patient.objects.for_user(staff)) == [own_patient]
    assert set(for_user(Patient.history.all(), staff).values_list("id", flat=True)) == {own_patient.pk}
    assert list(Tenant.objects.for_user(staff)) == [own]
    assert set(for_user(User.objects.all(), staff)) == {staff}


def test_for_user_shows_a_superuser_every_tenant(two_tenants):
    _own, _other, own_patient, other_patient = two_tenants
    root = UserFactory(tenant=None, is_superuser=True, is_staff=True)

    assert set(Patient.objects.for_user(root)) == {own_patient, other_patient}


def test_for_user_shows_nothing_without_a_tenant_or_a_login(two_tenants):
    assert not Patient.objects.for_user(UserFactory(tenant=None)).exists()
    assert not Patient.objects.for_user(AnonymousUser()).exists()
    assert not Patient.objects.for_user(UserFactory(tenant=two_tenants[0], is_active=False)).exists()


def test_for_user_keeps_the_audit_seals_of_no_organisation_to_superusers(two_tenants):
    AuditSeal.objects.create(first_id=1, last_id=1, row_count=0, chain_hash=b"", signature="")

    assert not AuditSeal.objects.for_user(UserFactory(tenant=two_tenants[0], is_staff=True)).exists()
    assert AuditSeal.objects.for_user(UserFactory(tenant=None, is_superuser=True)).exists()


def test_for_user_keeps_undeclared_models_to_superusers(two_tenants):
    Group.objects.create(name="Platform")

    assert not for_user(Group.objects.all(), UserFactory(tenant=two_tenants[0])).exists()
    assert for_user(Group.objects.all(), UserFactory(tenant=None, is_superuser=True)).exists()


# The admin site -------------------------------------------------------------------------------


def test_admin_site_is_the_platforms_and_refuses_an_unwalled_admin_for_a_declared_model():
    site = ClinicAdminSite(name="probe")

    assert isinstance(admin.site, ClinicAdminSite)
    with pytest.raises(ImproperlyConfigured, match="core.Clinic declares its tenant"):
        site.register(Clinic, admin.ModelAdmin)


def test_admin_site_keeps_a_librarys_admin_to_superusers(rf, tenant):
    site = ClinicAdminSite(name="probe")
    site.register(ContentType)
    model_admin = site._registry[ContentType]
    tenant_admin = tenant_admin_staff(tenant)
    tenant_admin.user_permissions.add(*ContentType.objects.get_for_model(ContentType).permission_set.all())
    root = UserFactory(tenant=None, is_superuser=True, is_staff=True)
    request = rf.get("/")

    def powers(user):
        request.user = user
        return (
            model_admin.has_module_permission(request),
            model_admin.has_view_permission(request),
            model_admin.has_add_permission(request),
            model_admin.has_change_permission(request),
            model_admin.has_delete_permission(request),
        )

    assert powers(User.objects.get(pk=tenant_admin.pk)) == (False,) * 5
    assert powers(root) == (True,) * 5


def test_every_registered_admin_is_walled_or_for_superusers_only():
    for model, model_admin in admin.site._registry.items():
        if tenant_path(model) is None:
            assert isinstance(model_admin, SuperuserOnlyAdmin), model
        else:
            assert getattr(model_admin, "walls_tenant", False), model


def test_tenant_admin_permissions_come_from_the_role_not_djangos_tables(rf, tenant):
    clinic_admin = admin.site._registry[Clinic]
    request = rf.get("/")
    with_tables = UserFactory(tenant=tenant, role=User.Role.FRONT_DESK, is_staff=True)
    with_tables.user_permissions.set(ContentType.objects.get_for_model(Clinic).permission_set.all())
    by_role = UserFactory(tenant=tenant, role=User.Role.ADMIN, is_staff=True)

    request.user = User.objects.get(pk=with_tables.pk)
    assert not clinic_admin.has_view_permission(request)
    request.user = by_role
    assert clinic_admin.has_view_permission(request)
    assert clinic_admin.has_change_permission(request)
    request.user = UserFactory(tenant=None, role=User.Role.ADMIN, is_staff=True)
    assert not clinic_admin.has_view_permission(request)
